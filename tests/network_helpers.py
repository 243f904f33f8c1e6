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


def one_district(
    code: str = "450202", name: str = "城中区", name_en: str = "Chengzhong", bounds=(-2000, -2000, 4000, 2000)
) -> gpd.GeoDataFrame:
    """One district, the box ``bounds`` (metre offsets: west, south, east, north) around the offsets' origin,
    EPSG:4326."""
    west, south, east, north = bounds
    outline = gpd.GeoSeries([box(X0 + west, Y0 + south, X0 + east, Y0 + north)], crs=UTM).to_crs("EPSG:4326")
    return gpd.GeoDataFrame(
        {"district_code": [code], "district_name": [name], "district_name_en": [name_en], "kind": ["district"]},
        geometry=outline.values,
        crs="EPSG:4326",
    )


# The Liu River runs between y = 0 and y = 300: a street on each bank from x = -1000 to 3000, one bridge at x = 2000.
RIVER = [[(-1000, 0), (3000, 0)], [(-1000, 300), (3000, 300)], [(2000, 0), (2000, 300)]]


def river_city():
    """N (C000: 2,000 residents, no land) on the north bank; S1 (C001: 500) straight across from it on the south
    bank, S2 (C002: 700) 1 km east of S1; no sets yet; the streets of :data:`RIVER` (named, the bridge marked).
    A set in S1 is 350 m from N in a straight line and over 4 km on foot.

    Returns (communities, fitness_paths, roads), EPSG:4326.
    """
    from tests.helpers import square_city

    communities, paths = square_city([(0, 300), (0, -100), (1000, -100)], [2000, 500, 700])
    communities.loc[0, "open_space_m2"] = 0.0
    roads = streets(*RIVER).assign(name=["南岸路", "北岸路", "柳江桥"], kind="residential", bridge=[False, False, True])
    return communities, paths, roads


def city_file(path: Path, layers: dict) -> Path:
    """``layers`` (communities, fitness_paths, roads, public_sites …) and :func:`one_district` as a city file."""
    from geo.data.gpkg import write_layers

    write_layers(path, {"districts": one_district(), **layers})
    return path


def config_file(path: Path, **replaced) -> Path:
    """config.toml with ``key = value`` lines replaced (e.g. ``distance="network"``, ``snap_m=2``: a string is
    written quoted, a number as it is)."""
    from geo.config import DEFAULT_CONFIG_PATH

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    for key, value in replaced.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} = "))
        text = text.replace(old, f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}", 1)
    path.write_text(text, encoding="utf-8")
    return path
