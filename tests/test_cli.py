"""The command line gives the library's numbers, and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from geo.cli import main
from geo.config import DEFAULT_DATA_PATH, load_config
from geo.pipeline import coverage_report, load_city

REPO = DEFAULT_DATA_PATH.parent.parent


@pytest.fixture(scope="module")
def report():
    return coverage_report(load_city(DEFAULT_DATA_PATH), load_config().walk_radius_m)


def test_coverage_json_matches_the_pipeline(capsys, report):
    assert main(["coverage", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["walk_radius_m"] == 500
    assert [row["district_code"] for row in out["districts"]] == report.by_district["district_code"].tolist()
    first = out["districts"][0]
    assert set(first) == {
        "district_code", "district_name", "communities", "served_inside", "served_within_radius",
        "population", "population_served_inside", "population_served_within_radius",
    }
    for row, (_, expected) in zip(out["districts"], report.by_district.iterrows()):
        assert row["communities"] == expected["communities"]
        assert row["served_within_radius"] == expected["served_within_radius"]
        assert row["population_served_inside"] == expected["population_served_inside"]
    assert out["total"]["communities"] == 2500
    assert out["total"]["served_inside"] == sum(r["served_inside"] for r in out["districts"])


def test_a_larger_radius_serves_at_least_as_many(capsys):
    main(["coverage", "--json", "--radius", "200"])
    small = json.loads(capsys.readouterr().out)["total"]
    main(["coverage", "--json", "--radius", "1000"])
    large = json.loads(capsys.readouterr().out)["total"]
    assert small["served_inside"] == large["served_inside"]
    assert small["served_within_radius"] < large["served_within_radius"]


def test_text_table_in_chinese_and_english(capsys):
    main(["coverage"])
    zh = capsys.readouterr().out
    assert "城中区" in zh and "全市合计" in zh and "小区数" in zh
    main(["coverage", "--lang", "en"])
    en = capsys.readouterr().out
    assert "City total" in en and "Communities" in en


def test_missing_data_file_is_one_line_exit_2():
    run = subprocess.run(
        [sys.executable, "-m", "geo", "coverage", "--data", "no/such.gpkg"], cwd=REPO, capture_output=True, text=True
    )
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "not found" in run.stderr
    assert "Traceback" not in run.stderr


def test_negative_radius_is_refused(capsys):
    assert main(["coverage", "--radius", "-5"]) == 2
    assert "radius" in capsys.readouterr().err


def test_sample_command_writes_a_city(tmp_path, capsys):
    out = tmp_path / "city.gpkg"
    assert main(["sample", "--communities", "300", "--seed", "3", "--out", str(out)]) == 0
    city = load_city(out)
    assert len(city.communities) == 300 and len(city.districts) == 10
    assert len(city.fitness_paths) > 0


def test_plan_json_city_region_rank(capsys):
    assert main(["plan", "--program", "city,region", "--mode", "rank", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    city, region = out["programs"]
    assert set(city) >= {"program", "mode", "budget_cny", "spent_cny", "sets", "population_newly_served",
                         "optimality_gap", "solve_seconds"}
    assert (city["program"], city["sets"], city["spent_cny"]) == ("city", 12, 600_000)
    assert (region["program"], region["sets"], region["spent_cny"]) == ("region", 100, 5_000_000)
    assert city["optimality_gap"] is None  # rank mode proves nothing


def test_plan_optimal_reports_gap_and_matches_library(capsys):
    from geo.plan import run_plan

    assert main(["plan", "--program", "city", "--mode", "optimal", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["programs"][0]
    city = load_city(DEFAULT_DATA_PATH)
    expected = run_plan(city.communities, city.fitness_paths, load_config(), ["city"], "optimal", city.applications)
    assert out["population_newly_served"] == expected.summaries()[0]["population_newly_served"]
    assert out["optimality_gap"] <= 1e-6 and out["status"] == "optimal"


def test_plan_budget_override_and_xlsx_out(tmp_path, capsys):
    import openpyxl

    target = tmp_path / "plan.xlsx"
    assert main(["plan", "--program", "city", "--budget", "city=250000", "--out", str(target), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["programs"][0]
    assert out["sets"] == 5 and out["budget_cny"] == 250_000
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["市本级", "参数"]
    assert book["市本级"].max_row == 6  # header + 5 sets


@pytest.mark.parametrize("bad, message", [
    (["plan", "--program", "province"], "unknown budget program 'province'"),
    (["plan", "--budget", "city=lots"], "--budget takes KEY=CNY"),
    (["plan", "--out", "plan.pdf"], "unsupported suffix"),
    (["eligibility", "--district", "999999"], "unknown district code 999999"),
])
def test_bad_arguments_are_one_line_errors(bad, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_eligibility_for_one_district_to_csv(tmp_path, capsys):
    target = tmp_path / "e.csv"
    assert main(["eligibility", "--district", "450202", "--out", str(target)]) == 0
    assert target.read_bytes()[:3] == b"\xef\xbb\xbf"
    import pandas as pd

    table = pd.read_csv(target, encoding="utf-8-sig", dtype=str)
    assert len(table) == 359 and set(table["区县"]) == {"城中区"}
    assert set(table["符合建设条件"]) == {"是", "否"}
    ineligible = table[table["符合建设条件"] == "否"]
    assert ineligible["不符合原因"].notna().all()  # every ineligible community says why


def test_not_a_geopackage_and_missing_layers_are_clear_errors(tmp_path, capsys):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"PK\x03\x04 not really")
    assert main(["coverage", "--data", str(junk)]) == 2
    assert "is not a GeoPackage" in capsys.readouterr().err
    import geopandas as gpd
    from shapely.geometry import Point

    partial = tmp_path / "partial.gpkg"
    gpd.GeoDataFrame({"path_id": ["a"]}, geometry=[Point(109.4, 24.3)], crs="EPSG:4326").to_file(partial, layer="fitness_paths")
    assert main(["coverage", "--data", str(partial)]) == 2
    assert "lacks the layer(s) districts, communities" in capsys.readouterr().err
