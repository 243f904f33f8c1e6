"""Benchmark the analysis pipeline: load + coverage + eligibility + priority, by city size.

Run: ``.venv/bin/python benchmarks/bench_pipeline.py [--sizes 2500,10000,100000,1000000] [--runs 3]``
Cities other than the bundled sample are generated (with proportionate fitness paths) and
written to a temporary GeoPackage first. Each measurement runs in a fresh process and reports
seconds per stage and the process's peak resident memory. Prints a line per size and, last,
one JSON line with the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from geo.config import BOUNDARIES_PATH, DEFAULT_DATA_PATH, load_config
from geo.data.io import read_districts, write_layers
from geo.data.sample import generate_sample
from geo.pipeline import coverage_report, load_city
from geo.plan import score_covered


def measure_once(path: Path, radius: float) -> dict:
    """Seconds per stage, and peak memory (MB) of this process."""
    import resource

    config = load_config()
    start = time.perf_counter()
    city = load_city(path)
    loaded = time.perf_counter()
    report = coverage_report(city, radius)
    covered = time.perf_counter()
    score_covered(report.communities, config, city.applications)
    scored = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "fitness_paths": len(city.fitness_paths),
        "load_s": loaded - start,
        "coverage_s": covered - loaded,
        "eligibility_priority_s": scored - covered,
        "total_s": scored - start,
        "peak_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2500,10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "RADIUS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one measurement in a fresh process
        print(json.dumps(measure_once(Path(args.child[0]), float(args.child[1]))))
        return

    config = load_config()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            if size == config.sample_communities:
                path, generate_s = DEFAULT_DATA_PATH, None
            else:
                start = time.perf_counter()
                layers = generate_sample(read_districts(BOUNDARIES_PATH), n_communities=size, seed=config.sample_seed)
                generate_s = time.perf_counter() - start
                path = Path(tmp) / f"city_{size}.gpkg"
                write_layers(path, layers)
                del layers  # the parent keeps nothing large while the children measure
            runs = []
            for _ in range(args.runs):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), str(config.walk_radius_m)],
                    capture_output=True,
                    text=True,
                )
                if out.returncode != 0:
                    raise SystemExit(f"measurement of {size} communities failed: {out.stderr.strip().splitlines()[-1]}")
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            row = {"communities": size, "generate_s": None if generate_s is None else round(generate_s, 2)}
            row["fitness_paths"] = runs[0]["fitness_paths"]
            for key in ("load_s", "coverage_s", "eligibility_priority_s", "total_s", "peak_mb"):
                row[key] = round(statistics.median(r[key] for r in runs), 3)
            print(row, flush=True)
            results.append(row)
    print(json.dumps({"benchmark": "pipeline", "runs": args.runs, "results": results}))


if __name__ == "__main__":
    main()
