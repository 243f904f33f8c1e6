"""The roads layer (issue 16): walkability by kind and tags, Chinese kind words, its readers and ``city init --roads``.

Every road here is a short line whose walkability is decided on paper by the rule of
:func:`geo.data.osm.walkable_by_tags` (motorway/trunk excluded unless foot=yes, foot=no and
access=private close a way, everything else open).
"""

from __future__ import annotations

import csv
import json
import zipfile

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo.cli import main
from geo.data.io import read_roads
from geo.data.osm import is_osm_file, read_osm_roads, road_kind_codes, walkable_by_tags
from geo.errors import DataError
from geo.intake.importer import import_file
from geo.pipeline import load_city
from tests import othercity
from tests.walk_helpers import osm_xml

LON, LAT = 109.40, 24.32  # Liuzhou


def _line(i: int) -> LineString:
    """A line ~200 m long going east, 100 m north of the previous one (WGS84)."""
    return LineString([(LON, LAT + i * 0.001), (LON + 0.002, LAT + i * 0.001)])


# --------------------------------------------------------------------------- the rule


def test_walkable_by_tags_excludes_motorways_and_closed_ways_and_keeps_the_rest():
    kind = ["motorway", "motorway_link", "trunk", "trunk", "construction", "footway", "residential", "steps", "steps"]
    foot = ["", None, None, "yes", "yes", None, "no", None, "yes"]
    access = [None, None, None, None, None, None, None, "private", "private"]
    assert walkable_by_tags(kind, foot, access).tolist() == [
        False,  # motorway
        False,  # its ramp
        False,  # trunk (快速路) without a pavement
        True,  # trunk with foot=yes
        False,  # being built: foot=yes does not open it
        True,  # footway
        False,  # foot=no
        False,  # access=private
        True,  # access=private but foot=yes
    ]


def test_walkable_by_tags_keeps_unknown_and_missing_kinds():
    assert walkable_by_tags(["living_street", "track", None, "", "MOTORWAY"]).tolist() == [
        True,
        True,
        True,
        True,
        False,
    ]


def test_chinese_kind_words_become_codes_and_other_words_are_kept():
    words = pd.Series(
        [
            "高速公路",
            "快速路",
            "主干路",
            "次干路",
            "支路",
            "人行道",
            "步行街",
            "桥",
            "台阶",
            "Living Street",
            "track",
            None,
        ]
    )
    assert road_kind_codes(words).tolist() == [
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "footway",
        "pedestrian",
        "bridge",
        "steps",
        "living_street",
        "track",
        pd.NA,
    ]


# --------------------------------------------------------------------------- files


SURVEY_HEADERS = {"road_id": "道路编号", "name": "道路名称", "kind": "道路类型", "walkable": "可步行"}


def _surveyed_roads(headers: str = "schema") -> gpd.GeoDataFrame:
    """Five roads as a surveyor writes them: Chinese kinds, one walkability given against its kind.

    ``headers="zh"``: the surveyor's Chinese headers (recognised by the intake), else our column names
    (what :func:`geo.data.io.read_roads` reads, as every strict reader).
    """
    frame = gpd.GeoDataFrame(
        {
            "road_id": ["R1", "R2", "R3", "R4", "R5"],
            "name": ["屏山大道", "人行道", "文惠桥", "快速路", "高速公路旁便道"],
            "kind": ["主干路", "人行道", "桥", "快速路", "高速公路"],
            "walkable": [None, None, None, None, True],
        },
        geometry=[_line(i) for i in range(5)],
        crs="EPSG:4326",
    )
    return frame.rename(columns=SURVEY_HEADERS) if headers == "zh" else frame


EXPECTED_KINDS = ["primary", "footway", "bridge", "trunk", "motorway"]
EXPECTED_WALKABLE = [True, True, True, False, True]  # the last one: the file says walkable — it wins
EXPECTED_BRIDGE = [False, False, True, False, False]


