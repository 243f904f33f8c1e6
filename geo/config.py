"""Planner configuration: read and check ``config.toml`` (the one file a planner edits).

Every value is checked when the file is read, so a mistake stops the app or the CLI at once with
one line naming the key, the value found and what is allowed (:class:`ConfigError`), instead of
surfacing later as a wrong plan. TOML allows ``nan`` and ``inf``; no key here accepts them, and
every number has an upper bound far above any real city (a slip of three zeros is caught, and no
limit is so large that arithmetic overflows or a later step fails with a misleading message).
The command line (:mod:`geo.cli`) checks its arguments against the same rules.

The file is validated by a typed model (:class:`ConfigFile`, pydantic v2, one model per TOML
table): an unknown or misspelt key is refused by name with the nearest valid one, a missing key
is named, and every number is checked by its :class:`Rule` (:data:`NUMERIC_KEYS`). The model is
turned into :class:`Config`, the flat, frozen object the rest of the code reads. The walk radius
has one rule for every door (:data:`WALK_RADIUS_RULE`, :func:`check_walk_radius`).
:class:`ConfigError` is a :class:`geo.errors.DataError`: the user's settings, not a bug.

Adding a key: a field in its table's model (named as in the file), the same in :class:`Config`
and in :func:`parse_config`'s mapping, a :class:`Rule` in :data:`NUMERIC_KEYS` for a number (with
its upper bound, and a row in ``tests/test_config.py``'s ``UPPER_BOUNDS``), and the key with its
meaning, unit and range in ``config.toml``.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from geo.data.schema import OPTIONAL_PRIORITY_COMPONENTS, PRIORITY_COMPONENTS, SITE_KINDS
from geo.errors import DataError, data_error

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "config.toml"
DEFAULT_DATA_PATH = REPO_ROOT / "data" / "liuzhou_sample.gpkg"
BOUNDARIES_PATH = REPO_ROOT / "data" / "boundaries" / "liuzhou_districts.geojson"

# A programme key is typed on the command line as ``--program city,region`` and ``--budget city=…``.
PROGRAM_KEY_FORBIDDEN = ",= \t\r\n"
# The file is a few KB; reading stops here, so a wrong path (/dev/zero, a data file) fails at once.
MAX_CONFIG_BYTES = 1 << 20

# Upper bounds, shared with the command line. Each is far above any real city; see NUMERIC_KEYS.
MAX_WALK_RADIUS_M = 5_000  # the one radius rule: WALK_RADIUS_RULE (config, CLI, app, coverage)
MAX_DISTANCE_M = 1_000_000  # 1,000 km
MAX_AREA_M2 = 1_000_000  # 1 km²
MAX_CNY = 10**12  # one trillion yuan
MAX_SECONDS = 86_400  # one day
MAX_HOURS = 8_760  # one year
MAX_MB = 1_048_576  # 1 TB
MAX_ROWS = 10_000_000
MAX_VERTICES = 1_000_000_000
MAX_PAIRS = 2_000_000_000  # 32 GB of pairs; row indices stay below 2**31
MAX_CONCURRENT_IMPORTS = 100
MAX_MAP_COMMUNITIES = 1_000_000
MAX_SAMPLE_COMMUNITIES = 1_000_000  # measured: 86 s and 5.2 GB for 1,000,000 communities
MAX_SEED = 2**32 - 1
MAX_WEIGHT = 1_000_000
MAX_SETS = 1_000_000
MAX_YEAR = 9999
MAX_NOTICE_DAYS = 366  # a notice period of up to a year
MAX_IDLE_MINUTES = 10_080  # an idle app session logged out after at most a week
# [network]: the walk graph's tolerances (geo.analysis.network). A piece longer than 1 km makes a place reach a
# street only at far-apart nodes; a snap wider than a street merges separate streets; an access leg is a walk.
MAX_SEGMENT_M = 1_000
MAX_SNAP_M = 10
# [eligibility] unknown_open_space: a community whose open space is unknown is surveyed first (not a
# candidate) or assumed to have room (a candidate flagged for a site check); see geo.analysis.eligibility.
UNKNOWN_OPEN_SPACE = ("survey_first", "assume_room")
# [coverage] standard: the service standard a plan pursues and every count follows. "inside" (the
# seed's: every community its own set) or "walk" (every community within the walk radius of a set).
STANDARDS = ("inside", "walk")
# [coverage] distance: how "within the walk radius" is measured. "straight" (a straight line from the set to the
# community's edge) or "network" (on foot along the city's roads layer: geo.analysis.network).
DISTANCES = ("straight", "network")
# [accounts] sso_email_domain: an e-mail address's domain single sign-on trusts (letters, digits, '-', dots).
SSO_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class ConfigError(DataError):
    """``config.toml`` cannot be used; the message is one line naming the file, the key and the fix."""


@dataclass(frozen=True)
class Program:
    """One budget programme: ``budget_cny`` yuan to spend on sets."""

    key: str
    name_zh: str
    name_en: str
    budget_cny: int
    # district_code -> number of sets: at least / at most this many in that district.
    district_min_sets: dict[str, int] = field(default_factory=dict)
    district_max_sets: dict[str, int] = field(default_factory=dict)

    def name(self, lang: str = "zh") -> str:
        """The programme's name in ``lang``."""
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Config:
    """Everything a planner may change; see ``config.toml`` for meaning and units."""

    walk_radius_m: float
    set_cost_cny: int
    programs: tuple[Program, ...]
    min_open_space_m2: float
    old_before_year: int
    distance_cap_m: float
    standard: str = STANDARDS[0]
    # [coverage] distance: "straight" or "network" (on foot along the city's roads); see DISTANCES.
    distance: str = DISTANCES[0]
    unknown_open_space: str = UNKNOWN_OPEN_SPACE[0]
    priority_weights: dict[str, float] = field(default_factory=dict)
    optimal_time_limit_s: float = 60.0
    optimal_mip_rel_gap: float = 1e-6
    max_upload_mb: float = 200.0
    max_unzipped_mb: float = 1000.0
    default_footprint_m2: float = 10000.0
    persons_per_household: float = 2.62
    residents_per_hectare: float = 400.0
    repair_max_area_change: float = 0.05
    max_rows: int = 200_000
    max_vertices: int = 10_000_000
    max_import_seconds: float = 120.0
    max_import_memory_mb: float = 4096.0
    upload_max_age_hours: float = 24.0
    max_concurrent_imports: int = 2
    map_max_communities: int = 30_000
    map_shapes_at_once: int = 20_000
    map_shapes_min_zoom: int = 15
    max_pairs: int = 20_000_000
    sample_seed: int = 0
    sample_communities: int = 0
    city_name_zh: str = ""
    city_name_en: str = ""
    bureau_name_zh: str = ""
    bureau_name_en: str = ""
    contact_zh: tuple[str, ...] = ()
    contact_en: tuple[str, ...] = ()
    notice_period_days: int = 7
    session_idle_minutes: int = 30
    sso_email_domain: str = ""
    timezone: str = "Asia/Shanghai"
    # [sites]: a public site's minimum usable area (m²) and the extra cost (yuan) per kind over a set's.
    site_min_usable_area_m2: float = 150.0
    site_extra_cost_cny: dict[str, int] = field(default_factory=dict)
    # [network]: the walk graph's tolerances (m): pieces lines are cut into, vertices snapped, a community's reach.
    network_segment_m: float = 20.0
    network_snap_m: float = 1.0
    network_access_m: float = 50.0

    def city_name(self, lang: str = "zh") -> str:
        """The city's name in ``lang`` (``[city] name_zh`` / ``name_en``)."""
        return self.city_name_zh if lang == "zh" else self.city_name_en

    def bureau_name(self, lang: str = "zh") -> str:
        """The bureau's name in ``lang`` (``[city] bureau_zh`` / ``bureau_en``), e.g. the city's sports bureau."""
        return self.bureau_name_zh if lang == "zh" else self.bureau_name_en

    def program(self, key: str) -> Program:
        """Return the programme named ``key``; raise ValueError listing the known keys."""
        for program in self.programs:
            if program.key == key:
                return program
        known = ", ".join(p.key for p in self.programs)
        raise data_error("unknown_program", program=shown(key), known=known)


