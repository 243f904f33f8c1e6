"""Public sites as candidate locations (issue 15): hand-made cities with known answers, brute force, invariants.

Geometry (tests/helpers.py ``square_city``): 100 m squares at metre offsets in UTM 49N; a set at a point serves a
community whose square lies within the 500 m walk radius of it.
"""

from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.analysis.sites import assess_sites, landless_access, score_sites
from geo.config import load_config
from geo.optimize.allocate import CoverageProblem, allocate_optimal, allocate_rank
from geo.plan import landless_table, run_plan, score_communities
from tests.helpers import square_city
from tests.site_helpers import SET_CNY, TWO_LANDLESS, UTM, X0, Y0, city, config, plan_of, sites_at

# --------------------------------------------------------------------------- hand-made answers


@pytest.mark.parametrize("mode", ["rank", "optimal"])
@pytest.mark.parametrize("standard", ["inside", "walk"])
def test_a_site_between_two_landless_communities_serves_both(mode, standard):
    communities, paths = city(**TWO_LANDLESS)
    # C002 is new (built 2010): ranked, it scores below the site, which reaches two old communities' residents.
    communities.loc[2, "built_year"] = 2010
    plan = plan_of(communities, paths, sites_at(("S1", 450, 50, "pocket_park", 400, "yes")), mode, standard=standard)
    picked = plan.selected
    assert picked["community_id"].tolist() == ["S1"]
    assert picked["candidate_kind"].tolist() == ["site"]
    assert picked["landless_served"].tolist() == ["C000;C001"]
    assert picked["served_communities"].tolist() == ["C000;C001"]
    assert picked["population_newly_served"].tolist() == [700]
    summary = plan.summaries("en")[0]
    assert summary["sets_on_public_sites"] == 1
    assert summary["communities_newly_equipped"] == 0
    assert summary["landless_communities_newly_served"] == 2
    assert summary["landless_population_newly_served"] == 700
    assert summary["population_newly_served"] == 700
    assert any("2 communities without land of their own (700 residents)" in m for m in summary["messages"])


def test_without_sites_the_landless_communities_are_not_reached():
    communities, paths = city(**TWO_LANDLESS)
    plan = plan_of(communities, paths, None, "optimal")
    assert plan.selected["community_id"].tolist() == ["C002"]
    assert plan.summaries("en")[0]["landless_population_newly_served"] == 0
    assert "site_kind" not in plan.selected.columns or plan.selected["site_kind"].isna().all()


@pytest.mark.parametrize(
    ("kind", "area", "consent", "reason"),
    [
        ("pocket_park", 400, "no", "no_consent"),
        ("pocket_park", 100, "yes", "too_small"),
        ("pocket_park", None, "yes", "area_unknown"),
    ],
)
@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_a_site_without_consent_too_small_or_unmeasured_is_never_picked(kind, area, consent, reason, mode):
    communities, paths = city(**TWO_LANDLESS)
    sites = sites_at(("S1", 450, 50, kind, area, consent))
    plan = plan_of(communities, paths, sites, mode, budget=3 * SET_CNY)
    assert "S1" not in plan.selected["community_id"].tolist()
    assert plan.selected["community_id"].tolist() == ["C002"]
    assert plan.outcomes[0].sites["reasons"].tolist() == [reason]
    assert "S1" not in plan.outcomes[0].left_out()["community_id"].tolist()


def test_a_site_whose_owner_has_not_answered_is_picked_and_flagged():
    communities, paths = city(**TWO_LANDLESS)
    plan = plan_of(communities, paths, sites_at(("S1", 450, 50, "square", 400, "unknown")), "optimal")
    assert plan.selected["community_id"].tolist() == ["S1"]
    assert plan.selected["site_consent_unknown"].tolist() == [True]


def test_a_site_that_already_hosts_a_set_is_not_a_candidate():
    # A set stands 5 m from the site (and serves both land-less communities already).
    communities, paths = city(**TWO_LANDLESS, paths_xy=[(455, 50)])
    plan = plan_of(communities, paths, sites_at(("S1", 450, 50, "square", 400, "yes")), "optimal", budget=3 * SET_CNY)
    assert plan.outcomes[0].sites["reasons"].tolist() == ["hosts_a_set"]
    assert plan.selected["community_id"].tolist() == ["C002"]


