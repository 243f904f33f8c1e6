"""Tests for geo.render.notice: one offline HTML notice of a plan, escaped, with the plan's own numbers."""

import html
import json
import re

import pytest

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.pipeline import load_city
from geo.plan import run_plan
from geo.render.compact import layer_features
from geo.render.notice import publish_html

HOSTILE_NAME = "<script>alert(1)</script>"
HARMLESS_URLS = {"http://www.w3.org/2000/svg"}  # XML namespace, never fetched
# Inside the inlined Leaflet 1.9.3, never fetched: its attribution link and a code comment.
LEAFLET_OWN_URLS = {"https://leafletjs.com", "https://bugzilla.mozilla.org/show_bug.cgi?id=888319"}
URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)\\&]*")
SHA = "ab" * 32


@pytest.fixture(scope="module")
def sample():
    """The bundled sample planned with two programmes; the first pick carries a hostile name."""
    city = load_city(DEFAULT_DATA_PATH)
    config = load_config()
    first = run_plan(city.communities, city.fitness_paths, config, ["city"]).selected
    communities = city.communities.copy()
    communities.loc[communities["community_id"] == first["community_id"].iloc[0], "name"] = HOSTILE_NAME
    plan = run_plan(communities, city.fitness_paths, config, ["city", "region"])
    return city, config, plan


@pytest.fixture(scope="module")
def page(sample):
    city, _config, plan = sample
    return publish_html(plan, city.districts, city.fitness_paths, data_sha256=SHA)


@pytest.fixture(scope="module")
def english(sample):
    city, _config, plan = sample
    return publish_html(plan, city.districts, city.fitness_paths, lang="en", synthetic_notice=False)


def map_document(page):
    srcdoc = re.search(r"<iframe class=\"map\"[^>]*\bsrcdoc='([^']*)'", page)
    return html.unescape(srcdoc.group(1))


def test_map_is_a_complete_document_in_the_page(page, sample):
    _, _, plan = sample
    document = map_document(page)
    assert document.startswith("<!DOCTYPE html>")
    assert "L.map(" in document and "Leaflet 1.9.3" in document
    data = json.loads(
        re.search(r'<script type="application/json" id="fp-map-data-\w+">(.*?)</script>', document).group(1)
    )
    assert {row["status"]: row["count"] for row in data["legend"]["rows"]}["selected"] == len(plan.selected)
    assert "@media print" in document and ".leaflet-control-layers" in document


@pytest.mark.parametrize("variant", ["page", "english"])
def test_nothing_is_loaded_from_outside(variant, request):
    page = request.getfixturevalue(variant)
    for text in (page, map_document(page)):
        assert set(URL.findall(text)) - HARMLESS_URLS <= LEAFLET_OWN_URLS
        assert not re.search(r"<script\b[^>]*\bsrc\s*=", text, re.IGNORECASE)
        assert not re.search(r"<link\b[^>]*\bhref\s*=", text, re.IGNORECASE)
        assert not re.search(r"<(img|iframe)\b[^>]*\bsrc\s*=", text, re.IGNORECASE)
        assert "@import" not in text and "@font-face" not in text
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_selected_communities_are_listed_per_programme(page, sample):
    _, _, plan = sample
    for outcome in plan.outcomes:
        assert f"<h4>{outcome.program.name_zh}</h4>" in page  # under 一、整改方案 › 选中小区名单
        for cid, name in zip(outcome.selected["community_id"], outcome.selected["name"]):
            row = re.search(rf'<tr data-community-id="{cid}">(.*?)</tr>', page).group(1)
            assert f"<td>{html.escape(name)}</td>" in row
    listed = re.findall(r'<tr data-community-id="([^"]+)">', page)
    assert listed == plan.selected["community_id"].tolist()
    first = plan.outcomes[0].selected.iloc[0]
    row = re.search(rf'<tr data-community-id="{first["community_id"]}">(.*?)</tr>', page).group(1)
    assert re.findall(r'data-key="(\w+)" data-value="([^"]*)"', row) == [
        ("rank", "1"),
        ("population_newly_served", str(first["population_newly_served"])),
        ("cost_cny", str(int(first["cost_cny"]))),
    ]
    assert f"<td>{first['district_name']}</td>" in row


