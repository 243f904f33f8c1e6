"""The 数据导入 / Data intake page takes public sites (issue 15): the 公共场地 sheet of a filled survey template, or a
file of its own; merged into the sample city's 156 sites by site ID; rejected rows listed with their row and reason.

The return: one community of 城中区 and, on the sites sheet, 2 good sites (a new one, and PS-0001 of the sample
again with another usable area) and 1 bad one (a kind no list has); all inside Liuzhou's 城中区.
"""

from __future__ import annotations

import re

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_DATA_PATH
from geo.data.io import read_public_sites
from geo.i18n import text
from geo.intake.template import SITES_SHEET
from geo.pipeline import load_city
from tests import hostile
from tests.site_helpers import filled_template

APP = "../app.py"
PAGE = "views/intake.py"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def run_intake(path, lang="zh", mode="merge"):
    app = AppTest.from_file(APP, default_timeout=240)
    app.run()
    app.switch_page(PAGE)
    app.run()
    if lang == "en":
        app.sidebar.radio(key="language_choice").set_value("English").run()
    app.file_uploader(key="upload-communities").set_value((path.name, path.read_bytes(), XLSX))
    app.run()
    next(r for r in app.radio if r.label == text("intake_mode", lang)).set_value(mode).run()
    next(b for b in app.button if b.label == text("intake_run", lang)).click()
    app.run()
    assert not app.exception, app.exception
    return app


def said(elements) -> str:
    return " ".join(str(e.value) for e in elements).replace("\\", "")


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    path = filled_template(tmp_path_factory.mktemp("return") / "城中区填报.xlsx")
    return run_intake(path)


def test_the_sites_sheet_of_a_filled_template_is_checked_row_by_row(merged):
    app = merged
    assert not app.error, said(app.error)
    metrics = [(m.label, m.value) for m in app.metric]
    assert metrics[4:7] == [("数据行", "3"), ("通过", "2"), ("未通过", "1")]  # after the communities' four
    assert "公共场地: 城中区填报.xlsx（公共场地工作表）" in said(app.markdown)
    rejects = next(d.value for d in app.dataframe if "场地编号" in d.value.columns and "行号" in d.value.columns)
    assert rejects["行号"].tolist() == [4] and rejects["场地编号"].tolist() == ["S-BAD"]
    assert "场地类型" in rejects["未通过原因"].iloc[0]
    result = app.session_state["intake_results"][4]["城中区填报.xlsx（公共场地工作表）"]
    assert result.rejects_csv().startswith(b"\xef\xbb\xbf")


def test_the_sites_are_merged_by_id_and_the_change_is_listed(merged):
    app = merged
    assembled = app.session_state["intake_results"][2]
    sites = assembled.layers["public_sites"]
    assert len(sites) == 157 and sites["site_id"].tolist()[-1] == "S-NEW-1"
    assert sites.set_index("site_id").loc["PS-0001", "usable_area_m2"] == 1234.0
    changes = app.dataframe[next(i for i, d in enumerate(app.dataframe) if "导入前" in d.value.columns)].value
    row = changes[changes["数据"] == "公共场地"].iloc[0]
    assert [int(row[c]) for c in ("导入前", "新增", "更新", "未变", "移出", "未采用的行", "导入后")] == [
        156,
        1,
        1,
        155,
        0,
        1,
        157,
    ]
    assert text("intake_sites_written_merge", "zh") in said(app.caption)
    updates = next(d.value for d in app.dataframe if "原值" in d.value.columns)
    area = updates[updates["字段"] == "可用面积（平方米）"]
    assert area["场地编号"].tolist() == ["PS-0001"] and area["新值"].tolist() == ["1234"]
    assert "导入后共有公共场地 157 处" in said(app.caption)
    place = updates[updates["字段"] == "位置（经度, 纬度）"]  # the sample's polygon, sent again as a point in it
    assert place["原值"].iloc[0].startswith("面（约 ") and place["新值"].iloc[0].startswith("点 109.")


def test_using_the_merge_writes_the_sites_and_keeps_every_other_layer(merged):
    app = merged
    next(b for b in app.button if b.label == text("intake_use", "zh")).click()
    app.run()
    assert not app.exception, app.exception
    assert "另有公共场地 157 处。" in app.success[0].value
    city = load_city(app.session_state["uploaded_data"])
    sample = load_city(DEFAULT_DATA_PATH)
    assert len(city.public_sites) == 157 and "S-NEW-1" in set(city.public_sites["site_id"])
    assert len(city.communities) == len(sample.communities) + 1
    assert len(city.fitness_paths) == len(sample.fitness_paths)
    assert len(city.applications) == len(sample.applications)
    assert sorted(city.other_layers) == sorted(sample.other_layers)


def test_a_return_without_sites_keeps_the_citys_sites(tmp_path):
    path = tmp_path / "只有小区.xlsx"
    book = openpyxl.load_workbook(filled_template(path))
    sites = book[SITES_SHEET["zh"]]
    sites.delete_rows(2, 3)
    book.save(path)
    app = run_intake(path)
    assembled = app.session_state["intake_results"][2]
    assert app.session_state["intake_results"][4] == {}
    assert (
        assembled.layers["public_sites"]["site_id"].tolist() == read_public_sites(DEFAULT_DATA_PATH)["site_id"].tolist()
    )
    assert text("intake_sites_written_merge", "zh") not in said(app.caption)


