"""Import under hostile files, second round (issue 10 re-attack): no network, tangled outlines,
columns the city file could not write, text without bound, repeated headers.

Network: a local HTTP server on 127.0.0.1 records every request it receives; a test first proves
the server does record (a request of its own), then that reading the hostile file made none.
"""

from __future__ import annotations

import http.server
import json
import random
import sqlite3
import sys
import threading
import urllib.request
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely.geometry import Polygon

from geo.config import BOUNDARIES_PATH
from geo.data import io as gio
from geo.data import network
from geo.data.io import read_districts, read_layer, read_raw_layer, write_layers
from geo.intake.importer import APPROXIMATE_COLUMN, import_file, write_accepted
from geo.intake.validate import MAX_REPAIR_CROSSINGS, MAX_TEXT_CHARS, REASONS, edge_crossings, repair_polygons
from tests.helpers import PEAK_MB, cli_import, run_measured

REPO = Path(__file__).resolve().parent.parent
# A square community of about 100 m in 城中区, Liuzhou.
SQUARE = [[109.40, 24.32], [109.401, 24.32], [109.401, 24.321], [109.40, 24.321], [109.40, 24.32]]
HEADER = "名称,区县,经度,纬度,人口"


@pytest.fixture(scope="module")
def districts():
    return read_districts(BOUNDARIES_PATH)


