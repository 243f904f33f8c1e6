"""Command line: ``python -m geo coverage|plan|eligibility|sample|template|import``.

The contract (README, "What it does"): every error, including a mistyped argument and an
unexpected failure, is one line on stderr and exit status 2, never a traceback; ``--json`` output
is strict JSON (a missing or infinite number is ``null``, never ``NaN`` or ``Infinity``).
Help texts and error lines come from the ``[cli]`` table of the label catalogue, in the language of
:func:`cli_lang` (``PLANNER_LANG``, else the locale); ``--lang`` governs a command's output.
Numbers on the command line obey the same ranges as ``config.toml`` (:data:`geo.config.NUMERIC_KEYS`),
and an output file that cannot be written is refused before any work, naming the file.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import getpass
import json
import math
import os
import re
import stat
import sys
import tempfile
import unicodedata
import warnings
from datetime import date, timedelta
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
from geo.errors import DataError, Message, said
from geo.i18n import LANGS, column_label, district_names, humanised, label, labelled, text, with_district_names
from geo.store.actors import ROLES
from geo.store.applications import STATUSES as APPLICATION_STATUSES

EXIT_ERROR = 2
EXIT_NOTHING_ACCEPTED = 3  # a file was read, but no row of it was accepted

# --out-crs names -> the coordinate systems of geo.render.export.OUTPUT_CRS; --encoding of a .zip Shapefile
OUT_CRS = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490"}
ENCODINGS = ("utf-8", "gbk")

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


def _is_control(c: str) -> bool:
    """True for a character a terminal may act on or that breaks or reorders a line: C0 and C1 controls
    (ESC, BEL, U+0085 …), format characters (bidi overrides, zero-width marks) and U+2028/U+2029."""
    return unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")


def one_line(message: str) -> str:
    """``message`` on one line: control, line-break and invisible format characters shown as escapes.

    A file name or a cell quoted in an error may hold a newline or a terminal escape sequence;
    printed as ``\\n`` or ``\\x1b`` it can neither split the line nor act on the terminal.
    The one sanitiser of everything the CLI prints (:func:`echo`, :func:`echo_table`, :func:`print_json`'s).
    """
    return "".join(c.encode("unicode_escape").decode("ascii") if _is_control(c) else c for c in str(message))


def echo(line="", file=None) -> None:
    """Print ``line`` through :func:`one_line` (on stdout, or ``file``).

    Every line the CLI prints goes through here: a name, a cell or a warning quoting the user's
    data can neither add a line nor send the terminal a control sequence.
    """
    print(one_line(line), file=file)


def echo_table(frame: pd.DataFrame, lang: str | None = None) -> None:
    """Print ``frame`` without its index, every text cell through :func:`one_line` first (so columns
    keep their width), then each line through :func:`echo`; a table without rows says so in ``lang``."""
    if frame.empty:
        echo(say("no_records", lang or cli_lang()))
        return
    cells = frame.map(lambda value: one_line(value) if isinstance(value, str) else value)
    for line in cells.to_string(index=False).split("\n"):
        echo(line)


def cli_lang(environ=None) -> str:
    """The language of the CLI's help and error lines: ``PLANNER_LANG`` when it is ``zh`` or ``en``,
    else Chinese when the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: the first one set) starts
    with ``zh``, else English."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("PLANNER_LANG", "").strip().lower()
    if chosen in LANGS:
        return chosen
    locale = next((environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(name)), "")
    return "zh" if locale.lower().startswith("zh") else "en"


def say(key: str, lang: str = "en", **values) -> str:
    """The phrase ``key`` of the catalogue's ``[cli]`` table in ``lang``."""
    return label("cli", key, lang, **values)


class Said(Message):
    """A message of the ``[cli]`` table: its text is English, :func:`said` says it in any language."""

    def __new__(cls, key: str, **values):
        self = str.__new__(cls, say(key, "en", **values))
        self.key, self.values = key, values
        return self

    def __reduce__(self):
        return _said, (self.key, self.values)

    def in_language(self, lang: str = "zh") -> str:
        return say(self.key, lang, **{name: said(value, lang) for name, value in self.values.items()})


def _said(key: str, values: dict) -> Said:
    return Said(key, **values)


def refused(key: str, **values) -> DataError:
    """The :class:`DataError` ``Said(key, **values)``: a line of the CLI's own, said in the CLI's language."""
    return DataError(Said(key, **values))


class Allowed(Message):
    """What ``rule`` accepts: in English ``rule.allowed`` (config.py's words), in another language its bounds."""

    def __new__(cls, rule: Rule):
        self = str.__new__(cls, rule.allowed)
        self.key, self.values, self.rule = "range", {}, rule
        return self

    def __reduce__(self):
        return Allowed, (self.rule,)

    def in_language(self, lang: str = "zh") -> str:
        rule = self.rule
        if lang == "en" or not (math.isfinite(rule.low) and math.isfinite(rule.high)):
            return rule.allowed
        return say(
            "range",
            lang,
            kind=say("kind_whole" if rule.whole else "kind_number", lang),
            low_sign="≥" if rule.low_inclusive else ">",
            low=f"{rule.low:,}",
            high_sign="≤" if rule.high_inclusive else "<",
            high=f"{rule.high:,}",
        )


# argparse's own messages (Python's wording) -> the [cli] key that says them in another language
ARGPARSE_MESSAGES = (
    (re.compile(r"argument (?P<argument>.+?): (?P<message>.*)", re.S), "argparse_argument"),
    (re.compile(r"the following arguments are required: (?P<arguments>.*)", re.S), "argparse_required"),
    (re.compile(r"invalid choice: (?P<value>.*?) \(choose from (?P<choices>.*)\)", re.S), "argparse_choice"),
    (re.compile(r"unrecognized arguments: (?P<arguments>.*)", re.S), "argparse_unrecognized"),
    (re.compile(r"expected one argument", re.S), "argparse_one_value"),
    (re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<options>.*)", re.S), "argparse_ambiguous"),
)