# E (eligible) stands 200 m from land-less A; the site, at x = 250, stands 450 m from A and from B (land-less) and
# 750 m from E. A set in E serves E and A; the site serves A and B. Optimal takes whichever serves more residents
# for the money.
COMPETING = [(-600, 0), (-300, 0), (700, 0)]  # E, A, B


@pytest.mark.parametrize(
    ("population", "site_kind", "picked"),
    [
        ([500, 300, 300], "pocket_park", "C000"),  # E + A = 800 > A + B = 600
        ([200, 300, 300], "pocket_park", "S1"),  # E + A = 500 < A + B = 600
        ([200, 300, 300], "greenway", "C000"),  # the site costs 65,000: more than the budget
    ],
)
def test_a_community_that_can_host_a_set_competes_fairly_with_a_site(population, site_kind, picked):
    communities, paths = city(COMPETING, population, landless_rows=(1, 2))
    sites = sites_at(("S1", 250, 50, site_kind, 400, "yes"))
    plan = plan_of(communities, paths, sites, "optimal")
    assert plan.selected["community_id"].tolist() == [picked]
    served = {"C000": "C000;C001", "S1": "C001;C002"}[picked]
    assert plan.selected["served_communities"].tolist() == [served]
    assert plan.selected["landless_served"].tolist() == [served.replace("C000;", "")]


def test_a_site_costs_a_set_plus_its_kinds_extra():
    communities, paths = city(COMPETING, [200, 300, 300], landless_rows=(1, 2))
    plan = plan_of(communities, paths, sites_at(("S1", 250, 50, "greenway", 400, "yes")), "optimal", budget=70_000)
    assert plan.selected["community_id"].tolist() == ["S1"]
    assert plan.selected["cost_cny"].tolist() == [SET_CNY + load_config().site_extra_cost_cny["greenway"]]


def test_a_site_picked_by_the_first_programme_is_no_candidate_of_the_second():
    communities, paths = city(
        [(0, 0), (800, 0), (3000, 0), (3800, 0)], [400, 300, 500, 500], landless_rows=(0, 1, 2, 3)
    )
    sites = sites_at(("S1", 450, 50, "square", 400, "yes"), ("S2", 3450, 50, "square", 400, "yes"))
    plan = plan_of(communities, paths, sites, "rank", programs=("city", "region"))
    first, second = (o.selected["community_id"].tolist() for o in plan.outcomes)
    assert sorted(first + second) == ["S1", "S2"] and len(first) == len(second) == 1
    assert plan.outcomes[1].sites.set_index("site_id").loc[first[0], "reasons"] == "hosts_a_set"


def test_under_inside_a_site_reaching_nobody_new_is_not_bought():
    # The site only reaches C001, which a set at its corner already serves within the radius: it is no demand,
    # so the site would add nobody and is left out for no gain (a community without a set is bought instead).
    communities, paths = city([(0, 0), (3000, 0)], [400, 600], paths_xy=[(3050, 50)])
    sites = sites_at(("S1", 3300, 50, "square", 400, "yes"))
    plan = plan_of(communities, paths, sites, "rank", budget=3 * SET_CNY)
    assert plan.selected["community_id"].tolist() == ["C000"]
    left = plan.outcomes[0].left_out().set_index("community_id")
    assert left.loc["S1", "left_out_reason"] == "reaches_no_one"
    assert left.loc["S1", "candidate_kind"] == "site"


# --------------------------------------------------------------------------- the site's score, explained


def test_a_sites_components_are_read_from_the_landless_communities_it_reaches():
    communities, paths = city(**TWO_LANDLESS)
    cfg = config()
    scored = score_communities(communities, paths, cfg)
    assessed = assess_sites(sites_at(("S1", 450, 50, "pocket_park", 400, "yes")), paths, cfg)
    site = score_sites(assessed, scored, cfg, paths).iloc[0]
    assert site["landless_reached_population"] == 700 and site["landless_reached_count"] == 2
    assert site["neighbours_unserved_population"] == 700
    assert site["c_population"] == 0.0  # no residents of its own
    assert site["c_elderly_and_children"] == pytest.approx(0.3)  # every community: 0.2 + 0.1
    assert site["c_old_community"] == 1.0  # built 1995
    assert site["c_distance_to_nearest_set"] == 1.0  # no set at all
    assert site["c_application_received"] == 0.0
    # No community can reach a land-less neighbour: the site's 700 is the most, and counts fully.
    assert scored["landless_reached_population"].max() == 0
    assert site["c_landless_reached"] == 1.0
    assert site["district_code"] == "450202"
    weights = cfg.priority_weights
    expected = (
        100
        * (
            0.3 * weights["elderly_and_children"]
            + weights["distance_to_nearest_set"]
            + weights["old_community"]
            + weights["neighbours_unserved"] * site["c_neighbours_unserved"]
            + weights["landless_reached"]
        )
        / sum(weights.values())
    )
    assert site["priority_score"] == pytest.approx(expected)


