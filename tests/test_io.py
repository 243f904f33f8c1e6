"""Tests for geo.data.io: every format reads back the same frame, and bad input fails clearly."""

from __future__ import annotations

import warnings
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.data import archives, headers
from geo.data import io as gio
from geo.data.schema import COMMUNITY_COLUMNS, FITNESS_PATH_COLUMNS

DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}


def typed(columns: dict, schema: dict, geometry, crs="EPSG:4326") -> gpd.GeoDataFrame:
    """A GeoDataFrame with the schema's columns in order and declared dtypes."""
    data = {
        name: pd.Series(columns.get(name, [None] * len(geometry)), dtype=DTYPES[kind]) for name, kind in schema.items()
    }
    return gpd.GeoDataFrame(data, geometry=list(geometry), crs=crs)


def communities_frame() -> gpd.GeoDataFrame:
    """Three communities near Liuzhou: a square, a two-part MultiPolygon, a square with a hole."""
    square = Polygon([(109.40, 24.30), (109.41, 24.30), (109.41, 24.31), (109.40, 24.31)])
    two_parts = MultiPolygon(
        [
            Polygon([(109.42, 24.30), (109.43, 24.30), (109.43, 24.31), (109.42, 24.31)]),
            Polygon([(109.44, 24.30), (109.45, 24.30), (109.45, 24.31)]),
        ]
    )
    holed = Polygon(
        [(109.46, 24.32), (109.48, 24.32), (109.48, 24.34), (109.46, 24.34)],
        [[(109.465, 24.325), (109.47, 24.325), (109.47, 24.33), (109.465, 24.33)]],
    )
    columns = {
        "community_id": ["C001", "C002", "C003"],
        "name": ["柳东社区", "河西社区", "Riverside 小区"],
        "district_code": ["450202", "045203", "450204"],
        "district_name": ["城中区", "鱼峰区", None],
        "built_year": [1995, None, 2010],
        "households": [1200, 800, 45],
        "population": [3500, 2100, 120],
        "share_60plus": [0.18, 0.25, np.nan],
        "share_under14": [0.12, 0.1, 0.2],
        "open_space_m2": [350.5, 0.0, 1200.25],
        "public_space_used_for_parking": [True, False, None],
        "sports_land_planned": [False, True, True],
    }
    return typed(columns, COMMUNITY_COLUMNS, [square, two_parts, holed])


def fitness_paths_frame() -> gpd.GeoDataFrame:
    """Three fitness-path sets as points, with Chinese names and missing values."""
    columns = {
        "path_id": ["P01", "P02", "P03"],
        "name": ["江滨公园健身路径", "龙潭公园", None],
        "install_year": [2015, None, 2021],
        "n_pieces": [8, 10, 6],
        "condition": ["good", "fair", None],
        "funding_source": ["lottery", "city", "region"],
    }
    points = [Point(109.4123456, 24.3256789), Point(109.4501, 24.2987), Point(109.38, 24.35)]
    return typed(columns, FITNESS_PATH_COLUMNS, points)


# --------------------------------------------------------------------------- writers


def write_gpkg(frame, path, layer):
    frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path


def write_geojson(frame, path):
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def write_shapefile_zip(frame, folder, name="layer", encoding=None, cpg=True, prefix=""):
    """Write a shapefile into ``folder`` and zip its parts (under ``prefix``); return the zip."""
    shp_dir = folder / f"{name}_parts"
    shp_dir.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL warns about names cut to 10 characters
        frame.to_file(
            shp_dir / f"{name}.shp",
            driver="ESRI Shapefile",
            engine="pyogrio",
            **({"encoding": encoding} if encoding else {}),
        )
    zip_path = folder / f"{name}.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for part in sorted(shp_dir.iterdir()):
            if part.suffix == ".cpg" and not cpg:
                continue
            archive.write(part, prefix + part.name)
    return zip_path


def to_csv_table(frame) -> pd.DataFrame:
    return pd.DataFrame(frame.drop(columns="geometry"))


def write_csv_wkt(frame, path, column="wkt"):
    table = to_csv_table(frame)
    table[column] = shapely.to_wkt(frame.geometry.to_numpy(), rounding_precision=-1)
    table.to_csv(path, index=False, encoding="utf-8")
    return path