# --------------------------------------------------------------------------- N2: no network


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    """A server on 127.0.0.1 recording the path of every request: (base URL, list of paths)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with pytest.raises(urllib.error.HTTPError):  # the listener does record a request
        urllib.request.urlopen(f"{url}/listening", timeout=5)
    assert server.requests == ["/listening"]
    server.requests.clear()
    yield url, server.requests
    server.shutdown()
    server.server_close()


def feature(geometry=None, **properties) -> dict:
    properties = {"name": "链接小区", "district_name": "城中区", "population": 500, **properties}
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": geometry or {"type": "Polygon", "coordinates": [SQUARE]},
    }


def collection(crs=None, features=None) -> dict:
    document = {"type": "FeatureCollection", "features": features or [feature()]}
    if crs is not None:
        document["crs"] = crs
    return document


def link(url: str) -> dict:
    return {"type": "link", "properties": {"href": url, "type": "ogcwkt"}}


# Every way a GeoJSON (or JSON-FG) file can name a CRS that GDAL would fetch; "URL" stands for the
# listener's address. Written as text so that escapes and letter case stay as given.
LINKED_CRS = {
    "top-level link": json.dumps(collection(link("URL/top.wkt"))),
    "type url with url": json.dumps(collection({"type": "URL", "properties": {"url": "URL/url.wkt"}})),
    "escaped member name": json.dumps(collection(link("URL/escaped.wkt"))).replace('"crs"', '"\\u0063rs"'),
    "upper-case names": json.dumps(collection({"type": "LINK", "properties": {"HREF": "URL/upper.wkt"}})).replace(
        '"crs"', '"CRS"'
    ),
    "after the features": json.dumps(collection()).removesuffix("}")
    + ', "crs": '
    + json.dumps(link("URL/after"))
    + "}",
    "on a geometry": json.dumps(
        collection(features=[feature({"type": "Polygon", "coordinates": [SQUARE], "crs": link("URL/geometry.wkt")})])
    ),
    "single feature": json.dumps({**feature(), "crs": link("URL/feature.wkt")}),
    "second of two crs members": json.dumps(
        collection({"type": "name", "properties": {"name": "EPSG:4326"}})
    ).removesuffix("}")
    + ', "crs": '
    + json.dumps(link("URL/second"))
    + "}",
    "name that is an address": json.dumps(
        collection({"type": "name", "properties": {"name": "URL/def/crs/EPSG/0/4326"}})
    ),
    "JSON-FG coordRefSys": json.dumps({**collection(), "coordRefSys": "URL/fg"}),
    "JSON-FG reference": json.dumps({**collection(), "coordRefSys": {"type": "Reference", "href": "URL/fgref"}}),
    "local path": json.dumps(collection(link("/etc/hostname"))),
}


@pytest.mark.parametrize("name", LINKED_CRS)
def test_crs_by_link_is_refused_and_nothing_is_fetched(tmp_path, listener, districts, name):
    url, requests = listener
    path = tmp_path / "survey.geojson"
    path.write_text(LINKED_CRS[name].replace("URL", url), encoding="utf-8")
    with pytest.raises(ValueError) as error:
        import_file(path, "communities", districts=districts)
    message = str(error.value)
    assert "\n" not in message
    assert "the file's CRS is a link to " in message and "reading it would fetch it from the network" in message
    assert "give the CRS by name (e.g. EPSG:4326) or declare it on import" in message
    with pytest.raises(ValueError, match="the file's CRS is a link to "):
        read_layer(path, "communities")  # the pipeline's strict reader refuses it too
    assert requests == []


def test_cli_import_of_a_linked_crs_is_one_line_and_fetches_nothing(tmp_path, listener):
    url, requests = listener
    path = tmp_path / "survey.geojson"
    path.write_text(json.dumps(collection(link(f"{url}/from-the-cli"))), encoding="utf-8")
    status, _, stderr, _ = cli_import(path, "communities", tmp_path)
    assert status == 2
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert f"is a link to {url}/from-the-cli; reading it would fetch it from the network" in stderr
    assert requests == []


@pytest.mark.parametrize(
    "crs",
    [
        {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        {"type": "name", "properties": {"name": "http://www.opengis.net/def/crs/EPSG/0/4326"}},
        {"type": "name", "properties": {"name": "EPSG:4326"}},
        {"type": "EPSG", "properties": {"code": 4326}},
    ],
    ids=["urn", "ogc-uri", "epsg-name", "epsg-code"],
)
def test_crs_by_name_is_read_as_before(tmp_path, listener, districts, crs):
    _, requests = listener
    path = tmp_path / "survey.geojson"
    # A property called crs holding text is data (the survey's 坐标系 column), not the file's CRS.
    path.write_text(json.dumps(collection(crs, [feature(crs="WGS84")])), encoding="utf-8")
    result = import_file(path, "communities", districts=districts)
    assert (result.input_rows, len(result.accepted)) == (1, 1)
    assert result.accepted["name"].tolist() == ["链接小区"]
    assert requests == []


def test_gdal_cannot_fetch_even_when_asked_directly(tmp_path, listener):
    # The second line: GDAL reading the linked file itself, /vsicurl/ and a plain URL as a file name.
    url, requests = listener
    path = tmp_path / "linked.geojson"
    path.write_text(json.dumps(collection(link(f"{url}/asked-directly.wkt"))), encoding="utf-8")
    frame = pyogrio.read_dataframe(path)  # GDAL's own GeoJSON reader, past geo.data.io's check
    assert len(frame) == 1
    for address in (f"/vsicurl/{url}/remote.geojson", f"{url}/remote.geojson"):
        with pytest.raises(pyogrio.errors.DataSourceError):
            pyogrio.read_info(address)
    assert requests == []


def test_proj_network_is_off_in_pyproj_and_in_gdal(tmp_path, listener):
    url, requests = listener
    assert not pyproj.network.is_network_enabled()
    assert network._GDAL is not None and network._GDAL.OSRGetPROJEnableNetwork() == 0
    # A grid named by URL is looked for as a file, never fetched.
    with pytest.raises(pyproj.exceptions.ProjError):
        pyproj.Transformer.from_pipeline(f"+proj=hgridshift +grids={url}/grid.gsb").transform(
            109.4, 24.3, errcheck=True
        )
    assert requests == []


def test_a_child_process_starts_with_the_network_off():
    code = (
        "import pyproj, os, geo.data.io, geo.data.network as g; "
        "print(os.environ['PROJ_NETWORK'], pyproj.network.is_network_enabled(), g._GDAL.OSRGetPROJEnableNetwork())"
    )
    status, stdout, stderr, _ = run_measured([sys.executable, "-c", code])
    assert status == 0, stderr
    assert stdout.split() == ["OFF", "False", "0"]


def test_kml_network_link_and_gpkg_remote_grid_fetch_nothing(tmp_path, listener, districts):
    url, requests = listener
    kml = tmp_path / "netlink.kml"
    kml.write_text(
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<NetworkLink><Link><href>{url}/x.kml</href></Link></NetworkLink>"
        f'<Style id="s"><IconStyle><Icon><href>{url}/i.png</href></Icon></IconStyle></Style>'
        "<Placemark><name>网络链接</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x},{y}" for x, y in SQUARE)
        + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>",
        encoding="utf-8",
    )
    assert import_file(kml, "communities", districts=districts).input_rows == 1
    gpkg = tmp_path / "remote_grid.gpkg"
    gpd.GeoDataFrame({"name": ["甲"], "district_name": ["城中区"]}, geometry=[Polygon(SQUARE)], crs=4326).to_file(
        gpkg, layer="communities", driver="GPKG", engine="pyogrio"
    )
    wkt = (
        'BOUNDCRS[SOURCECRS[GEOGCRS["x",DATUM["x",ELLIPSOID["GRS 1980",6378137,298.257222101]],CS[ellipsoidal,2],'
        'AXIS["lat",north],AXIS["lon",east],UNIT["degree",0.0174532925199433]]],TARGETCRS[GEOGCRS["WGS 84",'
        'DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]],CS[ellipsoidal,2],'
        'AXIS["lat",north],AXIS["lon",east],UNIT["degree",0.0174532925199433]]],ABRIDGEDTRANSFORMATION["x",'
        f'METHOD["NTv2",ID["EPSG",9615]],PARAMETERFILE["Latitude and longitude difference file","{url}/grid.gsb"]]]'
    )
    with sqlite3.connect(gpkg) as connection:
        connection.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('x', 990001, 'X', 990001, ?, NULL)", (wkt,))
        connection.execute("UPDATE gpkg_geometry_columns SET srs_id = 990001")
        connection.execute("UPDATE gpkg_contents SET srs_id = 990001")
    with pytest.raises(ValueError, match="cannot be read as GeoPackage"):
        import_file(gpkg, "communities", districts=districts)
    assert requests == []


def test_millions_of_crs_members_are_refused_quickly(tmp_path):
    path = tmp_path / "many.geojson"
    path.write_text(
        "{" + '"crs":{},' * (network._JSON_CRS_MAX_MEMBERS + 1) + '"type":"FeatureCollection","features":[]}'
    )
    with pytest.raises(ValueError, match=r"names a CRS more than 1,000,000 times"):
        read_raw_layer(path, "communities")


def test_a_crs_member_too_long_to_be_one_is_refused(tmp_path):
    path = tmp_path / "long.geojson"
    crs = {"type": "name", "properties": {"name": "EPSG:4326", "padding": "x" * 70_000}}
    path.write_text(json.dumps(collection(crs)), encoding="utf-8")
    with pytest.raises(ValueError, match=r"CRS member at byte \d+ is not JSON of at most 64 KB"):
        read_raw_layer(path, "communities")


# --------------------------------------------------------------------------- N3: tangled outlines


def tangle(vertices: int, seed: int = 7) -> Polygon:
    """A ring through ``vertices`` random points in a 500 m box: it crosses itself ~vertices²/4 times."""
    rnd = random.Random(seed)
    points = [(109.40 + rnd.uniform(0, 0.005), 24.32 + rnd.uniform(0, 0.005)) for _ in range(vertices)]
    return Polygon(points + points[:1])


def circle_with_spike(coordinates: int) -> Polygon:
    """A ~300 m circle of ``coordinates`` coordinates (closing one included) with a zero-width spike.

    Invalid (the spike touches itself); make_valid removes the spike and keeps the area.
    """
    angles = np.linspace(0, 2 * np.pi, coordinates - 3, endpoint=False)
    ring = [(109.40 + 0.003 * np.cos(a), 24.32 + 0.003 * np.sin(a)) for a in angles]
    ring = ring[:1] + [(109.40 + 0.006, 24.32), ring[0]] + ring[1:]
    polygon = Polygon(ring)
    assert shapely.get_num_coordinates(polygon) == coordinates and not polygon.is_valid
    return polygon


def star(points: int, step: int) -> Polygon:
    """The star polygon {points/step}: its edges cross points × (step − 1) times (a pentagram: 5)."""
    return Polygon(
        [(np.cos(2 * np.pi * step * k / points), np.sin(2 * np.pi * step * k / points)) for k in range(points)]
    )


def test_edge_crossings_are_counted_as_on_paper():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    assert edge_crossings(bowtie) == 1
    assert edge_crossings(Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])) == 0
    assert edge_crossings(circle_with_spike(5000)) == 0  # a spike touches, it does not cross
    square_with_crossing_hole = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(5, 5), (12, 5), (12, 6), (5, 6)]])
    assert edge_crossings(square_with_crossing_hole) == 2  # the hole leaves through the right edge and comes back
    # A tangle is recognised early: counting stops soon after the bound.
    many = edge_crossings(tangle(2000))
    assert many > 400_000
    assert MAX_REPAIR_CROSSINGS < edge_crossings(tangle(2000), stop_above=MAX_REPAIR_CROSSINGS) < many


def test_a_detailed_outline_with_a_flaw_is_repaired_a_tangle_is_rejected_not_repaired():
    geometry = np.array([circle_with_spike(5000), tangle(5000), circle_with_spike(50)], dtype=object)
    fixed, issues, repaired = repair_polygons(geometry, np.ones(3, dtype=bool), 0.05)
    assert repaired.tolist() == [True, False, True]
    assert fixed[0].is_valid and fixed[2].is_valid and fixed[1] is geometry[1]
    assert issues["position"].tolist() == [1]
    assert set(issues["code"]) == {"invalid_geometry"}
    assert issues["en"].tolist() == [
        f"invalid geometry: invalid polygon ({shapely.is_valid_reason(geometry[1])}) of 5,001 vertices whose edges "
        "cross more than 10,000 times, too tangled to repair automatically; correct the outline in a GIS"
    ]
    assert issues["zh"].iloc[0].startswith("图形无效且无法修复：多边形无效（")
    assert "5,001 个顶点的边界自相交超过 10,000 处，无法自动修复，请在 GIS 软件中修正边界" in issues["zh"].iloc[0]


def test_the_crossing_bound_is_exact():
    """At the bound the polygon is repaired (or refused for its area change); one crossing more, it is not tried."""
    at, above = star(7, 2), star(7, 3)
    assert (edge_crossings(at), edge_crossings(above), edge_crossings(star(9, 4))) == (7, 14, 27)
    fixed, issues, repaired = repair_polygons(
        np.array([at, above], dtype=object), np.ones(2, dtype=bool), 1.0, max_crossings=7
    )
    assert "too tangled" not in " ".join(issues.loc[issues["position"] == 0, "en"])
    assert repaired[0] or not issues.loc[issues["position"] == 0].empty
    assert not repaired[1] and fixed[1] is above
    assert issues.loc[issues["position"] == 1, "en"].tolist() == [
        f"invalid geometry: invalid polygon ({shapely.is_valid_reason(above)}) of 8 vertices whose edges cross "
        "more than 7 times, too tangled to repair automatically; correct the outline in a GIS"
    ]


def test_a_tangle_of_5000_vertices_is_rejected_by_the_cli_in_bounded_memory(tmp_path):
    # Was more than 300 s and 6.5 GB (2,000 vertices: 15 s, 1.15 GB).
    path = tmp_path / "tangle.csv"
    path.write_text(
        f'名称,区县,人口,wkt\n缠绕,城中区,500,"{tangle(5000).wkt}"\n好,城中区,500,"{Polygon(SQUARE).wkt}"\n',
        encoding="utf-8",
    )
    status, stdout, stderr, peak_mb = cli_import(path, "communities", tmp_path)
    assert status == 0, stderr
    assert {k: v for k, v in json.loads(stdout).items() if k != "warnings"} == {
        "input_rows": 2,
        "accepted": 1,
        "rejected": 1,
        "repaired": 0,
        "crs": {"used": "wgs84", "assumed": True},
    }
    rejects = pd.read_csv(tmp_path / "rejects.csv", encoding="utf-8-sig")
    assert rejects["sheet_row"].tolist() == [2]
    assert "of 5,001 vertices whose edges cross more than 10,000 times" in rejects["reason_en"].iloc[0]
    assert peak_mb < PEAK_MB, f"peak {peak_mb:.0f} MB"


# --------------------------------------------------------------------------- N7: columns the city file cannot hold


def write_csv(path: Path, columns: dict) -> Path:
    pd.DataFrame(columns).to_csv(path, index=False, encoding="utf-8")
    return path


BASE = {
    "名称": ["甲", "乙"],
    "区县": ["城中区", "城中区"],
    "经度": [109.40, 109.41],
    "纬度": [24.32, 24.32],
    "人口": [5, 6],
}


@pytest.mark.parametrize(
    "extra, kept",
    [
        ({"fid": [1, 2]}, {"fid_2": ["1", "2"]}),  # QGIS's CSV export; CSV cells are text
        ({"fid": [1, 1]}, {"fid_2": ["1", "1"]}),
        ({"FID": ["a", "b"]}, {"FID_2": ["a", "b"]}),
        ({"geom": ["x", "y"]}, {"geom_2": ["x", "y"]}),
        ({"Name": ["x", "y"]}, {"Name_2": ["x", "y"]}),  # beside 名称, read as name
        ({"NAME": ["x", "y"], "nAme": ["p", "q"]}, {"NAME_2": ["x", "y"], "nAme_3": ["p", "q"]}),
        ({"fid": [1, 2], "fid_2": ["kept", "as is"]}, {"fid_3": ["1", "2"], "fid_2": ["kept", "as is"]}),
    ],
    ids=["fid", "fid-repeated", "FID-text", "geom", "Name", "NAME-nAme", "fid_2-taken"],
)
def test_extra_columns_the_city_file_uses_are_renamed_and_written(tmp_path, districts, extra, kept):
    path = write_csv(tmp_path / "survey.csv", {**BASE, **extra})
    result = import_file(path, "communities", districts=districts)
    assert len(result.accepted) == 2 and result.rejected == 0
    for old, new in zip(extra, kept):
        if old != new:
            assert any(f"the column {old!r} is kept as {new!r}" in warning for warning in result.warnings), (
                result.warnings
            )
    for column, values in kept.items():
        assert result.accepted[column].astype(object).tolist() == values
    assert result.accepted["name"].tolist() == ["甲", "乙"]
    written = tmp_path / "city.gpkg"
    write_layers(written, {"communities": result.accepted})
    back = gpd.read_file(written, layer="communities", engine="pyogrio")
    for column, values in kept.items():
        assert back[column].astype(object).tolist() == values
    write_accepted(result, tmp_path / "accepted.gpkg")  # the CLI's --out


def test_a_files_own_approximation_flag_is_read_not_set_aside(tmp_path, districts):
    """A city file our intake wrote says which outlines are squares made from a point: read back, the
    flag is kept (ORed with the importer's own: a point is always approximate), not renamed away."""
    path = write_csv(tmp_path / "survey.csv", {**BASE, APPROXIMATE_COLUMN: ["yes", "no"]})
    result = import_file(path, "communities", districts=districts)
    assert f"{APPROXIMATE_COLUMN}_2" not in result.accepted.columns
    assert result.accepted[APPROXIMATE_COLUMN].tolist() == [True, True]  # points: squares made by the importer


def test_fid_property_of_a_geojson_is_renamed_too(tmp_path, districts):
    path = tmp_path / "qgis.geojson"
    path.write_text(
        json.dumps(collection(features=[feature(fid=7, Geom="a"), feature(fid=8, Geom="b")])), encoding="utf-8"
    )
    result = import_file(path, "communities", districts=districts)
    assert result.accepted["fid_2"].tolist() == [7, 8] and result.accepted["Geom_2"].tolist() == ["a", "b"]
    write_layers(tmp_path / "city.gpkg", {"communities": result.accepted})
    assert gpd.read_file(tmp_path / "city.gpkg", engine="pyogrio")["fid_2"].tolist() == [7, 8]


def test_rejects_keep_the_file_s_own_headers(tmp_path, districts):
    path = write_csv(tmp_path / "survey.csv", {**BASE, "人口": [5, -1], "fid": [1, 2]})
    result = import_file(path, "communities", districts=districts)
    assert result.rejects.columns.tolist()[-1] == "fid" and result.rejects["fid"].tolist() == ["2"]


# --------------------------------------------------------------------------- N14: repeated headers


def test_repeated_header_is_read_once_with_a_warning(tmp_path, districts):
    path = tmp_path / "survey.csv"
    path.write_text("名称,名称,区县,经度,纬度,人口\n甲,乙,城中区,109.4,24.32,5\n", encoding="utf-8")
    result = import_file(path, "communities", districts=districts)
    assert result.accepted["name"].tolist() == ["甲"] and result.accepted["名称.1"].tolist() == ["乙"]
    assert (
        "communities file survey.csv: columns 1, 2 have the same header '名称'; the first is read as '名称', "
        "the others as '名称.1' (extra columns, kept as they are)"
    ) in result.warnings


def test_headers_that_differ_only_by_spaces_are_two_columns_and_a_warning(tmp_path, districts):
    # Was "GeoDataFrame cannot contain duplicated column names" and no rejects file.
    path = tmp_path / "survey.csv"
    path.write_text(
        f"{HEADER},备用, 备用\n甲,城中区,109.4,24.32,5,a,b\n乙,城中区,109.41,24.32,-1,c,d\n", encoding="utf-8"
    )
    status, stdout, stderr, _ = cli_import(path, "communities", tmp_path)
    assert status == 0, stderr
    summary = json.loads(stdout)
    assert (summary["accepted"], summary["rejected"]) == (1, 1)
    assert (
        "communities file survey.csv: columns 6, 7 have the same header '备用' / ' 备用'; the first is read "
        "as '备用', the others as '备用.1' (extra columns, kept as they are)"
    ) in summary["warnings"]
    rejects = pd.read_csv(tmp_path / "rejects.csv", encoding="utf-8-sig", dtype=str)
    assert rejects[["备用", "备用.1"]].values.tolist() == [["c", "d"]]
    accepted = gpd.read_file(tmp_path / "accepted.gpkg", engine="pyogrio")
    assert accepted[["备用", "备用.1"]].values.tolist() == [["a", "b"]]


def test_repeated_workbook_header_names_its_columns_by_letter(tmp_path, districts):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["名称", "区县", "经度", "纬度", "人口", "备注", "备注 "])
    sheet.append(["甲", "城中区", 109.4, 24.32, 5, "一", "二"])
    book.save(tmp_path / "survey.xlsx")
    result = import_file(tmp_path / "survey.xlsx", "communities", districts=districts)
    assert result.accepted[["备注", "备注.1"]].values.tolist() == [["一", "二"]]
    assert any("columns F, G have the same header '备注' / '备注 '" in warning for warning in result.warnings)


