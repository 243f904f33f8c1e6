"""Planner configuration: read and check ``config.toml`` (the one file a planner edits)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "config.toml"
DEFAULT_DATA_PATH = REPO_ROOT / "data" / "liuzhou_sample.gpkg"
BOUNDARIES_PATH = REPO_ROOT / "data" / "boundaries" / "liuzhou_districts.geojson"


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
    served_within_radius_is_served: bool
    distance_cap_m: float
    priority_weights: dict[str, float] = field(default_factory=dict)
    optimal_time_limit_s: float = 60.0
    optimal_mip_rel_gap: float = 1e-6
    max_upload_mb: float = 200.0
    max_unzipped_mb: float = 1000.0
    default_footprint_m2: float = 10000.0
    repair_max_area_change: float = 0.05
    max_rows: int = 200_000
    max_vertices: int = 10_000_000
    max_import_seconds: float = 120.0
    max_import_memory_mb: float = 4096.0
    upload_max_age_hours: float = 24.0
    sample_seed: int = 0
    sample_communities: int = 0

    def program(self, key: str) -> Program:
        """Return the programme named ``key``; raise ValueError listing the known keys."""
        for program in self.programs:
            if program.key == key:
                return program
        known = ", ".join(p.key for p in self.programs)
        raise ValueError(f"unknown budget program {key!r}; config.toml defines: {known}")


def _get(table: dict, dotted: str, kind: type | tuple[type, ...]):
    """Fetch ``a.b.c`` from a parsed TOML table, checking presence and type."""
    node = table
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"config.toml: missing key '{dotted}'")
        node = node[part]
    if isinstance(node, bool) and kind is not bool:  # TOML true/false is not a number
        raise ValueError(f"config.toml: '{dotted}' must be a number, not {node!r}")
    if not isinstance(node, kind):
        raise ValueError(f"config.toml: '{dotted}' has the wrong type ({type(node).__name__}: {node!r})")
    return node


def _district_limits(entry: dict, key: str, where: str) -> dict[str, int]:
    """An optional ``{"450202" = 2, …}`` table of whole, non-negative numbers of sets."""
    table = entry.get(key, {})
    if not isinstance(table, dict):
        raise ValueError(f"config.toml: {where}.{key} must be a table like {{ \"450202\" = 2 }}")
    limits = {}
    for code, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"config.toml: {where}.{key}.{code} must be a whole number ≥ 0, got {value!r}")
        limits[str(code)] = value
    return limits


def parse_config(raw: dict) -> Config:
    """Build a :class:`Config` from a parsed TOML mapping, naming any missing or bad key."""
    number = (int, float)
    walk_radius_m = float(_get(raw, "coverage.walk_radius_m", number))
    if walk_radius_m <= 0:
        raise ValueError("config.toml: 'coverage.walk_radius_m' must be positive")
    set_cost_cny = int(_get(raw, "cost.set_cost_cny", int))
    if set_cost_cny <= 0:
        raise ValueError("config.toml: 'cost.set_cost_cny' must be positive")
    programs = []
    for i, entry in enumerate(_get(raw, "programs", list)):
        where = f"programs[{i}]"
        try:
            program = Program(
                key=str(entry["key"]),
                name_zh=str(entry["name_zh"]),
                name_en=str(entry["name_en"]),
                budget_cny=int(entry["budget_cny"]),
                district_min_sets=_district_limits(entry, "district_min_sets", where),
                district_max_sets=_district_limits(entry, "district_max_sets", where),
            )
        except KeyError as missing:
            raise ValueError(f"config.toml: {where} lacks key {missing}") from None
        if program.budget_cny < 0:
            raise ValueError(f"config.toml: {where}.budget_cny must not be negative")
        programs.append(program)
    weights = {str(k): float(v) for k, v in _get(raw, "priority.weights", dict).items()}
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError("config.toml: priority weights must be ≥ 0 and not all zero")
    return Config(
        walk_radius_m=walk_radius_m,
        set_cost_cny=set_cost_cny,
        programs=tuple(programs),
        min_open_space_m2=float(_get(raw, "eligibility.min_open_space_m2", number)),
        old_before_year=int(_get(raw, "eligibility.old_before_year", int)),
        served_within_radius_is_served=bool(_get(raw, "eligibility.served_within_radius_is_served", bool)),
        distance_cap_m=float(_get(raw, "priority.distance_cap_m", number)),
        priority_weights=weights,
        optimal_time_limit_s=float(_get(raw, "optimal.time_limit_s", number)),
        optimal_mip_rel_gap=float(_get(raw, "optimal.mip_rel_gap", number)),
        max_upload_mb=float(_get(raw, "intake.max_upload_mb", number)),
        max_unzipped_mb=float(_get(raw, "intake.max_unzipped_mb", number)),
        default_footprint_m2=float(_get(raw, "intake.default_footprint_m2", number)),
        repair_max_area_change=float(_get(raw, "intake.repair_max_area_change", number)),
        max_rows=int(_get(raw, "intake.max_rows", int)),
        max_vertices=int(_get(raw, "intake.max_vertices", int)),
        max_import_seconds=float(_get(raw, "intake.max_import_seconds", number)),
        max_import_memory_mb=float(_get(raw, "intake.max_import_memory_mb", number)),
        upload_max_age_hours=float(_get(raw, "intake.upload_max_age_hours", number)),
        sample_seed=int(_get(raw, "sample.seed", int)),
        sample_communities=int(_get(raw, "sample.communities", int)),
    )


def load_config(path: str | Path = DEFAULT_CONFIG_PATH) -> Config:
    """Read ``config.toml`` at ``path``; a syntax error is reported with its line."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"configuration file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path.name}: {err}") from None
    return parse_config(raw)
