"""Benchmark walking distance on the street network (issue 16): build the graph, nearest set on foot, plan pairs.

Run: ``.venv/bin/python benchmarks/bench_network.py [--sizes 2500,100000] [--runs 3] [--whole-network]``

Each city is made by ``geo.data.sample.generate_sample(..., roads=True)`` (the sample's seed; its synthetic
street network, sets in proportion). Measured in this process, medians of ``--runs``: building the
:class:`geo.analysis.network.WalkNetwork` (project, cut into 20 m pieces, join T-junctions, snap, pieces),
the distance on foot from every community to its nearest set (one search), and the plan's coverage pairs on
foot (every community's set place against the communities not served within 500 m, searches stopped at
500 m), beside the straight-line pairs for the same inputs, and the same pairs against every community (the
largest relation a plan can ask for: one run); the pairs' peak memory is what Python and numpy
allocated during one more call (tracemalloc, run apart from the timing). ``--whole-network`` also times the
first implementation (a search per node on the whole network, dense rows as long as the network; kept here as
:func:`whole_network_pairs`) and checks that it finds the same pairs. Prints a line per city and, last, one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import tracemalloc

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

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


def peak_mb(call) -> float:
    """The most memory (MB) Python and numpy held above the start while ``call()`` ran."""
    tracemalloc.start()
    try:
        call()
        return round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    finally:
        tracemalloc.stop()


def whole_network_pairs(network, points_m, polygons_m, walk_radius_m, batch_bytes=256 * 2**20):
    """The first coverage_pairs_on_foot (commit 712aa86): searches on the whole network in batches of dense rows
    as long as the network. Returns the pairs as an (n, 2) array sorted by point then polygon."""
    found = [np.stack(shapely.STRtree(polygons_m).query(points_m, predicate="covered_by"), axis=1)]
    nodes, legs = network.nearest_nodes(points_m)
    access = network.access(polygons_m)
    starts = np.flatnonzero(np.r_[True, access.polygon[1:] != access.polygon[:-1]])
    group_polygon = access.polygon[starts]
    distinct, point_of = np.unique(nodes, return_inverse=True)
    members = np.split(np.argsort(point_of, kind="stable"), np.cumsum(np.bincount(point_of))[:-1])
    batch = max(1, int(batch_bytes // (16 * max(len(network.nodes_m), access.node.size))))
    limit = walk_radius_m + 1e-3
    for first in range(0, distinct.size, batch):
        searched = distinct[first : first + batch]
        reached = dijkstra(network.graph, directed=False, indices=searched, limit=limit)
        via = np.minimum.reduceat(reached[:, access.node] + access.leg, starts, axis=1)
        for row in range(searched.size):
            for point in members[first + row]:
                served = group_polygon[via[row] + legs[point] <= limit]
                found.append(np.stack([np.full(served.size, point), served], axis=1))
    return np.unique(np.concatenate(found).astype(np.intp), axis=0)


def measure(size: int, runs: int, radius: float, whole_network: bool = False) -> dict:
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
    pairs_mb = peak_mb(lambda: coverage_pairs_on_foot(network, points, demand, radius))
    straight_s, line_pairs = timed(runs, lambda: coverage_pairs(points, demand, radius))
    every_s, every_pairs = timed(1, lambda: coverage_pairs_on_foot(network, points, polygons, radius))
    every_mb = peak_mb(lambda: coverage_pairs_on_foot(network, points, polygons, radius))
    reference = {}
    if whole_network:
        whole_s, whole = timed(1, lambda: whole_network_pairs(network, points, demand, radius))
        reference = {
            "pairs_whole_network_s": whole_s,
            "pairs_whole_network_peak_mb": peak_mb(lambda: whole_network_pairs(network, points, demand, radius)),
            "same_pairs": bool(np.array_equal(whole, np.stack(foot_pairs, axis=1))),
        }
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
        "pairs_on_foot_peak_mb": pairs_mb,
        "every_community_pairs_on_foot": int(every_pairs[0].size),
        "every_community_pairs_on_foot_s": every_s,
        "every_community_pairs_on_foot_peak_mb": every_mb,
        **reference,
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
    parser.add_argument("--whole-network", action="store_true", help="also time the first implementation")
    args = parser.parse_args()
    radius = load_config().walk_radius_m
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.runs, radius, args.whole_network)
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