@dataclass(frozen=True)
class Rule:
    """What one numeric key accepts: a finite number in a range, optionally whole.

    ``allowed`` completes the sentence "'key' must be …" in the error message.
    """

    allowed: str
    low: float = -math.inf
    high: float = math.inf
    low_inclusive: bool = True
    high_inclusive: bool = True
    whole: bool = False

    def accepts(self, value: float) -> bool:
        """Whether the finite number ``value`` lies in the range (and is whole, if required).

        Python compares an ``int`` of any size with a float bound exactly, so a 400-digit
        integer is simply out of range (never an OverflowError).
        """
        above = value >= self.low if self.low_inclusive else value > self.low
        below = value <= self.high if self.high_inclusive else value < self.high
        return above and below and (not self.whole or isinstance(value, int) or float(value).is_integer())


def _positive(unit: str, high: int, note: str = "") -> Rule:
    """A number > 0 and ≤ ``high``; ``note`` (e.g. " (one day)") follows the bound in the message."""
    return Rule(f"a positive number of {unit} up to {high:,}{note}", low=0, low_inclusive=False, high=high)


def _whole(what: str, low: int, high: int) -> Rule:
    """A whole number from ``low`` to ``high``."""
    return Rule(f"a whole number of {what} from {low:,} to {high:,}", low=low, high=high, whole=True)


