"""The land-less communities for district offices, and the notice's sites (issue 15): hand-made city, known answers.

Geometry (tests/helpers.py ``square_city``, 100 m squares at metre offsets in UTM 49N, walk radius 500 m):
C000 (0, 0) and C001 (800, 0) have no land; the pocket park S1 at (450, 50) lies 350 m from the edge of
each and serves both. C002 (4000, 0) has no land either, and no site is within reach: S1 is 3,550 m from
its edge. C003 (8000, 0) has room for a set but lies in another district (鱼峰区).
"""

from __future__ import annotations

import dataclasses
import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box
from streamlit.testing.v1 import AppTest

from geo.config import load_config
from geo.i18n import text
from geo.plan import landless_table, run_plan
from geo.render.landless import LIST_COLUMNS, landless_counts, landless_list
from geo.render.notice import publish_html
from geo.store.accounts import add_user
from geo.store.actors import Actor
from geo.store.db import open_store
from tests.helpers import csv_rows, square_city, starts_a_formula, workbook_cells

UTM, X0, Y0 = "EPSG:32649", 338_000.0, 2_690_000.0
SET_CNY = 50_000
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
HOSTILE = '=HYPERLINK("http://evil.example/x","点我")'
HOSTILE_SITE = "<b>**公园**</b><script>alert(1)</script>"


def sites(name: str = "场地S1") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": pd.array(["S1"], dtype="string"),
            "name": pd.array([name], dtype="string"),
            "kind": pd.array(["pocket_park"], dtype="string"),
            "usable_area_m2": [400.0],
            "owner": pd.array(["园林局"], dtype="string"),
            "consent": pd.array(["yes"], dtype="string"),
            "notes": pd.array([None], dtype="string"),
        },
        geometry=[Point(X0 + 450, Y0 + 50)],
        crs=UTM,
    ).to_crs("EPSG:4326")


def communities(names=None):
    frame, paths = square_city([(0, 0), (800, 0), (4000, 0), (8000, 0)], [400, 300, 200, 100])
    frame.loc[[0, 1, 2], "open_space_m2"] = 0.0
    frame.loc[3, ["district_code", "district_name"]] = ["450203", "鱼峰区"]
    if names is not None:
        frame["name"] = names
    return frame, paths


def config(budget: int = SET_CNY):
    base = load_config()
    programs = tuple(dataclasses.replace(p, budget_cny=budget) for p in base.programs[:1])
    return dataclasses.replace(base, programs=programs, standard="inside")


def plan_and_table(names=None, site_name="场地S1"):
    frame, paths = communities(names)
    plan = run_plan(frame, paths, config(), [config().programs[0].key], "rank", public_sites=sites(site_name))
    scored = plan.outcomes[0].scored
    return plan, scored, landless_table(plan, scored, plan.outcomes[0].sites)


DISTRICTS = {"450202": "城中区", "450203": "鱼峰区"}


# --------------------------------------------------------------------------- the list


def test_the_list_names_both_near_communities_with_the_site_and_the_far_one_with_none_within_reach():
    plan, _, table = plan_and_table()
    listed = landless_list(table, plan, "zh", DISTRICTS).set_index("community_id")
    assert list(listed.columns) == [c for c in LIST_COLUMNS if c != "community_id"]
    assert listed.index.tolist() == ["C000", "C001", "C002"]
    for near in ("C000", "C001"):
        assert listed.loc[near, "site_1_name"] == "场地S1"
        assert listed.loc[near, "site_1_m"] == pytest.approx(350.0)
        assert pd.isna(listed.loc[near, "site_2_name"])  # one site in the city
        assert listed.loc[near, "served_by_program_name"] == plan.outcomes[0].program.name("zh")
        assert listed.loc[near, "served_by_rank"] == 1
        assert listed.loc[near, "served_by_name"] == "场地S1"
        assert listed.loc[near, "served_by_kind"] == "公共场地"
    far = listed.loc["C002"]
    assert far["site_1_m"] == pytest.approx(3550.0) and far["site_1_m"] > plan.config.walk_radius_m
    assert far["served_by_program_name"] == "尚无方案覆盖"
    assert pd.isna(far["served_by_rank"]) and pd.isna(far["served_by_name"]) and pd.isna(far["served_by_kind"])
    assert listed.loc["C000", "district_name"] == "城中区"
    assert listed.loc["C000", "reason_text"] == "可用空地不足一套健身路径占地"
    assert listed["population"].tolist() == [400, 300, 200]


