"""Public sites on the maps, the priority page and the exports (issue 15): what a pick is and what it serves, in words.

The hand-made city (tests/test_sites_plan.py ``TWO_LANDLESS``): C000 and C001 have no land, 800 m apart; one pocket
park S1 between them serves both, so with a budget of one set the plan picks S1. S2 is a park too small and without
the owner's consent (it can never be picked).
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geo.analysis.priority import landless
from geo.analysis.sites import assess_sites
from geo.config import DEFAULT_DATA_PATH, load_config
from geo.i18n import label, reason_label, text
from geo.pipeline import load_city
from geo.render import maps
from geo.render.export import (
    explained_plan_sheets,
    export,
    location_words,
    pick_explanations,
    with_pick_explanations,
)
from geo.render.maps import coverage_map
from tests import hostile
from tests.helpers import csv_rows, map_data, workbook_cells
from tests.site_helpers import TWO_LANDLESS, city, plan_of, sites_at

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def two_landless(site_name: str | None = None, community_name: str | None = None):
    """(communities, paths, sites, plan) of the hand-made city, optionally with hostile names."""
    communities, paths = city(**TWO_LANDLESS)
    communities.loc[2, "built_year"] = 2010  # as in test_sites_plan: the site outranks C002 in both modes
    if community_name is not None:
        communities["name"] = [community_name, f"{community_name}·2", "有地小区"]
    sites = sites_at(("S1", 450, 50, "pocket_park", 400, "yes"), ("S2", 2000, 0, "park", 50, "no"))
    if site_name is not None:
        sites["name"] = [site_name, "S2 的名字"]
    plan = plan_of(communities, paths, sites, "optimal")  # the site's 700 residents beat C002's 600
    return communities, paths, sites, plan


def districts_around(communities) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"district_code": ["450202"], "district_name": ["城中区"], "district_name_en": ["Chengzhong"]},
        geometry=[box(*communities.total_bounds).buffer(0.01)],
        crs="EPSG:4326",
    )


def the_map(communities, paths, sites, plan, lang="zh") -> str:
    scored = plan.outcomes[0].scored
    picks = plan.selected
    m = coverage_map(
        districts_around(communities),
        scored,
        paths,
        lang=lang,
        selected_ids=picks["community_id"].tolist(),
        selected_program=dict(zip(picks["community_id"], ["市本级"] * len(picks))),
        public_sites=assess_sites(sites, paths, load_config()),
        landless_ids=scored.loc[landless(scored), "community_id"],
        picks=picks,
    )
    return m.get_root().render()


def layer(page: str, key: str) -> list[dict]:
    """The features of the map's layers of ``key``."""
    return [f for entry in map_data(page)["layers"] if entry["key"] == key for f in entry["features"]["features"]]


