"""The service standard as a user meets it in the browser (issue 13): the district filter changes the
headline figures, and a plan under the walk standard that cannot gain more says so and keeps the money."""

from __future__ import annotations

import re

import geopandas as gpd

from geo.config import DEFAULT_CONFIG_PATH, DEFAULT_DATA_PATH
from geo.data.gpkg import write_layers
from geo.pipeline import load_city
from tests.browser import map_frame, open_page, running_app
from tests.helpers import CLUSTER
from tests.helpers import square_city as city

DISTRICT = "450205"  # 柳北区


def small_city(folder):
    """Three communities 200 m apart in one district of the sample, no set yet: one set reaches all three."""
    sample = load_city(DEFAULT_DATA_PATH)
    communities, paths = city(CLUSTER, [1000, 800, 600])
    district = sample.districts[sample.districts["district_code"] == DISTRICT]
    # Move the cluster to the district's inside point, keeping its shape (metres in UTM 49N).
    target = district.to_crs("EPSG:32649").geometry.representative_point().iloc[0]
    metric = communities.to_crs("EPSG:32649")
    first = metric.geometry.iloc[0].centroid
    metric["geometry"] = metric.geometry.translate(target.x - first.x, target.y - first.y)
    communities = metric.to_crs("EPSG:4326").assign(district_code=DISTRICT)
    communities["district_name"] = district["district_name"].iloc[0]
    path = folder / "small.gpkg"
    write_layers(
        path,
        {
            "districts": sample.districts,
            "communities": gpd.GeoDataFrame(communities, crs="EPSG:4326"),
            "fitness_paths": paths.iloc[0:0].assign(funding_source="city"),
        },
    )
    config = folder / "config.toml"
    config.write_text(
        DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace('standard = "inside"', 'standard = "walk"'),
        encoding="utf-8",
    )
    return path, config


def headline(page) -> dict[str, str]:
    page.wait_for_selector('[data-testid="stMetric"]')
    values = {}
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        values[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return values


def test_the_district_filter_changes_the_headline_figures(browser):
    sample = load_city(DEFAULT_DATA_PATH)
    mine = sample.communities[sample.communities["district_code"] == DISTRICT]
    name = sample.districts.set_index("district_code").loc[DISTRICT, "district_name"]
    with running_app("standard_district.log") as (url, _):
        page, outside = open_page(browser, url)
        page.goto(url)
        map_frame(page)
        # The headline's labels, not only its boxes: under load a metric can be in the page before its label.
        page.locator('[data-testid="stMetricLabel"]', has_text="小区总数").first.wait_for(timeout=60_000)
        assert headline(page)["小区总数"] == f"{len(sample.communities):,}"
        page.locator('[data-testid="stSelectbox"]').nth(0).click()
        page.get_by_role("option", name=name, exact=True).click()
        page.wait_for_function(
            "(n) => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() === n)",
            arg=f"{len(mine):,}",
            timeout=30_000,
        )
        shown = headline(page)
        assert shown["小区总数"] == f"{len(mine):,}"

        page.screenshot(path="test-output/e2e/standard_district.png", full_page=True)
        assert outside == []
        page.close()


def test_a_walk_plan_that_cannot_gain_more_says_so(browser, tmp_path):
    data, config = small_city(tmp_path)
    with running_app("standard_walk.log", env={"PLANNER_DATA": str(data), "PLANNER_CONFIG": str(config)}) as (url, _):
        page, outside = open_page(browser, url)
        page.goto(f"{url}/priority")
        page.wait_for_selector("text=服务标准：步行半径内有健身路径", timeout=60_000)
        # 600,000 buys 12 sets; one reaches all three communities, and the plan keeps the rest.
        page.wait_for_selector("text=余下 550,000 元未使用", timeout=60_000)
        page.wait_for_selector("text=余下 5,000,000 元未使用", timeout=60_000)
        page.wait_for_selector("text=两种方式为何不同", timeout=60_000)  # the end of the page: all drawn
        page.wait_for_function("() => !document.querySelector('[data-testid=stSkeleton]')", timeout=60_000)
        page.screenshot(path="test-output/e2e/standard_walk_stop.png", full_page=True)
        body = page.locator("body").inner_text()
        assert "1 套" in body and "其余 2 个候选小区再建也不能增加覆盖" in body
        page.screenshot(path="test-output/e2e/standard_walk_stop.png", full_page=True)
        assert outside == []
        page.close()


def test_the_notice_carries_the_period_the_feedback_channel_and_the_stop_and_opens_offline(browser, tmp_path):
    data, config = small_city(tmp_path)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "contact_zh = []", 'contact_zh = ["意见反馈：柳州体育网“局长信箱”", "群众反馈电话：8250159"]'
        ),
        encoding="utf-8",
    )
    with running_app("standard_notice.log", env={"PLANNER_DATA": str(data), "PLANNER_CONFIG": str(config)}) as (
        url,
        _,
    ):
        page, outside = open_page(browser, url)
        page.goto(f"{url}/publish")
        button = page.get_by_role("button", name="下载公示页面（HTML）")
        button.wait_for(timeout=60_000)
        assert page.get_by_text("公示页还没有意见反馈渠道").count() == 0
        with page.expect_download(timeout=60_000) as download:
            button.click()
        target = tmp_path / "notice.html"
        download.value.save_as(str(target))
        assert outside == []
        page.close()
    notice, notice_outside = open_page(browser, "file://")
    notice.goto(target.as_uri())
    map_frame(notice)
    body = notice.locator("body").inner_text()
    assert re.search(r"公示期：\d{4}年\d{1,2}月\d{1,2}日至\d{4}年\d{1,2}月\d{1,2}日。", body)
    assert "群众反馈电话：8250159" in body and "意见反馈：柳州体育网“局长信箱”" in body
    assert "服务标准：每个小区步行 500 米范围内有一套健身路径" in body
    assert "市本级：按现行服务标准，其余候选小区再建也不能增加覆盖，方案到此为止，余下 550,000 元未使用。" in body
    notice.screenshot(path="test-output/e2e/standard_notice.png", full_page=True)
    assert [u for u in notice_outside if not u.startswith("file://")] == []
    notice.close()