def argparse_said(message: str, lang: str) -> str:
    """argparse's usage error ``message`` in ``lang``: English as argparse says it; a wording not
    known here stays English."""
    if lang == "en":
        return message
    for pattern, key in ARGPARSE_MESSAGES:
        found = pattern.fullmatch(message)
        if found:
            values = found.groupdict()
            if "message" in values:
                values["message"] = argparse_said(values["message"], lang)
            return say(key, lang, **values)
    return message


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout with the ``usage:`` heading in the CLI's language."""

    def __init__(self, prog: str, lang: str = "en"):
        super().__init__(prog)
        self.lang = lang

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, say("usage", self.lang) if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr, exit status 2, and whose help
    and errors are said in ``lang``."""

    def __init__(self, *args, lang: str = "en", **kwargs):
        super().__init__(*args, add_help=False, formatter_class=functools.partial(_Formatter, lang=lang), **kwargs)
        self.lang = lang
        self._positionals.title = say("positionals", lang)
        self._optionals.title = say("options", lang)
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=say("help", lang))

    def error(self, message: str):
        said_here = one_line(argparse_said(message, self.lang))
        self.exit(EXIT_ERROR, say("usage_error", self.lang, message=said_here, prog=self.prog) + "\n")


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


def ruled(rule: Rule, lang: str = "en"):
    """An argparse type: a number that ``rule`` accepts; the message says ``rule.allowed``."""

    def number(text_value: str) -> int | float:
        value = parsed_number(text_value)
        whole_ok = isinstance(value, int) or not rule.whole  # 999999999999.99999 is a float that rounds to whole
        if value is None or not whole_ok or not math.isfinite(value) or not rule.accepts(value):
            raise argparse.ArgumentTypeError(
                say("out_of_range", lang, allowed=Allowed(rule).in_language(lang), value=shown(text_value))
            )
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
    """Print ``document`` as strict JSON (UTF-8, indented); a non-finite number is printed as null.

    A control or format character (:func:`_is_control`: ESC, C1, U+2028, a bidi override …) in a
    string is written as its ``\\uXXXX`` escape: the same JSON value, nothing for a terminal to act on.
    """
    printed = json.dumps(json_safe(document), ensure_ascii=False, indent=2, allow_nan=False)
    print("".join(_json_escaped(c) if c != "\n" and _is_control(c) else c for c in printed))


def _json_escaped(c: str) -> str:
    """``c`` as a JSON ``\\uXXXX`` escape (a surrogate pair beyond the Basic Multilingual Plane)."""
    units = c.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2))


def _boundaries_city(lang: str) -> str:
    """The city whose boundaries ``sample`` and ``template`` read by default: the default config's
    ``[city]`` name (a neutral phrase when that config cannot be read; the command says why)."""
    try:
        return load_config(DEFAULT_CONFIG_PATH).city_name(lang)
    except (ValueError, OSError):
        return say("city_unknown", lang)


def _parser(lang: str = "en") -> argparse.ArgumentParser:
    """The command line's parser, its help in ``lang`` (the ``[cli]`` table of the catalogue)."""

    def h(key: str, **values) -> str:
        return say(key, lang, **values)

    radius_help = h("help_radius", limit=f"{MAX_WALK_RADIUS_M:,}")
    walk_radius = ruled(WALK_RADIUS_RULE, lang)
    parser = _Parser(
        prog="python -m geo",
        description=h("description", title_zh=say("title", "zh")),
        epilog=h("epilog"),
        lang=lang,
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help=h("help_config"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=functools.partial(_Parser, lang=lang))

    coverage = commands.add_parser("coverage", help=h("command_coverage"))
    coverage.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH, help=h("help_data"))
    coverage.add_argument("--radius", type=walk_radius, default=None, help=radius_help)
    coverage.add_argument("--json", action="store_true", help=h("help_coverage_json"))
    coverage.add_argument("--lang", choices=("zh", "en"), default="zh")
    coverage.add_argument("--db", default=None, help=h("help_db_records"))
    coverage.add_argument("--compare", action="store_true", help=h("help_coverage_compare"))
    coverage.add_argument("--out", type=Path, default=None, help=h("help_coverage_out"))

    network = commands.add_parser("network", help=h("command_network"))
    network.add_argument("city", type=Path, nargs="?", default=DEFAULT_DATA_PATH, help=h("help_network_city"))
    network.add_argument("--json", action="store_true", help=h("help_network_json"))
    network.add_argument("--lang", choices=("zh", "en"), default="zh")

    plan = commands.add_parser("plan", help=h("command_plan"))
    plan.add_argument("--program", default=None, help=h("help_program"))
    plan.add_argument("--mode", choices=("rank", "optimal"), default="rank")
    plan.add_argument("--no-sites", action="store_true", help=h("help_no_sites"))
    plan.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH)
    plan.add_argument("--radius", type=walk_radius, default=None, help=radius_help)
    plan.add_argument("--budget", action="append", default=[], metavar="KEY=CNY", help=h("help_budget"))
    plan.add_argument(
        "--time-limit",
        type=ruled(NUMERIC_KEYS["optimal.time_limit_s"][1], lang),
        default=None,
        help=h("help_time_limit"),
    )
    plan.add_argument("--out", type=Path, help=h("help_plan_out"))
    plan.add_argument("--out-crs", choices=tuple(OUT_CRS), default="wgs84", help=h("help_out_crs"))
    plan.add_argument("--encoding", choices=ENCODINGS, default="utf-8", help=h("help_encoding"))
    plan.add_argument("--json", action="store_true", help=h("help_plan_json"))
    plan.add_argument("--lang", choices=("zh", "en"), default="zh")
    plan.add_argument("--db", default=None, help=h("help_db_records"))

    eligibility = commands.add_parser("eligibility", help=h("command_eligibility"))
    eligibility.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH)
    eligibility.add_argument("--district", help=h("help_district"))
    eligibility.add_argument("--out", type=Path, help=h("help_eligibility_out"))
    eligibility.add_argument("--out-crs", choices=tuple(OUT_CRS), default="wgs84", help=h("help_out_crs"))
    eligibility.add_argument("--encoding", choices=ENCODINGS, default="utf-8", help=h("help_encoding"))
    eligibility.add_argument("--lang", choices=("zh", "en"), default="zh")
    eligibility.add_argument("--db", default=None, help=h("help_db_records"))
    eligibility.add_argument("--landless", action="store_true", help=h("help_landless"))

    sample = commands.add_parser("sample", help=h("command_sample", city=_boundaries_city(lang)))
    sample.add_argument(
        "--communities",
        type=ruled(NUMERIC_KEYS["sample.communities"][1], lang),
        default=None,
        help=h("help_communities"),
    )
    sample.add_argument("--seed", type=ruled(NUMERIC_KEYS["sample.seed"][1], lang), default=None, help=h("help_seed"))
    sample.add_argument("--boundaries", type=Path, default=BOUNDARIES_PATH)
    sample.add_argument("--out", type=Path, required=True, help=h("help_sample_out"))

    template = commands.add_parser("template", help=h("command_template"))
    template.add_argument("--out", type=Path, required=True, help=h("help_template_out"))
    template.add_argument("--lang", choices=("zh", "en"), default="zh")
    template.add_argument("--boundaries", type=Path, default=BOUNDARIES_PATH, help=h("help_template_boundaries"))

    intake = commands.add_parser("import", help=h("command_import"))
    intake.add_argument("file", type=Path, help=h("help_import_file"))
    intake.add_argument("--layer", choices=("communities", "fitness_paths", "public_sites", "roads"), required=True)
    intake.add_argument("--crs", default=None, help=h("help_crs"))
    intake.add_argument("--out", type=Path, required=True, help=h("help_import_out"))
    intake.add_argument("--rejects", type=Path, required=True, help=h("help_rejects"))
    intake.add_argument("--json", action="store_true", help=h("help_import_json"))
    intake.add_argument("--data", type=Path, default=None, help=h("help_import_data"))
    intake.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help=h("help_import_map"))

    city = commands.add_parser("city", help=h("command_city"))
    city_commands = city.add_subparsers(
        dest="city_command", required=True, parser_class=functools.partial(_Parser, lang=lang)
    )
    init = city_commands.add_parser("init", help=h("command_city_init"))
    init.add_argument("--out", type=Path, required=True, help=h("help_city_out"))
    init.add_argument("--communities", type=Path, required=True, help=h("help_city_communities"))
    init.add_argument("--districts", type=Path, default=None, help=h("help_city_districts"))
    init.add_argument("--fitness-paths", type=Path, default=None, help=h("help_city_fitness_paths"))
    init.add_argument("--applications", type=Path, default=None, help=h("help_city_applications"))
    init.add_argument("--sites", dest="public_sites", type=Path, default=None, help=h("help_city_sites"))
    init.add_argument("--roads", type=Path, default=None, help=h("help_city_roads"))
    init.add_argument("--crs", action="append", default=[], metavar="[LAYER=]CRS", help=h("help_city_crs"))
    init.add_argument("--map", action="append", default=[], metavar="LAYER.FIELD=COLUMN", help=h("help_city_map"))
    init.add_argument("--name", default=None, help=h("help_city_name"))
    init.add_argument("--name-en", default=None, help=h("help_city_name_en"))
    init.add_argument("--contact", action="append", default=[], metavar="LINE", help=h("help_city_contact"))
    init.add_argument("--json", action="store_true", help=h("help_city_json"))
    _store_parsers(commands, h)
    return parser


def _store_parsers(commands, h) -> None:
    """``users``, ``applications`` and ``audit``: the system of record (:mod:`geo.store`).

    Each takes ``--db URL`` (default ``PLANNER_DB_URL``, else the SQLite file beside ``--data``) and,
    once accounts exist, ``--user NAME`` (password from ``PLANNER_PASSWORD`` or asked for).
    """

    def store_options(parser) -> None:
        parser.add_argument("--db", default=None, help=h("help_db"))
        parser.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH, help=h("help_data"))
        parser.add_argument("--user", default=None, help=h("help_user"))
        parser.add_argument("--lang", choices=LANGS, default=None)

    users = commands.add_parser("users", help=h("command_users"))
    users_commands = users.add_subparsers(dest="users_command", required=True, parser_class=type(users))
    add = users_commands.add_parser("add", help=h("command_users_add"))
    add.add_argument("--username", required=True, help=h("help_username"))
    add.add_argument("--role", required=True, choices=ROLES, help=h("help_role"))
    add.add_argument("--district", action="append", default=[], metavar="CODE", help=h("help_user_district"))
    add.add_argument("--password-stdin", action="store_true", help=h("help_password_stdin"))
    listed = users_commands.add_parser("list", help=h("command_users_list"))
    listed.add_argument("--json", action="store_true", help=h("help_store_json"))
    disable = users_commands.add_parser("disable", help=h("command_users_disable"))
    disable.add_argument("username", help=h("help_username"))
    for parser in (add, listed, disable):
        store_options(parser)

    applications = commands.add_parser("applications", help=h("command_applications"))
    application_commands = applications.add_subparsers(
        dest="applications_command", required=True, parser_class=type(applications)
    )
    new = application_commands.add_parser("add", help=h("command_applications_add"))
    new.add_argument("--community", required=True, help=h("help_application_community"))
    new.add_argument("--date", required=True, type=date.fromisoformat, help=h("help_application_date"))
    for field in ("applicant", "contact", "request", "notes"):
        new.add_argument(f"--{field}", default="", help=h(f"help_application_{field}"))
    shown = application_commands.add_parser("list", help=h("command_applications_list"))
    shown.add_argument("--district", default=None, help=h("help_district"))
    shown.add_argument("--json", action="store_true", help=h("help_store_json"))
    status = application_commands.add_parser("set-status", help=h("command_applications_status"))
    status.add_argument("id", type=int, help=h("help_application_id"))
    status.add_argument("status", choices=APPLICATION_STATUSES, help=h("help_application_status"))
    status.add_argument("--reason", default="", help=h("help_application_reason"))
    for parser in (new, shown, status):
        store_options(parser)

    store = commands.add_parser("store", help=h("command_store"))
    store_commands = store.add_subparsers(dest="store_command", required=True, parser_class=type(store))
    backup = store_commands.add_parser("backup", help=h("command_store_backup"))
    backup.add_argument("--out", type=Path, required=True, help=h("help_backup_out"))
    restore = store_commands.add_parser("restore", help=h("command_store_restore"))
    restore.add_argument("file", type=Path, help=h("help_backup_file"))
    for parser in (backup, restore):
        store_options(parser)
    export = store_commands.add_parser("export", help=h("command_store_export"))
    export.add_argument("--out", type=Path, required=True, help=h("help_export_out"))
    store_options(export)

    audit = commands.add_parser("audit", help=h("command_audit"))
    audit.add_argument("--since", type=date.fromisoformat, default=None, help=h("help_audit_since"))
    audit.add_argument("--csv", type=Path, default=None, help=h("help_audit_csv"))
    audit.add_argument("--json", action="store_true", help=h("help_store_json"))
    store_options(audit)
    _plan_parsers(commands, h, store_options)
    _installation_parsers(commands, h, store_options)


