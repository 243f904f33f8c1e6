"""In the browser (issue 17): the priority page's choices and plan are a fragment of their own.

A weight change reruns the choices, the plan and what follows them, not the app's navigation and sidebar
(what makes the new list show in under 0.2 s, ``benchmarks/bench_app.py``); a change in the sidebar still
reruns the whole page. What app.py checks at the start of a run is checked on the fragment's own rerun
too: an account disabled while its page is open gets the login page at its next weight change, not a plan, and
an account whose role may no longer open the page gets the pages of its new role.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from geo.store.accounts import add_user, disable_user
from geo.store.actors import Actor
from geo.store.db import open_store
from geo.store.schema import User
from tests.browser import OUTPUT, open_page, running_app, settle_run

PASSWORD = "correct horse battery"
SIDEBAR_TEXT = "数据文件".encode()  # the sidebar's caption (data_source): sent on every run of the whole app
FIGURE = '[data-testid="stMetricValue"]'  # the third is the first programme's residents newly within reach


@pytest.fixture(scope="module")
def store_and_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('store')}/store.sqlite"
    store = open_store(url)
    add_user(store, Actor.local(), "boss", PASSWORD, "admin")
    add_user(store, Actor("boss", "admin"), "ana", PASSWORD, "analyst")
    add_user(store, Actor("boss", "admin"), "leaving", PASSWORD, "analyst")
    add_user(store, Actor("boss", "admin"), "moved", PASSWORD, "analyst")
    with running_app("streamlit_priority_fragment.log", env={"PLANNER_DB_URL": url}) as (address, _):
        yield store, address


def log_in_to_priority(page, url: str, username: str) -> None:
    page.goto(f"{url}/priority")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.locator("h1", has_text="优先排序与预算").wait_for(timeout=60_000)
    page.locator(FIGURE).nth(2).wait_for(timeout=120_000)
    settle_run(page)
    page.get_by_text("优先得分权重").click()


def received_frames(page) -> list[bytes]:
    """Every websocket frame the page receives from now on (Streamlit's messages, protobuf: UTF-8 strings)."""
    frames: list[bytes] = []

    def keep(payload) -> None:
        frames.append(payload if isinstance(payload, bytes) else payload.encode())

    page.on("websocket", lambda socket: socket.on("framereceived", keep))
    return frames


def change_population_weight(page, key: str) -> None:
    slider = page.get_by_role("slider").first
    slider.wait_for(timeout=30_000)
    slider.focus()
    page.keyboard.press(key)


def test_a_weight_change_reruns_the_plan_not_the_sidebar(store_and_url, browser):
    _, url = store_and_url
    page, outside = open_page(browser, url)
    frames = received_frames(page)
    log_in_to_priority(page, url, "ana")
    assert any(SIDEBAR_TEXT in frame for frame in frames)  # the whole app's first run sent the sidebar
    before = page.locator(FIGURE).nth(2).inner_text()

    frames.clear()
    change_population_weight(page, "Home")  # population weight 25 → 0: another ranking
    page.wait_for_function(
        f"before => document.querySelectorAll('{FIGURE}')[2]?.innerText !== before", arg=before, timeout=60_000
    )
    settle_run(page)
    after = page.locator(FIGURE).nth(2).inner_text()
    assert after != before  # the new plan's residents, shown
    assert frames, "the weight change sent nothing"
    assert not any(SIDEBAR_TEXT in frame for frame in frames)  # only the page's fragment ran
    assert page.get_by_text("数据文件", exact=False).count() == 1  # the sidebar is still on the page
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "priority_fragment_zh.png"), full_page=True)

    # The walk radius (in the sidebar) changes the whole app: it runs all of it, the sidebar included.
    frames.clear()
    radius = page.get_by_label("步行服务半径（米）")
    radius.fill("600")
    radius.press("Enter")
    settle_run(page)
    assert any(SIDEBAR_TEXT in frame for frame in frames)
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()


def test_an_account_disabled_while_open_gets_the_login_at_its_next_change(store_and_url, browser):
    store, url = store_and_url
    page, _ = open_page(browser, url)
    log_in_to_priority(page, url, "leaving")
    disable_user(store, Actor("boss", "admin"), "leaving")  # the administrator, meanwhile

    change_population_weight(page, "End")  # a fragment's own rerun: it checks the login first
    page.locator("h1", has_text="登录").wait_for(timeout=60_000)
    time.sleep(0.5)
    assert page.locator("h1", has_text="优先排序与预算").count() == 0
    assert page.locator(FIGURE).count() == 0  # nothing of the plan is left on the page
    page.close()


def test_an_account_moved_to_a_role_without_the_page_leaves_it_at_its_next_change(store_and_url, browser):
    store, url = store_and_url
    page, _ = open_page(browser, url)
    log_in_to_priority(page, url, "moved")
    with store.session() as session, session.begin():  # as single sign-on's roles would change it
        user = session.scalar(select(User).where(User.username == "moved"))
        user.role, user.districts = "district", "450203"

    change_population_weight(page, "End")
    page.locator("h1", has_text="覆盖地图").wait_for(timeout=60_000)  # a district office's first page
    time.sleep(0.5)
    assert page.locator("h1", has_text="优先排序与预算").count() == 0
    assert page.get_by_text("moved · 区县文体部门 · 鱼峰区").is_visible()
    page.close()
