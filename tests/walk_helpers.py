"""Shared fixtures of the street-comparison tests (issue 16): the river city of the comparison and its map, and
an OSM XML maker. Geometry in metres east/north of a point in Liuzhou (UTM 49N), stored in WGS84.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, box

from geo.analysis.network import WalkNetwork
from geo.analysis.walk_compare import straight_vs_foot, walking_routes

UTM, X0, Y0 = "EPSG:32649", 338_000.0, 2_690_000.0
# The Liu River runs between y = 0 and y = 300; a street on each bank, one bridge at x = 800.
BANKS = [[(-1000, 0), (1000, 0)], [(-1000, 300), (1000, 300)], [(800, 0), (800, 300)]]


def roads(*lines) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"road_id": [f"R{k}" for k in range(len(lines))]},
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines],
        crs=UTM,
    ).to_crs("EPSG:4326")


def communities(*rows) -> gpd.GeoDataFrame:
    """Rows of (id, district code, population, polygon in metre offsets), EPSG:4326."""
    ids, codes, population, shapes = zip(*rows)
    return gpd.GeoDataFrame(
        {
            "community_id": list(ids),
            "name": [f"小区{i}" for i in ids],
            "district_code": list(codes),
            "district_name": [{"A": "城中区", "B": "鱼峰区"}[c] for c in codes],
            "population": pd.array(population, dtype="Int64"),
        },
        geometry=[shapely.affinity.translate(s, X0, Y0) for s in shapes],
        crs=UTM,
    ).to_crs("EPSG:4326")


def sets(*xy) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"path_id": [f"P{k}" for k in range(len(xy))], "name": [f"点{k}" for k in range(len(xy))]},
        geometry=[Point(X0 + x, Y0 + y) for x, y in xy],
        crs=UTM,
    ).to_crs("EPSG:4326")


def river_city():
    """North across the river from the set (300 m straight, 1,900 m on foot); South beside it on its bank (10 m);
    Island on a path of its own north of the river, 435 m from the set in a straight line and no way on foot;
    Inside holds a second set; Far, 3 km east, is served neither way."""
    network = WalkNetwork.from_roads(roads(*BANKS, [(-300, 400), (-100, 400)]), UTM)
    frame = communities(
        ("N", "A", 1200, box(-40, 300, 40, 350)),
        ("S", "A", 800, box(-40, -60, 40, -10)),
        ("I", "B", 300, box(-300, 405, -200, 440)),  # its path at y = 400 meets no street
        ("IN", "B", 50, box(500, -1200, 600, -1100)),  # far south: its set is nobody else's nearest
        ("F", "B", 70, box(3000, -60, 3100, -10)),
    )
    return network, frame, sets((-40, 0), (550, -1150))


def river_districts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "district_code": ["A", "B"],
            "district_name": ["城中区", "鱼峰区"],
            "district_name_en": ["Chengzhong", "Yufeng"],
        },
        geometry=[box(X0 - 2000, Y0 - 500, X0 + 4000, Y0 + 2000), box(X0 - 2000, Y0 - 2000, X0 + 4000, Y0 - 500)],
        crs=UTM,
    ).to_crs("EPSG:4326")


def compared(name=None, set_name=None):
    network, frame, paths = river_city()
    if name is not None:
        frame = frame.assign(name=name)
    if set_name is not None:
        paths = paths.assign(name=set_name)
    table = straight_vs_foot(frame, paths, network, 500)
    routes = walking_routes(table[table["lost_on_foot"]], paths, network)
    return table, routes, paths


LON, LAT = 109.40, 24.32  # Liuzhou


def osm_xml(ways) -> str:
    """An OSM XML document: each way ``(id, tags)`` a 2-node line at its own latitude."""
    nodes, lines = [], []
    for i, (way_id, tags) in enumerate(ways):
        a, b = 2 * i + 1, 2 * i + 2
        lat = LAT + i * 0.001
        nodes.append(f'<node id="{a}" version="1" lat="{lat:.6f}" lon="{LON:.6f}"/>')
        nodes.append(f'<node id="{b}" version="1" lat="{lat:.6f}" lon="{LON + 0.002:.6f}"/>')
        tag_text = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'<way id="{way_id}" version="1"><nd ref="{a}"/><nd ref="{b}"/>{tag_text}</way>')
    body = "".join(nodes + lines)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">{body}</osm>\n'
