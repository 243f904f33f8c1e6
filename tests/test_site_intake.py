"""Public sites through the same intake as the other layers: Chinese headers and words, every bad row explained."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.data import schema
from geo.data.headers import _header_key, _header_lookup
from geo.data.io import read_public_sites
from geo.intake.importer import import_file, write_accepted

# Three sites in Liuzhou's old centre (WGS84 degrees), and three rows with something wrong.
CSV = """场地编号,场地名称,类型,面积（平方米）,管理单位,产权方意见,备注,经度,纬度
YF-01,文惠口袋公园,口袋公园,450,公园街道办事处,同意,,109.4201,24.3101
YF-02,箭盘山广场,广场,1200,荣军街道办事处,待定,夜间照明不足,109.4301,24.3001
YF-03,立鱼小学操场,学校操场,2000,柳州市立鱼小学,不同意,仅周末开放,109.4101,24.3201
YF-04,某空地,停车场,300,街道办事处,是,,109.4001,24.3301
YF-05,,广场,300,街道办事处,是,,109.4051,24.3051
YF-06,滨江绿道,绿道,-5,柳州市园林局,是,,109.4061,24.3061
"""


@pytest.mark.parametrize(
    "header, field_name",
    [
        ("场地编号", "site_id"),
        ("编号", "site_id"),
        ("场地名称", "name"),
        ("名称", "name"),
        ("类型", "kind"),
        ("场地类型", "kind"),
        ("可用面积", "usable_area_m2"),
        ("面积（平方米）", "usable_area_m2"),
        ("面积(㎡)", "usable_area_m2"),
        ("权属单位", "owner"),
        ("管理单位", "owner"),
        ("是否同意", "consent"),
        ("产权方意见", "consent"),
        ("备注", "notes"),
        ("Site ID", "site_id"),
        ("Owner", "owner"),
        ("经度", "longitude"),
    ],
)
def test_a_district_offices_headers_name_the_site_columns(header, field_name):
    lookup = _header_lookup("public_sites")
    key = _header_key(header)
    assert lookup.get(key, lookup.get(key.replace("(m2)", ""))) == field_name


def test_a_sites_headers_do_not_leak_into_other_layers():
    assert _header_key("类型") not in _header_lookup("districts")
    assert _header_key("面积") not in _header_lookup("communities")


def test_the_alias_table_in_data_readme_lists_every_site_header():
    readme = (Path(__file__).resolve().parents[1] / "data" / "README.md").read_text(encoding="utf-8")
    for field_name, synonyms in schema.LAYER_COLUMN_SYNONYMS["public_sites"].items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `public_sites.{field_name}` |"))
        assert all(synonym in row for synonym in synonyms), field_name


def test_a_chinese_csv_of_sites_imports_with_codes_and_every_bad_row_explained(tmp_path):
    path = tmp_path / "公共场地.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    result = import_file(path, "public_sites", "wgs84")
    assert result.input_rows == 6 and len(result.accepted) == 3
    accepted = result.accepted
    assert accepted["site_id"].tolist() == ["YF-01", "YF-02", "YF-03"]
    assert accepted["kind"].tolist() == ["pocket_park", "square", "school_ground"]
    assert accepted["consent"].tolist() == ["yes", "unknown", "no"]
    assert accepted["usable_area_m2"].tolist() == [450.0, 1200.0, 2000.0]
    assert accepted["owner"].tolist() == ["公园街道办事处", "荣军街道办事处", "柳州市立鱼小学"]
    assert accepted.geometry.iloc[0].equals_exact(Point(109.4201, 24.3101), 1e-9)
    assert result.headers["kind"] == "类型" and result.headers["consent"] == "产权方意见"
    rejects = result.rejects.set_index("sheet_row")["reason_code"].to_dict()
    assert rejects == {5: "invalid_value", 6: "missing_required", 7: "implausible_value"}
    assert "停车场" in result.rejects["reason_zh"].iloc[0]
    # The Chinese reason offers the Chinese words only (the site's synonyms hold English ones too).
    assert "口袋公园" in result.rejects["reason_zh"].iloc[0] and "pocket" not in result.rejects["reason_zh"].iloc[0]
    # Written and read back as the city file's layer.
    out = write_accepted(result, tmp_path / "sites.gpkg")
    back = read_public_sites(out)
    assert back["kind"].tolist() == ["pocket_park", "square", "school_ground"]


def test_a_geopackage_of_polygons_and_points_with_chinese_headers_imports(tmp_path):
    park = box(109.410, 24.310, 109.411, 24.311)
    frame = gpd.GeoDataFrame(
        {
            "编号": ["S1", "S2", "S2"],
            "名称": ["江滨公园", "五一路街角", "重复编号"],
            "场地类型": ["公园", "街角空地", "广场"],
            "可用面积": [800.0, None, 300.0],
            "权属单位": ["柳州市园林局", "城中街道办事处", "城中街道办事处"],
            "是否同意": ["是", "未知", "是"],
        },
        geometry=[park, Point(109.42, 24.32), Point(109.43, 24.33)],
        crs="EPSG:4326",
    )
    path = tmp_path / "场地.gpkg"
    frame.to_file(path, layer="公共场地", driver="GPKG")
    result = import_file(path, "public_sites")
    assert len(result.accepted) == 2 and result.rejected == 1
    assert result.rejects["reason_code"].tolist() == ["duplicate_id"]
    assert result.accepted["kind"].tolist() == ["park", "street_corner"]
    assert set(result.accepted.geom_type) == {"Polygon", "Point"}
    assert pd.isna(result.accepted["usable_area_m2"].iloc[1])
