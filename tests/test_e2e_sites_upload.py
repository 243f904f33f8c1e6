"""End to end in a real browser: public sites through the two upload pages (issue 15), in Chinese and in English.

新建城市 / New city: Hefei's communities (tests/othercity.py) and tests/test_city_init_sites.py's sites file in
CGCS2000 Gauss–Krüger (7 rows, 3 pass, 2 can host a set), previewed with the sites on the map, saved.
数据导入 / Data intake: a district's filled survey template (tests/test_intake_sites_page.py: one community, 2 good
sites and 1 bad on the 公共场地 sheet) merged into the sample's 156 sites. No Chinese is left on the English pages
but the data. Screenshots: ``test-output/e2e/sites_upload_<page>_<lang>.png``.
"""

from __future__ import annotations

import time

import pytest

from tests import othercity
from tests.browser import foreign, map_frame, open_page, running_app, whole_page_shot
from tests.browser import settle_run as settle
from tests.site_helpers import filled_template, write_sites_csv

# Names of Material icons Streamlit writes as text (drawn as icons), and the data the pages show as it is.
ICON_WORDS = {"arrow", "check", "down", "icon", "keyboard", "alt", "location", "add"}
DATA_WORDS = {"return", "公共场地", "小区调查", "包河区", "蜀山区"}  # file names, the Hefei districts

WORDS = {
    "zh": {
        "intake": "数据导入",
        "new_city": "新建城市",
        "preview": "生成预览",
        "built": "预览已生成",
        "sites_sentence": "公共场地 3 处，其中 2 处可建设健身路径",
        "check": "校验",
        "merge": "作为区县填报，合并到当前数据",
        "after": "导入后共有公共场地 157 处",
        "updated": "以下场地的取值被本次上传改变",
    },
    "en": {
        "intake": "Data intake",
        "new_city": "New city",
        "preview": "Build a preview",
        "built": "Preview ready",
        "sites_sentence": "3 public sites, 2 of which can host a set",
        "check": "Check",
        "merge": "As a district return, merged into the current data",
        "after": "After the import there are 157 public sites",
        "updated": "The upload changed these values of existing sites",
    },
}


@pytest.fixture(scope="module")
def app_url():
    with running_app("streamlit_sites_upload.log") as (url, _):
        yield url


def shot(page, name: str) -> None:
    whole_page_shot(page, f"sites_upload_{name}.png")


def start(browser, app_url, lang, title):
    page, outside = open_page(browser, app_url)
    page.goto(app_url)
    page.locator("h1", has_text="覆盖地图").wait_for(timeout=60_000)
    if lang == "en":
        page.get_by_test_id("stSidebarUserContent").get_by_text("English", exact=True).click()
        page.locator("h1", has_text="Coverage map").wait_for(timeout=60_000)
    page.get_by_role("link", name=title).click()
    page.locator("h1", has_text=title).wait_for(timeout=30_000)
    return page, outside


def main_text(page) -> str:
    return page.get_by_test_id("stMain").inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_new_city_with_a_sites_file(app_url, browser, tmp_path, lang):
    words = WORDS[lang]
    files = othercity.write_files(tmp_path)
    sites = write_sites_csv(tmp_path / "公共场地.csv")
    page, outside = start(browser, app_url, lang, words["new_city"])
    inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    inputs.nth(3).wait_for(state="attached", timeout=30_000)
    assert inputs.count() == 4
    inputs.nth(0).set_input_files(str(files["communities"]))
    settle(page)
    inputs.nth(3).set_input_files(str(sites))
    settle(page)
    page.get_by_text("EPSG:4527").first.wait_for(timeout=60_000)
    page.get_by_role("button", name=words["preview"]).click()
    page.get_by_text(words["built"]).wait_for(timeout=90_000)
    page.get_by_text(words["sites_sentence"]).wait_for(timeout=30_000)
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values[-4:] == ["7", "3", "4", "2"]
    map_frame(page)
    shot(page, f"new_city_{lang}")
    assert foreign([main_text(page)], lang) <= ICON_WORDS | DATA_WORDS
    assert outside == [], outside[:5]
    page.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_intake_of_a_filled_template_with_sites(app_url, browser, tmp_path, lang):
    words = WORDS[lang]
    survey = filled_template(tmp_path / "return.xlsx", lang)
    page, outside = start(browser, app_url, lang, words["intake"])
    inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    inputs.nth(2).wait_for(state="attached", timeout=30_000)
    inputs.nth(0).set_input_files(str(survey))
    settle(page)
    page.get_by_text(words["merge"]).click()
    settle(page)
    page.get_by_role("button", name=words["check"], exact=True).click()
    page.get_by_text(words["after"]).wait_for(timeout=120_000)
    page.get_by_text(words["updated"]).wait_for(timeout=30_000)
    tables = page.locator('[data-testid="stDataFrame"]')
    deadline = time.monotonic() + 30
    while tables.count() < 4 and time.monotonic() < deadline:  # rejects, changes, figures, sites changed
        time.sleep(0.2)
    assert tables.count() == 4
    shot(page, f"intake_{lang}")
    assert foreign([main_text(page)], lang) <= ICON_WORDS | DATA_WORDS
    assert outside == [], outside[:5]
    page.close()
