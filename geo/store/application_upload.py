"""Many applications from one table (.xlsx or .csv): read it, check each row, say why a row is refused.

A district office forwards the applications its communities made (seed: 请向城区文体新局提出申请，
汇总到市局进行统一安排) as one table, one application a row, under these columns (headers in
Chinese or English, compared loosely: case, spaces, ``_``, ``-`` and full-width forms ignored):

========================  ============  ==============================================
field                     中文表头       what it holds
========================  ============  ==============================================
``community_id``          小区编号       the community's ID in the city data (required)
``application_date``      申请日期       a date not after today, e.g. 2026-05-03 (required)
``applicant``             申请人         who applied
``contact``               联系方式       how to reach them
``request``               居民诉求       what residents asked for (适合老年人和儿童 …)
``notes``                 备注           anything else
========================  ============  ==============================================

:func:`read_upload` reads the cells as text (the lenient readers of :mod:`geo.data.tables`: UTF-8 or
GBK CSV, a workbook read without evaluating anything, row numbers as the spreadsheet shows them).
:func:`check_rows` is pure: each rule of :func:`geo.store.applications.add_application` (a known
community, of the office's own districts, a date not after today, no open application of the same
community) plus a duplicate within the file and overlong text, every reason of a row given at
once. The good rows are then stored together by :func:`geo.store.applications.add_applications`,
in one transaction: all of them or none. Cells are data: stored as given, and every CSV written
here goes through :func:`geo.data.cells.csv_bytes` (a cell that would start a formula gets ``'``).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from geo.data.archives import _check_zip_archive
from geo.data.cells import csv_bytes
from geo.data.formats import _check_upload_size, _sniff_format, display_file_name
from geo.data.headers import _header_key
from geo.data.tables import _csv_rows, _xlsx_rows
from geo.errors import Message, data_error
from geo.i18n import LANGS, column_label, label, text
from geo.store.actors import Actor
from geo.store.applications import TEXT_FIELDS
from geo.store.checks import MAX_TEXT_CHARS, NUL  # one limit for a typed-in application and an uploaded row

UPLOAD_FIELDS = ("community_id", "application_date", "applicant", "contact", "request", "notes")
REQUIRED_FIELDS = ("community_id", "application_date")
# The catalogue's [column] label of each field (its header in downloads and templates, both languages).
FIELD_LABEL_KEYS = {
    "community_id": "community_id",
    "application_date": "application_date",
    "applicant": "applicant",
    "contact": "contact",
    "request": "request",
    "notes": "application_notes",
}
# Other headers clerks write for the same fields, beyond the field's name and its labels.
_SYNONYMS = {
    "community_id": ("community", "小区代码", "小区id"),
    "application_date": ("date", "日期", "申请时间"),
    "applicant": ("申请单位", "申请者"),
    "contact": ("联系电话", "电话", "phone", "telephone"),
    "request": ("诉求", "申请内容", "需求", "requests"),
    "notes": ("note", "remarks", "说明"),
}
# A date as clerks type it: 2026-05-03, 2026/5/3, 2026.5.3, 2026年5月3日, with a midnight time at most.
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?$")
REJECT_COLUMNS = ("sheet_row", "reason_code", "reason_zh", "reason_en", *UPLOAD_FIELDS)


def header_lookup() -> dict[str, str]:
    """Loose header (:func:`geo.data.headers._header_key`) → field: names, labels in both languages, synonyms."""
    lookup = {}
    for field in UPLOAD_FIELDS:
        names = [field, *(column_label(FIELD_LABEL_KEYS[field], lang) for lang in LANGS), *_SYNONYMS[field]]
        for name in names:
            lookup.setdefault(_header_key(name), field)
    return lookup


def matched_columns(headers) -> dict[str, str]:
    """The file's header → field for the headers recognised (the first of two for one field wins)."""
    lookup, matched = header_lookup(), {}
    for header in headers:
        field = lookup.get(_header_key(header))
        if field is not None and field not in matched.values():
            matched[header] = field
    return matched


