"""Eligibility reasons and priority scores on hand-made communities with known answers."""

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.analysis.eligibility import assess_eligibility, eligibility_summary, mark_applications, reason_labels
from geo.analysis.priority import check_weights, priority_scores
from geo.config import load_config

UTM = "EPSG:32649"
X0, Y0 = 338_000.0, 2_690_000.0


def frame(**columns):
    n = len(next(iter(columns.values())))
    defaults = {
        "community_id": [f"C{k}" for k in range(n)],
        "district_code": ["450202"] * n,
        "population": [100] * n,
        "open_space_m2": [500.0] * n,
        "public_space_used_for_parking": [False] * n,
        "served_inside": [False] * n,
        "served_within_radius": [False] * n,
        "share_60plus": [0.2] * n,
        "share_under14": [0.1] * n,
        "built_year": [2005] * n,
        "nearest_set_m": [1000.0] * n,
    }
    defaults.update(columns)
    geoms = [box(X0 + 1000 * k, Y0, X0 + 1000 * k + 100, Y0 + 100) for k in range(n)]
    return gpd.GeoDataFrame(defaults, geometry=geoms, crs=UTM).to_crs("EPSG:4326")


def test_each_reason_and_several_at_once():
    communities = frame(
        served_inside=[True, False, False, False, False, True],
        open_space_m2=[500.0, 149.0, 100.0, 150.0, np.nan, 20.0],
        public_space_used_for_parking=[False, False, True, True, False, True],
    )
    assessed = assess_eligibility(communities, load_config())
    assert assessed["reasons"].tolist() == [
        "served_inside",
        "no_open_space",  # 149 m² < 150 m²
        "no_open_space;parking_no_space",  # the seed's old-community case
        "",  # exactly 150 m² is enough, parking or not
        "to_survey",  # unknown open space: to be surveyed on site (待现场核查), not "missing data"
        "served_inside;no_open_space;parking_no_space",
    ]
    assert assessed["eligible"].tolist() == [False, False, False, True, False, False]
    assert assessed.loc[4, "missing_fields"] == "open_space_m2"
    labels = reason_labels(assessed["reasons"], "zh")
    assert labels[2] == "可用空地不足一套健身路径占地；公共空间已用于停车，无其他空地"
    assert reason_labels(assessed["reasons"], "en")[0] == "Already has a set inside"


def test_served_within_radius_is_a_reason_only_under_the_walk_standard():
    communities = frame(served_within_radius=[True, False])
    inside = assess_eligibility(communities, load_config())
    assert inside["eligible"].tolist() == [True, True]
    assert inside["served"].tolist() == [False, False]  # no set inside either: unserved under "inside"
    walk = assess_eligibility(communities, replace(load_config(), standard="walk"))
    assert walk["eligible"].tolist() == [False, True]
    assert walk["served"].tolist() == [True, False]
    assert walk.loc[0, "reasons"] == "served_within_radius"


def test_counts_follow_the_standard_and_the_unserved_split_adds_up():
    from geo.analysis.eligibility import eligibility_counts

    # a: set inside; b: set within radius only; c, d: nothing near; d has too little open space.
    communities = frame(
        served_inside=[True, False, False, False],
        served_within_radius=[True, True, False, False],
        open_space_m2=[500.0, 500.0, 500.0, 10.0],
    )
    inside = eligibility_counts(assess_eligibility(communities, load_config()))
    walk = eligibility_counts(assess_eligibility(communities, replace(load_config(), standard="walk")))
    assert (inside["served"], inside["unserved"], inside["eligible"]) == (1, 3, 2)
    assert (walk["served"], walk["unserved"], walk["eligible"]) == (2, 2, 1)
    for counts in (inside, walk):
        assert counts["unserved_eligible"] == counts["eligible"]  # only an unserved community can be eligible
        parts = counts["unserved_eligible"] + counts["unserved_ineligible"] + counts["unserved_to_survey"]
        assert parts == counts["unserved"]


def test_a_land_solution_is_asked_only_for_a_community_the_standard_counts_unserved():
    # Both applied and have too little open space; the first has a set within the walk radius.
    communities = frame(served_within_radius=[True, False], open_space_m2=[10.0, 10.0])
    communities["application_date"] = pd.to_datetime(["2018-03-01", "2018-03-02"])
    inside = assess_eligibility(communities, load_config())
    assert inside["needs_land_solution"].tolist() == [True, True]  # no set of their own
    walk = assess_eligibility(communities, replace(load_config(), standard="walk"))
    assert walk["needs_land_solution"].tolist() == [False, True]  # the first is served within walking distance


