"""In the browser (issue 14): a district office logs in and sees only its district; a page of another role
opened by its address does not run; logging out leaves the login page.

A login lasts as long as the browser's Streamlit session: a reload or a typed address starts a new
session, which logs in again (no password cookie; single sign-on keeps Streamlit's identity cookie)."""

from __future__ import annotations

import time

import pytest

from geo.store.accounts import add_user
from geo.store.actors import Actor
from geo.store.db import open_store
from tests.browser import COUNT_COMMUNITIES_JS, OUTPUT, map_frame, open_page, running_app

PASSWORD = "correct horse battery"
YUFENG_COMMUNITIES = 503  # the sample's 鱼峰区 (450203)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('store')}/store.sqlite"
    store = open_store(url)
    add_user(store, Actor.local(), "boss", PASSWORD, "admin")
    add_user(store, Actor("boss", "admin"), "yufeng", PASSWORD, "district", ["450203"])
    with running_app("streamlit_accounts.log", env={"PLANNER_DB_URL": url}) as (address, _):
        yield address


def log_in(page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_district_office_logs_in_and_sees_only_its_district(app_url, browser):
    page, outside = open_page(browser, app_url)
    page.goto(app_url)
    page.locator("h1", has_text="登录").wait_for(timeout=30_000)
    assert page.get_by_text("覆盖地图").count() == 0  # no page of the app before logging in
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "login_zh.png"), full_page=True)
    log_in(page, "yufeng")
    page.locator("h1", has_text="覆盖地图").wait_for(timeout=60_000)
    assert page.get_by_text("yufeng · 区县文体部门 · 鱼峰区").is_visible()
    frame = map_frame(page)
    time.sleep(1.0)  # let the last layers settle before counting
    assert frame.evaluate(COUNT_COMMUNITIES_JS) == YUFENG_COMMUNITIES
    page.screenshot(path=str(OUTPUT / "district_coverage_zh.png"), full_page=True)

    navigation = page.locator('[data-testid="stSidebarNav"]')
    assert navigation.get_by_text("资格核查").count() == 1
    assert navigation.get_by_text("优先排序与预算").count() == 0  # not a district office's page

    # Opened by its address (a new browser session: log in again), the priority page does not run.
    page.goto(f"{app_url}/priority")
    page.locator("h1", has_text="登录").wait_for(timeout=30_000)
    log_in(page, "yufeng")
    page.locator("h1", has_text="覆盖地图").wait_for(timeout=60_000)
    assert page.locator("h1", has_text="优先排序与预算").count() == 0

    page.get_by_role("button", name="退出登录").click()
    page.locator("h1", has_text="登录").wait_for(timeout=30_000)
    page.screenshot(path=str(OUTPUT / "logged_out_zh.png"), full_page=True)
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()


def test_a_link_to_a_page_opens_the_login_then_that_page(app_url, browser):
    page, outside = open_page(browser, app_url)
    page.goto(f"{app_url}/audit")
    page.locator("h1", has_text="登录").wait_for(timeout=30_000)
    time.sleep(0.5)
    assert page.get_by_text("Page not found").count() == 0  # no dialog over the login form
    log_in(page, "boss")
    page.locator("h1", has_text="操作记录").wait_for(timeout=60_000)
    page.get_by_text("共 2 条记录（最新的在前）").wait_for(timeout=30_000)  # the two accounts made above
    page.screenshot(path=str(OUTPUT / "audit_zh.png"), full_page=True)
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()