def _installation_parsers(commands, h, store_options) -> None:
    """``installations add|list`` and ``inspections add|list`` (:mod:`geo.store.installations`)."""
    from geo.store.installations import CONDITIONS

    installations = commands.add_parser("installations", help=h("command_installations"))
    installation_commands = installations.add_subparsers(
        dest="installations_command", required=True, parser_class=type(installations)
    )
    add = installation_commands.add_parser("add", help=h("command_installations_add"))
    add.add_argument("--plan", type=int, required=True, help=h("help_installation_plan"))
    add.add_argument("--community", required=True, help=h("help_installation_community"))
    add.add_argument("--date", required=True, type=date.fromisoformat, help=h("help_installation_date"))
    add.add_argument("--site", default="", help=h("help_installation_site"))
    add.add_argument("--lon", type=float, default=None, help=h("help_installation_lon"))
    add.add_argument("--lat", type=float, default=None, help=h("help_installation_lat"))
    add.add_argument("--pieces", type=int, default=0, help=h("help_installation_pieces"))
    add.add_argument("--supplier", default="", help=h("help_installation_supplier"))
    add.add_argument("--cost", type=int, default=0, help=h("help_installation_cost"))
    add.add_argument("--notes", default="", help=h("help_installation_notes"))
    listed = installation_commands.add_parser("list", help=h("command_installations_list"))
    listed.add_argument("--json", action="store_true", help=h("help_store_json"))

    inspections = commands.add_parser("inspections", help=h("command_inspections"))
    inspection_commands = inspections.add_subparsers(
        dest="inspections_command", required=True, parser_class=type(inspections)
    )
    check = inspection_commands.add_parser("add", help=h("command_inspections_add"))
    check.add_argument("--installation", type=int, required=True, help=h("help_inspection_installation"))
    check.add_argument("--date", required=True, type=date.fromisoformat, help=h("help_inspection_date"))
    check.add_argument("--condition", required=True, choices=CONDITIONS, help=h("help_inspection_condition"))
    check.add_argument("--findings", default="", help=h("help_inspection_findings"))
    check.add_argument(
        "--photo", type=Path, action="append", default=[], metavar="FILE", help=h("help_inspection_photo")
    )
    shown = inspection_commands.add_parser("list", help=h("command_inspections_list"))
    shown.add_argument("--installation", type=int, default=None, help=h("help_inspection_installation"))
    shown.add_argument("--json", action="store_true", help=h("help_store_json"))
    for parser in (add, listed, check, shown):
        store_options(parser)


def _store_and_actor(args):
    """The store ``args`` name and who acts: the local user while no account exists, else ``--user``."""
    from geo.store.accounts import has_accounts, log_in
    from geo.store.actors import Actor
    from geo.store.db import open_store

    store = open_store(args.db, data_path=args.data)
    if not has_accounts(store):
        return store, Actor.local()
    if not args.user:
        raise refused("store_needs_user")
    password = os.environ.get("PLANNER_PASSWORD")
    if password is None:
        password = ask_password(say("password_prompt", args.lang, user=args.user))
    return store, log_in(store, args.user, password)


