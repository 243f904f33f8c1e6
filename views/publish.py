"""发布 · Publish — one self-contained HTML page for the bureau's public notice (整改公开).

The notice's 整改方案 is, by default, the newest approved plan of the store (for the server's data),
reproduced with :func:`geo.store.plans.rerun_saved` (same data file, same settings, the applications
and installed sets it was saved with: the same picks), and its 整改成效 reports on that plan's picks:
both speak of the same plan. The result of today's settings can be chosen instead; it is used too
when the data file has changed since the approval (a warning says so), and for a session's upload.
"""

from __future__ import annotations

import functools
from datetime import date

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.errors import DataError, Message, data_error
from geo.i18n import text
from geo.pipeline import load_city
from geo.plan import Plan
from geo.render.export import download_stem
from geo.render.notice import notice_period, publish_html
from geo.render.provenance import file_sha256, plan_parameters
from geo.store.installations import (
    approved_plans,
    inspection_record,
    list_inspections,
    plan_progress,
    planned_vs_installed,
)
from geo.store.plans import get_plan, rerun_saved, with_installed_sets
from views import shared
from views.shared import message_text, plain, t

CURRENT = 0  # the choice "the result of the current settings" (approved plans are chosen by their id, from 1)
RESULT_COLUMNS = ["planned_sets", "planned_cny", "installed_sets", "installed_cny"]


def notice_bytes(
    plan,
    districts,
    fitness_paths,
    notice_lang: str,
    title: str,
    data_sha256: str,
    synthetic: bool,
    parameters: dict | None = None,
    period: tuple[date, date] | None = None,
    issued: date | None = None,
    installed=None,
    inspections=None,
    approved: dict | None = None,
) -> bytes:
    """The notice of ``plan``; every argument was read in the user's script run (see shared.download_buttons)."""
    return publish_html(
        plan,
        districts,
        fitness_paths,
        lang=notice_lang,
        title=title,
        data_sha256=data_sha256,
        synthetic_notice=synthetic,
        parameters=parameters,
        period=period,
        issued=issued,
        installed=installed,
        inspections=inspections,
        approved=approved,
    ).encode("utf-8")


def results_frames(city, plan_id: int | None = None):
    """整改成效 from the bureau's store, as the actor may see it: installed against planned per district
    and the inspection record (community names from ``city``), of every approved plan or, with
    ``plan_id``, of that plan alone. None, None (the section waits) when the page shows a session's
    upload: the store records the server's city, not a what-if."""
    if shared.using_upload():
        return None, None
    store, actor = shared.store(), shared.actor()
    if plan_id is None:
        installed, inspections = planned_vs_installed(store, actor), inspection_record(store, actor)
    else:
        installed, inspections = plan_results(store, actor, plan_id)
    names = city.communities.assign(community_id=city.communities["community_id"].astype(str))
    names = names.drop_duplicates("community_id").set_index("community_id")["name"]
    inspections = inspections.assign(
        name=inspections["community_id"].astype(str).map(names).fillna(inspections["community_id"])
    )
    return installed, inspections


