"""The synthetic sample city: deterministic, valid, plausible, and equal to the committed file."""

import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.analysis.coverage import community_coverage
from geo.config import BOUNDARIES_PATH, DEFAULT_DATA_PATH, load_config
from geo.data.io import read_applications, read_communities, read_districts, read_fitness_paths
from geo.data.sample import generate_sample
from geo.data.schema import COMMUNITY_COLUMNS, FITNESS_PATH_COLUMNS

UTM = "EPSG:32649"


@pytest.fixture(scope="module")
def districts():
    return read_districts(BOUNDARIES_PATH)


@pytest.fixture(scope="module")
def sample(districts):
    config = load_config()
    return generate_sample(districts, n_communities=config.sample_communities, seed=config.sample_seed)


def test_boundaries_are_liuzhou_ten_divisions(districts):
    assert districts["district_code"].tolist() == [
        "450202",
        "450203",
        "450204",
        "450205",
        "450206",
        "450222",
        "450223",
        "450224",
        "450225",
        "450226",
    ]
    assert districts["district_name"].iloc[:5].tolist() == ["城中区", "鱼峰区", "柳南区", "柳北区", "柳江区"]
    area_km2 = districts.to_crs(UTM).area.sum() / 1e6
    assert area_km2 == pytest.approx(18_600, rel=0.01)  # Liuzhou's published land area ≈ 18,600 km²
    assert districts.is_valid.all()


def test_same_seed_same_city_other_seed_other_city(districts, sample):
    again = generate_sample(districts, n_communities=2500, seed=load_config().sample_seed)
    for layer in ("communities", "fitness_paths"):
        assert_geodataframe_equal(sample[layer], again[layer])
    other = generate_sample(districts, n_communities=2500, seed=1)
    assert not other["communities"].geometry.geom_equals(sample["communities"].geometry).all()


def test_communities_valid_inside_their_district_and_disjoint(districts, sample):
    communities = sample["communities"]
    assert len(communities) == 2500
    assert communities["community_id"].is_unique and communities["name"].is_unique
    assert communities.is_valid.all()
    assert set(communities.geom_type) <= {"Polygon", "MultiPolygon"}
    by_code = districts.set_index("district_code").to_crs(UTM).geometry
    communities_m = communities.to_crs(UTM)
    own = by_code.loc[communities_m["district_code"]].values
    assert shapely.within(communities_m.geometry.values, own).all()
    # Kept at least the margin (100 m) away from the district border (0.5 m for round-off).
    assert (shapely.distance(communities_m.geometry.values, shapely.boundary(own)) >= 99.5).all()
    tree = shapely.STRtree(communities_m.geometry.values)
    left, right = tree.query(communities_m.geometry.values, predicate="intersects")
    assert (left == right).all(), "two communities overlap or touch"


def test_most_communities_in_the_urban_districts(sample, districts):
    counts = sample["communities"]["district_code"].value_counts()
    urban = counts[["450202", "450203", "450204", "450205", "450206"]].sum()
    assert 0.8 < urban / 2500 < 0.95
    assert (counts.reindex(districts["district_code"]).fillna(0) > 0).all()  # every division has some


def test_attributes_plausible_and_old_communities_lack_space(sample):
    c = sample["communities"]
    assert list(c.columns[: len(COMMUNITY_COLUMNS)]) == list(COMMUNITY_COLUMNS)
    assert c[list(COMMUNITY_COLUMNS)].notna().all().all()
    assert c["share_60plus"].between(0, 1).all() and c["share_under14"].between(0, 1).all()
    assert (c["population"] >= c["households"]).all() and (c["households"] > 0).all()
    assert c["built_year"].between(1950, 2025).all()
    old = c["built_year"] < 2000
    assert 0.3 < old.mean() < 0.6
    assert (c.loc[old, "open_space_m2"] < 150).mean() > (c.loc[~old, "open_space_m2"] < 150).mean() + 0.2
    assert (
        c.loc[old, "public_space_used_for_parking"].mean() > c.loc[~old, "public_space_used_for_parking"].mean() + 0.2
    )
    assert c.loc[old, "share_60plus"].mean() > c.loc[~old, "share_60plus"].mean()


def test_fitness_paths_mostly_inside_and_about_forty_percent_served(sample):
    paths = sample["fitness_paths"]
    assert list(paths.columns[: len(FITNESS_PATH_COLUMNS)]) == list(FITNESS_PATH_COLUMNS)
    assert 900 <= len(paths) <= 1200 and paths["path_id"].is_unique
    covered = community_coverage(sample["communities"], paths, walk_radius_m=500)
    assert covered["served_inside"].sum() == round(0.38 * 2500)
    inside_share = covered["n_sets_inside"].sum() / len(paths)
    assert 0.85 < inside_share < 0.95  # the rest stand in parks and along streets
    assert set(paths["condition"]) == {"good", "fair", "poor"}
    assert set(paths["funding_source"]) <= {"city", "region", "lottery", "developer"}


def test_committed_sample_equals_generator_output(sample):
    committed = {
        "districts": read_districts(DEFAULT_DATA_PATH, layer="districts"),
        "communities": read_communities(DEFAULT_DATA_PATH, layer="communities"),
        "fitness_paths": read_fitness_paths(DEFAULT_DATA_PATH, layer="fitness_paths"),
    }
    for layer in ("communities", "fitness_paths", "districts"):
        assert_geodataframe_equal(committed[layer], sample[layer], check_less_precise=False)
    applications = read_applications(DEFAULT_DATA_PATH)
    assert applications["community_id"].tolist() == sample["applications"]["community_id"].tolist()
    assert (applications["application_date"] == pd.to_datetime(sample["applications"]["application_date"])).all()


def test_applications_come_from_communities_without_a_set(sample):
    applications = sample["applications"]
    assert len(applications) == 125 and applications["community_id"].is_unique
    covered = community_coverage(sample["communities"], sample["fitness_paths"], walk_radius_m=500)
    applied = covered[covered["community_id"].isin(applications["community_id"])]
    assert not applied["served_inside"].any()
    assert (applied["built_year"] < 2000).mean() > 0.5  # old communities apply more often
    dates = pd.to_datetime(applications["application_date"])
    assert dates.min() >= pd.Timestamp("2018-08-01") and dates.max() <= pd.Timestamp("2019-12-31")


def test_generator_scales_to_a_bigger_city(districts):
    big = generate_sample(districts, n_communities=20_000, seed=7)
    c = big["communities"]
    assert len(c) == 20_000 and c["community_id"].is_unique and c["name"].is_unique
    tree = shapely.STRtree(c.geometry.values)
    left, right = tree.query(c.geometry.values, predicate="intersects")
    assert (left == right).all()
    assert np.isfinite(c["population"].to_numpy(dtype=float)).all()


def test_a_split_community_narrower_than_the_road_stays_a_valid_multipolygon():
    """Regression: in a 1M-community benchmark city a community no longer than the road through
    it came out as MULTIPOLYGON EMPTY (or outside its own rectangle) and the file could not be read back."""
    from shapely.geometry import box

    from geo.data.sample import _polygons

    for length in (4.0, 3.0):
        corners = np.array([[[0.0, 0.0], [length, 0.0], [length, 2.0], [0.0, 2.0]]])
        geometry = _polygons(corners, np.array([True]), road_m=4.0)[0]
        assert geometry.geom_type == "MultiPolygon" and geometry.is_valid and not geometry.is_empty
        assert len(geometry.geoms) == 2 and geometry.within(box(0, 0, length, 2))
