"""Public sites (issue 15): the layer, its reading, its rules in config.toml and their assessment."""

import math
import tomllib
from dataclasses import replace

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.analysis.sites import HOSTS_DISTANCE_M, SITE_REASONS, assess_sites
from geo.config import DEFAULT_CONFIG_PATH, ConfigError, load_config, parse_config
from geo.data import schema
from geo.data.io import read_public_sites, write_layers
from geo.errors import DataError
from geo.i18n import COLUMN_LABELS, label, reason_label
from tests.handmade_city import current_city

X, Y = 109.40, 24.30  # Liuzhou
M_LAT = 1 / 111_320  # degrees of latitude per metre (near enough at 10 m)
M_LON = M_LAT / math.cos(math.radians(Y))  # degrees of longitude per metre at 24.3°N
UTM = "EPSG:32649"


def east(metres: float, x: float = X) -> float:
    return x + metres * M_LON


def sites_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    geometry = [row.pop("geometry") for row in rows]
    frame = pd.DataFrame(rows)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def paths_at(*points: Point) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"path_id": [f"P{i}" for i in range(len(points))]}, geometry=list(points), crs="EPSG:4326")


def config():
    return replace(
        load_config(),
        set_cost_cny=50_000,
        site_min_usable_area_m2=150.0,
        site_extra_cost_cny={"greenway": 15_000, "street_corner": 20_000},
    )


def handmade_sites() -> gpd.GeoDataFrame:
    """Six sites 1 km apart on a line east of X; sets beside two of them (right answers in the test)."""
    square = box(east(2000) - 20 * M_LON, Y - 20 * M_LAT, east(2000) + 20 * M_LON, Y + 20 * M_LAT)  # 40 m × 40 m
    return sites_frame(
        [
            dict(site_id="S0", kind="pocket_park", usable_area_m2=100.0, consent="yes", geometry=Point(east(0), Y)),
            dict(site_id="S1", kind="square", usable_area_m2=500.0, consent="no", geometry=Point(east(1000), Y)),
            dict(site_id="S2", kind="park", usable_area_m2=1600.0, consent="yes", geometry=square),
            dict(site_id="S3", kind="greenway", usable_area_m2=300.0, consent="yes", geometry=Point(east(3000), Y)),
            dict(
                site_id="S4",
                kind="street_corner",
                usable_area_m2=200.0,
                consent="unknown",
                geometry=Point(east(4000), Y),
            ),
            dict(site_id="S5", kind="other", usable_area_m2=None, consent="yes", geometry=Point(east(5000), Y)),
        ]
    )


# --------------------------------------------------------------------------- rules


def test_each_handmade_site_gets_its_known_reasons_flags_and_cost():
    paths = paths_at(
        Point(east(2005), Y + 5 * M_LAT),  # inside S2's polygon
        Point(east(3015), Y),  # 15 m from S3: not hosting
    )
    assessed = assess_sites(handmade_sites(), paths, config()).set_index("site_id")
    assert assessed["reasons"].to_dict() == {
        "S0": "too_small",
        "S1": "no_consent",
        "S2": "hosts_a_set",
        "S3": "",
        "S4": "",
        "S5": "area_unknown",
    }
    assert assessed["eligible"].to_dict() == {f"S{i}": i in (3, 4) for i in range(6)}
    assert assessed["consent_unknown"].tolist() == [False, False, False, False, True, False]
    assert assessed["cost_cny"].to_dict() == {
        "S0": 50_000,
        "S1": 50_000,
        "S2": 50_000,
        "S3": 65_000,  # greenway: + 15,000 surfacing
        "S4": 70_000,  # street corner: + 20,000
        "S5": 50_000,
    }
    assert assessed["eligible"].dtype == bool and assessed["cost_cny"].dtype == "int64"


@pytest.mark.parametrize("metres, hosts", [(0.0, True), (9.0, True), (11.0, False), (50.0, False)])
def test_a_set_within_ten_metres_of_a_point_site_means_it_hosts_one(metres, hosts):
    assert HOSTS_DISTANCE_M == 10.0
    sites = handmade_sites().iloc[[3]]  # S3, a good greenway point at east(3000)
    assessed = assess_sites(sites, paths_at(Point(east(3000), Y + metres * M_LAT)), config(), metric_crs=UTM)
    assert assessed["reasons"].tolist() == (["hosts_a_set"] if hosts else [""])
    assert assessed["eligible"].tolist() == [not hosts]


