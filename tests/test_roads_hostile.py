"""Hostile and odd roads files (issue 16): each gives a clear error, or loads what it can with a row-by-row reason.

Degenerate geometry (a line of one point, a coordinate of NaN, a line whose two ends are one point), damaged or
disguised OpenStreetMap extracts, tags that try to reopen a motorway, road IDs that repeat, a layer of motorways only
and a city with no street within 5 km: never a traceback, never a crash of the walk network.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyproj
import pytest
import shapely

from geo.analysis.network import WalkNetwork, network_problems, walking_distance_to_nearest_set
from geo.analysis.walk_compare import straight_vs_foot
from geo.cli import main
from geo.data.io import read_roads
from geo.data.osm import filled_road_ids, read_osm_roads
from geo.errors import DataError
from geo.intake.importer import import_file
from tests.helpers import square_city
from tests.network_helpers import RIVER, UTM, X0, Y0, city_file, one_district, river_city, streets
from tests.walk_helpers import osm_xml

_TO_LONLAT = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def _lonlat(x: float, y: float) -> list[float]:
    """A metre offset from the river city's origin as [longitude, latitude]."""
    return list(_TO_LONLAT.transform(X0 + x, Y0 + y))


def _feature(coordinates, geometry_type: str = "LineString", **properties) -> dict:
    geometry = None if coordinates is None else {"type": geometry_type, "coordinates": coordinates}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _geojson(path, features) -> object:
    # json.dumps writes NaN as NaN, which GDAL reads (a file another program wrote that way).
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


A, B, C = _lonlat(0, 0), _lonlat(500, 0), _lonlat(500, 500)


# --------------------------------------------------------------------------- degenerate rows through the intake


def test_degenerate_road_rows_are_rejected_with_their_row_and_reason_while_the_rest_loads(tmp_path):
    """Feature 1 is a good street; each other row is one attack. Before: the one-point line made GDAL refuse the
    whole file, and the NaN coordinate raised GEOSException out of the city check."""
    features = [
        _feature([A, B], road_id="ok", name="<script>alert(1)</script>"),  # 1 kept, name as text
        _feature([A], road_id="one_point"),  # 2 rejected: no geometry GEOS can hold
        _feature([[A[0], float("nan")], B], road_id="nan"),  # 3 rejected: not degrees
        _feature([], road_id="empty"),  # 4 rejected: empty
        _feature(None, road_id="none"),  # 5 rejected: empty
        _feature([[X0, Y0], [X0 + 500, Y0]], road_id="utm"),  # 6 rejected: metres in a GeoJSON (not degrees)
        _feature([[1e300, 1e300], B], road_id="huge"),  # 7 rejected
        _feature([A, C], road_id="ok"),  # 8 rejected: the ID of row 1 again
        _feature([A, C], road_id="long", name="名" * 10_000),  # 9 rejected: text too long
        _feature([[*A, 10.0], [*B, 20.0]], road_id="3d"),  # 10 kept, flattened to 2D
        _feature([[A, B], []], geometry_type="MultiLineString", road_id="multi"),  # 11 kept
        _feature([A, C, B, _lonlat(0, 500)], road_id="crossing", name="=cmd|'/c calc'!A1"),  # 12 kept
        _feature([A, A], road_id="zero"),  # 13 kept: the network counts and drops it
    ]
    district = one_district()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = import_file(_geojson(tmp_path / "roads.geojson", features), "roads", districts=district)
    assert result.accepted["road_id"].tolist() == ["ok", "3d", "multi", "crossing", "zero"]
    assert result.accepted["name"].tolist()[0] == "<script>alert(1)</script>"
    assert result.accepted["name"].tolist()[3] == "=cmd|'/c calc'!A1"
    assert not shapely.has_z(result.accepted.geometry.to_numpy()).any()
    reasons = dict(zip(result.rejects["feature"], result.rejects["reason_code"]))
    assert reasons == {
        2: "empty_geometry",
        3: "outside_city",
        4: "empty_geometry",
        5: "empty_geometry",
        6: "outside_city",
        7: "outside_city",
        8: "duplicate_id",
        9: "text_too_long",
    }
    assert "nan" in result.rejects.loc[result.rejects["feature"] == 3, "reason_en"].iloc[0]
    assert len(result.accepted) + len(result.rejects) == result.input_rows == len(features)
    # What was accepted makes a network: the zero-length line counted, not fatal.
    network = WalkNetwork.from_roads(result.accepted)
    assert network.found["zero_length_edges"] >= 1


