"""The data page's account of an upload: a table per layer in the page's language, and no application set aside unsaid.

The hand-made city of tests/test_assemble.py: communities 450202-0001 … 0003, fitness paths FP1
and FP2, applications of 0001 and 0002.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.i18n import text
from geo.intake.assemble import CHANGE_COLUMNS, assemble_city
from tests.handmade_city import community, current_city, imported, square
from views.intake import changes_table
from views.new_city import applications_left_behind

APP = "../app.py"
NA = pd.NA


def replaced():
    """The city replaced by a file of 0001 (a new outline), a new community, and one row the checks refused."""
    upload = imported(
        [community("450202-0001", "阳光花园", square(0.05), population=1200), community(None, "新苑", square(0.1))]
    )
    upload = replace(upload, rejects=pd.DataFrame({"sheet_row": [9]}))
    return assemble_city(current_city(), upload, "replace", source="全市.xlsx")


def merged():
    """A district return: 0002's population changed (by ID, no coordinates), a new community, 0003 applies."""
    upload = imported(
        [
            community("450202-0002", "ABC小区", population=900),
            community(None, "新苑", square(0.2), population=300),
            community("450202-0003", "柳江新村", application_date=pd.Timestamp("2021-04-01")),
        ]
    )
    upload = replace(upload, accepted=upload.accepted.assign(application_date=[NA, NA, pd.Timestamp("2021-04-01")]))
    return assemble_city(current_city(), upload, "merge", source="城中区.xlsx")


def rows(changes: pd.DataFrame) -> dict:
    return {layer: [None if pd.isna(v) else int(v) for v in values] for layer, values in changes.iterrows()}


def test_a_replace_counts_what_each_layer_gains_and_loses():
    changes = replaced().changes()
    assert list(changes.columns) == list(CHANGE_COLUMNS)
    # before, added, updated, unchanged, removed, rejected, after
    assert rows(changes) == {
        "communities": [3, 1, 1, 0, 2, 1, 2],
        "fitness_paths": [2, 0, 0, 0, 2, 0, 0],
        "applications": [2, 0, 0, 1, 1, None, 1],  # 0002's application set aside, not lost
    }
    assert replaced().summary()["applications_set_aside"] == 1


def test_a_merge_counts_updates_additions_and_returned_applications():
    changes = merged().changes()
    assert rows(changes) == {
        "communities": [3, 1, 2, 1, 0, 0, 4],  # 0002 (population) and 0003 (its application date) updated
        "fitness_paths": [2, 0, 0, 2, 0, 0, 2],
        "applications": [2, 1, 0, 2, 0, None, 3],  # 0003's application came with the return
    }
    for _, row in changes.iterrows():
        assert row["after"] == row["unchanged"] + row["updated"] + row["added"]


@pytest.mark.parametrize(
    "lang, layers, headers",
    [
        (
            "zh",
            ["小区", "健身路径（套）", "申请"],
            ["数据", "导入前", "新增", "更新", "未变", "移出", "未采用的行", "导入后"],
        ),
        (
            "en",
            ["Communities", "Fitness paths (sets)", "Applications"],
            ["Data", "Before", "Added", "Updated", "Unchanged", "Taken out", "Rows not used", "After"],
        ),
    ],
)
def test_the_summary_table_is_labelled_in_the_pages_language(lang, layers, headers):
    table = changes_table(replaced().changes(), lang)
    assert list(table.columns) == headers
    assert list(table[headers[0]]) == layers
    assert table[headers[6]].isna().tolist() == [False, False, True]  # no file rows for applications: empty


def _intake_page(assembled) -> AppTest:
    """The data page after a check of ``assembled`` (what the 校验 button leaves in the session)."""
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("views/intake.py")
    app.run()
    upload = imported([community("450202-0001", "阳光花园", square(0.05))])
    app.session_state["intake_results"] = (upload, None, assembled, "全市.xlsx")
    app.run()
    assert not app.exception, app.exception
    return app


def _use_button(app):
    return next(b for b in app.button if b.label == text("intake_use", "zh"))


def test_a_replace_that_sets_applications_aside_says_how_many_and_waits_for_a_confirmation():
    lang = "zh"  # (the English labels: test_the_summary_table_is_labelled_in_the_pages_language)
    app = _intake_page(replaced())
    assert text("intake_replace_sets_aside", lang, count="1") in [w.value for w in app.warning]
    summary = app.dataframe[0].value
    assert summary.columns[0] == text("changes_layer", lang)
    assert _use_button(app).disabled  # nothing replaced before the user says so
    confirm = next(c for c in app.checkbox if c.label == text("intake_replace_confirm", lang, count="1"))
    confirm.check().run()
    assert not _use_button(app).disabled
    assert "uploaded_data" not in app.session_state  # confirming alone replaces nothing


def test_an_upload_that_keeps_every_application_asks_nothing():
    app = _intake_page(merged())
    assert not any(text("intake_replace_sets_aside", "zh", count="1") == w.value for w in app.warning)
    assert not _use_button(app).disabled
    assert len(app.checkbox) == 0 or all("申请" not in c.label for c in app.checkbox)


def test_a_new_city_without_applications_leaves_the_current_ones_behind_and_says_how_many():
    current = current_city()  # 2 applications
    unmatched = pd.DataFrame({"community_id": ["450202-0009"], "application_date": [pd.Timestamp("2020-01-01")]})
    with_unmatched = replace(current, other_layers={"applications_unmatched": unmatched})
    bare = replace(current, applications=None)
    assert applications_left_behind(current, bare) == 2
    assert applications_left_behind(with_unmatched, bare) == 3  # the ones kept apart count too
    assert applications_left_behind(current, current) == 0  # the new city brings its own list
    assert applications_left_behind(bare, bare) == 0
