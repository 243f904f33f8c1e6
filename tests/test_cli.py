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