def test_a_nan_coordinate_in_a_community_is_rejected_not_a_crash(tmp_path):
    """The same city check serves every layer: a community polygon with a NaN corner is not degrees."""
    ring = [A, B, C, [A[0], float("nan")], A]
    features = [
        _feature([[A, B, C, A]], geometry_type="Polygon", community_id="C1", name="好", district_code="450202"),
        _feature([ring], geometry_type="Polygon", community_id="C2", name="坏", district_code="450202"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = import_file(_geojson(tmp_path / "c.geojson", features), "communities", districts=one_district())
    assert result.accepted["community_id"].tolist() == ["C1"]
    assert result.rejects["feature"].tolist() == [2]
    assert result.rejects["reason_code"].tolist() == ["outside_city"]


# --------------------------------------------------------------------------- the walk network


def _with_lines(*geometries) -> gpd.GeoDataFrame:
    """The river city's streets plus ``geometries`` (UTM 49N), EPSG:4326."""
    extra = gpd.GeoDataFrame(
        {"road_id": [f"X{k}" for k in range(len(geometries))], "walkable": True}, geometry=list(geometries), crs=UTM
    )
    return pd.concat([streets(*RIVER), extra.to_crs("EPSG:4326")], ignore_index=True)


def test_zero_length_and_not_a_number_lines_are_counted_and_dropped_not_fatal():
    """A line whose two ends are one point made shapely.segmentize raise (GEOSException) and `geo network` fail;
    a NaN coordinate did too. Both are zero-length edges now, and the river's walk is unchanged (N to S1: 4,211 m)."""
    zero = shapely.LineString([(X0 + 100, Y0 + 100), (X0 + 100, Y0 + 100)])
    huge = shapely.LineString([(1e15, 1e15), (X0, Y0 + 150)])  # not a place once projected
    communities, _, _ = river_city()
    sets = square_city([(0, -100)], [1], paths_xy=[(50, -50)])[1]
    clean = WalkNetwork.from_roads(streets(*RIVER), metric_crs=UTM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nan = shapely.from_wkt(f"LINESTRING ({X0 + 10} NaN, {X0 + 200} {Y0 + 150})")
        network = WalkNetwork.from_roads(_with_lines(zero, nan, huge), metric_crs=UTM)
    assert network.found["zero_length_edges"] == 3
    assert len(network.nodes_m) == len(clean.nodes_m)
    expected = walking_distance_to_nearest_set(communities, sets, clean)
    assert walking_distance_to_nearest_set(communities, sets, network) == pytest.approx(expected)
    assert round(expected[0]) == 4211


def test_a_network_of_one_point_or_of_motorways_only_says_it_has_no_walkable_line():
    communities, _, _ = river_city()
    polygons = np.asarray(communities.to_crs(UTM).geometry.values)
    for roads in (streets([(0, 0), (0, 0)]), streets(*RIVER).assign(walkable=False)):
        network = WalkNetwork.from_roads(roads, metric_crs=UTM)
        assert len(network.nodes_m) == 0
        problems = network_problems(network, polygons, communities["community_id"])
        table = problems.table("en")
        assert table["network_detail"].iloc[0] == "the roads layer has no walkable line"
        assert problems.counts()["without_street"] == 3
        sets = square_city([(0, -100)], [1], paths_xy=[(50, -50)])[1]
        assert np.isinf(walking_distance_to_nearest_set(communities, sets, network)).all()


def test_geo_network_and_compare_carry_a_zero_length_road_and_hostile_names(tmp_path, capsys):
    """`geo network` on a city whose roads hold a zero-length line (it failed with GEOSException); the comparison's
    .xlsx keeps names as text, a formula neutralised."""
    communities, paths, roads = river_city()
    communities["name"] = ["=cmd|'/c calc'!A1", "<script>alert(1)</script>", "{{ 7*7 }}"]
    communities["community_id"] = ["</script><b>x", "../../etc/passwd", "'; DROP TABLE roads;--"]
    point = shapely.Point(109.4, 24.3)
    roads = pd.concat([roads, roads.iloc[[0]].assign(road_id="Z", geometry=[shapely.LineString([point, point])])])
    city = city_file(tmp_path / "city.gpkg", {"communities": communities, "fitness_paths": paths, "roads": roads})
    assert main(["network", str(city), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["zero_length_edges"] == 1
    assert main(["network", str(city), "--lang", "en"]) == 0
    assert "Zero-length edges" in capsys.readouterr().out
    sets = square_city([(0, -100)], [1], paths_xy=[(50, -50)])[1]
    city = city_file(tmp_path / "city2.gpkg", {"communities": communities, "fitness_paths": sets, "roads": roads})
    out = tmp_path / "compare.xlsx"
    assert main(["coverage", "--data", str(city), "--compare", "--out", str(out), "--json"]) == 0
    lost = json.loads(capsys.readouterr().out)["lost_on_foot"]
    assert [row["name"] for row in lost] == ["=cmd|'/c calc'!A1"]
    cells = [c for sheet in openpyxl.load_workbook(out) for row in sheet.iter_rows(values_only=True) for c in row]
    assert "'=cmd|'/c calc'!A1" in cells and "</script><b>x" in cells
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)


def test_communities_with_no_street_within_5_km_are_listed_and_not_served_on_foot():
    """The streets lie 6 km north of every community: each is listed with its distance to the nearest street, and a
    set inside S1 still serves S1 (0 m) but no other community on foot, although N is 350 m away in a straight line."""
    communities, _, _ = river_city()
    far = streets(*[[(x, y + 6000) for x, y in line] for line in RIVER])
    network = WalkNetwork.from_roads(far, metric_crs=UTM)
    polygons = np.asarray(communities.to_crs(UTM).geometry.values)
    problems = network_problems(network, polygons, communities["community_id"])
    assert problems.without_street["community_id"].tolist() == ["C000", "C001", "C002"]
    assert (problems.without_street["nearest_street_m"] > 5000).all()
    sets = square_city([(0, -100)], [1], paths_xy=[(50, -50)])[1]
    table = straight_vs_foot(communities, sets, network, 500.0)
    assert table["served_straight"].tolist() == [True, True, False]
    assert table["served_on_foot"].tolist() == [False, True, False]
    assert table["lost_on_foot"].tolist() == [True, False, False]
    assert table["on_foot_m"].iloc[0] > 11_000  # 6 km out to the streets and 6 km back at least


# --------------------------------------------------------------------------- OpenStreetMap extracts

_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefgh", "bcdefghi"))
    + "]>\n"
)
_XXE = '<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
_BODY = osm_xml([(1, {"highway": "primary", "name": "ENTITY"})]).split("\n", 1)[1]


@pytest.mark.parametrize(
    "name, content",
    [
        ("laughs.osm", _LAUGHS + _BODY.replace("ENTITY", "&i;")),
        ("xxe.osm", _XXE + _BODY.replace("ENTITY", "&x;")),
        ("header_only.osm.pbf", b"\x00\x00\x00\x0d\x0a\x09OSMHeader" + b"\xff" * 500),
        ("nan.osm", osm_xml([(1, {"highway": "primary"})]).replace('lat="24.320000"', 'lat="NaN"', 1)),
        ("huge.osm", osm_xml([(1, {"highway": "primary"})]).replace('lat="24.320000"', 'lat="1e308"', 1)),
    ],
)
def test_a_damaged_osm_extract_gives_one_clear_line(name, content, tmp_path, capsys):
    """GDAL's FeatureError reached the user as 'unexpected error'; now a DataError naming the file and the format,
    GDAL's words cut to 200 characters. No entity is expanded, no local file read."""
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    for read in (read_osm_roads, read_roads, lambda p: import_file(p, "roads", new_city=True)):
        with pytest.raises(DataError, match=f"roads file {name} cannot be read as OpenStreetMap data") as caught:
            read(path)
        assert len(str(caught.value)) < 400
        assert "root:" not in str(caught.value)
    out = tmp_path / "out.gpkg"
    rejects = tmp_path / "rejects.csv"
    assert main(["import", str(path), "--layer", "roads", "--out", str(out), "--rejects", str(rejects)]) == 2
    err = capsys.readouterr().err
    assert "OpenStreetMap" in err and "FeatureError" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("name", ["roads.osm.pbf", "roads.osm"])
def test_a_file_named_as_an_osm_extract_that_is_not_one_is_refused_as_such(name, tmp_path):
    """It was read as a CSV and told to use the survey template's community headers (小区编号 …)."""
    path = tmp_path / name
    path.write_text("this is not a pbf file at all\n1,2\n", encoding="utf-8")
    message = f"the file {name} ends in {path.suffix} but holds neither OSM PBF nor OSM XML"
    with pytest.raises(DataError, match=message):
        import_file(path, "roads", new_city=True)
    with pytest.raises(DataError, match=message):
        read_roads(path)


def test_osm_tags_holding_quotes_and_arrows_neither_open_a_motorway_nor_change_a_name(tmp_path):
    """GDAL's other_tags is hstore text ("k"=>"v",…); a value holding `,"foot"=>"yes"` must not read as a tag."""
    tags = {
        "highway": "motorway",
        "name": 'a"b=>c,"foot"=>"yes"',
        "zz": ',"foot"=>"yes',
        "bridge": 'no","foot"=>"yes',
    }
    ways = [(1, {key: value.replace('"', "&quot;") for key, value in tags.items()})]
    path = tmp_path / "tags.osm"
    path.write_text(osm_xml(ways), encoding="utf-8")
    roads = read_osm_roads(path)
    assert roads["walkable"].tolist() == [False]
    assert roads["name"].tolist() == ['a"b=>c,"foot"=>"yes"']


def test_an_osm_way_with_missing_nodes_is_left_out_and_the_rest_loads(tmp_path):
    """A way with one of its two nodes outside the extract cannot be drawn (GDAL drops it); the other way loads."""
    xml = osm_xml([(1, {"highway": "primary"}), (2, {"highway": "footway"})]).replace('<nd ref="4"/>', '<nd ref="9"/>')
    path = tmp_path / "cut.osm"
    path.write_text(xml, encoding="utf-8")
    assert read_osm_roads(path)["road_id"].tolist() == ["1"]


# --------------------------------------------------------------------------- IDs and walkability


def test_a_missing_road_id_never_takes_an_id_another_road_has():
    """A missing ID is the row number: row 2 without one, with row 1 called "2", was a second road "2"."""
    ids = pd.Series(["2", None, "row-3", None, None], dtype="string")
    assert filled_road_ids(ids, [1, 2, 3, 4, 5]).tolist() == ["2", "row-2", "row-3", "4", "5"]
    assert filled_road_ids(pd.Series(["3", None, None]), [1, 2, 3]).tolist() == ["3", "2", "row-3"]


def test_an_imported_road_without_id_does_not_repeat_a_given_one(tmp_path):
    features = [_feature([A, B], road_id="2"), _feature([A, C])]
    result = import_file(_geojson(tmp_path / "ids.geojson", features), "roads", districts=one_district())
    assert result.accepted["road_id"].tolist() == ["2", "row-2"]


def test_a_roads_file_of_motorways_only_loads_with_a_warning(tmp_path):
    from geo.errors import said

    features = [_feature([A, B], road_id="1", kind="motorway"), _feature([A, C], road_id="2", kind="高速公路")]
    result = import_file(_geojson(tmp_path / "m.geojson", features), "roads", districts=one_district())
    assert result.accepted["walkable"].tolist() == [False, False]
    assert [said(w, "en") for w in result.warnings] == [
        "none of the 2 roads imported is walkable (all motorways and their ramps, for instance): distance on foot "
        "cannot be measured; check the road kinds or the walkable column"
    ]
    path = tmp_path / "m.osm"
    path.write_text(osm_xml([(1, {"highway": "motorway"}), (2, {"highway": "trunk_link"})]), encoding="utf-8")
    assert [said(w, "zh") for w in import_file(path, "roads", new_city=True).warnings] == [
        "导入的 2 条道路都不可步行（如全是高速公路及其匝道）：无法按步行距离计算；请检查道路类型或“可步行”列"
    ]
