"""Command line: ``python -m geo coverage|sample``; every error is one line and exit status 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.config import BOUNDARIES_PATH, DEFAULT_CONFIG_PATH, DEFAULT_DATA_PATH, load_config
from geo.i18n import column_label, labelled, text

SUMMARY_COLUMNS = (
    "district_code", "district_name", "communities", "served_inside", "served_within_radius",
    "population", "population_served_inside", "population_served_within_radius",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geo", description="健身路径规划 / fitness-path planner")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="configuration file (config.toml)")
    commands = parser.add_subparsers(dest="command", required=True)

    coverage = commands.add_parser("coverage", help="coverage summary per district")
    coverage.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH, help="GeoPackage with the three layers")
    coverage.add_argument("--radius", type=float, default=None, help="walk radius in metres (default: config)")
    coverage.add_argument("--json", action="store_true", help="print one JSON object")
    coverage.add_argument("--lang", choices=("zh", "en"), default="zh")

    sample = commands.add_parser("sample", help="generate a synthetic city on Liuzhou's boundaries")
    sample.add_argument("--communities", type=int, default=None, help="number of communities (default: config)")
    sample.add_argument("--seed", type=int, default=None, help="random seed (default: config)")
    sample.add_argument("--boundaries", type=Path, default=BOUNDARIES_PATH)
    sample.add_argument("--out", type=Path, required=True, help="GeoPackage to write")
    return parser


def run_coverage(args, config) -> int:
    from geo.pipeline import coverage_report, load_city

    radius = config.walk_radius_m if args.radius is None else args.radius
    if radius < 0:
        raise ValueError("--radius must be ≥ 0 metres")
    report = coverage_report(load_city(args.data), radius)
    rows = report.by_district[list(SUMMARY_COLUMNS)]
    if args.json:
        out = {
            "data": str(args.data),
            "walk_radius_m": radius,
            "districts": [
                {k: (int(v) if k not in ("district_code", "district_name") else str(v)) for k, v in row.items()}
                for row in rows.to_dict(orient="records")
            ],
            "total": report.total,
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    table = rows.copy()
    total_row = {"district_code": "", "district_name": text("city_total", args.lang)}
    total_row.update({k: report.total[k] for k in SUMMARY_COLUMNS[2:]})
    table.loc[len(table)] = total_row
    table["share_served_within_radius"] = (table["served_within_radius"] / table["communities"].where(table["communities"] > 0)).map(
        lambda v: "" if v != v else f"{v:.1%}"
    )
    print(f"{text('walk_radius', args.lang)}: {radius:g} m")
    print(labelled(table, args.lang).to_string(index=False))
    return 0


def run_sample(args, config) -> int:
    from geo.io import read_districts, write_layers
    from geo.sample import generate_sample

    n = config.sample_communities if args.communities is None else args.communities
    seed = config.sample_seed if args.seed is None else args.seed
    layers = generate_sample(read_districts(args.boundaries), n_communities=n, seed=seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_layers(args.out, layers)
    counts = ", ".join(f"{name} {len(frame)}" for name, frame in layers.items())
    print(f"wrote {args.out}: {counts}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
        return {"coverage": run_coverage, "sample": run_sample}[args.command](args, config)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
