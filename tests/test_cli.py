"""The command line gives the library's numbers, and one-line errors with exit status 2."""

import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from geo.cli import json_safe, main, print_json
from geo.config import DEFAULT_DATA_PATH, load_config
from geo.pipeline import coverage_report, load_city

REPO = DEFAULT_DATA_PATH.parent.parent
CORPUS = REPO / "tests" / "intake_corpus"


def _refuse_constant(name):
    raise AssertionError(f"the CLI printed {name}, which is not JSON")


def strict_json(text: str):
    """Parse CLI output as JSON that may not hold NaN, Infinity or -Infinity."""
    return json.loads(text, parse_constant=_refuse_constant)


def run_cli(*args, cwd=REPO):
    """``python -m geo ARGS`` in ``cwd`` (the package found through PYTHONPATH); a hang fails after 300 s."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(run, *fragments):
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and run.stderr.endswith("\n"), run.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def report():
    return coverage_report(load_city(DEFAULT_DATA_PATH), load_config().walk_radius_m)


def test_coverage_json_matches_the_pipeline(capsys, report):
    assert main(["coverage", "--json"]) == 0
    out = strict_json(capsys.readouterr().out)
    assert out["walk_radius_m"] == 500
    assert [row["district_code"] for row in out["districts"]] == report.by_district["district_code"].tolist()
    first = out["districts"][0]
    assert set(first) == {
        "district_code",
        "district_name",
        "communities",
        "served_inside",
        "served_within_radius",
        "population",
        "population_served_inside",
        "population_served_within_radius",
    }
    for row, (_, expected) in zip(out["districts"], report.by_district.iterrows()):
        assert row["communities"] == expected["communities"]
        assert row["served_within_radius"] == expected["served_within_radius"]
        assert row["population_served_inside"] == expected["population_served_inside"]
    assert out["total"]["communities"] == 2500
    assert out["total"]["served_inside"] == sum(r["served_inside"] for r in out["districts"])


def test_a_larger_radius_serves_at_least_as_many(capsys):
    main(["coverage", "--json", "--radius", "200"])
    small = strict_json(capsys.readouterr().out)["total"]
    main(["coverage", "--json", "--radius", "1000"])
    large = strict_json(capsys.readouterr().out)["total"]
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
        [sys.executable, "-m", "geo", "coverage", "--data", "no/such.gpkg"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
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
    out = strict_json(capsys.readouterr().out)
    city, region = out["programs"]
    assert set(city) >= {
        "program",
        "mode",
        "budget_cny",
        "spent_cny",
        "sets",
        "population_newly_served",
        "optimality_gap",
        "solve_seconds",
    }
    assert (city["program"], city["sets"], city["spent_cny"]) == ("city", 12, 600_000)
    # A set on a public site costs more: the regional grant buys 99 sets and keeps 30,000, less than any set.
    assert (region["program"], region["sets"], region["spent_cny"]) == ("region", 99, 4_970_000)
    assert (region["unspent_cny"], region["stop_reason"]) == (30_000, "budget_spent")
    assert city["optimality_gap"] is None  # rank mode proves nothing


def test_plan_optimal_reports_gap_and_matches_library(capsys):
    from geo.plan import run_plan

    assert main(["plan", "--program", "city", "--mode", "optimal", "--json"]) == 0
    out = strict_json(capsys.readouterr().out)["programs"][0]
    city = load_city(DEFAULT_DATA_PATH)
    expected = run_plan(
        city.communities,
        city.fitness_paths,
        load_config(),
        ["city"],
        "optimal",
        city.applications,
        public_sites=city.public_sites,
    )
    assert out["population_newly_served"] == expected.summaries()[0]["population_newly_served"]
    assert out["optimality_gap"] <= 1e-6 and out["status"] == "optimal"


def test_plan_budget_override_and_xlsx_out(tmp_path, capsys):
    import openpyxl

    target = tmp_path / "plan.xlsx"
    assert main(["plan", "--program", "city", "--budget", "city=250000", "--out", str(target), "--json"]) == 0
    out = strict_json(capsys.readouterr().out)["programs"][0]
    assert out["sets"] == 5 and out["budget_cny"] == 250_000
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["市本级", "参数"]
    assert book["市本级"].max_row == 6  # header + 5 sets


@pytest.mark.parametrize(
    "bad, message",
    [
        (["plan", "--program", "province"], "unknown budget program 'province'"),
        (["plan", "--budget", "city=lots"], "--budget takes KEY=CNY"),
        (["plan", "--out", "plan.pdf"], "unsupported suffix"),
        (["eligibility", "--district", "999999"], "unknown district code '999999'"),
    ],
)
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
    gpd.GeoDataFrame({"path_id": ["a"]}, geometry=[Point(109.4, 24.3)], crs="EPSG:4326").to_file(
        partial, layer="fitness_paths"
    )
    assert main(["coverage", "--data", str(partial)]) == 2
    assert "lacks the layer(s) districts, communities" in capsys.readouterr().err


# ---------------------------------------------------------------- errors: one line, exit 2, no traceback


@pytest.mark.parametrize(
    "args, fragments",
    [
        (
            ["coverage", "--radius", "nan"],
            ["argument --radius: must be a positive number of metres up to 5,000, got 'nan'"],
        ),
        (["coverage", "--radius", "inf"], ["argument --radius", "got 'inf'"]),
        (["coverage", "--radius=-inf"], ["argument --radius", "got '-inf'"]),
        (["coverage", "--radius", "-5"], ["argument --radius", "got '-5'"]),
        (["coverage", "--radius", "five"], ["argument --radius", "got 'five'"]),
        (
            ["plan", "--radius", "nan"],
            ["argument --radius: must be a positive number of metres up to 5,000, got 'nan'"],
        ),
        (["plan", "--radius", "0"], ["argument --radius: must be a positive number of metres up to 5,000, got '0'"]),
        (
            ["coverage", "--radius", "0"],
            ["argument --radius: must be a positive number of metres up to 5,000, got '0'"],
        ),
        (
            ["plan", "--radius", "5000.5"],
            ["argument --radius: must be a positive number of metres up to 5,000, got '5000.5'"],
        ),
        (["plan", "--budget", "city=1e309"], ["--budget takes KEY=CNY", "got 'city=1e309'"]),
        (["plan", "--budget", "city=nan"], ["--budget takes KEY=CNY", "got 'city=nan'"]),
        (
            ["plan", "--budget", "city=-600000"],
            ["--budget takes KEY=CNY", "whole number of yuan from 0 to 1,000,000,000,000"],
        ),
        (["plan", "--budget", "city=1.5"], ["--budget takes KEY=CNY", "got 'city=1.5'"]),
        (["plan", "--budget", "city=lots"], ["--budget takes KEY=CNY", "got 'city=lots'"]),
        (["plan", "--budget", "city"], ["--budget takes KEY=CNY", "got 'city'"]),
        (
            ["plan", "--budget", "province=100"],
            ["unknown budget program 'province'", "config.toml defines: city, region"],
        ),
        (["plan", "--budget", "city=1", "--budget", "city=2"], ["--budget city is given twice"]),
        (
            ["plan", "--time-limit", "nan"],
            ["argument --time-limit: must be a positive number of seconds up to 86,400 (one day), got 'nan'"],
        ),
        (["plan", "--time-limit=-1"], ["argument --time-limit", "got '-1'"]),
        (["plan", "--program", "province"], ["unknown budget program 'province'"]),
        (
            ["sample", "--communities", "0", "--out", "x.gpkg"],
            ["argument --communities: must be a whole number of communities from 1 to 1,000,000"],
        ),
        (
            ["sample", "--seed", "-1", "--out", "x.gpkg"],
            ["argument --seed: must be a whole number from 0 to 4,294,967,295"],
        ),
        (["coverage", "--no-such-option"], ["unrecognized arguments: --no-such-option"]),
        (["no-such-command"], ["invalid choice: 'no-such-command'"]),
        ([], ["the following arguments are required: command"]),
    ],
)
def test_bad_command_lines_are_one_line_exit_2_as_subprocess(args, fragments, tmp_path):
    run = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(run, *fragments)
    assert run.stdout == ""
    assert not (tmp_path / "x.gpkg").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["coverage", "--radius", "nan"],
        ["plan", "--budget", "city=1e309"],
        ["no-such-command"],
        [],
    ],
)
def test_bad_command_lines_return_2_in_process(args, capsys):
    assert main(args) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_help_still_exits_0(capsys):
    assert main(["plan", "--help"]) == 0
    assert "--budget" in capsys.readouterr().out


def test_a_broken_config_is_one_line_naming_key_value_and_range(tmp_path):
    from geo.config import DEFAULT_CONFIG_PATH

    bad = tmp_path / "config.toml"
    bad.write_text(
        DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace("time_limit_s = 60", "time_limit_s = -5"),
        encoding="utf-8",
    )
    run = run_cli("--config", str(bad), "coverage", "--json")
    line = assert_one_line_error(run)
    assert line == (
        "error: config.toml: 'optimal.time_limit_s' must be a positive number of seconds up to 86,400 (one day), got -5"
    )
    assert run.stdout == ""


def test_an_unexpected_failure_is_one_line_with_a_hint_to_report_it(monkeypatch, capsys):
    import geo.pipeline

    def broken(path):
        raise RuntimeError("tile index corrupt\n  at level 3")

    monkeypatch.setattr(geo.pipeline, "load_city", broken)
    assert main(["coverage", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: unexpected RuntimeError: tile index corrupt\\n  at level 3 "
        "(a bug: please report it with the command you ran)\n"
    )


def test_control_characters_in_an_error_cannot_split_the_line_or_reach_the_terminal(tmp_path):
    name = "survey\nerror: forged\x1b[31m\u202e.gpkg"
    run = run_cli("coverage", "--data", name, cwd=tmp_path)
    line = assert_one_line_error(run, "not found", "survey\\nerror: forged\\x1b[31m\\u202e.gpkg")
    assert "\x1b" not in line and "\u202e" not in line


# ---------------------------------------------------------------- JSON output is strict JSON


def test_json_safe_turns_every_non_finite_number_into_null(capsys):
    document = {
        "gap": math.nan,
        "bound": math.inf,
        "low": -math.inf,
        "f32": np.float32("nan"),
        "nested": [{"x": np.float64("inf")}, (np.int64(7), np.bool_(True))],
        "ok": 0.5,
        "name": "NaN",
    }
    assert json_safe(document) == {
        "gap": None,
        "bound": None,
        "low": None,
        "f32": None,
        "nested": [{"x": None}, [7, True]],
        "ok": 0.5,
        "name": "NaN",
    }
    print_json(document)
    assert strict_json(capsys.readouterr().out)["name"] == "NaN"  # text that spells NaN stays text


@pytest.fixture(scope="module")
def city_with_gaps(tmp_path_factory):
    """A city imported through ``geo import``: three communities, one without population, no sets at all.

    The CSV's communities lie in 城中区, 鱼峰区 and 柳北区; the other districts have no community.
    """
    from geo.data.io import write_layers

    folder = tmp_path_factory.mktemp("gaps")
    accepted = folder / "accepted.gpkg"
    run = run_cli(
        "import",
        str(CORPUS / "csv_missing_population.csv"),
        "--layer",
        "communities",
        "--out",
        str(accepted),
        "--rejects",
        str(folder / "rejects.csv"),
        "--json",
    )
    assert run.returncode == 0, run.stderr
    summary = strict_json(run.stdout)
    assert (summary["input_rows"], summary["accepted"], summary["rejected"]) == (3, 3, 0)
    assert any("no population" in w for w in summary["warnings"])
    import geopandas as gpd

    sample = load_city(DEFAULT_DATA_PATH)

    imported = gpd.read_file(accepted, layer="communities")
    city = folder / "city.gpkg"
    write_layers(
        city, {"districts": sample.districts, "communities": imported, "fitness_paths": sample.fitness_paths.iloc[:0]}
    )
    return city


def test_coverage_json_of_a_city_with_gaps_is_strict(city_with_gaps, capsys):
    assert main(["coverage", "--json", "--data", str(city_with_gaps)]) == 0
    out = strict_json(capsys.readouterr().out)
    rows = {row["district_code"]: row for row in out["districts"]}
    assert len(rows) == 10
    assert rows["450202"]["communities"] == 1 and rows["450202"]["population"] == 1200
    # No population given: estimated from its 800 households × 2.62 persons (config.toml [intake]).
    assert rows["450203"]["communities"] == 1 and rows["450203"]["population"] == 2096
    empty = [row for row in out["districts"] if row["communities"] == 0]
    assert len(empty) == 7 and all(row["population"] == 0 and row["served_within_radius"] == 0 for row in empty)
    assert out["total"]["communities"] == 3 and out["total"]["population"] == 1200 + 2096 + 900
    assert out["total"]["served_within_radius"] == 0  # no set anywhere: every nearest set is infinitely far
    assert out["total"]["share_served_within_radius"] == 0.0


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_plan_json_of_a_city_with_gaps_is_strict(city_with_gaps, mode, capsys):
    assert main(["plan", "--json", "--mode", mode, "--program", "city,region", "--data", str(city_with_gaps)]) == 0
    city, region = strict_json(capsys.readouterr().out)["programs"]
    # 河西小区 (no population, no open space) is not eligible; the other two get a set each.
    assert (city["sets"], city["spent_cny"], city["population_newly_served"]) == (2, 100_000, 2100)
    assert (region["sets"], region["population_newly_served"]) == (0, 0)
    assert (city["optimality_gap"] is None) == (mode == "rank")


def test_a_budget_in_exponent_form_is_whole_yuan(capsys):
    assert main(["plan", "--program", "city", "--budget", "city=2.5e5", "--json"]) == 0
    out = strict_json(capsys.readouterr().out)["programs"][0]
    assert (out["budget_cny"], out["sets"]) == (250_000, 5)


# ---------------------------------------------------------------- extreme values (issue 10, re-test N13)


@pytest.mark.parametrize(
    "args, line",
    [
        # each reached an unexpected exception or ran with a nonsensical value before
        (
            ["plan", "--budget", "city=" + "9" * 400],
            "error: --budget takes KEY=CNY, CNY a whole number of yuan from 0 to 1,000,000,000,000, e.g. city=600000; "
            "got 'city=" + "9" * 53 + "…",
        ),
        (
            ["plan", "--budget", "city=1e20"],
            (
                "error: --budget takes KEY=CNY, CNY a whole number of yuan from 0 to 1,000,000,000,000, e.g. "
                "city=600000; "
                "got 'city=1e20'"
            ),
        ),
        (
            ["plan", "--budget", "city=999999999999.99999"],  # a float would round it to a whole 10**12
            (
                "error: --budget takes KEY=CNY, CNY a whole number of yuan from 0 to 1,000,000,000,000, e.g. "
                "city=600000; "
                "got 'city=999999999999.99999'"
            ),
        ),
        (
            ["sample", "--communities", "99999999999", "--out", "x.gpkg"],
            (
                "error: argument --communities: must be a whole number of communities from 1 to 1,000,000, "
                "got '99999999999' "
                "(see: python -m geo sample --help)"
            ),
        ),
        (
            ["sample", "--seed", str(2**70), "--out", "x.gpkg"],
            (
                "error: argument --seed: must be a whole number from 0 to 4,294,967,295, got '1180591620717411303424' "
                "(see: python -m geo sample --help)"
            ),
        ),
        (
            ["coverage", "--radius", "1e308"],
            "error: argument --radius: must be a positive number of metres up to 5,000, got '1e308' (see: "
            "python -m geo coverage --help)",
        ),
        (
            ["plan", "--radius", "50000.5"],
            (
                "error: argument --radius: must be a positive number of metres up to 5,000, got '50000.5' "
                "(see: python -m geo plan --help)"
            ),
        ),
        (
            ["plan", "--mode", "optimal", "--time-limit", "1e300"],
            (
                "error: argument --time-limit: must be a positive number of seconds up to 86,400 (one day), "
                "got '1e300' "
                "(see: python -m geo plan --help)"
            ),
        ),
        (
            ["plan", "--program", "city,region,city"],
            "error: --program names 'city' twice; name each programme once, e.g. city,region",
        ),
        (
            ["sample", "--communities", "10", "--out", "x.csv"],  # GDAL wrote a warning, then a DataLayerError
            "error: --out 'x.csv': the sample city is a GeoPackage; name it .gpkg",
        ),
        (
            ["--config", "/dev/zero", "coverage"],  # read whole until MemoryError
            "error: /dev/zero: larger than 1 MB, so not a configuration file (config.toml is a few KB); check "
            "the path given",
        ),
    ],
)
def test_extreme_arguments_are_one_plain_line(args, line, tmp_path):
    run = run_cli(*args, cwd=tmp_path)
    assert assert_one_line_error(run) == line
    assert run.stdout == "" and list(tmp_path.iterdir()) == []


def test_values_at_the_bounds_run(capsys, tmp_path):
    assert main(["plan", "--program", "city", "--budget", "city=1000000000000", "--json"]) == 0
    city = strict_json(capsys.readouterr().out)["programs"][0]
    assert city["budget_cny"] == 10**12
    assert main(["plan", "--program", "city", "--budget", "city=1000000000000", "--json"]) == 0
    assert strict_json(capsys.readouterr().out)["programs"][0]["sets"] == city["sets"]  # every eligible community, once
    assert main(["coverage", "--radius", "5000", "--json"]) == 0
    total = strict_json(capsys.readouterr().out)["total"]
    assert total["served_within_radius"] == total["communities"] == 2500  # 5 km reaches every community from a set
    out = tmp_path / "s.gpkg"
    assert main(["sample", "--communities", "5", "--seed", str(2**32 - 1), "--out", str(out)]) == 0
    assert len(load_city(out).communities) == 5


WRITERS = [
    ["plan", "--out"],
    ["eligibility", "--out"],
    ["sample", "--communities", "5", "--out"],
    ["template", "--out"],
    ["import", str(CORPUS / "csv_missing_population.csv"), "--layer", "communities", "--rejects", "REJECTS", "--out"],
]


def _writer(command, out, folder):
    suffix = {"sample": ".gpkg", "template": ".xlsx", "import": ".gpkg"}.get(command[0], out)
    args = [str(folder / "r.csv") if a == "REJECTS" else a for a in command]
    return args, suffix


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc, where no file can be created")
@pytest.mark.parametrize("command", WRITERS, ids=lambda c: c[0])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson", ".gpkg"])
def test_an_unwritable_output_names_the_file_and_no_temporary_path(command, suffix, tmp_path):
    args, suffix = _writer(command, suffix, tmp_path)
    target = f"/proc/x{suffix}"
    run = run_cli(*args, target, cwd=tmp_path)
    line = assert_one_line_error(run)
    assert line == f"error: cannot write {target}: No such file or directory; choose another folder or a shorter name"


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: c[0])
def test_an_output_that_is_a_folder_or_too_long_a_name_is_one_line(command, tmp_path, capsys):
    args, suffix = _writer(command, ".xlsx", tmp_path)
    folder = tmp_path / f"results{suffix}"
    folder.mkdir()
    assert main([*args, str(folder)]) == 2
    assert (
        capsys.readouterr().err == f"error: cannot write {folder}: it is a folder; give --out a file name inside it\n"
    )
    # 250 characters fit the file system's 255, but not the hidden staging folder the writers use
    long = tmp_path / ("n" * 250 + suffix)
    assert main([*args, str(long)]) == 2
    assert (
        capsys.readouterr().err
        == f"error: cannot write {long}: File name too long; choose another folder or a shorter name\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # nothing left behind


def test_a_missing_folder_is_named_and_sample_creates_its_own(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "plan.xlsx"
    assert main(["plan", "--out", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot write {target}: folder {target.parent} does not exist; create it first\n"
    )
    assert main(["sample", "--communities", "5", "--out", str(tmp_path / "new" / "city.gpkg")]) == 0
    assert len(load_city(tmp_path / "new" / "city.gpkg").communities) == 5


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full, a device that is always full")
def test_a_write_that_fails_midway_names_the_file_and_the_reason(tmp_path, capsys):
    rejects = tmp_path / "rejects.csv"
    rejects.symlink_to("/dev/full")  # writable when checked, full when written: like a disk filling up
    assert (
        main(
            [
                "import",
                str(CORPUS / "csv_missing_population.csv"),
                "--layer",
                "communities",
                "--out",
                str(tmp_path / "a.gpkg"),
                "--rejects",
                str(rejects),
            ]
        )
        == 2
    )
    assert capsys.readouterr().err == f"error: cannot write {rejects}: No space left on device\n"


def test_running_out_of_memory_is_one_line_without_the_word_bug(monkeypatch, capsys):
    import geo.data.sample

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 59.1 TiB for an array with shape (3473225, 2336920)")

    monkeypatch.setattr(geo.data.sample, "generate_sample", exhausted)
    assert main(["sample", "--communities", "10", "--out", "x.gpkg"]) == 2
    assert capsys.readouterr().err == (
        "error: not enough memory to finish this command; try it on smaller data or with smaller numbers\n"
    )


@pytest.mark.parametrize(
    "text, value",
    [
        ("800000", 800_000),
        ("8e5", 800_000),
        ("800000.0", 800_000),
        ("2.5e5", 250_000),
        (" 42 ", 42),
        ("1.5", 1.5),
        ("nan", None),
        ("inf", None),
        ("-inf", None),
        ("0x10", None),
        ("", None),
        ("lots", None),
        ("1e999999999", math.inf),
        ("9" * 5000, float("9" * 300 + "e4700")),
    ],
)
def test_parsed_number_is_exact_and_never_builds_a_huge_integer(text, value):
    from geo.cli import parsed_number

    got = parsed_number(text)
    assert got == value and type(got) is type(value)


@pytest.mark.slow
def test_a_config_at_every_upper_bound_plans_without_a_warning(tmp_path):
    """Weights of 1e308 gave RuntimeWarning lines on stderr; at the bounds every command is clean."""
    import re

    from geo.analysis.priority import COMPONENTS
    from geo.config import DEFAULT_CONFIG_PATH, MAX_CNY, MAX_WEIGHT, NUMERIC_KEYS

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    highs = {
        dotted.rsplit(".", 1)[1]: (rule.high if rule.high_inclusive else 0.999)
        for dotted, (_, rule) in NUMERIC_KEYS.items()
    }
    highs.update(dict.fromkeys(COMPONENTS, MAX_WEIGHT), budget_cny=MAX_CNY)
    for name, value in highs.items():
        text, found = re.subn(
            rf"^{name} = .*$", f"{name} = {value:.0f}" if value >= 1 else f"{name} = {value}", text, flags=re.MULTILINE
        )
        assert found >= 1, name
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    loaded = load_config(config)
    assert loaded.walk_radius_m == 5_000 and loaded.program("region").budget_cny == 10**12
    for args in (
        ["coverage", "--json"],
        ["plan", "--json"],
        ["plan", "--mode", "optimal", "--program", "city", "--json"],
    ):
        run = run_cli("--config", str(config), *args)
        assert run.returncode == 0 and run.stderr == "", run.stderr
        assert strict_json(run.stdout)["walk_radius_m"] == 5_000


def test_a_gdal_failure_while_writing_names_the_file_not_the_staging_path(tmp_path):
    import pyogrio.errors

    from geo.cli import writing

    target = tmp_path / "plan.gpkg"
    with pytest.raises(ValueError) as caught, writing(target):
        raise pyogrio.errors.DataSourceError(
            f"sqlite3_open({tmp_path}/.plan-k3j9x_2a/plan.gpkg) failed:\n disk I/O error"
        )
    assert str(caught.value) == f"cannot write {target}: sqlite3_open(plan.gpkg) failed: disk I/O error"
    with pytest.raises(KeyError), writing(target):  # anything else is not a writing failure: left as it is
        raise KeyError("geometry")


def test_plan_runs_the_configured_programmes_by_default(tmp_path, capsys):
    """Without --program the plan runs config.toml's [[programs]] in order: no programme key is written in code."""
    from geo.config import DEFAULT_CONFIG_PATH

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        text.replace('key = "city"', 'key = "municipal"').replace('key = "region"', 'key = "grant"'), encoding="utf-8"
    )
    assert main(["--config", str(config), "plan", "--mode", "rank", "--json"]) == 0
    out = strict_json(capsys.readouterr().out)
    # 99 for the grant: a set on a public site costs more than a set in a community (README, public sites).
    assert [(p["program"], p["sets"]) for p in out["programs"]] == [("municipal", 12), ("grant", 99)]


