"""The coverage relation is bounded (issue 10): ``config.toml [coverage] max_pairs``.

The (site, community) pairs within the walk radius feed the priority's "unserved neighbours"
and the optimal plan. Communities crowded at one place make that relation grow with the square
of their number: 8,000 communities within 100 m of each other (a 300 KB CSV) took the app to
4 GB. The relation is now built in batches of sites and refused, with one line saying what to
do, as soon as it passes the limit; under the limit it is the same relation as before.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box

from geo.analysis import coverage
from geo.analysis.coverage import (
    PairLimitError,
    candidate_sites,
    community_coverage,
    coverage_pair_batches,
    coverage_pairs,
)
from geo.analysis.priority import neighbours_unserved_population
from geo.config import DEFAULT_CONFIG_PATH, DEFAULT_DATA_PATH, load_config, with_overrides
from geo.data.crs import metric_crs_for
from geo.data.io import write_layers
from geo.optimize.allocate import CoverageProblem
from geo.pipeline import load_city
from geo.plan import run_plan, score_covered
from tests.helpers import PEAK_MB, TIMEOUT_S, run_measured

UTM = "EPSG:32649"  # UTM 49N, fits Liuzhou
X0, Y0 = 338_000.0, 2_690_000.0  # a spot in Liuzhou, in metres
GRID = 6  # a 6 × 6 grid of 100 m squares, 300 m apart (200 m of road between neighbours)


def grid_squares() -> np.ndarray:
    """Row-major 6 × 6 grid: square k has its lower-left corner at (300·col, 300·row) from (X0, Y0)."""
    return np.array(
        [
            box(X0 + 300 * c, Y0 + 300 * r, X0 + 300 * c + 100, Y0 + 300 * r + 100)
            for r in range(GRID)
            for c in range(GRID)
        ]
    )


def plain_pairs(sites, polygons, radius_m):
    """The relation by a straightforward STRtree query (what ``coverage_pairs`` did before the limit)."""
    tree = shapely.STRtree(polygons)
    site_idx, polygon_idx = tree.query(sites, predicate="dwithin", distance=radius_m + coverage.RADIUS_TOLERANCE_M)
    order = np.lexsort((polygon_idx, site_idx))
    return site_idx[order], polygon_idx[order]


def grid_neighbour_pairs() -> set[tuple[int, int]]:
    """On paper, at 250 m: a square's centre is 250 m from the edges of the squares beside,
    above and below it (300 − 50), 354 m from the corners of the diagonal ones; so each
    site reaches its own square and its 2–4 grid neighbours."""
    pairs = set()
    for r in range(GRID):
        for c in range(GRID):
            for dr, dc in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
                if 0 <= r + dr < GRID and 0 <= c + dc < GRID:
                    pairs.add((r * GRID + c, (r + dr) * GRID + c + dc))
    return pairs


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of a few pairs, so that the hand-made cases cross many batch boundaries."""
    monkeypatch.setattr(coverage, "PAIRS_PER_BATCH", 7)


# --------------------------------------------------------------------------- same pairs as before


@pytest.mark.parametrize("pairs_per_batch", [1, 7, 100, coverage.PAIRS_PER_BATCH])
def test_grid_pairs_are_those_on_paper_and_those_of_a_plain_query(monkeypatch, pairs_per_batch):
    monkeypatch.setattr(coverage, "PAIRS_PER_BATCH", pairs_per_batch)
    squares = grid_squares()
    sites = candidate_sites(squares)  # the squares' centres
    site_idx, polygon_idx = coverage_pairs(sites, squares, 250, max_pairs=10_000)
    assert set(zip(site_idx.tolist(), polygon_idx.tolist())) == grid_neighbour_pairs()
    assert site_idx.size == 36 + 2 * 2 * GRID * (GRID - 1)  # 156: each square, each neighbour both ways
    plain_site, plain_polygon = plain_pairs(sites, squares, 250)
    assert np.array_equal(site_idx, plain_site) and np.array_equal(polygon_idx, plain_polygon)
    assert site_idx.dtype == plain_site.dtype == np.intp


