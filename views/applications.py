"""建设申请 · Applications — district offices enter, upload and review their communities' applications;
the city bureau reviews them.

Who acts is :func:`views.shared.actor`; every row is read and written through geo.store functions
that take that actor, so a district office reaches only its own districts whatever it sends (the
widgets merely offer what the store would accept). A write reruns the page, so every count that
reads the store (this page's, priority's) is read again.
"""

from __future__ import annotations

import functools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from geo.analysis.eligibility import reason_labels
from geo.errors import DataError, Message
from geo.i18n import column_label, text
from geo.render.audit import reason_in_words
from geo.render.times import with_local_times
from geo.store.actors import Actor
from geo.store.application_upload import check_rows, read_upload, rejects_csv_bytes, template_csv_bytes
from geo.store.applications import (
    CLOSED,
    STATUSES,
    add_application,
    add_applications,
    allowed_steps,
    history,
    list_applications,
    set_status,
)
from views import shared
from views.shared import t

FLASH = "applications_flash"
UPLOAD_ROUND = "applications_upload_round"
# An applications table is a few thousand rows at most: smaller limits than a city's survey.
UPLOAD_MAX_MB = 20.0
UPLOAD_MAX_ROWS = 20_000
LIST_COLUMNS = [
    "application_id",
    "community_id",
    "application_community_name",
    "district_name",
    "application_date",
    "applicant",
    "contact",
    "request",
    "application_notes",
    "application_status",
    "application_status_reason",
    "application_created_by",
    "application_updated_at",
]


def today():
    """Today's calendar date in UTC: no application may be dated after it."""
    return datetime.now(UTC).date()


def status_words(status, language: str | None = None) -> str:
    """A status code in the page's language (已申请 / Applied …); "" for none (an event's first ``from``)."""
    if not isinstance(status, str) or not status:
        return ""
    return text(f"application_status_{status}", language or shared.lang())


def status_labels() -> dict[str, str]:
    """Status code → its words in the page's language, for a widget's ``format_func`` (which may be called
    outside the script run, where the page's language cannot be read)."""
    return {status: status_words(status) for status in STATUSES}


def status_pairs() -> dict[str, tuple[str, str]]:
    """Status code → (Chinese, English) words, for the messages of an upload's refused rows."""
    return {status: (status_words(status, "zh"), status_words(status, "en")) for status in STATUSES}


def actor_districts(actor: Actor, names: dict[str, str]) -> list[str]:
    """The district codes ``actor`` may choose among (a district office: its own), in the city's order."""
    return [code for code in names if actor.may_see(code)]


def city_communities() -> pd.DataFrame:
    """Every community of the city (``community_id``, ``district_code``), whatever the actor may see: what
    the store's rules check an application against, so that a community of another district is refused
    as such (as the command line does), not as unknown. Never shown."""
    path = shared.data_path()
    return shared.cached_city(str(path), shared.data_version(path)).communities[["community_id", "district_code"]]


def visible_communities(actor: Actor) -> pd.DataFrame:
    """The city's communities of the districts ``actor`` may see: ``community_id``, ``name``, ``district_code``."""
    communities = shared.city().communities
    mine = communities[communities["district_code"].astype(str).map(actor.may_see)]
    return pd.DataFrame(mine[["community_id", "name", "district_code"]]).astype({"community_id": str})


