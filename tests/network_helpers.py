"""Shared fixtures of the walk-network tests (issue 16): the river city as a city file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, box

UTM, X0, Y0 = "EPSG:32649", 338_000.0, 2_690_000.0


def streets(*lines) -> gpd.GeoDataFrame:
    """Road lines from lists of (x, y) metre offsets from a point in Liuzhou (UTM 49N), EPSG:4326."""
    return gpd.GeoDataFrame(
        {"road_id": [f"R{k}" for k in range(len(lines))], "walkable": [True] * len(lines)},
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines],
        crs=UTM,
    ).to_crs("EPSG:4326")


def one_district(code: str = "450202", name: str = "城中区", name_en: str = "Chengzhong") -> gpd.GeoDataFrame:
    """One district, a 4 km square around the offsets' origin, EPSG:4326."""
    outline = gpd.GeoSeries([box(X0 - 2000, Y0 - 2000, X0 + 4000, Y0 + 2000)], crs=UTM).to_crs("EPSG:4326")
    return gpd.GeoDataFrame(
        {"district_code": [code], "district_name": [name], "district_name_en": [name_en], "kind": ["district"]},
        geometry=outline.values,
        crs="EPSG:4326",
    )


def city_file(path: Path, layers: dict) -> Path:
    """``layers`` (communities, fitness_paths, roads, public_sites …) and :func:`one_district` as a city file."""
    from geo.data.gpkg import write_layers

    write_layers(path, {"districts": one_district(), **layers})
    return path


def config_file(path: Path, **replaced: str) -> Path:
    """config.toml with ``key = "value"`` lines replaced (e.g. ``distance="network"``)."""
    from geo.config import DEFAULT_CONFIG_PATH

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    for key, value in replaced.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} = "))
        text = text.replace(old, f'{key} = "{value}"', 1)
    path.write_text(text, encoding="utf-8")
    return path
