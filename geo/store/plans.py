"""Saved plans: a plan kept with a name, compared with another, approved, and re-run to check it.

A saved plan holds what it was run on (the data file's SHA-256), everything needed to run it
again (``parameters``: the whole configuration, the programmes in order, the mode and the
applications the priority read), what it achieved (``metrics``: per programme sets, money spent
and left, residents newly within the walk radius, why it stopped) and one ``plan_picks`` row per
set bought (programme, order, community, district, the set's site in WGS84 degrees, cost in CNY,
and the pick's row as JSON). Saving is one transaction with its audit row: a save interrupted at
any point leaves nothing.

A planner or an administrator saves (status ``proposed``); an administrator approves; an approved
plan is frozen (database triggers refuse any change to it or its picks; :func:`rename_plan` says
so as a :class:`~geo.errors.DataError`). Everyone with an account may read saved plans; a district
office sees only the picks in its own districts, and figures summed from those picks alone
(never the city's totals), and the parameters without the lists naming communities and sites
all over the city (:data:`CITY_WIDE_PARAMETERS`): the filter is applied here, where the rows are read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from geo import __version__
from geo.config import DISTANCES, Config, Program
from geo.data.city import CityData
from geo.data.crs import metric_crs_for
from geo.errors import data_error
from geo.pipeline import network_for
from geo.plan import PLAN_COLUMNS, Plan, planned_sets, run_plan
from geo.store.actors import Actor
from geo.store.applications import enter_plan
from geo.store.audit import record
from geo.store.checks import checked_text, row_id
from geo.store.locking import locked_row
from geo.store.schema import PlanPick, SavedPlan

NAME_MAX_CHARS = 200  # plans.name is String(200)
PICKS_PER_INSERT = 500  # picks are written in batches of this many rows (one statement each)
FROZEN_TEXT = "an approved plan is frozen"  # the triggers' message (migration 0002)

PLAN_FIELDS = (
    "id",
    "name",
    "status",
    "mode",
    "data_name",
    "data_sha256",
    "notes",
    "created_by",
    "created_at",
    "approved_by",
    "approved_at",
)
PICK_COLUMNS = ("program", "rank", "community_id", "district_code", "lon", "lat", "cost_cny", "details")
# A programme's figures kept as its metrics (the keys of geo.plan.ProgramOutcome.summary that do
# not change from one run to the next: solve_seconds does, and is not kept).
METRIC_KEYS = (
    "budget_cny",
    "sets",
    "spent_cny",
    "unspent_cny",
    "population_newly_served",
    "communities_newly_within_radius",
    "candidates_left_out",
    "stop_reason",
    "optimality_gap",
    "status",
)
TOTAL_KEYS = (
    "budget_cny",
    "sets",
    "spent_cny",
    "unspent_cny",
    "population_newly_served",
    "communities_newly_within_radius",
)
# What a district office sees of a plan's figures: sums over the picks in its districts.
PICK_METRIC_KEYS = ("sets", "spent_cny", "population_newly_served")
# The saved parameters that name communities and sites of the whole city (the applications the
# priority counted, the installed sets' ids and sites): a district office is not shown them.
CITY_WIDE_PARAMETERS = ("applications", "installed_sets")
_PICK_OWN = {"program", "program_name", "mode", "rank", "community_id", "district_code", "cost_cny"}


def data_sha256(path) -> str:
    """The SHA-256 of the file at ``path`` (64 lowercase hex digits), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- what a plan is saved as


def plan_parameters(plan: Plan) -> dict:
    """Everything needed to run ``plan`` again, JSON-ready.

    Keys: ``mode``, ``program_keys`` (in run order), the settings a reader looks for
    (``walk_radius_m`` m, ``standard``, ``unknown_open_space``, ``set_cost_cny`` CNY,
    ``priority_weights``, ``programs`` with budgets in CNY), ``applications`` (``[community_id,
    ISO date]`` of every community the priority counted as having applied), ``public_sites``
    (whether the city's public sites were candidates), ``distance`` (``straight`` or ``network``: how the
    walk radius was measured, :data:`geo.config.DISTANCES`), ``software_version``
    and ``config`` (the whole :class:`geo.config.Config`, read back by :func:`config_from_parameters`).
    """
    config = plan.config
    if config is None:
        raise ValueError("this plan does not record its configuration; it cannot be saved")
    keys = [o.program.key for o in plan.outcomes]
    return {
        "mode": plan.mode,
        "program_keys": keys,
        "walk_radius_m": config.walk_radius_m,
        "standard": config.standard,
        "unknown_open_space": config.unknown_open_space,
        "set_cost_cny": config.set_cost_cny,
        "priority_weights": dict(config.priority_weights),
        "programs": [dataclasses.asdict(o.program) for o in plan.outcomes],
        "applications": applications_seen(plan),
        "public_sites": any(o.sites is not None for o in plan.outcomes),
        "distance": config.distance,
        "software_version": __version__,
        "config": dataclasses.asdict(config),
    }