# The one rule for a walk radius, wherever it comes from: config.toml, the CLI's --radius, the app's
# input (its bounds) and geo.analysis.coverage (through check_walk_radius).
WALK_RADIUS_RULE = _positive("metres", MAX_WALK_RADIUS_M)

# dotted key in config.toml -> (Config field, rule)
NUMERIC_KEYS: dict[str, tuple[str, Rule]] = {
    "coverage.walk_radius_m": ("walk_radius_m", WALK_RADIUS_RULE),
    "coverage.max_pairs": ("max_pairs", _whole("pairs", 1, MAX_PAIRS)),
    "cost.set_cost_cny": ("set_cost_cny", _whole("yuan", 1, MAX_CNY)),
    "optimal.time_limit_s": ("optimal_time_limit_s", _positive("seconds", MAX_SECONDS, " (one day)")),
    "optimal.mip_rel_gap": (
        "optimal_mip_rel_gap",
        Rule("a share ≥ 0 and < 1 (1e-6 = 0.0001 %)", low=0, high=1, high_inclusive=False),
    ),
    "eligibility.min_open_space_m2": (
        "min_open_space_m2",
        Rule(f"a number of square metres from 0 to {MAX_AREA_M2:,}", low=0, high=MAX_AREA_M2),
    ),
    "sites.min_usable_area_m2": (
        "site_min_usable_area_m2",
        Rule(f"a number of square metres from 0 to {MAX_AREA_M2:,}", low=0, high=MAX_AREA_M2),
    ),
    "eligibility.old_before_year": (
        "old_before_year",
        Rule(f"a year from 1 to {MAX_YEAR}", low=1, high=MAX_YEAR, whole=True),
    ),
    "priority.distance_cap_m": ("distance_cap_m", _positive("metres", MAX_DISTANCE_M)),
    "intake.max_upload_mb": ("max_upload_mb", _positive("MB", MAX_MB, " (1 TB)")),
    "intake.max_unzipped_mb": ("max_unzipped_mb", _positive("MB", MAX_MB, " (1 TB)")),
    "intake.default_footprint_m2": ("default_footprint_m2", _positive("square metres", MAX_AREA_M2)),
    "intake.persons_per_household": ("persons_per_household", _positive("persons", 20)),
    "intake.residents_per_hectare": ("residents_per_hectare", _positive("residents per hectare", 10_000)),
    "intake.repair_max_area_change": (
        "repair_max_area_change",
        Rule("a share from 0 to 1 (0.05 = 5 %)", low=0, high=1),
    ),
    "intake.max_rows": ("max_rows", _whole("rows", 1, MAX_ROWS)),
    "intake.max_vertices": ("max_vertices", _whole("vertices", 1, MAX_VERTICES)),
    "intake.max_import_seconds": ("max_import_seconds", _positive("seconds", MAX_SECONDS, " (one day)")),
    "intake.max_import_memory_mb": ("max_import_memory_mb", _positive("MB", MAX_MB, " (1 TB)")),
    "intake.upload_max_age_hours": ("upload_max_age_hours", _positive("hours", MAX_HOURS, " (one year)")),
    "intake.max_concurrent_imports": ("max_concurrent_imports", _whole("imports", 1, MAX_CONCURRENT_IMPORTS)),
    "map.max_communities": ("map_max_communities", _whole("communities", 1, MAX_MAP_COMMUNITIES)),
    "map.shapes_at_once": ("map_shapes_at_once", _whole("communities", 1, MAX_MAP_COMMUNITIES)),
    "map.shapes_min_zoom": ("map_shapes_min_zoom", _whole("zoom levels", 10, 19)),
    "sample.seed": ("sample_seed", Rule(f"a whole number from 0 to {MAX_SEED:,}", low=0, high=MAX_SEED, whole=True)),
    "sample.communities": ("sample_communities", _whole("communities", 1, MAX_SAMPLE_COMMUNITIES)),
    "notice.period_days": ("notice_period_days", _whole("days", 1, MAX_NOTICE_DAYS)),
    "accounts.session_idle_minutes": ("session_idle_minutes", _whole("minutes", 1, MAX_IDLE_MINUTES)),
    "network.segment_m": ("network_segment_m", _positive("metres", MAX_SEGMENT_M)),
    "network.snap_m": ("network_snap_m", _positive("metres", MAX_SNAP_M)),
    "network.access_m": ("network_access_m", _positive("metres", MAX_WALK_RADIUS_M)),
}
BUDGET_RULE = _whole("yuan", 0, MAX_CNY)
WEIGHT_RULE = Rule(f"a number from 0 to {MAX_WEIGHT:,}", low=0, high=MAX_WEIGHT)
SETS_RULE = _whole("sets", 0, MAX_SETS)


