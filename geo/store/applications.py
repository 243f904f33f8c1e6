"""Applications and their status: 已申请 → 区县审核 → 市局审核 → 列入计划 → 已安装 → 已验收, or 不予受理.

Every change is one transaction holding the application, its status event (who, when, from, to,
why) and the audit row. A status may only move one step along :data:`NEXT`, or to ``rejected``
(with a reason) before it is in a plan; a district office may act only on its own districts and
only up to district review; an analyst changes nothing. A community may hold one open
application (not rejected, not yet accepted) at a time: a second is refused as a duplicate,
naming the first. :func:`add_applications` stores a batch (an uploaded table's good rows) in one
transaction by the same rules: all of it or none.

Sessions writing at once take turns (:mod:`geo.store.locking`): a status step holds its
application's row, an application its community's lock, and a unique index of the database
(migration 0003) keeps one open application a community even so. Texts hold no NUL character and
at most :data:`~geo.store.checks.MAX_TEXT_CHARS` characters, as in an uploaded table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from geo.analysis.eligibility import LAND_REASONS, has_reason
from geo.errors import data_error
from geo.store.actors import Actor, role_words, roles_words
from geo.store.audit import record
from geo.store.checks import MAX_TEXT_CHARS, checked_text, row_id
from geo.store.locking import APPLICATION_COMMUNITY_LOCK, begin_writer, lock_key, locked_row
from geo.store.schema import Application, ApplicationEvent

STATUSES = ("applied", "district_review", "city_review", "in_plan", "installed", "accepted", "rejected")
NEXT = {
    "applied": "district_review",
    "district_review": "city_review",
    "city_review": "in_plan",
    "in_plan": "installed",
    "installed": "accepted",
}
REJECTABLE = ("applied", "district_review", "city_review")
CLOSED = ("accepted", "rejected")
# What a district office may do: review and forward to the city, or reject before the city reviews.
DISTRICT_STEPS = {("applied", "district_review"), ("district_review", "city_review")}
DISTRICT_REJECTS = ("applied", "district_review")
TEXT_FIELDS = ("applicant", "contact", "request", "notes")
OPEN_INDEX = "applications_one_open"  # the unique index of migration 0003: one open application a community
APPLICATION_COLUMNS = (
    "id",
    "community_id",
    "district_code",
    "application_date",
    "applicant",
    "contact",
    "request",
    "notes",
    "status",
    "status_reason",
    "created_by",
    "created_at",
    "updated_at",
)


def _row(application: Application) -> dict:
    return {column: getattr(application, column) for column in APPLICATION_COLUMNS}


def add_application(
    store,
    actor: Actor,
    communities: pd.DataFrame,
    community_id: str,
    application_date: date,
    applicant: str = "",
    contact: str = "",
    request: str = "",
    notes: str = "",
    today: date | None = None,
) -> dict:
    """Record an application of ``community_id`` (one of ``communities``: ``community_id``, ``district_code``).

    Refused (DataError, nothing stored): an analyst; an unknown community; a date after ``today``;
    a community of another district than a district office's own; an open application of the same
    community already stored (also when another session stores one at the same moment); a text
    with a NUL character or more than :data:`~geo.store.checks.MAX_TEXT_CHARS` characters.
    """
    entry = {
        "community_id": community_id,
        "application_date": application_date,
        "applicant": applicant,
        "contact": contact,
        "request": request,
        "notes": notes,
    }
    return add_applications(store, actor, communities, [entry], today)[0]


def add_applications(store, actor: Actor, communities: pd.DataFrame, entries, today: date | None = None) -> list[dict]:
    """Record several applications in ONE transaction: all of them, or (on any refusal) none.

    ``entries``: dicts (or a DataFrame's rows) with ``community_id`` and ``application_date`` (a
    date), optionally ``applicant``, ``contact``, ``request``, ``notes``. Each is checked by the
    rules of :func:`add_application`, and two entries of one community are a duplicate too. Each
    stored application has its status event and audit row, as if added alone.
    """
    actor.check_role("admin", "planner", "district")
    if isinstance(entries, pd.DataFrame):
        entries = entries.to_dict("records")
    known = communities.assign(community_id=communities["community_id"].astype(str)).set_index("community_id")
    today = today or datetime.now(UTC).date()
    checked = []
    for entry in entries:
        community_id = str(entry["community_id"]).strip()
        if community_id not in known.index:
            raise data_error("application_unknown_community", community=community_id)
        application_date = entry["application_date"]
        if application_date > today:
            raise data_error("application_date_future", date=application_date.isoformat(), today=today.isoformat())
        district = str(known.at[community_id, "district_code"])
        actor.check_district(district)
        fields = {name: checked_text(name, entry.get(name) or "", MAX_TEXT_CHARS) for name in TEXT_FIELDS}
        checked.append((community_id, district, application_date, fields))
    try:
        return _store_applications(store, actor, checked)
    except IntegrityError as error:  # another session stored one between our check and our commit
        if OPEN_INDEX not in str(error) and "applications.community_id" not in str(error):
            raise
        raise _duplicate(store, [community_id for community_id, *_ in checked]) from None


def _open_application(session, community_id: str) -> Application | None:
    return session.scalar(
        select(Application).where(Application.community_id == community_id, Application.status.not_in(CLOSED))
    )


def _duplicate(store, community_ids: list[str]):
    """The refusal of a second open application: the first of ``community_ids`` that has one now (read afresh)."""
    with store.session() as session:
        for community_id in community_ids:
            existing = _open_application(session, community_id)
            if existing is not None:
                return data_error(
                    "application_duplicate", community=community_id, id=existing.id, status=existing.status
                )
    return data_error("application_duplicate", community=", ".join(community_ids), id="?", status="?")


def _store_applications(store, actor: Actor, checked: list) -> list[dict]:
    """Store the checked entries in one transaction, each community's lock held from its check to the commit."""
    stored = []
    with store.session() as session, session.begin():
        begin_writer(session)  # SQLite: this transaction is the writer from the start
        for community_id in sorted({c for c, *_ in checked}):  # in one order: two batches cannot deadlock
            lock_key(session, APPLICATION_COMMUNITY_LOCK, community_id)
        for community_id, district, application_date, fields in checked:
            existing = _open_application(session, community_id)
            if existing is not None:
                raise data_error(
                    "application_duplicate", community=community_id, id=existing.id, status=existing.status
                )
            application = Application(
                community_id=community_id,
                district_code=district,
                application_date=application_date,
                **fields,
                status="applied",
                created_by=actor.username,
            )
            session.add(application)
            session.flush()  # the next entry's duplicate check sees this one
            session.add(ApplicationEvent(application_id=application.id, actor=actor.username, to_status="applied"))
            record(session, actor.username, "application_add", "application", application.id, None, _row(application))
            stored.append(_row(application))
    return stored


