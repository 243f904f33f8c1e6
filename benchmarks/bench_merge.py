"""Benchmark merging a district return into the city: ``geo.intake.assemble.assemble_city`` in merge mode.

Run: ``.venv/bin/python benchmarks/bench_merge.py [--sizes 2500,20000,50000] [--runs 3]``

The city is the bundled sample (2,500 communities). The return holds ``size`` new communities
without IDs, taken from a generated city of that size (sample's seed), so each row is matched by
name and place against the city and the rest of the return; the app runs this once per upload,
in its bounded child process. Each measurement runs in a fresh process; prints a line per size
and, last, one JSON line with the medians (seconds, peak MB).
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


def measure_once(returned: Path) -> dict:
    """Seconds to assemble, and this process's peak memory (MB)."""
    import resource

    from geo.intake.assemble import assemble_city
    from geo.pipeline import load_city

    city = load_city(DEFAULT_DATA_PATH)
    rows = load_city(returned).communities.assign(community_id=None)
    start = time.perf_counter()
    result = assemble_city(city, rows, "merge")
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 2), "peak_mb": round(peak_mb), "communities_after": len(result.communities)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2500,20000,50000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_once(Path(args.child))))
        return
    config = load_config()
    districts = read_districts(BOUNDARIES_PATH)
    medians = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(folder) / f"return_{size}.gpkg"
            sample = generate_sample(districts, n_communities=size, seed=config.sample_seed)
            write_layers(path, sample)
            runs = [
                json.loads(
                    subprocess.run(
                        [sys.executable, __file__, "--child", str(path)], check=True, capture_output=True, text=True
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                for _ in range(args.runs)
            ]
            medians[size] = {key: statistics.median(run[key] for run in runs) for key in ("seconds", "peak_mb")}
            print(
                f"{size:>7,} rows: {medians[size]['seconds']:.2f} s, {medians[size]['peak_mb']:.0f} MB "
                f"(runs: {[run['seconds'] for run in runs]})"
            )
    print(json.dumps({"merge": medians}))


if __name__ == "__main__":
    main()
