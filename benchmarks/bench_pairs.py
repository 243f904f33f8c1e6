"""Benchmark the bounded coverage relation (``geo.analysis.coverage.coverage_pairs`` with ``max_pairs``).

Three measurements, each in fresh processes, peak memory read from the child's own VmHWM:

* ``relation`` — the batched relation against the one-query version it replaced (kept below as
  ``unbatched_pairs``), every site with every community, no limit: seconds, and the two must
  give the same pairs (a hash of both arrays is compared).
* ``pipeline`` — what the app and the CLI run, at the configured limit: coverage, eligibility +
  priority, a rank plan and an optimal plan for ``city,region`` (``geo.plan``), on a generated
  city with its sets or with none (``--no-sets``: a city's first survey, every community demand).
* ``dense`` — the reproduction from issue 10: N communities within 100 m of each other (100 m
  squares, no sets), through the same pipeline: seconds and memory until the refusal.

Run::

    .venv/bin/python benchmarks/bench_pairs.py relation --runs 3
    .venv/bin/python benchmarks/bench_pairs.py pipeline --city 50000:1100 --city 200000:260 --no-sets --runs 3
    .venv/bin/python benchmarks/bench_pairs.py dense --sizes 8000,16000 --runs 3

Cities are made with ``python -m geo sample --communities N`` into ``--cities-dir`` (kept for
the next run) or a temporary folder. Prints a line per measurement and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SAMPLE = REPO / "data" / "liuzhou_sample.gpkg"
RELATION_CASES = ("sample:500", "sample:5000", "50000:500", "50000:1000", "200000:500")


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM, MB): its own, not the parent's it was forked from."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def unbatched_pairs(sites_m, polygons_m, walk_radius_m):
    """``coverage_pairs`` as it was before the limit: one query for all sites, then one sort."""
    import numpy as np
    import shapely

    from geo.analysis.coverage import RADIUS_TOLERANCE_M

    tree = shapely.STRtree(polygons_m)
    site_idx, polygon_idx = tree.query(sites_m, predicate="dwithin", distance=walk_radius_m + RADIUS_TOLERANCE_M)
    order = np.lexsort((polygon_idx, site_idx))
    return site_idx[order], polygon_idx[order]


# --------------------------------------------------------------------------- children


def child_relation(path: str, radius: float, which: str) -> dict:
    import numpy as np

    from geo.analysis.coverage import candidate_sites, coverage_pairs
    from geo.data.crs import metric_crs_for
    from geo.pipeline import load_city

    communities = load_city(path).communities
    polygons = np.asarray(communities.geometry.to_crs(metric_crs_for(communities)).values)
    sites = candidate_sites(polygons)
    before = peak_mb()
    start = time.perf_counter()
    site_idx, polygon_idx = (coverage_pairs if which == "batched" else unbatched_pairs)(sites, polygons, radius)
    seconds = time.perf_counter() - start
    peak = peak_mb()  # before hashing, which must not count
    digest = hashlib.sha256()
    for array in (site_idx, polygon_idx):
        digest.update(np.ascontiguousarray(array, dtype=np.int64).data)
    return {
        "seconds": seconds,
        "pairs": int(site_idx.size),
        "sha256": digest.hexdigest(),
        "peak_mb": peak,
        "peak_before_mb": before,
    }


def dense_communities(n: int):
    """``n`` communities (the sample's rows, cycled, new IDs) as 100 m squares whose centres lie
    within 50 m of one point in Liuzhou: every pair of them is within 100 m."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from geo.pipeline import load_city

    sample = load_city(SAMPLE)
    rows = sample.communities.iloc[np.arange(n) % len(sample.communities)].reset_index(drop=True)
    rows["community_id"] = [f"DENSE{i:06d}" for i in range(n)]
    rng = np.random.default_rng(0)
    angle, distance = rng.uniform(0, 2 * np.pi, n), 50 * np.sqrt(rng.uniform(0, 1, n))
    x, y = distance * np.cos(angle), distance * np.sin(angle)
    utm = "EPSG:32649"
    centre = gpd.GeoSeries(gpd.points_from_xy([109.41], [24.33]), crs="EPSG:4326").to_crs(utm).iloc[0]
    squares = shapely.box(centre.x + x - 50, centre.y + y - 50, centre.x + x + 50, centre.y + y + 50)
    communities = gpd.GeoDataFrame(
        rows.drop(columns="geometry"),
        geometry=gpd.GeoSeries(squares, crs=utm).to_crs("EPSG:4326").values,
        crs="EPSG:4326",
    )
    return sample, communities


def child_pipeline(path: str, radius: float, no_sets: bool, dense: int, count_only: bool) -> dict:

    from geo.analysis import coverage
    from geo.analysis.coverage import PairLimitError, community_coverage
    from geo.config import load_config, with_overrides
    from geo.optimize.allocate import CoverageProblem
    from geo.pipeline import load_city
    from geo.plan import run_plan, score_covered

    if count_only:  # no refusal from the lower bound: the limit is found by counting
        coverage._fewest_pairs = lambda *args: 0
    config = with_overrides(load_config(), walk_radius_m=radius)
    if dense:
        city, communities = dense_communities(dense)
        paths, applications = city.fitness_paths.iloc[:0], None
    else:
        city = load_city(path)
        communities, applications = city.communities, city.applications
        paths = city.fitness_paths.iloc[:0] if no_sets else city.fitness_paths
    result = {
        "communities": len(communities),
        "fitness_paths": len(paths),
        "max_pairs": config.max_pairs,
        "base_mb": peak_mb(),
    }
    start = time.perf_counter()
    stage = start
    try:
        covered = community_coverage(communities, paths, radius)
        result["coverage_s"], stage = time.perf_counter() - stage, time.perf_counter()
        result["unserved"] = int((~covered["served_within_radius"]).sum())
        scored = score_covered(covered, config, applications)
        result["eligibility_priority_s"], stage = time.perf_counter() - stage, time.perf_counter()
        result["peak_after_priority_mb"] = peak_mb()
        result["eligible"] = int(scored["eligible"].sum())
        for mode in ("rank", "optimal"):
            plan = run_plan(communities, paths, config, ["city", "region"], mode, applications, covered=covered)
            result[f"{mode}_plan_s"], stage = time.perf_counter() - stage, time.perf_counter()
            result[f"peak_after_{mode}_mb"] = peak_mb()
            result[f"{mode}_summaries"] = [
                {
                    k: s[k]
                    for k in ("program", "sets", "population_newly_served", "optimality_gap", "solve_seconds", "status")
                }
                for s in plan.summaries()
            ]
        result["refused"] = None
    except PairLimitError as error:
        result["refused"] = str(error)
        result["refused_after_s"] = time.perf_counter() - start
    result["total_s"] = time.perf_counter() - start
    result["peak_mb"] = peak_mb()
    if result["refused"] is None:  # relation sizes, after the measurement (not timed, peak already read)
        from geo.analysis.coverage import candidate_sites, coverage_pairs
        from geo.data.crs import metric_crs_for

        polygons = covered.geometry.to_crs(metric_crs_for(covered)).values
        unserved = ~covered["served_within_radius"].to_numpy(bool)
        result["priority_pairs"] = int(coverage_pairs(candidate_sites(polygons), polygons[unserved], radius)[0].size)
        result["allocation_pairs"] = [
            int(CoverageProblem.from_scored(o.scored, radius, config.set_cost_cny).cover.nnz) for o in plan.outcomes
        ]
    return result


# --------------------------------------------------------------------------- parent


def city_file(size: str, folder: Path) -> Path:
    if size == "sample":
        return SAMPLE
    path = folder / f"city_{size}.gpkg"
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "geo", "sample", "--communities", size, "--out", str(path)],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
    return path


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=REPO, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed: {out.stderr.strip().splitlines()[-1]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict], key: str):
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=("relation", "pipeline", "dense"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", default=",".join(RELATION_CASES), help="relation: SIZE:RADIUS,…")
    parser.add_argument("--city", action="append", default=[], help="pipeline: SIZE:RADIUS (repeat)")
    parser.add_argument("--no-sets", action="store_true", help="pipeline: drop the fitness paths")
    parser.add_argument("--sizes", default="8000,16000", help="dense: communities")
    parser.add_argument("--count-only", action="store_true", help="dense: no refusal from the lower bound")
    parser.add_argument("--cities-dir", type=Path, default=None)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "relation":
            print(json.dumps(child_relation(rest[0], float(rest[1]), rest[2])))
        else:
            print(json.dumps(child_pipeline(rest[0], float(rest[1]), rest[2] == "1", int(rest[3]), rest[4] == "1")))
        return

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.cities_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.what == "relation":
            for case in args.cases.split(","):
                size, radius = case.split(":")
                path = city_file(size, folder)
                row = {"case": case}
                for which in ("unbatched", "batched"):  # alternate, so drift in the machine hits both
                    row[which] = []
                for _ in range(args.runs):
                    for which in ("unbatched", "batched"):
                        row[which].append(run_child("relation", str(path), radius, which))
                same = {r["sha256"] for r in row["unbatched"] + row["batched"]}
                summary = {"case": case, "pairs": row["batched"][0]["pairs"], "same_pairs": len(same) == 1}
                for which in ("unbatched", "batched"):
                    summary[f"{which}_s"] = median_of(row[which], "seconds")
                    summary[f"{which}_peak_mb"] = median_of(row[which], "peak_mb")
                    summary[f"{which}_base_mb"] = median_of(row[which], "peak_before_mb")
                    summary[f"{which}_runs_s"] = [round(r["seconds"], 3) for r in row[which]]
                print(summary, flush=True)
                results.append(summary)
        elif args.what == "pipeline":
            for case in args.city:
                size, radius = case.split(":")
                path = city_file(size, folder)
                runs = [
                    run_child("pipeline", str(path), radius, "1" if args.no_sets else "0", "0", "0")
                    for _ in range(args.runs)
                ]
                summary = {
                    "case": case,
                    "no_sets": args.no_sets,
                    **{k: v for k, v in runs[0].items() if not k.endswith(("_s", "_mb"))},
                }
                for key in runs[0]:
                    if key.endswith(("_s", "_mb")):
                        summary[key] = median_of(runs, key)
                print(summary, flush=True)
                results.append(summary)
        elif args.what == "dense":
            for size in args.sizes.split(","):
                runs = [
                    run_child("pipeline", "-", "500", "1", size, "1" if args.count_only else "0")
                    for _ in range(args.runs)
                ]
                summary = {"dense": int(size), "count_only": args.count_only, "refused": runs[0]["refused"]}
                for key in runs[0]:
                    if key.endswith(("_s", "_mb")):
                        summary[key] = median_of(runs, key)
                print(summary, flush=True)
                results.append(summary)
        else:
            parser.error("say what to measure: relation, pipeline or dense")
    print(json.dumps({"benchmark": f"pairs {args.what}", "runs": args.runs, "results": results}))


if __name__ == "__main__":
    main()
