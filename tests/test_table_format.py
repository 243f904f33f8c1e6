"""How the pages show values: totals rows, numbers, dates, missing cells, and text put into the stylesheet."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from geo.i18n import column_label, text
from views.intake import said_codes
from views.shared import _TOOLBAR_TOOLTIPS as TOOLBAR_TOOLTIPS
from views.shared import cell_text, css_string, number_formats, ui_stylesheet, with_total_row


def css_value(literal: str) -> str:
    """What a browser reads from a CSS string literal of :func:`css_string` (six-digit escapes only)."""
    assert literal[0] == literal[-1] == '"'
    return re.sub(r"\\([0-9a-f]{6})", lambda m: chr(int(m.group(1), 16)), literal[1:-1])


@pytest.mark.parametrize(
    "value", ["每个文件不超过 200 MB", 'a"b', "a\\b", "</style><script>x</script>", "x\ny }", "a b c"]
)
def test_a_css_string_holds_any_text_and_nothing_of_it_can_end_the_string(value):
    literal = css_string(value)
    assert css_value(literal) == value
    assert re.fullmatch(r'"([A-Za-z0-9]|\\[0-9a-f]{6})*"', literal)  # no quote, space, brace, < or line break


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_stylesheet_says_the_uploader_and_select_texts_in_the_language_with_the_configured_limit(lang):
    sheet = ui_stylesheet(lang, 150)
    said = {css_value(m) for m in re.findall(r'content: ("[^"]*")', sheet)}
    assert said == {
        text("uploader_button", lang),
        text("uploader_limit", lang, limit="150"),
        text("select_all", lang),
        text("no_results", lang),
        text("skip_to_content", lang),
        *(text(key, lang) for key in TOOLBAR_TOOLTIPS.values()),
        *(text(f"menu_{key}", lang) for key in ("theme_system", "theme_light", "theme_dark", "print", "record")),
    }
    assert "每个文件不超过 150 MB" in said if lang == "zh" else "Up to 150 MB per file" in said
    assert sheet.isascii() and "</" not in sheet


def test_a_totals_row_sums_the_counts_and_recomputes_the_share():
    table = pd.DataFrame(
        {
            "district_name": ["城中区", "鱼峰区", "空区"],
            "communities": [3, 1, 0],
            "served_within_radius": [1, 1, 0],
            "share_served_within_radius": [33.3, 100.0, np.nan],  # per cent, 1 decimal
        }
    )
    shares = {"share_served_within_radius": ("served_within_radius", "communities")}
    total = with_total_row(table, "合计", "district_name", ["communities", "served_within_radius"], shares, scale=100)
    assert len(total) == 4 and total.iloc[:3].equals(table)
    last = total.iloc[-1]
    assert last["district_name"] == "合计" and last["communities"] == 4 and last["served_within_radius"] == 2
    assert last["share_served_within_radius"] == 50.0  # 2 of 4, not 33.3 + 100
    assert total["communities"].dtype == table["communities"].dtype  # still whole numbers

    empty = with_total_row(table.iloc[2:], "合计", "district_name", ["communities", "served_within_radius"], shares)
    assert pd.isna(empty.iloc[-1]["share_served_within_radius"])  # no communities: no share, not a division by 0


def test_numbers_get_thousands_separators_but_years_and_row_numbers_do_not():
    frame = pd.DataFrame(
        {
            "name": ["甲"],
            "population": [583067],
            "cost_cny": [50000.0],
            "built_year": [1995],
            "rank": [1],
            "eligible": [True],
            "share_served_within_radius": [92.0],
        }
    )
    formats = number_formats(frame, "zh")
    shown = {label: config["type_config"]["format"] for label, config in formats.items()}
    assert shown == {
        text_column("population"): "localized",
        text_column("cost_cny"): "localized",
        text_column("built_year"): "plain",
        text_column("rank"): "plain",
        text_column("share_served_within_radius"): "%.1f",  # 92.0, not 92
    }


def text_column(name: str) -> str:
    return column_label(name, "zh")


@pytest.mark.parametrize(
    "value, plain, expected",
    [
        (None, False, ""),
        (np.nan, False, ""),
        (pd.NA, False, ""),
        (pd.NaT, False, ""),
        (pd.Timestamp("2018-03-01"), False, "2018-03-01"),  # not 2018-03-01 00:00:00
        (pd.Timestamp("2018-03-01 10:30"), False, "2018-03-01 10:30"),
        (1234567, False, "1,234,567"),
        (np.int64(1995), True, "1995"),
        (1234.5, False, "1,234.5"),
        (3.0, False, "3"),
        ([800, None, 950], False, "800; ; 950"),
        (True, False, "是"),
        ("城中区", False, "城中区"),
    ],
)
def test_a_mixed_cell_reads_as_people_write_it(value, plain, expected):
    assert cell_text(value, plain, "zh") == expected


def test_the_merge_conflicts_show_dates_as_dates_and_missing_values_empty():
    conflicts = pd.DataFrame(
        {
            "community_id": ["450202-0001", "450202-0002"],
            "kind": ["value", "value"],
            "column": ["application_date", "built_year"],
            "city_value": [pd.Timestamp("2018-03-01"), None],
            "values": [[pd.Timestamp("2019-01-02"), None], [1995, 2001]],
            "sources": [["城中区.xlsx", "城中区.xlsx"], ["a", "b"]],
            "rows": [[2, 1003], [4, 5]],
            "resolution": ["", ""],
        }
    )
    shown = said_codes(conflicts, "zh")
    assert list(shown["city_value"]) == ["2018-03-01", ""]
    assert list(shown["values"]) == ["2019-01-02; ", "1995; 2001"]  # a year without a separator
    assert list(shown["rows"]) == ["2; 1003", "4; 5"]
