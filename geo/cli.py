"""Command line: ``python -m geo coverage|plan|eligibility|sample|import``; every error is one line, exit status 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from geo.config import BOUNDARIES_PATH, DEFAULT_CONFIG_PATH, DEFAULT_DATA_PATH, load_config
from geo.i18n import humanised, labelled, text

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

    plan = commands.add_parser("plan", help="budget plan: which communities get a set")
    plan.add_argument("--program", default="city,region", help="programme keys in order, e.g. city,region")
    plan.add_argument("--mode", choices=("rank", "optimal"), default="rank")
    plan.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH)
    plan.add_argument("--radius", type=float, default=None, help="walk radius in metres (default: config)")
    plan.add_argument("--budget", action="append", default=[], metavar="KEY=CNY",
                      help="override a programme's budget, e.g. --budget city=800000 (repeatable)")
    plan.add_argument("--time-limit", type=float, default=None, help="optimal mode: solver time limit in seconds")
    plan.add_argument("--out", type=Path, help="write the plan: .csv, .xlsx, .geojson or .gpkg")
    plan.add_argument("--json", action="store_true", help="print the programme summaries as JSON")
    plan.add_argument("--lang", choices=("zh", "en"), default="zh")

    eligibility = commands.add_parser("eligibility", help="which communities can get a set, and why not")
    eligibility.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH)
    eligibility.add_argument("--district", help="district code, e.g. 450202")
    eligibility.add_argument("--out", type=Path, help="write the list: .csv, .xlsx, .geojson or .gpkg")
    eligibility.add_argument("--lang", choices=("zh", "en"), default="zh")

    sample = commands.add_parser("sample", help="generate a synthetic city on Liuzhou's boundaries")
    sample.add_argument("--communities", type=int, default=None, help="number of communities (default: config)")
    sample.add_argument("--seed", type=int, default=None, help="random seed (default: config)")
    sample.add_argument("--boundaries", type=Path, default=BOUNDARIES_PATH)
    sample.add_argument("--out", type=Path, required=True, help="GeoPackage to write")

    template = commands.add_parser("template", help="write the district survey template (Excel)")
    template.add_argument("--out", type=Path, required=True, help="the .xlsx to write")
    template.add_argument("--lang", choices=("zh", "en"), default="zh")
    template.add_argument("--boundaries", type=Path, default=BOUNDARIES_PATH, help="districts offered in the drop-down")

    intake = commands.add_parser("import", help="import survey data: accepted rows to a GeoPackage, the others to a CSV")
    intake.add_argument("file", type=Path, help="GeoPackage, GeoJSON, zipped Shapefile, KML, CSV or XLSX")
    intake.add_argument("--layer", choices=("communities", "fitness_paths"), required=True)
    intake.add_argument("--crs", default=None,
                        help="coordinates without a CRS of their own: wgs84 (default), gcj02 (高德/腾讯), bd09 (百度) or EPSG:n")
    intake.add_argument("--out", type=Path, required=True, help="GeoPackage for the accepted rows (layer named as --layer)")
    intake.add_argument("--rejects", type=Path, required=True, help="CSV of the rejected rows with their reasons")
    intake.add_argument("--json", action="store_true",
                        help='print {"input_rows", "accepted", "rejected", "repaired", "warnings"}')
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


def _check_out(path: Path | None) -> None:
    """Refuse an unsupported output format before any work is done."""
    from geo.export import SUPPORTED_SUFFIXES

    if path is not None and path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValueError(f"cannot write {path.name}: unsupported suffix; use one of {', '.join(SUPPORTED_SUFFIXES)}")


def _budgets(pairs: list[str]) -> dict[str, int]:
    budgets = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            budgets[key.strip()] = int(float(value))
        except ValueError:
            raise ValueError(f"--budget takes KEY=CNY, e.g. city=600000; got {pair!r}") from None
        if budgets[key.strip()] < 0:
            raise ValueError(f"--budget {pair}: a budget cannot be negative")
    return budgets


def run_plan_command(args, config) -> int:
    from dataclasses import replace

    from geo.export import export
    from geo.pipeline import load_city
    from geo.plan import plan_parameters, plan_sheets, run_plan, with_overrides

    if args.radius is not None and args.radius <= 0:
        raise ValueError("--radius must be positive (metres)")
    config = with_overrides(config, walk_radius_m=args.radius, budgets=_budgets(args.budget))
    if args.time_limit is not None:
        config = replace(config, optimal_time_limit_s=args.time_limit)
    _check_out(args.out)
    keys = [k.strip() for k in args.program.split(",") if k.strip()]
    city = load_city(args.data)
    plan = run_plan(city.communities, city.fitness_paths, config, keys, args.mode, city.applications)
    if args.out:
        export(plan_sheets(plan, args.lang), args.out, lang=args.lang, parameters=plan_parameters(plan, config, args.data))
    if args.json:
        print(json.dumps({"data": str(args.data), "walk_radius_m": config.walk_radius_m, "programs": plan.summaries(),
                          "out": str(args.out) if args.out else None}, ensure_ascii=False, indent=2))
        return 0
    for outcome in plan.outcomes:
        summary = outcome.summary()
        gap = "" if summary["optimality_gap"] is None else f", gap {summary['optimality_gap']:.2%}"
        print(f"{outcome.program.name(args.lang)} [{summary['mode']}{gap}]: {summary['sets']} sets, "
              f"CNY {summary['spent_cny']:,.0f} of {summary['budget_cny']:,}, "
              f"{summary['population_newly_served']:,} residents newly served")
        for message in summary["messages"]:
            print(f"  ! {message}")
        columns = ["rank", "community_id", "name", "district_name", "priority_score", "cost_cny", "population_newly_served"]
        table = outcome.selected[columns].copy()
        table["priority_score"] = table["priority_score"].round(1)
        print(labelled(table, args.lang).to_string(index=False))
    if args.out:
        print(f"wrote {args.out}")
    return 0


ELIGIBILITY_COLUMNS = (
    "community_id", "name", "district_code", "district_name", "eligible", "reason_text", "missing_fields",
    "applied", "application_date", "needs_land_solution", "open_space_m2", "public_space_used_for_parking",
    "served_inside", "nearest_set_m", "population", "built_year",
)


def run_eligibility(args, config) -> int:
    from geo.eligibility import reason_labels
    from geo.export import export
    from geo.pipeline import load_city
    from geo.plan import score_communities

    _check_out(args.out)
    city = load_city(args.data)
    scored = score_communities(city.communities, city.fitness_paths, config, city.applications)
    if args.district:
        known = set(city.districts["district_code"])
        if args.district not in known:
            raise ValueError(f"unknown district code {args.district}; known: {', '.join(sorted(known))}")
        scored = scored[scored["district_code"] == args.district]
    scored = scored.assign(reason_text=reason_labels(scored["reasons"], args.lang))
    table = scored[list(ELIGIBILITY_COLUMNS) + ["geometry"]].reset_index(drop=True)
    if args.out:
        export(table, args.out, lang=args.lang, parameters={"district": args.district or "all", "data_file": str(args.data)})
        print(f"wrote {args.out}: {len(table)} communities, {int(table['eligible'].sum())} eligible")
        return 0
    shown = table[["community_id", "name", "district_name", "eligible", "reason_text", "applied"]]
    print(humanised(pd.DataFrame(shown), args.lang).to_string(index=False))
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


def run_template(args, config) -> int:
    from geo.io import read_districts
    from geo.template import write_survey_template

    if args.out.suffix.lower() != ".xlsx":
        raise ValueError(f"--out {args.out.name}: the template is an Excel file; name it .xlsx")
    write_survey_template(args.out, read_districts(args.boundaries), lang=args.lang)
    print(f"wrote {args.out}")
    return 0


def run_import(args, config) -> int:
    from geo.intake import import_file, write_accepted, write_rejects

    if args.out.suffix.lower() != ".gpkg":
        raise ValueError(f"--out {args.out.name}: accepted rows are written to a GeoPackage; name it .gpkg")
    if args.rejects.suffix.lower() != ".csv":
        raise ValueError(f"--rejects {args.rejects.name}: rejected rows are written to a CSV; name it .csv")
    try:
        result = import_file(args.file, args.layer, args.crs, config)
    except (ValueError, OSError):
        raise
    except Exception as error:  # a file no reader foresaw must still end in one line, not a traceback
        raise ValueError(f"cannot import {args.file}: {' '.join(str(error).split()) or type(error).__name__}") from None
    write_accepted(result, args.out)
    write_rejects(result, args.rejects)
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False, indent=2))
        return 0
    summary = result.summary()
    print(f"{args.file}: {summary['input_rows']} rows, {summary['accepted']} accepted, "
          f"{summary['rejected']} rejected, {summary['repaired']} repaired")
    for warning in summary["warnings"]:
        print(f"  ! {warning}")
    print(f"wrote {args.out} (layer {args.layer}) and {args.rejects}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
        commands = {"coverage": run_coverage, "plan": run_plan_command, "eligibility": run_eligibility, "sample": run_sample,
                    "import": run_import, "template": run_template}
        return commands[args.command](args, config)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
