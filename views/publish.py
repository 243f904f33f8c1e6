"""发布 · Publish — one self-contained HTML page for the bureau's public notice (整改公开)."""

from __future__ import annotations

import functools
from datetime import date

import streamlit as st

from geo.errors import data_error
from geo.i18n import text
from geo.render.export import download_stem
from geo.render.notice import notice_period, publish_html
from geo.render.provenance import file_sha256, plan_parameters
from geo.store.installations import inspection_record, planned_vs_installed
from views import shared
from views.shared import plain, t


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
    ).encode("utf-8")


def results_frames(city):
    """整改成效 from the bureau's store, as the actor may see it: installed against planned per district
    and the inspection record (community names from ``city``). None, None (the section waits) when the
    page shows a session's upload: the store records the server's city, not a what-if."""
    if shared.using_upload():
        return None, None
    store, actor = shared.store(), shared.actor()
    installed = planned_vs_installed(store, actor)
    inspections = inspection_record(store, actor)
    names = city.communities.assign(community_id=city.communities["community_id"].astype(str))
    names = names.drop_duplicates("community_id").set_index("community_id")["name"]
    inspections = inspections.assign(
        name=inspections["community_id"].astype(str).map(names).fillna(inspections["community_id"])
    )
    return installed, inspections


def render() -> None:
    shared.require_page("publish")  # besides the navigation (shared.PAGE_ROLES)
    st.title(t("page_publish"))
    st.write(t("publish_intro"))
    st.caption(t("publish_uses_plan"))

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

    plan = shared.current_plan()
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

    city = shared.city()
    path = shared.data_path()
    installed, inspections = results_frames(city)
    build = functools.partial(
        notice_bytes,
        plan,
        city.districts,
        city.fitness_paths,
        notice_lang,
        title,
        file_sha256(path),
        shared.city_identity().synthetic,
        {**plan_parameters(plan), "data_file": shared.data_name()},  # the user's name for it, never a server path
        (start, end),
        issued,
        installed=installed,
        inspections=inspections,
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
