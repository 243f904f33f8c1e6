"""The audit log in words: actions, objects and changed fields in the reader's language, times in the city's zone.

:func:`geo.store.audit.audit_entries` gives the log with codes and raw before/after JSON; this module
turns it into what a person reads (the audit page, its CSV). The raw JSON stays in the CSV's last two
columns for auditors.
"""

from __future__ import annotations

import json
import re

import pandas as pd

from geo.i18n import catalogue, column_label, text, yes_no
from geo.render.times import local_header, local_time_text

FIELD_LABELS = {
    "id": "id",
    "community_id": "community_id",
    "district_code": "district_code",
    "application_date": "application_date",
    "applicant": "applicant",
    "contact": "contact",
    "request": "request",
    "notes": "notes",
    "status": "status",
    "status_reason": "application_status_reason",
    "created_by": "created_by",
    "created_at": "created_at",
    "updated_at": "application_updated_at",
    "name": "name",
    "mode": "mode",
    "data_name": "data_name",
    "data_sha256": "data_sha256",
    "approved_by": "approved_by",
    "approved_at": "approved_at",
    "plan_id": "plan_id",
    "pick_id": "audit_pick_id",
    "installed_on": "installed_on",
    "site": "audit_site",
    "lon": "lon",
    "lat": "lat",
    "pieces": "audit_pieces",
    "supplier": "audit_supplier",
    "cost_cny": "cost_cny",
    "installation_id": "installation_id",
    "inspected_on": "inspected_on",
    "condition": "condition",
    "findings": "findings",
    "photos": "photos",
    "username": "username",
    "role": "role",
    "districts": "districts",
    "disabled": "disabled",
    "file": "audit_file_name",
    "sha256": "audit_sha256",
    "layers": "audit_layers",
    "picks": "audit_picks",
    "minutes": "audit_minutes",
}
"""Field recorded in an audit row's before/after → its ``[column]`` label key."""

QUIET_ON_CREATE = ("id", "created_by", "created_at", "updated_at")
"""Fields a new record's change text leaves out: the row's own time, actor and object number say them."""

UNCHANGED_NOISE = ("updated_at",)
"""Fields whose change the row's own time already says."""

CODED_FIELDS = {"condition": "condition_", "role": "role_", "mode": "mode_"}
"""Fields whose codes are ``[text]`` words (``status`` depends on the object: see :func:`value_in_words`)."""

STATUS_PREFIX = {"application": "application_status_", "plan": "plans_status_"}

AUDIT_SHOWN = ("id", "at", "actor", "action", "entity", "entity_id", "changes")
"""The columns a person reads, in order; the CSV adds ``before_json`` and ``after_json``."""

MISSING = "—"


def _word(key: str, code, lang: str) -> str:
    """``[text]`` key's phrase, else the code as given (a code the catalogue lacks is a test failure, not a crash)."""
    return catalogue(lang)["text"].get(key, str(code))


def action_in_words(action: str, lang: str = "zh") -> str:
    """An audit action code (``plan_approve``) in words (批准方案)."""
    return _word(f"action_{action}", action, lang)


def entity_in_words(entity: str, lang: str = "zh") -> str:
    """An audit object code (``application``) in words (申请)."""
    return _word(f"entity_{entity}", entity, lang)


def field_label(field: str, lang: str = "zh") -> str:
    """A recorded field's name in words: its ``[column]`` label."""
    return column_label(FIELD_LABELS.get(field, field), lang)


AUTOMATIC_REASON = re.compile(r"(plan|installation) ([0-9]+)")
"""Reasons the store writes itself when one record moves another (geo.store: ``plan 3`` when plan 3's
approval puts an application in the plan, ``installation 5`` when an installation marks it installed)."""


def reason_in_words(reason, lang: str = "zh") -> str:
    """A status change's reason for people: the store's own reasons in words, a person's as they wrote it."""
    if not isinstance(reason, str):
        return ""
    automatic = AUTOMATIC_REASON.fullmatch(reason)
    return text(f"status_reason_{automatic[1]}", lang, id=automatic[2]) if automatic else reason


