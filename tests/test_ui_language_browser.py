"""Every page in both languages, as Chromium shows it: no English on the Chinese pages, no Chinese on the English ones.

Streamlit writes some text of its own (the file uploader's button and "200MB per file", a
multiselect's "Select all" and "No results", the skip link); the app's stylesheet says it in the
page's language (views.shared.ui_stylesheet). This scan reads what a reader sees: visible text,
CSS generated text, shown placeholders and tooltips (``title``), not the map's frame or the
canvas of tables and charts. Allowed: words the page's own catalogue uses (Excel, EPSG, m² …),
the language switch's names, and the data file's name.
"""

from __future__ import annotations

import time

import pytest

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.i18n import text
from geo.pipeline import load_city
from tests.browser import GRID_CELLS_JS, OUTPUT, SEEN_TEXT_JS, TITLES, foreign, go_to, open_page, running_app
from tests.browser import settle_on as settle

PAGES = ("coverage", "eligibility", "priority", "publish", "intake", "new-city")


EMPTY_WORDS = {"None", "none", "nan", "NaN", "<NA>", "NaT", "null", "undefined"}


@pytest.fixture(scope="module")
def app_url():
    with running_app("ui_language.log") as (url, _):
        yield url


@pytest.fixture(scope="module")
def district_file(tmp_path_factory):
    """One district's communities of the sample as a GeoJSON file (a file name of ASCII letters: data)."""
    city = load_city(DEFAULT_DATA_PATH)
    target = tmp_path_factory.mktemp("upload") / "sanjiang.geojson"
    city.communities[city.communities["district_code"] == "450226"].to_file(target, driver="GeoJSON")
    return target


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_speaks_one_language(app_url, browser, lang, district_file):
    page, outside = open_page(browser, app_url)
    page.goto(app_url)
    settle(page, text("page_coverage", "zh"))
    if lang == "en":
        page.get_by_text("English", exact=True).click()
        settle(page, text("page_coverage", "en"))
    found, cells = {}, {}
    for name in PAGES:
        go_to(page, name, lang)
        seen = page.evaluate(SEEN_TEXT_JS)
        page.screenshot(path=str(OUTPUT / f"ui_language_{name}_{lang}.png"))
        if name == "intake":  # the uploader's button and limit in the page's language, the limit config.toml's
            limit = f"{load_config().max_upload_mb:g}"
            assert text("uploader_button", lang) in seen
            assert text("uploader_limit", lang, limit=limit) in seen
            # then a file checked: its chip, the reports and the table of what the upload would change
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(district_file)
            page.locator('[data-testid="stFileChip"]').first.wait_for(timeout=30_000)
            page.get_by_role("button", name=text("intake_run", lang)).click()
            page.get_by_text(text("intake_merge_title", lang), exact=True).wait_for(timeout=120_000)
            settle(page, text(TITLES[name], lang))
            page.screenshot(path=str(OUTPUT / f"ui_language_intake_checked_{lang}.png"))
            seen += page.evaluate(SEEN_TEXT_JS)
        if name == "eligibility":  # the tooltips of a table's toolbar
            table = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
            page.mouse.move(table["x"] + table["width"] / 2, table["y"] + table["height"] / 2)
            buttons = page.locator('[data-testid="stElementToolbar"]').first.locator("button[aria-label]")
            buttons.first.wait_for(timeout=10_000)
            tips = []
            for number in range(buttons.count()):
                box = buttons.nth(number).bounding_box()
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                time.sleep(1.5)  # the tooltip shows after a delay
                tips += page.evaluate(SEEN_TEXT_JS)
            assert text("tooltip_download_csv", lang) in tips and text("tooltip_search", lang) in tips
            seen += tips
            page.mouse.move(5, 5)
        if name == "eligibility":  # a multiselect's own options: "Select all", then "No results"
            page.get_by_placeholder(text("filter_reasons_placeholder", lang)).click()
            page.locator('[role="option"]').first.wait_for(timeout=10_000)
            opened = page.evaluate(SEEN_TEXT_JS)
            assert text("select_all", lang) in opened
            page.keyboard.type("qqqq")
            time.sleep(0.5)
            emptied = page.evaluate(SEEN_TEXT_JS)
            page.screenshot(path=str(OUTPUT / f"ui_language_no_results_{lang}.png"))
            assert text("no_results", lang) in emptied
            seen += opened + emptied
            page.keyboard.press("Escape")
        if name == "publish":  # the main menu (⋮)
            page.locator('[data-testid="stMainMenu"] button').first.click()
            page.locator('[data-testid="stMainMenuList"]').wait_for(timeout=10_000)
            menu = page.evaluate(SEEN_TEXT_JS)
            assert text("menu_print", lang) in menu
            seen += menu
            page.screenshot(path=str(OUTPUT / f"ui_language_menu_{lang}.png"))
            page.keyboard.press("Escape")
        found[name] = foreign(seen, lang)
        grid = page.evaluate(GRID_CELLS_JS)
        if name == "coverage":  # the table by district shows every row, its 合计 / Total last
            assert text("total_row", lang) in grid
        cells[name] = {cell for cell in grid if cell in EMPTY_WORDS}
    assert found == {name: set() for name in PAGES}
    assert cells == {name: set() for name in PAGES}  # an empty cell is empty, not a word
    assert outside == []
    page.close()
