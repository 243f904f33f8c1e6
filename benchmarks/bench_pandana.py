"""Benchmark pandana's contraction hierarchies against our scipy walk network (issue 16: "pandana only if measured
faster here and its licence, AGPL, is accepted").

Run: ``.venv/bin/python benchmarks/bench_pandana.py [--sizes 2500,100000] [--runs 3] [--every-sizes 2500]
[--ch-timeout 900]``
(pandana is a benchmark-only package: ``.venv/bin/pip install -r benchmarks/requirements.txt``).

Each city is made as in ``bench_network.py`` (``generate_sample(..., roads=True)``). pandana is fed the very graph
of our :class:`geo.analysis.network.WalkNetwork` (its nodes, and each undirected edge once, ``twoway=True``), with
the weights in units of ``1 / SCALE`` m: pandana keeps a whole number of its unit per edge (it truncates), so in
metres every edge would lose up to 1 mm; the metre build is compared too (``nearest_far_metre_nodes``).
pandana's build is first tried alone in a fresh process: if it does not finish within ``--ch-timeout`` seconds
(it did not, on these cities: see benchmarks/README.md), only ours is timed. Else, medians of ``--runs`` here:

1. building: ours (``WalkNetwork.from_roads``: the geometry work and the sparse graph) and pandana's contraction
   hierarchy (``pandana.Network``, on top of ours);
2. nearest set: the distance from every node to its nearest set's node (the sets snapped to their nodes, no legs),
   stopped at the radius and at ``--far`` m: ours ``WalkNetwork.distances_from`` (one Dijkstra from every set at
   once) against ``set_pois`` + ``nearest_pois(num_pois=1)``; equal where both found one (to a cm), and at the
   communities (``Access.distances``); beside it the app's ``walking_distance_to_nearest_set`` (with the legs);
3. the plan's pairs within the radius (every candidate's place against the communities not served within it; and
   against every community for ``--every-sizes``): ours ``coverage_pairs_on_foot`` against the same relation made
   from ``nodes_in_range`` (:func:`pandana_pairs`): equal pairs.

Memory: each engine once more in a fresh process (``--child``), its peak RSS (``resource.getrusage``) after
making the city and our graph (common to both), and after its own work. Prints a line per city, last one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

from geo.analysis.coverage import candidate_sites, community_coverage
from geo.analysis.network import WalkNetwork, _ranges, coverage_pairs_on_foot, walking_distance_to_nearest_set
from geo.config import BOUNDARIES_PATH, load_config
from geo.data.crs import metric_crs_for
from geo.data.io import read_districts

SCALE = 100.0
"""pandana's weights are in 1/SCALE m (10 µm): its per-edge truncation to whole units then costs at most 10 µm an
edge. Its distances are 32-bit: 100 keeps paths up to about 21 km representable."""
# Sources of nodes_in_range per call: its answer is a frame of (source, node, distance) rows, ~2,000 per source here.
RANGE_BATCH = 2000

_out = sys.stdout


def _quiet_stdout() -> None:
    """pandana's C++ prints progress on file descriptor 1: send it to /dev/null, keep ours on a copy of it."""
    global _out
    _out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def say(row) -> None:
    print(json.dumps(row, ensure_ascii=False), file=_out, flush=True)


def timed(runs: int, call):
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return round(statistics.median(seconds), 3), result


def rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def pandana_network(network: WalkNetwork, scale: float = SCALE):
    """pandana's Network (its contraction hierarchy) of our walk graph: node ids 0 … n-1, each edge once."""
    import pandana

    edges = sp.triu(network.graph, format="coo")
    weights = pd.DataFrame({"weight": edges.data * scale})
    nodes = pd.RangeIndex(len(network.nodes_m))
    return pandana.Network(
        pd.Series(network.nodes_m[:, 0], index=nodes),
        pd.Series(network.nodes_m[:, 1], index=nodes),
        pd.Series(edges.row.astype(np.int64)),
        pd.Series(edges.col.astype(np.int64)),
        weights,
        twoway=True,
    )


def pandana_nearest(net, network: WalkNetwork, set_nodes: np.ndarray, distance_m: float, scale: float = SCALE):
    """Distance (m) from every node to its nearest set node within ``distance_m``, by pandana; inf beyond."""
    xy = network.nodes_m[set_nodes]
    net.set_pois("sets", distance_m * scale, 1, pd.Series(xy[:, 0]), pd.Series(xy[:, 1]))
    found = net.nearest_pois(distance_m * scale, "sets", num_pois=1, max_distance=np.inf)
    return found[1].to_numpy(dtype=float) / scale