def test_the_headline_count_is_the_rows_and_agrees_with_the_land_reasons():
    _, scored, table = plan_and_table()
    counts = landless_counts(scored, table)
    # Three communities lack land, none is within 500 m of a set: all three are listed, two served by S1.
    assert counts == {"land": 3, "within": 0, "landless": 3, "residents": 900, "served": 2}


def test_a_community_without_land_but_within_reach_of_a_set_is_not_listed_and_the_count_says_why():
    frame, paths = square_city([(0, 0), (800, 0)], [400, 300], paths_xy=[(850, 200)])  # a set beside C001
    frame["open_space_m2"] = 0.0
    plan = run_plan(frame, paths, config(), [config().programs[0].key], "rank")
    scored = plan.outcomes[0].scored
    table = landless_table(plan, scored, None)
    assert table["community_id"].tolist() == ["C000"]
    assert landless_counts(scored, table) == {"land": 2, "within": 1, "landless": 1, "residents": 400, "served": 0}
    listed = landless_list(table, plan, "en")
    assert listed["site_1_name"].isna().all() and listed["site_1_m"].isna().all()  # no public-sites layer
    assert listed["served_by_program_name"].tolist() == ["Not yet served by the plan"]


def test_a_district_office_sees_a_pick_in_another_district_by_that_district_only():
    plan, _, table = plan_and_table()
    # The pick S1 is in 城中区 (its nearest community's district): an office of 鱼峰区 alone would see its name
    # replaced; an office of 城中区 sees it.
    elsewhere = landless_list(table, plan, "zh", DISTRICTS, visible=("450203",))
    assert set(elsewhere["served_by_name"].dropna()) == {"城中区的点位"}
    own = landless_list(table, plan, "zh", DISTRICTS, visible=("450202",))
    assert set(own["served_by_name"].dropna()) == {"场地S1"}


def test_english_has_no_chinese_but_the_datas_names():
    plan, _, table = plan_and_table(names=["Elm Court", "Oak Yard", "Far Lane", "Pine Row"], site_name="Park One")
    listed = landless_list(table, plan, "en", {"450202": "Chengzhong", "450203": "Yufeng"})
    words = " ".join(str(v) for v in listed.astype(object).to_numpy().ravel() if not pd.isna(v))
    assert not CJK.search(words), words
    assert listed["served_by_kind"].tolist()[:2] == ["Public site", "Public site"]
    from geo.i18n import column_label

    headers = [column_label(c, "en") for c in listed.columns]
    assert not CJK.search(" ".join(headers)) and len(set(headers)) == len(headers)


def test_hostile_names_stay_text_in_the_files():
    from views.shared import export_bytes

    plan, _, table = plan_and_table(names=[HOSTILE, "<b>x</b>", "far", "other"], site_name=HOSTILE_SITE)
    listed = landless_list(table, plan, "zh", DISTRICTS)
    csv = export_bytes(listed, ".csv", {}, "zh")
    assert csv.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese
    rows = csv_rows(csv)
    assert rows[0][:3] == ["小区编号", "名称", "区县"]
    assert not any(isinstance(cell, str) and starts_a_formula(cell) for row in rows for cell in row)
    assert any(HOSTILE in cell for row in rows for cell in row)  # kept, made inert
    cells = workbook_cells(export_bytes(listed, ".xlsx", {}, "en"))
    sheet = next(iter(cells.values()))
    assert sheet[0][:3] == ["Community ID", "Name", "District"]
    assert not any(isinstance(cell, str) and starts_a_formula(cell) for row in sheet for cell in row)


# --------------------------------------------------------------------------- the notice


def districts_layer():
    return gpd.GeoDataFrame(
        {
            "district_code": ["450202", "450203"],
            "district_name": ["城中区", "鱼峰区"],
            "district_name_en": ["Chengzhong", "Yufeng"],
        },
        geometry=[box(X0 - 1000, Y0 - 1000, X0 + 6000, Y0 + 1000), box(X0 + 6000, Y0 - 1000, X0 + 10_000, Y0 + 1000)],
        crs=UTM,
    ).to_crs("EPSG:4326")


def test_the_notice_names_the_site_and_both_communities_it_serves():
    plan, _, _ = plan_and_table()
    page = publish_html(plan, districts_layer(), communities()[1], lang="zh")
    assert "其中 1 套建在公共场地：" in page
    assert "在场地S1（口袋公园）新建 1 套，服务小区0、小区1（无建设用地）。" in page
    assert '<li data-site-id="S1">' in page