# --------------------------------------------------------------------------- the map


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_map_draws_the_sites_the_landless_and_lines_from_the_picked_site(lang):
    communities, paths, sites, plan = two_landless()
    assert plan.selected["community_id"].tolist() == ["S1"]  # the site between the two is the one pick
    page = the_map(communities, paths, sites, plan, lang)
    labels = maps.LABELS[lang]

    picked = layer(page, "sites_selected")
    assert [f["properties"]["community_id"] for f in picked] == ["S1"]
    assert picked[0]["geometry"]["type"] == "Point"
    assert picked[0]["properties"]["site_kind"] == ("口袋公园" if lang == "zh" else "Pocket park")
    assert picked[0]["properties"]["selected_program"] == "市本级"
    assert layer(page, "sites_eligible") == []  # S1 is drawn once, as a pick
    (refused,) = layer(page, "sites_ineligible")
    said = refused["properties"]
    assert said["site_name"] == "场地S2"
    assert said["usable_area_m2"] == "50"
    if lang == "zh":
        assert said["consent"] == "不同意" and said["site_eligible"] == "否"
        assert said["site_reasons"] == "可用面积不足一套健身路径占地；产权或管理单位不同意"
    else:
        assert said["consent"] == "No" and said["site_eligible"] == "No"
        separator = text("reason_separator", "en")
        assert said["site_reasons"] == separator.join(reason_label(code, "en") for code in ("too_small", "no_consent"))

    assert sorted(f["properties"]["community_id"] for f in layer(page, "landless")) == ["C000", "C001"]
    lines = layer(page, "service_lines")
    assert sorted(f["properties"]["community_id"] for f in lines) == ["C000", "C001"]
    site_point = picked[0]["geometry"]["coordinates"]
    for line in lines:  # from the site to inside each community it serves
        start, end = line["geometry"]["coordinates"]
        assert start == site_point
        served = communities.set_index("community_id").geometry[line["properties"]["community_id"]]
        assert served.buffer(1e-6).contains(gpd.points_from_xy([end[0]], [end[1]])[0])
    assert lines[0]["properties"]["line"].startswith("场地S1 → ")

    legend = {row["status"]: row for row in map_data(page)["legend"]["rows"]}
    assert legend["landless"]["count"] == 2 and legend["service_lines"]["count"] == 2
    assert legend["sites_selected"]["count"] == 1 and legend["sites_ineligible"]["count"] == 1
    assert legend["sites_eligible"]["count"] == 0
    for key in ("sites_selected", "sites_eligible", "sites_ineligible", "landless", "service_lines"):
        assert legend[key]["label"] == labels[key]
        assert maps.json.dumps(labels[key])[1:-1] in page or labels[key] in page  # the layer control's entry


def test_a_map_without_sites_or_plan_draws_none_of_their_layers():
    communities, paths, _, plan = two_landless()
    page = coverage_map(districts_around(communities), plan.outcomes[0].scored, paths).get_root().render()
    keys = {entry["key"] for entry in map_data(page)["layers"]}
    assert not keys & {"sites_selected", "sites_eligible", "sites_ineligible", "landless", "service_lines"}


def test_a_community_pick_has_lines_to_the_others_it_serves_not_to_itself():
    picks = gpd.GeoDataFrame(
        {
            "community_id": ["C002"],
            "name": ["小区2"],
            "candidate_kind": ["community"],
            "served_communities": ["C002;C001"],
        },
        geometry=[box(0, 0, 0.001, 0.001)],
        crs="EPSG:4326",
    )
    communities, _ = city(**TWO_LANDLESS)
    lines = maps._service_lines(picks, communities)
    assert lines["community_id"].tolist() == ["C001"]
    assert lines["pick_name"].tolist() == ["小区2"] and lines["served_name"].tolist() == ["小区1"]


# --------------------------------------------------------------------------- what a pick serves, in words

PICKS = pd.DataFrame(
    {
        "community_id": ["S1", "C9", "C5", "S7"],
        "name": ["河边公园", "老街小区", "新村", "街角"],
        "candidate_kind": ["site", "community", "community", "site"],
        "site_kind": ["park", None, None, "street_corner"],
        "served_communities": ["C1;C2;C3", "C9;C1", "", ""],
        "landless_served": ["C1;C3", "", "", ""],
    }
)
NAMES = {"C1": "甲小区", "C2": "乙小区", "C3": "丙小区", "C9": "老街小区"}


def test_each_pick_says_what_it_serves_the_landless_first_and_marked():
    assert pick_explanations(PICKS, NAMES, "zh").tolist() == [
        "场地 河边公园 服务小区 甲小区、丙小区（无建设用地），以及小区 乙小区",
        "小区 老街小区 服务小区 老街小区（本小区）、甲小区",
        "小区 新村 本小区配建一套，步行范围内无新增覆盖的其他小区",
        "场地 街角 步行范围内无新增覆盖的小区",
    ]
    assert pick_explanations(PICKS, NAMES, "en").tolist() == [
        "Site 河边公园 serves communities 甲小区, 丙小区 (no land of their own) and 乙小区",
        "Community 老街小区 serves communities 老街小区 (itself), 甲小区",
        "Community 新村 gets a set of its own; no other community is newly within walking distance",
        "Site 街角 brings no new community within walking distance",
    ]


