"""The coverage page's community search: a list of every community, or for a large city a text box whose
matches are listed (no list of 100,000 names sent on every run)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo import i18n
from geo.i18n import matching_labels, text

LABELS = {
    "C001": "柳江花园（柳北区）",
    "C002": "Riverside Court (Liubei)",
    "C010": "江景苑（城中区）",
    "X9": "旧厂宿舍（鱼峰区）",
}


def test_matches_by_name_or_id_in_order_case_ignored():
    assert matching_labels(LABELS, "江") == ({"C001": LABELS["C001"], "C010": LABELS["C010"]}, 2)
    assert matching_labels(LABELS, "  riverside ") == ({"C002": LABELS["C002"]}, 1)
    assert matching_labels(LABELS, "c01")[1] == 1  # an id, not a name
    assert matching_labels(LABELS, "C0", limit=2) == ({"C001": LABELS["C001"], "C002": LABELS["C002"]}, 3)


def test_nothing_typed_or_a_pattern_matches_nothing():
    assert matching_labels(LABELS, "   ") == ({}, 0)
    assert matching_labels(LABELS, ".*") == ({}, 0)  # plain text, never a regular expression
    assert matching_labels(LABELS, "[") == ({}, 0)


def coverage_page(lang: str = "zh") -> AppTest:
    app = AppTest.from_file("../app.py", default_timeout=120)
    app.session_state["lang"] = lang
    app.run()
    assert not app.exception, app.exception
    return app


def test_the_sample_lists_every_community():
    app = coverage_page()
    box = next(s for s in app.selectbox if s.label == text("search_community", "zh"))
    assert len(box.options) == 2500
    assert not [i for i in app.text_input if i.label == text("search_by_text", "zh")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_large_city_lists_only_the_matches_of_typed_text(monkeypatch, lang):
    monkeypatch.setattr(i18n, "SEARCH_LIST_MAX", 1_000)  # the sample's 2,500 stand for a large city
    app = coverage_page(lang)
    assert not [s for s in app.selectbox if s.label == text("search_community", lang)]
    box = next(i for i in app.text_input if i.label == text("search_by_text", lang))
    box.set_value("花园").run()  # a name part: more matches than are listed
    assert not app.exception
    heading = text("search_matches", lang, count=0, shown=0).split("0")[0]
    matches = next(s for s in app.selectbox if s.label.startswith(heading))
    assert len(matches.options) == i18n.SEARCH_MATCHES_SHOWN and all("花园" in o for o in matches.options)
    assert matches.value is not None and matches.options[0].startswith(str(matches.value)) is False  # labels shown
    box.set_value(" 450202-0007 ").run()  # an id, spaces around it
    matches = next(s for s in app.selectbox if s.label.startswith(heading))
    assert matches.value == "450202-0007" and len(matches.options) == 1 and "鹅峰名都" in matches.options[0]
    assert matches.label == text("search_matches", lang, count=1, shown=1)
    box.set_value("没有这样的小区").run()
    assert text("search_no_match", lang) in [c.value for c in app.caption]