def write_csv_lonlat(frame, path, lon="longitude", lat="latitude", encoding="utf-8"):
    table = to_csv_table(frame)
    table[lon] = frame.geometry.x.to_numpy()
    table[lat] = frame.geometry.y.to_numpy()
    table.to_csv(path, index=False, encoding=encoding)
    return path


# --------------------------------------------------------------------------- round trips

COMMUNITY_FORMATS = ["gpkg", "geojson", "shapefile_zip", "csv_wkt", "csv_geometry_bom"]


@pytest.mark.parametrize("file_format", COMMUNITY_FORMATS)
def test_communities_round_trip(tmp_path, file_format):
    expected = communities_frame()
    if file_format == "gpkg":
        path = write_gpkg(expected, tmp_path / "c.gpkg", "communities")
    elif file_format == "geojson":
        path = write_geojson(expected, tmp_path / "c.geojson")
    elif file_format == "shapefile_zip":
        path = write_shapefile_zip(expected, tmp_path)
    elif file_format == "csv_wkt":
        path = write_csv_wkt(expected, tmp_path / "c.csv")
    else:
        path = tmp_path / "c.csv"
        table = to_csv_table(expected)
        table["Geometry"] = expected.geometry.to_wkt(rounding_precision=-1)
        table.to_csv(path, index=False, encoding="utf-8-sig")

    result = gio.read_communities(path)

    # GeoPackage stores one geometry type per layer, so its Polygons come back as one-part
    # MultiPolygons: equal as shapes, hence check_geom_type=False (the default).
    assert_geodataframe_equal(result, expected, check_geom_type=False)
    assert isinstance(result.index, pd.RangeIndex)
    assert result.loc[1, "district_code"] == "045203"


FITNESS_FORMATS = [
    "gpkg",
    "geojson",
    "shapefile_zip",
    "csv_longitude",
    "csv_lon",
    "csv_lng",
    "csv_xy",
    "csv_chinese",
    "csv_mixed_case",
    "csv_bom",
    "csv_gbk",
]


@pytest.mark.parametrize("file_format", FITNESS_FORMATS)
def test_fitness_paths_round_trip(tmp_path, file_format):
    expected = fitness_paths_frame()
    headers = {
        "csv_longitude": ("longitude", "latitude"),
        "csv_lon": ("lon", "lat"),
        "csv_lng": ("lng", "lat"),
        "csv_xy": ("x", "y"),
        "csv_chinese": ("经度", "纬度"),
        "csv_mixed_case": ("Longitude", "LAT"),
    }
    if file_format == "gpkg":
        path = write_gpkg(expected, tmp_path / "p.gpkg", "fitness_paths")
    elif file_format == "geojson":
        path = write_geojson(expected, tmp_path / "p.geojson")
    elif file_format == "shapefile_zip":
        path = write_shapefile_zip(expected, tmp_path)
    elif file_format in headers:
        path = write_csv_lonlat(expected, tmp_path / "p.csv", *headers[file_format])
    elif file_format == "csv_bom":
        path = write_csv_lonlat(expected, tmp_path / "p.csv", encoding="utf-8-sig")
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    else:
        path = write_csv_lonlat(expected, tmp_path / "p.csv", "经度", "纬度", encoding="gbk")
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")

    result = gio.read_fitness_paths(path)

    assert_geodataframe_equal(result, expected, check_less_precise=False)
    np.testing.assert_array_equal(result.geometry.x, expected.geometry.x)


def test_shapefile_truncated_names_map_back_to_schema(tmp_path):
    path = write_shapefile_zip(communities_frame(), tmp_path)
    with zipfile.ZipFile(path) as archive:
        dbf = archive.read("layer.dbf")
    assert b"district_c" in dbf and b"district_code" not in dbf  # really truncated on disk
    assert list(gio.read_communities(path).columns) == [*COMMUNITY_COLUMNS, "geometry"]


def test_gdal_field_name_laundering_rule():
    names = headers._shapefile_field_names(["district_code", "district_name", "district_name_en", "kind"])
    assert names == {
        "district_code": "district_c",
        "district_name": "district_n",
        "district_name_en": "district_1",
        "kind": "kind",
    }