def test_the_english_notice_says_it_in_english_and_names_stay_text():
    plan, _, _ = plan_and_table(names=[HOSTILE, "Oak Yard", "Far Lane", "Pine Row"], site_name=HOSTILE_SITE)
    page = publish_html(plan, districts_layer(), communities()[1], lang="en")
    sentence = re.search(r'<li data-site-id="S1">(.*?)</li>', page).group(1)
    import html

    said = html.unescape(sentence)
    assert said == f"1 set on {HOSTILE_SITE} (Pocket park), serving {HOSTILE}, Oak Yard (without land of their own)."
    assert "<script>alert" not in page and "<b>**" not in page
    assert not CJK.search(said.replace(HOSTILE_SITE, "").replace(HOSTILE, ""))


def test_a_plan_without_site_picks_says_nothing_of_sites():
    frame, paths = communities()
    plan = run_plan(frame, paths, config(), [config().programs[0].key], "rank")
    page = publish_html(plan, districts_layer(), communities()[1], lang="zh")
    assert "site-picks" not in page and "建在公共场地" not in page


# --------------------------------------------------------------------------- the page


def write_city(path, with_sites: bool = True):
    """The hand-made city as a GeoPackage: districts, communities, a set far away, and the site."""
    frame, _ = communities()
    paths = gpd.GeoDataFrame(
        {"path_id": ["P0"], "name": ["远处"]}, geometry=[Point(X0 + 9500, Y0 + 900)], crs=UTM
    ).to_crs("EPSG:4326")
    layers = [("districts", districts_layer()), ("communities", frame), ("fitness_paths", paths)]
    for layer, data in layers + ([("public_sites", sites())] if with_sites else []):
        data.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path


@pytest.fixture
def city_file(tmp_path):
    return write_city(tmp_path / "handmade.gpkg")


def page(monkeypatch, tmp_path, city_file, actor=None, lang="zh"):
    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    monkeypatch.setenv("PLANNER_DATA", str(city_file))
    if actor is not None:
        store = open_store(url)
        add_user(store, Actor("boss", "admin", ()), "boss", "correct horse battery", "admin", ())
        add_user(
            store, Actor("boss", "admin", ()), actor.username, "correct horse battery", actor.role, actor.districts
        )
    app = AppTest.from_file("../app.py", default_timeout=120)
    if actor is not None:
        app.session_state["actor"] = actor
    if lang == "en":
        app.session_state["lang"] = "en"
    app.run()
    app.switch_page("views/eligibility.py")
    app.run()
    assert not app.exception, app.exception
    return app


def landless_frame(app):
    frames = [
        f.value
        for f in app.dataframe
        if "最近公共场地 1" in f.value.columns or "Nearest public site 1" in f.value.columns
    ]
    return frames[0] if frames else None


def test_the_page_lists_the_landless_communities_and_the_pick_serving_them(monkeypatch, tmp_path, city_file):
    app = page(monkeypatch, tmp_path, city_file)
    shown = landless_frame(app)
    assert shown["小区编号"].tolist() == ["C000", "C001", "C002"]
    assert shown["覆盖它的点位"].tolist()[:2] == ["场地S1", "场地S1"]
    assert shown["距离 1（米）"].tolist() == pytest.approx([350.0, 350.0, 3550.0])
    markdown = " ".join(m.value for m in app.markdown)
    assert "城中区：无建设用地的小区 3 个，居民 900 人；其中 2 个由方案的点位覆盖，1 个尚无方案覆盖。" in markdown
    captions = " ".join(c.value for c in app.caption)
    assert "不符合条件的小区共 3 个，其中 0 个步行 500 米内已有健身路径，其余 3 个即本表所列" in captions
    assert "尚无已批准的方案" in captions


def test_a_district_office_of_another_district_sees_none_of_them(monkeypatch, tmp_path, city_file):
    office = Actor("yufeng", "district", ("450203",))
    app = page(monkeypatch, tmp_path, city_file, actor=office)
    assert list(app.selectbox[0].options) == ["鱼峰区"]
    assert landless_frame(app) is None
    said = " ".join(str(e.value) for kind in ("markdown", "caption") for e in getattr(app, kind))
    assert "鱼峰区：无建设用地的小区 0 个" in said and "本区县没有无建设用地的小区。" in said
    assert not any(name in said for name in ("小区0", "小区1", "小区2"))
    assert all("C00" not in str(f.value.to_csv()) or "C003" in str(f.value.to_csv()) for f in app.dataframe)


