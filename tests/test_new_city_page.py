"""The 新建城市 / New city page: upload another city's files, check the columns, preview, save, analyse it.

Driven with Streamlit's AppTest (its file uploader takes bytes); the files are tests/othercity.py's
Hefei survey, whose right answers are worked there: 2 districts, 12 communities (every population
estimated), 1 fitness path, the communities' CRS guessed from the zone number (EPSG:4527).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.data.headers import mappable_fields
from geo.i18n import text
from tests import othercity

APP = "../app.py"
PAGE = "views/new_city.py"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
CSV = "text/csv"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return othercity.write_files(tmp_path_factory.mktemp("hefei"))


def upload(app, layer, path, mime="application/octet-stream"):
    app.file_uploader(key=f"newcity-upload-{layer}").set_value((path.name, path.read_bytes(), mime))
    app.run()
    assert not app.exception, app.exception


def open_page(lang="zh"):
    app = AppTest.from_file(APP, default_timeout=180)
    app.run()
    if lang == "en":
        app.sidebar.radio(key="language_choice").set_value("English").run()
    app.switch_page(PAGE)
    app.run()
    assert not app.exception, app.exception
    return app


def said(elements) -> str:
    """The text of ``elements`` as the page shows it (the Markdown escapes of shared.plain removed)."""
    return " ".join(str(e.value) for e in elements).replace("\\", "")


def button(app, key):
    label = text(key, "zh" if app.session_state["lang"] == "zh" else "en")
    return next(b for b in app.button if b.label == label)


def test_the_page_asks_for_the_communities_file_first():
    app = open_page()
    assert app.title[0].value == "新建城市"
    assert [info.value for info in app.info] == ["请先上传小区文件。"]
    assert not app.error


def test_a_hefei_survey_becomes_the_sessions_city(files):
    app = open_page()
    upload(app, "communities", files["communities"], CSV)
    upload(app, "districts", files["districts"])
    upload(app, "fitness_paths", files["fitness_paths"], CSV)
    assert not app.error, [e.value for e in app.error]

    # 2. the communities file's columns, 3 samples each, what we recognised; drop-downs pre-filled
    columns = app.dataframe[0].value
    assert list(columns["文件中的列"]) == ["小区名称", "所属行政区", "户数（户）", "竣工年份", "WKT"]
    assert list(columns.iloc[0, 1:4]) == ["测试小区0", "测试小区1", "测试小区2"]
    assert list(columns.iloc[2, 1:4]) == ["400", "400", "400"]  # the empty third cell is skipped
    assert list(columns["识别为"]) == ["名称", "区县", "户数", "建成年份", "—"]
    selects = fields(app, "communities")
    assert selects["name"].value == "小区名称" and selects["households"].value == "户数（户）"
    assert selects["population"].value is None and selects["population"].format_func(None) == "—"
    assert selects["longitude"].label == "经度" and selects["households"].label == "户数"
    assert len(selects) == len(mappable_fields("communities"))  # a drop-down for every field of ours
    assert fields(app, "fitness_paths")["longitude"].value == "经度"
    # the communities' CSV declares no CRS: the guess and why; the districts' GeoJSON declares its own
    captions = said(app.caption)
    assert "EPSG:4527" in captions and "带号 39" in captions
    assert "文件自带坐标系：EPSG:4326" in captions

    # 3.–4. name the city and preview it
    app.text_input(key="widget_newcity_name").set_value("合肥市")
    app.run()
    button(app, "newcity_preview").click()
    app.run()
    assert not app.exception and not app.error, (app.exception, [e.value for e in app.error])
    metrics = [(m.label, m.value) for m in app.metric]
    assert metrics[:4] == [("数据行", "12"), ("通过", "12"), ("未通过", "0"), ("人口为估算的小区", "12")]
    assert metrics[4:7] == [("数据行", "1"), ("通过", "1"), ("未通过", "0")]
    shown = said(app.markdown)
    assert "区县：2 个（来自区县边界文件） — 蜀山区、包河区" in shown
    warnings = said(app.warning)
    assert "按 EPSG:4527" in warnings and "taken as" not in warnings
    assert len(app.get("iframe")) == 1  # the map preview

    # 5. save: the session analyses 合肥市 on every page
    button(app, "newcity_save").click()
    app.run()
    assert not app.exception, app.exception
    assert app.session_state["uploaded_name"] == "合肥市"
    assert "已保存并采用“合肥市”：2 个区县、12 个小区、1 套健身路径" in app.success[0].value
    assert any("合肥市" in c.value for c in app.sidebar.caption)
    app.switch_page("views/coverage_map.py")
    app.run()
    assert not app.exception, app.exception
    assert {m.label: m.value for m in app.metric}["小区总数"] == "12"
    table = app.dataframe[0].value
    districts = table[table["区县"] != "合计"]  # and the 合计 row, their sum
    assert sorted(districts["区县"]) == ["包河区", "蜀山区"] and districts["小区数"].sum() == 12
    assert list(table["小区数"])[-1] == 12


def test_the_english_page_leaves_no_chinese_but_the_users_data(files):
    app = open_page("en")
    upload(app, "communities", files["communities"], CSV)
    app.text_input(key="widget_newcity_name_en").set_value("Hefei")
    app.run()
    button(app, "newcity_preview").click()
    app.run()
    assert not app.exception and not app.error
    data = {*othercity.community_squares()["小区名称"], *othercity.community_squares()["所属行政区"]}
    data |= {"小区调查.csv", "所属行政区", "户数（户）", "竣工年份", "小区名称", "小区编号"}

    def ours(value: str) -> str:
        for word in sorted(data, key=len, reverse=True):
            value = value.replace(word, "")
        return value

    labels = [w.label for w in (*app.selectbox, *app.text_input, *app.button, *app.metric)]
    texts = [e.value for e in (*app.title, *app.subheader, *app.caption, *app.warning, *app.info, *app.markdown)]
    left = [s for s in labels + texts if CHINESE.search(ours(str(s).replace("\\", "")))]
    assert left == []
    headers = [str(h) for table in app.dataframe for h in table.value.columns]
    assert not [h for h in headers if CHINESE.search(h)]
    assert any("Districts: 2 (approximate outlines drawn" in m.value.replace("\\", "") for m in app.markdown)


def test_a_file_that_cannot_be_read_is_said_plainly_under_the_users_name(tmp_path):
    empty = tmp_path / "空的.csv"
    empty.write_bytes(b"")
    app = open_page()
    upload(app, "communities", empty, CSV)
    errors = [e.value.replace("\\", "") for e in app.error]
    assert len(errors) == 1 and "空的.csv" in errors[0] and "newcity_communities" not in errors[0]
    assert button(app, "newcity_preview").disabled


def test_a_changed_mapping_asks_for_a_new_preview_and_a_mapped_column_is_used(files):
    app = open_page()
    upload(app, "communities", files["communities"], CSV)
    button(app, "newcity_preview").click()
    app.run()
    assert button(app, "newcity_save").disabled is False
    fields(app, "communities")["population"].set_value("户数（户）")
    app.run()
    # one column for two fields: said on the page, no preview until it is resolved
    assert "列“户数（户）”被选为多个字段（户数、人口）" in said(app.error)
    assert button(app, "newcity_preview").disabled
    fields(app, "communities")["households"].set_value(None)
    app.run()
    assert not app.error and "请重新生成预览" in said(app.info)
    # "—" for a recognised field: that column is not read as it (households), nothing to note
    assert "已按表头自动识别" not in said(app.caption)
    assert button(app, "newcity_save").disabled
    button(app, "newcity_preview").click()
    app.run()
    assert not app.error, said(app.error)
    city = app.session_state["newcity_result"][1].city
    # the households column read as the population: 400 where given, the rest estimated from the area
    assert sorted(pd.unique(city.communities["population"])) == [400, othercity.expected_population(2)]
    assert [m.value for m in app.metric][:4] == ["12", "12", "0", "4"]


def _keys(app):
    return [s.key for s in app.selectbox if s.key]


def fields(app, layer):
    """Our field → its drop-down, for the file uploaded as ``layer``."""
    token = app.session_state["newcity_files"][layer].token
    prefix = f"widget_newcity_{token}_field_"
    return {s.key.removeprefix(prefix): s for s in app.selectbox if s.key and s.key.startswith(prefix)}


def test_bare_eastings_offer_candidates_and_the_chosen_code_is_used(tmp_path):
    """Gauss–Krüger metres without a zone number: no certain guess; the select offers the CGCS2000 CM codes,
    ranked by where the city's other file (the fitness paths, in degrees: 117.2°E) lies once one is uploaded."""
    paths = othercity.write_files(tmp_path, gk_crs=othercity.GK_WITHOUT_ZONE)
    app = open_page()
    upload(app, "communities", paths["communities"], CSV)
    crs = app.selectbox(key=next(k for k in _keys(app) if k.endswith("_coordinates")))
    assert crs.value == "auto" and "EPSG:4548（CGCS2000 3° 带，中央经线 117°E）" in crs.options
    assert crs.options[4].startswith("EPSG:4534（")  # alone, the codes in order: 75°E first
    assert "无法从坐标确定坐标系，请在上面选择（最可能的是 EPSG:4534" in said(app.warning)
    upload(app, "fitness_paths", paths["fitness_paths"], CSV)
    crs = app.selectbox(key=crs.key)
    assert crs.options[4] == "EPSG:4548（CGCS2000 3° 带，中央经线 117°E）"
    assert "最可能的是 EPSG:4548" in said(app.warning)
    button(app, "newcity_preview").click()
    app.run()
    assert not app.exception and "newcity_result" not in app.session_state
    assert "未声明坐标系" in said(app.error)  # the importer's refusal, said plainly
    crs = app.selectbox(key=crs.key)
    crs.set_value(othercity.GK_WITHOUT_ZONE)
    app.run()
    button(app, "newcity_preview").click()
    app.run()
    assert not app.error, [e.value for e in app.error]
    assert [m.value for m in app.metric][:3] == ["12", "12", "0"]