def test_communities_to_survey_are_not_counted_as_unable_to_host_a_set():
    from geo.analysis.eligibility import eligibility_counts

    # Open space: unknown, unknown, too little, enough.
    communities = frame(open_space_m2=[np.nan, np.nan, 10.0, 500.0])
    counts = eligibility_counts(assess_eligibility(communities, load_config()))
    assert (counts["eligible"], counts["ineligible"], counts["unserved_to_survey"]) == (1, 1, 2)
    assert counts["eligible"] + counts["ineligible"] + counts["unserved_to_survey"] == counts["communities"]


def test_threshold_comes_from_config():
    communities = frame(open_space_m2=[200.0])
    assert assess_eligibility(communities, load_config())["eligible"].iloc[0]
    assert not assess_eligibility(communities, replace(load_config(), min_open_space_m2=250))["eligible"].iloc[0]


def test_not_residential_and_missing_population():
    communities = frame(population=pd.array([100, None], dtype="Int64"))
    communities["residential"] = pd.array([False, True], dtype="boolean")
    assessed = assess_eligibility(communities, load_config())
    assert assessed["reasons"].tolist() == ["not_residential", "missing_data"]
    assert assessed.loc[1, "missing_fields"] == "population"


def test_applications_and_land_solution():
    communities = frame(open_space_m2=[500.0, 50.0, 500.0], public_space_used_for_parking=[False, True, False])
    applications = pd.DataFrame(
        {"community_id": ["C0", "C1", "C1"], "application_date": ["2019-05-01", "2018-09-10", "2019-01-01"]}
    )
    marked = mark_applications(communities, applications)
    assert marked["applied"].tolist() == [True, True, False]
    assert marked.loc[1, "application_date"] == pd.Timestamp("2018-09-10")  # earliest of two
    assessed = assess_eligibility(marked, load_config())
    assert assessed["needs_land_solution"].tolist() == [False, True, False]
    with pytest.raises(ValueError, match="unknown communities: C9"):
        mark_applications(communities, pd.DataFrame({"community_id": ["C9"], "application_date": ["2019-01-01"]}))


def test_summary_counts_per_district():
    communities = frame(
        district_code=["450202", "450202", "450203"],
        open_space_m2=[500.0, 10.0, 10.0],
        public_space_used_for_parking=[False, True, False],
    )
    summary = eligibility_summary(assess_eligibility(communities, load_config())).set_index("district_code")
    assert summary.loc[
        "450202", ["communities", "eligible", "reason_no_open_space", "reason_parking_no_space"]
    ].tolist() == [2, 1, 1, 1]
    assert summary.loc[
        "450203", ["communities", "eligible", "reason_no_open_space", "reason_parking_no_space"]
    ].tolist() == [1, 0, 1, 0]


def scored_frame(weights, **columns):
    config = replace(load_config(), priority_weights=weights)
    return priority_scores(assess_eligibility(frame(**columns), config), config)


def test_each_component_by_hand():
    scored = scored_frame(
        load_config().priority_weights,
        population=[100, 400, 200],
        share_60plus=[0.3, 0.1, 0.7],
        share_under14=[0.1, 0.1, 0.5],
        nearest_set_m=[500.0, 4000.0, np.nan],
        built_year=[1990, 2000, 2010],
    )
    assert scored["c_population"].tolist() == [0.25, 1.0, 0.5]
    assert scored["c_elderly_and_children"].tolist() == pytest.approx([0.4, 0.2, 1.0])  # capped at 1
    assert scored["c_distance_to_nearest_set"].tolist() == [0.25, 1.0, 1.0]  # 2,000 m cap; no set at all → 1
    assert scored["c_old_community"].tolist() == [1.0, 0.0, 0.0]  # before 2000 only
    assert scored["c_application_received"].tolist() == [0.0, 0.0, 0.0]
    # Squares are 900 m apart: no neighbour within 500 m.
    assert scored["c_neighbours_unserved"].tolist() == [0.0, 0.0, 0.0]
    w = load_config().priority_weights
    expected_0 = (
        100
        * (
            w["population"] * 0.25
            + w["elderly_and_children"] * 0.4
            + w["distance_to_nearest_set"] * 0.25
            + w["old_community"] * 1.0
        )
        / sum(w.values())
    )
    assert scored.loc[0, "priority_score"] == pytest.approx(expected_0)


def test_neighbours_component_counts_other_unserved_residents():
    communities = frame(population=[100, 300, 500])
    # Put C1 200 m east of C0, and C2 far away.
    geoms = [
        box(X0, Y0, X0 + 100, Y0 + 100),
        box(X0 + 300, Y0, X0 + 400, Y0 + 100),
        box(X0 + 9000, Y0, X0 + 9100, Y0 + 100),
    ]
    communities = communities.set_geometry(gpd.GeoSeries(geoms, crs=UTM).to_crs("EPSG:4326").values)
    config = load_config()
    scored = priority_scores(assess_eligibility(communities, config), config)
    assert scored["neighbours_unserved_population"].tolist() == [300, 100, 0]
    assert scored["c_neighbours_unserved"].tolist() == [1.0, pytest.approx(1 / 3), 0.0]