def test_districts_from_shapefile_resolve_clashing_truncated_names(tmp_path):
    districts = gpd.GeoDataFrame(
        {
            "district_code": pd.array(["450202"], dtype="string"),
            "district_name": pd.array(["城中区"], dtype="string"),
            "district_name_en": pd.array(["Chengzhong"], dtype="string"),
            "kind": pd.array(["district"], dtype="string"),
        },
        geometry=[Polygon([(109.4, 24.3), (109.5, 24.3), (109.5, 24.4)])],
        crs="EPSG:4326",
    )
    assert_geodataframe_equal(gio.read_districts(write_shapefile_zip(districts, tmp_path)), districts)


@pytest.mark.parametrize("cpg", [True, False])
def test_shapefile_in_gbk_with_and_without_cpg(tmp_path, cpg):
    expected = fitness_paths_frame()
    path = write_shapefile_zip(expected, tmp_path, encoding="GBK", cpg=cpg, prefix="folder/")
    with zipfile.ZipFile(path) as archive:
        assert "江滨".encode("gbk") in archive.read("folder/layer.dbf")
    assert_geodataframe_equal(gio.read_fitness_paths(path), expected)


def test_cpg_names():
    assert archives._cpg_encoding(b"UTF-8\n") == "utf-8"
    assert archives._cpg_encoding(b"936") == "gb18030"
    assert archives._cpg_encoding(b"ANSI 936") == "gb18030"
    assert archives._cpg_encoding(b"GB2312") == "gb18030"
    assert archives._cpg_encoding(b"65001") == "utf-8"
    assert archives._cpg_encoding(b"no-such-codepage") is None


def test_extra_columns_kept_after_schema_and_optional_columns_added(tmp_path):
    frame = fitness_paths_frame()[["path_id", "geometry"]].copy()
    frame.insert(0, "remark", ["a", "b", "c"])
    path = write_csv_lonlat(frame, tmp_path / "p.csv")
    result = gio.read_fitness_paths(path)
    assert list(result.columns) == [*FITNESS_PATH_COLUMNS, "remark", "geometry"]
    assert result["n_pieces"].dtype == "Int64" and result["n_pieces"].isna().all()
    assert result["condition"].dtype == "string" and result["condition"].isna().all()
    assert result["remark"].tolist() == ["a", "b", "c"]


def test_bool_words_and_numbers_from_csv(tmp_path):
    words = ["true", "FALSE", "1", "0", "Yes", "no", "Y", "n", "是", "否", ""]
    expected = [True, False, True, False, True, False, True, False, True, False, pd.NA]
    table = pd.DataFrame(
        {
            "community_id": [f"C{i}" for i in range(len(words))],
            "name": "x",
            "district_code": "450202",
            "population": "10",
            "sports_land_planned": words,
            "share_60plus": " 0.5 ",
            "households": "1e3",
            "wkt": "POLYGON ((0 0, 1 0, 1 1, 0 0))",
        }
    )
    table.to_csv(tmp_path / "c.csv", index=False)
    result = gio.read_communities(tmp_path / "c.csv")
    assert result["sports_land_planned"].tolist() == expected
    assert (result["share_60plus"] == 0.5).all()
    assert (result["households"] == 1000).all()


# --------------------------------------------------------------------------- errors


def test_missing_required_column_is_named(tmp_path):
    frame = communities_frame().drop(columns="population")
    path = write_csv_wkt(frame, tmp_path / "c.csv")
    with pytest.raises(ValueError, match="missing required column 'population'") as error:
        gio.read_communities(path)
    assert "columns present: community_id, name, district_code" in str(error.value)


def test_non_numeric_population_names_column_row_and_value(tmp_path):
    frame = communities_frame()
    path = write_csv_wkt(frame, tmp_path / "c.csv")
    table = pd.read_csv(path, dtype=str)
    table.loc[1, "population"] = "many"
    table.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"column 'population', data row 2 .*'many'"):
        gio.read_communities(path)


def test_fractional_integer_is_rejected(tmp_path):
    table = pd.DataFrame(
        {"path_id": ["P1", "P2"], "n_pieces": ["8", "2.5"], "lon": [109.4, 109.5], "lat": [24.3, 24.4]}
    )
    table.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(ValueError, match=r"column 'n_pieces', data row 2 .*'2.5'.*whole number"):
        gio.read_fitness_paths(tmp_path / "p.csv")