def test_the_page_is_reachable_from_the_data_page():
    app = AppTest.from_file(APP, default_timeout=180)
    app.run()
    app.switch_page("views/intake.py")
    app.run()
    assert not app.exception
    links = list(app.get("page_link"))
    assert links and links[0].proto.label == text("newcity_link", "zh")


def test_files_and_preview_survive_a_visit_to_another_page_and_an_emptied_uploader_drops_its_file(files):
    app = open_page()
    upload(app, "communities", files["communities"], CSV)
    upload(app, "fitness_paths", files["fitness_paths"], CSV)
    button(app, "newcity_preview").click()
    app.run()
    saved = app.session_state["newcity_files"]["fitness_paths"].path
    app.switch_page("views/intake.py")
    app.run()
    app.switch_page(PAGE)
    app.run()
    assert not app.exception, app.exception
    assert set(app.session_state["newcity_files"]) == {"communities", "fitness_paths"}
    assert "仍使用此前上传的 小区调查.csv" in said(app.caption)
    assert [m.value for m in app.metric][:3] == ["12", "12", "0"]  # the preview is still there
    upload(app, "fitness_paths", files["fitness_paths"], CSV)  # the uploader on the page again …
    app.file_uploader(key="newcity-upload-fitness_paths").set_value(None)  # … then emptied by the user
    app.run()
    assert set(app.session_state["newcity_files"]) == {"communities"} and not saved.exists()
    assert "newcity_result" not in app.session_state  # the preview was of other files