def shown_table(applications: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The applications as the list shows and downloads them: community and district names from the
    city, the status in the page's language, dates as dates, times in the city's zone (the header says it)."""
    communities = shared.city().communities
    community_names = dict(zip(communities["community_id"].astype(str), communities["name"]))
    shown = pd.DataFrame(
        {
            "application_id": applications["id"].astype(int),
            "community_id": applications["community_id"].astype(str),
            "application_community_name": applications["community_id"].astype(str).map(community_names),
            "district_name": applications["district_code"].astype(str).map(lambda code: names.get(code, code)),
            "application_date": pd.to_datetime(applications["application_date"]),
            "applicant": applications["applicant"],
            "contact": applications["contact"],
            "request": applications["request"],
            "application_notes": applications["notes"],
            "application_status": applications["status"].map(status_words),
            "application_status_reason": applications["status_reason"].map(lambda r: reason_in_words(r, shared.lang())),
            "application_created_by": applications["created_by"],
            "application_updated_at": applications["updated_at"],
        },
        columns=LIST_COLUMNS,
    )
    return with_local_times(shown, ["application_updated_at"], shared.base_config().timezone, shared.lang())


def filtered(applications: pd.DataFrame, search: str, statuses: list[str], districts: list[str]) -> pd.DataFrame:
    """The rows whose community ID or name holds ``search`` (case ignored), of ``statuses`` and
    ``districts`` (an empty choice keeps all)."""
    communities = shared.city().communities
    community_names = dict(zip(communities["community_id"].astype(str), communities["name"].astype(str)))
    keep = pd.Series(True, index=applications.index)
    needle = search.strip().casefold()
    if needle:
        ids = applications["community_id"].astype(str)
        found = ids.str.casefold().str.contains(needle, regex=False)
        found |= ids.map(community_names).fillna("").str.casefold().str.contains(needle, regex=False)
        keep &= found
    if statuses:
        keep &= applications["status"].isin(statuses)
    if districts:
        keep &= applications["district_code"].astype(str).isin(districts)
    return applications[keep]


def done(message: str) -> None:
    """Say ``message`` after the rerun a write needs (every count reads the store again)."""
    st.session_state[FLASH] = message
    st.rerun()


STATUS_VALUES = ("status", "current", "next")


def refused(error: DataError) -> None:
    """The store's refusal as the page says it: a status named in its words (已申请), not its code."""
    message = error.args[0] if error.args else None
    if isinstance(message, Message) and any(message.values.get(name) in STATUSES for name in STATUS_VALUES):
        values = {
            name: status_words(value) if name in STATUS_VALUES and value in STATUSES else value
            for name, value in message.values.items()
        }
        error = DataError(Message(message.key, **values))
    st.error(shared.plain(shared.message_text(error)))  # the store's own words, without "cannot read the data"


# --------------------------------------------------------------------------- the list


def list_tab(applications: pd.DataFrame, actor: Actor, names: dict[str, str]) -> None:
    filters = st.columns([2, 2, 2])
    search = filters[0].text_input(t("applications_search"), key="applications-search")
    statuses = filters[1].multiselect(
        t("applications_filter_status"),
        list(STATUSES),
        format_func=status_labels().get,
        placeholder=t("applications_filter_all"),
        key="applications-status",
    )
    districts = filters[2].multiselect(
        t("applications_filter_district"),
        actor_districts(actor, names),
        format_func=lambda code: names.get(code, code),
        placeholder=t("applications_filter_all"),
        key="applications-district",
    )
    if applications.empty:
        st.info(t("applications_none"))
        return
    shown = shown_table(filtered(applications, search, statuses, districts), names)
    st.caption(t("applications_shown", shown=len(shown), total=len(applications)))
    shared.show_table(shown)
    shared.download_buttons(shown, t("applications_file_stem"), parameters={}, suffixes=(".csv", ".xlsx"), gis=False)


# --------------------------------------------------------------------------- enter one


def add_tab(actor: Actor, names: dict[str, str]) -> None:
    communities = visible_communities(actor)
    if communities.empty:
        st.info(t("applications_no_communities"))
        return
    labels = {
        row.community_id: f"{row.name} · {row.community_id} · {names.get(str(row.district_code), row.district_code)}"
        for row in communities.itertuples()
    }
    with st.form("applications-add", clear_on_submit=True):
        community = st.selectbox(
            t("applications_community"),
            list(labels),
            index=None,  # chosen on purpose, never the first of the list by default
            format_func=labels.get,
            placeholder=t("applications_pick_community"),
            key="applications-add-community",
        )
        columns = st.columns(2)
        day = columns[0].date_input(
            t("applications_date"), value=today(), max_value=today(), key="applications-add-date"
        )
        applicant = columns[1].text_input(t("applications_applicant"), key="applications-add-applicant")
        contact = columns[0].text_input(t("applications_contact"), key="applications-add-contact")
        request = columns[1].text_input(
            t("applications_request"), placeholder=t("applications_request_placeholder"), key="applications-add-request"
        )
        notes = st.text_area(t("applications_notes"), key="applications-add-notes")
        submitted = st.form_submit_button(t("applications_submit"), type="primary")
    if not submitted:
        return
    if community is None:
        st.warning(t("applications_pick_community"))
        return
    try:
        stored = add_application(
            shared.store(),
            actor,
            city_communities(),
            community,
            day,
            applicant=applicant,
            contact=contact,
            request=request,
            notes=notes,
            today=today(),
        )
    except DataError as error:
        refused(error)
        return
    done(t("applications_added", id=stored["id"], community=shared.plain(community)))


# --------------------------------------------------------------------------- upload many


def upload_tab(actor: Actor, applications: pd.DataFrame) -> None:
    st.caption(t("applications_upload_intro"))
    language = shared.lang()
    st.download_button(
        t("applications_template"),
        data=functools.partial(template_csv_bytes, language),
        file_name=t("applications_template_name"),
        mime="text/csv",
        key="applications-template",
        on_click="ignore",
    )
    upload_round = st.session_state.get(UPLOAD_ROUND, 0)
    config = shared.base_config()
    shared.uploader_limit("applications-upload-", min(config.max_upload_mb, UPLOAD_MAX_MB))  # not config's alone
    uploaded = st.file_uploader(
        t("applications_upload_file"), type=["xlsx", "csv"], key=f"applications-upload-{upload_round}"
    )
    if uploaded is None:
        return
    try:
        with tempfile.TemporaryDirectory(prefix="applications-") as folder:
            path = Path(folder) / ("upload.xlsx" if uploaded.name.lower().endswith(".xlsx") else "upload.csv")
            path.write_bytes(uploaded.getvalue())
            table, rows = read_upload(
                path,
                uploaded.name,
                max_upload_mb=min(config.max_upload_mb, UPLOAD_MAX_MB),
                max_unzipped_mb=config.max_unzipped_mb,
                max_rows=min(config.max_rows, UPLOAD_MAX_ROWS),
            )
    except DataError as error:
        refused(error)
        return
    still_open = applications[~applications["status"].isin(CLOSED)]
    good, rejects = check_rows(table, rows, city_communities(), actor, still_open, today(), status_pairs())
    st.caption(
        t(
            "applications_upload_checked",
            file=shared.plain(uploaded.name),
            rows=len(table),
            good=len(good),
            bad=len(rejects),
        )
    )
    if len(rejects):
        shown = rejects[["sheet_row", f"reason_{language}", "community_id", "application_date", "applicant"]]
        st.dataframe(
            shown.rename(
                columns={
                    "sheet_row": t("rejects_sheet_row"),
                    f"reason_{language}": t("rejects_reason"),
                    **{c: column_label(c, language) for c in ("community_id", "application_date", "applicant")},
                }
            ),
            hide_index=True,
            width="stretch",
            placeholder="",
        )
        st.download_button(
            t("applications_rejects_download"),
            data=functools.partial(rejects_csv_bytes, rejects, language),
            file_name=t("applications_rejects_name"),
            mime="text/csv",
            key="applications-rejects",
            on_click="ignore",
        )
    if good.empty:
        st.warning(t("applications_upload_nothing"))
        return
    if st.button(t("applications_upload_store", good=len(good)), type="primary", key="applications-upload-store"):
        try:
            stored = add_applications(shared.store(), actor, city_communities(), good, today())
        except DataError as error:  # e.g. another office stored one of them meanwhile: nothing was stored
            refused(error)
            return
        st.session_state[UPLOAD_ROUND] = upload_round + 1  # a fresh uploader: the file is done with
        if len(stored) == 1:
            done(t("applications_upload_stored_one", id=stored[0]["id"]))
        done(t("applications_upload_stored", count=len(stored), first=stored[0]["id"], last=stored[-1]["id"]))


# --------------------------------------------------------------------------- status and history


def status_tab(applications: pd.DataFrame, actor: Actor) -> None:
    if applications.empty:
        st.info(t("applications_none"))
        return
    communities = shared.city().communities
    community_names = dict(zip(communities["community_id"].astype(str), communities["name"].astype(str)))
    by_id = applications.set_index("id")
    # Labels made now: a format function runs outside the script run too, where the language is unknown.
    labels = {
        int(i): t(
            "applications_option",
            id=int(i),
            community=community_names.get(str(row.community_id), row.community_id),
            status=status_words(row.status),
        )
        for i, row in by_id.iterrows()
    }
    chosen = st.selectbox(t("applications_choose"), list(labels), format_func=labels.get, key="applications-choose")
    events = history(shared.store(), actor, int(chosen))
    st.subheader(t("applications_history"))
    events_shown = pd.DataFrame(
        {
            "at": events["at"],
            "actor": events["actor"],
            "event_from": events["from_status"].map(status_words),
            "event_to": events["to_status"].map(status_words),
            "event_reason": events["reason"].map(lambda reason: reason_in_words(reason, shared.lang())),
        }
    )
    shared.show_table(with_local_times(events_shown, ["at"], shared.base_config().timezone, shared.lang()))
    current = str(by_id.at[chosen, "status"])
    steps = allowed_steps(actor.role, current)
    if not steps:
        st.info(t("applications_no_step", status=status_words(current)))
        return
    step = st.radio(
        t("applications_next"), list(steps), format_func=status_labels().get, horizontal=True, key="applications-step"
    )
    reason = st.text_input(t("applications_reason"), key="applications-reason")
    if st.button(t("applications_set_status"), type="primary", key="applications-set-status"):
        try:
            changed = set_status(shared.store(), actor, int(chosen), step, reason)
        except DataError as error:
            refused(error)
            return
        done(t("applications_status_set", id=changed["id"], status=status_words(changed["status"])))


# --------------------------------------------------------------------------- needs a land solution


def land_rows(scored: pd.DataFrame, applications: pd.DataFrame) -> pd.DataFrame:
    """The communities that applied and are not eligible for lack of land (``needs_land_solution`` of the
    scored communities: the eligibility page's 已申请但需解决用地, one row each, in the same order), each
    with its stored application when there is one not rejected (the newest): ``application_id`` (Int64,
    missing for an application of the data file), ``community_id``, ``name``, ``district_code``,
    ``application_date``, ``request``, ``status`` (code, missing for the data file's) and ``reasons``."""
    land = scored[scored["needs_land_solution"].to_numpy(dtype=bool)]
    open_ = applications[applications["status"] != "rejected"].sort_values("id")
    stored = open_.assign(community_id=open_["community_id"].astype(str)).drop_duplicates("community_id", keep="last")
    stored = stored.set_index("community_id")
    ids = land["community_id"].astype(str)
    stored_date = pd.to_datetime(ids.map(stored["application_date"]), errors="coerce")
    return pd.DataFrame(
        {
            "application_id": ids.map(stored["id"]).astype("Int64"),
            "community_id": ids,
            "name": land["name"].astype(str),
            "district_code": land["district_code"].astype(str),
            "application_date": stored_date.fillna(pd.to_datetime(land["application_date"], errors="coerce")),
            "request": ids.map(stored["request"]).astype(object).fillna(""),
            "status": ids.map(stored["status"]),
            "reasons": land["reasons"],
        }
    ).reset_index(drop=True)


def land_tab(applications: pd.DataFrame, names: dict[str, str]) -> None:
    st.caption(t("applications_land_intro"))
    shared.distance_caption()  # eligibility (served or not) measured as the other pages measure it
    land = land_rows(shared.scored(), applications)
    if land.empty:
        st.info(t("applications_land_none"))
        return
    shown = pd.DataFrame(
        {
            "application_id": land["application_id"],
            "community_id": land["community_id"],
            "application_community_name": land["name"],
            "district_name": land["district_code"].map(lambda code: names.get(code, code)),
            "application_date": land["application_date"],
            "reason_text": reason_labels(land["reasons"], shared.lang()).to_numpy(),
            "request": land["request"],
            "application_status": [
                status_words(code) if isinstance(code, str) else t("applications_land_from_file")
                for code in land["status"]
            ],
        }
    )
    shared.show_table(shown)
    shared.download_buttons(shown, t("applications_land_stem"), parameters={}, suffixes=(".csv", ".xlsx"), gis=False)


def render() -> None:
    st.title(t("page_applications"))
    st.caption(t("applications_intro"))
    actor = shared.actor()
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash)
    names = shared.district_names()
    applications = list_applications(shared.store(), actor)  # a district office: its districts only
    tabs = st.tabs(
        [
            t("applications_tab_list"),
            t("applications_tab_add"),
            t("applications_tab_upload"),
            t("applications_tab_status"),
            t("applications_tab_land"),
        ]
    )
    with tabs[0]:
        list_tab(applications, actor, names)
    with tabs[1]:
        add_tab(actor, names)
    with tabs[2]:
        upload_tab(actor, applications)
    with tabs[3]:
        status_tab(applications, actor)
    with tabs[4]:
        land_tab(applications, names)


shared.guarded(render)