def test_bad_bool_and_bad_coordinate_are_named(tmp_path):
    frame = communities_frame()
    path = write_csv_wkt(frame, tmp_path / "c.csv")
    table = pd.read_csv(path, dtype=str)
    table.loc[2, "sports_land_planned"] = "maybe"
    table.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"'sports_land_planned', data row 3 .*'maybe'"):
        gio.read_communities(path)

    points = pd.DataFrame({"path_id": ["P1", "P2"], "lon": ["109.4", "east"], "lat": ["24.3", "24.4"]})
    points.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(ValueError, match=r"column 'lon', data row 2 .*'east'"):
        gio.read_fitness_paths(tmp_path / "p.csv")


def test_bad_wkt_is_named(tmp_path):
    frame = communities_frame()
    path = write_csv_wkt(frame, tmp_path / "c.csv")
    table = pd.read_csv(path, dtype=str)
    table.loc[0, "wkt"] = "POLYGON ((0 0, 1"
    table.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"column 'wkt', data row 1 .*WKT"):
        gio.read_communities(path)


def test_wrong_geometry_type_names_the_row(tmp_path):
    frame = communities_frame()
    frame.loc[1, "geometry"] = Point(109.42, 24.30)
    path = write_csv_wkt(frame, tmp_path / "c.csv")
    with pytest.raises(
        ValueError, match=r"data row 2 \(1-based\) has a Point, but communities must be Polygon or MultiPolygon"
    ):
        gio.read_communities(path)

    paths = fitness_paths_frame().set_geometry(communities_frame().geometry)
    with pytest.raises(ValueError, match=r"data row 1 .* a Polygon, but fitness_paths must be Point"):
        gio.read_fitness_paths(write_geojson(paths, tmp_path / "p.geojson"))


def test_missing_geometry_in_one_row_and_in_all_rows(tmp_path):
    table = pd.DataFrame({"path_id": ["P1", "P2"], "lon": ["109.4", ""], "lat": ["24.3", "24.4"]})
    table.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(ValueError, match=r"data row 2 .* no geometry"):
        gio.read_fitness_paths(tmp_path / "p.csv")

    table["lon"] = ""
    table.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(ValueError, match="has no geometries"):
        gio.read_fitness_paths(tmp_path / "p.csv")

    pd.DataFrame({"path_id": ["P1"], "address": ["x"]}).to_csv(tmp_path / "q.csv", index=False)
    with pytest.raises(
        ValueError, match=r"has no geometry: add longitude and latitude.*columns present: path_id, address"
    ):
        gio.read_fitness_paths(tmp_path / "q.csv")


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("paths.kml", b'<?xml version="1.0"?><kml></kml>', "not in a supported format"),
        ("paths.xls", b"\xd0\xcf\x11\xe0\x00\x00binary", "not in a supported format"),
        ("paths.shp", b"\x00\x00\x27\x0a" + b"\x00" * 96, "bare Shapefile"),
        ("paths.gpkg", b"not a database", "extension .gpkg but its content is not gpkg"),
        ("paths.json", b"[1, 2]", "extension .json but its content is not geojson"),
        ("paths.csv", b"", "is empty"),
    ],
)
def test_unknown_format_is_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        gio.read_fitness_paths(path)
    if "empty" not in message:
        assert "supported formats: GeoPackage" in str(error.value)


def test_zip_without_or_with_several_shapefiles(tmp_path):
    with zipfile.ZipFile(tmp_path / "book.zip", "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ValueError, match=r"zip without a .shp file \(it holds: xl/workbook.xml\)"):
        gio.read_fitness_paths(tmp_path / "book.zip")

    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        for name in ("a.shp", "a.dbf", "a.shx", "b.shp", "b.dbf", "b.shx"):
            archive.writestr(name, b"")
    with pytest.raises(ValueError, match=r"holds 2 shapefiles \(a.shp, b.shp\)"):
        gio.read_fitness_paths(tmp_path / "two.zip")

    with zipfile.ZipFile(tmp_path / "lonely.zip", "w") as archive:
        archive.writestr("a.shp", b"")
        archive.writestr("a.shx", b"")
    with pytest.raises(ValueError, match=r"lacks its .dbf"):
        gio.read_fitness_paths(tmp_path / "lonely.zip")


def test_unknown_kind_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="unknown layer kind 'parks'"):
        gio.read_layer(tmp_path / "x.csv", "parks")
    with pytest.raises(FileNotFoundError):
        gio.read_layer(tmp_path / "x.csv", "fitness_paths")