def test_a_sites_file_of_its_own_is_merged_too(tmp_path):
    survey = filled_template(tmp_path / "城中区.xlsx")
    sites = pd.DataFrame(
        {"场地编号": ["S-FILE"], "场地名称": ["文件场地"], "场地类型": ["广场"], "经度": [109.4185], "纬度": [24.3185]}
    )
    sites_path = tmp_path / "场地.csv"
    sites.to_csv(sites_path, index=False, encoding="utf-8-sig")
    app = AppTest.from_file(APP, default_timeout=240)
    app.run()
    app.switch_page(PAGE)
    app.run()
    app.file_uploader(key="upload-communities").set_value((survey.name, survey.read_bytes(), XLSX))
    app.file_uploader(key="upload-sites").set_value((sites_path.name, sites_path.read_bytes(), "text/csv"))
    app.run()
    next(r for r in app.radio if r.label == text("intake_mode", "zh")).set_value("merge").run()
    next(b for b in app.button if b.label == text("intake_run", "zh")).click()
    app.run()
    assert not app.exception, app.exception
    assert list(app.session_state["intake_results"][4]) == ["城中区.xlsx（公共场地工作表）", "场地.csv"]
    sites = app.session_state["intake_results"][2].layers["public_sites"]
    assert sites["site_id"].tolist()[-2:] == ["S-NEW-1", "S-FILE"]


def test_hostile_site_names_and_notes_stay_text_and_the_english_page_has_no_chinese_but_data(tmp_path):
    image, link = f"![t]({hostile.OUTSIDE_URL})", "[点我](javascript:alert(1))"
    names = (image + " {{ 6*7 }}", link + "<script>alert(1)</script>")
    path = filled_template(tmp_path / "return.xlsx", "en", site_names=names, notes=hostile.MARKUP[1])
    app = run_intake(path, "en")
    assert not app.error, said(app.error)
    rendered = [str(e.value) for e in (*app.markdown, *app.caption, *app.warning, *app.info, *app.success)]
    for shown in rendered:
        assert "![t](" not in shown and "](javascript" not in shown and "<script>" not in shown, shown
    updates = next(d.value for d in app.dataframe if "Old value" in d.value.columns)
    assert names[1] in updates["Name"].tolist()  # the table holds the text itself
    sites = app.session_state["intake_results"][2].layers["public_sites"]
    assert sites.set_index("site_id").loc["S-NEW-1", "name"] == names[0]
    assert sites.set_index("site_id").loc["S-NEW-1", "notes"] == hostile.MARKUP[1]

    data = {*names, "示例新村", "城中区", "街道办事处", "停车场旁", "停车场", "return.xlsx"}
    data |= set(read_public_sites(DEFAULT_DATA_PATH)["name"])
    data.add("小区编号")  # the English message rows_no_id names the template's Chinese header (not this page's)

    def ours(value: str) -> str:
        for word in sorted(data, key=len, reverse=True):
            value = value.replace(word, "")
        return value

    labels = [w.label for w in (*app.main.button, *app.main.metric, *app.main.radio, *app.main.checkbox)]
    texts = [e.value for e in (*app.title, *app.subheader, *app.caption, *app.warning, *app.info, *app.markdown)]
    left = [s for s in labels + texts if CHINESE.search(ours(str(s).replace("\\", "")))]
    assert left == [], left
    headers = [str(h) for table in app.dataframe for h in table.value.columns]
    assert not [h for h in headers if CHINESE.search(ours(h))]


def test_a_district_may_send_sites_alone_as_a_return(tmp_path):
    sites = pd.DataFrame(
        {
            "场地编号": ["S-ALONE"],
            "场地名称": ["单独报送的广场"],
            "场地类型": ["广场"],
            "经度": [109.4185],
            "纬度": [24.3185],
        }
    )
    path = tmp_path / "场地.csv"
    sites.to_csv(path, index=False, encoding="utf-8-sig")
    app = AppTest.from_file(APP, default_timeout=240)
    app.run()
    app.switch_page(PAGE)
    app.run()
    app.file_uploader(key="upload-sites").set_value((path.name, path.read_bytes(), "text/csv"))
    app.run()
    run = next(b for b in app.button if b.label == text("intake_run", "zh"))
    assert run.disabled and text("intake_sites_only_merge", "zh") in said(app.caption)  # not as the whole city
    next(r for r in app.radio if r.label == text("intake_mode", "zh")).set_value("merge").run()
    next(b for b in app.button if b.label == text("intake_run", "zh")).click()
    app.run()
    assert not app.exception and not app.error, (app.exception, said(app.error))
    assembled = app.session_state["intake_results"][2]
    assert assembled.layers["public_sites"]["site_id"].tolist()[-1] == "S-ALONE"
    assert len(assembled.layers["public_sites"]) == 157
    assert len(assembled.communities) == len(load_city(DEFAULT_DATA_PATH).communities)
    assert [(m.label, m.value) for m in app.metric][:3] == [("数据行", "1"), ("通过", "1"), ("未通过", "0")]
