"""The app uses only Streamlit's supported API: no page triggers a Streamlit deprecation warning."""

from __future__ import annotations

import logging
import warnings

import pytest
from streamlit import deprecation_util
from streamlit.testing.v1 import AppTest

APP = "../app.py"
PAGES = [None, "views/eligibility.py", "views/priority_budget.py", "views/publish.py", "views/intake.py"]


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def deprecations(monkeypatch):
    """Streamlit's deprecation messages (its log) and Python's DeprecationWarnings from streamlit."""
    monkeypatch.setattr(deprecation_util, "_shown_warnings", set())  # "show once" warnings shown again
    recorder = _Recorder()
    logger = logging.getLogger(deprecation_util.__name__)
    logger.addHandler(recorder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield recorder.messages, caught
    logger.removeHandler(recorder)


@pytest.mark.parametrize("page", PAGES)
def test_no_page_uses_a_deprecated_streamlit_api(page, deprecations):
    logged, caught = deprecations
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    if page:
        app.switch_page(page)
        app.run()
    assert not app.exception, app.exception
    if page is None:
        assert app.get("iframe"), "the coverage page draws its map"
    streamlit_warnings = [
        str(w.message)
        for w in caught
        if issubclass(w.category, DeprecationWarning | FutureWarning) and "streamlit" in w.filename
    ]
    assert logged == [] and streamlit_warnings == []


def test_the_recorder_sees_a_deprecated_call(deprecations):
    """The check above can fail: the map call the app used before (``components.html``) is caught."""
    logged, _ = deprecations
    script = AppTest.from_string("import streamlit.components.v1 as c\nc.html('<p>x</p>', height=10)\n")
    script.run()
    assert any("st.iframe" in message for message in logged)