# --------------------------------------------------------------------------- GeoPackage layers


def test_write_layers_and_choose_layer_by_kind(tmp_path):
    path = tmp_path / "sample.gpkg"
    path.write_bytes(b"an old file to be replaced")
    communities, paths = communities_frame(), fitness_paths_frame()
    gio.write_layers(path, {"communities": communities, "fitness_paths": paths, "notes": paths.head(1)})

    assert_geodataframe_equal(gio.read_fitness_paths(path), paths)
    assert_geodataframe_equal(gio.read_communities(path), communities)
    assert_geodataframe_equal(gio.read_fitness_paths(path, layer="notes"), paths.head(1))
    assert [p.name for p in tmp_path.iterdir()] == ["sample.gpkg"]  # no staging left behind


def test_several_layers_none_matching_lists_them(tmp_path):
    path = tmp_path / "other.gpkg"
    gio.write_layers(path, {"parks": fitness_paths_frame(), "schools": fitness_paths_frame()})
    with pytest.raises(ValueError, match=r"2 layers and none is named 'fitness_paths'.*parks, schools"):
        gio.read_fitness_paths(path)
    with pytest.raises(ValueError, match="no layer 'roads'; its layers are: parks, schools"):
        gio.read_fitness_paths(path, layer="roads")


def test_only_layer_is_read_whatever_its_name(tmp_path):
    path = write_gpkg(fitness_paths_frame(), tmp_path / "p.gpkg", "健身路径")
    assert_geodataframe_equal(gio.read_fitness_paths(path), fitness_paths_frame())


def test_write_layers_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no layers"):
        gio.write_layers(tmp_path / "x.gpkg", {})
    with pytest.raises(ValueError, match="'t' is a list, not a"):
        gio.write_layers(tmp_path / "x.gpkg", {"t": [1, 2]})


def test_applications_table_round_trip_and_csv(tmp_path):
    table = pd.DataFrame(
        {"community_id": ["450202-0001", "450203-0002"], "application_date": ["2018-09-01", "2019-01-15"]}
    )
    path = tmp_path / "a.gpkg"
    gio.write_layers(path, {"applications": table})
    read = gio.read_applications(path)
    assert read["community_id"].tolist() == ["450202-0001", "450203-0002"]
    assert read["application_date"].tolist() == [pd.Timestamp("2018-09-01"), pd.Timestamp("2019-01-15")]
    csv = tmp_path / "a.csv"
    csv.write_bytes("小区编号,申请日期\n450202-0001,2018/9/1\n".encode("gbk"))
    assert gio.read_applications(csv)["application_date"].iloc[0] == pd.Timestamp("2018-09-01")
    csv.write_text("community_id,application_date\n450202-0001,soon\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 1.*'soon'"):
        gio.read_applications(csv)


# --------------------------------------------------------------------------- CRS


@pytest.mark.parametrize("file_format", ["gpkg", "shapefile_zip"])
def test_file_in_utm_is_reprojected(tmp_path, file_format):
    expected = fitness_paths_frame()
    utm = expected.to_crs("EPSG:32649")
    if file_format == "gpkg":
        path = write_gpkg(utm, tmp_path / "p.gpkg", "fitness_paths")
    else:
        path = write_shapefile_zip(utm, tmp_path)

    result = gio.read_fitness_paths(path)

    assert result.crs == "EPSG:4326"
    np.testing.assert_allclose(result.geometry.x, expected.geometry.x, rtol=0, atol=1e-7)
    np.testing.assert_allclose(result.geometry.y, expected.geometry.y, rtol=0, atol=1e-7)
    pd.testing.assert_frame_equal(
        pd.DataFrame(result.drop(columns="geometry")), pd.DataFrame(expected.drop(columns="geometry"))
    )


def test_csv_in_utm_with_declared_epsg(tmp_path):
    expected = fitness_paths_frame()
    path = write_csv_lonlat(expected.to_crs("EPSG:32649"), tmp_path / "p.csv", "x", "y")
    result = gio.read_fitness_paths(path, source_crs="EPSG:32649")
    np.testing.assert_allclose(result.geometry.x, expected.geometry.x, rtol=0, atol=1e-7)
    np.testing.assert_allclose(result.geometry.y, expected.geometry.y, rtol=0, atol=1e-7)


