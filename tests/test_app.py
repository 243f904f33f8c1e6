"""The Streamlit app renders the coverage summary the pipeline computes, in both languages."""

import pytest
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.pipeline import coverage_report, load_city


@pytest.fixture(scope="module")
def expected():
    return coverage_report(load_city(DEFAULT_DATA_PATH), load_config().walk_radius_m)


def run_app():
    app = AppTest.from_file("../app.py", default_timeout=120)
    return app.run()


def metric_values(app):
    return {m.label: m.value for m in app.metric}


def test_app_shows_the_pipeline_numbers_in_chinese(expected):
    app = run_app()
    assert not app.exception and not app.error
    metrics = metric_values(app)
    assert metrics["小区总数"] == f"{expected.total['communities']:,}"
    assert metrics["小区内已有健身路径"] == f"{expected.total['served_inside']:,}"
    assert metrics["步行范围内已覆盖"] == f"{expected.total['served_within_radius']:,}"
    table = app.dataframe[0].value
    assert list(table["区县"])[:5] == ["城中区", "鱼峰区", "柳南区", "柳北区", "柳江区"]
    assert table["小区数"].sum() == 2500
    assert any("虚构" in info.value for info in app.info)  # the sample is said to be synthetic


def test_language_switch_to_english():
    app = run_app()
    app.sidebar.radio[0].set_value("English").run()
    assert not app.exception
    assert "Communities" in metric_values(app)
    table = app.dataframe[0].value
    assert "Chengzhong District" in list(table["District"])
    assert app.title[0].value == "Fitness-path coverage"


def test_walk_radius_changes_coverage(expected):
    app = run_app()
    app.sidebar.number_input[0].set_value(1000).run()
    assert not app.exception
    wider = int(metric_values(app)["步行范围内已覆盖"].replace(",", ""))
    assert wider > expected.total["served_within_radius"]
    assert metric_values(app)["小区内已有健身路径"] == f"{expected.total['served_inside']:,}"


def test_district_choice_limits_the_table():
    app = run_app()
    app.sidebar.selectbox[0].set_value("450226").run()
    assert not app.exception
    assert list(app.dataframe[0].value["区县"]) == ["三江侗族自治县"]
