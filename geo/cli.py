"""Command line: ``python -m geo coverage|plan|eligibility|sample|template|import``.

The contract (README, "What it does"): every error, including a mistyped argument and an
unexpected failure, is one line on stderr and exit status 2, never a traceback; ``--json`` output
is strict JSON (a missing or infinite number is ``null``, never ``NaN`` or ``Infinity``).
Numbers on the command line obey the same ranges as ``config.toml`` (:data:`geo.config.NUMERIC_KEYS`),
and an output file that cannot be written is refused before any work, naming the file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import tempfile
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from geo.config import (
    BOUNDARIES_PATH,
    BUDGET_RULE,
    DEFAULT_CONFIG_PATH,
    DEFAULT_DATA_PATH,
    MAX_WALK_RADIUS_M,
    NUMERIC_KEYS,
    WALK_RADIUS_RULE,
    Config,
    Rule,
    load_config,
    shown,
)
from geo.i18n import district_names, humanised, labelled, text, with_district_names

EXIT_ERROR = 2

SUMMARY_COLUMNS = (
    "district_code",
    "district_name",
    "communities",
    "served_inside",
    "served_within_radius",
    "population",
    "population_served_inside",
    "population_served_within_radius",
)


def one_line(message: str) -> str:
    """``message`` on one line: control, line-break and invisible format characters shown as escapes.

    A file name or a cell quoted in an error may hold a newline or a terminal escape sequence;
    printed as ``\\n`` or ``\\x1b`` it can neither split the line nor act on the terminal.
    """
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c
        for c in message
    )


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message: str):
        self.exit(EXIT_ERROR, f"error: {one_line(message)} (see: {self.prog} --help)\n")


def parsed_number(text_value: str) -> int | float | None:
    """``text_value`` read exactly as a number: an ``int`` when it is whole (``800000``, ``8e5``,
    ``800000.0``), else a ``float``; None when it is not a finite number.

    Read as a decimal first, so ``999999999999.99999`` is not rounded into a whole number; a
    magnitude of 10**18 or more comes back as a float (out of every range, and no billion-digit
    integer is ever built from ``1e999999999``).
    """
    try:
        number = Decimal(text_value.strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    if number.adjusted() >= 18:  # the exponent alone: abs() would overflow the decimal context
        return float(number)
    return int(number) if number == number.to_integral_value() else float(number)


def ruled(rule: Rule):
    """An argparse type: a number that ``rule`` accepts; the message says ``rule.allowed``."""

    def number(text_value: str) -> int | float:
        value = parsed_number(text_value)
        whole_ok = isinstance(value, int) or not rule.whole  # 999999999999.99999 is a float that rounds to whole
        if value is None or not whole_ok or not math.isfinite(value) or not rule.accepts(value):
            raise argparse.ArgumentTypeError(f"must be {rule.allowed}, got {shown(text_value)}")
        return int(value) if rule.whole else float(value)

    number.__name__ = "number"  # argparse names the type in "invalid <name> value" messages
    return number


def json_safe(value):
    """``value`` ready for strict JSON: NaN and ±inf (Python or NumPy) become None, NumPy scalars plain.

    Dicts, lists and tuples are converted recursively; anything else is returned unchanged (and
    ``json.dumps`` refuses it if it is not JSON).
    """
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def print_json(document) -> None:
    """Print ``document`` as strict JSON (UTF-8, indented); a non-finite number is printed as null."""
    print(json.dumps(json_safe(document), ensure_ascii=False, indent=2, allow_nan=False))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m geo", description="健身路径规划 / fitness-path planner")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="configuration file (config.toml)")
    commands = parser.add_subparsers(dest="command", required=True)

    coverage = commands.add_parser("coverage", help="coverage summary per district")
    coverage.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH, help="GeoPackage with the three layers")
    coverage.add_argument(
        "--radius",
        type=ruled(WALK_RADIUS_RULE),
        default=None,
        help=f"walk radius in metres, > 0 and ≤ {MAX_WALK_RADIUS_M:,} (default: config)",
    )
    coverage.add_argument("--json", action="store_true", help="print one JSON object")
    coverage.add_argument("--lang", choices=("zh", "en"), default="zh")

    plan = commands.add_parser("plan", help="budget plan: which communities get a set")
    plan.add_argument(
        "--program",
        default=None,
        help="programme keys in order, e.g. city,region (default: every [[programs]] of the config, in order)",
    )
    plan.add_argument("--mode", choices=("rank", "optimal"), default="rank")
    plan.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH)
    plan.add_argument(
        "--radius",
        type=ruled(WALK_RADIUS_RULE),
        default=None,
        help=f"walk radius in metres, > 0 and ≤ {MAX_WALK_RADIUS_M:,} (default: config)",
    )
    plan.add_argument(
        "--budget",
        action="append",
        default=[],
        metavar="KEY=CNY",
        help="override a programme's budget, e.g. --budget city=800000 (repeatable)",
    )
    plan.add_argument(
        "--time-limit",
        type=ruled(NUMERIC_KEYS["optimal.time_limit_s"][1]),
        default=None,
        help="optimal mode: solver time limit in seconds",
    )
    plan.add_argument("--out", type=Path, help="write the plan: .csv, .xlsx, .geojson or .gpkg")
    plan.add_argument("--json", action="store_true", help="print the programme summaries as JSON")
    plan.add_argument("--lang", choices=("zh", "en"), default="zh")

    eligibility = commands.add_parser("eligibility", help="which communities can get a set, and why not")
    eligibility.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH)
    eligibility.add_argument("--district", help="district code, e.g. 450202")
    eligibility.add_argument("--out", type=Path, help="write the list: .csv, .xlsx, .geojson or .gpkg")
    eligibility.add_argument("--lang", choices=("zh", "en"), default="zh")

    sample = commands.add_parser("sample", help="generate a synthetic city on Liuzhou's boundaries")
    sample.add_argument(
        "--communities",
        type=ruled(NUMERIC_KEYS["sample.communities"][1]),
        default=None,
        help="number of communities (default: config)",
    )
    sample.add_argument(
        "--seed", type=ruled(NUMERIC_KEYS["sample.seed"][1]), default=None, help="random seed, ≥ 0 (default: config)"
    )
    sample.add_argument("--boundaries", type=Path, default=BOUNDARIES_PATH)
    sample.add_argument("--out", type=Path, required=True, help="GeoPackage to write")

    template = commands.add_parser("template", help="write the district survey template (Excel)")
    template.add_argument("--out", type=Path, required=True, help="the .xlsx to write")
    template.add_argument("--lang", choices=("zh", "en"), default="zh")
    template.add_argument("--boundaries", type=Path, default=BOUNDARIES_PATH, help="districts offered in the drop-down")

    intake = commands.add_parser(
        "import", help="import survey data: accepted rows to a GeoPackage, the others to a CSV"
    )
    intake.add_argument("file", type=Path, help="GeoPackage, GeoJSON, zipped Shapefile, KML, CSV or XLSX")
    intake.add_argument("--layer", choices=("communities", "fitness_paths"), required=True)
    intake.add_argument(
        "--crs",
        default=None,
        help="coordinates without a CRS of their own: wgs84 (default), gcj02 (高德/腾讯), bd09 (百度) or EPSG:n",
    )
    intake.add_argument(
        "--out", type=Path, required=True, help="GeoPackage for the accepted rows (layer named as --layer)"
    )
    intake.add_argument("--rejects", type=Path, required=True, help="CSV of the rejected rows with their reasons")
    intake.add_argument(
        "--json", action="store_true", help='print {"input_rows", "accepted", "rejected", "repaired", "warnings"}'
    )
    return parser


def run_coverage(args, config) -> int:
    from geo.pipeline import coverage_report, load_city

    radius = config.walk_radius_m if args.radius is None else args.radius
    report_city = load_city(args.data)
    report = coverage_report(report_city, radius)
    rows = report.by_district[list(SUMMARY_COLUMNS)]
    if args.json:
        print_json(
            {
                "data": str(args.data),
                "walk_radius_m": radius,
                "districts": [
                    {k: (str(v) if k in ("district_code", "district_name") else v) for k, v in row.items()}
                    for row in rows.to_dict(orient="records")
                ],
                "total": report.total,
            }
        )
        return 0
    table = with_district_names(rows, district_names(report_city.districts, args.lang))
    total_row = {"district_code": "", "district_name": text("city_total", args.lang)}
    total_row.update({k: report.total[k] for k in SUMMARY_COLUMNS[2:]})
    table.loc[len(table)] = total_row
    table["share_served_within_radius"] = (
        table["served_within_radius"] / table["communities"].where(table["communities"] > 0)
    ).map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
    print(f"{text('walk_radius', args.lang)}: {radius:g} m")
    print(labelled(table, args.lang).to_string(index=False))
    return 0


def writable(path: Path, option: str = "--out") -> None:
    """Refuse an output path that cannot be written, before any work is done.

    The writers of :mod:`geo.render.export` and :func:`geo.data.io.write_layers` stage the file in a hidden
    folder ``.<stem>-XXXXXXXX`` next to it; the same is tried here (and removed), so a folder
    that does not exist or refuses files, a name too long, or a path that is a folder is named
    now, as ``cannot write <path>: <reason>``, never with a temporary name.
    """
    try:
        if path.is_dir():
            raise ValueError(f"cannot write {path}: it is a folder; give {option} a file name inside it")
        if not path.parent.is_dir():
            raise ValueError(f"cannot write {path}: folder {path.parent} does not exist; create it first")
        with tempfile.TemporaryDirectory(prefix=f".{path.stem}-", dir=path.parent) as probe:
            (Path(probe) / path.name).touch()
    except OSError as error:  # also from is_dir(): a name too long for the file system
        raise ValueError(
            f"cannot write {path}: {error.strerror or 'refused'}; choose another folder or a shorter name"
        ) from None


@contextlib.contextmanager
def writing(path: Path):
    """Turn a failure while writing ``path`` (disk full, a file locked by Excel …) into one line naming it.

    The reason is the system's own (``No space left on device``) without the file name it
    carries, which may be the temporary one; GDAL's messages have their paths replaced by the
    file's name.
    """
    try:
        yield
    except OSError as error:
        raise ValueError(f"cannot write {path}: {error.strerror or _without_paths(str(error), path)}") from None
    except RuntimeError as error:
        if not type(error).__module__.startswith("pyogrio"):
            raise
        raise ValueError(f"cannot write {path}: {_without_paths(str(error), path)}") from None


def _without_paths(message: str, path: Path) -> str:
    """``message`` with every absolute path in it (a ``/`` that starts a word) replaced by ``path``'s name."""
    return (
        re.sub(rf"(?<![^\s('\"]){re.escape(os.sep)}[^\s(),;:'\"]*", path.name, " ".join(message.split())) or "refused"
    )