def shown(value, limit: int = 60) -> str:
    """``value`` as it would be written in TOML, on one line and at most ``limit`` characters."""
    text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_walk_radius(walk_radius_m) -> float:
    """``walk_radius_m`` as a float if :data:`WALK_RADIUS_RULE` accepts it, else raise :class:`DataError`.

    The check every door shares: config.toml's ``[coverage] walk_radius_m``, the CLI's ``--radius``,
    the app's radius input (bounded by the same numbers) and :func:`with_overrides`.
    """
    is_number = isinstance(walk_radius_m, (int, float)) and not isinstance(walk_radius_m, bool)
    if (
        not is_number
        or not (isinstance(walk_radius_m, int) or math.isfinite(walk_radius_m))
        or not WALK_RADIUS_RULE.accepts(walk_radius_m)
    ):
        raise DataError(f"the walk radius must be {WALK_RADIUS_RULE.allowed}, got {shown(walk_radius_m)}")
    return float(walk_radius_m)


def with_overrides(config: Config, walk_radius_m=None, weights=None, budgets: dict | None = None) -> Config:
    """A copy of ``config`` with the walk radius, weights or programme budgets replaced.

    The radius is checked by :func:`check_walk_radius`. A budget for a key the configuration does
    not define adds a programme named by its key.
    """
    programs = config.programs
    if budgets:
        unknown = sorted(set(budgets) - {p.key for p in programs})
        programs = tuple(replace(p, budget_cny=int(budgets[p.key])) if p.key in budgets else p for p in programs)
        programs += tuple(Program(key, key, key, int(budgets[key])) for key in unknown)
    return replace(
        config,
        walk_radius_m=config.walk_radius_m if walk_radius_m is None else check_walk_radius(walk_radius_m),
        priority_weights=config.priority_weights if weights is None else dict(weights),
        programs=programs,
    )


def checked_number(value, key: str, rule: Rule, source: str = "config.toml") -> int | float:
    """``value`` if it is a finite number that ``rule`` accepts, else raise :class:`ConfigError`.

    Parameters
    ----------
    value : object
        The parsed TOML value.
    key : str
        Its dotted name, for the message (e.g. ``"optimal.time_limit_s"``).
    rule : Rule
        The allowed range.
    source : str
        The file name, for the message.

    Returns
    -------
    int or float
        An ``int`` when the rule asks for a whole number, else a ``float``.
    """
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    finite = isinstance(value, int) or (is_number and math.isfinite(value))  # math.isfinite(10**400) overflows
    if not is_number or not finite or not rule.accepts(value):
        raise ConfigError(f"{source}: '{key}' must be {rule.allowed}, got {shown(value)}")
    return int(value) if rule.whole else float(value)


def _unknown_key(key, known: list[str], where: str) -> str:
    """The message for a key that is not a setting: its name, the nearest valid one and the list."""
    dotted = f"{where}.{key}" if where else str(key)
    nearest = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f"; did you mean '{nearest[0]}'?" if nearest else ""
    table = f"[{where}]" if where else "the file's top level"
    return f"unknown key {shown(dotted, 80)}{hint} (the keys of {table} are: {', '.join(known)})"


def _source(info: ValidationInfo) -> str:
    """The file name for messages, passed to the model as its validation context."""
    return (info.context or {}).get("source", "config.toml")


def _fail(info: ValidationInfo, message: str):
    """Raise the :class:`ConfigError` ``source: message`` (pydantic keeps it, see :func:`parse_config`)."""
    raise ConfigError(f"{_source(info)}: {message}")


