"""Roads from an OSM extract: GDAL's OSM driver (ours, geo.data.osm) against pyosmium and pyrosm.

Writes a street grid of ``--side`` × ``--side`` nodes as an ``.osm.pbf`` (with pyosmium's writer), a way
per street between neighbouring crossings (about 2·side² ways), every 7th a motorway, every 11th
``foot=no``, every 13th a bridge; then reads the roads with each reader in a fresh process: time to a
GeoDataFrame of LineStrings with highway/foot/access/bridge, and peak memory. Needs ``osmium`` and
``pyrosm`` (``benchmarks/requirements.txt``); a reader whose package is missing is reported as such.

    python benchmarks/bench_osm.py --sides 100,300 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def write_grid(path: Path, side: int) -> int:
    """An .osm.pbf street grid; returns the number of ways."""
    import osmium

    step = 0.0005  # about 50 m
    # Each crossing moved by up to ~10 m, as surveyed streets are: a perfectly regular grid delta-encodes to
    # almost nothing, and GDAL refuses a PBF block compressed more than ~100× (a guard against zip bombs).
    rng = np.random.default_rng(16)
    jitter = rng.uniform(-0.0001, 0.0001, size=(side, side, 2))
    writer = osmium.SimpleWriter(str(path))
    try:
        for i in range(side):
            for j in range(side):
                lon, lat = 109.4 + j * step + jitter[i, j, 0], 24.3 + i * step + jitter[i, j, 1]
                writer.add_node(osmium.osm.mutable.Node(id=i * side + j + 1, location=(lon, lat)))
        way_id = 1
        for i in range(side):
            for j in range(side):
                for di, dj in ((0, 1), (1, 0)):
                    if i + di >= side or j + dj >= side:
                        continue
                    tags = {"highway": "motorway" if way_id % 7 == 0 else "residential", "name": f"路{way_id}"}
                    if way_id % 11 == 0:
                        tags["foot"] = "no"
                    if way_id % 13 == 0:
                        tags["bridge"] = "yes"
                    nodes = [i * side + j + 1, (i + di) * side + j + dj + 1]
                    writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=nodes, tags=tags))
                    way_id += 1
    finally:
        writer.close()
    return way_id - 1


def read_gdal(path):
    from geo.data.osm import read_osm_roads

    return read_osm_roads(path)


def read_pyosmium(path):
    import geopandas as gpd
    import osmium
    import shapely

    rows, wkbs = [], []
    factory = osmium.geom.WKBFactory()
    for way in osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway")):
        tags = way.tags
        rows.append(
            (way.id, tags.get("name"), tags.get("highway"), tags.get("foot"), tags.get("access"), tags.get("bridge"))
        )
        wkbs.append(factory.create_linestring(way))
    frame = gpd.GeoDataFrame(
        rows,
        columns=["road_id", "name", "kind", "foot", "access", "bridge"],
        geometry=shapely.from_wkb(
            wkbs,
        )
        if wkbs
        else [],
        crs="EPSG:4326",
    )
    return frame


def read_pyrosm(path):
    from pyrosm import OSM

    return OSM(str(path)).get_network(network_type="all", extra_attributes=["foot", "access", "bridge"])


READERS = {"gdal": read_gdal, "pyosmium": read_pyosmium, "pyrosm": read_pyrosm}


def child(reader: str, path: str) -> None:
    """Run one reader and print its time and peak memory as JSON."""
    import resource

    start = time.perf_counter()
    frame = READERS[reader](path)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"reader": reader, "seconds": seconds, "rows": int(len(frame)), "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="100,300")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for side in (int(s) for s in args.sides.split(",")):
            path = Path(folder) / f"grid{side}.osm.pbf"
            ways = write_grid(path, side)
            for reader in READERS:
                runs = []
                for _ in range(args.runs):
                    # The project's root on PYTHONPATH: a throwaway venv with the other readers need not install it.
                    path_entries = [str(ROOT), os.environ.get("PYTHONPATH", "")]
                    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path_entries if p)}
                    command = [sys.executable, __file__, "--child", reader, str(path)]
                    done = subprocess.run(command, capture_output=True, text=True, env=env)
                    if done.returncode:
                        runs = [{"error": done.stderr.strip().splitlines()[-1]}]
                        break
                    runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
                row = {"ways": ways, "pbf_kb": round(path.stat().st_size / 1024), "reader": reader}
                if "error" in runs[0]:
                    row["error"] = runs[0]["error"]
                else:
                    row |= {
                        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
                        "rows": runs[0]["rows"],
                        "peak_mb": round(max(r["peak_mb"] for r in runs)),
                    }
                print(row, file=sys.stderr)
                results.append(row)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