def test_trailing_commas_do_not_shift_the_cells(tmp_path, districts):
    # pandas took a first row one cell wider than the header as the index: every name was lost and
    # each cell read one column to the left (district = longitude).
    path = tmp_path / "survey.csv"
    path.write_text(f"{HEADER}\n甲,城中区,109.4,24.32,5,\n乙,城中区,109.41,24.32,6,\n", encoding="utf-8")
    result = import_file(path, "communities", districts=districts)
    assert result.accepted[["name", "district_name", "population"]].astype(object).values.tolist() == [
        ["甲", "城中区", 5],
        ["乙", "城中区", 6],
    ]


def test_a_value_beyond_the_header_is_refused_naming_its_row(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text(f"{HEADER}\n甲,城中区,109.4,24.32,5\n乙,一期,城中区,109.41,24.32,6\n", encoding="utf-8")
    with pytest.raises(
        ValueError,
        match=r"cannot be read as CSV: row 3 has cells beyond its 5 headers; check "
        r"the separators \(a cell holding a comma must be quoted\)",
    ):
        read_raw_layer(path, "communities")


def test_a_header_without_bound_is_refused(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text(f"{HEADER},{'长' * 1001}\n甲,城中区,109.4,24.32,5,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="the header of column 6 is 1,001 characters long, above the 1,000"):
        read_raw_layer(path, "communities")


# --------------------------------------------------------------------------- N8: text without bound


def test_a_cell_longer_than_the_limit_rejects_its_row(tmp_path, districts):
    long_name, longest_name = "长" * (MAX_TEXT_CHARS + 1), "长" * MAX_TEXT_CHARS
    path = write_csv(
        tmp_path / "survey.csv",
        {
            "名称": [long_name, longest_name, "丙"],
            "区县": ["城中区"] * 3,
            "经度": [109.40, 109.41, 109.42],
            "纬度": [24.32] * 3,
            "人口": ["5", "6", "7" * 1500],
            "备注": ["", "", ""],
        },
    )
    result = import_file(path, "communities", districts=districts)
    assert result.accepted["name"].tolist() == [longest_name]
    rejects = result.rejects.set_index("sheet_row")
    assert rejects.loc[2, "reason_code"] == "text_too_long"
    assert rejects.loc[2, "reason_en"] == "text too long: 名称: 1,001 characters, above the limit of 1,000; shorten it"
    assert rejects.loc[2, "reason_zh"] == "文本过长：名称：长 1,001 个字符，超过 1,000 个字符的上限，请缩短"
    assert rejects.loc[2, "名称"] == long_name  # the rejects keep the cell as given
    # A number of 1,500 digits is too long and not a whole number: both said, the value cut in the message.
    assert rejects.loc[4, "reason_code"] == "wrong_type;text_too_long"
    assert "cannot read '" + "7" * 200 + "… (1,500 characters)' as a whole number" in rejects.loc[4, "reason_en"]
    assert len(rejects.loc[4, "reason_en"]) < 600
    assert "missing required" not in rejects.loc[2, "reason_en"]


def test_long_text_in_an_extra_column_or_a_geodata_field_rejects_the_row(tmp_path, districts):
    path = tmp_path / "survey.geojson"
    path.write_text(json.dumps(collection(features=[feature(备注="长" * 5000), feature(备注="短")])), encoding="utf-8")
    result = import_file(path, "communities", districts=districts)
    assert result.rejects["feature"].tolist() == [1] and result.rejects["reason_code"].tolist() == ["text_too_long"]
    assert (
        result.rejects["reason_en"].iloc[0]
        == "text too long: 备注: 5,000 characters, above the limit of 1,000; shorten it"
    )


def test_the_text_of_a_detailed_outline_is_not_a_long_cell(tmp_path, districts):
    angles = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    ring = [(109.40 + 0.003 * np.cos(a), 24.32 + 0.003 * np.sin(a)) for a in angles]
    wkt = Polygon(ring).wkt
    assert len(wkt) > MAX_TEXT_CHARS
    path = tmp_path / "survey.csv"
    path.write_text(f'名称,区县,人口,wkt\n圆,城中区,500,"{wkt}"\n', encoding="utf-8")
    result = import_file(path, "communities", districts=districts)
    assert len(result.accepted) == 1 and result.rejected == 0


def test_text_too_long_has_both_languages():
    assert REASONS["text_too_long"] == ("文本过长", "text too long")


def test_sixty_names_of_a_megabyte_are_rejected_by_the_cli(tmp_path):
    # The re-attack's file, scaled down: 20 names of 1.5 MB (30 MB) were all accepted and carried
    # into every page of the session.
    path = tmp_path / "longnames.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        out.writelines(f"{i:04d}{'长' * 500_000},城中区,{109.40 + 0.001 * i:.4f},24.32,500\n" for i in range(20))
        out.write("短,城中区,109.45,24.32,500\n")
    status, stdout, stderr, _ = cli_import(path, "communities", tmp_path)
    assert status == 0, stderr
    summary = json.loads(stdout)
    assert (summary["accepted"], summary["rejected"]) == (1, 20)
    assert gpd.read_file(tmp_path / "accepted.gpkg", engine="pyogrio")["name"].tolist() == ["短"]


# --------------------------------------------------------------------------- the user's file name in messages


USER_NAME = "C:\\调查\\..\\柳南区\u202egpj.\u0000调查表（第二批）.csv"


def test_warnings_name_the_users_file_not_the_stored_one(tmp_path, districts):
    stored = write_csv(tmp_path / "communities.csv", {**BASE, "备注": ["a", "b"], " 备注": ["c", "d"]})
    result = import_file(stored, "communities", districts=districts, display_name=USER_NAME)
    notes = " ".join(result.warnings)
    assert "communities file 柳南区gpj.调查表（第二批）.csv: columns 6, 7 have the same header" in notes
    assert "communities.csv" not in notes
    assert not any(ch in notes for ch in "\u202e\u0000\\")
    # Without a display name the file's own name is used, as before (the CLI).
    assert "communities file communities.csv" in " ".join(
        import_file(stored, "communities", districts=districts).warnings
    )


@pytest.mark.parametrize(
    "content, expected",
    [
        ("名称,区县\n甲,城中区,多余,多余,多余,多余,多余,多余,多余,多余,多余\n", "cannot be read as CSV"),
        ("", "is empty"),
    ],
)
def test_errors_name_the_users_file_not_the_stored_one(tmp_path, districts, content, expected):
    stored = tmp_path / "communities.csv"
    stored.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        import_file(stored, "communities", districts=districts, display_name="东片区.csv")
    assert "东片区.csv" in str(caught.value) and "communities.csv" not in str(caught.value)
    assert expected in str(caught.value)


def test_a_long_file_name_is_cut_for_messages():
    assert gio.display_file_name("甲" * 300 + ".csv") == "甲" * 120 + "…"
    assert gio.display_file_name("../../") == "?"