def applications_seen(plan: Plan) -> list[list[str]]:
    """``[community_id, ISO date]`` of each community the plan's priority counted as applied (id order).

    The applications are saved with the plan, so re-running it gives the same priority even after
    new applications arrive in the store.
    """
    if not plan.outcomes:
        return []
    scored = plan.outcomes[0].scored
    if "applied" not in scored.columns:
        return []
    applied = scored.loc[scored["applied"].astype(bool), ["community_id", "application_date"]]
    applied = applied.assign(community_id=applied["community_id"].astype(str)).sort_values("community_id")
    return [
        [cid, pd.Timestamp(day).isoformat()] for cid, day in zip(applied["community_id"], applied["application_date"])
    ]


def saved_distance(parameters: dict) -> str:
    """How a saved plan measured its walk radius: ``straight`` or ``network`` (on foot along the roads).

    A plan saved before distances on foot existed (issue 16) records none: it was measured in straight
    lines, and its configuration, read back by :func:`config_from_parameters`, says so by default.
    """
    return str(parameters.get("distance") or parameters.get("config", {}).get("distance") or DISTANCES[0])


def config_from_parameters(parameters: dict) -> Config:
    """The :class:`geo.config.Config` saved in ``parameters["config"]`` (keys this version does not know are
    dropped; keys it added since take their defaults)."""
    saved = dict(parameters["config"])
    known = {f.name for f in dataclasses.fields(Config)}
    values = {key: value for key, value in saved.items() if key in known}
    values["programs"] = tuple(Program(**program) for program in saved["programs"])
    for key in ("contact_zh", "contact_en"):
        if key in values:
            values[key] = tuple(values[key])
    return Config(**values)


def plan_metrics(plan: Plan) -> dict:
    """What ``plan`` achieved: ``programs`` (one dict per programme, run order: ``program`` and
    :data:`METRIC_KEYS`; money in CNY) and ``total`` (:data:`TOTAL_KEYS` summed)."""
    programs = []
    for outcome in plan.outcomes:
        summary = outcome.summary("en")
        programs.append({"program": outcome.program.key, **{key: summary[key] for key in METRIC_KEYS}})
    total = {key: sum(p[key] for p in programs) for key in TOTAL_KEYS}
    return {"programs": programs, "total": total}


