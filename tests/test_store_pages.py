"""The pages of the system of record (issue 14), page side of the review: upload limits said per uploader,
the publish page's approved plan, the saved plan's figures, the save and installation forms."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.i18n import text
from views import shared


def test_an_uploaders_own_limit_is_a_rule_more_specific_than_the_one_for_every_uploader():
    general = shared.ui_stylesheet("zh", 200)
    own = shared.uploader_limit_css("inspections_photos", "zh", 10)
    assert shared.css_string(text("uploader_limit", "zh", limit="200")) in general
    assert own.startswith('[class*="st-key-inspections_photos"] [data-testid="stFileUploaderDropzoneInstructions"]')
    assert own.endswith(f"::after {{ content: {shared.css_string(text('uploader_limit', 'zh', limit='10'))}; }}")
    assert shared.css_string(text("uploader_limit", "en", limit="20")) in shared.uploader_limit_css("a-", "en", 20.0)


@pytest.mark.parametrize("key", ['x"] body', "a b", "", "ä"])
def test_an_uploaders_key_that_could_break_out_of_the_selector_is_refused(key):
    with pytest.raises(ValueError):
        shared.uploader_limit_css(key, "zh", 10)


# --------------------------------------------------------------------------- the installation form


def test_the_installation_forms_cost_is_the_chosen_picks_planned_cost(tmp_path, monkeypatch):
    from sqlalchemy import update

    from geo.config import DEFAULT_DATA_PATH
    from geo.pipeline import load_city
    from geo.store.actors import Actor
    from geo.store.db import open_store
    from geo.store.plans import approve_plan
    from geo.store.schema import PlanPick
    from tests.store_helpers import seed_plan

    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    store = open_store(url)
    sample = load_city(DEFAULT_DATA_PATH)
    first, second = (str(c) for c in sample.communities["community_id"].iloc[:2])
    plan_id = seed_plan(store, sample, picks=(first, second), status="proposed", cost=50_000)
    with store.session() as session, session.begin():  # the second pick planned dearer (before approval freezes it)
        session.execute(update(PlanPick).where(PlanPick.community_id == second).values(cost_cny=61_500))
    approve_plan(store, Actor("chief", "admin"), plan_id)

    app = AppTest.from_file("../views/installations.py", default_timeout=120)
    app.session_state["actor"] = Actor("wang", "planner")
    app.session_state["lang"] = "zh"
    app.run()

    def offered():
        [cost] = [n for n in app.number_input if n.label == "实际费用（元）"]
        return cost.value, cost.help

    assert offered() == (50_000, text("installations_cost_help", "zh", planned="50,000"))
    app.selectbox(key="installations_community").set_value(second).run()
    assert offered() == (61_500, text("installations_cost_help", "zh", planned="61,500"))
    assert not app.exception and not app.error