def test_several_reasons_are_all_given_and_area_at_the_threshold_is_enough():
    sites = sites_frame(
        [
            dict(site_id="A", kind="square", usable_area_m2=149.9, consent="no", geometry=Point(X, Y)),
            dict(site_id="B", kind="square", usable_area_m2=150.0, consent="yes", geometry=Point(east(500), Y)),
        ]
    )
    assessed = assess_sites(sites, paths_at(Point(X, Y)), config())
    assert assessed["reasons"].tolist() == ["too_small;no_consent;hosts_a_set", ""]
    assert assessed["eligible"].tolist() == [False, True]


def test_no_fitness_paths_and_no_sites():
    assert assess_sites(handmade_sites(), None, config())["reasons"].tolist()[2] == ""
    empty = assess_sites(handmade_sites().iloc[0:0], paths_at(Point(X, Y)), config())
    assert len(empty) == 0 and {"eligible", "reasons", "consent_unknown", "cost_cny"} <= set(empty.columns)


def test_reason_kind_and_consent_words_are_in_both_catalogues():
    for code in SITE_REASONS:
        assert reason_label(code, "zh") != code and reason_label(code, "en") != code
    assert reason_label("hosts_a_set", "zh") == "场地已有健身路径"
    for code in schema.SITE_KINDS:
        assert label("message", f"site_kind_{code}", "zh") in schema.SITE_VALUE_SYNONYMS["kind"][code]
    for code in schema.SITE_CONSENTS:
        assert label("message", f"site_consent_{code}", "zh") in schema.SITE_VALUE_SYNONYMS["consent"][code]
    assert COLUMN_LABELS["usable_area_m2"] == ("可用面积（平方米）", "Usable area (m²)")


# --------------------------------------------------------------------------- reading


def chinese_sites() -> gpd.GeoDataFrame:
    words = [
        ("口袋公园", "是"),
        ("学校操场(对外开放)", "否"),
        ("街角空地", "未知"),
        ("绿道", None),
        (None, "同意"),
        ("广场", " 是 "),
    ]
    return sites_frame(
        [
            dict(
                site_id=f"C{i}",
                name=f"场地{i}",
                kind=kind,
                usable_area_m2=200.0 + i,
                owner="市园林局",
                consent=consent,
                notes="",
                geometry=Point(east(100 * i), Y)
                if i % 2
                else box(east(100 * i), Y, east(100 * i + 30), Y + 30 * M_LAT),
            )
            for i, (kind, consent) in enumerate(words)
        ]
    )


def test_a_geopackage_with_chinese_kind_and_consent_words_reads_as_codes(tmp_path):
    path = tmp_path / "sites.gpkg"
    write_layers(path, {"public_sites": chinese_sites()})
    sites = read_public_sites(path)
    assert sites["kind"].tolist() == ["pocket_park", "school_ground", "street_corner", "greenway", "other", "square"]
    assert sites["consent"].tolist() == ["yes", "no", "unknown", "unknown", "yes", "yes"]
    assert list(sites.columns) == [*schema.PUBLIC_SITE_COLUMNS, "geometry"]
    assert str(sites.crs) == "EPSG:4326"
    assert sites["usable_area_m2"].dtype == "float64" and sites["name"].tolist()[0] == "场地0"
    assert sorted(sites.geom_type.unique()) == ["Point", "Polygon"]


def test_an_unknown_kind_word_is_reported_with_its_row_not_a_crash(tmp_path):
    frame = chinese_sites()
    frame.loc[2, "kind"] = "停车场"
    path = tmp_path / "sites.gpkg"
    write_layers(path, {"public_sites": frame})
    with pytest.raises(DataError) as error:
        read_public_sites(path)
    text = str(error.value)
    assert "停车场" in text and "3" in text and "kind" in text and "口袋公园" in text