# The CLI's own words (issue 11): help and error lines from the catalogue's [cli] table, in the
# language of PLANNER_LANG, else of the locale; English unless asked, exactly as before.

CJK = "\u4e00-\u9fff"


@pytest.mark.parametrize(
    "environ, lang",
    [
        ({}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),  # LC_ALL first, as the C library reads it
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.UTF-8", "PLANNER_LANG": "en"}, "en"),
        ({"LANG": "C", "PLANNER_LANG": "zh"}, "zh"),
        ({"LANG": "zh_CN", "PLANNER_LANG": "fr"}, "zh"),  # not a language of the catalogue: the locale decides
    ],
)
def test_the_cli_speaks_planner_lang_else_the_locale(environ, lang):
    from geo.cli import cli_lang

    assert cli_lang(environ) == lang


def test_help_in_chinese_with_planner_lang_zh(monkeypatch):
    monkeypatch.setenv("PLANNER_LANG", "zh")
    top = run_cli("--help")
    assert top.returncode == 0, top.stderr
    assert top.stdout.startswith("用法：python -m geo")
    for phrase in (
        "健身路径规划",
        "按区县汇总覆盖情况",
        "显示本帮助并退出",
        "在柳州市的行政区划上生成一个模拟城市",
        "PLANNER_LANG",
    ):
        assert phrase in top.stdout
    assert "usage:" not in top.stdout and "show this help" not in top.stdout
    plan = run_cli("plan", "--help")
    assert plan.returncode == 0, plan.stderr
    assert "步行半径（米），大于 0 且不超过 5,000（默认：配置文件）" in plan.stdout
    assert "walk radius" not in plan.stdout