def pandana_pairs(net, network: WalkNetwork, points_m, polygons_m, walk_radius_m: float, scale: float = SCALE):
    """``coverage_pairs_on_foot``'s relation made with pandana's ``nodes_in_range``: the points inside a polygon, and
    those whose leg + path + the polygon's access leg is within the radius. pandana searches from every point's node
    (it cannot stop at the targets), so only the nodes within the radius in a straight line of some access node are
    searched (the pre-filter ours does with its tiles), ``RANGE_BATCH`` at a time. Returns (point, polygon) sorted."""
    inside_point, inside_polygon = shapely.STRtree(polygons_m).query(points_m, predicate="covered_by")
    found = [inside_point], [inside_polygon]
    limit = walk_radius_m + 1e-3
    nodes, legs = network.nearest_nodes(points_m)
    access = network.access(polygons_m)
    n = len(network.nodes_m)
    entry_of = np.argsort(access.node, kind="stable")
    entry_start = np.r_[0, np.cumsum(np.bincount(access.node, minlength=n))]
    distinct, point_of = np.unique(nodes, return_inverse=True)
    by_node = np.argsort(point_of, kind="stable")
    member_start = np.r_[0, np.cumsum(np.bincount(point_of, minlength=distinct.size))]
    near, _ = cKDTree(network.nodes_m[np.unique(access.node)]).query(
        network.nodes_m[distinct], distance_upper_bound=limit
    )
    searched = np.flatnonzero(np.isfinite(near))  # indices into distinct
    row_of = np.full(n, -1, dtype=np.intp)
    row_of[distinct] = np.arange(distinct.size)
    for first in range(0, searched.size, RANGE_BATCH):
        reached = net.nodes_in_range(distinct[searched[first : first + RANGE_BATCH]], limit * scale)
        source = reached["source"].to_numpy(dtype=np.intp)
        node = reached["destination"].to_numpy(dtype=np.intp)
        path = reached.iloc[:, 2].to_numpy(dtype=float) / scale
        count = entry_start[node + 1] - entry_start[node]
        entries = entry_of[_ranges(entry_start[node], entry_start[node + 1])]
        hit = np.repeat(np.arange(node.size), count)
        via = path[hit] + access.leg[entries]
        keep = via <= limit
        hit, entries, via = hit[keep], entries[keep], via[keep]
        at = row_of[source[hit]]
        many = member_start[at + 1] - member_start[at]
        point = by_node[_ranges(member_start[at], member_start[at + 1])]
        each = np.repeat(np.arange(hit.size), many)
        keep = via[each] + legs[point] <= limit
        found[0].append(point[keep])
        found[1].append(access.polygon[entries[each[keep]]])
    key = np.unique(np.concatenate(found[0]).astype(np.int64) * len(polygons_m) + np.concatenate(found[1]))
    return (key // len(polygons_m)).astype(np.intp), (key % len(polygons_m)).astype(np.intp)


def _city(size: int):
    from geo.data.sample import generate_sample

    layers = generate_sample(read_districts(BOUNDARIES_PATH), n_communities=size, roads=True)
    return layers["communities"], layers["fitness_paths"], layers["roads"]


def _inputs(communities, paths, network: WalkNetwork, radius: float):
    polygons = np.asarray(communities.geometry.to_crs(network.metric_crs).values)
    points = candidate_sites(polygons)
    demand = polygons[~community_coverage(communities, paths, radius)["served_within_radius"].to_numpy()]
    set_points = np.asarray(paths.geometry.to_crs(network.metric_crs).values)
    set_nodes = np.unique(network.nearest_nodes(set_points)[0])
    return polygons, points, demand, set_nodes


def _compare(ours: np.ndarray, theirs: np.ndarray) -> dict:
    both = np.isfinite(ours) & np.isfinite(theirs)
    return {
        "found": int(np.isfinite(ours).sum()),
        "found_by_one_only": int((np.isfinite(ours) != np.isfinite(theirs)).sum()),
        "max_error_m": round(float(np.abs(ours[both] - theirs[both]).max()), 6) if both.any() else 0.0,
    }


def _same_pairs(ours, theirs) -> dict:
    a = set(zip(ours[0].tolist(), ours[1].tolist(), strict=True))
    b = set(zip(theirs[0].tolist(), theirs[1].tolist(), strict=True))
    return {"pairs": len(a), "only_ours": len(a - b), "only_pandana": len(b - a)}


def _run_child(engine: str, size: int, far_m: float, timeout_s: float | None = None) -> dict | None:
    """``child(engine, size)`` in a fresh process; None if it did not finish within ``timeout_s``."""
    command = [sys.executable, __file__, "--child", engine, "--sizes", str(size), "--far", str(far_m)]
    try:
        done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout)


