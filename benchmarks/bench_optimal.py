"""Benchmark optimal coverage (the plan's ``optimal`` mode) against greedy and PySAL spopt.

Run: ``.venv/bin/python benchmarks/bench_optimal.py [--sizes 2500,10000,50000] [--runs 3] [--spopt]``
(``--spopt`` needs ``pip install -r benchmarks/requirements.txt``). Each measurement runs in a
fresh process; the data are loaded and scored before the clock starts. Prints a line per
measurement and, last, one JSON line with the medians.

Two instances per city, each with p = 12 and 100 sets (CNY 50,000 each) and radius 500 and 800 m:

* ``planning`` — what the app solves: existing sets fixed, demand = communities not yet served
  within the radius, candidates = eligible communities, distance from a candidate's site to the
  demand polygon. Timed: coverage relation + model + solve (``CoverageProblem.from_scored`` +
  ``allocate_optimal``).
* ``full`` (with ``--full``) — a city with no sets yet: every community is demand and a
  candidate; ``--full-time-limit`` (default 60 s) as ``allocate_optimal``'s limit, ``--full-gap``
  (default 1e-4) as the relative gap to prove; ``--only-full`` skips the planning rows. With
  ``--spopt`` too, ``full_equal`` compares it with spopt the same way (centroids as demand).
* ``spopt-equal`` — the same demand and candidates in spopt's terms: demand points are the
  polygons' centroids (spopt's ``from_geodataframe`` takes centroids), facility points are the
  candidate sites. spopt builds ``MCLP.from_geodataframe`` (a dense distance matrix, then PuLP)
  and solves with CBC; we build the sparse relation on the same points and solve with HiGHS.
  The objective (residents newly served) must be equal.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SET_COST = 50_000


def scored_city(path: str, radius: float):
    from geo.config import load_config, with_overrides
    from geo.pipeline import load_city
    from geo.plan import score_communities

    config = with_overrides(load_config(), walk_radius_m=radius)
    city = load_city(path)
    return score_communities(city.communities, city.fitness_paths, config, city.applications), config


def run_ours_planning(path: str, radius: float, p: int) -> dict:
    from geo.optimize.allocate import CoverageProblem, allocate_optimal, greedy_cover

    scored, _config = scored_city(path, radius)
    start = time.perf_counter()
    problem = CoverageProblem.from_scored(scored, radius, SET_COST)
    result = allocate_optimal(problem, p * SET_COST, time_limit_s=60, mip_rel_gap=1e-4)
    seconds = time.perf_counter() - start
    greedy = problem.newly_served(greedy_cover(problem, p * SET_COST))
    return {
        "seconds": seconds,
        "objective": result.population_newly_served,
        "gap": result.optimality_gap,
        "status": result.status,
        "greedy": greedy,
        "candidates": int(problem.candidates.size),
        "demand": int(problem.demand.size),
        "pairs": int(problem.cover.nnz),
    }


def _equal_instance(path: str, radius: float):
    """Demand centroids, weights and candidate sites (metric CRS) of the planning instance."""
    import numpy as np

    from geo.analysis.coverage import candidate_sites
    from geo.analysis.priority import priority_order
    from geo.data.crs import metric_crs_for

    scored, _ = scored_city(path, radius)
    metric = metric_crs_for(scored)
    polygons = scored.geometry.to_crs(metric)
    candidates = priority_order(scored)
    demand = np.flatnonzero(~scored["served_within_radius"].to_numpy(dtype=bool))
    return (
        polygons.iloc[demand].centroid,
        scored["population"].to_numpy(dtype=np.int64)[demand],
        candidate_sites(polygons.values[candidates]),
        scored["district_code"].astype(str).to_numpy()[candidates],
        metric,
    )


def run_ours_equal(path: str, radius: float, p: int) -> dict:
    return _ours_on(_equal_instance(path, radius), radius, p)


def _ours_on(instance, radius: float, p: int) -> dict:
    """Our sparse relation + HiGHS on point demand (spopt's view of an instance)."""
    import numpy as np
    import scipy.sparse as sp

    from geo.analysis.coverage import coverage_pairs
    from geo.optimize.allocate import CoverageProblem, allocate_optimal

    centroids, weight, sites, district, _ = instance
    start = time.perf_counter()
    site_idx, demand_idx = coverage_pairs(sites, centroids.values, radius)
    cover = sp.csr_array((np.ones(site_idx.size, bool), (site_idx, demand_idx)), shape=(sites.size, centroids.size))
    problem = CoverageProblem(
        np.arange(sites.size), np.full(sites.size, float(SET_COST)), district, np.arange(centroids.size), weight, cover
    )
    result = allocate_optimal(problem, p * SET_COST, time_limit_s=60, mip_rel_gap=1e-4)
    return {
        "seconds": time.perf_counter() - start,
        "objective": result.population_newly_served,
        "gap": result.optimality_gap,
        "status": result.status,
    }


def run_spopt_equal(path: str, radius: float, p: int) -> dict:
    return _spopt_on(_equal_instance(path, radius), radius, p)


def _spopt_on(instance, radius: float, p: int) -> dict:
    """spopt's MCLP.from_geodataframe (dense matrix + PuLP) solved by CBC; objective recomputed."""
    import warnings

    import geopandas as gpd
    import numpy as np
    import pulp
    from spopt.locate import MCLP

    centroids, weight, sites, _, metric = instance
    demand = gpd.GeoDataFrame({"population": weight}, geometry=centroids.values, crs=metric)
    facilities = gpd.GeoDataFrame(geometry=sites, crs=metric)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_geodataframe(
            demand, facilities, "geometry", "geometry", "population", service_radius=radius, p_facilities=p
        )
    built = time.perf_counter()
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    solved = time.perf_counter()
    chosen = np.array([j for j, var in enumerate(model.fac_vars) if var.value() and var.value() > 0.5], dtype=int)
    site_xy = np.array([(s.x, s.y) for s in sites])[chosen]
    reached = np.zeros(centroids.size, dtype=bool)
    for x, y in site_xy:
        reached |= np.hypot(centroids.x.to_numpy() - x, centroids.y.to_numpy() - y) <= radius
    return {
        "seconds": solved - start,
        "build_seconds": built - start,
        "solve_seconds": solved - built,
        "objective": int(weight[reached].sum()),
    }


FULL_GAP = 1e-4  # set from --full-gap in main(), in the parent and in each child
FULL_TIME_LIMIT = 60.0  # set from --full-time-limit likewise


def run_ours_full(path: str, radius: float, p: int) -> dict:
    """A city with no sets yet: every community is demand and a candidate (site-to-polygon)."""
    import numpy as np
    import scipy.sparse as sp

    from geo.analysis.coverage import candidate_sites, coverage_pairs
    from geo.data.crs import metric_crs_for
    from geo.optimize.allocate import CoverageProblem, allocate_optimal, greedy_cover
    from geo.pipeline import load_city

    communities = load_city(path).communities
    start = time.perf_counter()
    polygons = communities.geometry.to_crs(metric_crs_for(communities)).values
    site_idx, demand_idx = coverage_pairs(candidate_sites(polygons), polygons, radius)
    n = len(communities)
    problem = CoverageProblem(
        np.arange(n),
        np.full(n, float(SET_COST)),
        communities["district_code"].astype(str).to_numpy(),
        np.arange(n),
        communities["population"].to_numpy(dtype=np.int64),
        sp.csr_array((np.ones(site_idx.size, bool), (site_idx, demand_idx)), shape=(n, n)),
    )
    called = time.perf_counter()
    result = allocate_optimal(problem, p * SET_COST, time_limit_s=FULL_TIME_LIMIT, mip_rel_gap=FULL_GAP)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "allocate_seconds": time.perf_counter() - called,
        "objective": result.population_newly_served,
        "gap": result.optimality_gap,
        "status": result.status,
        "greedy": problem.newly_served(greedy_cover(problem, p * SET_COST)),
        "pairs": int(problem.cover.nnz),
    }