def test_a_site_without_geometry_is_reported(tmp_path):
    frame = chinese_sites()
    frame.loc[1, "geometry"] = None
    path = tmp_path / "sites.gpkg"
    write_layers(path, {"public_sites": frame})
    with pytest.raises(DataError, match="2"):
        read_public_sites(path)


def city_layers() -> dict:
    city = current_city()
    return {
        "districts": city.districts,
        "communities": city.communities,
        "fitness_paths": city.fitness_paths,
        "applications": city.applications,
    }


def test_a_city_file_with_sites_loads_them_apart_and_writes_them_back(tmp_path):
    from geo.intake.assemble import assemble_city
    from geo.pipeline import load_city
    from tests.handmade_city import community, imported
    from tests.handmade_city import square as community_square

    notes = pd.DataFrame({"note": pd.array(["巡查记录"], dtype="string")})
    source = tmp_path / "city.gpkg"
    write_layers(source, {**city_layers(), "public_sites": chinese_sites(), "inspections": notes})
    city = load_city(source)
    assert sorted(city.other_layers) == ["inspections"]
    assert city.public_sites["kind"].tolist()[:3] == ["pocket_park", "school_ground", "street_corner"]
    result = assemble_city(city, imported([community(None, "新苑", community_square(0.1), population=300)]), "merge")
    target = tmp_path / "after.gpkg"
    write_layers(target, result.layers)
    again = load_city(target)
    assert again.public_sites["site_id"].tolist() == [f"C{i}" for i in range(6)]
    assert sorted(again.other_layers) == ["inspections"]


def test_a_city_file_without_sites_loads_as_before(tmp_path):
    from geo.pipeline import load_city

    notes = pd.DataFrame({"note": pd.array(["巡查记录"], dtype="string")})
    source = tmp_path / "city.gpkg"
    write_layers(source, {**city_layers(), "inspections": notes})
    city = load_city(source)
    assert city.public_sites is None
    assert sorted(city.other_layers) == ["inspections"]
    assert len(city.communities) == len(current_city().communities)


# --------------------------------------------------------------------------- config


def raw():
    return tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def test_the_shipped_sites_rules():
    shipped = load_config()
    assert shipped.site_min_usable_area_m2 == shipped.min_open_space_m2 == 150
    assert set(shipped.site_extra_cost_cny) == set(schema.SITE_KINDS)
    assert shipped.site_extra_cost_cny["pocket_park"] == 0 and shipped.site_extra_cost_cny["street_corner"] > 0


def test_a_config_without_sites_keeps_the_defaults():
    table = raw()
    del table["sites"]
    parsed = parse_config(table)
    assert parsed.site_min_usable_area_m2 == 150
    assert parsed.site_extra_cost_cny == dict.fromkeys(schema.SITE_KINDS, 0)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"min_usable_area_m2": -1}, "sites.min_usable_area_m2"),
        ({"min_usable_area_m2": "大"}, "sites.min_usable_area_m2"),
        ({"min_usable_aera_m2": 100}, "min_usable_area_m2"),
        ({"extra_cost_cny": {"greenwya": 10}}, "did you mean 'greenway'"),
        ({"extra_cost_cny": {"park": -5}}, "sites.extra_cost_cny.park"),
        ({"extra_cost_cny": {"park": 1.5}}, "sites.extra_cost_cny.park"),
        ({"extra_cost_cny": 7}, "sites.extra_cost_cny"),
    ],
)
def test_bad_sites_keys_are_named(change, words):
    table = raw()
    table["sites"] = {"min_usable_area_m2": 150, "extra_cost_cny": {}, **change}
    if "min_usable_aera_m2" in change:
        del table["sites"]["min_usable_area_m2"]
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        parse_config(table)


def test_the_city_export_keeps_the_sites(tmp_path):
    from geo.pipeline import load_city
    from geo.store.db import open_store
    from geo.store.export import export_city

    source = tmp_path / "city.gpkg"
    write_layers(source, {**city_layers(), "public_sites": chinese_sites()})
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    export_city(load_city(source), store, tmp_path / "export.gpkg")
    exported = load_city(tmp_path / "export.gpkg")
    assert exported.public_sites["site_id"].tolist() == [f"C{i}" for i in range(6)]
    assert "public_sites" not in exported.other_layers