def test_an_id_without_a_name_is_said_as_the_id():
    assert pick_explanations(PICKS.iloc[[0]], {}, "zh").tolist() == [
        "场地 河边公园 服务小区 C1、C3（无建设用地），以及小区 C2"
    ]


def test_location_type_in_words():
    assert location_words(PICKS, "zh").tolist() == ["公共场地·公园", "小区", "小区", "公共场地·街角空地"]
    assert location_words(PICKS, "en").tolist() == [
        "Public site · Park",
        "Community",
        "Community",
        "Public site · Street-corner plot",
    ]
    assert location_words(PICKS.drop(columns=["candidate_kind"]), "zh").tolist() == ["小区"] * 4


# --------------------------------------------------------------------------- exports


@pytest.mark.parametrize(
    "lang, headers, kind, site_kind, sentence",
    [
        (
            "zh",
            ("点位类型", "场地类型", "服务说明"),
            "公共场地",
            "口袋公园",
            "场地 场地S1 服务小区 小区0、小区1（无建设用地）",
        ),
        (
            "en",
            ("Location type", "Kind of site", "What it serves"),
            "Public site",
            "Pocket park",
            "Site 场地S1 serves communities 小区0, 小区1 (no land of their own)",
        ),
    ],
)
def test_the_plan_export_says_the_kinds_in_words_and_what_each_pick_serves(
    tmp_path, lang, headers, kind, site_kind, sentence
):
    from geo.i18n import column_label
    from geo.plan import plan_sheets

    _, _, _, plan = two_landless()
    sheets = explained_plan_sheets(plan_sheets(plan, lang), plan, lang)  # as the priority page exports them
    (sheet,) = sheets.values()
    assert list(sheet.columns)[-2:] == ["pick_explanation", "geometry"]
    export(sheet, tmp_path / "plan.csv", lang=lang, parameters={})
    rows = csv_rows((tmp_path / "plan.csv").read_bytes())  # BOM, CRLF, no formula
    header, row = rows[0], dict(zip(rows[0], rows[1]))
    kind_header = column_label("candidate_kind", lang)
    assert kind_header in header and column_label("pick_explanation", lang) == headers[2]
    assert row[kind_header] == kind
    assert row[column_label("site_kind", lang)] == site_kind
    assert row[headers[2]] == sentence
    export(sheets, tmp_path / "plan.xlsx", lang=lang, parameters={"walk_radius_m": 500})
    cells = workbook_cells((tmp_path / "plan.xlsx").read_bytes())
    first = next(iter(cells.values()))
    assert sentence in first[1] and kind in first[1]
    # GeoJSON keeps the codes for machines.
    export(sheet, tmp_path / "plan.geojson", lang=lang, parameters={})
    assert gpd.read_file(tmp_path / "plan.geojson")["candidate_kind"].tolist() == ["site"]


# --------------------------------------------------------------------------- hostile names


@pytest.mark.parametrize("text", hostile.ALL)
def test_hostile_site_and_community_names_stay_text_in_map_table_and_export(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a payload that ran would create its marker file here
    communities, paths, sites, plan = two_landless(site_name=text, community_name=text)
    assert plan.selected["community_id"].tolist() == ["S1"]
    page = the_map(communities, paths, sites, plan)
    (picked,) = layer(page, "sites_selected")
    assert picked["properties"]["site_name"] == text
    assert {f["properties"]["line"] for f in layer(page, "service_lines")} == {f"{text} → {text}", f"{text} → {text}·2"}
    outside = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.S)
    assert text not in outside or text in ("..",)

    names = dict(zip(communities["community_id"], communities["name"]))
    (sentence,) = pick_explanations(plan.selected, names, "zh").tolist()
    assert sentence == f"场地 {text} 服务小区 {text}、{text}·2（无建设用地）"
    from geo.plan import plan_sheets

    (sheet,) = (with_pick_explanations(s, names, "zh") for s in plan_sheets(plan, "zh").values())
    export(sheet, tmp_path / "plan.csv", lang="zh", parameters={})
    export(sheet, tmp_path / "plan.xlsx", lang="zh", parameters={})
    csv_rows((tmp_path / "plan.csv").read_bytes())  # fails on a formula
    workbook_cells((tmp_path / "plan.xlsx").read_bytes())
    assert not (tmp_path / hostile.MARKER_NAME).exists()


