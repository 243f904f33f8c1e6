"""Benchmark walking distance on the street network (issue 16): build the graph, nearest set on foot, plan pairs.

Run: ``.venv/bin/python benchmarks/bench_network.py [--sizes 2500,100000] [--runs 3]``

Each city is made by ``geo.data.sample.generate_sample(..., roads=True)`` (the sample's seed; its synthetic
street network, sets in proportion). Measured in this process, medians of ``--runs``: building the
:class:`geo.analysis.network.WalkNetwork` (project, cut into 20 m pieces, join T-junctions, snap, pieces),
the distance on foot from every community to its nearest set (one search), and the plan's coverage pairs on
foot (every community's set place against the communities not served within 500 m, searches stopped at
500 m), beside the straight-line pairs for the same inputs. Prints a line per city and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import numpy as np

from geo.analysis.coverage import candidate_sites, community_coverage, coverage_pairs
from geo.analysis.network import WalkNetwork, coverage_pairs_on_foot, walking_distance_to_nearest_set
from geo.config import BOUNDARIES_PATH, load_config
from geo.data.crs import metric_crs_for
from geo.data.io import read_districts


def timed(runs: int, call):
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return round(statistics.median(seconds), 3), result


def measure(size: int, runs: int, radius: float) -> dict:
    """The figures of one generated city of ``size`` communities (see the module doc)."""
    from geo.data.sample import generate_sample

    layers = generate_sample(read_districts(BOUNDARIES_PATH), n_communities=size, roads=True)
    communities, paths, roads = layers["communities"], layers["fitness_paths"], layers["roads"]
    metric = metric_crs_for(communities)
    build_s, network = timed(runs, lambda: WalkNetwork.from_roads(roads, metric))
    nearest_s, on_foot = timed(runs, lambda: walking_distance_to_nearest_set(communities, paths, network))
    covered = community_coverage(communities, paths, radius)
    polygons = np.asarray(communities.geometry.to_crs(metric).values)
    points = candidate_sites(polygons)
    demand = polygons[~covered["served_within_radius"].to_numpy()]
    pairs_s, foot_pairs = timed(runs, lambda: coverage_pairs_on_foot(network, points, demand, radius))
    straight_s, line_pairs = timed(runs, lambda: coverage_pairs(points, demand, radius))
    straight_served = covered["served_within_radius"].to_numpy()
    foot_served = on_foot <= radius + 1e-3
    return {
        "communities": size,
        "roads": len(roads),
        "nodes": int(len(network.nodes_m)),
        "edges": int(network.graph.nnz // 2),
        "pieces": network.pieces,
        "build_s": build_s,
        "nearest_set_on_foot_s": nearest_s,
        "pairs_on_foot_s": pairs_s,
        "pairs_straight_s": straight_s,
        "pairs_on_foot": int(foot_pairs[0].size),
        "pairs_straight": int(line_pairs[0].size),
        "served_straight": int(straight_served.sum()),
        "served_on_foot": int(foot_served.sum()),
        "served_straight_not_on_foot": int((straight_served & ~foot_served).sum()),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2500,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    radius = load_config().walk_radius_m
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.runs, radius)
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
