"""Sets installed against an approved plan, their inspections (with photos), and the city they make.

An installation is recorded only against a pick of an APPROVED plan (the community the plan
bought a set for), once per pick, on a date not in the future; its site is the pick's unless
another (WGS84 degrees, within :data:`MAX_SITE_SHIFT_M` of the pick) is given. Recording it moves
the community's open application from ``in_plan`` to ``installed`` in the same transaction.
Inspections record a condition (:data:`CONDITIONS`) and photos, kept in the store itself (JPEG,
PNG or WebP, told by their first bytes, at most :data:`MAX_PHOTO_BYTES` each). A district office
reads only its own districts' rows; only planners and administrators write.

Once recorded, a set is a fitness path of the city: :func:`city_with_records` adds the installed
sets (and the store's applications) to the city file's, for every page and plan to count.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from datetime import UTC, date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point
from sqlalchemy import func, select

from geo.data.city import CityData
from geo.data.crs import metric_crs_for
from geo.data.schema import STORAGE_CRS, layer_dtypes
from geo.errors import data_error
from geo.store.actors import Actor
from geo.store.applications import applications_for_priority
from geo.store.audit import record
from geo.store.checks import MAX_COST_CNY, MAX_PIECES, checked_amount, checked_text, row_id
from geo.store.locking import locked_row
from geo.store.schema import (
    Application,
    ApplicationEvent,
    Attachment,
    Inspection,
    Installation,
    PlanPick,
    SavedPlan,
)

CONDITIONS = ("good", "needs_repair", "damaged", "removed")
# The fitness_paths layer's condition (good | fair | poor) for an inspection's; a removed set is no path.
PATH_CONDITION = {"good": "good", "needs_repair": "fair", "damaged": "poor"}
MAX_SITE_SHIFT_M = 2_000.0
SAME_SET_M = 10.0
MAX_PHOTO_BYTES = 10 * 1024 * 1024
WRITERS = ("admin", "planner")
INSTALLATION_COLUMNS = (
    "id",
    "plan_id",
    "pick_id",
    "community_id",
    "district_code",
    "installed_on",
    "site",
    "lon",
    "lat",
    "pieces",
    "supplier",
    "cost_cny",
    "notes",
    "created_by",
    "created_at",
)
INSPECTION_COLUMNS = (
    "id",
    "installation_id",
    "inspected_on",
    "condition",
    "findings",
    "created_by",
    "created_at",
)
ATTACHMENT_COLUMNS = ("id", "inspection_id", "file_name", "media_type", "size_bytes", "sha256")


def _row(item, columns) -> dict:
    return {column: getattr(item, column) for column in columns}


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


# --------------------------------------------------------------------------- photos


def media_type(content: bytes) -> str | None:
    """The media type of an image told by its first bytes: JPEG, PNG or WebP; None for anything else."""
    if content[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if content[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def _checked_photos(photos) -> list[tuple[str, str, bytes]]:
    """``photos`` ((file name, bytes) pairs) as (name, media type, bytes); refuses a non-image or one too large."""
    checked = []
    for file_name, content in photos or ():
        name, content = checked_text("photo_name", file_name), bytes(content)
        if len(content) > MAX_PHOTO_BYTES:
            raise data_error("photo_too_large", file=name, mb=round(len(content) / 1024 / 1024, 1), max_mb=10)
        kind = media_type(content)
        if kind is None:
            raise data_error("photo_not_image", file=name)
        checked.append((name, kind, content))
    return checked


# --------------------------------------------------------------------------- writes


def _site(pick: PlanPick, lon, lat) -> tuple[float, float]:
    """The installed set's site: the pick's, or (``lon``, ``lat``) in WGS84 degrees within reach of the pick."""
    if lon is None and lat is None:
        return pick.lon, pick.lat
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise data_error("installation_site_not_degrees", lon=str(lon), lat=str(lat)) from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise data_error("installation_site_not_degrees", lon=str(lon), lat=str(lat))
    points = gpd.GeoSeries([Point(pick.lon, pick.lat), Point(lon, lat)], crs=STORAGE_CRS)
    metric = points.to_crs(metric_crs_for(points.iloc[:1].to_frame("geometry").set_crs(STORAGE_CRS)))
    distance_m = float(metric.iloc[0].distance(metric.iloc[1]))
    if distance_m > MAX_SITE_SHIFT_M:
        raise data_error(
            "installation_site_far",
            community=pick.community_id,
            distance=f"{distance_m:,.0f}",
            max=f"{MAX_SITE_SHIFT_M:,.0f}",
        )
    return lon, lat


def add_installation(
    store,
    actor: Actor,
    plan_id: int,
    community_id: str,
    installed_on: date,
    site: str = "",
    lon: float | None = None,
    lat: float | None = None,
    pieces: int = 0,
    supplier: str = "",
    cost_cny: int = 0,
    notes: str = "",
    today: date | None = None,
) -> dict:
    """Record a set installed in ``community_id`` against the approved plan ``plan_id``; returns its row.

    ``lon``/``lat`` are WGS84 degrees (default: the pick's site); ``cost_cny`` in CNY. If the
    community has an open application ``in_plan``, it moves to ``installed`` in the same transaction.

    Refused (DataError, nothing stored): not a planner or administrator; an unknown or unapproved
    plan; a community the plan did not pick, or whose picks are all installed; a site that is not
    degrees or lies more than :data:`MAX_SITE_SHIFT_M` from the pick; a date after ``today``; a
    cost outside 0 … :data:`~geo.store.checks.MAX_COST_CNY` CNY or pieces outside 0 …
    :data:`~geo.store.checks.MAX_PIECES`; a text with a NUL character.
    """
    actor.check_role(*WRITERS)
    today = _today(today)
    if installed_on > today:
        raise data_error("installation_date_future", date=installed_on.isoformat(), today=today.isoformat())
    cost_cny = checked_amount("cost_cny", cost_cny, MAX_COST_CNY)
    pieces = checked_amount("pieces", pieces, MAX_PIECES)
    community_id = checked_text("community_id", community_id).strip()
    site, supplier, notes = (checked_text(f, v) for f, v in (("site", site), ("supplier", supplier), ("notes", notes)))
    with store.session() as session, session.begin():
        plan = _plan_locked(session, row_id(plan_id))
        if plan is None:
            raise data_error("installation_plan_unknown", id=plan_id)
        if plan.status != "approved":
            raise data_error("installation_plan_not_approved", id=plan.id, name=plan.name, status=plan.status)
        picks = session.scalars(
            select(PlanPick)
            .where(PlanPick.plan_id == plan.id, PlanPick.community_id == community_id)
            .order_by(PlanPick.rank, PlanPick.id)
        ).all()
        if not picks:
            raise data_error("installation_not_picked", community=community_id, name=plan.name)
        done = set(
            session.scalars(select(Installation.pick_id).where(Installation.pick_id.in_([p.id for p in picks]))).all()
        )
        free = [p for p in picks if p.id not in done]
        if not free:
            raise data_error("installation_duplicate", community=community_id, name=plan.name)
        pick = free[0]
        actor.check_district(pick.district_code)
        lon, lat = _site(pick, lon, lat)
        installation = Installation(
            plan_id=plan.id,
            pick_id=pick.id,
            community_id=community_id,
            district_code=pick.district_code,
            installed_on=installed_on,
            site=site,
            lon=lon,
            lat=lat,
            pieces=pieces,
            supplier=supplier,
            cost_cny=cost_cny,
            notes=notes,
            created_by=actor.username,
        )
        session.add(installation)
        session.flush()
        after = _row(installation, INSTALLATION_COLUMNS)
        record(session, actor.username, "installation_add", "installation", installation.id, None, after)
        _mark_installed(session, actor, community_id, installation.id)
        return after


def _plan_locked(session, plan_id: int | None) -> SavedPlan | None:
    """The plan, with this transaction holding the lock that keeps two sessions from installing one pick twice.

    SQLite: the transaction starts as the writer (``BEGIN IMMEDIATE``), so a second waits (busy
    timeout) and then sees the first's installation. PostgreSQL: the plan's row is locked
    (``FOR UPDATE``; a lock changes no row, so the frozen plan's triggers do not fire).
    (:func:`geo.store.locking.locked_row`.)
    """
    return locked_row(session, SavedPlan, plan_id)


def _mark_installed(session, actor: Actor, community_id: str, installation_id: int) -> None:
    """Move the community's application that is ``in_plan`` to ``installed`` (event and audit row)."""
    from geo.store.applications import _row as application_row

    application = session.scalar(
        select(Application).where(Application.community_id == community_id, Application.status == "in_plan")
    )
    if application is None:
        return
    before = application_row(application)
    reason = f"installation {installation_id}"
    application.status, application.status_reason = "installed", reason
    application.updated_at = datetime.now(UTC)
    session.add(
        ApplicationEvent(
            application_id=application.id,
            actor=actor.username,
            from_status="in_plan",
            to_status="installed",
            reason=reason,
        )
    )
    record(
        session,
        actor.username,
        "application_status",
        "application",
        application.id,
        before,
        application_row(application),
    )


def add_inspection(
    store,
    actor: Actor,
    installation_id: int,
    inspected_on: date,
    condition: str,
    findings: str = "",
    photos=(),
    today: date | None = None,
) -> dict:
    """Record an inspection of an installed set with its photos ((file name, bytes) pairs); returns its row.

    The row carries ``photos``: the stored attachments' metadata (no bytes). A file name is kept as
    data (shown, never used as a path).

    Refused (DataError, nothing stored): not a planner or administrator; an unknown installation;
    an unknown condition; a date after ``today`` or before the installation; a photo that is not
    JPEG, PNG or WebP (by its bytes) or larger than 10 MB, naming the file; findings or a photo's
    name with a NUL character.
    """
    actor.check_role(*WRITERS)
    if condition not in CONDITIONS:
        raise data_error("inspection_condition_unknown", condition=repr(condition), conditions=", ".join(CONDITIONS))
    today = _today(today)
    if inspected_on > today:
        raise data_error("inspection_date_future", date=inspected_on.isoformat(), today=today.isoformat())
    findings = checked_text("findings", findings)
    checked = _checked_photos(photos)
    with store.session() as session, session.begin():
        installation = _installation(session, installation_id)
        if installation is None:
            raise data_error("installation_unknown", id=installation_id)
        actor.check_district(installation.district_code)
        if inspected_on < installation.installed_on:
            raise data_error(
                "inspection_before_installation",
                date=inspected_on.isoformat(),
                installed=installation.installed_on.isoformat(),
            )
        inspection = Inspection(
            installation_id=installation.id,
            inspected_on=inspected_on,
            condition=condition,
            findings=findings,
            created_by=actor.username,
        )
        session.add(inspection)
        session.flush()
        attachments = [
            Attachment(
                inspection_id=inspection.id,
                file_name=name,
                media_type=kind,
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
                created_by=actor.username,
            )
            for name, kind, content in checked
        ]
        session.add_all(attachments)
        session.flush()
        after = _row(inspection, INSPECTION_COLUMNS) | {"photos": [_row(a, ATTACHMENT_COLUMNS) for a in attachments]}
        record(session, actor.username, "inspection_add", "inspection", inspection.id, None, after)
        return after


def _installation(session, installation_id) -> Installation | None:
    number = row_id(installation_id)
    return session.get(Installation, number) if number is not None else None


# --------------------------------------------------------------------------- reads


def _visible(query, actor: Actor, column):
    return query if actor.all_districts else query.where(column.in_(actor.districts))


def list_installations(store, actor: Actor) -> pd.DataFrame:
    """The installations ``actor`` may see (a district office: its own districts), oldest first.

    Columns :data:`INSTALLATION_COLUMNS` plus ``plan_name``, ``last_inspected_on`` and
    ``last_condition`` (the newest inspection's, None when never inspected).
    """
    query = _visible(
        select(Installation, SavedPlan.name).join(SavedPlan, SavedPlan.id == Installation.plan_id),
        actor,
        Installation.district_code,
    ).order_by(Installation.id)
    with store.session() as session:
        rows = [_row(i, INSTALLATION_COLUMNS) | {"plan_name": name} for i, name in session.execute(query)]
        last = _last_inspections(session)
    columns = [*INSTALLATION_COLUMNS, "plan_name", "last_inspected_on", "last_condition"]
    frame = pd.DataFrame(rows, columns=columns[:-2])
    frame["last_inspected_on"] = frame["id"].map(lambda i: last.get(i, (None, None))[0])
    frame["last_condition"] = frame["id"].map(lambda i: last.get(i, (None, None))[1])
    return frame[columns]


def _last_inspections(session) -> dict[int, tuple[date, str]]:
    """installation id → (date, condition) of its newest inspection (the latest date, then the latest entry)."""
    rows = session.execute(
        select(Inspection.installation_id, Inspection.inspected_on, Inspection.condition).order_by(
            Inspection.inspected_on, Inspection.id
        )
    ).all()
    return {installation: (on, condition) for installation, on, condition in rows}


def list_inspections(store, actor: Actor, installation_id: int | None = None) -> pd.DataFrame:
    """The inspections ``actor`` may see, newest first, optionally of one installation.

    Columns :data:`INSPECTION_COLUMNS` plus ``community_id``, ``district_code``, ``photos`` (how
    many) and ``attachment_ids`` (a list, for :func:`attachment`).
    """
    query = select(Inspection, Installation.community_id, Installation.district_code).join(
        Installation, Installation.id == Inspection.installation_id
    )
    if installation_id is not None:
        with store.session() as session:
            installation = _installation(session, installation_id)
        if installation is None:
            raise data_error("installation_unknown", id=installation_id)
        actor.check_district(installation.district_code)
        query = query.where(Inspection.installation_id == installation.id)
    query = _visible(query, actor, Installation.district_code).order_by(
        Inspection.inspected_on.desc(), Inspection.id.desc()
    )
    with store.session() as session:
        found = session.execute(query).all()
        ids = [inspection.id for inspection, _, _ in found]
        photos: dict[int, list[int]] = {}
        if ids:
            for attachment_id, inspection_id in session.execute(
                select(Attachment.id, Attachment.inspection_id)
                .where(Attachment.inspection_id.in_(ids))
                .order_by(Attachment.id)
            ):
                photos.setdefault(inspection_id, []).append(attachment_id)
    rows = [
        _row(inspection, INSPECTION_COLUMNS)
        | {
            "community_id": community,
            "district_code": district,
            "photos": len(photos.get(inspection.id, [])),
            "attachment_ids": photos.get(inspection.id, []),
        }
        for inspection, community, district in found
    ]
    columns = [*INSPECTION_COLUMNS, "community_id", "district_code", "photos", "attachment_ids"]
    return pd.DataFrame(rows, columns=columns)


def attachment(store, actor: Actor, attachment_id: int) -> tuple[str, str, bytes]:
    """A stored photo as (file name, media type, bytes); a district office only its own districts'."""
    number = row_id(attachment_id)
    with store.session() as session:
        found = session.execute(
            select(Attachment, Installation.district_code)
            .join(Inspection, Inspection.id == Attachment.inspection_id)
            .join(Installation, Installation.id == Inspection.installation_id)
            .where(Attachment.id == (number or 0))  # no row has id 0
        ).first()
    if found is None:
        raise data_error("attachment_unknown", id=attachment_id)
    item, district = found
    actor.check_district(district)
    return item.file_name, item.media_type, bytes(item.content)


def approved_plans(store) -> pd.DataFrame:
    """The approved plans (``id``, ``name``, ``approved_by``, ``approved_at``), newest first.

    Sets are installed against these only.
    """
    with store.session() as session:
        rows = session.execute(
            select(SavedPlan.id, SavedPlan.name, SavedPlan.approved_by, SavedPlan.approved_at)
            .where(SavedPlan.status == "approved")
            .order_by(SavedPlan.id.desc())
        ).all()
    return pd.DataFrame(rows, columns=["id", "name", "approved_by", "approved_at"])


def plan_progress(store, actor: Actor, plan_id: int) -> pd.DataFrame:
    """An approved plan's picks the actor may see, each with its installation (if any).

    Columns: ``pick_id``, ``program``, ``rank``, ``community_id``, ``district_code``, ``lon``,
    ``lat`` (WGS84 degrees), ``cost_cny`` (planned, CNY), ``installation_id`` (None if not yet),
    ``installed_on``, ``installed_cost_cny``, ``installed`` (bool).
    """
    query = _visible(
        select(PlanPick, Installation.id, Installation.installed_on, Installation.cost_cny)
        .outerjoin(Installation, Installation.pick_id == PlanPick.id)
        .where(PlanPick.plan_id == (row_id(plan_id) or 0)),  # no row has id 0
        actor,
        PlanPick.district_code,
    ).order_by(PlanPick.program, PlanPick.rank, PlanPick.id)
    with store.session() as session:
        found = session.execute(query).all()
    rows = [
        {
            "pick_id": pick.id,
            "program": pick.program,
            "rank": pick.rank,
            "community_id": pick.community_id,
            "district_code": pick.district_code,
            "lon": pick.lon,
            "lat": pick.lat,
            "cost_cny": pick.cost_cny,
            "installation_id": installation_id,
            "installed_on": installed_on,
            "installed_cost_cny": cost,
            "installed": installation_id is not None,
        }
        for pick, installation_id, installed_on, cost in found
    ]
    columns = [
        "pick_id",
        "program",
        "rank",
        "community_id",
        "district_code",
        "lon",
        "lat",
        "cost_cny",
        "installation_id",
        "installed_on",
        "installed_cost_cny",
        "installed",
    ]
    return pd.DataFrame(rows, columns=columns)


def planned_vs_installed(store, actor: Actor) -> pd.DataFrame:
    """Per district, the sets and money of the approved plans and what is installed against them.

    Columns: ``district_code``, ``planned_sets``, ``planned_cny``, ``installed_sets``,
    ``installed_cny`` (money in CNY; installed money is what the installations cost). One row per
    district the actor may see that has a planned or installed set, by district code.
    """
    query = _visible(
        select(PlanPick.district_code, PlanPick.cost_cny, Installation.id, Installation.cost_cny)
        .join(SavedPlan, SavedPlan.id == PlanPick.plan_id)
        .outerjoin(Installation, Installation.pick_id == PlanPick.id)
        .where(SavedPlan.status == "approved"),
        actor,
        PlanPick.district_code,
    )
    with store.session() as session:
        found = session.execute(query).all()
    frame = pd.DataFrame(found, columns=["district_code", "planned_cny", "installation_id", "installed_cny"])
    frame = frame.assign(
        planned_sets=1,
        installed_sets=frame["installation_id"].notna().astype(int),
        installed_cny=frame["installed_cny"].fillna(0).astype(int),
    )
    columns = ["planned_sets", "planned_cny", "installed_sets", "installed_cny"]
    table = frame.groupby("district_code", as_index=False)[columns].sum()
    return table[["district_code", *columns]].astype(dict.fromkeys(columns, int)).reset_index(drop=True)


def inspection_record(store, actor: Actor) -> pd.DataFrame:
    """The inspections for a public record, newest first: ``inspected_on``, ``community_id``,
    ``district_code``, ``condition``, ``findings``, ``photos`` (how many; never the photos)."""
    table = list_inspections(store, actor)
    return table[["inspected_on", "community_id", "district_code", "condition", "findings", "photos"]]


# --------------------------------------------------------------------------- the city with the store's records


def installed_fitness_paths(store) -> gpd.GeoDataFrame:
    """Every installed set still standing, as rows of the ``fitness_paths`` layer (EPSG:4326 points).

    Columns: those of :data:`geo.data.schema.FITNESS_PATH_COLUMNS` (``path_id`` ``"I<id>"``,
    ``name`` the site or the community, ``install_year``, ``n_pieces``, ``condition`` from the
    newest inspection: good / fair (needs repair) / poor (damaged), ``funding_source`` the pick's
    programme) plus ``installation_id`` and ``community_id``. A set whose newest inspection says
    ``removed`` is left out: it serves nobody.
    """
    with store.session() as session:
        found = session.execute(
            select(Installation, PlanPick.program).outerjoin(PlanPick, PlanPick.id == Installation.pick_id)
        ).all()
        last = _last_inspections(session)
    rows, points = [], []
    for installation, program in sorted(found, key=lambda pair: pair[0].id):
        condition = last.get(installation.id, (None, "good"))[1]
        if condition == "removed":
            continue
        rows.append(
            {
                "path_id": f"I{installation.id}",
                "name": installation.site or installation.community_id,
                "install_year": installation.installed_on.year,
                "n_pieces": installation.pieces or None,
                "condition": PATH_CONDITION[condition],
                "funding_source": program,
                "installation_id": installation.id,
                "community_id": installation.community_id,
            }
        )
        points.append(Point(installation.lon, installation.lat))
    dtypes = layer_dtypes("fitness_paths") | {"installation_id": "Int64", "community_id": "string"}
    frame = pd.DataFrame(rows, columns=list(dtypes)).astype(dtypes)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, crs=STORAGE_CRS), crs=STORAGE_CRS)