# --------------------------------------------------------------------------- the priority page


def open_priority(lang: str = "zh"):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file("../app.py", default_timeout=180)
    app.run()
    if lang == "en":
        app.sidebar.radio(key="language_choice").set_value("English").run()
    app.switch_page("views/priority_budget.py")
    app.run()
    assert not app.exception, app.exception
    return app


def sums_agree(app, lang: str) -> None:
    """Each programme's land-less residents in the headline = the sum of its rows in the table."""
    from geo.i18n import column_label

    table = app.dataframe[0].value
    landless_column = column_label("landless_population_newly_served", lang)
    program_column = column_label("program_name", lang)
    headline = [m for m in app.metric if m.label == text("compare_landless_residents", lang)]
    unit = text("sets_unit", lang)
    names = [m.label for m in app.metric if m.value.endswith(f" {unit}")]
    assert headline and len(headline) == len(names), "each programme says the land-less residents it newly serves"
    for name, metric in zip(names, headline):
        rows = table[table[program_column] == name]
        assert int(pd.to_numeric(rows[landless_column]).sum()) == int(re.sub(r"\D", "", metric.value))
        sites = int(re.sub(r"\D", "", metric.delta))
        assert sites == int((rows[column_label("candidate_kind", lang)] != text_kind(lang)).sum())


def text_kind(lang: str) -> str:
    return label("export", "candidate_kind_community", lang)


@pytest.mark.slow
def test_the_priority_page_puts_sets_on_sites_and_says_what_each_serves():
    app = open_priority()
    (box_,) = [c for c in app.checkbox if c.label == "公共场地作为候选点位"]
    assert box_.value is True
    table = app.dataframe[0].value
    assert {"点位类型", "服务说明", "新增覆盖的无建设用地小区居民"} <= set(table.columns)
    sites = table[table["点位类型"].str.startswith("公共场地·")]
    assert len(sites) and sites["小区编号"].str.startswith("PS-").all()
    assert sites["服务说明"].str.startswith("场地 ").all() and sites["服务说明"].str.contains("（无建设用地）").any()
    assert (table.loc[table["点位类型"] == "小区", "服务说明"].str.startswith("小区 ")).all()
    sums_agree(app, "zh")
    comparison = next(
        frame.value for frame in app.dataframe if "建在公共场地（套）" in frame.value.iloc[:, 0].astype(str).tolist()
    )
    rank_sets = int(comparison.iloc[0]["按优先级排序"])
    assert rank_sets == len(sites)  # the comparison's rank column is this page's rank plan

    left = next(frame.value for frame in app.dataframe if "未入选原因" in frame.value.columns)
    assert set(left["点位类型"]) == {"小区", "公共场地"}  # the sites left out are said to be sites
    assert left.loc[left["点位类型"] == "公共场地", "小区编号"].str.startswith("PS-").all()

    box_.uncheck().run()  # communities only: no site, no site figures
    assert not app.exception
    table = app.dataframe[0].value
    assert "点位类型" not in table.columns and not table["小区编号"].str.startswith("PS-").any()
    assert not [m for m in app.metric if m.label == "新覆盖的无建设用地小区居民"]


@pytest.mark.slow
def test_the_english_priority_page_says_sites_in_english_apart_from_the_data():
    app = open_priority("en")
    assert [c.label for c in app.checkbox] == ["Public sites as candidate locations"]
    table = app.dataframe[0].value
    assert not any(CJK.search(str(column)) for column in table.columns)
    kinds = set(table["Location type"])
    assert "Community" in kinds and any(k.startswith("Public site · ") for k in kinds)
    assert not any(CJK.search(k) for k in kinds)
    city_data = load_city(DEFAULT_DATA_PATH)
    names = set(city_data.communities["name"].astype(str)) | set(city_data.public_sites["name"].astype(str))
    for sentence in table["What it serves"]:
        words = sentence
        for name in sorted(names, key=len, reverse=True):
            words = words.replace(name, "")
        assert not CJK.search(words), sentence
    for metric in app.metric:
        assert not CJK.search(metric.label) or metric.label in names
    sums_agree(app, "en")