def test_mixed_shapes_and_sites_in_any_order_give_the_plain_query(small_batches):
    # A multipolygon, a square inside another's reach only through its far part, an empty polygon,
    # sites given out of spatial order and a site exactly at the radius from an edge.
    polygons = np.array(
        [
            box(X0, Y0, X0 + 100, Y0 + 100),
            MultiPolygon([box(X0 + 2_000, Y0, X0 + 2_100, Y0 + 100), box(X0 + 700, Y0, X0 + 800, Y0 + 100)]),
            shapely.from_wkt("POLYGON EMPTY"),
            box(X0 + 5_000, Y0 + 5_000, X0 + 5_400, Y0 + 5_400),
            box(X0 + 100, Y0 + 600, X0 + 200, Y0 + 700),
        ]
    )
    sites = np.array(
        [
            Point(X0 + 5_200, Y0 + 4_500),
            Point(X0 + 50, Y0 + 50),
            Point(X0 + 1_300, Y0 + 50),
            Point(X0 + 2_050, Y0 + 50),
            Point(X0 + 150, Y0 + 150),
        ]
    )
    site_idx, polygon_idx = coverage_pairs(sites, polygons, 500, max_pairs=100)
    # On paper: site 0 is exactly 500 m below square 3; site 1 is inside square 0 (square 1's near
    # part is 650 m away, square 4 550 m); site 2 is exactly 500 m from square 1's near part; site
    # 3 is inside square 1's far part; site 4 is 71 m from square 0's corner and 450 m below square 4.
    assert list(zip(site_idx.tolist(), polygon_idx.tolist())) == [(0, 3), (1, 0), (2, 1), (3, 1), (4, 0), (4, 4)]
    plain_site, plain_polygon = plain_pairs(sites, polygons, 500)
    assert np.array_equal(site_idx, plain_site) and np.array_equal(polygon_idx, plain_polygon)


@pytest.mark.parametrize("radius_m", [100, 500, 2_000])
def test_sample_pairs_equal_the_plain_query_and_the_bounds_hold(radius_m):
    communities = load_city(DEFAULT_DATA_PATH).communities
    polygons = np.asarray(communities.geometry.to_crs(metric_crs_for(communities)).values)
    sites = candidate_sites(polygons)
    site_idx, polygon_idx = coverage_pairs(sites, polygons, radius_m, max_pairs=load_config().max_pairs)
    plain_site, plain_polygon = plain_pairs(sites, polygons, radius_m)
    assert np.array_equal(site_idx, plain_site) and np.array_equal(polygon_idx, plain_polygon)
    # The bounds that size the batches and refuse at once: never below / above the truth.
    distance = radius_m + coverage.RADIUS_TOLERANCE_M
    per_site = np.bincount(site_idx, minlength=sites.size)
    assert (coverage._most_pairs_per_site(sites, polygons, distance) >= per_site).all()
    assert 0 < coverage._fewest_pairs(sites, polygons, distance) <= site_idx.size


def test_batches_are_consecutive_sites_whose_concatenation_is_the_relation(small_batches):
    squares = grid_squares()
    sites = candidate_sites(squares)
    batches = list(coverage_pair_batches(sites, squares, 250))
    assert len(batches) > 10
    firsts = [int(b[0][0]) for b in batches]
    lasts = [int(b[0][-1]) for b in batches]
    assert firsts == sorted(firsts) and all(last < first for last, first in zip(lasts, firsts[1:]))
    whole = coverage_pairs(sites, squares, 250)
    assert np.array_equal(np.concatenate([b[0] for b in batches]), whole[0])
    assert np.array_equal(np.concatenate([b[1] for b in batches]), whole[1])


def test_nothing_to_pair():
    squares = grid_squares()
    for sites, polygons in ((squares[:0], squares), (candidate_sites(squares), squares[:0])):
        site_idx, polygon_idx = coverage_pairs(sites, polygons, 250, max_pairs=1)
        assert site_idx.size == polygon_idx.size == 0 and site_idx.dtype == np.intp


# --------------------------------------------------------------------------- the limit


@pytest.mark.parametrize("pairs_per_batch", [7, coverage.PAIRS_PER_BATCH])
def test_limit_reached_exactly_is_built_one_more_is_refused(monkeypatch, pairs_per_batch):
    monkeypatch.setattr(coverage, "PAIRS_PER_BATCH", pairs_per_batch)
    squares = grid_squares()
    sites = candidate_sites(squares)
    site_idx, _ = coverage_pairs(sites, squares, 250, max_pairs=156)
    assert site_idx.size == 156
    with pytest.raises(PairLimitError):
        coverage_pairs(sites, squares, 250, max_pairs=155)
    assert coverage_pairs(sites, squares, 250, max_pairs=None)[0].size == 156