def test_summary_numbers_are_the_plans(page, sample):
    _, _, plan = sample
    for summary in plan.summaries():
        row = re.search(rf'<tr data-program="{summary["program"]}">(.*?)</tr>', page).group(1)
        shown = dict(re.findall(r'data-key="(\w+)" data-value="([^"]*)"', row))
        assert int(shown["budget_cny"]) == summary["budget_cny"]
        assert float(shown["spent_cny"]) == summary["spent_cny"]
        assert int(shown["communities_newly_equipped"]) == summary["sets"] == summary["communities_newly_equipped"]
        assert int(shown["population_newly_served"]) == summary["population_newly_served"]
        assert int(shown["communities_newly_within_radius"]) == summary["communities_newly_within_radius"]
        assert float(shown["unspent_cny"]) == summary["unspent_cny"] == summary["budget_cny"] - summary["spent_cny"]
        assert f">{summary['budget_cny']:,}</td>" in row
    total = re.search(r'<tr class="total">(.*?)</tr>', page).group(1)
    shown = dict(re.findall(r'data-key="(\w+)" data-value="([^"]*)"', total))
    assert int(shown["communities_newly_equipped"]) == sum(s["sets"] for s in plan.summaries())


def test_hostile_text_is_escaped(page, sample):
    city, _config, plan = sample
    assert HOSTILE_NAME not in page and HOSTILE_NAME not in map_document(page)
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    titled = publish_html(
        plan,
        city.districts,
        city.fitness_paths.iloc[:5],
        title="<b>公示</b>",
    )
    assert "<b>公示</b>" not in titled and "<h1>&lt;b&gt;公示&lt;/b&gt;</h1>" in titled


def test_chinese_defaults(page):
    assert '<html lang="zh-CN">' in page
    assert "<h1>柳州市健身路径建设计划（公示）</h1>" in page
    assert "按优先得分从高到低" in page and "步行服务半径 500 米" in page
    assert "小区与健身路径均为程序生成的虚构数据" in page  # synthetic notice
    assert "<th>资金项目名称</th>" in page and "合计" in page


def test_parameters_table(page, sample):
    _, config, _ = sample
    rows = dict(re.findall(r"<td><code>([\w.]+)</code></td><td>(.*?)</td>", page))
    assert rows["data_sha256"] == SHA
    assert rows["walk_radius_m"] == f"{config.walk_radius_m:g}"
    assert rows["programs_run"] == "市本级、自治区补助"  # programme names, not keys
    assert rows["service_standard"] == "每个小区配建一套"  # the standard in words, not its code
    assert rows["program.region.budget_cny"] == f"{config.program('region').budget_cny:,}"  # CNY 5,000,000
    assert "<td>优先得分权重 · 人口分项</td>" in page


def test_data_file_is_shown_by_name_only(sample):
    city, _config, plan = sample
    parameters = {"data_file": "/home/planner/秘密/liuzhou.gpkg", "walk_radius_m": 500.0}
    page = publish_html(
        plan,
        city.districts,
        city.fitness_paths.iloc[:5],
        parameters=parameters,
    )
    assert "<td><code>data_file</code></td><td>liuzhou.gpkg</td>" in page
    assert "/home/planner" not in page
    assert "<td><code>walk_radius_m</code></td><td>500</td>" in page


def test_english_variant(english, sample):
    _, _, plan = sample
    assert '<html lang="en">' in english
    assert "<h1>Liuzhou fitness-path construction plan (public notice)</h1>" in english
    assert "Summary by programme" in english and "<h4>City budget</h4>" in english
    assert "<th>Programme name</th>" in english and "Residents newly within walking distance" in english
    assert "柳州市健身路径建设计划" not in english
    assert "synthetic" not in english  # synthetic_notice=False
    first = plan.outcomes[0].selected.iloc[1]
    row = re.search(rf'<tr data-community-id="{first["community_id"]}">(.*?)</tr>', english).group(1)
    assert re.search(r"<td>[A-Z][a-z]+( [A-Za-z]+)*</td>", row)  # district in English
    assert "Selected in this plan" in map_document(english)


# --------------------------------------------------------------------------- the plan's own settings, hostile text


def test_notice_states_the_parameters_of_the_plan_it_lists(sample):
    """Regression: the app's notice said 500 m while listing a 1,000 m plan."""
    from dataclasses import replace

    city, config, _ = sample
    wide = replace(config, walk_radius_m=1000.0, priority_weights={**config.priority_weights, "population": 50.0})
    plan = run_plan(city.communities, city.fitness_paths, wide, ["city"])
    page = publish_html(plan, city.districts, city.fitness_paths)
    rows = dict(re.findall(r"<td><code>([\w.]+)</code></td><td>(.*?)</td>", page))
    assert rows["walk_radius_m"] == "1,000" and "步行服务半径 1,000 米" in page
    assert rows["priority_weights.population"] == "50"
    data = json.loads(
        re.search(r'<script type="application/json" id="fp-map-data-\w+">(.*?)</script>', map_document(page)).group(1)
    )
    counts = {row["status"]: row["count"] for row in data["legend"]["rows"]}
    scored = plan.outcomes[0].scored
    picked = scored["community_id"].isin(plan.selected["community_id"])
    # Under the standard in force (inside) a set only within the radius does not serve: no such layer.
    assert "served_within_radius" not in counts and counts["selected"] == len(plan.selected)
    inside = scored["served_inside"] & ~picked
    assert counts["served_inside"] == int(inside.sum())