def test_help_in_english_with_planner_lang_en_as_before(monkeypatch):
    monkeypatch.setenv("PLANNER_LANG", "en")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # PLANNER_LANG wins over the locale
    plan = run_cli("plan", "--help")
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.startswith("usage: python -m geo plan [-h] [--program PROGRAM]")
    assert "  -h, --help            show this help message and exit\n" in plan.stdout
    assert "walk radius in metres, > 0 and ≤ 5,000 (default:\n                        config)" in plan.stdout
    assert not re.search(f"[{CJK}]", plan.stdout)
    top = run_cli("--help")
    assert "\n健身路径规划 / fitness-path planner\n" in top.stdout
    assert "generate a synthetic city on Liuzhou's boundaries" in top.stdout
    assert "positional arguments:\n" in top.stdout and "\noptions:\n" in top.stdout
    assert "locale (LC_ALL, LC_MESSAGES or LANG) starts with\nzh" in top.stdout  # the epilog says how


def _error_line(capsys, argv) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    return captured.err


def test_a_usage_error_in_each_language(capsys, monkeypatch):
    monkeypatch.setenv("PLANNER_LANG", "zh")
    assert _error_line(capsys, ["coverage", "--radius", "abc"]) == (
        "错误：参数 --radius：必须是 > 0 且 ≤ 5,000 的数，收到 'abc'（参见：python -m geo coverage --help）\n"
    )
    assert _error_line(capsys, ["sample"]) == "错误：缺少必需的参数：--out（参见：python -m geo sample --help）\n"
    monkeypatch.setenv("PLANNER_LANG", "en")
    assert _error_line(capsys, ["coverage", "--radius", "abc"]) == (
        "error: argument --radius: must be a positive number of metres up to 5,000, got 'abc' "
        "(see: python -m geo coverage --help)\n"
    )
    assert _error_line(capsys, ["sample"]) == (
        "error: the following arguments are required: --out (see: python -m geo sample --help)\n"
    )