def ask_password(prompt: str) -> str:
    """The password typed after ``prompt``; refused (``password_not_given``) when input ends first
    (a script without ``PLANNER_PASSWORD``, a closed terminal)."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise refused("password_not_given") from None


def run_users(args, config) -> int:
    from geo.store.accounts import add_user, disable_user, list_users

    store, actor = _store_and_actor(args)
    if args.users_command == "add":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = ask_password(say("new_password_prompt", args.lang, user=args.username))
            if ask_password(say("new_password_again", args.lang)) != password:
                raise refused("passwords_differ")
        user = add_user(store, actor, args.username, password, args.role, args.district)
        echo(say("user_added", args.lang, user=user["username"], role=text(f"role_{user['role']}", args.lang)))
    elif args.users_command == "disable":
        disable_user(store, actor, args.username)
        echo(say("user_disabled", args.lang, user=args.username))
    else:
        actor.check_role("admin")
        users = list_users(store)
        if args.json:
            print_json(users)
        else:
            listed = pd.DataFrame(users, columns=["username", "role", "districts", "disabled"])
            listed["role"] = [text(f"role_{role}", args.lang) for role in listed["role"]]
            shown_table = humanised(listed, args.lang).astype(object)
            echo_table(shown_table.where(shown_table.notna(), ""), args.lang)  # a missing figure empty, not <NA>
    return 0


def run_applications(args, config) -> int:
    from geo.pipeline import load_city
    from geo.store.applications import add_application, list_applications, set_status

    store, actor = _store_and_actor(args)
    if args.applications_command == "add":
        communities = load_city(input_file(args.data, "--data", missing_ok=True)).communities
        row = add_application(
            store, actor, communities, args.community, args.date, args.applicant, args.contact, args.request, args.notes
        )
        echo(say("application_added", args.lang, id=row["id"], community=row["community_id"]))
    elif args.applications_command == "set-status":
        row = set_status(store, actor, args.id, args.status, args.reason)
        echo(say("application_status_set", args.lang, id=row["id"], status=row["status"]))
    else:
        table = list_applications(store, actor, args.district)
        if args.json:
            print_json(json.loads(table.to_json(orient="records", date_format="iso", force_ascii=False)))
        else:
            columns = ["id", "community_id", "district_code", "application_date", "status"]
            echo_table(humanised(in_words(table[columns], args.lang), args.lang), args.lang)
    return 0


def run_store(args, config) -> int:
    from geo.store.backup import backup, restore

    store, actor = _store_and_actor(args)
    actor.check_role("admin")
    if args.store_command == "backup":
        writable(args.out)
        manifest = backup(store, args.out)
        echo(say("store_backed_up", args.lang, path=args.out, rows=sum(manifest["tables"].values())))
    elif args.store_command == "export":
        from geo.pipeline import load_city
        from geo.store.export import export_city

        writable(args.out)
        layers = export_city(load_city(input_file(args.data, "--data", missing_ok=True)), store, args.out)
        echo(say("store_exported", args.lang, path=args.out, layers=len(layers)))
    else:
        manifest = restore(store, input_file(args.file, "FILE"))
        echo(say("store_restored", args.lang, path=args.file, rows=sum(manifest["tables"].values())))
    return 0


def _records_json(table: pd.DataFrame) -> None:
    print_json(json.loads(table.to_json(orient="records", date_format="iso", force_ascii=False)))


WORDED_CODES = {
    "status": "application_status_",
    "condition": "condition_",
    "last_condition": "condition_",
    "mode": "mode_",
}
"""Columns of store listings whose codes are shown as words (the catalogue's ``[text]`` key prefix)."""


def in_words(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` with application status, condition and mode codes as words in ``lang`` (an empty cell stays empty)."""
    shown = frame.copy()
    for column, prefix in WORDED_CODES.items():
        if column in shown.columns:
            shown[column] = [text(prefix + code, lang) if isinstance(code, str) else "" for code in shown[column]]
    return shown


def run_installations(args, config) -> int:
    from geo.store.installations import add_installation, list_installations

    store, actor = _store_and_actor(args)
    if args.installations_command == "add":
        row = add_installation(
            store,
            actor,
            args.plan,
            args.community,
            args.date,
            site=args.site,
            lon=args.lon,
            lat=args.lat,
            pieces=args.pieces,
            supplier=args.supplier,
            cost_cny=args.cost,
            notes=args.notes,
        )
        echo(say("installation_added", args.lang, id=row["id"], community=row["community_id"]))
    else:
        table = list_installations(store, actor)
        if args.json:
            _records_json(table)
        else:
            columns = ["id", "plan_id", "community_id", "district_code", "installed_on", "cost_cny", "last_condition"]
            echo_table(humanised(in_words(table[columns], args.lang), args.lang), args.lang)
    return 0


def _photo(path: Path) -> tuple[str, bytes]:
    """A photo file's name (data only) and bytes; read no further than one byte past the largest allowed."""
    from geo.store.installations import MAX_PHOTO_BYTES

    with open(input_file(path, "--photo"), "rb") as file:
        return path.name, file.read(MAX_PHOTO_BYTES + 1)


def run_inspections(args, config) -> int:
    from geo.store.installations import add_inspection, list_inspections

    store, actor = _store_and_actor(args)
    if args.inspections_command == "add":
        photos = [_photo(path) for path in args.photo]
        row = add_inspection(store, actor, args.installation, args.date, args.condition, args.findings, photos)
        count = say("photo_count_one" if len(photos) == 1 else "photo_count_many", args.lang, count=len(photos))
        echo(say("inspection_added", args.lang, id=row["id"], installation=args.installation, photos=count))
    else:
        table = list_inspections(store, actor, args.installation)
        if args.json:
            _records_json(table)
        else:
            columns = ["id", "installation_id", "community_id", "inspected_on", "condition", "findings", "photos"]
            echo_table(humanised(in_words(table[columns], args.lang), args.lang), args.lang)
    return 0


def _plan_parsers(commands, h, store_options) -> None:
    """``plans save|list|show|compare|approve``: saved plans (:mod:`geo.store.plans`)."""
    plans = commands.add_parser("plans", help=h("command_plans"))
    lang = plans.lang
    plan_commands = plans.add_subparsers(dest="plans_command", required=True, parser_class=type(plans))
    save = plan_commands.add_parser("save", help=h("command_plans_save"))
    save.add_argument("--name", required=True, help=h("help_plan_name"))
    save.add_argument("--notes", default="", help=h("help_plan_notes"))
    save.add_argument("--program", default=None, help=h("help_program"))
    save.add_argument("--mode", choices=("rank", "optimal"), default="rank")
    save.add_argument("--no-sites", action="store_true", help=h("help_no_sites"))
    save.add_argument(
        "--radius",
        type=ruled(WALK_RADIUS_RULE, lang),
        default=None,
        help=h("help_radius", limit=f"{MAX_WALK_RADIUS_M:,}"),
    )
    save.add_argument("--budget", action="append", default=[], metavar="KEY=CNY", help=h("help_budget"))
    save.add_argument(
        "--time-limit",
        type=ruled(NUMERIC_KEYS["optimal.time_limit_s"][1], lang),
        default=None,
        help=h("help_time_limit"),
    )
    save.add_argument("--json", action="store_true", help=h("help_store_json"))
    listed = plan_commands.add_parser("list", help=h("command_plans_list"))
    listed.add_argument("--json", action="store_true", help=h("help_store_json"))
    show = plan_commands.add_parser("show", help=h("command_plans_show"))
    show.add_argument("id", type=int, help=h("help_plan_id"))
    show.add_argument("--json", action="store_true", help=h("help_store_json"))
    compare = plan_commands.add_parser("compare", help=h("command_plans_compare"))
    compare.add_argument("a", type=int, help=h("help_plan_a"))
    compare.add_argument("b", type=int, help=h("help_plan_b"))
    compare.add_argument("--json", action="store_true", help=h("help_store_json"))
    approve = plan_commands.add_parser("approve", help=h("command_plans_approve"))
    approve.add_argument("id", type=int, help=h("help_plan_id"))
    for parser in (save, listed, show, compare, approve):
        store_options(parser)


PLAN_LIST_COLUMNS = ["id", "name", "status", "mode", "data_name", "sets", "spent_cny", "created_by", "created_at"]
PICK_SHOWN_COLUMNS = ["program", "rank", "community_id", "district_code", "cost_cny", "lon", "lat"]


def _frame_json(frame: pd.DataFrame) -> list:
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False, double_precision=15))


def _plan_json(record: dict) -> dict:
    return json.loads(pd.Series(record, dtype=object).to_json(date_format="iso", force_ascii=False))


def run_plans(args, config) -> int:
    from geo.render.times import with_local_times
    from geo.store.plans import approve_plan, compare_plans, data_sha256, get_plan, list_plans, save_plan

    store, actor = _store_and_actor(args)
    if args.plans_command == "save":
        actor.check_role("admin", "planner")  # before the plan is run
        plan, path, city = _plan_of(args, config, store)
        saved = save_plan(store, actor, plan, args.name, data_sha256(path), path.name, notes=args.notes, city=city)
        if args.json:
            print_json(_plan_json(saved))
        else:
            total = saved["metrics"]["total"]
            spent = f"{total['spent_cny']:,.0f}"
            echo(say("plan_saved", args.lang, id=saved["id"], name=saved["name"], sets=total["sets"], spent=spent))
            echo(say(f"distance_{saved['distance']}", args.lang))
    elif args.plans_command == "approve":
        row = approve_plan(store, actor, args.id)
        echo(say("plan_approved", args.lang, id=row["id"], name=row["name"]))
        if row["applications_in_plan"]:
            echo(say("plan_approved_moved", args.lang, moved=row["applications_in_plan"]))
    elif args.plans_command == "list":
        table = list_plans(store, actor)
        if args.json:
            print_json(_frame_json(table))
        else:
            shown = in_words(table[PLAN_LIST_COLUMNS].drop(columns="status"), args.lang)
            shown.insert(2, "status", [text(f"plans_status_{status}", args.lang) for status in table["status"]])
            shown["distance"] = [label("export", f"distance_{distance}", args.lang) for distance in table["distance"]]
            shown = with_local_times(shown, ["created_at"], config.timezone, args.lang)  # the store keeps UTC
            echo_table(humanised(shown, args.lang), args.lang)
    elif args.plans_command == "show":
        record, picks = get_plan(store, actor, args.id)
        if args.json:
            print_json({**_plan_json(record), "picks": _frame_json(picks)})
            return 0
        _echo_plan(record, args.lang)
        echo_table(humanised(picks[PICK_SHOWN_COLUMNS], args.lang), args.lang)
    else:
        compared = compare_plans(store, actor, args.a, args.b)
        if args.json:
            print_json(
                {
                    "a": _plan_json(compared["a"]),
                    "b": _plan_json(compared["b"]),
                    "same_data": compared["same_data"],
                    **{part: _frame_json(compared[part]) for part in ("picks", "metrics", "money")},
                }
            )
            return 0
        _echo_comparison(compared, args.lang)
    return 0


def _plan_of(args, config, store):
    """The plan ``plans save`` runs (``geo plan``'s options on ``--data`` with the store's installed sets and
    applications, as the app plans), the data file's path and the city it was run on."""
    from dataclasses import replace

    from geo.config import with_overrides
    from geo.pipeline import load_city
    from geo.store.installations import city_with_records

    config = with_overrides(config, walk_radius_m=args.radius, budgets=budgets_from_args(args.budget, config))
    if args.time_limit is not None:
        config = replace(config, optimal_time_limit_s=args.time_limit)
    keys = program_keys(args.program) if args.program is not None else [p.key for p in config.programs]
    path = input_file(args.data, "--data", missing_ok=True)
    city = city_with_records(load_city(path), store)
    plan = _city_plan(city, config, keys, args)
    return plan, Path(path), city


def _echo_plan(record: dict, lang: str) -> None:
    status, mode = say(f"plan_status_{record['status']}", lang), say(f"mode_{record['mode']}", lang)
    data, sha, by = record["data_name"], record["data_sha256"][:12], record["created_by"]
    echo(say("plan_header", lang, id=record["id"], name=record["name"], status=status, mode=mode, by=by))
    echo(say("plan_data", lang, data=data, sha=sha))
    echo(say(f"distance_{record['distance']}", lang))
    if record["scope"] == "districts":
        echo(say("plan_districts_only", lang))
    for figures in record["metrics"]["programs"]:
        spent, residents = f"{figures['spent_cny']:,.0f}", f"{figures['population_newly_served']:,}"
        program, sets = figures["program"], figures["sets"]
        echo(say("plan_figures", lang, program=program, sets=sets, spent=spent, residents=residents))


def _echo_comparison(compared: dict, lang: str) -> None:
    a, b = compared["a"], compared["b"]
    echo(say("plan_compare_header", lang, a=a["id"], name_a=a["name"], b=b["id"], name_b=b["name"]))
    if not compared["same_data"]:
        echo(f"  ! {say('plan_compare_other_data', lang, a=a['data_sha256'][:12], b=b['data_sha256'][:12])}")
    if a["distance"] != b["distance"]:
        distance_a, distance_b = (label("export", f"distance_{plan['distance']}", lang) for plan in (a, b))
        other = say(
            "plan_compare_other_distance", lang, a=a["id"], b=b["id"], distance_a=distance_a, distance_b=distance_b
        )
        echo(f"  ! {other}")
    names = {"a": f"{a['id']} {a['name']}", "b": f"{b['id']} {b['name']}"}
    metrics = compared["metrics"].assign(metric=lambda f: f["metric"].map(lambda m: column_label(m, lang)))
    echo_table(humanised(metrics.rename(columns=names), lang))
    counts = compared["picks"]["change"].value_counts()
    added, removed, kept = (int(counts.get(change, 0)) for change in ("added", "removed", "kept"))
    echo(say("plan_compare_picks", lang, added=added, removed=removed, kept=kept))
    changed = compared["picks"][compared["picks"]["change"] != "kept"]
    if len(changed):
        words = changed["change"].map(lambda change: say(f"plan_change_{change}", lang))
        echo_table(humanised(changed.assign(change=words), lang))


def run_audit(args, config) -> int:
    from geo.render.audit import audit_in_words
    from geo.render.export import to_csv
    from geo.render.times import local_times
    from geo.store.audit import audit_entries

    store, actor = _store_and_actor(args)
    actor.check_role("admin")
    zone = config.timezone  # --since is a day of the city's calendar; the store keeps UTC
    log = audit_entries(store, args.since - timedelta(days=1) if args.since else None)
    if args.since and not log.empty:
        log = log[(local_times(log["at"], zone).dt.date >= args.since).to_numpy()].reset_index(drop=True)
    if args.csv:
        with writing(args.csv):
            to_csv(audit_in_words(log, args.lang, zone, raw=True), args.csv, lang=args.lang)
        echo(say("wrote", args.lang, path=args.csv))
    elif args.json:  # for programs: codes, UTC and the raw before/after, as stored
        print_json(json.loads(log.to_json(orient="records", date_format="iso", force_ascii=False)))
    else:
        shown = audit_in_words(log, args.lang, zone).drop(columns=["changes"])
        echo_table(humanised(shown, args.lang), args.lang)
    return 0


def city_with_store_records(city, args):
    """``city`` with its store's installed sets and applications (``--db``, ``PLANNER_DB_URL`` or the
    SQLite file beside ``--data``), as the app analyses it; as it is when it has no store. Says on
    stderr what the store added, so a figure that differs from the file alone is explained."""
    from geo.store.db import existing_store
    from geo.store.installations import city_with_records

    store = existing_store(args.db, args.data)
    if store is None:
        return city
    with_records = city_with_records(city, store)
    added_sets = len(with_records.fitness_paths) - len(city.fitness_paths)
    applications = 0 if with_records.applications is None else len(with_records.applications)
    if with_records is not city:
        print(say("store_records_used", args.lang, sets=added_sets, applications=applications), file=sys.stderr)
    return with_records


def run_coverage(args, config) -> int:
    from geo.pipeline import coverage_report, load_city

    if args.compare:
        return run_coverage_compare(args, config)
    if args.out is not None:
        raise refused("coverage_out_needs_compare")
    radius = config.walk_radius_m if args.radius is None else args.radius
    report_city = city_with_store_records(load_city(input_file(args.data, "--data", missing_ok=True)), args)
    report = coverage_report(report_city, radius, config.distance, config)
    rows = report.by_district[list(SUMMARY_COLUMNS)]
    if args.json:  # district names in --lang, as in the table
        rows = with_district_names(rows, district_names(report_city.districts, args.lang))
        print_json(
            {
                "data": str(args.data),
                "walk_radius_m": radius,
                "standard": config.standard,
                "distance": config.distance,
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
    echo(f"{text('walk_radius', args.lang)}: {radius:g} m")
    echo(say("standard_line", args.lang, standard=label("export", f"standard_{config.standard}", args.lang)))
    echo(say(f"distance_{config.distance}", args.lang))
    echo_table(labelled(table, args.lang))
    return 0


def run_network(args, config) -> int:
    """``geo network [CITY.gpkg]``: what is wrong with the city's walk network, built with ``[network]``'s
    tolerances (:func:`geo.analysis.network.network_problems`), in words or as JSON; a city without a roads
    layer is refused (``network_needs_roads``)."""
    from geo.analysis.network import NAMED_IN_WORDS, network_problems
    from geo.pipeline import load_city, walk_network

    city = load_city(input_file(args.city, "CITY", missing_ok=True))
    network = walk_network(city, config)
    polygons = np.asarray(city.communities.geometry.to_crs(network.metric_crs).values)
    problems = network_problems(network, polygons, city.communities["community_id"])
    if args.json:
        print_json({"data": str(args.city), **problems.to_dict()})
        return 0
    echo(text("network_report_title", args.lang, name=args.city.name))
    echo_table(labelled(problems.table(args.lang), args.lang), args.lang)
    if len(problems.pieces) > 1:
        echo(text("network_pieces_title", args.lang))
        echo_table(labelled(problems.pieces.head(NAMED_IN_WORDS), args.lang), args.lang)
    return 0


COMPARE_LOST_COLUMNS = ("community_id", "name", "district_name", "population", "straight_m", "on_foot_m")
"""The list of communities lost on foot that ``geo coverage --compare`` gives (JSON, and the .xlsx's second sheet)."""


def run_coverage_compare(args, config) -> int:
    """``geo coverage --compare``: per district, the communities served in a straight line, on foot, and those
    served in a straight line only (needs the city's roads: else ``network_needs_roads``); ``--out`` writes the
    table (.csv, UTF-8 with BOM; .xlsx with the lost communities on a second sheet), headers in ``--lang``."""
    from geo.analysis.walk_compare import by_district, compare_total, straight_vs_foot
    from geo.pipeline import load_city, walk_network
    from geo.render.export import export
    from geo.render.provenance import file_sha256

    radius = config.walk_radius_m if args.radius is None else args.radius
    if args.out is not None:
        if args.out.suffix.lower() not in (".csv", ".xlsx"):
            raise refused("compare_out_suffix", name=args.out.name)
        writable(args.out)
    city = city_with_store_records(load_city(input_file(args.data, "--data", missing_ok=True)), args)
    network = walk_network(city, config)
    table = straight_vs_foot(city.communities, city.fitness_paths, network, radius)
    names = district_names(city.districts, args.lang)
    summary = with_district_names(by_district(table, city.districts), names)
    total = compare_total(summary)
    lost = with_district_names(table[table["lost_on_foot"].to_numpy(dtype=bool)], names)
    lost = pd.DataFrame(lost[list(COMPARE_LOST_COLUMNS)]).reset_index(drop=True)
    lost[["straight_m", "on_foot_m"]] = lost[["straight_m", "on_foot_m"]].round(1)
    rows = pd.concat(
        [summary, pd.DataFrame([{"district_code": "", "district_name": text("city_total", args.lang), **total}])],
        ignore_index=True,
    )
    if args.out is not None:
        with writing(args.out):
            if args.out.suffix.lower() == ".csv":
                export(rows, args.out, lang=args.lang)
            else:
                sheets = {say("compare_sheet_districts", args.lang): rows, say("compare_sheet_lost", args.lang): lost}
                parameters = {  # the data file by name and SHA-256: never a server path
                    "walk_radius_m": radius,
                    "data_file": args.data.name,
                    "data_sha256": file_sha256(args.data),
                }
                export(sheets, args.out, lang=args.lang, parameters=parameters)
    if args.json:
        print_json(
            {
                "data": str(args.data),
                "walk_radius_m": radius,
                "districts": [
                    {k: (str(v) if k in ("district_code", "district_name") else v) for k, v in row.items()}
                    for row in summary.to_dict(orient="records")
                ],
                "total": total,
                "lost_on_foot": lost.astype(object).where(lost.notna(), None).to_dict(orient="records"),
                "out": str(args.out) if args.out else None,
            }
        )
        return 0
    echo(
        say(
            "compare_line",
            args.lang,
            radius=f"{radius:g}",
            straight=f"{total['served_straight']:,}",
            on_foot=f"{total['served_on_foot']:,}",
            lost=f"{total['lost_on_foot']:,}",
            residents=f"{total['population_lost_on_foot']:,}",
        )
    )
    echo_table(labelled(rows, args.lang))
    if args.out is not None:
        echo(say("wrote", args.lang, path=args.out))
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
            raise refused("write_folder", path=str(path), option=option)
        if not path.parent.is_dir():
            raise refused("write_no_folder", path=str(path), folder=str(path.parent))
        with tempfile.TemporaryDirectory(prefix=f".{path.stem}-", dir=path.parent) as probe:
            (Path(probe) / path.name).touch()
    except OSError as error:  # also from is_dir(): a name too long for the file system
        raise refused("write_refused", path=str(path), reason=error.strerror or Said("refused")) from None


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
        raise refused(
            "write_failed", path=str(path), reason=error.strerror or _without_paths(str(error), path)
        ) from None
    except RuntimeError as error:
        if not type(error).__module__.startswith("pyogrio"):
            raise
        raise refused("write_failed", path=str(path), reason=_without_paths(str(error), path)) from None


def _without_paths(message: str, path: Path) -> str:
    """``message`` with every absolute path in it (a ``/`` that starts a word) replaced by ``path``'s name."""
    return (
        re.sub(rf"(?<![^\s('\"]){re.escape(os.sep)}[^\s(),;:'\"]*", path.name, " ".join(message.split())) or "refused"
    )


def _check_out(path: Path | None, out_crs: str = "wgs84", encoding: str = "utf-8") -> None:
    """Refuse an unsupported output format, a coordinate system or encoding it cannot take, or an
    unwritable path, before any work is done."""
    from geo.render.export import SUPPORTED_SUFFIXES, check_export_options

    if path is None:
        return
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise refused("write_suffix", name=path.name, suffixes=", ".join(SUPPORTED_SUFFIXES))
    check_export_options(path, OUT_CRS[out_crs], encoding)
    writable(path)


def budgets_from_args(pairs: list[str], config: Config) -> dict[str, int]:
    """``--budget KEY=CNY`` pairs as ``{key: yuan}``: known programme keys, whole yuan within
    :data:`geo.config.BUDGET_RULE` (the range of ``budget_cny`` in config.toml), each key once."""
    known = [p.key for p in config.programs]
    budgets: dict[str, int] = {}
    for pair in pairs:
        key, equals, value = (part.strip() for part in pair.partition("="))
        if not equals or not key or not value:
            raise refused("budget_form", pair=shown(pair))
        if key not in known:
            raise refused("budget_unknown", pair=shown(pair), program=shown(key), known=", ".join(known))
        if key in budgets:
            raise refused("budget_twice", program=key)
        cny = parsed_number(value)
        if not isinstance(cny, int) or not BUDGET_RULE.accepts(cny):
            raise refused("budget_range", allowed=Allowed(BUDGET_RULE), program=key, pair=shown(pair))
        budgets[key] = int(cny)
    return budgets


def program_keys(text_value: str) -> list[str]:
    """``--program city,region`` as a list of keys; a key named twice is refused (it would spend twice)."""
    keys = [k.strip() for k in text_value.split(",") if k.strip()]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise refused("program_twice", program=shown(key))
    return keys


def _city_plan(city, config, keys: list[str], args):
    """``geo plan``'s plan of ``city``: programmes ``keys`` in ``--mode``, the city's public sites unless
    ``--no-sites``, measured as ``config`` says (on foot along the city's roads for ``distance = "network"``)."""
    from geo.pipeline import network_for
    from geo.plan import run_plan

    sites = None if args.no_sites else city.public_sites
    return run_plan(
        city.communities,
        city.fitness_paths,
        config,
        keys,
        args.mode,
        city.applications,
        public_sites=sites,
        network=network_for(city, config),
    )


def run_plan_command(args, config) -> int:
    from dataclasses import replace

    from geo.config import with_overrides
    from geo.pipeline import load_city
    from geo.plan import plan_sheets
    from geo.render.export import explained_plan_sheets, export
    from geo.render.provenance import plan_parameters

    config = with_overrides(config, walk_radius_m=args.radius, budgets=budgets_from_args(args.budget, config))
    if args.time_limit is not None:
        config = replace(config, optimal_time_limit_s=args.time_limit)
    keys = program_keys(args.program) if args.program is not None else [p.key for p in config.programs]
    _check_out(args.out, args.out_crs, args.encoding)
    city = city_with_store_records(load_city(input_file(args.data, "--data", missing_ok=True)), args)
    plan = _city_plan(city, config, keys, args)
    if args.out:
        with writing(args.out):
            export(
                explained_plan_sheets(plan_sheets(plan, args.lang, city.districts), plan, args.lang),
                args.out,
                lang=args.lang,
                crs=OUT_CRS[args.out_crs],
                encoding=args.encoding,
                parameters=plan_parameters(plan, config, args.data),
            )
    if args.json:
        print_json(
            {
                "data": str(args.data),
                "walk_radius_m": config.walk_radius_m,
                "standard": config.standard,
                "distance": config.distance,
                "programs": plan.summaries(args.lang),
                "out": str(args.out) if args.out else None,
            }
        )
        return 0
    echo(say("standard_line", args.lang, standard=label("export", f"standard_{config.standard}", args.lang)))
    echo(say(f"distance_{config.distance}", args.lang))
    for outcome in plan.outcomes:
        summary = outcome.summary(args.lang)
        gap = (
            ""
            if summary["optimality_gap"] is None
            else say("plan_gap", args.lang, gap=f"{summary['optimality_gap']:.2%}")
        )
        echo(
            say(
                "plan_line",
                args.lang,
                program=outcome.program.name(args.lang),
                mode=say(f"mode_{summary['mode']}", args.lang),
                gap=gap,
                sets=summary["sets"],
                spent=f"{summary['spent_cny']:,.0f}",
                budget=f"{summary['budget_cny']:,}",
                unspent=f"{summary['unspent_cny']:,.0f}",
                residents=f"{summary['population_newly_served']:,}",
                communities=f"{summary['communities_newly_within_radius']:,}",
            )
        )
        for message in summary["messages"]:
            echo(f"  ! {message}")
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
        if table.empty:
            echo(say("plan_none_selected", args.lang))
        else:
            echo_table(labelled(table, args.lang))
    if args.out:
        echo(say("wrote", args.lang, path=args.out))
    return 0


def run_eligibility(args, config) -> int:
    from geo.analysis.eligibility import eligibility_columns, reason_labels
    from geo.pipeline import load_city, network_for
    from geo.plan import score_communities
    from geo.render.export import export, with_distance
    from geo.render.provenance import file_sha256

    _check_out(args.out, args.out_crs, args.encoding)
    city = city_with_store_records(load_city(input_file(args.data, "--data", missing_ok=True)), args)
    network = network_for(city, config)
    scored = score_communities(city.communities, city.fitness_paths, config, city.applications, network=network)
    if args.district:
        known = set(city.districts["district_code"])
        if args.district not in known:
            raise refused("district_unknown", code=shown(args.district), known=", ".join(sorted(known)))
        scored = scored[scored["district_code"] == args.district]
    scored = with_district_names(scored, district_names(city.districts, args.lang)).assign(
        reason_text=reason_labels(scored["reasons"], args.lang, scored["missing_fields"])
    )
    if args.landless:
        return run_landless(args, config, city, scored)
    table = scored[eligibility_columns(scored) + ["geometry"]].reset_index(drop=True)
    if args.out:
        with writing(args.out):
            export(
                with_distance(table, config.distance, "nearest_set_m"),
                args.out,
                lang=args.lang,
                crs=OUT_CRS[args.out_crs],
                encoding=args.encoding,
                parameters={  # the data file by name and SHA-256: never a server path
                    "district": district_names(city.districts, args.lang)[args.district] if args.district else "all",
                    "walk_radius_m": config.walk_radius_m,
                    "service_standard": config.standard,
                    "coverage_distance": config.distance,
                    "data_file": args.data.name,
                    "data_sha256": file_sha256(args.data),
                },
            )
        echo(
            say(
                "wrote_eligibility",
                args.lang,
                path=args.out,
                communities=len(table),
                eligible=int(table["eligible"].sum()),
            )
        )
        return 0
    listed = table[["community_id", "name", "district_name", "eligible", "reason_text", "applied"]]
    echo_table(humanised(pd.DataFrame(listed), args.lang))
    return 0


def landless_plan(args, config, city):
    """The plan the land-less list follows, and the sentence saying which (the page's rule,
    ``views.shared.plan_in_use``): the store's newest approved plan, run again as approved on ``--data``;
    else the plan of config.toml's programmes, rank mode, with the city's public sites."""
    from geo.pipeline import load_city, network_for
    from geo.plan import run_plan
    from geo.render.provenance import file_sha256
    from geo.store.db import existing_store
    from geo.store.installations import approved_plans
    from geo.store.plans import rerun_saved

    store = existing_store(args.db, args.data)
    plans = approved_plans(store) if store is not None else pd.DataFrame()
    said, values = "landless_plan_current", {}
    if len(plans):
        newest = plans.assign(_at=pd.to_datetime(plans["approved_at"], utc=True))
        newest = newest.sort_values(["_at", "id"], ascending=False).iloc[0]
        try:
            plan = rerun_saved(store, int(newest["id"]), load_city(args.data), file_sha256(args.data))
        except DataError as error:
            if getattr(error.args[0] if error.args else None, "key", None) != "plan_data_changed":
                raise
            said, values = "landless_plan_changed", {"id": int(newest["id"])}
        else:
            day = pd.Timestamp(newest["approved_at"])
            day = (day.tz_localize("UTC") if day.tzinfo is None else day).tz_convert(config.timezone).date()
            approval = {"id": int(newest["id"]), "name": newest["name"], "by": newest["approved_by"] or ""}
            return plan, text("landless_plan_approved", args.lang, **approval, date=day.isoformat())
    keys = [p.key for p in config.programs]
    plan = run_plan(
        city.communities,
        city.fitness_paths,
        config,
        keys,
        "rank",
        city.applications,
        public_sites=city.public_sites,
        network=network_for(city, config),
    )
    programs = label("export", "list_separator", args.lang).join(p.name(args.lang) for p in config.programs)
    mode = label("export", "mode_rank", args.lang)
    if said == "landless_plan_current":  # the command line has config.toml, not a page's settings
        return plan, say("landless_plan_config", args.lang, programs=programs, mode=mode)
    return plan, text(said, args.lang, programs=programs, mode=mode, **values)


def run_landless(args, config, city, scored) -> int:
    """``geo eligibility --landless``: the land-less communities (of ``--district``), their nearest public
    sites (measured as the plan it follows measured: on foot along the city's roads for a plan on foot) and the
    pick that serves each (:mod:`geo.render.landless`); printed, or written to ``--out`` (.csv or .xlsx, with the
    distance on every row); which plan it follows is said on stderr."""
    from geo.analysis.sites import assess_sites
    from geo.pipeline import network_for
    from geo.plan import landless_table
    from geo.render.export import export, with_distance
    from geo.render.landless import landless_list
    from geo.render.provenance import file_sha256

    if args.out and args.out.suffix.lower() not in (".csv", ".xlsx"):
        raise refused("landless_out_suffix", name=shown(args.out.name))
    plan, said = landless_plan(args, config, city)
    echo(said, file=sys.stderr)
    sites = plan.outcomes[0].sites if plan.outcomes else None
    if sites is None and city.public_sites is not None:
        sites = assess_sites(city.public_sites, city.fitness_paths, config)
    if city.public_sites is None:
        echo(text("landless_no_sites_layer", args.lang), file=sys.stderr)
    table = landless_table(plan, scored, sites, network_for(city, plan.config))
    listed = landless_list(table, plan, args.lang, district_names(city.districts, args.lang))
    if not args.out:
        shown_table = humanised(listed, args.lang).astype(object)
        echo_table(shown_table.where(shown_table.notna(), ""), args.lang)  # a missing figure empty, not <NA>
        return 0
    with writing(args.out):
        export(
            with_distance(listed, plan.config.distance, "site_1_name"),
            args.out,
            lang=args.lang,
            parameters={
                "district": district_names(city.districts, args.lang)[args.district] if args.district else "all",
                "plan": said,
                "walk_radius_m": config.walk_radius_m,
                "coverage_distance": plan.config.distance,
                "data_file": args.data.name,
                "data_sha256": file_sha256(args.data),
            },
        )
    echo(say("wrote_landless", args.lang, path=args.out, communities=len(listed)))
    return 0


def run_sample(args, config) -> int:
    from geo.data.identity import IDENTITY_LAYER
    from geo.data.io import read_districts, write_layers
    from geo.data.sample import generate_sample

    if args.out.suffix.lower() != ".gpkg":
        raise refused("sample_suffix", name=shown(args.out.name))
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise refused(
            "sample_folder", path=str(args.out), folder=str(args.out.parent), reason=error.strerror or Said("refused")
        ) from None
    writable(args.out)
    n = config.sample_communities if args.communities is None else args.communities
    seed = config.sample_seed if args.seed is None else args.seed
    boundaries = input_file(args.boundaries, "--boundaries", missing_ok=True)
    layers = generate_sample(read_districts(boundaries), n_communities=n, seed=seed, roads=True)
    with writing(args.out):
        write_layers(args.out, layers)
    counts = say("list_separator", args.lang).join(
        say("layer_count", args.lang, layer=label("message", f"kind_{name}", args.lang), count=len(frame))
        for name, frame in layers.items()
        if name != IDENTITY_LAYER
    )
    echo(say("wrote_sample", args.lang, path=args.out, counts=counts))
    return 0


def run_template(args, config) -> int:
    from geo.data.io import read_districts
    from geo.intake.template import write_survey_template

    if args.out.suffix.lower() != ".xlsx":
        raise refused("template_suffix", name=shown(args.out.name))
    writable(args.out)
    districts = read_districts(input_file(args.boundaries, "--boundaries", missing_ok=True))
    with writing(args.out):
        write_survey_template(args.out, districts, lang=args.lang, config=config)
    echo(say("wrote", args.lang, path=args.out))
    return 0


def run_import(args, config) -> int:
    from geo.intake.importer import import_file, write_accepted, write_rejects

    input_file(args.file, "file")
    if args.data is not None:
        input_file(args.data, "--data")
    if args.out.suffix.lower() != ".gpkg":
        raise refused("import_out_suffix", name=shown(args.out.name))
    if args.rejects.suffix.lower() != ".csv":
        raise refused("import_rejects_suffix", name=shown(args.rejects.name))
    inputs = {"file": args.file, **({"--data": args.data} if args.data is not None else {})}
    not_an_input(args.out, {"file": args.file})  # --out may be --data: the layer is written into it, the rest kept
    not_an_input(args.rejects, inputs, "--rejects")
    writable(args.out)
    writable(args.rejects, "--rejects")
    from geo.intake.newcity import parse_map_options

    column_map = {}
    for option in args.map:
        column_map.update(parse_map_options([f"{args.layer}.{option}"])[args.layer])
    districts = None
    if args.data is not None:
        from geo.data.io import read_districts

        districts = read_districts(args.data, layer="districts")
    try:
        result = import_file(args.file, args.layer, args.crs, config, districts, column_map=column_map or None)
    except (DataError, OSError):
        raise
    except Exception as error:
        raise refused(
            "import_failed", file=str(args.file), detail=" ".join(str(error).split()) or type(error).__name__
        ) from None
    with writing(args.out):
        write_accepted(result, args.out)
    with writing(args.rejects):
        write_rejects(result, args.rejects)
    status = EXIT_NOTHING_ACCEPTED if result.input_rows and result.accepted.empty else 0
    if args.json:
        print_json(result.summary())
        return status
    summary = result.summary()
    counts = {name: summary[key] for name, key in (("rows", "input_rows"), ("accepted", "accepted"))}
    echo(
        say(
            "import_counts",
            args.lang,
            file=args.file,
            rejected=summary["rejected"],
            repaired=summary["repaired"],
            **counts,
        )
    )
    for warning in result.warnings:
        echo(f"  ! {said(warning, args.lang)}")
    echo(say("wrote_import", args.lang, out=args.out, layer=args.layer, rejects=args.rejects))
    if status:
        echo(say("nothing_accepted", args.lang, rejects=args.rejects), file=sys.stderr)
    return status


CITY_FILE_LAYERS = ("districts", "communities", "fitness_paths", "public_sites", "roads")
CITY_ROW_LAYERS = ("communities", "fitness_paths", "public_sites", "roads")  # checked row by row: a rejects file each
# city init's input options: the layer of --map and --crs they feed -> the option
CITY_INPUTS = {
    "communities": "--communities",
    "districts": "--districts",
    "fitness_paths": "--fitness-paths",
    "applications": "--applications",
    "public_sites": "--sites",
    "roads": "--roads",
}
CITY_NAME_LIMIT = 60  # characters of --name and --name-en


def input_file(path: Path, option: str, missing_ok: bool = False) -> Path:
    """``path`` if it is a regular file (or a link to one), else refuse it before any work.

    A folder, a FIFO or a device is refused by its ``stat`` alone: it is never opened, so a pipe
    with no writer cannot hang the command. With ``missing_ok``, a path that does not exist is
    left to the reader, whose message says so in its own words.
    """
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        if missing_ok:
            return path
        raise refused("input_missing", option=option, path=str(path)) from None
    except OSError as error:
        raise refused(
            "input_unreadable", option=option, path=str(path), reason=error.strerror or Said("refused")
        ) from None
    if not stat.S_ISREG(mode):
        raise refused("input_not_file", option=option, path=str(path))
    return path


def not_a_pipe(path: Path, option: str) -> Path:
    """``path`` unless it is a FIFO (a named pipe), refused before it is opened: with no writer, opening
    it waits forever. Whatever else is wrong with the path, the reader says in its own words."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return path
    if stat.S_ISFIFO(mode):
        raise refused("input_not_file", option=option, path=str(path))
    return path


def not_an_input(path: Path, inputs: dict[str, Path], output: str = "--out") -> None:
    """Refuse to write ``path`` when it is one of ``inputs`` (option -> file): the same resolved path,
    or the same file under another name (a hard link)."""
    for option, given in inputs.items():
        same = path.resolve() == given.resolve()
        with contextlib.suppress(OSError):
            same = same or os.path.samefile(path, given)
        if same:
            raise refused("input_overwritten", path=str(path), option=option, output=output)


def city_rejects_path(out: Path, layer: str) -> Path:
    """Where ``city init --out out`` writes ``layer``'s rejected rows, as
    :func:`geo.intake.newcity.write_city` names them: ``<stem>.<layer>.rejects.csv`` beside ``out``."""
    return out.with_name(f"{out.stem}.{layer}.rejects.csv")


def city_crs(options: list[str]) -> dict[str, str | None]:
    """``--crs`` options (``CRS`` for every file, ``LAYER=CRS`` for one) as layer -> CRS, each value
    spelt as :func:`geo.data.crs.normalise_crs_name` spells it; a layer we do not read, a name it
    does not know, or a second CRS for the same files is refused."""
    from geo.data.crs import normalise_crs_name

    every, per_layer = None, {}
    for option in options:  # "EPSG:4527" for every file, "fitness_paths=wgs84" for one
        layer, sep, value = (part.strip() for part in option.partition("="))
        if sep and layer not in CITY_FILE_LAYERS:
            raise refused("crs_layer", option=shown(option), layers=", ".join(CITY_FILE_LAYERS))
        name = normalise_crs_name(value if sep else layer)
        given = per_layer.get(layer) if sep else every
        if given is not None:
            raise refused("crs_twice", layer=layer if sep else Said("crs_every_file"), first=given, second=name)
        if sep:
            per_layer[layer] = name
        else:
            every = name
    return {layer: per_layer.get(layer, every) for layer in CITY_FILE_LAYERS}


def city_name(value: str | None, option: str) -> str | None:
    """``--name``/``--name-en`` stripped; None when not given or blank; longer than
    :data:`CITY_NAME_LIMIT` characters is refused."""
    if value is None or not value.strip():
        return None
    if len(value.strip()) > CITY_NAME_LIMIT:
        raise refused("name_too_long", option=option, length=len(value.strip()), limit=CITY_NAME_LIMIT)
    return value.strip()


def run_city(args, config) -> int:
    """``city init``: a city GeoPackage from a bureau's own files (:mod:`geo.intake.newcity`).

    Every option is checked before any file is read: the inputs are regular files, the CRS names
    and ``--map`` layers are known, the outputs (``--out`` and the rejects beside it) are writable
    and none of them is an input. A file of which no community is accepted writes the rejects
    and exits with :data:`EXIT_NOTHING_ACCEPTED`.
    """
    from geo.intake.newcity import NoCommunityAccepted, build_city, parse_map_options, write_city

    files = {layer: getattr(args, layer) for layer in CITY_INPUTS if getattr(args, layer) is not None}
    for layer, path in files.items():
        input_file(path, CITY_INPUTS[layer])
    if args.out.suffix.lower() != ".gpkg":
        raise refused("import_out_suffix", name=shown(args.out.name))
    crs = city_crs(args.crs)
    column_map = parse_map_options(args.map)
    for layer in column_map:
        if layer not in files:
            raise refused("map_no_file", layer=layer, option=CITY_INPUTS[layer])
    name, name_en = city_name(args.name, "--name"), city_name(args.name_en, "--name-en")
    inputs = {CITY_INPUTS[layer]: path for layer, path in files.items()}
    rejects = {layer: city_rejects_path(args.out, layer) for layer in CITY_ROW_LAYERS if layer in files}
    for path in (args.out, *rejects.values()):
        not_an_input(path, inputs)
    writable(args.out)
    for path in rejects.values():
        if path.is_dir():
            raise refused("rejects_folder", path=str(path), out=str(args.out))
        writable(path)
    try:
        new_city = build_city(
            args.communities,
            districts=args.districts,
            fitness_paths=args.fitness_paths,
            applications=args.applications,
            public_sites=args.public_sites,
            roads=args.roads,
            crs=crs,
            column_map=column_map,
            name=name,
            name_en=name_en,
            config=config,
            contact=tuple(args.contact),
        )
    except NoCommunityAccepted as nothing:
        return city_nothing_accepted(args, nothing, rejects)
    with writing(args.out):
        written = write_city(new_city, args.out)
    summary = new_city.summary(args.lang)
    if args.json:
        print_json({**summary, "out": str(args.out), "rejects": {k: str(v) for k, v in written.items() if k != "city"}})
        return 0
    for layer in CITY_ROW_LAYERS:
        counts = summary[layer]
        if counts:
            rows = {"rows": counts["input_rows"], **{k: counts[k] for k in ("accepted", "rejected", "repaired")}}
            echo(say("import_counts", args.lang, file=label("message", f"kind_{layer}", args.lang), **rows))
    for warning in summary["warnings"]:
        echo(f"  ! {warning}")
    echo(say("wrote", args.lang, path=args.out))
    return 0


def city_nothing_accepted(args, nothing, rejects: dict[str, Path]) -> int:
    """``city init`` when no community is accepted: each read file's rejects written where
    :func:`city_rejects_path` says, the counts printed (``"out": null`` in JSON), a note on stderr,
    exit :data:`EXIT_NOTHING_ACCEPTED`. ``nothing`` is the :class:`~geo.intake.newcity.NoCommunityAccepted`."""
    from geo.intake.importer import write_rejects

    written = {}
    for layer, result in nothing.results.items():
        path = rejects.get(layer) or city_rejects_path(args.out, layer)
        with writing(path):
            written[layer] = write_rejects(result, path)
    counts = {layer: _city_counts(nothing.results.get(layer), layer) for layer in CITY_ROW_LAYERS}
    notes = [said(w, args.lang) for result in nothing.results.values() for w in result.warnings]
    if args.json:
        print_json(
            {
                **counts,
                "warnings": notes,
                "out": None,
                "rejects": {f"rejects_{layer}": str(path) for layer, path in written.items()},
            }
        )
    else:
        for layer, layer_counts in counts.items():
            if layer_counts:
                rows = {"rows": layer_counts["input_rows"]}
                rows.update({k: layer_counts[k] for k in ("accepted", "rejected", "repaired")})
                echo(say("import_counts", args.lang, file=label("message", f"kind_{layer}", args.lang), **rows))
        for note in notes:
            echo(f"  ! {note}")
        for path in written.values():
            echo(say("wrote", args.lang, path=path))
    echo(say("nothing_accepted", args.lang, rejects=written.get("communities", args.out)), file=sys.stderr)
    return EXIT_NOTHING_ACCEPTED


def _city_counts(result, layer: str) -> dict | None:
    """A layer's counts as city init's JSON has them (:meth:`geo.intake.newcity.NewCity.summary`); None: not read."""
    if result is None:
        return None
    summary = result.summary()
    counts = {k: summary[k] for k in ("input_rows", "accepted", "rejected", "repaired")}
    if layer == "communities":
        counts["population_estimated"] = 0  # nothing accepted, nothing estimated
    counts["crs"] = summary.get("crs")
    return counts


def _fail(message: str, lang: str = "en") -> int:
    echo(say("error", lang, message=message), file=sys.stderr)
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status (0, or 2 after one line on stderr).

    Help and error lines are said in :func:`cli_lang`'s language; an error that is a keyed
    :class:`geo.errors.Message` is said in it too.
    """
    lang = cli_lang()
    try:
        args = _parser(lang).parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error, already printed as one line (2)
        return 0 if stop.code is None else int(stop.code)
    commands = {
        "coverage": run_coverage,
        "network": run_network,
        "plan": run_plan_command,
        "eligibility": run_eligibility,
        "sample": run_sample,
        "import": run_import,
        "template": run_template,
        "city": run_city,
        "users": run_users,
        "applications": run_applications,
        "audit": run_audit,
        "store": run_store,
        "plans": run_plans,
        "installations": run_installations,
        "inspections": run_inspections,
    }
    if getattr(args, "lang", None) is None:  # commands without --lang (or not given) speak the CLI's language
        args.lang = lang
    try:
        with warnings.catch_warnings():
            # numpy's, pandas' and shapely's RuntimeWarnings (an overflow on a coordinate of 1e309 …)
            # are not the user's to read: whatever they warn of is checked and said by the command.
            warnings.simplefilter("ignore", RuntimeWarning)
            config = load_config(not_a_pipe(args.config, "--config"))
            return commands[args.command](args, config)
    except (DataError, OSError) as err:
        return _fail(said(err, lang) or type(err).__name__, lang)
    except KeyboardInterrupt:
        return _fail(say("interrupted", lang), lang)
    except MemoryError:
        return _fail(say("out_of_memory", lang), lang)
    except Exception as err:
        return _fail(
            say("unexpected", lang, type=type(err).__name__, message=str(err) or say("no_message", lang)), lang
        )


if __name__ == "__main__":
    sys.exit(main())
