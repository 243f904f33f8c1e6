"""views.shared.fail_gently: the user's mistakes are messages; anything else is a bug with a log reference."""

import logging
import re

import pytest

from geo.config import ConfigError
from geo.errors import DataError
from geo.i18n import text
from views import shared


class FakeStreamlit:
    """What fail_gently uses of ``st``: session_state (the language) and error()."""

    def __init__(self, lang):
        self.session_state = {"lang": lang}
        self.errors: list[str] = []

    def error(self, message):
        self.errors.append(message)


def shown(monkeypatch, error, lang="zh") -> str:
    fake = FakeStreamlit(lang)
    monkeypatch.setattr(shared, "st", fake)
    shared.fail_gently(error)
    assert len(fake.errors) == 1
    return fake.errors[0]


@pytest.mark.parametrize(
    "error",
    [DataError("row 3: no population"), ConfigError("row 3: no population")],
)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_users_mistakes_are_shown_as_a_message(monkeypatch, caplog, error, lang):
    with caplog.at_level(logging.DEBUG, logger="fitness-path-planner"):
        message = shown(monkeypatch, error, lang)
    assert message.startswith(text("error_data", lang)) and "no population" in message
    assert not caplog.records  # not a bug: nothing in the server's log


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_bug_is_logged_with_its_traceback_and_the_page_shows_the_reference(monkeypatch, caplog, lang):
    def broken():
        return {}["missing"]

    try:
        broken()
    except KeyError as error:
        bug = error
    with caplog.at_level(logging.ERROR, logger="fitness-path-planner"):
        message = shown(monkeypatch, bug, lang)
    [record] = caplog.records
    reference = re.fullmatch(r"internal error, reference ([0-9a-f]{8})", record.getMessage()).group(1)
    assert record.exc_info[1] is bug  # the traceback is in the log …
    assert "broken" in caplog.text and "KeyError" in caplog.text
    assert message == text("error_internal", lang, reference=reference)  # … and its reference on the page
    assert reference in message and "missing" not in message and "Traceback" not in message


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_plain_value_error_is_a_bug_not_the_users_mistake(monkeypatch, caplog, lang):
    """A library's ValueError (e.g. pandas' "cannot reindex on an axis with duplicate labels") says
    nothing a user can act on: it is logged as a bug with a reference, its text is not shown."""
    with caplog.at_level(logging.ERROR, logger="fitness-path-planner"):
        message = shown(monkeypatch, ValueError("cannot reindex on an axis with duplicate labels"), lang)
    [record] = caplog.records
    reference = re.fullmatch(r"internal error, reference ([0-9a-f]{8})", record.getMessage()).group(1)
    assert message == text("error_internal", lang, reference=reference)
    assert "reindex" not in message


def test_each_bug_gets_its_own_reference(monkeypatch, caplog):
    with caplog.at_level(logging.ERROR, logger="fitness-path-planner"):
        first, second = shown(monkeypatch, RuntimeError("x")), shown(monkeypatch, RuntimeError("x"))
    references = [re.search(r"[0-9a-f]{8}", record.getMessage()).group(0) for record in caplog.records]
    assert len(set(references)) == 2 and references[0] in first and references[1] in second


def test_the_internal_error_text_has_the_reference_in_both_languages():
    for lang in ("zh", "en"):
        assert "{reference}" in text("error_internal", lang)
        assert "abcd1234" in text("error_internal", lang, reference="abcd1234")


def test_a_bug_in_a_page_shows_the_reference_found_in_the_log(monkeypatch, caplog):
    """Through the app: the coverage page meets a bug; the page says so with the log's reference."""
    from streamlit.testing.v1 import AppTest

    def bug(*args, **kwargs):
        raise KeyError("district_name")

    monkeypatch.setattr(shared, "cached_summary", bug)
    app = AppTest.from_file("../app.py", default_timeout=120)
    with caplog.at_level(logging.ERROR, logger="fitness-path-planner"):
        app.run()
    assert not app.exception
    [record] = [r for r in caplog.records if r.getMessage().startswith("internal error")]
    reference = record.getMessage().rsplit(" ", 1)[1]
    assert [e.value for e in app.error] == [text("error_internal", "zh", reference=reference)]
    assert isinstance(record.exc_info[1], KeyError)