def test_source_crs_gcj02_and_bd09_shift_to_wgs84(tmp_path):
    from geo.data.crs import bd09_to_wgs84, gcj02_to_wgs84

    frame = fitness_paths_frame()
    path = write_csv_lonlat(frame, tmp_path / "p.csv")
    lon, lat = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()

    result = gio.read_fitness_paths(path, source_crs="gcj02")
    want_lon, want_lat = gcj02_to_wgs84(lon, lat)
    np.testing.assert_allclose(result.geometry.x, want_lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.geometry.y, want_lat, rtol=0, atol=1e-12)
    # In Liuzhou GCJ-02 lies roughly 0.005° east and 0.003° south of WGS84 (a few hundred metres).
    assert np.all((lon - result.geometry.x > 0.004) & (lon - result.geometry.x < 0.007))
    assert np.all((result.geometry.y - lat > 0.001) & (result.geometry.y - lat < 0.005))
    assert result.crs == "EPSG:4326"

    result = gio.read_fitness_paths(path, source_crs="百度")
    want_lon, want_lat = bd09_to_wgs84(lon, lat)
    np.testing.assert_allclose(result.geometry.x, want_lon, rtol=0, atol=1e-12)


def test_gcj02_declared_for_geojson_labelled_wgs84_is_applied(tmp_path):
    from geo.data.crs import gcj02_to_wgs84

    communities = communities_frame()
    result = gio.read_communities(write_geojson(communities, tmp_path / "c.geojson"), source_crs="GCJ-02")
    ring = np.asarray(communities.geometry[0].exterior.coords)
    want = np.column_stack(gcj02_to_wgs84(ring[:, 0], ring[:, 1]))
    np.testing.assert_allclose(np.asarray(result.geometry[0].exterior.coords), want, rtol=0, atol=1e-12)
    assert len(result.geometry[2].interiors) == 1


def test_file_crs_wins_over_declared_gcj02(tmp_path):
    expected = fitness_paths_frame()
    path = write_gpkg(expected.to_crs("EPSG:32649"), tmp_path / "p.gpkg", "fitness_paths")
    result = gio.read_fitness_paths(path, source_crs="gcj02")
    np.testing.assert_allclose(result.geometry.x, expected.geometry.x, rtol=0, atol=1e-7)


def test_unknown_source_crs_is_an_error(tmp_path):
    path = write_csv_lonlat(fitness_paths_frame(), tmp_path / "p.csv")
    with pytest.raises(ValueError, match="unknown coordinate system 'mercator-ish'"):
        gio.read_fitness_paths(path, source_crs="mercator-ish")


def test_empty_fitness_path_layer_is_a_city_with_no_sets(tmp_path):
    """A city may have no fitness paths yet; communities, though, must not be empty."""
    empty = gpd.GeoDataFrame({"path_id": pd.Series([], dtype="string")}, geometry=[], crs="EPSG:4326")
    path = tmp_path / "empty.gpkg"
    empty.to_file(path, layer="fitness_paths", driver="GPKG")
    paths = gio.read_fitness_paths(path)
    assert len(paths) == 0 and "install_year" in paths.columns and paths.crs == "EPSG:4326"
    empty_communities = gpd.GeoDataFrame({"community_id": pd.Series([], dtype="string")}, geometry=[], crs="EPSG:4326")
    empty_communities.to_file(path, layer="communities", driver="GPKG")
    with pytest.raises(ValueError, match="no features"):
        gio.read_communities(path, layer="communities")


# --------------------------------------------------------------------------- lenient reading for import


