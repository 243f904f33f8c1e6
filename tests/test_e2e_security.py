"""Hostile text and two users at once, in a real browser against the app as `make run` starts it.

A survey file whose community names are the whole corpus of ``tests/hostile.py`` goes in by the
data page under a file name that is a Markdown image link; then every door it reaches is checked
in the browser: the validation report, the map's tooltips, the eligibility downloads, the plan
workbook and the public notice. Nothing may be evaluated (no dialog, no request off the machine,
no marker file on the server) and each name must come back as the same text. A second session,
opened meanwhile, must see none of it. Same Chromium set-up and skip rules as tests/test_e2e.py (tests/browser.py).
"""

from __future__ import annotations

import csv
import html
import json
import re
import socket
import subprocess
import time
from pathlib import Path

import openpyxl
import pytest

from geo.data.cells import spreadsheet_text, xlsx_text
from geo.render.compact import layer_features
from tests import hostile
from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    COUNT_COMMUNITIES_JS,
    OUTPUT,
    REPO,
    map_frame,
    running_app,
)

UPLOAD_NAME = f"![t]({hostile.OUTSIDE_URL}).csv"
NAMES_JS = """() => {
  const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
  const names = [];
  map.eachLayer(layer => {
    const p = layer.feature && layer.feature.properties;
    if (p && p.community_id && p.name !== undefined && layer instanceof window.L.Polygon) names.push(p.name);
  });
  return names;
}"""
TOOLTIP_JS = """(name) => {
  const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
  let text = null;
  map.eachLayer(layer => {
    const p = layer.feature && layer.feature.properties;
    if (text === null && p && p.name === name && layer instanceof window.L.Polygon) {
      layer.openTooltip(layer.getBounds().getCenter());
      const cell = layer.getTooltip().getElement().querySelector("td");
      text = cell.textContent;
      layer.closeTooltip();
    }
  });
  return text;
}"""


