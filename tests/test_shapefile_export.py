"""Tests for the zipped Shapefile export and the CGCS2000 output of geo.render.export: what GIS offices open."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from geo.cli import main
from geo.data.cells import spreadsheet_text
from geo.errors import DataError, said
from geo.render import export
from tests import hostile

ENCODINGS = ("utf-8", "gbk")
GDAL_ENCODING = {"utf-8": "UTF-8", "gbk": "CP936"}


def communities() -> gpd.GeoDataFrame:
    """Three communities: Chinese names, a formula, a missing name, nullable numbers; a square, two parts, none."""
    square = Polygon([(109.40, 24.30), (109.41, 24.30), (109.41, 24.31), (109.40, 24.31)])
    two_parts = MultiPolygon(
        [
            Polygon([(109.42, 24.30), (109.43, 24.30), (109.43, 24.31), (109.42, 24.31)]),
            Polygon([(109.44, 24.30), (109.45, 24.30), (109.45, 24.31)]),
        ]
    )
    return gpd.GeoDataFrame(
        {
            "community_id": pd.Series(["C001", "045203", "C003"], dtype="string"),
            "name": pd.Series(["柳东社区", "=1+2", None], dtype="string"),
            "district_name": pd.Series(["城中区", "鱼峰区", "柳南区"], dtype="string"),
            "eligible": pd.Series([True, False, None], dtype="boolean"),
            "cost_cny": [1234567890.5, np.nan, 0.1 + 0.2],
            "population_newly_served": pd.Series([3500, None, 2], dtype="Int64"),
        },
        geometry=[square, two_parts, None],
        crs="EPSG:4326",
    )


def vsizip(path: Path) -> str:
    members = zipfile.ZipFile(path).namelist()
    return f"/vsizip/{{{path}}}/{next(m for m in members if m.endswith('.shp'))}"


def fields_table(path: Path) -> pd.DataFrame:
    with zipfile.ZipFile(path) as archive:
        member = next(m for m in archive.namelist() if m.endswith("_fields.csv"))
        data = archive.read(member)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    return pd.read_csv(pd.io.common.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_chinese_headers_and_names_round_trip(tmp_path, encoding):
    target = export.export(communities(), tmp_path / "方案 plan.zip", encoding=encoding)
    members = zipfile.ZipFile(target).namelist()
    assert members == [f"plan{s}" for s in (".shp", ".shx", ".dbf", ".prj", ".cpg", "_fields.csv", "_parameters.csv")]
    archive = zipfile.ZipFile(target)
    assert archive.read("plan.cpg") == {"utf-8": b"UTF-8", "gbk": b"936"}[encoding]
    assert archive.read("plan.dbf")[29] == {"utf-8": 0, "gbk": 0x4D}[encoding]  # language driver ID

    read = pyogrio.read_dataframe(vsizip(target), encoding=GDAL_ENCODING[encoding])
    by_geopandas = gpd.read_file(vsizip(target), encoding=GDAL_ENCODING[encoding])
    assert list(read.columns) == list(by_geopandas.columns)
    # A Chinese character takes 3 bytes in UTF-8 (3 fit in 10), 2 in GBK (5 fit).
    expected_names = {
        "utf-8": ["小区编", "名称", "区县", "符合建", "造价_元", "步行范"],
        "gbk": ["小区编号", "名称", "区县", "符合建设条", "造价_元", "步行范围内"],
    }[encoding]
    assert list(read.columns) == expected_names + ["geometry"]
    assert list(fields_table(target).iloc[:, 1]) == [
        "小区编号",
        "名称",
        "区县",
        "符合建设条件",
        "造价（元）",
        "步行范围内新增居民",
    ]
    assert read.iloc[:, 0].tolist() == ["C001", "045203", "C003"]  # a code stays text, leading zero kept
    assert read["名称"].tolist()[:2] == ["柳东社区", "'=1+2"] and pd.isna(read["名称"][2])
    assert read["区县"].tolist() == ["城中区", "鱼峰区", "柳南区"]
    assert read.iloc[:, 3].tolist()[:2] == ["是", "否"] and pd.isna(read.iloc[:, 3][2])
    # Money is exported in whole yuan (issue 13: figures a clerk can hand on), a missing cost stays missing.
    assert read.iloc[:, 4][0] == 1234567890 and np.isnan(read.iloc[:, 4][1]) and read.iloc[:, 4][2] == 0
    assert read.iloc[:, 5].tolist()[0::2] == [3500, 2]
    assert shapely.equals(read.geometry[0], communities().geometry[0]) and read.geometry[2] is None
    assert shapely.equals(read.geometry[1], communities().geometry[1])
    # The package's own reader gives the full headers back.
    full = export.read_shapefile_zip(target, encoding)
    assert list(full.columns) == list(fields_table(target).iloc[:, 1]) + ["geometry"]


def test_english_headers(tmp_path):
    target = export.export(communities(), tmp_path / "plan.zip", lang="en")
    read = export.read_shapefile_zip(target, full_headers=False)
    assert list(read.columns) == ["Community", "Name", "District", "Eligible", "Cost_CNY", "Residents", "geometry"]
    assert read["Eligible"].tolist()[:2] == ["Yes", "No"]


@pytest.mark.parametrize(
    "headers, encoding, names",
    [
        (["社区名称", "社区名字"], "utf-8", ["社区名", "社区_2"]),
        (["社区名称", "社区名字"], "gbk", ["社区名称", "社区名字"]),
        (["社区名称甲", "社区名称乙", "社区名称丙"], "gbk", ["社区名称甲", "社区名称乙", "社区名称丙"]),
        (["社区名称甲乙", "社区名称甲丙"], "gbk", ["社区名称甲", "社区名称_2"]),
        (["Population newly served", "population served"], "utf-8", ["Population", "populati_2"]),
        (["Open space (m²)", "a b", "1st", "", "=x", "_"], "utf-8", ["Open_space", "a_b", "F1st", "F", "x", "F_2"]),
        (["名"] * 12, "utf-8", ["名"] + [f"名_{n}" for n in range(2, 13)]),
        (
            ["名称名称名称"] * 11,
            "gbk",
            ["名称名称名"] + [f"名称名称_{n}" for n in range(2, 10)] + ["名称名_10", "名称名_11"],
        ),
    ],
)
def test_field_names_worked_examples(headers, encoding, names):
    assert export.shapefile_field_names(headers, encoding) == names


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_ten_byte_names_are_unique_and_the_table_is_complete(tmp_path, encoding):
    headers = [
        "社区名称",
        "社区名字",
        "社区名称（旧）",
        "SHEQU",
        "shequ",
        "造价（元）",
        "造价（万元）",
        "Priority score",
        "Priority rank",
        "2020年人口",
        "𠀀字段",  # outside GBK: the short name does without it, the table keeps it
        "{{ 6*7 }}",
        "",
    ]
    frame = gpd.GeoDataFrame(
        {header: [f"值{i}"] for i, header in enumerate(headers)}, geometry=[Point(109.4, 24.3)], crs="EPSG:4326"
    )
    target = export.export(frame, tmp_path / "x.zip", encoding=encoding)
    table = fields_table(target)
    short, full = table.iloc[:, 0].tolist(), table.iloc[:, 1].tolist()
    assert full == [spreadsheet_text(h) for h in headers]  # nothing lost
    assert all(len(name.encode(encoding)) <= 10 for name in short)
    assert len({name.casefold() for name in short}) == len(headers)
    read = pyogrio.read_dataframe(vsizip(target), encoding=GDAL_ENCODING[encoding])
    assert list(read.columns) == short + ["geometry"]
    assert read.iloc[0, : len(headers)].tolist() == [f"值{i}" for i in range(len(headers))]


def test_hostile_text_stays_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fitting = [text for text in hostile.ALL if len(spreadsheet_text(text).encode()) <= 254]
    assert len(fitting) == len(hostile.ALL) - 1  # the 300-character name is too long for a .dbf field
    frame = gpd.GeoDataFrame(
        {
            "name": pd.Series(fitting, dtype="string"),
            **{text: pd.Series(["x"] * len(fitting), dtype="string") for text in hostile.ALL[:12]},
        },
        geometry=[Point(109.4, 24.3)] * len(fitting),
        crs="EPSG:4326",
    )
    for encoding in ENCODINGS:
        target = export.export(frame, tmp_path / f"{{{{ 6*7 }}}}-{encoding}.zip", encoding=encoding)
        assert zipfile.ZipFile(target).namelist()[0] == f"6_7_-{encoding}.shp"
        read = export.read_shapefile_zip(target, encoding)
        # What the CSV holds: formulas defused, invisible characters gone (GBK: no-break space as space).
        expected = [spreadsheet_text(text).rstrip(" ") for text in fitting]
        if encoding == "gbk":
            expected = [text.replace("\u00a0", " ") for text in expected]
        assert read["名称"].tolist() == expected
        assert list(read.columns[1:13]) == [spreadsheet_text(text) for text in hostile.ALL[:12]]
    assert not (tmp_path / hostile.MARKER_NAME).exists()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_text_longer_than_a_field_is_refused_not_cut(tmp_path, encoding):
    frame = communities().assign(name=pd.Series(["柳东社区", "名" * 300, None], dtype="string"))
    with pytest.raises(DataError) as refused:
        export.export(frame, tmp_path / "x.zip", encoding=encoding)
    size = {"utf-8": 900, "gbk": 600}[encoding]
    assert f'column "名称", row 2: the text takes {size} bytes in {encoding.upper()}' in str(refused.value)
    assert "“名称”列第 2 行" in said(refused.value, "zh")
    assert not (tmp_path / "x.zip").exists()


def test_gbk_refuses_a_character_it_cannot_hold(tmp_path):
    frame = communities().assign(name=pd.Series(["柳东社区", "𠀀小区", None], dtype="string"))
    with pytest.raises(DataError) as refused:
        export.export(frame, tmp_path / "x.zip", encoding="gbk")
    assert "row 2: the character '𠀀' (U+20000) cannot be written in GBK; export with UTF-8" in str(refused.value)
    assert not (tmp_path / "x.zip").exists()
    read = export.read_shapefile_zip(export.export(frame, tmp_path / "x.zip"))  # UTF-8 holds it
    assert read["名称"][1] == "𠀀小区"


def test_stems_never_become_paths():
    for text in hostile.ALL + ["CON", "com1", "方案", "../x", "a.b.c"]:
        stem = export.shapefile_stem(Path("folder") / f"{text.replace('/', '_')}.zip")
        assert stem.replace("_", "a").replace("-", "a").isalnum() and stem.isascii() and len(stem) <= 64
    assert export.shapefile_stem("方案.zip") == "plan" and export.shapefile_stem("CON.zip") == "plan"
    assert export.shapefile_stem("plan-2024 v2.zip") == "plan-2024_v2"


def test_several_kinds_of_shape_are_refused(tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[Point(109.4, 24.3), LineString([(109.4, 24.3), (109.5, 24.4)])], crs=4326
    )
    with pytest.raises(DataError, match="one kind of geometry, but this table has LineString, Point"):
        export.export(frame, tmp_path / "x.zip")
    export.export(frame, tmp_path / "x.gpkg")  # a GeoPackage takes both


@pytest.mark.parametrize("suffix", [".zip", ".gpkg"])
def test_cgcs2000_coordinates_are_pyprojs_transformation(tmp_path, suffix):
    frame = communities()
    target = export.export(frame, tmp_path / f"x{suffix}", crs="EPSG:4490")
    read = export.read_shapefile_zip(target) if suffix == ".zip" else export.read_gpkg(target)
    assert read.crs.to_epsg() == 4490
    transformer = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4490", always_xy=True)
    for written, back in zip(frame.geometry, read.geometry):
        if written is None:
            assert back is None
            continue
        lon, lat = shapely.get_coordinates(written).T
        expected = np.column_stack(transformer.transform(lon, lat))
        # The same points, bit for bit (a Shapefile may start or turn a ring otherwise, a GeoPackage make it multi).
        np.testing.assert_array_equal(
            np.unique(shapely.get_coordinates(back), axis=0), np.unique(expected, axis=0), strict=True
        )
        assert shapely.equals(
            back, shapely.transform(written, lambda xy: np.column_stack(transformer.transform(*xy.T)))
        )
    if suffix == ".zip":
        assert "China_2000" in zipfile.ZipFile(target).read("x.prj").decode()


def test_wgs84_is_the_default_and_recorded(tmp_path):
    target = export.export(communities(), tmp_path / "x.zip", parameters={"mode": "rank", "budget": {"city": 1}})
    assert export.read_shapefile_zip(target).crs.to_epsg() == 4326
    assert "GCS_WGS_1984" in zipfile.ZipFile(target).read("x.prj").decode()
    gbk = export.export(communities(), tmp_path / "y.zip", crs="EPSG:4490", encoding="gbk", lang="en")
    # Labelled in the language (issue 13): 坐标系 / Coordinate system, 文字编码 / Text encoding.
    for path, crs, encoding, words in (
        (target, "EPSG:4326", "UTF-8", ("参数", "坐标系", "文字编码")),
        (gbk, "EPSG:4490", "GBK", ("Parameter", "Coordinate system", "Text encoding")),
    ):
        with zipfile.ZipFile(path) as archive:
            data = archive.read(f"{path.stem}_parameters.csv")
        table = pd.read_csv(pd.io.common.BytesIO(data), encoding="utf-8-sig", dtype=str)
        recorded = dict(zip(table.iloc[:, 0], table.iloc[:, 1]))
        assert table.columns[0] == words[0]
        assert crs in recorded[words[1]] and recorded[words[2]] == encoding
    assert dict(zip(table.iloc[:, 0], table.iloc[:, 1])).keys() == {"Coordinate system", "Text encoding"}
    with zipfile.ZipFile(target) as archive:
        assert b'"budget.city",1' in archive.read("x_parameters.csv")


@pytest.mark.parametrize(
    "name, crs, encoding, key",
    [
        ("x.geojson", "EPSG:4490", "utf-8", "export_crs_geojson"),
        ("x.json", "epsg:4490", "utf-8", "export_crs_geojson"),
        ("x.csv", "EPSG:4490", "utf-8", "export_crs_table"),
        ("x.xlsx", "EPSG:4490", "utf-8", "export_crs_table"),
        ("x.gpkg", "EPSG:4326", "gbk", "export_encoding_zip_only"),
        ("x.csv", "EPSG:4326", "gbk", "export_encoding_zip_only"),
        ("x.zip", "EPSG:3857", "utf-8", "export_crs_unknown"),
        ("x.zip", "EPSG:4326", "latin-1", "export_encoding_unknown"),
    ],
)
def test_options_a_format_cannot_take_are_refused(tmp_path, name, crs, encoding, key):
    with pytest.raises(DataError) as refused:
        export.export(communities(), tmp_path / name, parameters={}, crs=crs, encoding=encoding)
    assert refused.value.args[0].key == key
    assert not (tmp_path / name).exists()
    if key == "export_crs_geojson":
        assert "RFC 7946" in str(refused.value) and "GeoJSON 始终为 WGS84" in said(refused.value, "zh")


def test_options_are_normalised():
    assert export.check_export_options("x.zip", "epsg:4490", "UTF8") == ("EPSG:4490", "utf-8")
    assert export.check_export_options("x.ZIP", " EPSG:4326 ", "GBK") == ("EPSG:4326", "gbk")


def test_an_empty_table_writes_an_empty_shapefile(tmp_path):
    target = export.export(communities().iloc[:0], tmp_path / "x.zip")
    assert len(export.read_shapefile_zip(target)) == 0


# --------------------------------------------------------------------------- the command line


def _cells_equal(csv_column: pd.Series, zip_column: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(csv_column.dtype) and pd.api.types.is_numeric_dtype(zip_column.dtype):
        return bool(np.allclose(csv_column, zip_column, rtol=1e-13, atol=0.0, equal_nan=True))
    return (
        csv_column.astype(object).fillna("").astype(str).tolist()
        == zip_column.astype(object).fillna("").astype(str).tolist()
    )


@pytest.mark.parametrize(
    "command, lang",
    [(["eligibility", "--district", "450202"], "zh"), (["plan", "--program", "city"], "en")],
)
def test_cli_zip_reads_back_with_the_rows_of_the_csv(tmp_path, capsys, command, lang):
    csv_path, zip_path = tmp_path / "list.csv", tmp_path / "list.zip"
    assert main([*command, "--lang", lang, "--out", str(csv_path)]) == 0
    options = ["--out-crs", "cgcs2000", "--encoding", "gbk"]
    assert main([*command, "--lang", lang, "--out", str(zip_path), *options]) == 0
    capsys.readouterr()
    table = pd.read_csv(csv_path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    shapes = gpd.read_file(vsizip(zip_path), encoding="CP936")
    assert shapes.crs.to_epsg() == 4490
    fields = fields_table(zip_path)
    shapes = shapes.rename(columns=dict(zip(fields.iloc[:, 0], fields.iloc[:, 1])))
    lonlat = ["经度", "纬度"] if lang == "zh" else ["Longitude", "Latitude"]
    assert list(shapes.columns.drop("geometry")) == [c for c in table.columns if c not in lonlat]
    assert len(shapes) == len(table) > 0
    for column in shapes.columns.drop("geometry"):
        assert _cells_equal(table[column], shapes[column]), column
    # The CSV's longitude/latitude is a point on each shape (CGCS2000 and WGS84 agree to PROJ's null shift).
    points = shapely.points(table[lonlat[0]].to_numpy(), table[lonlat[1]].to_numpy())
    assert (shapely.distance(shapes.geometry.to_numpy(), points) < 1e-6).all()


def test_cli_refuses_cgcs2000_geojson_before_any_work(tmp_path, capsys):
    assert main(["plan", "--out", str(tmp_path / "x.geojson"), "--out-crs", "cgcs2000"]) == 2
    err = capsys.readouterr().err
    assert "GeoJSON is always WGS84" in err and err.count("\n") == 1
    assert main(["eligibility", "--out", str(tmp_path / "x.csv"), "--encoding", "gbk"]) == 2
    assert "only a zipped Shapefile (.zip) takes an encoding" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_our_own_import_reads_the_zip_back(tmp_path, encoding):
    from geo.data.io import read_raw_layer

    raw = read_raw_layer(export.export(communities(), tmp_path / "x.zip", encoding=encoding), "communities")
    assert raw.frame["name"].tolist()[:2] == ["柳东社区", "'=1+2"]
    assert raw.frame["district_name"].tolist() == ["城中区", "鱼峰区", "柳南区"]


def test_a_read_back_that_differs_is_a_bug_not_silence(tmp_path):
    target = export.export(communities(), tmp_path / "x.zip")
    read = export.read_shapefile_zip(target, full_headers=False)
    export._check_read_back(read, read.copy())
    changed = read.copy()
    changed.iloc[0, 1] = "别的名字"
    with pytest.raises(ValueError, match="values of field '名称'"):
        export._check_read_back(read, changed)
    with pytest.raises(ValueError, match="geometries"):
        export._check_read_back(read, read.assign(geometry=read.geometry.translate(1e-9)))
    with pytest.raises(ValueError, match="coordinate system"):
        export._check_read_back(read, read.set_crs("EPSG:4490", allow_override=True))


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_headers_the_shapefile_cut_are_recognised_on_import(tmp_path, encoding):
    """小区编号 is cut to 小区编 (9 bytes) in UTF-8, 可用空地（平方米） to 可用空 (9 bytes): imported again,
    each is still its field, as long as exactly one field's header begins so."""
    from geo.data.io import read_raw_layer

    frame = communities().assign(community_id=["A1", "A2", "A3"], open_space_m2=[10.5, 0.0, 300.0])
    raw = read_raw_layer(export.export(frame, tmp_path / "x.zip", encoding=encoding), "communities")
    assert raw.frame["community_id"].tolist() == ["A1", "A2", "A3"]
    assert raw.frame["open_space_m2"].tolist() == [10, 0, 300]  # whole square metres (issue 13)