def value_in_words(field: str, value, entity: str, lang: str = "zh", zone: str = "UTC", districts=None) -> str:
    """One recorded value as a person reads it: codes as words, times in ``zone``, lists joined, nothing as —;
    district codes as their names in ``districts`` (code → name; a code it lacks stays as it is)."""
    if value is None or value == "" or value == [] or value == {}:
        return MISSING
    if field in ("district_code", "districts") and districts:
        value = (
            [districts.get(str(v), v) for v in value] if isinstance(value, list) else districts.get(str(value), value)
        )
    if isinstance(value, bool):
        yes, no = yes_no(lang)
        return yes if value else no
    if field == "status" and entity in STATUS_PREFIX:
        return _word(STATUS_PREFIX[entity] + str(value), value, lang)
    if field in CODED_FIELDS:
        return _word(CODED_FIELDS[field] + str(value), value, lang)
    if field.endswith("_at"):
        return local_time_text([value], zone).iloc[0] or str(value)
    if field in ("status_reason", "reason"):
        return reason_in_words(value, lang)
    if field == "photos" and isinstance(value, list):
        return str(len(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value) if lang == "zh" else ", ".join(str(v) for v in value)
    if isinstance(value, dict):  # a data upload's layers: layer → rows, the layer named in words
        said = {_word(f"changes_layer_{k}", k, lang): f"{v:,}" if isinstance(v, int) else v for k, v in value.items()}
        return (
            "，".join(f"{k} {v}" for k, v in said.items())
            if lang == "zh"
            else ", ".join(f"{k} {v}" for k, v in said.items())
        )
    return str(value)


def _parsed(raw) -> dict:
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or raw == "":
        return {}
    record = json.loads(raw) if isinstance(raw, str) else raw
    return record if isinstance(record, dict) else {"value": record}


def changes_in_words(before, after, entity: str, lang: str = "zh", zone: str = "UTC", districts=None) -> str:
    """The fields that changed between ``before`` and ``after`` (JSON texts or dicts; None for none), joined by ``；``:
    ``字段：旧 → 新`` (``字段：新`` for a new record, ``字段：旧 → —`` for one removed)."""
    old, new = _parsed(before), _parsed(after)
    colon = "：" if lang == "zh" else ": "
    lines = []
    order = {field: n for n, field in enumerate(FIELD_LABELS)}  # the log keeps keys sorted: show them in reading order
    for field in sorted(set(old) | set(new), key=lambda f: (order.get(f, len(order)), f)):
        was, now = old.get(field), new.get(field)
        if was == now:
            continue
        if not old and (field in QUIET_ON_CREATE or now in (None, "", [], {})):
            continue
        if old and field in UNCHANGED_NOISE:
            continue
        shown_now = value_in_words(field, now, entity, lang, zone, districts)
        named = field_label("district_name" if field == "district_code" and districts else field, lang)
        if not old:
            lines.append(f"{named}{colon}{shown_now}")
        else:
            shown_was = value_in_words(field, was, entity, lang, zone, districts)
            lines.append(f"{named}{colon}{shown_was} → {shown_now}")
    return ("；" if lang == "zh" else "; ").join(lines)


def audit_in_words(
    log: pd.DataFrame, lang: str = "zh", zone: str = "UTC", raw: bool = False, districts: dict | None = None
) -> pd.DataFrame:
    """The audit log ``log`` (columns of :data:`geo.store.audit.AUDIT_COLUMNS`) as people read it.

    Columns :data:`AUDIT_SHOWN` with internal names, except the time, whose header already says ``zone``
    (e.g. 时间（北京时间）); district codes in the changes as their names in ``districts`` (code → name);
    with ``raw`` the before/after JSON follow as ``before_json``, ``after_json``.
    Label the rest with :func:`geo.i18n.labelled` (or :func:`geo.render.export.to_csv`).
    """
    shown = pd.DataFrame(
        {
            "id": log["id"].to_numpy(),  # the log's own numbers: a gap would show
            local_header("at", zone, lang): local_time_text(log["at"], zone).to_numpy(),
            "actor": log["actor"].astype(str).to_numpy(),
            "action": [action_in_words(a, lang) for a in log["action"]],
            "entity": [entity_in_words(e, lang) for e in log["entity"]],
            "entity_id": log["entity_id"].astype(str).to_numpy(),
            "changes": [
                changes_in_words(b, a, e, lang, zone, districts)
                for b, a, e in zip(log["before"], log["after"], log["entity"], strict=True)
            ],
        }
    )
    if raw:
        shown["before_json"] = log["before"].fillna("").astype(str).to_numpy()
        shown["after_json"] = log["after"].fillna("").astype(str).to_numpy()
    return shown