def _survey_csv() -> bytes:
    """One community per hostile name, inside 城中区, with everything the checks need."""
    rows = [
        {
            "名称": name,
            "区县": "城中区",
            "经度": 109.40 + 0.002 * (i % 8),
            "纬度": 24.32 + 0.002 * (i // 8),
            "人口": 500 + i,
            "可用空地（平方米）": 400,
            "公共空间用于停车": "否",
        }
        for i, name in enumerate(hostile.ALL)
    ]
    buffer = __import__("io").StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free port, uploads in a folder of the test's own."""
    uploads = tmp_path_factory.mktemp("uploads")
    with running_app("streamlit-security.log", {"PLANNER_UPLOADS": str(uploads)}) as (url, port):
        yield {"url": url, "port": port, "uploads": uploads}


class Watched:
    """A page in its own browser context (its own Streamlit session) that records what it must never do."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, locale="zh-CN", accept_downloads=True
        )
        self.page = self.context.new_page()
        self.outside, self.dialogs = [], []
        own = (url, url.replace("localhost", "127.0.0.1"), url.replace("http", "ws"))
        self.context.on(
            "request",
            lambda request: (
                None if request.url.startswith((*own, "data:", "blob:", "about:")) else self.outside.append(request.url)
            ),
        )
        self.page.on("websocket", lambda ws: None if ws.url.startswith(own) else self.outside.append(ws.url))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def download(self, button_name: str, target: Path) -> Path:
        button = self.page.get_by_role("button", name=button_name).first
        button.wait_for(timeout=60_000)
        with self.page.expect_download(timeout=60_000) as download:
            button.click()
        download.value.save_as(str(target))
        return target

    def assert_clean(self):
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.outside == [], f"requests left the machine: {self.outside[:5]}"
        assert not (REPO / hostile.MARKER_NAME).exists(), "an evaluated payload created its marker file"

    def close(self):
        self.context.close()


def _non_loopback_addresses() -> list[str]:
    try:
        found = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return []
    return [a for a in found if "." in a and not a.startswith("127.")]


def test_the_app_listens_on_this_machine_only(server):
    addresses = _non_loopback_addresses()
    if not addresses:
        pytest.skip("this machine has no network address other than loopback")
    for address in addresses:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((address, server["port"])) != 0, f"the app answers on {address}"
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=2):
        pass


def test_hostile_survey_stays_text_through_every_door_and_other_sessions_see_nothing(server, browser, tmp_path):
    url = server["url"]
    user, other = Watched(browser, url), Watched(browser, url)
    page = user.page
    # ---- the data page: upload under a Markdown-image file name, replace the city
    page.goto(f"{url}/intake")
    page.locator("h1", has_text="数据导入").wait_for(timeout=60_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        files=[{"name": UPLOAD_NAME, "mimeType": "text/csv", "buffer": _survey_csv()}]
    )
    page.get_by_role("button", name="校验").click()
    page.get_by_text("![t](http").first.wait_for(timeout=90_000)
    texts = [x.replace("\u2060", "") for x in page.locator('[data-testid="stMarkdownContainer"]').all_inner_texts()]
    assert f"小区数据文件: {UPLOAD_NAME}" in texts  # the name as typed (word joiners aside), nothing made of it
    links = page.locator('a[href*="127.0.0.2"], img[src*="127.0.0.2"]')
    assert links.count() == 0, [links.nth(i).evaluate("e => e.parentElement.outerHTML") for i in range(links.count())]
    page.locator('[data-testid="stMetricValue"]').nth(2).wait_for(timeout=30_000)
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert values[:3] == [str(len(hostile.ALL)), str(len(hostile.ALL)), "0"]
    # Read and deleted: the raw upload is not kept on the server.
    assert not [p for p in server["uploads"].rglob("*") if p.is_file()]
    # Replacing the sample sets its applications aside: said first, and confirmed before the button works.
    page.get_by_text("条申请将被搁置，仍要替换").click()
    page.get_by_role("button", name="3. 在所有页面中分析这些数据").click()
    page.get_by_text(f"已采用：{len(hostile.ALL)} 个小区").wait_for(timeout=60_000)
    sidebar = page.get_by_test_id("stSidebarUserContent").inner_text().replace("\u2060", "")
    assert f"数据文件: {UPLOAD_NAME}" in sidebar and "uploaded_city" not in sidebar  # the user's name, at once
    page.screenshot(path=str(OUTPUT / "hostile_intake.png"), full_page=True)
    assert [p.name for p in server["uploads"].rglob("*") if p.is_file()] == ["uploaded_city_1.gpkg"]

    # ---- the map: every name is in the data and in its tooltip exactly
    page.get_by_role("link", name="覆盖地图").click()
    page.locator("h1", has_text="覆盖地图").wait_for(timeout=30_000)
    frame = map_frame(page)
    assert sorted(frame.evaluate(NAMES_JS)) == sorted(hostile.ALL)
    for name in hostile.ALL:
        assert frame.evaluate(TOOLTIP_JS, name) == name
    page.screenshot(path=str(OUTPUT / "hostile_map.png"), full_page=True)

    # ---- meanwhile, another user sees the sample and nothing of the upload
    other.page.goto(url)
    other_frame = map_frame(other.page)
    time.sleep(1.0)
    assert other_frame.evaluate(COUNT_COMMUNITIES_JS) == 2500
    assert not set(other_frame.evaluate(NAMES_JS)) & set(hostile.ALL)
    assert other.page.locator('[data-testid="stMetricValue"]').first.inner_text() == "2,500"

    # ---- eligibility downloads: formulas neutralised, the rest unchanged
    page.get_by_role("link", name="资格核查").click()
    page.locator("h1", has_text="资格核查").wait_for(timeout=30_000)
    csv_file = user.download("下载 CSV", tmp_path / "eligibility.csv")
    with open(csv_file, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert sorted(row["名称"] for row in table) == sorted(spreadsheet_text(n) for n in hostile.ALL)
    xlsx_file = user.download("下载 Excel", tmp_path / "eligibility.xlsx")
    book = openpyxl.load_workbook(xlsx_file)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert {xlsx_text(spreadsheet_text(n)) for n in hostile.ALL} <= {cell.value for cell in cells}

    # ---- the public notice: names escaped in the page, exact in the map's data
    page.get_by_role("link", name="发布").click()
    page.locator("h1", has_text="发布").wait_for(timeout=30_000)
    notice = user.download("下载公示页面（HTML）", tmp_path / "notice.html").read_text(encoding="utf-8")
    document = html.unescape(re.search(r"srcdoc='([^']*)'", notice).group(1))
    data = json.loads(
        re.search(r'<script type="application/json" id="fp-map-data-\w+">(.*?)</script>', document).group(1)
    )
    shown = {
        f["properties"]["name"] for layer in data["layers"] for f in layer_features(layer) if "name" in f["properties"]
    }
    assert shown == set(hostile.ALL)
    assert "<script>alert" not in notice and "<img src=x" not in notice

    # ---- the other session's downloads hold none of it
    other.page.get_by_role("link", name="资格核查").click()
    other.page.locator("h1", has_text="资格核查").wait_for(timeout=30_000)
    other_csv = other.download("下载 CSV", tmp_path / "other.csv").read_text(encoding="utf-8-sig")
    assert not any(spreadsheet_text(n) in other_csv for n in hostile.ALL if len(n) > 3)

    user.assert_clean()
    other.assert_clean()
    user.close()
    other.close()


def test_downloads_follow_this_sessions_radius(server, browser, tmp_path):
    """Regression: the notice said 500 m while its list came from the user's 1,000 m plan."""
    user = Watched(browser, server["url"])
    page = user.page
    page.goto(f"{server['url']}/publish")
    page.locator("h1", has_text="发布").wait_for(timeout=60_000)
    radius = page.get_by_label("步行服务半径（米）")
    radius.fill("1000")
    radius.press("Enter")
    page.get_by_role("button", name="下载公示页面（HTML）").wait_for(timeout=60_000)
    time.sleep(1.0)  # the rerun with the new radius finishes
    notice = user.download("下载公示页面（HTML）", tmp_path / "notice.html").read_text(encoding="utf-8")
    rows = dict(re.findall(r"<td><code>([\w.]+)</code></td><td>(.*?)</td>", notice))
    assert rows["walk_radius_m"] == "1,000" and "步行服务半径 1,000 米" in notice

    page.get_by_test_id("stSidebarUserContent").get_by_text("English", exact=True).click()
    page.get_by_role("link", name="Priority & budget").click()
    page.locator("h1", has_text="Priority & budget").wait_for(timeout=60_000)
    workbook = openpyxl.load_workbook(user.download("Download Excel", tmp_path / "plan.xlsx"))
    assert "Parameters" in workbook.sheetnames
    parameters = {row[0].value: row[1].value for row in workbook["Parameters"].iter_rows(min_row=2)}
    assert parameters["Walk radius (m)"] == 1000  # labelled in the language, a number kept a number
    headers = [cell.value for cell in next(workbook[workbook.sheetnames[0]].iter_rows(max_row=1))]
    assert not any(re.search(r"[\u4e00-\u9fff]", str(h)) for h in headers), headers  # the session's language
    user.assert_clean()
    user.close()


def test_a_page_of_another_site_pointed_at_the_app_gets_nothing(server, browser):
    """DNS rebinding: evil.example resolves to 127.0.0.1, so the browser sends Host: evil.example."""
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.example 127.0.0.1"]
    )
    page = chromium.new_page()
    page.goto(f"http://evil.example:{server['port']}/")
    page.get_by_text("此地址未获准访问本系统").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stMetricValue"]').count() == 0  # no figure, no map, no page
    assert page.locator("iframe").count() == 0
    chromium.close()


def test_an_import_that_places_no_community_cannot_replace_the_city(server, browser):
    """Regression: rows naming unknown IDs without coordinates, used as the city, left an empty city behind."""
    user = Watched(browser, server["url"])
    page = user.page
    page.goto(f"{server['url']}/intake")
    page.locator("h1", has_text="数据导入").wait_for(timeout=60_000)
    survey = "小区编号,名称,区县,人口\r\nXX-0001,甲小区,城中区,500\r\nXX-0002,乙小区,城中区,600\r\n".encode("utf-8-sig")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        files=[{"name": "ids_only.csv", "mimeType": "text/csv", "buffer": survey}]
    )
    page.get_by_role("button", name="校验").click()
    page.get_by_text("导入后没有可分析的小区").wait_for(timeout=90_000)
    assert page.get_by_role("button", name="3. 在所有页面中分析这些数据").count() == 0
    page.get_by_role("link", name="覆盖地图").click()
    page.locator('[data-testid="stMetricValue"]').first.filter(has_text="2,500").wait_for(timeout=30_000)
    user.assert_clean()
    user.close()