def test_read_roads_geopackage_round_trip(tmp_path):
    path = tmp_path / "roads.gpkg"
    _surveyed_roads().to_file(path, layer="roads", engine="pyogrio")
    roads = read_roads(path)
    assert list(roads.columns) == ["road_id", "name", "kind", "walkable", "bridge", "geometry"]
    assert roads["road_id"].tolist() == ["R1", "R2", "R3", "R4", "R5"]
    assert roads["kind"].tolist() == EXPECTED_KINDS
    assert roads["walkable"].tolist() == EXPECTED_WALKABLE
    assert roads["bridge"].tolist() == EXPECTED_BRIDGE
    assert roads.crs.to_epsg() == 4326
    assert roads.geometry.geom_equals_exact(_surveyed_roads().geometry, tolerance=1e-9).all()

    again = tmp_path / "again.gpkg"
    roads.to_file(again, layer="roads", engine="pyogrio")
    back = read_roads(again)
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")), pd.DataFrame(roads.drop(columns="geometry"))
    )


def test_read_roads_zipped_shapefile_in_its_own_crs(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    frame = _surveyed_roads().drop(columns="walkable").to_crs(othercity.GK_WITHOUT_ZONE)
    frame.to_file(folder / "roads.shp", engine="pyogrio", encoding="UTF-8")
    archive = tmp_path / "roads.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for member in folder.iterdir():
            zipped.write(member, member.name)
    roads = read_roads(archive)
    assert roads["kind"].tolist() == EXPECTED_KINDS
    assert roads["walkable"].tolist() == [True, True, True, False, False]  # no walkable column: by kind
    assert roads.crs.to_epsg() == 4326
    # Projected to Gauss–Krüger and back: within a millimetre.
    utm = pyproj.CRS.from_epsg(32649)
    assert (roads.to_crs(utm).hausdorff_distance(_surveyed_roads().to_crs(utm)) < 0.001).all()


def test_read_roads_names_the_row_that_is_not_a_line(tmp_path):
    frame = gpd.GeoDataFrame({"road_id": ["R1", "R2"]}, geometry=[_line(0), Point(LON, LAT)], crs="EPSG:4326")
    path = tmp_path / "roads.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(DataError) as raised:
        read_roads(path)
    text = str(raised.value)
    assert "2" in text and "Point" in text


FIVE_WAYS = [
    (101, {"highway": "motorway", "name": "G72 泉南高速"}),
    (102, {"highway": "footway"}),
    (103, {"highway": "residential", "foot": "no", "name": "内部路"}),
    (104, {"highway": "trunk", "foot": "yes", "bridge": "yes", "name": "文惠桥"}),
    (105, {"highway": "service", "access": "private"}),
    (106, {"railway": "rail"}),  # not a road: not read
]


def test_read_osm_roads_decides_walkability_by_the_tags(tmp_path):
    path = tmp_path / "liuzhou.osm"
    path.write_text(osm_xml(FIVE_WAYS), encoding="utf-8")
    assert is_osm_file(path)
    roads = read_osm_roads(path)
    assert roads["road_id"].tolist() == ["101", "102", "103", "104", "105"]
    assert roads["kind"].tolist() == ["motorway", "footway", "residential", "trunk", "service"]
    assert roads["walkable"].tolist() == [False, True, False, True, False]
    assert roads["bridge"].tolist() == [False, False, False, True, False]
    assert roads["name"].tolist()[3] == "文惠桥"
    assert roads.crs.to_epsg() == 4326
    assert shapely.equals_exact(roads.geometry.iloc[1], _line(1), tolerance=1e-7)
    # read_roads knows an OSM file by its content, whatever its name.
    renamed = tmp_path / "extract.dat"
    renamed.write_bytes(path.read_bytes())
    assert read_roads(renamed)["walkable"].tolist() == [False, True, False, True, False]


def test_osm_file_without_roads_is_refused(tmp_path):
    path = tmp_path / "rail.osm"
    path.write_text(osm_xml([(1, {"railway": "rail"})]), encoding="utf-8")
    with pytest.raises(DataError, match="highway"):
        read_osm_roads(path)


def test_a_geojson_is_not_taken_for_an_osm_file(tmp_path):
    path = tmp_path / "roads.geojson"
    _surveyed_roads().to_file(path, driver="GeoJSON", engine="pyogrio")
    assert not is_osm_file(path)


# --------------------------------------------------------------------------- through the intake


def _road_rows_csv(path, crs=othercity.GK_WITH_ZONE):
    """Roads of the Hefei test city as WKT in ``crs`` (a CSV with no CRS), one bad row and one far away.

    Rows (sheet rows 2–6): a street inside 蜀山区; a footway; a motorway (kept, not walkable); a point
    (not a line: rejected); a street 20 km east of the city (rejected, outside the city).
    """
    to_utm = pyproj.Transformer.from_crs(4326, 32650, always_xy=True)
    x0, y0 = to_utm.transform(othercity.WEST, othercity.SOUTH)
    utm_lines = [
        LineString([(x0 + 100, y0 + 100), (x0 + 1900, y0 + 100)]),
        LineString([(x0 + 100, y0 + 200), (x0 + 100, y0 + 1900)]),
        LineString([(x0 + 100, y0 + 1950), (x0 + 3900, y0 + 1950)]),
        Point(x0 + 500, y0 + 500),
        LineString([(x0 + 20_000, y0 + 100), (x0 + 21_000, y0 + 100)]),
    ]
    geometry = gpd.GeoSeries(utm_lines, crs=32650).to_crs(crs)
    rows = [("H1", "长江西路", "主干路"), ("H2", "", "人行道"), ("H3", "合安高速", "高速公路"), ("H4", "点", "支路")]
    rows.append(("H5", "远处", "支路"))
    with open(path, "w", newline="", encoding="utf-8-sig") as file:
        writer = csv.writer(file)
        writer.writerow(["道路编号", "道路名称", "道路类型", "WKT"])
        for cells, line in zip(rows, geometry):
            writer.writerow([*cells, shapely.to_wkt(line, rounding_precision=3)])
    return path


def test_city_init_with_roads_in_gauss_kruger_keeps_the_lines_and_explains_the_others(tmp_path, capsys):
    files = othercity.write_files(tmp_path)
    roads_csv = _road_rows_csv(tmp_path / "道路.csv")
    out = tmp_path / "hefei.gpkg"
    argv = ["city", "init", "--out", str(out), "--communities", str(files["communities"])]
    argv += [
        "--districts",
        str(files["districts"]),
        "--roads",
        str(roads_csv),
        "--crs",
        f"roads={othercity.GK_WITH_ZONE}",
    ]
    argv += ["--json"]
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out)
    assert report["roads"] | {"crs": None} == {
        "input_rows": 5,
        "accepted": 3,
        "rejected": 2,
        "repaired": 0,
        "crs": None,
    }
    rejects = pd.read_csv(report["rejects"]["rejects_roads"], encoding="utf-8-sig")
    assert rejects["sheet_row"].tolist() == [5, 6]
    assert rejects["reason_code"].tolist() == ["geometry_type", "outside_city"]

    roads = load_city(out).roads
    assert roads["road_id"].tolist() == ["H1", "H2", "H3"]
    assert roads["kind"].tolist() == ["primary", "footway", "motorway"]
    assert roads["walkable"].tolist() == [True, True, False]
    assert roads.crs.to_epsg() == 4326
    assert roads.to_crs(32650).length.round(1).tolist() == [1800.0, 1700.0, 3800.0]