def set_status(store, actor: Actor, application_id: int, status: str, reason: str = "") -> dict:
    """Move an application to ``status``: one step along :data:`NEXT`, or ``rejected`` with a reason.

    Refused (DataError, nothing changed): an unknown application or status; a step that skips or
    goes back; a rejection without a reason or after the application is in a plan; a role that may
    not take the step (:func:`_may_take`); another district's application; 列入计划 (``in_plan``) for
    a community that no approved plan buys a set for (approving a plan moves its communities'
    applications at city review there itself: :func:`enter_plan`).
    """
    if status not in STATUSES:
        raise data_error("status_unknown", status=repr(status), statuses=", ".join(STATUSES))
    actor.check_role("admin", "planner", "district")
    reason = checked_text("reason", reason)
    with store.session() as session, session.begin():
        application = locked_row(session, Application, row_id(application_id))  # one step at a time
        if application is None:
            raise data_error("application_unknown", id=application_id)
        actor.check_district(application.district_code)
        current = application.status
        if status == "rejected":
            if current not in REJECTABLE:
                raise data_error("status_no_reject", id=application.id, status=current)
            if not reason.strip():
                raise data_error("status_reject_needs_reason")
        elif NEXT.get(current) != status:
            raise data_error(
                "status_step", id=application.id, current=current, status=status, next=NEXT.get(current, "—")
            )
        if not _may_take(actor.role, current, status):
            raise data_error(
                "role_not_allowed",
                user=actor.username,
                role=role_words(actor.role),
                roles=roles_words(("admin", "planner")),
            )
        if status == "in_plan" and not _in_an_approved_plan(session, application.community_id):
            raise data_error("application_not_in_plan", id=application.id, community=application.community_id)
        move(session, actor.username, application, status, reason)
        return _row(application)


def move(session, actor_name: str, application: Application, status: str, reason: str) -> None:
    """Set ``application``'s status in ``session``'s transaction, with its event and audit row (no checks)."""
    before = _row(application)
    current = application.status
    application.status, application.status_reason = status, reason
    application.updated_at = datetime.now(UTC)
    session.add(
        ApplicationEvent(
            application_id=application.id, actor=actor_name, from_status=current, to_status=status, reason=reason
        )
    )
    record(session, actor_name, "application_status", "application", application.id, before, _row(application))