def test_refusal_message_says_what_is_wrong_and_what_to_do():
    squares = grid_squares()
    with pytest.raises(ValueError) as caught:
        coverage_pairs(candidate_sites(squares), squares, 250, max_pairs=155)
    error = caught.value
    assert isinstance(error, PairLimitError)
    assert (error.walk_radius_m, error.max_pairs) == (250, 155)
    message = str(error)
    assert "\n" not in message
    assert message == (
        "At a walk radius of 250 m the communities have more than 155 (site, community) pairs within reach "
        "(config.toml [coverage] max_pairs): use a smaller walk radius, check the data for many communities "
        "at the same place, or ask the administrator to raise the limit"
    )
    big = PairLimitError(1500.5, 20_000_000)
    assert "At a walk radius of 1,500.5 m" in str(big) and "more than 20,000,000 (site, community)" in str(big)


def crowded_squares(n: int, seed: int = 0) -> np.ndarray:
    """``n`` 100 m squares whose centres lie within 50 m of one point (every pair within 100 m)."""
    rng = np.random.default_rng(seed)
    angle, distance = rng.uniform(0, 2 * np.pi, n), 50 * np.sqrt(rng.uniform(0, 1, n))
    x, y = X0 + distance * np.cos(angle), Y0 + distance * np.sin(angle)
    return shapely.box(x - 50, y - 50, x + 50, y + 50)


def test_crowded_communities_are_refused_before_any_pair_is_built(monkeypatch):
    squares = crowded_squares(1_000)  # 1,000,000 pairs
    sites = candidate_sites(squares)

    def no_tree(*args, **kwargs):
        raise AssertionError("the relation was built although a lower bound already passes the limit")

    monkeypatch.setattr(coverage.shapely, "STRtree", no_tree)
    with pytest.raises(PairLimitError):
        coverage_pairs(sites, squares, 500, max_pairs=999_999)
    monkeypatch.undo()
    assert coverage_pairs(sites, squares, 500, max_pairs=1_000_000)[0].size == 1_000_000


# --------------------------------------------------------------------------- the callers pass the limit


@pytest.fixture(scope="module")
def sample_city():
    return load_city(DEFAULT_DATA_PATH)


@pytest.fixture(scope="module")
def sample_covered(sample_city):
    return community_coverage(sample_city.communities, sample_city.fitness_paths, load_config().walk_radius_m)


def priority_relation_size(covered, radius_m) -> int:
    polygons = covered.geometry.to_crs(metric_crs_for(covered)).values
    unserved = ~covered["served_within_radius"].to_numpy(bool)
    return coverage_pairs(candidate_sites(polygons), polygons[unserved], radius_m)[0].size


def test_priority_takes_the_limit_from_the_config(sample_city, sample_covered):
    config = load_config()
    size = priority_relation_size(sample_covered, config.walk_radius_m)
    assert 0 < size < config.max_pairs
    unlimited = neighbours_unserved_population(sample_covered, config.walk_radius_m)
    at_limit = neighbours_unserved_population(sample_covered, config.walk_radius_m, max_pairs=size)
    assert np.array_equal(unlimited, at_limit) and unlimited.sum() > 0
    at_limit_scored = score_covered(sample_covered, replace(config, max_pairs=size), sample_city.applications)
    assert at_limit_scored["neighbours_unserved_population"].tolist() == unlimited.tolist()
    with pytest.raises(PairLimitError, match=f"more than {size - 1:,} "):
        score_covered(sample_covered, replace(config, max_pairs=size - 1), sample_city.applications)


def test_neighbours_summed_batch_by_batch_equal_one_sum(sample_covered, monkeypatch):
    whole = neighbours_unserved_population(sample_covered, 800)
    monkeypatch.setattr(coverage, "PAIRS_PER_BATCH", 50)
    assert np.array_equal(neighbours_unserved_population(sample_covered, 800), whole) and whole.sum() > 0


def test_optimal_problem_takes_the_limit(sample_city, sample_covered):
    config = load_config()
    scored = score_covered(sample_covered, config, sample_city.applications)
    unlimited = CoverageProblem.from_scored(scored, config.walk_radius_m, config.set_cost_cny)
    nnz = unlimited.cover.nnz
    at_limit = CoverageProblem.from_scored(scored, config.walk_radius_m, config.set_cost_cny, max_pairs=nnz)
    assert (at_limit.cover != unlimited.cover).nnz == 0 and at_limit.cover.nnz == nnz > 0
    with pytest.raises(PairLimitError):
        CoverageProblem.from_scored(scored, config.walk_radius_m, config.set_cost_cny, max_pairs=nnz - 1)