def test_a_community_reaching_landless_neighbours_scores_the_new_component():
    # C000 (eligible) is 300 m from land-less C001 (250 residents) and far from the rest.
    communities, paths = city([(0, 0), (300, 0), (5000, 0)], [100, 250, 100], landless_rows=(1,))
    scored = score_communities(communities, paths, config()).set_index("community_id")
    assert scored.loc["C000", "landless_reached_population"] == 250
    assert scored.loc["C002", "landless_reached_population"] == 0
    assert scored.loc["C000", "c_landless_reached"] == 1.0 and scored.loc["C002", "c_landless_reached"] == 0.0


def test_a_config_without_the_landless_weight_scores_as_before():
    communities, paths = city([(0, 0), (300, 0), (5000, 0)], [100, 250, 100], landless_rows=(1,))
    with_weight = score_communities(communities, paths, config(landless_reached=0.0))
    base = load_config()
    old = dataclasses.replace(
        base, priority_weights={k: v for k, v in base.priority_weights.items() if k != "landless_reached"}
    )
    without = score_communities(communities, paths, old)
    np.testing.assert_allclose(with_weight["priority_score"].to_numpy(float), without["priority_score"].to_numpy(float))


# --------------------------------------------------------------------------- the district's list


def test_each_landless_community_lists_its_nearest_sites_and_the_pick_that_serves_it():
    # C003 is land-less, 3 km away: its nearest site is S1 at 3000 - 450 - 100 … measured to its edge.
    communities, paths = city([(0, 0), (800, 0), (5000, 0), (3000, 0)], [400, 300, 600, 200], landless_rows=(0, 1, 3))
    sites = sites_at(("S1", 450, 50, "pocket_park", 400, "yes"), ("S2", 1500, 50, "square", 400, "no"))
    plan = plan_of(communities, paths, sites, "optimal")
    table = landless_table(plan, plan.outcomes[0].scored, plan.outcomes[0].sites).set_index("community_id")
    assert table.index.tolist() == ["C000", "C001", "C003"]
    assert table.loc["C000", "site_1_id"] == "S1" and table.loc["C000", "site_1_m"] == pytest.approx(350.0)
    assert table.loc["C001", "site_1_m"] == pytest.approx(350.0)
    assert table.loc["C003", "site_1_id"] == "S1" and table.loc["C003", "site_1_m"] == pytest.approx(2550.0)
    assert pd.isna(table.loc["C000", "site_2_id"])  # S2 has no consent: not listed
    assert table.loc["C000", "served_by_id"] == "S1" and table.loc["C000", "served_by_kind"] == "site"
    assert table.loc["C001", "served_by_rank"] == 1
    assert pd.isna(table.loc["C003", "served_by_id"])


def test_the_list_without_any_site_still_names_the_landless_communities():
    communities, paths = city(**TWO_LANDLESS)
    scored = score_communities(communities, paths, config())
    table = landless_access(scored, None)
    assert table["community_id"].tolist() == ["C000", "C001"]
    assert table["site_1_id"].isna().all()


# --------------------------------------------------------------------------- brute force and invariants


def _random_problem_with_sites(rng, n_communities, n_sites, n_demand=25):
    n = n_communities + n_sites
    cover = (rng.random((n, n_demand)) < 0.2).astype(bool)
    is_site = np.zeros(n, bool)
    is_site[rng.choice(n, n_sites, replace=False)] = True
    cost = np.where(is_site, rng.choice([50_000.0, 55_000.0, 65_000.0, 70_000.0], n), 50_000.0)
    import scipy.sparse as sp

    return CoverageProblem(
        candidates=np.arange(n),
        cost_cny=cost,
        district=rng.choice(["A", "B"], n),
        demand=np.arange(n_demand),
        weight=rng.integers(50, 3000, n_demand),
        cover=sp.csr_array(cover),
        is_site=is_site,
    )