def test_rejected_rows_are_listed_in_the_pages_language_and_downloadable_with_a_bom(files, tmp_path):
    """Two rows the import refuses (no geometry, an unreadable one): 12 accepted, 2 rejected, both listed."""
    survey = tmp_path / "小区调查.csv"
    lines = files["communities"].read_text(encoding="utf-8-sig").splitlines()
    survey.write_text(
        "\n".join([*lines, "无图形小区,蜀山区,300,2001,", "坏图形小区,包河区,300,2001,POLYGON((1 2"]) + "\n"
    )
    app = open_page()
    upload(app, "communities", survey, CSV)
    upload(app, "districts", files["districts"])
    button(app, "newcity_preview").click()
    app.run()
    assert not app.exception and not app.error, said(app.error)
    assert [m.value for m in app.metric][:3] == ["14", "12", "2"]
    assert "小区：未通过的行" in said(app.markdown)
    rejects = app.dataframe[-1].value
    assert list(rejects["小区名称"]) == ["无图形小区", "坏图形小区"]  # the user's cells under the user's headers
    assert not [h for h in rejects.columns if h.startswith("reason_")]  # reasons said, not coded
    download = next(e for e in app.get("download_button") if "newcity-rejects-communities" in e.proto.id)
    assert download.proto.label == "下载未通过的行（CSV）"
    result = app.session_state["newcity_result"][1].results["communities"]
    assert result.rejects_csv().startswith(b"\xef\xbb\xbf")  # the button's bytes: UTF-8 with BOM, for Excel