def test_a_data_error_in_each_language(capsys, monkeypatch, tmp_path):
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a database", encoding="utf-8")
    monkeypatch.setenv("PLANNER_LANG", "zh")
    line = _error_line(capsys, ["coverage", "--data", str(junk)])
    assert line.startswith("错误：junk.gpkg 的扩展名是 .gpkg，但内容不是 gpkg；"), line
    monkeypatch.setenv("PLANNER_LANG", "en")
    assert _error_line(capsys, ["coverage", "--data", str(junk)]).startswith(
        "error: junk.gpkg has extension .gpkg but its content is not gpkg; supported formats: GeoPackage (.gpkg);"
    )


def test_the_clis_own_errors_in_each_language(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANNER_LANG", "zh")
    assert _error_line(capsys, ["plan", "--budget", "city=lots"]) == (
        "错误：--budget 的格式是 键=元，元数须为 ≥ 0 且 ≤ 1,000,000,000,000 的整数，如 city=600000；收到 'city=lots'\n"
    )
    assert _error_line(capsys, ["plan", "--out", "missing/plan.csv"]) == (
        "错误：无法写入 missing/plan.csv：文件夹 missing 不存在；请先创建\n"
    )
    monkeypatch.setenv("PLANNER_LANG", "en")
    assert _error_line(capsys, ["plan", "--budget", "city=lots"]) == (
        "error: --budget takes KEY=CNY, CNY a whole number of yuan from 0 to 1,000,000,000,000, "
        "e.g. city=600000; got 'city=lots'\n"
    )
    assert _error_line(capsys, ["plan", "--out", "missing/plan.csv"]) == (
        "error: cannot write missing/plan.csv: folder missing does not exist; create it first\n"
    )


def test_an_unexpected_failure_in_chinese(capsys, monkeypatch):
    import geo.cli

    def broken(args, config):
        raise RuntimeError("boom")

    monkeypatch.setattr(geo.cli, "run_coverage", broken)
    monkeypatch.setenv("PLANNER_LANG", "zh")
    assert (
        _error_line(capsys, ["coverage"])
        == "错误：意外的 RuntimeError：boom（这是程序缺陷：请连同所运行的命令一起报告）\n"
    )
    monkeypatch.setenv("PLANNER_LANG", "en")
    assert _error_line(capsys, ["coverage"]) == (
        "error: unexpected RuntimeError: boom (a bug: please report it with the command you ran)\n"
    )


def test_the_clis_messages_are_english_text_said_again_in_chinese():
    import pickle

    from geo.cli import Allowed, Said
    from geo.config import BUDGET_RULE
    from geo.errors import said
    from geo.i18n import SECTIONS, catalogue

    assert "cli" in SECTIONS and set(catalogue("zh")["cli"]) == set(catalogue("en")["cli"])
    message = Said("budget_range", allowed=Allowed(BUDGET_RULE), program="city", pair="'city=x'")
    assert message == f"--budget takes KEY=CNY, CNY {BUDGET_RULE.allowed}, e.g. city=600000; got 'city=x'"
    assert "的整数" in said(message, "zh")
    assert pickle.loads(pickle.dumps(message)) == message
    assert said(pickle.loads(pickle.dumps(message)), "zh") == said(message, "zh")


def test_a_missing_data_file_is_said_in_the_clis_language(tmp_path):
    import subprocess
    import sys

    missing = tmp_path / "无此文件.gpkg"
    for lang, expected in (("zh", "找不到数据文件："), ("en", "data file not found: ")):
        done = subprocess.run(
            [sys.executable, "-m", "geo", "coverage", "--data", str(missing)],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "PLANNER_LANG": lang},
        )
        assert done.returncode == 2
        assert expected + str(missing) in done.stderr and "Traceback" not in done.stderr