def _best_by_brute_force(problem, budget, district_max):
    dense = problem.cover.toarray()
    best = 0
    n = problem.candidates.size
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            subset = list(subset)
            if problem.cost_cny[subset].sum() > budget:
                continue
            counts = pd.Series(problem.district[subset]).value_counts()
            if any(counts.get(d, 0) > k for d, k in district_max.items()):
                continue
            best = max(best, int(problem.weight[dense[subset].any(axis=0)].sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_optimal_with_sites_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    problem = _random_problem_with_sites(rng, n_communities=6, n_sites=5)
    budget = float(rng.choice([100_000, 150_000, 200_000]))
    district_max = {"A": 1} if seed % 3 == 0 else {}
    allocation = allocate_optimal(problem, budget, district_max=district_max)
    assert allocation.population_newly_served == _best_by_brute_force(problem, budget, district_max)
    assert allocation.status == "optimal"
    for result in (allocation, allocate_rank(problem, budget, district_max=district_max)):
        assert problem.cost_cny[result.chosen].sum() <= budget
        if district_max:
            assert (problem.district[result.chosen] == "A").sum() <= 1
        # A site must add someone: never a zero-gain site pick, in the plan's order.
        reached = np.zeros(problem.demand.size, bool)
        for j in result.chosen:
            if problem.is_site[j]:
                assert (problem.cover[[j]].toarray()[0] & ~reached).any()
            reached |= problem.cover[[j]].toarray()[0]


def random_city_with_sites(seed: int, n: int = 60, n_sites: int = 25):
    """A random city in a 4 km square: communities (a third without land) and public sites of every status."""
    rng = np.random.default_rng(seed)
    xy = [tuple(p) for p in rng.uniform(0, 4000, (n, 2)).round()]
    communities, paths = square_city(
        xy, rng.integers(100, 3000, n).tolist(), [tuple(p) for p in rng.uniform(0, 4000, (3, 2))]
    )
    communities["district_code"] = rng.choice(["450202", "450203"], n)
    communities.loc[rng.random(n) < 0.35, "open_space_m2"] = 0.0
    kinds = rng.choice(["pocket_park", "park", "square", "greenway", "school_ground", "street_corner"], n_sites)
    consent = rng.choice(["yes", "yes", "yes", "unknown", "no"], n_sites)
    area = np.where(rng.random(n_sites) < 0.15, 80.0, rng.uniform(150, 3000, n_sites))
    rows = [(f"S{k:02d}", *rng.uniform(0, 4000, 2).round(), kinds[k], area[k], consent[k]) for k in range(n_sites)]
    return communities, paths, sites_at(*rows)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("standard", ["inside", "walk"])
def test_plan_invariants_hold_with_sites(seed, standard):
    communities, paths, sites = random_city_with_sites(seed)
    budget = 6 * SET_CNY
    cfg = config(budget, standard)
    cfg = dataclasses.replace(
        cfg, programs=tuple(dataclasses.replace(p, district_max_sets={"450203": 2}) for p in cfg.programs)
    )
    values = {}
    for mode in ("rank", "optimal"):
        for with_sites in (True, False):
            plan = run_plan(communities, paths, cfg, ["city"], mode, public_sites=sites if with_sites else None)
            outcome = plan.outcomes[0]
            picked = outcome.selected
            assert picked["cost_cny"].sum() <= budget
            assert (picked["district_code"].astype(str) == "450203").sum() <= 2
            kinds = picked.get("candidate_kind", pd.Series("community", index=picked.index))
            eligible_sites = set(outcome.sites.loc[outcome.sites["eligible"], "site_id"]) if with_sites else set()
            eligible_communities = set(outcome.scored.loc[outcome.scored["eligible"], "community_id"])
            for pick_id, kind, gain in zip(picked["community_id"], kinds, picked["population_newly_served"]):
                assert pick_id in (eligible_sites if kind == "site" else eligible_communities)
                if kind == "site" or standard == "walk":
                    assert gain > 0
            if not with_sites:
                assert (kinds == "community").all()
            values[mode, with_sites] = outcome.summary("en")["population_newly_served"]
            assert values[mode, with_sites] == int(picked["population_newly_served"].sum())
    # More candidates cannot make the optimum worse, and the optimum is at least the ranked plan.
    assert values["optimal", True] >= values["optimal", False]
    assert values["optimal", True] >= values["rank", True]


def test_sites_in_polygons_stand_inside_them_and_the_plan_map_point_is_there():
    communities, paths = city(**TWO_LANDLESS)
    square = gpd.GeoSeries([box(X0 + 400, Y0, X0 + 500, Y0 + 100)], crs=UTM).to_crs("EPSG:4326")
    sites = sites_at(("S1", 450, 50, "park", 10_000, "yes")).set_geometry(square.values)
    plan = plan_of(communities, paths, sites, "optimal")
    assert plan.selected["community_id"].tolist() == ["S1"]
    assert plan.selected.geometry.iloc[0].equals(square.iloc[0])


@pytest.mark.parametrize(
    ("ids", "named"),
    [(["C001", "S2"], "'C001'"), (["S1", "S1"], "'S1'"), ([None, "S2"], '""')],
)
def test_site_ids_must_be_unique_and_not_a_communitys(ids, named):
    from geo.errors import DataError

    communities, paths = city(**TWO_LANDLESS)
    sites = sites_at(("X", 450, 50, "square", 400, "yes"), ("Y", 460, 50, "square", 400, "yes"))
    sites["site_id"] = pd.array(ids, dtype="string")
    with pytest.raises(DataError) as caught:
        plan_of(communities, paths, sites, "rank")
    assert named in str(caught.value) and "unique and different from every community" in str(caught.value)


def test_a_sites_application_component_is_the_share_of_residents_whose_community_applied():
    communities, paths = city(**TWO_LANDLESS)
    cfg = config()
    applications = pd.DataFrame({"community_id": ["C000"], "application_date": pd.to_datetime(["2019-05-01"])})
    scored = score_communities(communities, paths, cfg, applications)
    assessed = assess_sites(sites_at(("S1", 450, 50, "pocket_park", 400, "yes")), paths, cfg)
    site = score_sites(assessed, scored, cfg, paths).iloc[0]
    assert site["c_application_received"] == pytest.approx(400 / 700)  # C000 (400) applied, C001 (300) not


def test_the_problem_reads_the_sites_reach_as_it_would_query_it():
    from geo.analysis.sites import SiteReach

    communities, paths, sites = random_city_with_sites(7)
    cfg = config()
    scored = score_communities(communities, paths, cfg)
    assessed = assess_sites(sites, paths, cfg)
    reach = SiteReach.build(assessed, scored, cfg)
    scored_sites = score_sites(assessed, scored, cfg, paths, reach=reach)
    assert scored_sites.equals(score_sites(assessed, scored, cfg, paths))
    args = (scored, cfg.walk_radius_m, cfg.set_cost_cny)
    read = CoverageProblem.from_scored(*args, sites=scored_sites, site_reach=reach)
    queried = CoverageProblem.from_scored(*args, sites=scored_sites)
    assert read.is_site.sum() == assessed["eligible"].sum() > 0
    np.testing.assert_array_equal(read.candidates, queried.candidates)
    np.testing.assert_array_equal(read.is_site, queried.is_site)
    assert (read.cover != queried.cover).nnz == 0 and read.cover.nnz > 0


def test_the_gain_curve_counts_a_set_on_a_site_as_no_community_equipped():
    from geo.plan import gain_curve

    communities, paths = city(**TWO_LANDLESS)
    sites = sites_at(("S1", 450, 50, "pocket_park", 400, "yes"))
    curve = gain_curve(plan_of(communities, paths, sites, "optimal", budget=2 * SET_CNY))
    assert curve["sets"].tolist() == [0, 1, 2]
    assert curve["population_newly_served"].tolist() == [0, 700, 1300]
    assert curve["communities_newly_equipped"].tolist() == [0, 0, 1]


def test_the_message_on_sites_counts_what_the_sites_serve_not_every_pick():
    # Two land-less pairs: one reached by the site, the other by an eligible community's set (C004 beside C003).
    communities, paths = city(
        [(0, 0), (800, 0), (3000, 0), (3300, 0), (3000, 400)], [400, 300, 900, 250, 100], landless_rows=(0, 1, 3)
    )
    sites = sites_at(("S1", 450, 50, "square", 400, "yes"))
    plan = plan_of(communities, paths, sites, "optimal", budget=2 * SET_CNY)
    picked = sorted(plan.selected["community_id"])
    assert picked in (["C002", "S1"], ["C004", "S1"])  # either set reaches C002, C003 and C004: 1,250 residents
    summary = plan.summaries("en")[0]
    assert summary["landless_communities_newly_served"] == 3 and summary["landless_population_newly_served"] == 950
    assert any(
        "1 sets go on public sites" in m and "serve 2 communities" in m and "(700 residents)" in m
        for m in summary["messages"]
    )