class _Table(BaseModel):
    """One TOML table: unknown keys refused with the nearest valid one, numbers checked by their rule.

    Each field is named as its key in config.toml; ``_where`` is the table's dotted name. A number
    whose dotted key is in :data:`NUMERIC_KEYS` is checked by its :class:`Rule` before pydantic checks
    its type, so the message is the one line naming the key, the value and the allowed range.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    _where: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data, info: ValidationInfo):
        if not isinstance(data, dict):
            _fail(info, f"'{cls._where}' must be a table ([{cls._where}] followed by its keys), got {shown(data)}")
        known = list(cls.model_fields)
        for key in data:
            if key not in known:
                _fail(info, _unknown_key(key, known, cls._where))
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_in_range(cls, value, info: ValidationInfo):
        dotted = f"{cls._where}.{info.field_name}"
        if dotted in NUMERIC_KEYS:
            return checked_number(value, dotted, NUMERIC_KEYS[dotted][1], _source(info))
        return value


def _text(value, dotted: str, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(info, f"'{dotted}' must be a non-empty text in quotes, got {shown(value)}")
    return value


def _one_of(value, choices: tuple[str, ...], dotted: str, info: ValidationInfo) -> str:
    """``value`` when it is one of ``choices``; else one line naming the key and every choice."""
    if value not in choices:
        said = " or ".join(f'"{choice}"' for choice in choices)
        _fail(info, f"'{dotted}' must be {said}, got {shown(value)}")
    return value


class CityTable(_Table):
    """``[city]``: the names shown in titles, exports and the notice."""

    _where: ClassVar[str] = "city"
    name_zh: str
    name_en: str
    bureau_zh: str
    bureau_en: str
    # The public notice's feedback lines (phone, e-mail, address …); optional, added later.
    contact_zh: list[str] = []
    contact_en: list[str] = []
    # The zone times are shown in to people (an IANA name); the store keeps UTC. Optional, added later.
    timezone: str = "Asia/Shanghai"

    @field_validator("name_zh", "name_en", "bureau_zh", "bureau_en", mode="before")
    @classmethod
    def _non_empty(cls, value, info: ValidationInfo):
        return _text(value, f"city.{info.field_name}", info)

    @field_validator("timezone", mode="before")
    @classmethod
    def _zone(cls, value, info: ValidationInfo):
        value = _text(value, "city.timezone", info)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            _fail(info, f"'city.timezone' must be a time zone name like \"Asia/Shanghai\", got {shown(value)}")
        return value


class CoverageTable(_Table):
    _where: ClassVar[str] = "coverage"
    walk_radius_m: float
    max_pairs: int
    # Optional: a configuration written before the key existed keeps the seed's standard.
    standard: str = STANDARDS[0]
    # Optional: a configuration written before the key existed measures straight lines.
    distance: str = DISTANCES[0]

    @field_validator("standard", mode="before")
    @classmethod
    def _a_standard(cls, value, info: ValidationInfo):
        return _one_of(value, STANDARDS, "coverage.standard", info)

    @field_validator("distance", mode="before")
    @classmethod
    def _a_distance(cls, value, info: ValidationInfo):
        return _one_of(value, DISTANCES, "coverage.distance", info)


class CostTable(_Table):
    _where: ClassVar[str] = "cost"
    set_cost_cny: int


class OptimalTable(_Table):
    _where: ClassVar[str] = "optimal"
    time_limit_s: float
    mip_rel_gap: float


class EligibilityTable(_Table):
    _where: ClassVar[str] = "eligibility"
    min_open_space_m2: float
    old_before_year: int
    # Optional: a configuration written before the key existed keeps its meaning (survey first).
    unknown_open_space: str = UNKNOWN_OPEN_SPACE[0]

    @model_validator(mode="before")
    @classmethod
    def _replaced_keys(cls, data, info: ValidationInfo):
        if isinstance(data, dict) and "served_within_radius_is_served" in data:
            _fail(
                info,
                "'eligibility.served_within_radius_is_served' is replaced by 'coverage.standard': "
                'write standard = "walk" under [coverage] for true, "inside" for false, and delete this key',
            )
        return data

    @field_validator("unknown_open_space", mode="before")
    @classmethod
    def _one_of_the_choices(cls, value, info: ValidationInfo):
        return _one_of(value, UNKNOWN_OPEN_SPACE, "eligibility.unknown_open_space", info)


class PriorityTable(_Table):
    """``[priority]`` and ``[priority.weights]`` (checked by :func:`_weights`: names listed, not all zero)."""

    _where: ClassVar[str] = "priority"
    distance_cap_m: float
    weights: dict[str, float]

    @field_validator("weights", mode="before")
    @classmethod
    def _six_weights(cls, value, info: ValidationInfo):
        return _weights(value, _source(info))


class IntakeTable(_Table):
    _where: ClassVar[str] = "intake"
    max_upload_mb: float
    max_unzipped_mb: float
    default_footprint_m2: float
    # Added after the first release: a config.toml written before them keeps working.
    persons_per_household: float = 2.62
    residents_per_hectare: float = 400.0
    repair_max_area_change: float
    max_rows: int
    max_vertices: int
    max_import_seconds: float
    max_import_memory_mb: float
    upload_max_age_hours: float
    max_concurrent_imports: int


class MapTable(_Table):
    _where: ClassVar[str] = "map"
    max_communities: int
    # Added with issue 17 (a large city's map): a config.toml written before them keeps working.
    shapes_at_once: int = 20_000
    shapes_min_zoom: int = 15


class SampleTable(_Table):
    _where: ClassVar[str] = "sample"
    seed: int
    communities: int


class NoticeTable(_Table):
    """``[notice]``: the public notice's period (公示期)."""

    _where: ClassVar[str] = "notice"
    period_days: int = 7