def _full_equal_instance(path: str):
    """No sets yet, in spopt's terms: every community's centroid is demand, its site a candidate."""
    import numpy as np

    from geo.analysis.coverage import candidate_sites
    from geo.data.crs import metric_crs_for
    from geo.pipeline import load_city

    communities = load_city(path).communities
    metric = metric_crs_for(communities)
    polygons = communities.geometry.to_crs(metric)
    return (
        polygons.centroid,
        communities["population"].to_numpy(dtype=np.int64),
        candidate_sites(polygons.values),
        communities["district_code"].astype(str).to_numpy(),
        metric,
    )


def run_ours_full_equal(path: str, radius: float, p: int) -> dict:
    return _ours_on(_full_equal_instance(path), radius, p)


def run_spopt_full_equal(path: str, radius: float, p: int) -> dict:
    return _spopt_on(_full_equal_instance(path), radius, p)


RUNNERS = {
    "ours_planning": run_ours_planning,
    "ours_equal": run_ours_equal,
    "spopt_equal": run_spopt_equal,
    "ours_full": run_ours_full,
    "ours_full_equal": run_ours_full_equal,
    "spopt_full_equal": run_spopt_full_equal,
}


def child(name: str, path: str, radius: float, p: int, timeout_s: float) -> dict | None:
    """One measurement in a fresh process; None if it ran past ``timeout_s``.

    The child gets its own process group and the whole group is killed on timeout: spopt's CBC
    runs as a grandchild process that would otherwise go on using a core and slow every
    measurement after it.
    """
    command = [
        sys.executable,
        __file__,
        "--child",
        name,
        path,
        str(radius),
        str(p),
        f"--full-gap={FULL_GAP}",
        f"--full-time-limit={FULL_TIME_LIMIT}",
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return None
    if process.returncode != 0:
        raise RuntimeError(f"{name} failed ({process.returncode}): {stderr.strip()[-2000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2500,10000,50000")
    parser.add_argument("--radii", default="500,800")
    parser.add_argument("--ps", default="12,100")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spopt", action="store_true", help="also run spopt (benchmarks/requirements.txt)")
    parser.add_argument("--spopt-timeout", type=float, default=600)
    parser.add_argument("--full", action="store_true", help="also the no-existing-sets instance (slow above 10k)")
    parser.add_argument("--full-gap", type=float, default=1e-4, help="relative gap the full instance must prove")
    parser.add_argument("--full-time-limit", type=float, default=60.0, help="allocate_optimal's limit there (s)")
    parser.add_argument("--only-full", action="store_true", help="with --full: skip the planning instances")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global FULL_GAP, FULL_TIME_LIMIT
    FULL_GAP = args.full_gap
    FULL_TIME_LIMIT = args.full_time_limit
    if args.child:
        name, path, radius, p = args.child
        print(json.dumps(RUNNERS[name](path, float(radius), int(p))))
        return

    from geo.config import BOUNDARIES_PATH, DEFAULT_DATA_PATH, load_config
    from geo.data.io import read_districts, write_layers
    from geo.data.sample import generate_sample

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            if size == load_config().sample_communities:
                path = str(DEFAULT_DATA_PATH)
            else:
                path = str(Path(folder) / f"city_{size}.gpkg")
                write_layers(
                    path,
                    generate_sample(
                        read_districts(BOUNDARIES_PATH), n_communities=size, seed=load_config().sample_seed
                    ),
                )
            for radius in (float(r) for r in args.radii.split(",")):
                for p in (int(v) for v in args.ps.split(",")):
                    names = (
                        ([] if args.only_full and args.full else ["ours_planning", "ours_equal"])
                        + (["spopt_equal"] if args.spopt else [])
                        + (["ours_full"] if args.full else [])
                        + (["ours_full_equal"] if args.full and args.spopt else [])
                        + (["spopt_full_equal"] if args.full and args.spopt else [])
                    )
                    row = {"communities": size, "radius_m": radius, "p": p}
                    for name in names:
                        runs = [
                            child(name, path, radius, p, args.spopt_timeout if name.startswith("spopt") else 900)
                            for _ in range(args.runs if not name.startswith("spopt") or size <= 10_000 else 1)
                        ]
                        done = [r for r in runs if r is not None]
                        if not done:
                            row[name] = {"seconds": None, "note": f"did not finish in {args.spopt_timeout:.0f} s"}
                            continue
                        summary = {
                            k: v
                            for k, v in done[-1].items()
                            if k not in ("seconds", "build_seconds", "solve_seconds", "allocate_seconds")
                        }
                        for key in ("gap", "objective"):
                            if key in done[0]:
                                summary[f"{key}_runs"] = [r[key] for r in done]  # every run, not just the last
                        for key in ("seconds", "build_seconds", "solve_seconds", "allocate_seconds"):
                            if key in done[0]:
                                summary[key] = round(statistics.median(r[key] for r in done), 3)
                        row[name] = summary
                    for ours, theirs in (("ours_equal", "spopt_equal"), ("ours_full_equal", "spopt_full_equal")):
                        if theirs in row and row[theirs].get("seconds"):
                            row[f"speedup_{theirs}"] = round(row[theirs]["seconds"] / row[ours]["seconds"], 1)
                            row[f"equal_objective_{theirs}"] = row[theirs]["objective"] == row[ours]["objective"]
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    summary = {"benchmark": "optimal", "runs": args.runs, "full_gap": FULL_GAP, "full_time_limit": FULL_TIME_LIMIT}
    print(json.dumps({**summary, "results": rows}))


if __name__ == "__main__":
    main()
