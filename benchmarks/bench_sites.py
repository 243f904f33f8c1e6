"""Benchmark public sites as candidates: what they reach and what they cost, on the sample and on large cities.

Run: ``.venv/bin/python benchmarks/bench_sites.py [--cities 2500:0,50000:20000] [--runs 3] [--no-sets]``

Each ``--cities`` entry is ``communities:sites``. ``2500:0`` is the bundled sample with its own public
sites (156); any other size is a city made by ``geo.data.sample.generate_sample`` (the sample's seed, sets
in proportion, its own sites) to which random public sites are added up to the number asked for: points
in the city's extent, kinds, areas and consents drawn as in the sample (``default_rng(15)``). ``--no-sets``
removes every fitness path first (every community then is demand and, if it has land, a candidate).

For each city, mode (``rank``, ``optimal``) and candidates (communities only; communities and sites),
runs both programmes of ``config.toml`` with :func:`geo.plan.run_plan` on coverage computed once, and
reports the median seconds of the whole run, the optimal solver's seconds, status and gap per programme,
the sets on sites, and the land-less communities (not served within the walk radius and unable to host a
set; ``geo.analysis.priority.landless``, counted before the first programme): how many some candidate
could reach at all, and how many (and their residents) the plan brings within the walk radius. Prints a
line per case and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.coverage import community_coverage
from geo.analysis.priority import landless
from geo.analysis.sites import assess_sites, score_sites
from geo.config import BOUNDARIES_PATH, DEFAULT_DATA_PATH, load_config
from geo.data.crs import metric_crs_for
from geo.data.io import read_districts
from geo.data.sample import generate_sample
from geo.optimize.allocate import CoverageProblem
from geo.pipeline import load_city
from geo.plan import run_plan, score_covered

KINDS = ["pocket_park", "park", "square", "greenway", "school_ground", "street_corner"]


def city_of(size: int, n_sites: int):
    """(communities, fitness_paths, applications, public_sites) of the sample or of a generated city."""
    if size == 2500:
        city = load_city(DEFAULT_DATA_PATH)
        return city.communities, city.fitness_paths, city.applications, city.public_sites
    layers = generate_sample(read_districts(BOUNDARIES_PATH), n_communities=size)
    sites = layers.get("public_sites")
    missing = max(0, n_sites - (len(sites) if sites is not None else 0))
    if missing:
        sites = pd.concat([sites, random_sites(layers["communities"], missing)], ignore_index=True)
    return layers["communities"], layers["fitness_paths"], layers["applications"], sites


def random_sites(communities: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """``n`` random public sites (points) in the communities' extent, attributes as in the sample."""
    rng = np.random.default_rng(15)
    metric = metric_crs_for(communities)
    xmin, ymin, xmax, ymax = communities.to_crs(metric).total_bounds
    # Near communities, as real sites are: a community's centre moved up to 600 m in each direction.
    centres = communities.to_crs(metric).geometry.centroid
    picked = rng.integers(0, len(centres), n)
    x = np.clip(centres.x.to_numpy()[picked] + rng.uniform(-600, 600, n), xmin, xmax)
    y = np.clip(centres.y.to_numpy()[picked] + rng.uniform(-600, 600, n), ymin, ymax)
    return gpd.GeoDataFrame(
        {
            "site_id": pd.array([f"RS-{k:06d}" for k in range(n)], dtype="string"),
            "name": pd.array([f"随机场地{k}" for k in range(n)], dtype="string"),
            "kind": pd.array(rng.choice(KINDS, n), dtype="string"),
            "usable_area_m2": np.where(rng.random(n) < 0.1, 100.0, rng.uniform(150, 3000, n).round()),
            "owner": pd.array(["街道办事处"] * n, dtype="string"),
            "consent": pd.array(rng.choice(["yes"] * 17 + ["unknown"] * 3 + ["no"] * 2, n), dtype="string"),
            "notes": pd.array([None] * n, dtype="string"),
        },
        geometry=gpd.points_from_xy(x, y),
        crs=metric,
    ).to_crs("EPSG:4326")


def reachable_landless(scored, sites, paths, config, is_landless) -> dict[bool, int]:
    """Land-less communities some candidate could bring within the walk radius: communities only (False), and
    communities and public sites (True)."""
    reachable = {}
    for with_sites in (False, True):
        scored_sites = None
        if with_sites and sites is not None:
            scored_sites = score_sites(assess_sites(sites, paths, config), scored, config, paths)
        problem = CoverageProblem.from_scored(
            scored, config.walk_radius_m, config.set_cost_cny, sites=scored_sites, standard=config.standard
        )
        covered = np.asarray(problem.cover.sum(axis=0)).ravel() > 0
        reachable[with_sites] = int((covered & is_landless[problem.demand]).sum())
    return reachable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", default="2500:0,50000:20000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-sets", action="store_true")
    args = parser.parse_args()
    config = load_config()
    keys = [program.key for program in config.programs]
    results = []
    for entry in args.cities.split(","):
        size, n_sites = (int(part) for part in entry.split(":"))
        communities, paths, applications, sites = city_of(size, n_sites)
        if args.no_sets:
            paths = paths.iloc[0:0]
        covered = community_coverage(communities, paths, config.walk_radius_m)
        scored = score_covered(covered, config, applications)
        is_landless = landless(scored)
        reachable = reachable_landless(scored, sites, paths, config, is_landless)
        for mode in ("rank", "optimal"):
            for with_sites in (False, True):
                seconds, plan = [], None
                for _ in range(args.runs):
                    start = time.perf_counter()
                    plan = run_plan(
                        communities,
                        paths,
                        config,
                        keys,
                        mode,
                        applications,
                        covered,
                        public_sites=sites if with_sites else None,
                    )
                    seconds.append(time.perf_counter() - start)
                summaries = plan.summaries("en")
                row = {
                    "communities": size,
                    "sites": 0 if sites is None else len(sites),
                    "sets_before": len(paths),
                    "mode": mode,
                    "with_sites": with_sites,
                    "landless_before": int(is_landless.sum()),
                    "landless_residents_before": int(scored.loc[is_landless, "population"].sum()),
                    "landless_reachable": reachable[with_sites],
                    "seconds": round(statistics.median(seconds), 3),
                    "sets": sum(s["sets"] for s in summaries),
                    "sets_on_sites": sum(s["sets_on_public_sites"] for s in summaries),
                    "landless_reached": sum(s["landless_communities_newly_served"] for s in summaries),
                    "landless_residents_reached": sum(s["landless_population_newly_served"] for s in summaries),
                    "residents_reached": sum(s["population_newly_served"] for s in summaries),
                    "programmes": [
                        {
                            "program": s["program"],
                            "solve_seconds": s["solve_seconds"],
                            "status": s["status"],
                            "gap": s["optimality_gap"],
                            "landless_reached": s["landless_communities_newly_served"],
                        }
                        for s in summaries
                    ],
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                }
                results.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
