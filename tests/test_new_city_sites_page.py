"""The 新建城市 / New city page takes a file of public sites (issue 15): mapped, its CRS found or chosen, checked row
by row, counted (and how many can host a set), saved into the new city in WGS84.

The city is tests/othercity.py's (Hefei); the sites are tests/test_city_init_sites.py's 7 rows, of which 3 pass:
S-01 (400 m², consent yes), S-02 (800 m², consent unknown) and S-03 (2,000 m², consent no) — so 2 can host a set.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.data.crs import wgs84_to_gcj02
from geo.data.io import read_public_sites
from geo.i18n import text
from tests import hostile, othercity
from tests.site_helpers import HEADERS, hefei_files_with_sites, site_frame

APP = "../app.py"
PAGE = "views/new_city.py"
CSV = "text/csv"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return hefei_files_with_sites(tmp_path_factory.mktemp("hefei"))


def open_page(lang="zh"):
    app = AppTest.from_file(APP, default_timeout=240)
    app.run()
    app.switch_page(PAGE)
    app.run()
    if lang == "en":
        app.sidebar.radio(key="language_choice").set_value("English").run()
    assert not app.exception, app.exception
    return app


def upload(app, layer, path, mime=CSV):
    app.file_uploader(key=f"newcity-upload-{layer}").set_value((path.name, path.read_bytes(), mime))
    app.run()
    assert not app.exception, app.exception


def button(app, key):
    label = text(key, app.session_state["lang"])
    return next(b for b in app.button if b.label == label)


def said(elements) -> str:
    return " ".join(str(e.value) for e in elements).replace("\\", "")


def preview_and_save(app):
    button(app, "newcity_preview").click()
    app.run()
    assert not app.exception and not app.error, (app.exception, said(app.error))
    button(app, "newcity_save").click()
    app.run()
    assert not app.exception, app.exception
    return read_public_sites(app.session_state["uploaded_data"])


def site_fields(app):
    token = app.session_state["newcity_files"]["public_sites"].token
    prefix = f"widget_newcity_{token}_field_"
    return {s.key.removeprefix(prefix): s for s in app.selectbox if s.key and s.key.startswith(prefix)}


def test_sites_in_cgcs2000_gauss_kruger_are_checked_counted_and_saved_in_wgs84(files):
    app = open_page()
    upload(app, "communities", files["communities"])
    upload(app, "districts", files["districts"], "application/octet-stream")
    upload(app, "public_sites", files["sites"])
    assert not app.error, said(app.error)
    fields = site_fields(app)
    assert fields["kind"].label == "场地类型" and fields["kind"].value == "场地类型"
    assert fields["usable_area_m2"].value == "可用面积（平方米）" and fields["consent"].value == "是否同意"
    assert "EPSG:4527" in said(app.caption)  # the zone number in the eastings: CGCS2000 zone 39

    button(app, "newcity_preview").click()
    app.run()
    assert not app.exception and not app.error, said(app.error)
    metrics = [(m.label, m.value) for m in app.metric]
    assert metrics[-4:] == [("数据行", "7"), ("通过", "3"), ("未通过", "4"), ("可建设的场地", "2")]
    assert (
        "公共场地 3 处，其中 2 处可建设健身路径；不可建设的原因：产权或管理单位不同意 1 处；"
        "尚待征得权属单位同意的：1 处。" in said(app.caption)
    )
    assert "公共场地：未通过的行" in said(app.markdown)
    rejects = app.dataframe[-1].value
    assert rejects["行号"].tolist() == [5, 6, 7, 8] and rejects["场地编号"].tolist() == ["S-04", "S-01", "S-06", "S-07"]
    download = next(e for e in app.get("download_button") if "newcity-rejects-public_sites" in e.proto.id)
    assert download.proto.label == "下载未通过的行（CSV）"
    result = app.session_state["newcity_result"][1].results["public_sites"]
    assert result.rejects_csv().startswith(b"\xef\xbb\xbf")

    button(app, "newcity_save").click()
    app.run()
    assert not app.exception, app.exception
    assert "另有公共场地 3 处。" in app.success[0].value
    sites = read_public_sites(app.session_state["uploaded_data"])
    assert sites["site_id"].tolist() == ["S-01", "S-02", "S-03"] and sites.crs.to_epsg() == 4326
    expected = site_frame().to_crs(4326).geometry.iloc[:3].reset_index(drop=True)
    assert (sites.to_crs(32650).distance(expected.to_crs(32650)) < 0.01).all()  # to the centimetre


def test_sites_picked_on_amap_are_saved_where_they_are(files, tmp_path):
    """A sites CSV of GCJ-02 longitude/latitude (declared on the page) lands on the WGS84 points."""
    truth = site_frame().iloc[:3].to_crs(4326)
    points = truth.geometry.representative_point()
    lon, lat = wgs84_to_gcj02(points.x.to_numpy(), points.y.to_numpy())
    table = truth[HEADERS].assign(经度=lon, 纬度=lat)
    path = tmp_path / "场地（高德）.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    app = open_page()
    upload(app, "communities", files["communities"])
    upload(app, "public_sites", path)
    token = app.session_state["newcity_files"]["public_sites"].token
    app.selectbox(key=f"widget_newcity_{token}_coordinates").set_value("gcj02").run()
    sites = preview_and_save(app)
    assert sites["site_id"].tolist() == ["S-01", "S-02", "S-03"]
    shift = sites.geometry.to_crs(32650).distance(points.reset_index(drop=True).to_crs(32650))
    assert (shift < 0.5).all(), shift.tolist()  # GCJ-02's few hundred metres undone


def test_hostile_site_names_stay_text_and_the_english_page_has_no_chinese_but_data(files, tmp_path):
    image, link = f"![t]({hostile.OUTSIDE_URL})", "[点我](javascript:alert(1))"
    frame = pd.read_csv(files["sites"], encoding="utf-8-sig", dtype=str)
    frame.loc[0, "场地名称"], frame.loc[1, "备注"] = image + " {{ 6*7 }}", link + "<script>alert(1)</script>"
    frame.loc[5, "场地名称"] = "**粗体**"  # a rejected row (S-06, 200 km away): its cells in the rejects table
    path = tmp_path / f"{image.replace('/', '')}.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    app = open_page("en")
    upload(app, "communities", files["communities"])
    upload(app, "public_sites", path)
    assert site_fields(app)["kind"].label == "Kind of site"
    button(app, "newcity_preview").click()
    app.run()
    assert not app.exception and not app.error, said(app.error)
    rendered = [str(e.value) for e in (*app.markdown, *app.caption, *app.warning, *app.error, *app.info)]
    for shown in rendered:
        assert "![t](" not in shown and "](javascript" not in shown and "**粗体**" not in shown, shown
    sites = app.session_state["newcity_result"][1].city.public_sites
    assert sites["name"].tolist()[0] == image + " {{ 6*7 }}"
    assert sites["notes"].tolist()[1] == link + "<script>alert(1)</script>"
    samples = app.dataframe[1].value  # the sites file's columns and samples: the text itself
    assert (image[:31] + "…") in samples.iloc[:, 1:4].to_numpy().ravel().tolist()  # cut to 32 characters, as text

    data = {*othercity.community_squares()["小区名称"], *othercity.community_squares()["所属行政区"]}
    data |= {"小区调查.csv", "所属行政区", "户数（户）", "竣工年份", "小区名称", "小区编号", *HEADERS}
    data |= set(np.ravel(frame.fillna("").to_numpy(str))) - {""}

    def ours(value: str) -> str:
        for word in sorted(data, key=len, reverse=True):
            value = value.replace(word, "")
        return value

    labels = [w.label for w in (*app.main.selectbox, *app.main.text_input, *app.main.button, *app.main.metric)]
    texts = [e.value for e in (*app.title, *app.subheader, *app.caption, *app.warning, *app.info, *app.markdown)]
    left = [s for s in labels + texts if CHINESE.search(ours(str(s).replace("\\", "")))]
    assert left == [], left
    headers = [str(h) for table in app.dataframe for h in table.value.columns]
    assert not [h for h in headers if CHINESE.search(ours(h))]
    assert (
        "3 public sites, 2 of which can host a set. Why the others cannot: The owner or manager does not consent (1). "
        "Still needing the owner's consent: 1." in said(app.caption)
    )
    assert "**粗体**" in app.dataframe[-1].value["场地名称"].tolist()