def test_hostile_headers_file_and_city_names_stay_text(files, tmp_path):
    """Headers, a file name and a city name written as Markdown are shown as typed: never a link, image or bold."""
    from tests.hostile import OUTSIDE_URL

    image, link, bold = f"![t]({OUTSIDE_URL})", "[点我](javascript:alert(1))", "**粗体**"
    survey = tmp_path / f"{bold}{link.replace('/', '')}.csv"
    lines = files["communities"].read_text(encoding="utf-8-sig").splitlines()
    lines = [f"{line},{image if n == 0 else '<b>x</b>'}" for n, line in enumerate(lines)]
    survey.write_text("\n".join(lines) + "\n", encoding="utf-8")
    app = open_page()
    upload(app, "communities", survey, CSV)
    app.text_input(key="widget_newcity_name").set_value(f"{link}{bold}")
    app.run()
    button(app, "newcity_preview").click()
    app.run()
    assert not app.exception and not app.error, said(app.error)
    assert image in list(app.dataframe[0].value["文件中的列"])  # the table holds the text itself
    assert image in fields(app, "communities")["name"].options
    button(app, "newcity_save").click()
    app.run()
    assert not app.exception, app.exception
    rendered = [
        str(e.value)
        for e in (*app.markdown, *app.caption, *app.warning, *app.error, *app.info, *app.success, *app.sidebar.caption)
    ]
    assert any("点我" in shown for shown in app.sidebar.caption.values)
    assert sum("\\*\\*粗体\\*\\*" in shown for shown in rendered) >= 3  # file name, success, sidebar: escaped
    for shown in rendered:  # Markdown as the page renders it: every sign escaped
        assert "![t](" not in shown and "](javascript" not in shown and "**粗体**" not in shown, shown


def test_a_read_over_the_time_limit_is_stopped_and_said(files, tmp_path, monkeypatch):
    """[intake] max_import_seconds below what starting the child takes: the read is stopped and said so."""
    from geo.config import DEFAULT_CONFIG_PATH

    source = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(re.sub(r"(?m)^max_import_seconds = .*$", "max_import_seconds = 0.05", source), encoding="utf-8")
    monkeypatch.setenv("PLANNER_CONFIG", str(config))
    app = open_page()
    upload(app, "communities", files["communities"], CSV)
    assert "超过 0.05 秒，已停止" in said(app.error)
    assert button(app, "newcity_preview").disabled
