"""操作记录 · Audit log — for administrators: every change, newest first; read and downloaded, never edited."""

from __future__ import annotations

import functools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from geo.render.export import to_csv
from geo.store.audit import audit_entries
from views import shared
from views.shared import t


def newest_first(log: pd.DataFrame) -> pd.DataFrame:
    """The audit log (oldest first, as :func:`geo.store.audit.audit_entries` gives it) newest first."""
    return log.iloc[::-1].reset_index(drop=True)


def csv_bytes(log: pd.DataFrame, language: str) -> bytes:
    """``log`` as the CLI's ``geo audit --csv`` writes it: UTF-8 with a BOM, headers in ``language``."""
    with tempfile.TemporaryDirectory() as folder:
        return to_csv(log, Path(folder) / "audit.csv", lang=language).read_bytes()


def render() -> None:
    shared.require_role("admin")  # besides the navigation, which offers this page to administrators only
    st.title(t("page_audit"))
    st.caption(t("audit_intro"))
    today = datetime.now(UTC).date()
    since = st.date_input(t("audit_since"), value=None, max_value=today, format="YYYY-MM-DD", key="audit-since")
    log = newest_first(audit_entries(shared.store(), since))
    if log.empty:
        st.info(t("audit_empty"))
        return
    st.caption(t("audit_rows", count=f"{len(log):,}"))
    shared.show_table(log, height=520)
    st.download_button(
        t("audit_download"),
        data=functools.partial(csv_bytes, log, shared.lang()),
        file_name=f"{t('audit_file')}{'_' + since.isoformat() if since else ''}.csv",
        mime="text/csv",
        key="audit-download",
        on_click="ignore",
    )


shared.guarded(render)