HOSTILE_SITE = "{{ 6*7 }}<script>alert(1)</script>[点我](" + hostile.OUTSIDE_URL + ")**粗体**=1+2"


def small_city_file(folder, with_sites: bool = True):
    """The hand-made city as a city GeoPackage: its site S1 named :data:`HOSTILE_SITE` (or no sites layer)."""
    from geo.data.gpkg import write_layers

    communities, paths, sites, _ = two_landless(site_name=HOSTILE_SITE)
    if not len(paths):  # one set far away: a city file holds a fitness-paths layer
        _, paths = city(xy=[(0, 0)], population=[1], paths_xy=[(20_000, 20_000)])
    layers = {"districts": districts_around(communities), "communities": communities, "fitness_paths": paths}
    if with_sites:
        layers["public_sites"] = sites
    target = folder / ("small.gpkg" if with_sites else "small_no_sites.gpkg")
    write_layers(target, layers)
    return target


@pytest.mark.slow
def test_a_hostile_site_name_stays_text_on_the_priority_page(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANNER_DATA", str(small_city_file(tmp_path)))
    app = open_priority()
    table = app.dataframe[0].value
    row = table[table["小区编号"] == "S1"].iloc[0]
    assert row["名称"] == HOSTILE_SITE
    assert row["服务说明"] == f"场地 {HOSTILE_SITE} 服务小区 小区0、小区1（无建设用地）"
    assert row["点位类型"] == "公共场地·口袋公园"
    shown = [
        str(e.value) for kind in ("title", "header", "subheader", "markdown", "caption") for e in getattr(app, kind)
    ]
    assert not [value for value in shown if "6*7" in value or "点我" in value]  # the name is in the table only
    assert not (tmp_path / hostile.MARKER_NAME).exists()


@pytest.mark.slow
def test_a_city_without_public_sites_has_no_sites_checkbox(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_DATA", str(small_city_file(tmp_path, with_sites=False)))
    app = open_priority()
    assert not [c for c in app.checkbox if c.label == "公共场地作为候选点位"]
    table = app.dataframe[0].value
    assert "点位类型" not in table.columns and "新增覆盖的无建设用地小区居民" not in table.columns
    assert not [m for m in app.metric if m.label == "新覆盖的无建设用地小区居民"]


def test_on_amap_tiles_the_sites_and_lines_shift_to_gcj02_with_the_communities():
    communities, paths, sites, plan = two_landless()
    scored, picks = plan.outcomes[0].scored, plan.selected
    pages = {
        base: coverage_map(
            districts_around(communities),
            scored,
            paths,
            base_layer=base,
            public_sites=assess_sites(sites, paths, load_config()),
            picks=picks,
        )
        .get_root()
        .render()
        for base in (None, "amap")
    }
    plain, shifted = (layer(pages[base], "sites_selected")[0]["geometry"]["coordinates"] for base in (None, "amap"))
    assert 0.001 < abs(shifted[0] - plain[0]) < 0.01 and 0.001 < abs(shifted[1] - plain[1]) < 0.01  # GCJ-02: ~500 m
    lines = layer(pages["amap"], "service_lines")
    assert {tuple(line["geometry"]["coordinates"][0]) for line in lines} == {tuple(shifted)}


def test_picks_that_serve_only_themselves_draw_no_line_and_no_error():
    """On foot a plan's picks often serve only their own community: the lines layer is then empty, not a crash
    (the empty frame's columns are text)."""
    picks = gpd.GeoDataFrame(
        {"community_id": ["C002"], "name": ["小区2"], "candidate_kind": ["community"], "served_communities": ["C002"]},
        geometry=[box(0, 0, 0.001, 0.001)],
        crs="EPSG:4326",
    )
    communities, _ = city(**TWO_LANDLESS)
    lines = maps._service_lines(picks, communities)
    assert len(lines) == 0
    layer = maps._service_line_layer(lines, {"service_line": "服务"})
    assert layer["features"]["features"] == []