def read_upload(
    path,
    name: str,
    max_upload_mb: float | None = None,
    max_unzipped_mb: float | None = None,
    max_rows: int | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The applications table of ``path`` (an .xlsx or .csv the user named ``name``) as text cells.

    Returns
    -------
    (DataFrame, numpy.ndarray of int)
        One row per non-blank data row, columns :data:`UPLOAD_FIELDS` (text, None where empty;
        an optional column the file lacks is all None), and each row's number as Excel/WPS shows
        it (a CSV's header is row 1). A workbook's formula cell without a stored value is empty
        (formulas are never evaluated).

    Raises
    ------
    DataError
        Not a CSV or workbook; above the size limits or ``max_rows``; unreadable; a required
        column missing (the message lists the file's columns and the template's headers).
    """
    path = Path(path)
    shown = display_file_name(name)
    label = Message("label_file", kind=Message("kind_applications"), file=shown)
    _check_upload_size(path, max_upload_mb)
    file_format = _sniff_format(path, extended=True)
    if file_format not in ("csv", "xlsx"):
        raise data_error("application_upload_format", file=shown, found=Message(f"format_a_{file_format}"))
    if file_format == "csv":
        table, row_numbers, formulas = _csv_rows(path, label, max_rows)
    else:
        _check_zip_archive(path, max_unzipped_mb)
        # The workbook's sheet is the first whose header row names two known columns; 小区编号 and
        # 申请日期 are columns of the survey's communities too, so the survey's sheet finder fits.
        table, row_numbers, formulas = _xlsx_rows(path, "communities", label, max_unzipped_mb, max_rows)
    for column, mask in formulas.items():
        table.loc[mask, column] = None
    matched = matched_columns(table.columns)
    missing = [field for field in REQUIRED_FIELDS if field not in matched.values()]
    if missing:
        raise data_error(
            "application_upload_columns",
            file=shown,
            columns=", ".join(f"{column_label(FIELD_LABEL_KEYS[f], 'zh')} ({f})" for f in missing),
            found=", ".join(repr(str(c)) for c in table.columns) or Message("none_parenthesised"),
            headers=", ".join(column_label(FIELD_LABEL_KEYS[f], "zh") for f in UPLOAD_FIELDS),
        )
    by_field = {field: header for header, field in matched.items()}
    cells = {}
    for field in UPLOAD_FIELDS:
        values = table[by_field[field]].to_list() if field in by_field else [None] * len(table)
        cells[field] = pd.Series([_text_or_none(value) for value in values], dtype=object)
    return pd.DataFrame(cells, columns=list(UPLOAD_FIELDS), dtype=object), np.asarray(row_numbers, dtype=int)


def _text_or_none(value) -> str | None:
    """A cell as stripped text; None for an empty or missing one."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value).strip() or None


def parse_date(value) -> date | None:
    """A cell's date (2026-05-03, 2026/5/3, 2026.5.3, 2026年5月3日, an Excel date), None if it is none."""
    if value is None:
        return None
    found = _DATE.match(str(value).strip())
    if found is None:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:  # 2026-02-30
        return None


def check_rows(
    table: pd.DataFrame,
    row_numbers,
    communities: pd.DataFrame,
    actor: Actor,
    open_applications: pd.DataFrame,
    today: date,
    statuses: dict[str, tuple[str, str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``table`` (:func:`read_upload`'s) into the rows to store and the rows refused, with why.

    Parameters
    ----------
    table : DataFrame
        Text cells under :data:`UPLOAD_FIELDS`.
    row_numbers : array of int
        Each row's number as the user's spreadsheet shows it.
    communities : DataFrame
        The city's communities: ``community_id``, ``district_code``.
    actor : Actor
        Who uploads: a district office may apply only for its own districts.
    open_applications : DataFrame
        The stored applications not closed (``id``, ``community_id``, ``status``) the actor may see.
    today : date
        No application date may be after it (UTC calendar date).
    statuses : dict, optional
        Status code → (Chinese, English) words for the messages (default: the codes).

    Returns
    -------
    (DataFrame, DataFrame)
        The good rows: ``sheet_row``, ``community_id``, ``application_date`` (a date) and the text
        fields ("" where empty), ready for :func:`geo.store.applications.add_applications`. The
        refused rows: :data:`REJECT_COLUMNS`: the row number, its reason codes (``;``-joined), every
        reason in Chinese and in English (``；`` / ``; ``-joined), then its cells as read.
    """
    table = table.reset_index(drop=True)
    row_numbers = np.asarray(row_numbers, dtype=int)
    table = pd.DataFrame(
        {field: pd.Series([_text_or_none(v) for v in table[field]], dtype=object) for field in UPLOAD_FIELDS}
    )
    ids = table["community_id"]
    known = communities.assign(community_id=communities["community_id"].astype(str).str.strip())
    districts = known.drop_duplicates("community_id").set_index("community_id")["district_code"].astype(str)
    dates = table["application_date"].map(parse_date)
    stored = open_applications.assign(community_id=open_applications["community_id"].astype(str))
    stored = stored.drop_duplicates("community_id").set_index("community_id")
    statuses = statuses or {}

    reasons: list[list[tuple[str, str, dict]]] = [[] for _ in range(len(table))]  # (code, row key, values)
    first_row: dict[str, int] = {}
    for i in range(len(table)):
        community, raw_date = ids[i], table.at[i, "application_date"]
        if community is None:
            reasons[i].append(("missing_required", "application_no_community", {}))
        elif community not in districts.index:
            reasons[i].append(("unknown_community", "application_unknown_community", {"value": community}))
        elif not actor.may_see(districts[community]):
            reasons[i].append(
                (
                    "not_your_district",
                    "application_other_district",
                    {"value": community, "district": districts[community]},
                )
            )
        if raw_date is None:
            reasons[i].append(("missing_required", "application_no_date", {}))
        elif dates[i] is None:
            reasons[i].append(("wrong_type", "application_bad_date", {"value": raw_date}))
        elif dates[i] > today:
            reasons[i].append(
                ("future_date", "application_future_date", {"value": dates[i].isoformat(), "today": today.isoformat()})
            )
        for field in TEXT_FIELDS:
            value = table.at[i, field]
            if value is not None and NUL in str(value):
                reasons[i].append(("text_nul", "text_nul", {"field": field}))
            elif value is not None and len(str(value)) > MAX_TEXT_CHARS:
                reasons[i].append(
                    (
                        "text_too_long",
                        "text_too_long",
                        {"field": field, "length": len(str(value)), "limit": MAX_TEXT_CHARS},
                    )
                )
        if community is not None:
            if community in first_row:
                reasons[i].append(
                    ("duplicate_id", "application_duplicate_row", {"value": community, "first": first_row[community]})
                )
            else:
                first_row[community] = int(row_numbers[i])
            if community in stored.index:
                status = str(stored.at[community, "status"])
                reasons[i].append(
                    (
                        "duplicate_stored",
                        "application_duplicate_stored",
                        {"value": community, "id": int(stored.at[community, "id"]), "status": status},
                    )
                )

    bad = np.array([bool(r) for r in reasons], dtype=bool)
    good = pd.DataFrame(
        {
            "sheet_row": row_numbers[~bad],
            "community_id": ids[~bad].to_list(),
            "application_date": pd.Series(dates[~bad].to_list(), dtype=object),
            **{field: [value or "" for value in table.loc[~bad, field]] for field in TEXT_FIELDS},
        },
        columns=["sheet_row", "community_id", "application_date", *TEXT_FIELDS],
    )
    rejected = [i for i in range(len(table)) if bad[i]]
    rejects = pd.DataFrame(
        {
            "sheet_row": row_numbers[bad],
            "reason_code": [";".join(dict.fromkeys(code for code, _, _ in reasons[i])) for i in rejected],
            "reason_zh": [_said(reasons[i], "zh", statuses) for i in rejected],
            "reason_en": [_said(reasons[i], "en", statuses) for i in rejected],
            # object columns: a missing cell stays None (pandas 3 would make a text column of NaN)
            **{field: pd.Series(table.loc[bad, field].to_list(), dtype=object) for field in UPLOAD_FIELDS},
        },
        columns=list(REJECT_COLUMNS),
    )
    return good, rejects


def _said(reasons: list[tuple[str, str, dict]], lang: str, statuses: dict) -> str:
    """A row's reasons in ``lang``, one after another."""
    phrases = []
    for _code, key, values in reasons:
        values = dict(values)
        if "field" in values:
            values["field"] = column_label(FIELD_LABEL_KEYS[values["field"]], lang)
        if "status" in values:
            words = statuses.get(values["status"])
            values["status"] = words[LANGS.index(lang)] if words else values["status"]
        phrases.append(label("row", key, lang, **values))
    return label("row", "application_reason_separator", lang).join(phrases)


def rejects_csv_bytes(rejects: pd.DataFrame, lang: str = "zh") -> bytes:
    """The refused rows as a CSV (UTF-8 with BOM): row number, reason in ``lang``, then the cells as read,
    under headers in ``lang``; a cell that would start a formula is written with a leading ``'``."""
    table = pd.DataFrame(
        {
            text("rejects_sheet_row", lang): rejects["sheet_row"].astype(int).to_list(),
            text("rejects_reason", lang): rejects[f"reason_{lang}"].to_list(),
            **{column_label(FIELD_LABEL_KEYS[f], lang): rejects[f].to_list() for f in UPLOAD_FIELDS},
        }
    )
    return csv_bytes(table.astype(object).where(table.notna(), None))


def template_csv_bytes(lang: str = "zh") -> bytes:
    """A blank upload template: the header row only, in ``lang`` (UTF-8 with BOM, opens in Excel and WPS)."""
    return csv_bytes(pd.DataFrame(columns=[column_label(FIELD_LABEL_KEYS[f], lang) for f in UPLOAD_FIELDS]))
