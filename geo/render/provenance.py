"""Provenance: what a published plan records so that it can be reproduced and checked.

The data file's SHA-256, this software's version, and every parameter of the plan (settings,
programmes, outcome). Computes nothing of the plan itself: it reads :class:`geo.plan.Plan`.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from geo.config import Config
from geo.plan import Plan


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes as 64 lowercase hex digits, to record which data a plan used."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def software_version() -> str:
    """The version of this software (``geo.__version__``), to record which code made a plan."""
    from geo import __version__  # read when asked: the package's version, not a copy

    return __version__


# Each programme's outcome recorded with its settings (those a plan's summary gives).
OUTCOME_KEYS = (
    "spent_cny",
    "unspent_cny",
    "stop_reason",
    "sets",
    "communities_newly_equipped",
    "population_newly_served",
    "communities_newly_within_radius",
    "optimality_gap",
    "solve_seconds",
    "status",
)


def plan_parameters(plan: Plan, config: Config | None = None, data_path=None, data_name: str | None = None) -> dict:
    """Every parameter needed to reproduce ``plan``: settings, programmes, data hash, version.

    Parameters
    ----------
    plan : geo.plan.Plan
        The plan.
    config : geo.config.Config, optional
        Defaults to the one the plan was run with; passing another one is an error, so a file can
        never pair a plan with settings that did not make it.
    data_path : str or os.PathLike, optional
        The data file, read for its SHA-256 (``data_sha256``).
    data_name : str, optional
        The name to record as ``data_file`` (the app: the name the user knows it by); by default
        the last part of ``data_path``. Never a folder: a published file names no server path.

    Returns
    -------
    dict
        Internal keys (labels: :func:`geo.render.export.parameter_rows`); programmes under
        ``program.<key>`` with their settings and :data:`OUTCOME_KEYS` of their summary.
    """
    if config is None:
        config = plan.config
    if config is None:
        raise ValueError("this plan does not record its configuration; pass the config it was run with")
    if plan.config is not None and config != plan.config:
        raise ValueError("the configuration given is not the one this plan was run with; export the plan with its own")

    parameters = {
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "software_version": software_version(),
        "data_file": data_name if data_name is not None else (Path(data_path).name if data_path else ""),
        "data_sha256": file_sha256(data_path) if data_path else "",
        "mode": plan.mode,
        "walk_radius_m": config.walk_radius_m,
        "set_cost_cny": config.set_cost_cny,
        "programs_run": ",".join(o.program.key for o in plan.outcomes),
        "min_open_space_m2": config.min_open_space_m2,
        "old_before_year": config.old_before_year,
        "service_standard": config.standard,
        "coverage_distance": config.distance,
        "unknown_open_space": config.unknown_open_space,
        "distance_cap_m": config.distance_cap_m,
        "priority_weights": dict(config.priority_weights),
        "optimal_time_limit_s": config.optimal_time_limit_s,
        "optimal_mip_rel_gap": config.optimal_mip_rel_gap,
    }
    for outcome in plan.outcomes:
        program = asdict(outcome.program)
        summary = outcome.summary()
        parameters[f"program.{outcome.program.key}"] = {
            **program,
            **{key: summary[key] for key in OUTCOME_KEYS if key in summary},
        }
    return parameters