class AccountsTable(_Table):
    """``[accounts]``: an idle app session's lifetime; which e-mail domain single sign-on trusts."""

    _where: ClassVar[str] = "accounts"
    session_idle_minutes: int = 30
    sso_email_domain: str = ""

    @field_validator("sso_email_domain", mode="before")
    @classmethod
    def _a_domain(cls, value, info: ValidationInfo):
        if not isinstance(value, str) or (value.strip() and not SSO_DOMAIN.match(value.strip())):
            domain = 'a domain like "city.gov.cn"'
            _fail(info, f"'accounts.sso_email_domain' must be \"\" or {domain}, got {shown(value)}")
        return value.strip().lower()


class SitesTable(_Table):
    """``[sites]``: the rules of public sites as candidate locations (optional, added later)."""

    _where: ClassVar[str] = "sites"
    min_usable_area_m2: float = 150.0
    extra_cost_cny: dict[str, int] = {}

    @field_validator("extra_cost_cny", mode="before")
    @classmethod
    def _costs_per_kind(cls, value, info: ValidationInfo):
        return _site_extra_costs(value, _source(info))


class NetworkTable(_Table):
    """``[network]``: the walk graph's tolerances in metres (optional, added later; see geo.analysis.network)."""

    _where: ClassVar[str] = "network"
    segment_m: float = 20.0
    snap_m: float = 1.0
    access_m: float = 50.0

    @model_validator(mode="after")
    def _snap_below_half_a_piece(self, info: ValidationInfo):
        # A line is cut into pieces longer than half of segment_m: a wider snap would merge its own nodes.
        if self.snap_m * 2 > self.segment_m:
            _fail(
                info,
                f"'network.snap_m' ({shown(self.snap_m)}) must be at most half of 'network.segment_m' "
                f"({shown(self.segment_m)}), or a street's own nodes would be merged",
            )
        return self


def _site_extra_costs(table, source: str) -> dict[str, int]:
    """``[sites.extra_cost_cny]``: kind → whole yuan ≥ 0; a kind not listed costs nothing extra."""
    if not isinstance(table, dict):
        raise ConfigError(
            f"{source}: 'sites.extra_cost_cny' has the wrong type ({type(table).__name__}: {shown(table)}); "
            "write it as a [sites.extra_cost_cny] table"
        )
    for kind in table:
        if kind not in SITE_KINDS:
            nearest = difflib.get_close_matches(str(kind), SITE_KINDS, n=1, cutoff=0.6)
            hint = f" (did you mean '{nearest[0]}'?)" if nearest else ""
            raise ConfigError(
                f"{source}: unknown site kind {shown(kind, 40)} in [sites.extra_cost_cny]{hint}; "
                f"the kinds are: {', '.join(SITE_KINDS)}"
            )
    return {
        kind: int(checked_number(table[kind], f"sites.extra_cost_cny.{kind}", BUDGET_RULE, source)) for kind in table
    }


