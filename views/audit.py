"""操作记录 · Audit log — for administrators: every change, newest first; read and downloaded, never edited."""

from __future__ import annotations

import functools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from geo.render.audit import audit_in_words
from geo.render.export import to_csv
from geo.render.times import local_times
from geo.store.audit import audit_entries
from views import shared
from views.shared import t


def newest_first(log: pd.DataFrame) -> pd.DataFrame:
    """The audit log (oldest first, as :func:`geo.store.audit.audit_entries` gives it) newest first."""
    return log.iloc[::-1].reset_index(drop=True)


def zone() -> str:
    """The city's time zone (``config.toml``'s ``[city] timezone``): times are shown in it, the store keeps UTC."""
    return shared.base_config().timezone


def since_local(log: pd.DataFrame, since, time_zone: str) -> pd.DataFrame:
    """The rows of ``log`` written on or after the calendar day ``since`` in ``time_zone`` (all for None)."""
    if since is None or log.empty:
        return log
    return log[(local_times(log["at"], time_zone).dt.date >= since).to_numpy()].reset_index(drop=True)


def csv_bytes(log: pd.DataFrame, language: str, time_zone: str | None = None, districts: dict | None = None) -> bytes:
    """``log`` (as :func:`geo.store.audit.audit_entries` gives it) in words, as a CSV in UTF-8 with a BOM:
    times in ``time_zone`` (default: the city's), headers in ``language``, district codes as their names in
    ``districts``, the raw before/after JSON last."""
    shown = audit_in_words(log, language, time_zone or zone(), raw=True, districts=districts)
    with tempfile.TemporaryDirectory() as folder:
        return to_csv(shown, Path(folder) / "audit.csv", lang=language).read_bytes()


def render() -> None:
    shared.require_role("admin")  # besides the navigation, which offers this page to administrators only
    st.title(t("page_audit"))
    st.caption(t("audit_intro"))
    time_zone = zone()
    today = local_times([datetime.now(UTC)], time_zone).iloc[0].date()
    log = audit_entries(shared.store())
    # a real first day, not an empty box whose placeholder the browser writes in English
    first_day = min(local_times(log["at"], time_zone).min().date(), today) if not log.empty else today
    since = st.date_input(
        t("audit_since"), value=first_day, min_value=first_day, max_value=today, format="YYYY-MM-DD", key="audit-since"
    )
    log = newest_first(since_local(log, since, time_zone))
    if log.empty:
        st.info(t("audit_empty"))
        return
    st.caption(t("audit_rows", count=f"{len(log):,}"))
    districts = shared.district_names()
    shared.show_table(audit_in_words(log, shared.lang(), time_zone, districts=districts), height=520)
    st.download_button(
        t("audit_download"),
        data=functools.partial(csv_bytes, log, shared.lang(), time_zone, districts),
        file_name=f"{t('audit_file')}{'_' + since.isoformat() if since else ''}.csv",
        mime="text/csv",
        key="audit-download",
        on_click="ignore",
    )


shared.guarded(render)