def test_weights_change_the_order_and_ties_break_by_id():
    only_population = {"population": 1}
    scored = scored_frame(only_population, population=[100, 400, 400], community_id=["C2", "C1", "C0"])
    assert scored["priority_score"].tolist() == [25.0, 100.0, 100.0]
    # C0 and C1 tie at 100: C0 first by community_id.
    assert scored.set_index("community_id")["priority_rank"].to_dict() == {"C0": 1, "C1": 2, "C2": 3}
    only_old = scored_frame({"old_community": 1}, built_year=[1990, 2005, 2005], community_id=["C2", "C1", "C0"])
    assert only_old.set_index("community_id")["priority_rank"].to_dict() == {"C2": 1, "C0": 2, "C1": 3}


def test_ineligible_have_no_rank_and_bad_weights_are_named():
    scored = scored_frame(load_config().priority_weights, served_inside=[True, False])
    assert pd.isna(scored.loc[0, "priority_rank"]) and scored.loc[1, "priority_rank"] == 1
    with pytest.raises(ValueError, match=r"unknown priority weight.*beauty"):
        check_weights({"beauty": 1})
    with pytest.raises(ValueError, match="at least one must be positive"):
        check_weights({"population": 0})


def test_neighbours_on_the_sample_equal_a_plain_distance_matrix():
    """The optimised relation (only unserved polygons in the tree) gives the plain answer."""
    import shapely

    from geo.analysis.coverage import candidate_sites, community_coverage
    from geo.analysis.priority import neighbours_unserved_population
    from geo.config import DEFAULT_DATA_PATH
    from geo.pipeline import load_city

    city = load_city(DEFAULT_DATA_PATH)
    covered = community_coverage(city.communities, city.fitness_paths, 500)
    fast = neighbours_unserved_population(covered, 500)
    polygons = np.asarray(covered.geometry.to_crs(UTM).values)
    sites = np.asarray(candidate_sites(polygons))
    unserved = np.flatnonzero(~covered["served_within_radius"].to_numpy(bool))
    distance = shapely.distance(sites[:, None], polygons[unserved][None, :])  # dense: sites × unserved
    within = distance <= 500 + 1e-3
    within[unserved, np.arange(unserved.size)] = False  # a community is not its own neighbour
    plain = within.astype(np.int64) @ covered["population"].to_numpy(np.int64)[unserved]
    assert (fast == plain).all() and fast.sum() > 0


def filterable():
    return pd.DataFrame(
        {
            "community_id": ["a", "b", "c", "d"],
            "name": ["阳光花园", "河东小区", None, "阳光新村"],
            "eligible": [True, False, False, True],
            "reasons": ["", "no_open_space;parking_no_space", "not_residential", ""],
            "applied": [True, True, False, False],
            "needs_land_solution": [False, True, False, False],
            "served_within_radius": [False, False, True, True],
        }
    )


def test_eligibility_counts_by_hand():
    from geo.analysis.eligibility import eligibility_counts

    assert eligibility_counts(filterable()) == {
        "communities": 4,
        "eligible": 2,
        "ineligible": 2,
        "applied": 2,
        "needs_land_solution": 1,
        "served": 2,
        "unserved": 2,
        "unserved_eligible": 1,
        "unserved_ineligible": 1,
        "unserved_to_survey": 0,
    }
    assert "unserved_eligible" not in eligibility_counts(filterable().drop(columns="served_within_radius"))


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ({}, ["a", "b", "c", "d"]),
        ({"status": "eligible"}, ["a", "d"]),
        ({"status": "ineligible"}, ["b", "c"]),
        ({"reasons": ["parking_no_space"]}, ["b"]),
        ({"reasons": ["parking_no_space", "not_residential"]}, ["b", "c"]),
        ({"reasons": ["no_open_space"], "status": "eligible"}, []),
        ({"applied_only": True}, ["a", "b"]),
        ({"name_contains": "阳光"}, ["a", "d"]),
        ({"name_contains": "阳光.*"}, []),  # typed text, not a pattern
        ({"name_contains": "阳光", "applied_only": True}, ["a"]),
    ],
)
def test_filter_assessed(arguments, expected):
    from geo.analysis.eligibility import filter_assessed

    assert filter_assessed(filterable(), **arguments)["community_id"].tolist() == expected


def test_filter_assessed_refuses_unknown_choices():
    from geo.analysis.eligibility import filter_assessed

    with pytest.raises(ValueError, match="status must be one of"):
        filter_assessed(filterable(), status="maybe")
    with pytest.raises(ValueError, match="unknown reason code"):
        filter_assessed(filterable(), reasons=["open_space"])  # a prefix of no_open_space is no code
