"""``geo city init`` and the CLI against hostile input: nothing accepted, outputs that are inputs, bad options,
terminal control characters in the data, stray warnings on stderr, a plan that selects nothing.

The files are Hefei's survey of tests/othercity.py (12 communities, all accepted) or broken copies of it.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from geo.cli import EXIT_ERROR, EXIT_NOTHING_ACCEPTED, city_rejects_path, main
from geo.data.identity import identity_of
from geo.intake.newcity import build_city, write_city
from geo.pipeline import load_city
from tests import othercity

REPO = Path(__file__).resolve().parents[1]
CONTROLS = "\x1b\x07\x9b\x85\u2028\u2029\u202e\u2066"  # ESC, BEL, CSI (C1), NEL, line/paragraph sep, bidi


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return othercity.write_files(tmp_path_factory.mktemp("hefei"))


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_process(*argv, timeout=120):
    env = {**os.environ, "PLANNER_LANG": "en"}
    return subprocess.run(
        [sys.executable, "-m", "geo", *map(str, argv)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def survey_rows(files) -> list[list[str]]:
    with open(files["communities"], encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def write_rows(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as file:
        csv.writer(file).writerows(rows)
    return path


def has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text if c != "\n")


# ---------------------------------------------------------------- 1. nothing accepted


def test_rejects_are_named_as_write_city_names_them(files, tmp_path):
    out = tmp_path / "合肥.gpkg"
    written = write_city(build_city(files["communities"], fitness_paths=files["fitness_paths"]), out)
    for layer in ("communities", "fitness_paths"):
        assert written[f"rejects_{layer}"] == city_rejects_path(out, layer)


@pytest.mark.parametrize("as_json", [True, False])
def test_nothing_accepted_writes_the_rejects_and_exits_3(files, tmp_path, capsys, monkeypatch, as_json):
    monkeypatch.setenv("PLANNER_LANG", "en")
    rows = survey_rows(files)
    broken = write_rows(tmp_path / "broken.csv", [rows[0]] + [row[:4] + ["not a polygon"] for row in rows[1:4]])
    out = tmp_path / "city.gpkg"
    argv = ["city", "init", "--out", out, "--communities", broken, "--crs", othercity.GK_WITH_ZONE]
    status, printed, err = run(capsys, *argv, *(["--json"] if as_json else []))
    assert status == EXIT_NOTHING_ACCEPTED == 3
    assert not out.exists()
    rejects = city_rejects_path(out, "communities")
    assert len(pd.read_csv(rejects, encoding="utf-8-sig")) == 3  # every row, with its reason
    assert err.count("\n") == 1 and str(rejects) in err
    if as_json:
        report = json.loads(printed)
        assert report["out"] is None
        assert report["communities"]["input_rows"] == 3 and report["communities"]["accepted"] == 0
        assert report["communities"]["rejected"] == 3 and report["fitness_paths"] is None
        assert report["rejects"] == {"rejects_communities": str(rejects)}
    else:
        assert "3 rows, 0 accepted, 3 rejected" in printed and f"wrote {rejects}" in printed


# ---------------------------------------------------------------- 2. inputs never overwritten


def test_an_out_that_is_an_input_is_refused_and_the_input_kept(files, tmp_path, capsys):
    districts = tmp_path / "districts.gpkg"
    othercity.district_squares().to_file(districts, driver="GPKG")
    before = districts.read_bytes()
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.gpkg").symlink_to(districts)
    for same in (tmp_path / "sub" / ".." / "districts.gpkg", tmp_path / "link.gpkg"):  # other spellings
        status, printed, err = run(
            capsys, "city", "init", "--out", same, "--communities", files["communities"], "--districts", districts
        )
        assert status == EXIT_ERROR and printed == ""
        assert err.count("\n") == 1 and "--districts" in err
        assert districts.read_bytes() == before


def test_a_rejects_path_that_is_an_input_is_refused(files, tmp_path, capsys):
    out = tmp_path / "city.gpkg"
    paths = city_rejects_path(out, "fitness_paths")
    paths.write_bytes(files["fitness_paths"].read_bytes())
    before = paths.read_bytes()
    status, _, err = run(
        capsys, "city", "init", "--out", out, "--communities", files["communities"], "--fitness-paths", paths
    )
    assert status == EXIT_ERROR and "--fitness-paths" in err and err.count("\n") == 1
    assert paths.read_bytes() == before and not out.exists()


def test_a_folder_where_the_rejects_go_is_found_before_the_city_is_written(files, tmp_path, capsys):
    out = tmp_path / "city.gpkg"
    city_rejects_path(out, "communities").mkdir()
    status, _, err = run(capsys, "city", "init", "--out", out, "--communities", files["communities"])
    assert status == EXIT_ERROR and "folder" in err and err.count("\n") == 1
    assert not out.exists()


def test_import_refuses_to_write_over_its_file(files, tmp_path, capsys):
    copy = tmp_path / "survey.csv"
    copy.write_bytes(files["communities"].read_bytes())
    before = copy.read_bytes()
    status, _, err = run(
        capsys, "import", copy, "--layer", "communities", "--out", tmp_path / "a.gpkg", "--rejects", copy
    )
    assert status == EXIT_ERROR and "--rejects" in err and copy.read_bytes() == before


# ---------------------------------------------------------------- 3. bad options, before any work


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--crs", "communities=EPSG:4527", "--crs", "rivers=wgs84"], "LAYER one of districts, communities"),
        (["--crs", "communities=nonsense"], "unknown coordinate system 'nonsense'"),
        (["--crs", "EPSG:99999999"], "99999999"),
        (
            ["--crs", "EPSG:4527", "--crs", "wgs84"],
            "--crs gives every file a coordinate system twice (EPSG:4527, wgs84)",
        ),
        (["--crs", "communities=wgs84", "--crs", "communities=gcj02"], "gives communities a coordinate system twice"),
        (["--fitness-paths", "{tmp}/nowhere.csv"], "--fitness-paths {tmp}/nowhere.csv: no such file"),
        (["--districts", "{tmp}"], "not a file"),
        (["--map", "fitness_paths.name=名称"], "no --fitness-paths file is given"),
        (["--map", "applications.community_id=编号"], "no --applications file is given"),
        (["--name", "长" * 61], "--name is 61 characters long; a city's name has at most 60"),
        (["--name-en", "x" * 61], "--name-en is 61 characters long"),
    ],
)
def test_a_bad_option_is_one_line_before_any_work(files, tmp_path, capsys, monkeypatch, extra, fragment):
    monkeypatch.setenv("PLANNER_LANG", "en")
    import geo.intake.newcity as newcity

    monkeypatch.setattr(newcity, "import_file", lambda *a, **k: pytest.fail("a file was read"))
    out = tmp_path / "city.gpkg"
    extra = [e.format(tmp=tmp_path) for e in extra]
    status, printed, err = run(capsys, "city", "init", "--out", out, "--communities", files["communities"], *extra)
    assert status == EXIT_ERROR and printed == ""
    assert err.count("\n") == 1 and fragment.format(tmp=tmp_path) in err
    assert not out.exists()


def test_a_pipe_as_input_is_refused_without_hanging(files, tmp_path):
    pipe = tmp_path / "survey.csv"
    os.mkfifo(pipe)  # no writer: opening it would block forever
    run = run_process("city", "init", "--out", tmp_path / "city.gpkg", "--communities", pipe, timeout=60)
    assert run.returncode == EXIT_ERROR and run.stdout == ""
    assert run.stderr == f"error: --communities {pipe}: not a file (a folder, a pipe or a device); give a file\n"


@pytest.mark.parametrize(
    "argv, option",
    [
        (["coverage", "--data", "{pipe}"], "--data"),
        (["plan", "--data", "{pipe}"], "--data"),
        (["sample", "--boundaries", "{pipe}", "--out", "{tmp}/s.gpkg"], "--boundaries"),
        (["--config", "{pipe}", "coverage"], "--config"),
    ],
)
def test_a_pipe_given_to_any_command_is_refused_without_hanging(tmp_path, argv, option):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    run = run_process(*(a.format(pipe=pipe, tmp=tmp_path) for a in argv), timeout=60)
    assert run.returncode == EXIT_ERROR and run.stdout == ""
    assert run.stderr == f"error: {option} {pipe}: not a file (a folder, a pipe or a device); give a file\n"


def test_a_device_as_input_is_refused(files, tmp_path, capsys):
    status, _, err = run(
        capsys, "city", "init", "--out", tmp_path / "c.gpkg", "--communities", files["communities"],
        "--applications", "/dev/zero",
    )  # fmt: skip
    assert status == EXIT_ERROR and "--applications /dev/zero" in err


def test_a_blank_name_is_no_name_and_the_crs_per_layer_is_kept(files, tmp_path, capsys):
    out = tmp_path / "city.gpkg"
    status, printed, err = run(
        capsys, "city", "init", "--out", out, "--communities", files["communities"], "--name", "  \t ",
        "--crs", f"communities = {othercity.GK_WITH_ZONE}", "--json",
    )  # fmt: skip
    assert status == 0, err
    report = json.loads(printed)
    assert report["city"] == "小区调查"  # the file's stem
    assert report["crs"] == {"used": othercity.GK_WITH_ZONE, "assumed": False}
    assert identity_of(load_city(out).other_layers).name_zh == "小区调查"


# ---------------------------------------------------------------- 4. no terminal control characters on stdout


def test_control_characters_in_names_and_cells_never_reach_stdout(files, tmp_path, capsys):
    rows = survey_rows(files)
    for i, row in enumerate(rows[1:]):
        row[0] = f"小区{i}{CONTROLS}\x1b[2J"
    folder = tmp_path / f"bad{CONTROLS}"
    folder.mkdir()
    survey = write_rows(folder / f"小区{CONTROLS}.csv", rows)
    out = tmp_path / "city.gpkg"
    for extra in ([], ["--json"]):
        status, printed, err = run(capsys, "city", "init", "--out", out, "--communities", survey, *extra)
        assert status == 0, err
        assert not has_control(printed), printed
    report = json.loads(printed)  # escaped, not lost: the JSON still says the name
    assert report["city"] == f"小区{CONTROLS}"
    for argv in (["eligibility", "--data", out], ["plan", "--data", out], ["coverage", "--data", out]):
        status, printed, err = run(capsys, *argv)
        assert status == 0, err
        assert not has_control(printed), printed
    status, _, err = run(capsys, "coverage", "--data", folder / "none.gpkg")
    assert status == EXIT_ERROR and not has_control(err)


# ---------------------------------------------------------------- 5. no stray warnings on stderr


def test_an_overflowing_coordinate_leaves_stderr_empty(files, tmp_path):
    rows = survey_rows(files)
    rows[1][4] = "POLYGON ((1e309 0, 1e309 1, 1 1, 1e309 0))"  # shapely warns of the overflow
    survey = write_rows(tmp_path / "inf.csv", rows)
    run = run_process("city", "init", "--out", tmp_path / "city.gpkg", "--communities", survey, "--json")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    report = json.loads(run.stdout)
    assert report["communities"]["accepted"] == 11 and report["communities"]["rejected"] == 1


# ---------------------------------------------------------------- 6. a plan that selects nothing


@pytest.mark.parametrize("lang, line", [("zh", "  没有选中任何小区"), ("en", "  no community is selected")])
def test_a_plan_that_selects_nothing_says_so(capsys, lang, line):
    status, printed, err = run(capsys, "plan", "--program", "city", "--budget", "city=1", "--lang", lang)
    assert status == 0, err
    assert printed.splitlines()[3] == line  # after the standard, the distance and the programme's line
    assert "Empty DataFrame" not in printed