class ConfigFile(_Table):
    """The whole of ``config.toml``, typed; :func:`parse_config` turns it into a :class:`Config`."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    city: CityTable
    coverage: CoverageTable
    cost: CostTable
    programs: tuple[Program, ...]
    optimal: OptimalTable
    eligibility: EligibilityTable
    priority: PriorityTable
    intake: IntakeTable
    map: MapTable
    sample: SampleTable
    # Added after the first release: a config.toml without [notice] keeps working.
    notice: NoticeTable = NoticeTable()
    accounts: AccountsTable = AccountsTable()
    sites: SitesTable = SitesTable()
    network: NetworkTable = NetworkTable()

    @field_validator("programs", mode="before")
    @classmethod
    def _checked_programs(cls, value, info: ValidationInfo):
        return _programs(value, _source(info))


def _district_limits(entry: dict, key: str, where: str, source: str) -> dict[str, int]:
    """An optional ``{"450202" = 2, …}`` table of whole, non-negative numbers of sets."""
    table = entry.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: '{where}.{key}' must be a table like {{ \"450202\" = 2 }}, got {shown(table)}")
    return {
        str(code): checked_number(value, f"{where}.{key}.{code}", SETS_RULE, source) for code, value in table.items()
    }


PROGRAM_KEYS = ["key", "name_zh", "name_en", "budget_cny", "district_min_sets", "district_max_sets"]


def _program(entry, where: str, source: str) -> Program:
    """One ``[[programs]]`` entry, every field checked."""
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{source}: '{where}' must be a table with key, name_zh, name_en and budget_cny, got {shown(entry)}"
        )
    for key in entry:
        if key not in PROGRAM_KEYS:
            raise ConfigError(f"{source}: {_unknown_key(key, PROGRAM_KEYS, where)}")
    for name in ("key", "name_zh", "name_en", "budget_cny"):
        if name not in entry:
            raise ConfigError(f"{source}: {where} lacks key '{name}'")
    for name in ("key", "name_zh", "name_en"):
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise ConfigError(
                f"{source}: '{where}.{name}' must be a non-empty text in quotes, got {shown(entry[name])}"
            )
    key = entry["key"]
    if any(c in PROGRAM_KEY_FORBIDDEN for c in key):
        raise ConfigError(
            f"{source}: '{where}.key' must be one word without spaces, commas or '=' "
            f"(it is typed as --program city,region), got {shown(key)}"
        )
    program = Program(
        key=key,
        name_zh=entry["name_zh"],
        name_en=entry["name_en"],
        budget_cny=checked_number(entry["budget_cny"], f"{where}.budget_cny", BUDGET_RULE, source),
        district_min_sets=_district_limits(entry, "district_min_sets", where, source),
        district_max_sets=_district_limits(entry, "district_max_sets", where, source),
    )
    for code, low in program.district_min_sets.items():
        high = program.district_max_sets.get(code)
        if high is not None and low > high:
            raise ConfigError(
                f"{source}: '{where}' ({key}) asks for at least {low} and at most {high} sets in "
                f"district {code}; make district_min_sets ≤ district_max_sets"
            )
    return program


def _programs(entries, source: str) -> tuple[Program, ...]:
    """The ``[[programs]]`` list: at least one, keys unique."""
    if not isinstance(entries, list):
        raise ConfigError(
            f"{source}: 'programs' has the wrong type ({type(entries).__name__}: {shown(entries)}); "
            "write each programme as a [[programs]] table"
        )
    if not entries:
        raise ConfigError(
            f"{source}: 'programs' is empty; define at least one [[programs]] with key, names and budget_cny"
        )
    programs: list[Program] = []
    for i, entry in enumerate(entries):
        program = _program(entry, f"programs[{i}]", source)
        for j, earlier in enumerate(programs):
            if earlier.key == program.key:
                raise ConfigError(
                    f"{source}: 'programs[{i}].key' repeats {shown(program.key)} of programs[{j}]; "
                    "each programme needs its own key"
                )
        programs.append(program)
    return tuple(programs)


def _weights(table, source: str) -> dict[str, float]:
    """``[priority.weights]``: one weight for each component of :data:`PRIORITY_COMPONENTS`, none other.

    A weight name that is not a component (``populaton = 25``) would weigh nothing, and a
    component left out would silently weigh 0; both are refused, naming the components (and the
    nearest one to a misspelt name). A component is left out of the score by writing its weight as 0.
    A component of :data:`OPTIONAL_PRIORITY_COMPONENTS` (added after configs were written) may be left
    out: its weight is then 0.
    """
    if not isinstance(table, dict):
        raise ConfigError(
            f"{source}: 'priority.weights' has the wrong type ({type(table).__name__}: {shown(table)}); "
            "write it as a [priority.weights] table"
        )
    known = ", ".join(PRIORITY_COMPONENTS)
    unknown = [name for name in table if name not in PRIORITY_COMPONENTS]
    if unknown:
        names = ", ".join(shown(name, 40) for name in unknown)
        nearest = difflib.get_close_matches(str(unknown[0]), PRIORITY_COMPONENTS, n=1, cutoff=0.6)
        hint = f" (did you mean '{nearest[0]}'?)" if nearest else ""
        raise ConfigError(
            f"{source}: unknown priority weight {names} in [priority.weights]{hint}; the weights are: {known}"
        )
    missing = [name for name in PRIORITY_COMPONENTS if name not in table and name not in OPTIONAL_PRIORITY_COMPONENTS]
    if missing:
        raise ConfigError(
            f"{source}: [priority.weights] lacks {', '.join(missing)}; give each of {known} "
            "a weight (0 leaves a component out of the score)"
        )
    weights = {
        name: float(checked_number(table.get(name, 0), f"priority.weights.{name}", WEIGHT_RULE, source))
        for name in PRIORITY_COMPONENTS
    }
    if sum(weights.values()) <= 0:
        raise ConfigError(f"{source}: priority weights must be ≥ 0 and not all zero, got {shown(table)}")
    return weights


def _one_line(error: ValidationError, source: str) -> ConfigError:
    """The first problem pydantic found, as the one-line :class:`ConfigError` the doors show."""
    first = error.errors(include_url=False)[0]
    raised = (first.get("ctx") or {}).get("error")
    if isinstance(raised, ConfigError):  # ours, already one line naming the key
        return raised
    dotted = ".".join(str(part) for part in first["loc"])
    if first["type"] == "missing":
        return ConfigError(f"{source}: missing key '{dotted}'")
    value = first.get("input")
    if isinstance(value, bool) and first["type"] in ("float_type", "int_type", "float_parsing", "int_parsing"):
        return ConfigError(f"{source}: '{dotted}' must be a number, not {shown(value)}")
    return ConfigError(f"{source}: '{dotted}' has the wrong type ({type(value).__name__}: {shown(value)})")


def parse_config(raw: dict, source: str = "config.toml") -> Config:
    """Build a :class:`Config` from a parsed TOML mapping, naming any missing, unknown or bad key.

    The mapping is validated by :class:`ConfigFile` (pydantic): every table and key known, every
    number in its range, types as declared. The first problem found is raised.

    Parameters
    ----------
    raw : dict
        The parsed TOML document.
    source : str
        The file name used in messages.

    Raises
    ------
    ConfigError
        A subclass of :class:`geo.errors.DataError` (a ValueError), with one line naming the key, the
        value and the allowed range; an unknown key is named with the nearest valid one.
    """
    try:
        model = ConfigFile.model_validate(raw, context={"source": source})
    except ValidationError as error:
        raise _one_line(error, source) from None
    except ConfigError as error:  # raised by the top-level check, which pydantic does not wrap
        raise error from None
    intake = model.intake
    return Config(
        walk_radius_m=model.coverage.walk_radius_m,
        max_pairs=model.coverage.max_pairs,
        set_cost_cny=model.cost.set_cost_cny,
        programs=model.programs,
        optimal_time_limit_s=model.optimal.time_limit_s,
        optimal_mip_rel_gap=model.optimal.mip_rel_gap,
        min_open_space_m2=model.eligibility.min_open_space_m2,
        old_before_year=model.eligibility.old_before_year,
        standard=model.coverage.standard,
        distance=model.coverage.distance,
        unknown_open_space=model.eligibility.unknown_open_space,
        distance_cap_m=model.priority.distance_cap_m,
        priority_weights=dict(model.priority.weights),
        max_upload_mb=intake.max_upload_mb,
        max_unzipped_mb=intake.max_unzipped_mb,
        default_footprint_m2=intake.default_footprint_m2,
        persons_per_household=intake.persons_per_household,
        residents_per_hectare=intake.residents_per_hectare,
        repair_max_area_change=intake.repair_max_area_change,
        max_rows=intake.max_rows,
        max_vertices=intake.max_vertices,
        max_import_seconds=intake.max_import_seconds,
        max_import_memory_mb=intake.max_import_memory_mb,
        upload_max_age_hours=intake.upload_max_age_hours,
        max_concurrent_imports=intake.max_concurrent_imports,
        map_max_communities=model.map.max_communities,
        map_shapes_at_once=model.map.shapes_at_once,
        map_shapes_min_zoom=model.map.shapes_min_zoom,
        sample_seed=model.sample.seed,
        sample_communities=model.sample.communities,
        city_name_zh=model.city.name_zh,
        city_name_en=model.city.name_en,
        bureau_name_zh=model.city.bureau_zh,
        bureau_name_en=model.city.bureau_en,
        contact_zh=tuple(model.city.contact_zh),
        contact_en=tuple(model.city.contact_en),
        notice_period_days=model.notice.period_days,
        session_idle_minutes=model.accounts.session_idle_minutes,
        sso_email_domain=model.accounts.sso_email_domain,
        timezone=model.city.timezone,
        site_min_usable_area_m2=model.sites.min_usable_area_m2,
        site_extra_cost_cny={kind: model.sites.extra_cost_cny.get(kind, 0) for kind in SITE_KINDS},
        network_segment_m=model.network.segment_m,
        network_snap_m=model.network.snap_m,
        network_access_m=model.network.access_m,
    )


def load_config(path: str | Path = DEFAULT_CONFIG_PATH) -> Config:
    """Read and check ``config.toml`` at ``path``.

    Raises
    ------
    ConfigError
        A subclass of ValueError whose message is one line: the file cannot be read, is not valid
        TOML (with the line and column), or a key is missing or out of range. The CLI prints it
        after ``error:``; the app shows it through :func:`config_error_text`.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except OSError as error:
        raise ConfigError(f"cannot read the configuration file {path}: {error.strerror or error}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_CONFIG_BYTES >> 20} MB, so not a configuration file "
            "(config.toml is a few KB); check the path given"
        )
    try:
        document = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path.name}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    try:
        raw = tomllib.loads(document)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path.name}: {error}") from None
    except ValueError as error:  # Python's own limit: an integer of more than 4,300 digits
        raise ConfigError(
            f"{path.name}: a number too long to read ({' '.join(str(error).split()[:6])} …); "
            "no setting needs more than 13 digits"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path.name}: arrays or tables nested too deeply to read") from None
    return parse_config(raw, path.name)


def config_error_text(error: ConfigError, lang: str = "zh") -> str:
    """The one line the app shows for a configuration it cannot use: what to do, then the CLI's message."""
    advice = (
        "配置文件有误，请修改后刷新页面："
        if lang == "zh"
        else "The configuration file has an error; correct it and reload the page: "
    )
    return advice + str(error)