def test_raw_csv_recognises_template_and_export_headers(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "小区名称,所属区县,常住人口,老年人占比,可用空地(平方米),经度,纬度,占地面积（平方米）,备注\n"
        "柳东小区,城中区,1200,0.2,300,109.458,24.3704,20000,东门\n",
        encoding="utf-8",
    )
    raw = gio.read_raw_layer(path, "communities")
    assert raw.headers == {
        "name": "小区名称",
        "district_name": "所属区县",
        "population": "常住人口",
        "share_60plus": "老年人占比",
        "open_space_m2": "可用空地(平方米)",
        "longitude": "经度",
        "latitude": "纬度",
        "land_area_m2": "占地面积（平方米）",
    }
    assert list(raw.frame.columns[: len(COMMUNITY_COLUMNS)]) == list(COMMUNITY_COLUMNS)
    assert raw.frame["population"].dtype == "Int64" and raw.frame["land_area_m2"].iloc[0] == 20000.0
    assert raw.frame["备注"].iloc[0] == "东门" and raw.frame.crs is None
    assert raw.frame.geometry.iloc[0].equals(Point(109.458, 24.3704))
    assert raw.original.columns[0] == "小区名称" and raw.problems == ()

    english = tmp_path / "e.csv"
    english.write_text(
        "Community ID,Name,District,Share aged 60+,Open space (m²),Longitude,Latitude\nC1,x,城中区,0.2,5,109.4,24.3\n",
        encoding="utf-8",
    )
    assert set(gio.read_raw_layer(english, "communities").headers) == {
        "community_id",
        "name",
        "district_name",
        "share_60plus",
        "open_space_m2",
        "longitude",
        "latitude",
    }


def test_raw_csv_keeps_every_row_with_its_spreadsheet_number(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "健身路径编号,器材件数,经度,纬度\nP1,8,109.4,24.3\n\n,,,\nP2,很多,东经,24.4\nP3,2.5,109.5,\n", encoding="utf-8"
    )
    raw = gio.read_raw_layer(path, "fitness_paths")
    assert raw.row_kind == "sheet_row" and raw.row_numbers.tolist() == [2, 5, 6]
    problems = {(p.column, p.expected): p.bad.tolist() for p in raw.problems}
    assert problems == {("n_pieces", "int"): [False, True, True], ("longitude", "float"): [False, True, False]}
    assert raw.frame.geometry.isna().tolist() == [False, True, True]
    assert raw.geometry_columns == ("longitude", "latitude")


