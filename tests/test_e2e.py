"""End to end in a real browser: the app as `make run` starts it, in headless Chromium, offline.

See tests/browser.py for the set-up (Debian's Chromium through Playwright; skipped without it on a
developer machine, failing in CI). Screenshots go to ``test-output/e2e/``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.browser import (
    COUNT_COMMUNITIES_JS,
    OUTPUT,
    map_frame,
    open_page,
    running_app,
)


@pytest.fixture(scope="module")
def app_url():
    """Start the app with the command `make run` uses, on a free port; stop it afterwards."""
    with running_app() as (url, _):
        yield url


def test_coverage_map_draws_every_community_offline(app_url, browser):
    page, outside = open_page(browser, app_url)
    page.goto(app_url)
    frame = map_frame(page)
    time.sleep(1.0)  # let the last layers settle before counting
    assert frame.evaluate(COUNT_COMMUNITIES_JS) == 2500
    legend = frame.locator("text=小区内已有健身路径").first
    assert legend.is_visible()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "coverage_zh.png"), full_page=True)
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()


def test_language_switch_and_other_pages(app_url, browser):
    page, outside = open_page(browser, app_url)
    page.goto(app_url)
    map_frame(page)
    page.get_by_text("English", exact=True).click()
    page.locator("h1", has_text="Coverage map").wait_for(timeout=30_000)
    assert page.get_by_text("Communities", exact=True).first.is_visible()
    english_map = None
    deadline = time.monotonic() + 60
    while english_map is None and time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.locator("text=Set inside the community").count():
                    english_map = frame
            except Exception:  # a frame being replaced
                continue
        time.sleep(0.2)
    assert english_map is not None, "the map's legend did not switch to English"
    page.screenshot(path=str(OUTPUT / "coverage_en.png"), full_page=True)

    page.goto(f"{app_url}/priority")
    page.locator("h1", has_text="优先排序与预算").wait_for(timeout=30_000)
    time.sleep(0.5)
    assert page.get_by_text("Page not found").count() == 0  # a direct link opens its page
    map_frame(page)
    page.screenshot(path=str(OUTPUT / "priority.png"), full_page=True)
    page.goto(f"{app_url}/eligibility")
    map_frame(page)
    page.screenshot(path=str(OUTPUT / "eligibility.png"), full_page=True)
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()


def test_publish_page_downloads_a_self_contained_notice(app_url, browser):
    page, outside = open_page(browser, app_url)
    page.goto(f"{app_url}/publish")
    button = page.get_by_role("button", name="下载公示页面（HTML）")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=60_000) as download:
        button.click()
    target = OUTPUT / "notice.html"
    download.value.save_as(str(target))
    html = target.read_text(encoding="utf-8")
    assert "柳州市健身路径建设计划（公示）" in html and "市本级" in html and "自治区补助" in html
    assert "<script src=" not in html
    # Open the saved notice from disk, offline: it must draw its map with no request at all.
    notice, notice_outside = open_page(browser, "file://")
    notice.goto(target.as_uri())
    frame = map_frame(notice)
    assert frame.evaluate(COUNT_COMMUNITIES_JS) == 2500
    notice.screenshot(path=str(OUTPUT / "notice.png"), full_page=True)
    assert outside == [] and [u for u in notice_outside if not u.startswith("file://")] == []
    page.close()
    notice.close()


def _filled_survey(folder: Path) -> Path:
    """The survey template as a district office returns it: two new communities picked on Amap."""
    import openpyxl

    from geo.config import BOUNDARIES_PATH
    from geo.data.crs import wgs84_to_gcj02
    from geo.data.io import read_districts
    from geo.intake.template import write_survey_template

    path = write_survey_template(folder / "城中区调查表.xlsx", read_districts(BOUNDARIES_PATH))
    book = openpyxl.load_workbook(path)
    sheet = book["小区调查"]
    headers = [cell.value for cell in sheet[1]]
    for r, (lon, lat, name) in enumerate([(109.4172, 24.3195, "示例新村"), (109.4231, 24.3104, "示例花园")], start=2):
        gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
        row = {
            "名称": name,
            "区县": "城中区",
            "经度": float(gcj_lon),
            "纬度": float(gcj_lat),
            "坐标系": "GCJ-02",
            "人口": 800,
            "可用空地（平方米）": 500,
            "公共空间用于停车": "否",
        }
        for header, value in row.items():
            sheet.cell(row=r, column=headers.index(header) + 1, value=value)
    sheet.cell(row=4, column=headers.index("名称") + 1, value="无区县小区")  # rejected: no district
    book.save(path)
    return path


def test_upload_a_survey_and_analyse_it_everywhere(app_url, browser, tmp_path):
    page, outside = open_page(browser, app_url)
    page.goto(f"{app_url}/intake")
    page.locator("h1", has_text="数据导入").wait_for(timeout=60_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(_filled_survey(tmp_path)))
    page.get_by_text("作为区县填报，合并到当前数据").click()
    page.get_by_role("button", name="校验").click()
    page.get_by_text("下载未通过的行（CSV）").wait_for(timeout=60_000)
    page.locator('[data-testid="stMetricValue"]').nth(2).wait_for(timeout=30_000)
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values[:3] == ["3", "2", "1"]  # rows, accepted, rejected
    page.screenshot(path=str(OUTPUT / "intake.png"), full_page=True)
    page.get_by_role("button", name="3. 在所有页面中分析这些数据").click()
    page.get_by_text("已采用：2502 个小区").wait_for(timeout=60_000)
    # Move within the session (a fresh page load would start a new session with the sample).
    page.get_by_role("link", name="覆盖地图").click()
    page.locator("h1", has_text="覆盖地图").wait_for(timeout=30_000)
    frame = map_frame(page)
    deadline = time.monotonic() + 30
    while frame.evaluate(COUNT_COMMUNITIES_JS) != 2502 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert frame.evaluate(COUNT_COMMUNITIES_JS) == 2502
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == "2,502"
    page.get_by_role("button", name="返回示例数据").click()
    page.locator('[data-testid="stMetricValue"]').first.filter(has_text="2,500").wait_for(timeout=30_000)
    assert outside == []
    page.close()