def measure(size: int, runs: int, radius: float, far_m: float, every: bool, ch_timeout_s: float) -> dict:
    """The figures of one generated city of ``size`` communities (see the module doc). pandana's build is tried
    first in a fresh process: if it does not finish within ``ch_timeout_s``, only ours is timed."""
    communities, paths, roads = _city(size)
    metric = metric_crs_for(communities)
    build_s, network = timed(runs, lambda: WalkNetwork.from_roads(roads, metric))
    probe = _run_child("ch", size, far_m, ch_timeout_s)
    if probe is None:
        polygons, points, demand, set_nodes = _inputs(communities, paths, network, radius)
        zero = np.zeros(set_nodes.size)
        return {
            "communities": size,
            "nodes": int(len(network.nodes_m)),
            "edges": int(network.graph.nnz // 2),
            "build_ours_s": build_s,
            "build_pandana_ch_s": f"not finished in {ch_timeout_s:.0f} s",
            "nearest_far_ours_s": timed(runs, lambda: network.distances_from(set_nodes, zero, far_m + 1e-3))[0],
            "nearest_set_app_s": timed(runs, lambda: walking_distance_to_nearest_set(communities, paths, network))[0],
            "pairs_plan_ours_s": timed(runs, lambda: coverage_pairs_on_foot(network, points, demand, radius))[0],
        }
    ch_s, net = timed(runs, lambda: pandana_network(network))
    metre_s, metre_net = timed(1, lambda: pandana_network(network, 1.0))
    polygons, points, demand, set_nodes = _inputs(communities, paths, network, radius)
    zero = np.zeros(set_nodes.size)
    row = {
        "communities": size,
        "nodes": int(len(network.nodes_m)),
        "edges": int(network.graph.nnz // 2),
        "sets": int(set_nodes.size),
        "build_ours_s": build_s,
        "build_pandana_ch_s": ch_s,
        "build_pandana_ch_metre_s": metre_s,
    }
    access = network.access(polygons)
    for name, distance in (("radius", radius), ("far", far_m)):
        ours_s, ours = timed(runs, lambda d=distance: network.distances_from(set_nodes, zero, d + 1e-3))
        theirs_s, theirs = timed(runs, lambda d=distance: pandana_nearest(net, network, set_nodes, d))
        row[f"nearest_{name}_m"] = distance
        row[f"nearest_{name}_ours_s"] = ours_s
        row[f"nearest_{name}_pandana_s"] = theirs_s
        row[f"nearest_{name}_nodes"] = _compare(ours, theirs)
        row[f"nearest_{name}_communities"] = _compare(
            access.distances(ours, len(polygons)), access.distances(theirs, len(polygons))
        )
        if name == "far":
            metre = pandana_nearest(metre_net, network, set_nodes, distance, 1.0)
            row["nearest_far_metre_nodes"] = _compare(ours, metre)
    row["nearest_set_app_s"], _ = timed(runs, lambda: walking_distance_to_nearest_set(communities, paths, network))
    cases = [("plan", demand)] + ([("every", polygons)] if every else [])
    for name, targets in cases:
        ours_s, ours = timed(runs, lambda t=targets: coverage_pairs_on_foot(network, points, t, radius))
        theirs_s, theirs = timed(runs, lambda t=targets: pandana_pairs(net, network, points, t, radius))
        row[f"pairs_{name}_targets"] = int(len(targets))
        row[f"pairs_{name}_ours_s"] = ours_s
        row[f"pairs_{name}_pandana_s"] = theirs_s
        row[f"pairs_{name}_same"] = _same_pairs(ours, theirs)
    return row


def child(engine: str, size: int, radius: float, far_m: float) -> dict:
    """One engine's work in this fresh process, and its peak RSS (MB) before and after it."""
    communities, paths, roads = _city(size)
    network = WalkNetwork.from_roads(roads, metric_crs_for(communities))
    if engine == "ch":
        before = rss_mb()
        start = time.perf_counter()
        pandana_network(network)
        return {
            "build_pandana_ch_s": round(time.perf_counter() - start, 3),
            "peak_rss_before_mb": before,
            "peak_rss_mb": rss_mb(),
        }
    _, points, demand, set_nodes = _inputs(communities, paths, network, radius)
    zero = np.zeros(set_nodes.size)
    before = rss_mb()
    if engine == "scipy":
        network.distances_from(set_nodes, zero, far_m + 1e-3)
        coverage_pairs_on_foot(network, points, demand, radius)
    else:
        net = pandana_network(network)
        after_build = rss_mb()
        pandana_nearest(net, network, set_nodes, far_m)
        pandana_pairs(net, network, points, demand, radius)
    result = {"engine": engine, "communities": size, "peak_rss_before_mb": before, "peak_rss_mb": rss_mb()}
    if engine == "pandana":
        result["peak_rss_after_ch_mb"] = after_build
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2500,100000", help="city sizes; empty: none")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--far", type=float, default=2000.0, help="the longer nearest-set search (m)")
    parser.add_argument("--every-sizes", default="2500", help="sizes that also time every community's pairs")
    parser.add_argument("--ch-timeout", type=float, default=900.0, help="give up pandana's build after this (s)")
    parser.add_argument("--child", choices=["scipy", "pandana", "ch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    _quiet_stdout()
    radius = load_config().walk_radius_m
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.child:
        say(child(args.child, sizes[0], radius, args.far))
        return
    every = {int(s) for s in args.every_sizes.split(",") if s}
    results = []
    for size in sizes:
        row = measure(size, args.runs, radius, args.far, size in every, args.ch_timeout)
        if not isinstance(row["build_pandana_ch_s"], str):
            for engine in ("scipy", "pandana"):
                row[f"memory_{engine}"] = _run_child(engine, size, args.far)
        results.append(row)
        say(row)
    say(results)


if __name__ == "__main__":
    main()
