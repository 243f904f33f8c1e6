"""The comparison map (issue 16): communities served in a straight line but not on foot, highlighted, with their
walking routes; the tooltips say the name and both distances; every name travels as data, never as markup.

The river city of tests/test_walk_compare.py: North, across the river from the set, 300 m straight and 1,900 m
on foot; South beside it; an island with no way on foot; a community with a set inside; one far from any.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest

from geo.analysis.walk_compare import straight_vs_foot, walking_routes
from geo.i18n import labels
from geo.render import maps
from geo.render.walk_map import WALK_STATUSES, walk_comparison_map
from tests import hostile
from tests.helpers import map_data
from tests.walk_helpers import UTM, X0, Y0, compared, river_city
from tests.walk_helpers import river_districts as districts


def page_of(lang="zh", **kwargs) -> str:
    table, routes, paths = compared(**kwargs)
    return walk_comparison_map(districts(), table, routes, paths, 500, lang=lang).get_root().render()


def features(page: str, key: str) -> list[dict]:
    return [f for layer in map_data(page)["layers"] if layer["key"] == key for f in layer["features"]["features"]]


def by_id(page: str, key: str) -> dict:
    return {f["properties"]["community_id"]: f for f in features(page, key)}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_lost_communities_are_highlighted_and_counted(lang):
    page = page_of(lang)
    assert set(by_id(page, "walk_lost")) == {"N", "I"}
    assert set(by_id(page, "walk_served_on_foot")) == {"S", "IN"}
    assert set(by_id(page, "walk_not_served")) == {"F"}
    words = labels("map", lang)
    legend = {row["status"]: row for row in map_data(page)["legend"]["rows"]}
    assert {key: legend[key]["count"] for key in (*WALK_STATUSES, "walk_routes", "fitness_paths")} == {
        "walk_not_served": 1,
        "walk_served_on_foot": 2,
        "walk_lost": 2,
        "walk_routes": 1,  # the island has none
        "fitness_paths": 2,
    }
    assert legend["walk_lost"]["label"] == words["walk_lost"]
    assert map_data(page)["legend"]["title"] == words["walk_legend_title"].format(radius="500")
    lost_style = next(layer for layer in map_data(page)["layers"] if layer["key"] == "walk_lost")["style"]
    other_style = next(layer for layer in map_data(page)["layers"] if layer["key"] == "walk_not_served")["style"]
    assert lost_style["weight"] > other_style["weight"] and lost_style["fillOpacity"] > other_style["fillOpacity"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_tooltips_say_the_name_and_both_distances(lang):
    page = page_of(lang)
    words = labels("map", lang)
    layer = next(layer for layer in map_data(page)["layers"] if layer["key"] == "walk_lost")
    assert layer["tooltip_aliases"] == [words["name"], words["walk_straight_m"], words["walk_on_foot_m"]]
    north, island = by_id(page, "walk_lost")["N"]["properties"], by_id(page, "walk_lost")["I"]["properties"]
    assert (north["name"], north["walk_straight_m"], north["walk_on_foot_m"]) == ("小区N", "300", "1,900")
    assert island["walk_on_foot_m"] == words["walk_unreachable"]
    (route,) = features(page, "walk_routes")
    assert route["properties"] == {
        "community_id": "N",
        "name": "小区N",
        "walk_straight_m": "300",
        "walk_on_foot_m": "1,900",
        "walk_nearest_set": "点0",
    }
    routes_layer = next(layer for layer in map_data(page)["layers"] if layer["key"] == "walk_routes")
    assert routes_layer["tooltip_aliases"][-1] == words["walk_nearest_set"]


def test_the_route_drawn_crosses_the_bridge():
    (route,) = features(page_of(), "walk_routes")
    lonlat = np.asarray(route["geometry"]["coordinates"])
    points = gpd.GeoSeries(gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs="EPSG:4326").to_crs(UTM)
    xy = np.column_stack([points.x, points.y])
    on_bridge = np.abs(xy[:, 0] - (X0 + 800)) < 1
    assert on_bridge.any() and xy[on_bridge, 1].min() < Y0 + 1 and xy[on_bridge, 1].max() > Y0 + 299


def test_the_map_opens_on_the_lost_communities_and_their_routes():
    page = page_of()
    bounds = re.search(r"fitBounds\(\s*\[\[([-\d.]+),\s*([-\d.]+)\],\s*\[([-\d.]+),\s*([-\d.]+)\]\]", page)
    south, west, north, east = (float(v) for v in bounds.groups())
    corners = gpd.GeoSeries(gpd.points_from_xy([west, east], [south, north]), crs="EPSG:4326").to_crs(UTM)
    # From the island (x = -300) to the bridge (x = 800), not out to Far at x = 3,100 (the box's corners turn a
    # few metres in UTM: its grid is not north-up here).
    assert corners.x[0] == pytest.approx(X0 - 300, abs=10) and corners.x[1] == pytest.approx(X0 + 800, abs=10)


def test_without_lost_communities_the_map_still_draws():
    network, frame, paths = river_city()
    table = straight_vs_foot(frame, paths, network, 5000)  # the island stays lost: drop it
    table = table[table["community_id"] != "I"]
    routes = walking_routes(table[table["lost_on_foot"]], paths, network)
    page = walk_comparison_map(districts(), table, routes, paths, 5000).get_root().render()
    assert features(page, "walk_lost") == [] and features(page, "walk_routes") == []
    assert "fitBounds" in page


def test_every_asset_is_vendored_and_no_outside_host_is_asked():
    table, routes, paths = compared()
    m = walk_comparison_map(districts(), table, routes, paths, 500, asset_base="/app/static/vendor")
    page = m.get_root().render()
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert links and all(link.startswith("/app/static/vendor/") for link in links)
    assert "tileLayer" not in page  # no base map asked for: nothing from any other host


def test_missing_columns_are_named():
    table, routes, paths = compared()
    with pytest.raises(ValueError, match="lost_on_foot"):
        walk_comparison_map(districts(), table.drop(columns="lost_on_foot"), routes, paths, 500)


@pytest.mark.parametrize("text", hostile.ALL)
def test_hostile_names_travel_as_data_and_nothing_is_evaluated(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a payload that ran would create its marker file here
    table, routes, paths = compared(name=text, set_name=text)
    for lang in ("zh", "en"):
        m = walk_comparison_map(districts(), table, routes, paths, 500, lang=lang)
        page = m.get_root().render()
        data = map_data(page)
        names = {f["properties"]["name"] for key in WALK_STATUSES for f in features(page, key)}
        assert names == {text}
        (route,) = features(page, "walk_routes")
        assert route["properties"]["name"] == text and route["properties"]["walk_nearest_set"] == text
        assert [row[2] for row in data["fitness_paths"]] == [text, text]
        outside = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.S)
        assert text not in outside or text in ("..",)
        assert map_data(maps.standalone_html(m)) == data
    assert not (tmp_path / hostile.MARKER_NAME).exists()


def test_the_walkable_streets_are_drawn_beneath_when_given():
    from tests.walk_helpers import BANKS, roads

    table, routes, paths = compared()
    streets = roads(*BANKS, [(0, 0), (0, 300)]).assign(walkable=[True, True, True, False])  # a motorway bridge
    page = walk_comparison_map(districts(), table, routes, paths, 500, roads=streets).get_root().render()
    drawn = features(page, "walk_streets")
    assert len(drawn) == 3 and all(f["properties"] == {} for f in drawn)
    layer = next(layer for layer in map_data(page)["layers"] if layer["key"] == "walk_streets")
    assert layer["interactive"] is False and "tooltip_fields" not in layer
    keys = [layer["key"] for layer in map_data(page)["layers"]]
    assert keys.index("walk_streets") < keys.index("walk_not_served")  # beneath the communities
    legend = {row["status"]: row["count"] for row in map_data(page)["legend"]["rows"]}
    assert legend["walk_streets"] == 3
    assert "walk_streets" not in {layer["key"] for layer in map_data(page_of())["layers"]}


def test_on_amap_tiles_the_routes_shift_to_gcj02_with_the_communities():
    table, routes, paths = compared()
    plain = walk_comparison_map(districts(), table, routes, paths, 500).get_root().render()
    shifted = walk_comparison_map(districts(), table, routes, paths, 500, base_layer="amap").get_root().render()
    (before,), (after,) = features(plain, "walk_routes"), features(shifted, "walk_routes")
    north_before, north_after = by_id(plain, "walk_lost")["N"], by_id(shifted, "walk_lost")["N"]
    route_shift = np.subtract(after["geometry"]["coordinates"][0], before["geometry"]["coordinates"][0])
    community_shift = np.subtract(
        north_after["geometry"]["coordinates"][0][0], north_before["geometry"]["coordinates"][0][0]
    )
    # GCJ-02 moves Liuzhou by some hundreds of metres; the route and its community move together.
    assert np.abs(route_shift).max() > 1e-3
    np.testing.assert_allclose(route_shift, community_shift, atol=2e-5)


def test_the_streets_swatch_is_not_mistaken_for_a_communitys():
    """The legend's streets and the communities served neither way were two near greys (#A0A0A0, #8C8C8C)."""
    from geo.render import walk_map

    def rgb(color: str) -> tuple[int, int, int]:
        return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))

    street = rgb(walk_map.STREET_COLOR)
    for color in walk_map.WALK_COLORS.values():
        assert sum(abs(a - b) for a, b in zip(street, rgb(color))) > 60
    r, g, b = street
    assert max(r, g, b) - min(r, g, b) > 30  # a hue, not another grey