def test_what_a_command_did_is_said_in_its_language(tmp_path, capsys, monkeypatch):
    """The lines that say what was written and what a plan buys follow --lang (or PLANNER_LANG for
    the commands without --lang): no Chinese in the English lines, no English words in the Chinese."""
    out = tmp_path / "city.gpkg"
    monkeypatch.setenv("PLANNER_LANG", "en")
    assert main(["sample", "--communities", "60", "--seed", "3", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"wrote {out}: districts 10, communities 60, fitness_paths {len(load_city(out).fitness_paths)}, applications "
        f"{len(load_city(out).applications)}, public_sites {len(load_city(out).public_sites)}, "
        f"roads {len(load_city(out).roads)}"
    )
    monkeypatch.setenv("PLANNER_LANG", "zh")
    assert main(["sample", "--communities", "60", "--seed", "3", "--out", str(out)]) == 0
    said_zh = capsys.readouterr().out.strip()
    assert said_zh.startswith(f"已写入 {out}：区县 10 条，小区 60 条") and not re.search(
        r"[A-Za-z]{3,}", said_zh[len(str(out)) + 4 :]
    )

    assert main(["plan", "--data", str(out), "--lang", "en"]) == 0
    standard, distance, first = capsys.readouterr().out.splitlines()[:3]
    assert standard == "Service standard: A set in every community"
    assert distance == "Distance: in a straight line"
    assert re.fullmatch(
        r"City budget \[rank\]: (\d+) sets \(\1 communities newly equipped\), "
        r"CNY [\d,]+ of 600,000 \([\d,]+ unspent\), "
        r"[\d,]+ residents and [\d,]+ communities newly within walking distance",
        first,
    )
    assert main(["plan", "--data", str(out), "--lang", "zh"]) == 0
    standard, distance, first = capsys.readouterr().out.splitlines()[:3]
    assert standard == "服务标准：每个小区配建一套"
    assert distance == "距离：直线距离"
    assert re.fullmatch(
        r"\S+［按优先级排序］：(\d+) 套（新增配建小区 \1 个），花费 [\d,]+ 元（预算 600,000 元，未使用 [\d,]+ 元），"
        r"步行范围内新增居民 [\d,]+ 人、小区 [\d,]+ 个",
        first,
    )

    xlsx = tmp_path / "plan.xlsx"
    assert main(["plan", "--data", str(out), "--lang", "en", "--out", str(xlsx)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"wrote {xlsx}" and not re.search(f"[{CJK}]", last)
    assert main(["eligibility", "--data", str(out), "--lang", "zh", "--out", str(tmp_path / "e.csv")]) == 0
    assert re.fullmatch(r"已写入 \S+：60 个小区，其中 \d+ 个符合条件", capsys.readouterr().out.strip())


def test_json_names_follow_lang_and_the_figures_do_not(capsys):
    """``--lang`` changes the names in the JSON (programmes, districts), never a figure or a key."""
    documents = {}
    for lang in ("zh", "en"):
        assert main(["plan", "--json", "--lang", lang]) == 0
        plan = strict_json(capsys.readouterr().out)
        assert main(["coverage", "--json", "--lang", lang]) == 0
        documents[lang] = (plan, strict_json(capsys.readouterr().out))
    config = load_config()
    (plan_zh, coverage_zh), (plan_en, coverage_en) = documents["zh"], documents["en"]
    assert [p["program_name"] for p in plan_zh["programs"]] == [p.name_zh for p in config.programs]
    assert [p["program_name"] for p in plan_en["programs"]] == [p.name_en for p in config.programs]
    assert not any(re.search(f"[{CJK}]", d["district_name"]) for d in coverage_en["districts"])
    assert all(re.search(f"[{CJK}]", d["district_name"]) for d in coverage_zh["districts"])
    for zh, en in ((plan_zh["programs"], plan_en["programs"]), (coverage_zh["districts"], coverage_en["districts"])):
        strip = ("program_name", "district_name", "solve_seconds", "messages")  # messages are words
        assert [{k: v for k, v in row.items() if k not in strip} for row in zh] == [
            {k: v for k, v in row.items() if k not in strip} for row in en
        ]


def test_plan_out_says_what_each_pick_serves_and_names_the_public_sites(tmp_path, capsys):
    import openpyxl

    target = tmp_path / "plan.xlsx"
    assert main(["plan", "--program", "city,region", "--out", str(target)]) == 0
    sheet = openpyxl.load_workbook(target)["自治区补助"]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    kind, said = header.index("点位类型"), header.index("服务说明")
    on_sites = [row for row in body if str(row[kind]).startswith("公共场地")]
    assert len(body) == 99 and len(on_sites) == 3  # the regional grant's three sets on public sites
    assert all(str(row[said]).startswith("场地 ") and "（无建设用地）" in str(row[said]) for row in on_sites)
    assert all(str(row[said]).startswith("小区 ") for row in body if row not in on_sites)
