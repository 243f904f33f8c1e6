"""The survey from end to end: template → a district office fills it in → import → merge → analysis."""

import datetime

import numpy as np
import openpyxl
import pytest

from geo.cli import main
from geo.config import BOUNDARIES_PATH, DEFAULT_DATA_PATH, load_config
from geo.data.crs import wgs84_to_gcj02
from geo.data.io import read_districts, write_layers
from geo.intake.importer import import_file, survey_fitness_paths
from geo.intake.merge import merge_returns
from geo.pipeline import coverage_report, load_city
from geo.plan import run_plan

# Two communities in 城中区 picked on Amap (so GCJ-02), one with a set already, one without.
WGS84_POINTS = [(109.4172, 24.3195), (109.4231, 24.3104)]


@pytest.fixture
def filled_survey(tmp_path):
    path = tmp_path / "survey.xlsx"
    assert main(["template", "--out", str(path)]) == 0
    book = openpyxl.load_workbook(path)
    sheet = book["小区调查"]
    headers = [cell.value for cell in sheet[1]]
    gcj_lon, gcj_lat = wgs84_to_gcj02(*np.array(WGS84_POINTS).T)
    rows = [
        {
            "名称": "示例新村",
            "区县": "城中区",
            "经度": float(gcj_lon[0]),
            "纬度": float(gcj_lat[0]),
            "坐标系": "GCJ-02",
            "占地面积（平方米）": 12000,
            "建成年份": 1992,
            "户数": 300,
            "人口": 820,
            "可用空地（平方米）": 400,
            "公共空间用于停车": "否",
            "已有健身路径（套）": 1,
        },
        {
            "名称": "示例花园",
            "区县": "城中区",
            "经度": float(gcj_lon[1]),
            "纬度": float(gcj_lat[1]),
            "坐标系": "GCJ-02",
            "建成年份": 2008,
            "户数": 500,
            "人口": 1400,
            "可用空地（平方米）": 2000,
            "公共空间用于停车": "否",
            "已有健身路径（套）": 0,
            "申请日期": datetime.date(2019, 3, 1),
        },
    ]
    for r, row in enumerate(rows, start=2):
        for header, value in row.items():
            sheet.cell(row=r, column=headers.index(header) + 1, value=value)
    book.save(path)
    return path


def test_filled_template_imports_with_approximate_footprints(filled_survey):
    result = import_file(filled_survey, "communities")
    assert (result.input_rows, len(result.accepted), result.rejected) == (2, 2, 0)
    accepted = result.accepted
    assert accepted["district_code"].tolist() == ["450202", "450202"]
    assert accepted["geometry_approximate"].tolist() == [True, True]
    # The GCJ-02 coordinates were converted back: each footprint is centred on the WGS84 point.
    centres = accepted.geometry.to_crs("EPSG:32649").centroid.to_crs("EPSG:4326")
    assert np.allclose(np.c_[centres.x, centres.y], WGS84_POINTS, atol=1e-6)
    areas = accepted.geometry.to_crs("EPSG:32649").area.to_numpy()
    assert areas == pytest.approx([12_000, load_config().default_footprint_m2], rel=1e-3)
    paths = survey_fitness_paths(accepted)
    assert len(paths) == 1 and paths["location_approximate"].all()


def test_survey_merged_into_the_sample_is_analysed(filled_survey, tmp_path):
    city = load_city(DEFAULT_DATA_PATH)
    result = import_file(filled_survey, "communities")
    merged = merge_returns(city.communities, {"城中区": result.accepted})
    assert merged.summary()["added"] == 2 and len(merged.communities) == 2502
    paths = survey_fitness_paths(result.accepted)
    target = tmp_path / "city.gpkg"
    import geopandas as gpd
    import pandas as pd

    all_paths = gpd.GeoDataFrame(pd.concat([city.fitness_paths, paths], ignore_index=True), crs="EPSG:4326")
    write_layers(
        target,
        {"districts": read_districts(BOUNDARIES_PATH), "communities": merged.communities, "fitness_paths": all_paths},
    )
    reloaded = load_city(target)
    report = coverage_report(reloaded, 500)
    assert report.total["communities"] == 2502
    new = report.communities[report.communities["name"].isin(["示例新村", "示例花园"])].set_index("name")
    assert bool(new.loc["示例新村", "served_inside"]) and not bool(new.loc["示例花园", "served_inside"])
    plan = run_plan(reloaded.communities, reloaded.fitness_paths, load_config(), ["city"], "rank")
    scored = plan.outcomes[0].scored.set_index("name")
    assert bool(scored.loc["示例花园", "applied"])  # the survey's application date is read
    assert scored.loc["示例花园", "c_application_received"] == 1.0