def _in_an_approved_plan(session, community_id: str) -> bool:
    """Whether an approved plan buys a set for ``community_id`` (what 列入计划 means)."""
    from geo.store.schema import PlanPick, SavedPlan

    query = (
        select(PlanPick.id)
        .join(SavedPlan, SavedPlan.id == PlanPick.plan_id)
        .where(PlanPick.community_id == community_id, SavedPlan.status == "approved")
        .limit(1)
    )
    return session.scalar(query) is not None


def enter_plan(session, actor_name: str, plan_id: int, community_ids) -> int:
    """Move the applications at city review (市局审核) of ``community_ids`` to in_plan (列入计划) when their
    plan ``plan_id`` is approved, in the approval's transaction; returns how many moved."""
    waiting = session.scalars(
        select(Application)
        .where(Application.community_id.in_(list(community_ids)), Application.status == "city_review")
        .order_by(Application.id)
    ).all()
    for application in waiting:
        move(session, actor_name, application, "in_plan", f"plan {plan_id}")
    return len(waiting)


def _may_take(role: str, current: str, status: str) -> bool:
    """Whether ``role`` may move an application from ``current`` to ``status`` (a legal step)."""
    if role in ("admin", "planner"):
        return True
    if role == "district":
        return (current, status) in DISTRICT_STEPS or (status == "rejected" and current in DISTRICT_REJECTS)
    return False


def allowed_steps(role: str, current: str) -> tuple[str, ...]:
    """The statuses ``role`` may move an application from ``current`` to: the next step, ``rejected``.

    What a page offers; :func:`set_status` refuses any other anyway.
    """
    steps = [NEXT[current]] if current in NEXT else []
    if current in REJECTABLE:
        steps.append("rejected")
    return tuple(step for step in steps if _may_take(role, current, step))


def list_applications(store, actor: Actor, district: str | None = None) -> pd.DataFrame:
    """The applications ``actor`` may see (a district office: its own districts), optionally one district's."""
    query = select(Application).order_by(Application.id)
    if district is not None:
        actor.check_district(district)
        query = query.where(Application.district_code == checked_text("district_code", district))
    elif not actor.all_districts:
        query = query.where(Application.district_code.in_(actor.districts))
    with store.session() as session:
        rows = [_row(a) for a in session.scalars(query)]
    return pd.DataFrame(rows, columns=list(APPLICATION_COLUMNS))


def history(store, actor: Actor, application_id: int) -> pd.DataFrame:
    """An application's status events, oldest first (who, when, from, to, why)."""
    with store.session() as session:
        number = row_id(application_id)
        application = session.get(Application, number) if number is not None else None
        if application is None:
            raise data_error("application_unknown", id=application_id)
        actor.check_district(application.district_code)
        events = session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application.id)
            .order_by(ApplicationEvent.id)
        ).all()
        return pd.DataFrame(
            [
                {
                    "at": e.at,
                    "actor": e.actor,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "reason": e.reason,
                }
                for e in events
            ]
        )


def applications_for_priority(store) -> pd.DataFrame:
    """``community_id`` and ``application_date`` of every application not rejected: what priority reads."""
    with store.session() as session:
        rows = session.execute(
            select(Application.community_id, Application.application_date).where(Application.status != "rejected")
        ).all()
    frame = pd.DataFrame(rows, columns=["community_id", "application_date"])
    return frame.assign(application_date=pd.to_datetime(frame["application_date"]))


def land_solution_applications(applications: pd.DataFrame, assessed: pd.DataFrame) -> pd.DataFrame:
    """The open applications (not rejected) whose community is not eligible for lack of land: 需解决用地.

    ``applications``: rows of :func:`list_applications`; ``assessed``: communities with the columns
    of :func:`geo.analysis.eligibility.assess_eligibility` (``eligible``, ``reasons``, ``served``).
    A community lacks land when a reason of :data:`~geo.analysis.eligibility.LAND_REASONS` applies
    and the standard counts it unserved (one already served has its set). Returns the applications'
    rows, in their order, with the community's ``reasons``.
    """
    flags = np.logical_or.reduce([has_reason(assessed, code) for code in LAND_REASONS])
    lacking = flags & ~assessed["eligible"].to_numpy(dtype=bool) & ~assessed["served"].to_numpy(dtype=bool)
    reasons = pd.Series(
        assessed["reasons"].to_numpy()[lacking], index=assessed["community_id"].astype(str).to_numpy()[lacking]
    )
    open_ = applications[applications["status"] != "rejected"]
    chosen = open_[open_["community_id"].astype(str).isin(reasons.index)]
    return chosen.assign(reasons=chosen["community_id"].astype(str).map(reasons)).reset_index(drop=True)