def _already_in_file(installed: gpd.GeoDataFrame, city: CityData) -> np.ndarray:
    """Which installed sets the city file already has: a file path within :data:`SAME_SET_M` m in the same community.

    A file path's community is the one whose outline holds it (none: it may be anyone's).
    """
    paths = city.fitness_paths
    if len(installed) == 0 or len(paths) == 0:
        return np.zeros(len(installed), bool)
    metric = metric_crs_for(city.communities if len(city.communities) else installed)
    held = gpd.sjoin(
        paths[["geometry"]].reset_index(drop=True),
        city.communities[["community_id", "geometry"]],
        how="left",
        predicate="within",
    )
    path_community = held.groupby(level=0)["community_id"].agg(lambda ids: set(ids.dropna().astype(str)))
    paths_m = paths.geometry.reset_index(drop=True).to_crs(metric)
    installed_m = installed.geometry.to_crs(metric)
    same = np.zeros(len(installed), bool)
    for k, (point, community) in enumerate(zip(installed_m, installed["community_id"].astype(str), strict=True)):
        near = np.flatnonzero(paths_m.distance(point).to_numpy() <= SAME_SET_M)
        same[k] = any(not path_community[j] or community in path_community[j] for j in near)
    return same


def city_with_records(city: CityData, store) -> CityData:
    """``city`` with the store's records: its installed sets as fitness paths and its applications.

    ``fitness_paths``: the file's, then each installed set (:func:`installed_fitness_paths`) that the
    file does not already have (:func:`_already_in_file`), with an ``installation_id`` column (NA
    for the file's). ``applications``: the file's table and the store's applications not rejected
    (of the city's communities), the earliest date per community. A store with neither gives
    ``city`` back unchanged.
    """
    installed = installed_fitness_paths(store)
    installed = installed[~_already_in_file(installed, city)]
    stored = applications_for_priority(store)
    stored = stored[stored["community_id"].astype(str).isin(set(city.communities["community_id"].astype(str)))]
    if len(installed) == 0 and len(stored) == 0:
        return city
    changes = {}
    if len(installed):
        paths = city.fitness_paths.assign(installation_id=pd.array([pd.NA] * len(city.fitness_paths), "Int64"))
        added = installed.drop(columns=["community_id"])[[c for c in paths.columns if c in installed.columns]]
        combined = pd.concat([paths, added], ignore_index=True)
        changes["fitness_paths"] = gpd.GeoDataFrame(combined, geometry="geometry", crs=STORAGE_CRS)
    if len(stored):
        own = city.applications
        parts = [stored[["community_id", "application_date"]]]
        if own is not None and len(own):
            parts.insert(0, own[["community_id", "application_date"]])
        union = pd.concat(parts, ignore_index=True).astype({"community_id": "string"})
        union["application_date"] = pd.to_datetime(union["application_date"], errors="coerce")
        changes["applications"] = (
            union.groupby("community_id", as_index=False)["application_date"].min().reset_index(drop=True)
        )
    return dataclasses.replace(city, **changes)


def records_version(store) -> tuple:
    """A key that changes whenever :func:`city_with_records` may: counts and newest ids of installations,
    inspections, applications and their events (cheap: four aggregate queries)."""
    with store.session() as session:
        return tuple(
            tuple(session.execute(select(func.count(), func.max(table.id))).one())
            for table in (Installation, Inspection, Application, ApplicationEvent)
        )
