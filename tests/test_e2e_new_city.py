"""End to end in a real browser: another city's survey (Hefei, tests/othercity.py) becomes the session's city.

A district office that has never seen our template uploads its three files on the 新建城市 / New city
page, checks the columns, names the city 合肥市, previews it, saves it, and the coverage map then shows
合肥市 with its districts 蜀山区 and 包河区 and its 12 communities. Once in Chinese, once in English.
Screenshots of every step go to ``test-output/e2e/new_city_<lang>_<step>.png``; see tests/browser.py.
"""

from __future__ import annotations

import time

import pytest

from tests import othercity
from tests.browser import COUNT_COMMUNITIES_JS, map_frame, open_page, running_app, whole_page_shot
from tests.browser import settle_run as settle

WORDS = {
    "zh": {
        "title": "新建城市",
        "fields": "字段对应",
        "own_crs": "文件自带坐标系",
        "guess": "按坐标推测",
        "name": "城市名称（中文）",
        "name_en": "城市名称（英文，可选）",
        "preview": "生成预览",
        "built": "预览已生成",
        "districts": "区县：2 个（来自区县边界文件） — 蜀山区、包河区",
        "save": "保存为城市，并在所有页面中分析",
        "saved": "已保存并采用“合肥市”：2 个区县、12 个小区、1 套健身路径",
        "open_map": "在覆盖地图中查看",
        "coverage": "覆盖地图",
        "communities": "小区总数",
    },
    "en": {
        "title": "New city",
        "fields": "Fields (",
        "own_crs": "The file declares its coordinate system",
        "guess": "Guessed from the coordinates",
        "name": "City name (Chinese)",
        "name_en": "City name (English, optional)",
        "preview": "Build a preview",
        "built": "Preview ready",
        "districts": "Districts: 2 (from the district boundaries file) — 蜀山区, 包河区",
        "save": "Save as the city and analyse it on every page",
        "saved": "Saved and in use: “Hefei” (districts: 2, communities: 12, fitness paths: 1)",
        "open_map": "See it on the coverage map",
        "coverage": "Coverage map",
        "communities": "Communities",
    },
}


@pytest.fixture(scope="module")
def app_url():
    with running_app("streamlit_new_city.log") as (url, _):
        yield url


def type_into(page, label: str, value: str) -> None:
    """Type ``value`` into the text box ``label`` and wait until the app has it."""
    box = page.get_by_label(label)
    box.fill(value)
    box.press("Enter")
    settle(page)
    assert box.input_value() == value


def shot(page, lang: str, step: str) -> None:
    whole_page_shot(page, f"new_city_{lang}_{step}.png")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_hefei_survey_becomes_the_city_every_page_analyses(app_url, browser, tmp_path, lang):
    words = WORDS[lang]
    files = othercity.write_files(tmp_path)
    page, outside = open_page(browser, app_url)
    page.goto(app_url)
    page.locator("h1", has_text="覆盖地图").wait_for(timeout=60_000)
    if lang == "en":
        page.get_by_test_id("stSidebarUserContent").get_by_text("English", exact=True).click()
        page.locator("h1", has_text="Coverage map").wait_for(timeout=60_000)
    # Move within the session (a fresh page load would start a new session with the sample): in Chinese
    # through the data page's link to it, in English through the sidebar.
    if lang == "zh":
        page.get_by_role("link", name="数据导入").click()
        page.locator("h1", has_text="数据导入").wait_for(timeout=30_000)
        page.get_by_role("link", name="没有模板格式的数据？用本单位自己的文件新建一个城市").click()
    else:
        page.get_by_role("link", name=words["title"]).click()
    page.locator("h1", has_text=words["title"]).wait_for(timeout=30_000)
    shot(page, lang, "1_empty")

    inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    inputs.nth(0).set_input_files(str(files["communities"]))
    page.get_by_text(words["guess"]).first.wait_for(timeout=60_000)
    inputs.nth(1).set_input_files(str(files["districts"]))
    page.get_by_text(words["own_crs"]).first.wait_for(timeout=60_000)
    inputs.nth(2).set_input_files(str(files["fitness_paths"]))
    deadline = time.monotonic() + 60
    while page.get_by_text(words["fields"]).count() < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert page.get_by_text(words["fields"]).count() == 3  # one set of drop-downs per file
    assert "EPSG:4527" in page.get_by_text(words["guess"]).first.inner_text()
    shot(page, lang, "2_columns")

    settle(page)
    type_into(page, words["name"], "合肥市")
    if lang == "en":
        type_into(page, words["name_en"], "Hefei")
    page.get_by_role("button", name=words["preview"]).click()
    page.get_by_text(words["built"]).wait_for(timeout=90_000)
    page.get_by_text(words["districts"]).wait_for(timeout=30_000)
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values[:7] == ["12", "12", "0", "12", "1", "1", "0"]
    map_frame(page)
    shot(page, lang, "3_preview")

    page.get_by_role("button", name=words["save"]).click()
    page.get_by_text(words["saved"]).wait_for(timeout=60_000)
    sidebar = page.get_by_test_id("stSidebarUserContent")
    assert ("合肥市" if lang == "zh" else "Hefei") in sidebar.inner_text()  # the city's name in the page's language
    shot(page, lang, "4_saved")

    page.get_by_role("link", name=words["open_map"]).click()
    page.locator("h1", has_text=words["coverage"]).wait_for(timeout=30_000)
    frame = map_frame(page)
    deadline = time.monotonic() + 30
    while frame.evaluate(COUNT_COMMUNITIES_JS) != 12 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert frame.evaluate(COUNT_COMMUNITIES_JS) == 12
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == "12"
    names = frame.evaluate(
        """() => {
          const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
          const found = new Set();
          map.eachLayer(layer => {
            const p = layer.feature && layer.feature.properties;
            if (p && p.district_code && !p.community_id) found.add(p.label);
          });
          return [...found].sort();
        }"""
    )
    assert names == ["包河区", "蜀山区"]
    assert ("合肥市" if lang == "zh" else "Hefei") in page.get_by_test_id("stSidebarUserContent").inner_text()
    bureau = {"zh": "合肥市体育局", "en": "Hefei Sports Bureau"}[lang]  # the city file names itself
    assert bureau in page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").first.inner_text()
    shot(page, lang, "5_coverage")
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()