def test_city_init_reads_an_osm_extract_as_roads(tmp_path, capsys):
    files = othercity.write_files(tmp_path)
    osm = tmp_path / "hefei.osm"
    ways = [(1, {"highway": "primary"}), (2, {"highway": "motorway_link"})]
    text = osm_xml(ways).replace(f'lon="{LON:.6f}"', f'lon="{othercity.WEST + 0.001:.6f}"')
    text = text.replace(f'lon="{LON + 0.002:.6f}"', f'lon="{othercity.WEST + 0.003:.6f}"')
    for i in range(len(ways)):  # each way at its own latitude, in Hefei (the second was left in Liuzhou)
        text = text.replace(f'lat="{LAT + i * 0.001:.6f}"', f'lat="{othercity.SOUTH + 0.001 * (i + 1):.6f}"')
    osm.write_text(text, encoding="utf-8")
    out = tmp_path / "hefei.gpkg"
    argv = ["city", "init", "--out", str(out), "--communities", str(files["communities"]), "--roads", str(osm)]
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert report["roads"]["accepted"] == 2
    assert load_city(out).roads["walkable"].tolist() == [True, False]


def test_import_layer_roads_writes_the_accepted_lines(tmp_path, capsys):
    path = tmp_path / "roads.geojson"
    frame = _surveyed_roads("zh")
    frame["可步行"] = ["", "", "", "", "是"]
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    result = import_file(path, "roads", districts=_district_around(frame))
    assert result.rejected == 0
    assert result.accepted["walkable"].tolist() == EXPECTED_WALKABLE
    out, rejects = tmp_path / "out.gpkg", tmp_path / "rejects.csv"
    argv = ["import", str(path), "--layer", "roads", "--out", str(out), "--rejects", str(rejects)]
    assert main(argv) == 0, capsys.readouterr().err
    assert read_roads(out)["kind"].tolist() == EXPECTED_KINDS