def test_run_plan_passes_the_configured_limit_to_the_optimal_problem(sample_city, sample_covered, monkeypatch):
    # run_plan builds the relation once and slices it per programme (issue 11): both take the limit.
    built, sliced = [], []
    build, matrix = coverage.CoverageRelation.build.__func__, coverage.CoverageRelation.matrix

    def spy_build(cls, *args, max_pairs=None, network=None):
        built.append(max_pairs)
        return build(cls, *args, max_pairs=max_pairs, network=network)

    def spy_matrix(self, *args, max_pairs=None):
        sliced.append(max_pairs)
        return matrix(self, *args, max_pairs=max_pairs)

    monkeypatch.setattr(coverage.CoverageRelation, "build", classmethod(spy_build))
    monkeypatch.setattr(coverage.CoverageRelation, "matrix", spy_matrix)
    config = replace(load_config(), max_pairs=12_345_678)
    run_plan(
        sample_city.communities,
        sample_city.fitness_paths,
        config,
        ["city", "region"],
        "rank",
        sample_city.applications,
        covered=sample_covered,
    )
    assert built == [12_345_678]  # once per run
    assert sliced == [12_345_678, 12_345_678]  # one problem per programme


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_plans_refuse_with_the_configured_limit(sample_city, sample_covered, mode):
    # What the app and the CLI call: run_plan with their Config (with_overrides keeps max_pairs).
    config = with_overrides(replace(load_config(), max_pairs=1_000), walk_radius_m=500)
    assert config.max_pairs == 1_000
    with pytest.raises(PairLimitError, match="more than 1,000 "):
        run_plan(
            sample_city.communities,
            sample_city.fitness_paths,
            config,
            ["city", "region"],
            mode,
            sample_city.applications,
            covered=sample_covered,
        )


# --------------------------------------------------------------------------- hostile files, in a child


def city_file(folder: Path, squares_m: np.ndarray) -> Path:
    """A GeoPackage with the sample's districts, one community per square (the sample's rows,
    cycled, with new IDs) and no fitness paths: every community is demand."""
    sample = load_city(DEFAULT_DATA_PATH)
    rows = sample.communities.iloc[np.arange(len(squares_m)) % len(sample.communities)].reset_index(drop=True)
    rows["community_id"] = [f"X{i:06d}" for i in range(len(squares_m))]
    geometry = gpd.GeoSeries(squares_m, crs=UTM).to_crs("EPSG:4326").values
    communities = gpd.GeoDataFrame(rows.drop(columns="geometry"), geometry=geometry, crs="EPSG:4326")
    path = folder / "city.gpkg"
    write_layers(
        path,
        {"districts": sample.districts, "communities": communities, "fitness_paths": sample.fitness_paths.iloc[:0]},
    )
    return path


def assert_refused_in_one_line(result, limit: str) -> None:
    status, _, stderr, peak_mb = result
    assert status == 2, stderr
    assert stderr.count("\n") <= 1 and "Traceback" not in stderr, stderr
    assert stderr.startswith(
        f"error: At a walk radius of 500 m the communities have more than {limit} (site, community)"
    )
    assert "config.toml [coverage] max_pairs" in stderr and "smaller walk radius" in stderr
    assert peak_mb < PEAK_MB, f"peak {peak_mb:.0f} MB"


@pytest.mark.parametrize("command", [["plan", "--program", "city,region", "--mode", "optimal"], ["eligibility"]])
def test_8000_communities_within_100_m_are_refused_within_seconds_in_bounded_memory(tmp_path, command):
    # The reproduction: 64 million pairs at 500 m; the app reached 4.1 GB and 129 s on it.
    path = city_file(tmp_path, crowded_squares(8_000))
    result = run_measured(
        [sys.executable, "-m", "geo", command[0], "--data", str(path), *command[1:]], timeout=TIMEOUT_S
    )
    assert_refused_in_one_line(result, "20,000,000")


@pytest.mark.slow
def test_refusal_found_by_counting_stays_within_bounded_memory(tmp_path):
    # 8,000 squares spread over 2 km × 2 km: 12.3 million pairs at 500 m, but too few at one place
    # for the lower bound to pass a limit of 3 million, so the limit is found by counting batches.
    rng = np.random.default_rng(1)
    x, y = X0 + rng.uniform(0, 2_000, 8_000), Y0 + rng.uniform(0, 2_000, 8_000)
    squares = shapely.box(x - 50, y - 50, x + 50, y + 50)
    assert coverage._fewest_pairs(candidate_sites(squares), squares, 500) < 3_000_000
    config = tmp_path / "config.toml"
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert "\nmax_pairs = 20000000\n" in text
    config.write_text(text.replace("\nmax_pairs = 20000000\n", "\nmax_pairs = 3000000\n"), encoding="utf-8")
    path = city_file(tmp_path, squares)
    result = run_measured(
        [sys.executable, "-m", "geo", "--config", str(config), "eligibility", "--data", str(path)], timeout=TIMEOUT_S
    )
    assert_refused_in_one_line(result, "3,000,000")