def test_the_english_page_says_the_section_in_english(monkeypatch, tmp_path, city_file):
    app = page(monkeypatch, tmp_path, city_file, lang="en")
    shown = landless_frame(app)
    assert shown["Served by"].tolist()[:2] == ["场地S1", "场地S1"]  # the data's own names
    assert shown["Served by programme"].tolist()[2] == "Not yet served by the plan"
    section = [m.value for m in app.markdown if "without land of their own" in m.value]
    assert section and not CJK.search(section[0].replace("城中区", ""))
    assert text("landless_title", "en") in [s.value for s in app.subheader]
    said = [c.value for c in app.caption if any(w in c.value for w in ("want of land", "Served by", "land reason"))]
    assert len(said) == 3 and not any(CJK.search(c) for c in said), said


def test_a_city_without_sites_still_lists_its_landless_communities(monkeypatch, tmp_path):
    app = page(monkeypatch, tmp_path, write_city(tmp_path / "no_sites.gpkg", with_sites=False))
    shown = landless_frame(app)
    assert shown["小区编号"].tolist() == ["C000", "C001", "C002"]
    assert shown["最近公共场地 1"].isna().all()
    assert shown["覆盖它的资金项目"].tolist() == ["尚无方案覆盖"] * 3
    assert any(i.value == text("landless_no_sites_layer", "zh") for i in app.info)


def test_an_approved_plan_is_the_one_the_list_follows_and_the_page_says_so(monkeypatch, tmp_path, city_file):
    from geo.pipeline import load_city
    from geo.store.plans import approve_plan, data_sha256, save_plan

    store = open_store(f"sqlite:///{tmp_path}/store.sqlite")
    boss = Actor("boss", "admin", ())
    city = load_city(city_file)
    # Approved with too little money for a set: it buys nothing, unlike the current settings' plan.
    small = run_plan(
        city.communities,
        city.fitness_paths,
        config(budget=10_000),
        [config().programs[0].key],
        "rank",
        public_sites=city.public_sites,
    )
    saved = save_plan(store, boss, small, "**二〇二七**<b>", data_sha256(city_file), "handmade.gpkg")
    approve_plan(store, boss, saved["id"])
    app = page(monkeypatch, tmp_path, city_file)
    shown = landless_frame(app)
    assert shown["覆盖它的资金项目"].tolist() == ["尚无方案覆盖"] * 3
    captions = " ".join(c.value for c in app.caption)
    assert f"按已批准的方案 {saved['id']}“\\*\\*二〇二七\\*\\*\\<b\\>”（boss 于" in captions


# --------------------------------------------------------------------------- the command line


def test_geo_eligibility_landless_prints_and_writes_the_list(tmp_path, city_file, capsys, monkeypatch):
    from geo.cli import main

    monkeypatch.delenv("PLANNER_DB_URL", raising=False)
    assert main(["eligibility", "--landless", "--data", str(city_file), "--district", "450202"]) == 0
    out, err = capsys.readouterr()
    assert "尚无已批准的方案" in err
    lines = out.splitlines()
    assert "小区编号" in lines[0] and "覆盖它的点位" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["C000", "C001", "C002"]
    assert "场地S1" in lines[1] and "尚无方案覆盖" in lines[3] and "<NA>" not in out
    target = tmp_path / "landless.csv"
    assert main(["eligibility", "--landless", "--data", str(city_file), "--out", str(target), "--lang", "en"]) == 0
    rows = csv_rows(target.read_bytes())
    assert rows[0][:4] == ["Community ID", "Name", "District", "Population"]
    assert [row[0] for row in rows[1:4]] == ["C000", "C001", "C002"]
    assert "wrote" in capsys.readouterr().out
    assert main(["eligibility", "--landless", "--data", str(city_file), "--out", str(tmp_path / "x.geojson")]) == 2


def test_an_approved_plan_of_another_data_file_gives_way_to_the_current_settings(monkeypatch, tmp_path, city_file):
    from geo.pipeline import load_city
    from geo.store.plans import approve_plan, save_plan

    store = open_store(f"sqlite:///{tmp_path}/store.sqlite")
    boss = Actor("boss", "admin", ())
    city = load_city(city_file)
    small = run_plan(city.communities, city.fitness_paths, config(budget=10_000), [config().programs[0].key], "rank")
    saved = save_plan(store, boss, small, "旧数据的方案", "0" * 64, "old.gpkg")
    approve_plan(store, boss, saved["id"])
    app = page(monkeypatch, tmp_path, city_file)
    assert landless_frame(app)["覆盖它的点位"].tolist()[:2] == ["场地S1", "场地S1"]  # today's settings buy S1
    captions = " ".join(c.value for c in app.caption)
    assert f"已批准的方案 {saved['id']} 所用的数据文件此后已改变" in captions