def _district_around(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One district: the roads' bounding box widened by 0.01°."""
    box = shapely.box(*frame.total_bounds).buffer(0.01)
    data = {"district_code": ["450202"], "district_name": ["城中区"], "district_name_en": ["Chengzhong"]}
    return gpd.GeoDataFrame({**data, "kind": ["district"]}, geometry=[box], crs="EPSG:4326")


def test_a_city_file_without_roads_loads_with_none(tmp_path, capsys):
    files = othercity.write_files(tmp_path)
    out = tmp_path / "hefei.gpkg"
    assert main(["city", "init", "--out", str(out), "--communities", str(files["communities"])]) == 0
    capsys.readouterr()
    assert load_city(out).roads is None


def test_an_osm_extract_above_the_import_limits_is_refused(tmp_path):
    from dataclasses import replace

    from geo.config import load_config

    path = tmp_path / "big.osm"
    path.write_text(osm_xml(FIVE_WAYS), encoding="utf-8")
    config = load_config()
    with pytest.raises(DataError, match="5 features"):
        import_file(path, "roads", config=replace(config, max_rows=4), new_city=True)
    with pytest.raises(DataError, match="10 vertices"):
        import_file(path, "roads", config=replace(config, max_vertices=9), new_city=True)
    with pytest.raises(DataError, match="bytes"):
        import_file(path, "roads", config=replace(config, max_upload_mb=0.0001), new_city=True)
    assert len(import_file(path, "roads", config=config, new_city=True).accepted) == 5


def test_an_osm_extract_is_cut_to_the_city_and_says_how_many_ways_were_left_out(tmp_path):
    """An extract is cut by area (a province): ways more than 2 km from every district are not imported, a way
    that leaves the city is kept whole, and the warning counts them in both languages."""
    from geo.errors import said

    # Ways 0–2 at the city (latitudes LAT, +0.001, +0.002); way 3 moved 0.5° (~50 km) east: outside.
    xml = osm_xml([(1, {"highway": "primary"}), (2, {"highway": "footway"}), (3, {"highway": "residential"})])
    far = osm_xml([(9, {"highway": "primary"})]).replace(f'lon="{LON:.6f}"', f'lon="{LON + 0.5:.6f}"')
    far = far.replace(f'lon="{LON + 0.002:.6f}"', f'lon="{LON + 0.502:.6f}"').replace('id="1"', 'id="101"')
    far = far.replace('id="2"', 'id="102"').replace('ref="1"', 'ref="101"').replace('ref="2"', 'ref="102"')
    far_body = far.split('generator="test">', 1)[1].rsplit("</osm>", 1)[0]
    nodes, ways = far_body.split("<way", 1)
    xml = xml.replace("<way", nodes + "<way", 1).replace("</osm>", "<way" + ways + "</osm>")
    path = tmp_path / "guangxi.osm"
    path.write_text(xml, encoding="utf-8")
    assert len(read_osm_roads(path)) == 4
    # The district: a box around the first way only, so the others 100–200 m north are within the 2 km.
    district = _district_around(gpd.GeoDataFrame(geometry=[_line(0)], crs="EPSG:4326"))
    result = import_file(path, "roads", districts=district)
    assert result.accepted["road_id"].tolist() == ["1", "2", "3"]
    assert result.rejected == 0
    (warning,) = result.warnings
    assert said(warning, "zh") == "OpenStreetMap 文件中有 1 条道路距本市各区县超过 2 公里，未导入（保留 3 条）"
    assert said(warning, "en").startswith("1 ways of the OpenStreetMap file lie more than 2 km")
    # An extract of somewhere else entirely is a clear error, not an empty network.
    moved = gpd.GeoDataFrame(geometry=[_line(0)], crs="EPSG:4326").translate(xoff=2.0)
    with pytest.raises(DataError, match="no road within 2 km"):
        import_file(path, "roads", districts=_district_around(gpd.GeoDataFrame(geometry=moved, crs="EPSG:4326")))