def test_parameters_of_another_config_are_refused(sample):
    from dataclasses import replace

    from geo.render.provenance import plan_parameters

    _, config, plan = sample
    with pytest.raises(ValueError, match="not the one this plan was run with"):
        plan_parameters(plan, replace(config, walk_radius_m=1000.0))


def test_hostile_names_in_the_notice_stay_text(sample, tmp_path, monkeypatch):
    from tests import hostile

    monkeypatch.chdir(tmp_path)
    city, config, plan = sample
    picked = plan.selected["community_id"].tolist()[: len(hostile.ALL)]
    names = dict(zip(picked, hostile.ALL))
    communities = city.communities.copy()
    communities["name"] = communities["community_id"].map(names).fillna(communities["name"])
    renamed = run_plan(communities, city.fitness_paths, config, ["city", "region"])
    assert renamed.selected["community_id"].tolist()[: len(picked)] == picked  # names do not change picks
    page = publish_html(renamed, city.districts, city.fitness_paths, title=hostile.TEMPLATE[1])
    document = map_document(page)
    data = json.loads(
        re.search(r'<script type="application/json" id="fp-map-data-\w+">(.*?)</script>', document).group(1)
    )
    shown = {
        f["properties"]["community_id"]: f["properties"]["name"]
        for layer in data["layers"]
        for f in layer_features(layer)
        if "name" in f["properties"]
    }
    for community_id, name in names.items():
        assert shown[community_id] == name
        assert f"<td>{html.escape(name, quote=False)}</td>" in page or f"<td>{html.escape(name)}</td>" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert f"<h1>{html.escape(hostile.TEMPLATE[1])}</h1>" in page
    assert not (tmp_path / hostile.MARKER_NAME).exists()


def test_amounts_are_written_in_full(page, sample):
    """Regression: the regional grant's spending read 5e+06 in the parameters table."""
    _, config, plan = sample
    rows = dict(re.findall(r"<td><code>([\w.]+)</code></td><td>(.*?)</td>", page))
    spent = plan.outcomes[1].summary()["spent_cny"]
    assert rows["program.region.spent_cny"] == f"{int(spent):,}" and "e+" not in rows["program.region.spent_cny"]
    assert rows["optimal_mip_rel_gap"] == f"{config.optimal_mip_rel_gap:.4%}" == "0.0001%"  # not 1e-06


def test_city_and_bureau_names_come_from_the_plans_config(sample):
    """Another city's config.toml names its own city in the title, the intro and the synthetic notice."""
    from dataclasses import replace

    city, config, plan = sample
    other = replace(
        plan,
        config=replace(
            config,
            city_name_zh="桂林市",
            city_name_en="Guilin",
            bureau_name_zh="桂林市体育局",
            bureau_name_en="Guilin Sports Bureau",
        ),
    )
    chinese = publish_html(other, city.districts, city.fitness_paths.iloc[:5])
    assert "<h1>桂林市健身路径建设计划（公示）</h1>" in chinese and "本页公示桂林市健身路径建设计划" in chinese
    assert "区县边界为桂林市真实行政区划" in chinese and "柳州" not in chinese.split("<iframe")[0]
    english = publish_html(other, city.districts, city.fitness_paths.iloc[:5], lang="en")
    assert "<h1>Guilin fitness-path construction plan (public notice)</h1>" in english
    assert "publishes Guilin's fitness-path construction plan" in html.unescape(english) and "Liuzhou" not in english


def test_the_feedback_channel_lists_the_citys_contact_lines_as_text(sample):
    """The notice's feedback section (整改公开, with a feedback channel) shows the configured lines,
    escaped, in the notice's language; without lines there is no such section."""
    from dataclasses import replace

    from geo.data.identity import CityIdentity, config_for_city

    city, config, plan = sample
    assert "意见反馈" not in publish_html(plan, city.districts, city.fitness_paths.iloc[:5])
    identity = CityIdentity(name_zh="合肥市", contact_zh=("电话：0551-1234567", HOSTILE_NAME))
    other = replace(plan, config=config_for_city(config, identity))
    chinese = publish_html(other, city.districts, city.fitness_paths.iloc[:5])
    assert "<h2>三、公示期与意见反馈</h2>" in chinese and '<p class="contact">电话：0551-1234567</p>' in chinese
    assert HOSTILE_NAME not in chinese and html.escape(HOSTILE_NAME) in chinese
    english = publish_html(other, city.districts, city.fitness_paths.iloc[:5], lang="en")
    assert "<h2>3. Notice period and feedback</h2>" in english
    assert "0551-1234567" in english  # no English lines: the Chinese ones
    assert "<h1>合肥市 fitness-path construction plan (public notice)</h1>" in english