def plan_picks(plan: Plan) -> pd.DataFrame:
    """One row per set ``plan`` buys, programmes in run order, each in plan order: :data:`PICK_COLUMNS`.

    ``lon``/``lat`` are the set's site (a point inside the community, as the plan counts it) in
    WGS84 degrees; ``cost_cny`` whole yuan; ``details`` the pick's other columns as a dict
    (name, priority, residents newly served …; missing values None, dates ISO 8601).
    """
    frames = []
    for outcome in plan.outcomes:
        selected = outcome.selected
        if not len(selected):
            continue
        sites = planned_sets(selected, outcome.program, metric_crs_for(outcome.scored)).geometry
        others = [c for c in PLAN_COLUMNS if c in selected.columns and c not in _PICK_OWN]
        details = json.loads(
            pd.DataFrame(selected[others]).to_json(
                orient="records", date_format="iso", double_precision=15, force_ascii=False
            )
        )
        frames.append(
            pd.DataFrame(
                {
                    "program": outcome.program.key,
                    "rank": selected["rank"].astype(int).to_numpy(),
                    "community_id": selected["community_id"].astype(str).to_numpy(),
                    "district_code": selected["district_code"].astype(str).to_numpy(),
                    "lon": sites.x.to_numpy(),
                    "lat": sites.y.to_numpy(),
                    "cost_cny": selected["cost_cny"].round().astype(int).to_numpy(),
                    "details": details,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(PICK_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(PICK_COLUMNS)]


# --------------------------------------------------------------------------- writes


def _row(plan: SavedPlan) -> dict:
    return {field: getattr(plan, field) for field in PLAN_FIELDS}


def _checked_name(name) -> str:
    name = checked_text("plan_name", name or "").strip()
    if not name:
        raise data_error("plan_name_empty")
    if len(name) > NAME_MAX_CHARS:
        raise data_error("plan_name_too_long", limit=NAME_MAX_CHARS, count=len(name))
    return name


def save_plan(
    store,
    actor: Actor,
    plan: Plan,
    name: str,
    data_sha256: str,
    data_name: str = "",
    program_keys: list[str] | None = None,
    notes: str = "",
    city: CityData | None = None,
) -> dict:
    """Save ``plan`` as ``name`` (status ``proposed``): its parameters, metrics and picks, in one transaction.

    Parameters
    ----------
    plan : geo.plan.Plan
        A plan as :func:`geo.plan.run_plan` returns it (with its configuration).
    name : str
        Unique among saved plans; surrounding spaces dropped.
    data_sha256 : str
        The city data file's SHA-256 (:func:`data_sha256`); a re-run checks it.
    data_name : str
        The data file's name as people know it (never a server path).
    program_keys : list of str, optional
        The programmes run, in order; by default the plan's own. Other keys are refused.
    city : geo.data.city.CityData, optional
        The city the plan was run on, when it holds sets recorded as installed in the store
        (``fitness_paths`` rows with an ``installation_id``,
        :func:`geo.store.installations.city_with_records`): their sites are saved with the
        parameters (``installed_sets``), so a re-run counts them as the plan did.

    Returns
    -------
    dict
        The saved plan's :data:`PLAN_FIELDS`, ``distance``, ``picks`` (count) and ``metrics``.

    Refused (DataError, nothing stored): an analyst or a district office; an empty or too long
    name; a name already saved.
    """
    actor.check_role("admin", "planner")
    name = _checked_name(name)
    data_name, notes = checked_text("data_name", data_name), checked_text("plan_notes", notes)
    keys = [o.program.key for o in plan.outcomes]
    if program_keys is not None and list(program_keys) != keys:
        raise ValueError(f"program_keys {list(program_keys)} are not the plan's programmes {keys}")
    parameters, metrics, picks = plan_parameters(plan), plan_metrics(plan), plan_picks(plan)
    parameters["installed_sets"] = installed_sets(city)
    try:
        with store.session() as session, session.begin():
            taken = session.scalar(select(SavedPlan.id).where(SavedPlan.name == name))
            if taken is not None:
                raise data_error("plan_name_taken", name=name, id=taken)
            saved = SavedPlan(
                name=name,
                status="proposed",
                mode=plan.mode,
                data_name=data_name,
                data_sha256=str(data_sha256),
                parameters=json.dumps(parameters, ensure_ascii=False),
                metrics=json.dumps(metrics, ensure_ascii=False),
                notes=notes,
                created_by=actor.username,
            )
            session.add(saved)
            session.flush()
            rows = [
                {**row, "plan_id": saved.id, "details": json.dumps(row["details"], ensure_ascii=False)}
                for row in picks.to_dict(orient="records")
            ]
            for start in range(0, len(rows), PICKS_PER_INSERT):
                session.execute(insert(PlanPick), rows[start : start + PICKS_PER_INSERT])
            result = {**_row(saved), "distance": parameters["distance"], "picks": len(rows), "metrics": metrics}
            record(session, actor.username, "plan_save", "plan", saved.id, None, {**_row(saved), "picks": len(rows)})
    except IntegrityError as error:  # another session saved the same name between our check and our commit
        if _name_clash(error):
            raise data_error("plan_name_taken", name=name, id="?") from None
        raise
    return result


def approve_plan(store, actor: Actor, plan_id: int) -> dict:
    """Approve a proposed plan (administrators): ``approved_by``/``approved_at`` set; from now on it is frozen.

    Refused (DataError, nothing changed): another role; an unknown plan; a plan already approved
    (also by another session at the same moment: the plan's row is held from the check to the commit).
    In the same transaction the applications at city review of the plan's communities move to 列入计划
    (``applications_in_plan`` says how many).
    """
    actor.check_role("admin")
    with store.session() as session, session.begin():
        plan = locked_row(session, SavedPlan, row_id(plan_id))
        if plan is None:
            raise data_error("plan_unknown", id=plan_id)
        if plan.status == "approved":
            raise data_error("plan_already_approved", id=plan.id, name=plan.name, by=plan.approved_by or "")
        before = _row(plan)
        plan.status, plan.approved_by, plan.approved_at = "approved", actor.username, datetime.now(UTC)
        session.flush()
        record(session, actor.username, "plan_approve", "plan", plan.id, before, _row(plan))
        picked = session.scalars(select(PlanPick.community_id).where(PlanPick.plan_id == plan.id)).all()
        moved = enter_plan(session, actor.username, plan.id, set(picked))
        return {**_row(plan), "applications_in_plan": moved}


def rename_plan(store, actor: Actor, plan_id: int, name: str) -> dict:
    """Rename a proposed plan (planners, administrators); an approved plan is frozen and refused."""
    actor.check_role("admin", "planner")
    name = _checked_name(name)
    try:
        with store.session() as session, session.begin():
            plan = _plan(session, plan_id)
            before = _row(plan)
            plan.name = name
            session.flush()  # the database's triggers, not this code, keep an approved plan as it is
            record(session, actor.username, "plan_rename", "plan", plan.id, before, _row(plan))
            return _row(plan)
    except DBAPIError as error:  # SQLite says it as an IntegrityError, PostgreSQL as an InternalError
        if FROZEN_TEXT in str(error):
            raise data_error("plan_frozen", id=plan_id) from None
        if _name_clash(error):
            raise data_error("plan_name_taken", name=name, id="?") from None
        raise


def _name_clash(error: DBAPIError) -> bool:
    """Whether ``error`` is the unique index on plans.name refusing a second plan of the same name."""
    return isinstance(error, IntegrityError) and "unique" in str(error).lower()


def _plan(session, plan_id) -> SavedPlan:
    number = row_id(plan_id)
    plan = session.get(SavedPlan, number) if number is not None else None
    if plan is None:
        raise data_error("plan_unknown", id=plan_id)
    return plan


# --------------------------------------------------------------------------- reads


def _visible(query, actor: Actor):
    return query if actor.all_districts else query.where(PlanPick.district_code.in_(actor.districts))


def list_plans(store, actor: Actor) -> pd.DataFrame:
    """Every saved plan, newest first: :data:`PLAN_FIELDS`, ``sets``, ``spent_cny`` (CNY) and ``distance``
    (:func:`saved_distance`: ``straight`` or ``network``).

    For a district office ``sets`` and ``spent_cny`` count only the picks in its districts.
    """
    counts = _visible(
        select(PlanPick.plan_id, func.count(PlanPick.id), func.coalesce(func.sum(PlanPick.cost_cny), 0)).group_by(
            PlanPick.plan_id
        ),
        actor,
    )
    with store.session() as session:
        plans = session.scalars(select(SavedPlan).order_by(SavedPlan.id.desc())).all()
        sums = {plan_id: (int(n), int(cny)) for plan_id, n, cny in session.execute(counts)}
        rows = [
            {
                **_row(p),
                "sets": sums.get(p.id, (0, 0))[0],
                "spent_cny": sums.get(p.id, (0, 0))[1],
                "distance": saved_distance(json.loads(p.parameters)),
            }
            for p in plans
        ]
    return pd.DataFrame(rows, columns=[*PLAN_FIELDS, "sets", "spent_cny", "distance"])


def get_plan(store, actor: Actor, plan_id: int) -> tuple[dict, pd.DataFrame]:
    """A saved plan and its picks (:data:`PICK_COLUMNS`, ``details`` a dict; run order).

    The plan's dict holds :data:`PLAN_FIELDS`, ``distance`` (:func:`saved_distance`), ``parameters`` and
    ``metrics`` (dicts) and ``scope``:
    ``city`` or, for a district office, ``districts`` (picks of its districts only; ``metrics``
    then sums :data:`PICK_METRIC_KEYS` over those picks; ``parameters`` lacks
    :data:`CITY_WIDE_PARAMETERS`, which name other districts' communities and sites).
    """
    with store.session() as session:
        plan = _plan(session, plan_id)
        query = _visible(select(PlanPick).where(PlanPick.plan_id == plan.id).order_by(PlanPick.id), actor)
        picks = [{c: getattr(p, c) for c in PICK_COLUMNS} for p in session.scalars(query)]
    frame = pd.DataFrame(picks, columns=list(PICK_COLUMNS))
    frame["details"] = [json.loads(d) for d in frame["details"]]
    parameters = json.loads(plan.parameters)
    if actor.all_districts:
        metrics, scope = json.loads(plan.metrics), "city"
    else:
        metrics, scope = pick_metrics(frame, parameters["program_keys"]), "districts"
        parameters = {key: value for key, value in parameters.items() if key not in CITY_WIDE_PARAMETERS}
    record = {**_row(plan), "distance": saved_distance(parameters), "parameters": parameters}
    return {**record, "metrics": metrics, "scope": scope}, frame


def pick_metrics(picks: pd.DataFrame, program_keys: list[str]) -> dict:
    """Figures summed over ``picks`` alone (:data:`PICK_METRIC_KEYS` per programme and in total)."""
    gains = [int((d or {}).get("population_newly_served") or 0) for d in picks["details"]]
    frame = pd.DataFrame({"program": picks["program"], "cost": picks["cost_cny"], "gain": gains})
    programs = []
    for key in program_keys:
        rows = frame[frame["program"] == key]
        programs.append(
            {
                "program": key,
                "sets": len(rows),
                "spent_cny": int(rows["cost"].sum()),
                "population_newly_served": int(rows["gain"].sum()),
            }
        )
    return {"programs": programs, "total": {k: sum(p[k] for p in programs) for k in PICK_METRIC_KEYS}}


def compare_plans(store, actor: Actor, a: int, b: int) -> dict:
    """Plan ``a`` against plan ``b``: what ``b`` adds, removes and keeps, their figures and money side by side.

    Returns
    -------
    dict
        ``a``, ``b``: the plans (as :func:`get_plan`, without picks); ``same_data``: whether both were
        run on the same data file (SHA-256); ``picks``: one row per set of a community in either,
        matched by community whichever programme pays for it (a community's second set in one plan
        matches its second in the other), ``change`` ``added`` (only in b), ``removed`` (only in a)
        or ``kept``, with ``district_code``, ``program`` (b's, else a's), ``program_a``/``program_b``,
        ``rank_a``/``rank_b``, ``cost_cny_a``/``cost_cny_b``; ``metrics``: one row per
        programme (``""`` for the total) and figure, ``a``, ``b`` and ``difference`` (b − a; a programme
        only one plan ran counts as 0 in the other);
        ``money``: per programme and in total, budget, spent and unspent (CNY) of each and the differences.
        A district office's comparison counts only the picks of its districts.
    """
    plan_a, picks_a = get_plan(store, actor, a)
    plan_b, picks_b = get_plan(store, actor, b)
    merged = pd.merge(_by_community(picks_a), _by_community(picks_b), on=["community_id", "nth"], how="outer",
                      suffixes=("_a", "_b"), indicator=True)  # fmt: skip
    merged["change"] = merged.pop("_merge").map({"left_only": "removed", "right_only": "added", "both": "kept"})
    merged["district_code"] = merged.pop("district_code_b").fillna(merged.pop("district_code_a"))
    merged["program"] = merged["program_b"].fillna(merged["program_a"])
    for column in ("program_a", "program_b"):  # None where the plan has no such set (JSON null, not NaN)
        merged[column] = merged[column].astype(object).where(merged[column].notna(), None)
    for column in ("rank_a", "rank_b", "cost_cny_a", "cost_cny_b"):
        merged[column] = merged[column].astype("Int64")
    merged["order"] = merged["change"].map({"added": 0, "removed": 1, "kept": 2})
    merged = merged.sort_values(["order", "program", "rank_b", "rank_a"]).reset_index(drop=True)
    columns = ["change", "program", "community_id", "district_code", "rank_a", "rank_b", "cost_cny_a", "cost_cny_b",
               "program_a", "program_b"]  # fmt: skip
    merged = merged[columns]
    return {
        "a": plan_a,
        "b": plan_b,
        "same_data": plan_a["data_sha256"] == plan_b["data_sha256"],
        "picks": merged,
        "metrics": _metrics_side_by_side(plan_a, plan_b),
        "money": _money_side_by_side(plan_a, plan_b),
    }


def _by_community(picks: pd.DataFrame) -> pd.DataFrame:
    """A plan's picks keyed by community and ``nth`` (0 for its first set in the plan, 1 for a second …)."""
    keyed = picks[["community_id", "program", "district_code", "rank", "cost_cny"]].copy()
    keyed["nth"] = keyed.groupby("community_id").cumcount()
    return keyed


def _by_program(plan: dict) -> dict[str, dict]:
    figures = {p["program"]: p for p in plan["metrics"]["programs"]}
    figures[""] = plan["metrics"]["total"]
    return figures


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _metrics_side_by_side(plan_a: dict, plan_b: dict) -> pd.DataFrame:
    a, b = _by_program(plan_a), _by_program(plan_b)
    programs = [k for k in a if k] + [k for k in b if k and k not in a] + [""]
    rows = []
    for program in programs:
        left, right = a.get(program, {}), b.get(program, {})
        for figure in [k for k in (*METRIC_KEYS, *PICK_METRIC_KEYS) if k in left or k in right]:
            if figure in [r["metric"] for r in rows if r["program"] == program]:
                continue
            va, vb = left.get(figure), right.get(figure)
            # a programme one plan did not run bought nothing there: its figures count as 0 in the difference
            da = 0 if program not in a and _numeric(vb) else va
            db = 0 if program not in b and _numeric(va) else vb
            difference = db - da if _numeric(da) and _numeric(db) else None
            rows.append({"program": program, "metric": figure, "a": va, "b": vb, "difference": difference})
    return pd.DataFrame(rows, columns=["program", "metric", "a", "b", "difference"])


def _money_side_by_side(plan_a: dict, plan_b: dict) -> pd.DataFrame:
    a, b = _by_program(plan_a), _by_program(plan_b)
    programs = [k for k in a if k] + [k for k in b if k and k not in a] + [""]
    rows = []
    for program in programs:
        row = {"program": program}
        for figure in ("budget_cny", "spent_cny", "unspent_cny"):
            va, vb = a.get(program, {}).get(figure), b.get(program, {}).get(figure)
            row[f"{figure}_a"], row[f"{figure}_b"] = va, vb
            row[f"{figure}_difference"] = (vb or 0) - (va or 0) if va is not None or vb is not None else None
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- running a saved plan again


def rerun_saved(store, plan_id: int, city: CityData, data_sha256: str) -> Plan:
    """Run saved plan ``plan_id``'s parameters again on ``city`` (whose file's SHA-256 is ``data_sha256``).

    ``city`` is the file's city as read (:func:`geo.pipeline.load_city`): the saved applications
    and installed sets are used (not the store's today), so the plan is the same as when it was
    saved. Refused (DataError ``plan_data_changed``, naming both hashes) when ``data_sha256`` is not
    the one the plan was saved with.
    """
    with store.session() as session:
        plan = _plan(session, plan_id)
        parameters, saved_hash = json.loads(plan.parameters), plan.data_sha256
    if str(data_sha256) != saved_hash:
        raise data_error("plan_data_changed", id=plan_id, saved=saved_hash, current=str(data_sha256))
    applications = pd.DataFrame(parameters["applications"], columns=["community_id", "application_date"])
    applications["application_date"] = pd.to_datetime(applications["application_date"])
    config = config_from_parameters(parameters)
    return run_plan(
        city.communities,
        with_installed_sets(city.fitness_paths, parameters.get("installed_sets", [])),
        config,
        list(parameters["program_keys"]),
        parameters["mode"],
        applications if len(applications) else None,
        public_sites=city.public_sites if parameters.get("public_sites") else None,
        network=network_for(city, config),
    )


def installed_sets(city: CityData | None) -> list[list]:
    """``[installation_id, lon, lat]`` (WGS84 degrees) of each fitness path of ``city`` recorded as installed
    in the store (a non-missing ``installation_id``), in the city's order; none without ``city``."""
    if city is None or "installation_id" not in city.fitness_paths.columns:
        return []
    paths = city.fitness_paths[city.fitness_paths["installation_id"].notna()]
    points = paths.geometry.to_crs("EPSG:4326")
    return [[int(i), float(x), float(y)] for i, x, y in zip(paths["installation_id"], points.x, points.y)]


def with_installed_sets(fitness_paths: gpd.GeoDataFrame, sets: list[list]) -> gpd.GeoDataFrame:
    """``fitness_paths`` (the file's; rows already carrying an ``installation_id`` are dropped) and the saved
    installed ``sets`` (:func:`installed_sets`) as points in EPSG:4326."""
    if "installation_id" in fitness_paths.columns:
        fitness_paths = fitness_paths[fitness_paths["installation_id"].isna()]
    if not sets:
        return fitness_paths
    added = gpd.GeoDataFrame(
        {
            "path_id": pd.array([f"I{i}" for i, _, _ in sets], dtype="string"),
            "installation_id": pd.array([i for i, _, _ in sets], dtype="Int64"),
        },
        geometry=gpd.points_from_xy([x for _, x, _ in sets], [y for _, _, y in sets]),
        crs="EPSG:4326",
    )
    combined = pd.concat([fitness_paths.to_crs("EPSG:4326"), added], ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs="EPSG:4326")
