"""Files shaped like another city's survey: Hefei (Anhui), CGCS2000 Gauss–Krüger, the surveyor's column names.

Everything is built here, with answers worked on paper:

- two districts, 蜀山区 (340104) and 包河区 (340111), as 2 km × 2 km squares side by side, in WGS84
  GeoJSON with the columns 区划代码 and 行政区名称;
- ``N_COMMUNITIES`` community squares of ``SIDE_M`` m, in CGCS2000 3° Gauss–Krüger zone 39 (central
  meridian 117° E; EPSG:4527 with the zone number in the easting, EPSG:4548 without), as WKT in a
  CSV without a coordinate system: columns 小区名称, 所属行政区, 户数（户）, 竣工年份 — no population, no
  open space, no ID; every third community has no households (its population is estimated from
  its area), community 5 has no district (it is placed by location);
- one fitness path, inside community 0 (WGS84 longitude/latitude CSV: 名称, 经度, 纬度).
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pyproj
import shapely
from shapely.geometry import box

WEST, SOUTH = 117.20, 31.80  # the south-west corner of 蜀山区 (degrees, WGS84)
DISTRICT_KM = 2.0
SIDE_M = 150.0
N_COMMUNITIES = 12
GK_WITH_ZONE = "EPSG:4527"
GK_WITHOUT_ZONE = "EPSG:4548"
DISTRICTS = (("340104", "蜀山区"), ("340111", "包河区"))
HOUSEHOLDS_PER_COMMUNITY = 400  # every community but each third
PERSONS_PER_HOUSEHOLD = 2.62


def _utm():
    return pyproj.CRS.from_epsg(32650)  # UTM 50N covers 117° E


def district_squares() -> gpd.GeoDataFrame:
    """The two districts, EPSG:4326."""
    to_utm = pyproj.Transformer.from_crs(4326, _utm(), always_xy=True)
    x0, y0 = to_utm.transform(WEST, SOUTH)
    size = DISTRICT_KM * 1000
    squares = [box(x0 + i * size, y0, x0 + (i + 1) * size, y0 + size) for i in range(2)]
    frame = gpd.GeoDataFrame(
        {"区划代码": [c for c, _ in DISTRICTS], "行政区名称": [n for _, n in DISTRICTS]}, geometry=squares, crs=_utm()
    )
    return frame.to_crs(4326)


def community_squares() -> gpd.GeoDataFrame:
    """The communities in UTM 50N: six per district, in a row 300 m apart, 250 m inside the district."""
    to_utm = pyproj.Transformer.from_crs(4326, _utm(), always_xy=True)
    x0, y0 = to_utm.transform(WEST, SOUTH)
    rows = []
    for i in range(N_COMMUNITIES):
        district = i // 6
        x = x0 + district * DISTRICT_KM * 1000 + 250 + (i % 6) * 300
        y = y0 + 250
        rows.append(
            {
                "小区名称": f"测试小区{i}",
                "所属行政区": "" if i == 5 else DISTRICTS[district][1],
                "户数（户）": "" if i % 3 == 2 else str(HOUSEHOLDS_PER_COMMUNITY),
                "竣工年份": str(1990 + i),
                "geometry": box(x, y, x + SIDE_M, y + SIDE_M),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=_utm())


def expected_population(i: int) -> int:
    """Community ``i``'s population as the estimation rules give it (default config)."""
    if i % 3 == 2:
        return round(SIDE_M * SIDE_M / 10_000 * 400)  # 2.25 ha × 400 residents/ha = 900
    return round(HOUSEHOLDS_PER_COMMUNITY * PERSONS_PER_HOUSEHOLD)  # 1,048


def write_files(folder: Path, gk_crs: str = GK_WITH_ZONE) -> dict[str, Path]:
    """Write the districts GeoJSON, the communities CSV (WKT in ``gk_crs``) and the fitness-path CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "districts": folder / "行政区.geojson",
        "communities": folder / "小区调查.csv",
        "fitness_paths": folder / "健身路径.csv",
    }
    district_squares().to_file(paths["districts"], driver="GeoJSON")
    communities = community_squares().to_crs(gk_crs)
    with open(paths["communities"], "w", newline="", encoding="utf-8-sig") as file:
        writer = csv.writer(file)
        writer.writerow(["小区名称", "所属行政区", "户数（户）", "竣工年份", "WKT"])
        for row in communities.itertuples():
            writer.writerow(
                [row.小区名称, row.所属行政区, row._3, row.竣工年份, shapely.to_wkt(row.geometry, rounding_precision=3)]
            )
    centre = community_squares().geometry.iloc[0].centroid
    lon, lat = pyproj.Transformer.from_crs(_utm(), 4326, always_xy=True).transform(centre.x, centre.y)
    with open(paths["fitness_paths"], "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["编号", "名称", "经度", "纬度"])
        writer.writerow(["P1", "测试小区0健身路径", f"{lon:.7f}", f"{lat:.7f}"])
    return paths