def test_raw_csv_without_coordinates_notes_it_and_without_known_columns_fails(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("健身路径编号,地址\nP1,江滨路\n", encoding="utf-8")
    raw = gio.read_raw_layer(path, "fitness_paths")
    assert raw.frame.geometry.isna().all() and "no longitude/latitude" in raw.notes[0]
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no recognisable column"):
        gio.read_raw_layer(path, "fitness_paths")


def test_raw_xlsx_prefers_the_template_sheet_and_finds_its_header_row(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "旧表"
    book.active.append(["小区编号", "名称", "人口"])
    book.active.append(["OLD", "旧", 1])
    sheet = book.create_sheet("小区调查")
    sheet.append(["2018 年调查"])
    sheet.append(["小区编号", "名称", "人口", "建成年份", "经度", "纬度", "申请日期", "说明"])
    sheet.append(
        ["C1", "柳东", 1200, 1995.0, 109.4123456, 24.3256789, pd.Timestamp("2018-09-01").to_pydatetime(), "=不是公式"]
    )
    sheet.append([None] * 8)
    sheet.append(["C2", "河西", "=A3*2", 2005, 109.5, 24.3, "2019/1/15", None])
    sheet["H3"].data_type = "s"  # typed as text in Excel: a string, not a formula
    book.save(tmp_path / "survey.xlsx")

    raw = gio.read_raw_layer(tmp_path / "survey.xlsx", "communities")
    assert raw.file_format == "xlsx" and raw.row_numbers.tolist() == [3, 5]
    assert raw.frame["community_id"].tolist() == ["C1", "C2"]
    assert raw.frame["built_year"].tolist() == [1995, 2005]
    assert raw.frame["application_date"].tolist() == [pd.Timestamp("2018-09-01"), pd.Timestamp("2019-01-15")]
    assert raw.frame.geometry.iloc[0].equals(Point(109.4123456, 24.3256789))
    assert raw.frame["说明"].tolist()[0] == "=不是公式"
    [formula] = raw.problems
    assert (formula.column, formula.expected, formula.bad.tolist()) == ("population", "formula", [False, True])
    assert pd.isna(raw.frame["population"].iloc[1])  # never evaluated


def test_raw_xlsx_without_recognisable_sheet_fails(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["甲", "乙"])
    book.save(tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match=r"no sheet has recognisable column headers .*sheets: Sheet"):
        gio.read_raw_layer(tmp_path / "x.xlsx", "communities")


def test_raw_kml_drops_display_fields(tmp_path):
    path = tmp_path / "p.kml"
    fitness_paths_frame().to_file(path, driver="KML", engine="pyogrio")
    raw = gio.read_raw_layer(path, "fitness_paths")
    assert raw.file_format == "kml" and raw.row_kind == "feature" and raw.row_numbers.tolist() == [1, 2, 3]
    assert raw.headers["name"] == "Name"
    assert list(raw.frame.columns) == [*FITNESS_PATH_COLUMNS, "geometry"]
    assert raw.frame["name"].tolist()[:2] == ["江滨公园健身路径", "龙潭公园"]
    assert list(raw.original.columns) == ["Name", *[c for c in FITNESS_PATH_COLUMNS if c != "name"], "wkt"]


def test_raw_shapefile_maps_truncated_intake_names(tmp_path):
    frame = fitness_paths_frame()[["path_id", "geometry"]].copy()
    frame["install_year"] = [2015, 2016, 2017]
    communities = communities_frame().assign(
        land_area_m2=[1.0, 2.0, 3.0], application_date=["2018-09-01", None, "2019-01-01"]
    )
    raw = gio.read_raw_layer(write_shapefile_zip(communities, tmp_path), "communities")
    assert raw.headers["land_area_m2"] == "land_area_" and raw.headers["application_date"] == "applicatio"
    assert raw.frame["land_area_m2"].tolist() == [1.0, 2.0, 3.0]
    assert raw.file_crs == "EPSG:4326"


@pytest.mark.parametrize(
    "members, message",
    [
        ({"../evil.shp": b"x"}, r"leaves the archive's folder \('../evil.shp'"),
        ({"/etc/evil.shp": b"x"}, r"leaves the archive's folder \('/etc/evil.shp'"),
        ({"C:/evil.shp": b"x"}, "leaves the archive's folder"),
        ({"a/../../evil.shp": b"x"}, "leaves the archive's folder"),
        ({"layer.dbf": b"\0" * (4 << 20)}, r"times its compressed size \(limit 100×\)"),
    ],
)
@pytest.mark.parametrize("reader", [gio.read_raw_layer, gio.read_layer], ids=["import", "strict"])
def test_unsafe_zip_is_refused_before_unpacking(tmp_path, members, message, reader):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(ValueError, match=message):
        reader(path, "fitness_paths")


def test_size_limits_are_checked_before_reading(tmp_path):
    path = write_shapefile_zip(fitness_paths_frame(), tmp_path)
    with pytest.raises(ValueError, match=r"above the limit of 0.0001 MB \(config.toml \[intake\] max_unzipped_mb\)"):
        gio.read_raw_layer(path, "fitness_paths", max_unzipped_mb=0.0001)
    with pytest.raises(ValueError, match=r"above the upload limit of 0.0001 MB"):
        gio.read_raw_layer(path, "fitness_paths", max_upload_mb=0.0001)
    assert len(gio.read_raw_layer(path, "fitness_paths", max_upload_mb=1, max_unzipped_mb=1).frame) == 3


def test_import_formats_are_sniffed_from_content(tmp_path):
    import openpyxl

    workbook = tmp_path / "data.csv"  # an Excel workbook whatever its name says
    book = openpyxl.Workbook()
    book.active.append(["健身路径编号", "经度", "纬度"])
    book.active.append(["P1", 109.4, 24.3])
    book.save(workbook)
    raw = gio.read_raw_layer(workbook, "fitness_paths")
    assert raw.file_format == "xlsx" and raw.frame["path_id"].tolist() == ["P1"]
    assert raw.notes == ("data.csv has the extension .csv but holds an Excel workbook; read as an Excel workbook",)

    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(ValueError, match=r"old-style Excel .xls"):
        gio.read_raw_layer(tmp_path / "old.xls", "fitness_paths")
    # read_layer, the pipeline's strict reader, still reads only its four formats
    kml = tmp_path / "p.kml"
    fitness_paths_frame().to_file(kml, driver="KML", engine="pyogrio")
    with pytest.raises(ValueError, match="not in a supported format"):
        gio.read_fitness_paths(kml)
