"""Benchmark whole plans on foot against plans in straight lines (issue 16).

Run: ``.venv/bin/python benchmarks/bench_plan_network.py [--sizes 2500,10000] [--runs 3]``

Each city is ``geo.data.sample.generate_sample(..., roads=True)`` (the sample's seed, its synthetic street
network and public sites). For each city, mode (rank, optimal) and distance (straight, network), the whole
:func:`geo.plan.run_plan` of config.toml's two programmes (the city's budget, then the regional grant) with the
public sites as candidates is timed in this process (median of ``--runs``; the walk network is built once
beforehand, as the app caches it, and its build time is printed apart). Printed per run: seconds, residents
newly served within the radius, sets on public sites, land-less residents newly served. One JSON line last.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from functools import partial

from geo.analysis.network import WalkNetwork
from geo.config import BOUNDARIES_PATH, load_config
from geo.data.crs import metric_crs_for
from geo.data.io import read_districts
from geo.data.sample import generate_sample
from geo.plan import run_plan


def median_seconds(runs: int, call):
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return round(statistics.median(seconds), 2), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2500", help="community counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    config = load_config()
    keys = [p.key for p in config.programs]
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        layers = generate_sample(read_districts(BOUNDARIES_PATH), n_communities=size, roads=True)
        communities, paths, sites = layers["communities"], layers["fitness_paths"], layers.get("public_sites")
        start = time.perf_counter()
        network = WalkNetwork.from_roads(layers["roads"], metric_crs_for(communities))
        build_s = round(time.perf_counter() - start, 2)
        print(f"{size:,} communities: walk network {network.graph.nnz // 2:,} edges, built in {build_s} s")
        for mode in ("rank", "optimal"):
            for distance in ("straight", "network"):
                cfg = dataclasses.replace(config, distance=distance)
                call = partial(run_plan, communities, paths, cfg, keys, mode, public_sites=sites, network=network)
                seconds, plan = median_seconds(args.runs, call)
                summaries = [o.summary("en") for o in plan.outcomes]
                row = {
                    "communities": size,
                    "mode": mode,
                    "distance": distance,
                    "seconds": seconds,
                    "population_newly_served": sum(s["population_newly_served"] for s in summaries),
                    "sets": sum(len(o.selected) for o in plan.outcomes),
                    "sets_on_public_sites": sum(s.get("sets_on_public_sites", 0) for s in summaries),
                    "landless_population_newly_served": sum(
                        s.get("landless_population_newly_served", 0) for s in summaries
                    ),
                    "network_build_s": build_s,
                }
                results.append(row)
                print(
                    f"  {mode:8s} {distance:8s} {seconds:7.2f} s  newly served {row['population_newly_served']:,}"
                    f"  sets {row['sets']} ({row['sets_on_public_sites']} on sites)"
                    f"  land-less newly served {row['landless_population_newly_served']:,}"
                )
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