def plan_results(store, actor, plan_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plan ``plan_id``'s results as :func:`geo.store.installations.planned_vs_installed` and
    :func:`~geo.store.installations.inspection_record` give them for every approved plan: per district
    its picks and money (CNY) planned and installed, and the inspections of its installations."""
    progress = plan_progress(store, actor, plan_id)
    installed = district_results(progress)
    ours = set(progress["installation_id"].dropna().astype(int))
    inspections = list_inspections(store, actor)
    inspections = inspections[inspections["installation_id"].isin(ours)]
    return installed, inspections[["inspected_on", "community_id", "district_code", "condition", "findings", "photos"]]


def district_results(progress: pd.DataFrame) -> pd.DataFrame:
    """Per district (by code) of a plan's picks (:func:`geo.store.installations.plan_progress`): ``planned_sets``,
    ``planned_cny``, ``installed_sets``, ``installed_cny`` (what the installations cost, CNY)."""
    frame = pd.DataFrame(
        {
            "district_code": progress["district_code"].astype(str),
            "planned_sets": 1,
            "planned_cny": progress["cost_cny"].fillna(0),
            "installed_sets": progress["installed"].astype(bool).astype(int),
            "installed_cny": progress["installed_cost_cny"].where(progress["installed"].astype(bool)).fillna(0),
        }
    )
    table = frame.groupby("district_code", as_index=False)[RESULT_COLUMNS].sum()
    return table[["district_code", *RESULT_COLUMNS]].astype(dict.fromkeys(RESULT_COLUMNS, int)).reset_index(drop=True)


def approval_date(approved_at) -> date:
    """The calendar date (UTC) of an approval's time (a time without a zone is UTC, as the store keeps it)."""
    moment = pd.Timestamp(approved_at)
    return (moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")).date()


def publishable_plans() -> pd.DataFrame:
    """The approved plans a notice may publish, newest approval first; none for a session's upload
    (plans belong to the server's data)."""
    if shared.using_upload():
        return pd.DataFrame(columns=["id", "name", "approved_by", "approved_at"])
    plans = approved_plans(shared.store())
    order = pd.to_datetime(plans["approved_at"], utc=True)
    return plans.assign(_order=order).sort_values(["_order", "id"], ascending=False).drop(columns="_order")


def plan_choice(plans: pd.DataFrame) -> int:
    """公示的方案: an approved plan (default the newest) or the result of the current settings (:data:`CURRENT`)."""
    if not len(plans):
        st.caption(t("publish_uses_plan"))
        return CURRENT
    labels = {
        int(row.id): t(
            "publish_plan_approved",
            id=int(row.id),
            name=row.name,  # a selectbox's options are plain text, not Markdown
            by=row.approved_by or "",
            date=approval_date(row.approved_at).isoformat(),
        )
        for row in plans.itertuples(index=False)
    } | {CURRENT: t("publish_plan_current")}
    choice = st.selectbox(t("publish_plan_choice"), list(labels), format_func=labels.get, key="publish_plan")
    st.caption(t("publish_plan_help") if choice != CURRENT else t("publish_uses_plan"))
    return int(choice)


@st.cache_resource(show_spinner=False, max_entries=8)
def reproduced(path: str, file_version: float, digest: str, plan_id: int, installed: tuple) -> tuple:
    """Approved plan ``plan_id`` run again on the server's data file at ``path`` (SHA-256 ``digest``) with
    its saved settings, applications and installed sets (``installed``: ``(id, lon, lat)``): the plan
    and the fitness paths it ran with (EPSG:4326). Shared by every session: the server's data only, and
    an approved plan is frozen. DataError ``plan_data_changed`` when the file is not the plan's."""
    city = load_city(path)
    plan = rerun_saved(shared.store(), plan_id, city, digest)
    return plan, with_installed_sets(city.fitness_paths, [list(s) for s in installed])


def approved_plan(plan_id: int, path, digest: str) -> tuple[Plan, gpd.GeoDataFrame, dict] | None:
    """Plan ``plan_id`` as approved, its fitness paths and who approved it when (for the notice); None, with
    a warning, when the data file has changed since (the notice then uses the current settings)."""
    saved, _ = get_plan(shared.store(), shared.actor(), plan_id)
    installed = tuple(tuple(s) for s in saved["parameters"].get("installed_sets", []))
    try:
        plan, paths = reproduced(str(path), path.stat().st_mtime, digest, plan_id, installed)
    except DataError as error:
        said_error = error.args[0] if error.args else None
        if not (isinstance(said_error, Message) and said_error.key == "plan_data_changed"):
            raise
        st.warning(f"{t('publish_plan_data_changed', id=plan_id)} {plain(message_text(error))}")
        return None
    approval = {
        "id": int(saved["id"]),
        "name": saved["name"],
        "by": saved["approved_by"] or "",
        "date": approval_date(saved["approved_at"]),
    }
    return plan, paths, approval


def render() -> None:
    shared.require_page("publish")  # besides the navigation (shared.PAGE_ROLES)
    st.title(t("page_publish"))
    st.write(t("publish_intro"))
    choice = plan_choice(publishable_plans())

    notice_lang = st.radio(
        t("publish_lang"),
        ["zh", "en"],
        horizontal=True,
        format_func=lambda c: text("language_name", c),
        index=0 if shared.lang() == "zh" else 1,
    )
    title = st.text_input(
        t("publish_title"), value=text("publish_default_title", notice_lang, **shared.place_names(notice_lang))
    )

    city = shared.city()  # first: a missing or unreadable data file is said as such (data_file_not_found …)
    path = shared.data_path()
    digest = file_sha256(path)
    chosen = approved_plan(choice, path, digest) if choice != CURRENT else None
    if chosen is None:  # today's settings on today's data (with the store's installed sets)
        plan, fitness_paths, approval, results_of = shared.current_plan(), city.fitness_paths, None, None
    else:
        (plan, fitness_paths, approval), results_of = chosen, choice
    shared.distance_caption(plan.config.distance, plan.walk_radius_m)  # the published plan's, not the sidebar's
    if not plan.config.contact_zh:  # the rectification plan promises a feedback channel (整改公开)
        st.warning(t("publish_no_feedback"))
    # 公示期: from the publishing date to [notice] period_days later, unless the user picks other dates.
    issued = date.today()
    default_start, default_end = notice_period(issued, plan.config.notice_period_days)
    first, last = st.columns(2)
    start = first.date_input(t("publish_period_start"), value=default_start, format="YYYY-MM-DD")
    end = last.date_input(t("publish_period_end"), value=default_end, format="YYYY-MM-DD")
    if end < start:
        raise data_error("notice_period_order", start=start.isoformat(), end=end.isoformat())

    for outcome in plan.outcomes:
        summary = outcome.summary()
        line = t(
            "publish_program_line",
            sets=f"{summary['sets']:,}",
            spent=f"{summary['spent_cny']:,.0f}",
            unspent=f"{summary['unspent_cny']:,.0f}",
            residents=f"{summary['population_newly_served']:,}",
        )
        st.write(f"**{plain(outcome.program.name(shared.lang()))}** — {plain(line)}")

    installed, inspections = results_frames(city, results_of)
    build = functools.partial(
        notice_bytes,
        plan,
        city.districts,
        fitness_paths,
        notice_lang,
        title,
        digest,
        shared.city_identity().synthetic,
        {**plan_parameters(plan), "data_file": shared.data_name()},  # the user's name for it, never a server path
        (start, end),
        issued,
        installed=installed,
        inspections=inspections,
        approved=approval,
    )
    st.download_button(
        t("publish_download"),
        data=build,
        # What it is, its programmes and mode, in the notice's language (健身路径建设计划公示_市本级+…_排序_全市)
        file_name=download_stem(
            "notice", notice_lang, programs=[o.program.name(notice_lang) for o in plan.outcomes], mode=plan.mode
        )
        + ".html",
        mime="text/html",
        type="primary",
        on_click="ignore",
    )


shared.guarded(render)