def _check_out(path: Path | None) -> None:
    """Refuse an unsupported output format or an unwritable path before any work is done."""
    from geo.render.export import SUPPORTED_SUFFIXES

    if path is None:
        return
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValueError(f"cannot write {path.name}: unsupported suffix; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    writable(path)


def budgets_from_args(pairs: list[str], config: Config) -> dict[str, int]:
    """``--budget KEY=CNY`` pairs as ``{key: yuan}``: known programme keys, whole yuan within
    :data:`geo.config.BUDGET_RULE` (the range of ``budget_cny`` in config.toml), each key once."""
    known = [p.key for p in config.programs]
    budgets: dict[str, int] = {}
    for pair in pairs:
        key, equals, value = (part.strip() for part in pair.partition("="))
        if not equals or not key or not value:
            raise ValueError(f"--budget takes KEY=CNY, e.g. city=600000; got {shown(pair)}")
        if key not in known:
            raise ValueError(
                f"--budget {shown(pair)}: unknown budget program {shown(key)}; config.toml defines: {', '.join(known)}"
            )
        if key in budgets:
            raise ValueError(f"--budget {key} is given twice; give each programme's budget once")
        cny = parsed_number(value)
        if not isinstance(cny, int) or not BUDGET_RULE.accepts(cny):
            raise ValueError(f"--budget takes KEY=CNY, CNY {BUDGET_RULE.allowed}, e.g. {key}=600000; got {shown(pair)}")
        budgets[key] = int(cny)
    return budgets


def program_keys(text_value: str) -> list[str]:
    """``--program city,region`` as a list of keys; a key named twice is refused (it would spend twice)."""
    keys = [k.strip() for k in text_value.split(",") if k.strip()]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise ValueError(f"--program names {shown(key)} twice; name each programme once, e.g. city,region")
    return keys


def run_plan_command(args, config) -> int:
    from dataclasses import replace

    from geo.config import with_overrides
    from geo.pipeline import load_city
    from geo.plan import plan_sheets, run_plan
    from geo.render.export import export
    from geo.render.provenance import plan_parameters

    config = with_overrides(config, walk_radius_m=args.radius, budgets=budgets_from_args(args.budget, config))
    if args.time_limit is not None:
        config = replace(config, optimal_time_limit_s=args.time_limit)
    keys = program_keys(args.program) if args.program is not None else [p.key for p in config.programs]
    _check_out(args.out)
    city = load_city(args.data)
    plan = run_plan(city.communities, city.fitness_paths, config, keys, args.mode, city.applications)
    if args.out:
        with writing(args.out):
            export(
                plan_sheets(plan, args.lang, city.districts),
                args.out,
                lang=args.lang,
                parameters=plan_parameters(plan, config, args.data),
            )
    if args.json:
        print_json(
            {
                "data": str(args.data),
                "walk_radius_m": config.walk_radius_m,
                "programs": plan.summaries(),
                "out": str(args.out) if args.out else None,
            }
        )
        return 0
    for outcome in plan.outcomes:
        summary = outcome.summary()
        gap = "" if summary["optimality_gap"] is None else f", gap {summary['optimality_gap']:.2%}"
        print(
            f"{outcome.program.name(args.lang)} [{summary['mode']}{gap}]: {summary['sets']} sets, "
            f"CNY {summary['spent_cny']:,.0f} of {summary['budget_cny']:,}, "
            f"{summary['population_newly_served']:,} residents newly served"
        )
        for message in summary["messages"]:
            print(f"  ! {message}")
        columns = [
            "rank",
            "community_id",
            "name",
            "district_name",
            "priority_score",
            "cost_cny",
            "population_newly_served",
        ]
        table = with_district_names(outcome.selected, district_names(city.districts, args.lang))[columns].copy()
        table["priority_score"] = table["priority_score"].round(1)
        print(labelled(table, args.lang).to_string(index=False))
    if args.out:
        print(f"wrote {args.out}")
    return 0


ELIGIBILITY_COLUMNS = (
    "community_id",
    "name",
    "district_code",
    "district_name",
    "eligible",
    "reason_text",
    "missing_fields",
    "applied",
    "application_date",
    "needs_land_solution",
    "open_space_m2",
    "public_space_used_for_parking",
    "served_inside",
    "nearest_set_m",
    "population",
    "built_year",
)


def run_eligibility(args, config) -> int:
    from geo.analysis.eligibility import reason_labels
    from geo.pipeline import load_city
    from geo.plan import score_communities
    from geo.render.export import export

    _check_out(args.out)
    city = load_city(args.data)
    scored = score_communities(city.communities, city.fitness_paths, config, city.applications)
    if args.district:
        known = set(city.districts["district_code"])
        if args.district not in known:
            raise ValueError(f"unknown district code {shown(args.district)}; known: {', '.join(sorted(known))}")
        scored = scored[scored["district_code"] == args.district]
    scored = with_district_names(scored, district_names(city.districts, args.lang)).assign(
        reason_text=reason_labels(scored["reasons"], args.lang)
    )
    table = scored[list(ELIGIBILITY_COLUMNS) + ["geometry"]].reset_index(drop=True)
    if args.out:
        with writing(args.out):
            export(
                table,
                args.out,
                lang=args.lang,
                parameters={"district": args.district or "all", "data_file": str(args.data)},
            )
        print(f"wrote {args.out}: {len(table)} communities, {int(table['eligible'].sum())} eligible")
        return 0
    listed = table[["community_id", "name", "district_name", "eligible", "reason_text", "applied"]]
    print(humanised(pd.DataFrame(listed), args.lang).to_string(index=False))
    return 0


def run_sample(args, config) -> int:
    from geo.data.io import read_districts, write_layers
    from geo.data.sample import generate_sample

    if args.out.suffix.lower() != ".gpkg":
        raise ValueError(f"--out {shown(args.out.name)}: the sample city is a GeoPackage; name it .gpkg")
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(
            f"cannot write {args.out}: cannot create the folder {args.out.parent} "
            f"({error.strerror or 'refused'}); choose another folder"
        ) from None
    writable(args.out)
    n = config.sample_communities if args.communities is None else args.communities
    seed = config.sample_seed if args.seed is None else args.seed
    layers = generate_sample(read_districts(args.boundaries), n_communities=n, seed=seed)
    with writing(args.out):
        write_layers(args.out, layers)
    counts = ", ".join(f"{name} {len(frame)}" for name, frame in layers.items())
    print(f"wrote {args.out}: {counts}")
    return 0


def run_template(args, config) -> int:
    from geo.data.io import read_districts
    from geo.intake.template import write_survey_template

    if args.out.suffix.lower() != ".xlsx":
        raise ValueError(f"--out {shown(args.out.name)}: the template is an Excel file; name it .xlsx")
    writable(args.out)
    districts = read_districts(args.boundaries)
    with writing(args.out):
        write_survey_template(args.out, districts, lang=args.lang, config=config)
    print(f"wrote {args.out}")
    return 0


def run_import(args, config) -> int:
    from geo.intake.importer import import_file, write_accepted, write_rejects

    if args.out.suffix.lower() != ".gpkg":
        raise ValueError(f"--out {shown(args.out.name)}: accepted rows are written to a GeoPackage; name it .gpkg")
    if args.rejects.suffix.lower() != ".csv":
        raise ValueError(f"--rejects {shown(args.rejects.name)}: rejected rows are written to a CSV; name it .csv")
    writable(args.out)
    writable(args.rejects, "--rejects")
    try:
        result = import_file(args.file, args.layer, args.crs, config)
    except (ValueError, OSError):
        raise
    except Exception as error:
        raise ValueError(f"cannot import {args.file}: {' '.join(str(error).split()) or type(error).__name__}") from None
    with writing(args.out):
        write_accepted(result, args.out)
    with writing(args.rejects):
        write_rejects(result, args.rejects)
    if args.json:
        print_json(result.summary())
        return 0
    summary = result.summary()
    print(
        f"{args.file}: {summary['input_rows']} rows, {summary['accepted']} accepted, "
        f"{summary['rejected']} rejected, {summary['repaired']} repaired"
    )
    for warning in summary["warnings"]:
        print(f"  ! {warning}")
    print(f"wrote {args.out} (layer {args.layer}) and {args.rejects}")
    return 0


def _fail(message: str) -> int:
    print(f"error: {one_line(message)}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status (0, or 2 after one line on stderr)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error, already printed as one line (2)
        return 0 if stop.code is None else int(stop.code)
    commands = {
        "coverage": run_coverage,
        "plan": run_plan_command,
        "eligibility": run_eligibility,
        "sample": run_sample,
        "import": run_import,
        "template": run_template,
    }
    try:
        config = load_config(args.config)
        return commands[args.command](args, config)
    except (ValueError, OSError) as err:
        return _fail(str(err) or type(err).__name__)
    except KeyboardInterrupt:
        return _fail("interrupted")
    except MemoryError:
        return _fail("not enough memory to finish this command; try it on smaller data or with smaller numbers")
    except Exception as err:
        return _fail(
            f"unexpected {type(err).__name__}: {str(err) or 'no message'} "
            "(a bug: please report it with the command you ran)"
        )


if __name__ == "__main__":
    sys.exit(main())
