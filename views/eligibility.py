"""资格核查 · Eligibility — for district offices: which communities are eligible, and why not the others."""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from geo.analysis.eligibility import (
    ELIGIBILITY_FILTERS,
    REASONS,
    built_year_shown,
    eligibility_columns,
    eligibility_counts,
    filter_assessed,
    population_shown,
    population_source_labels,
)
from geo.i18n import label, reason_label, text
from geo.render.export import download_stem as export_stem
from geo.render.export import with_distance
from geo.render.landless import landless_counts, landless_list
from geo.render.provenance import file_sha256
from views import shared
from views.shared import t

# The page shows one district at a time: the list's columns without the district's.
HIDDEN = ("district_code", "district_name", "missing_fields")


def on_screen(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``rows[columns]`` as the table shows them: estimated populations and unknown built years said so."""
    table = pd.DataFrame(rows[columns]).assign(nearest_set_m=rows["nearest_set_m"].round(0))
    table["population"] = population_shown(rows, shared.lang())
    table["built_year"] = built_year_shown(rows, shared.lang())
    if "population_source" in table.columns:
        table["population_source"] = population_source_labels(rows["population_source"], shared.lang())
    return table


def render() -> None:
    st.title(t("page_eligibility"))
    st.caption(t("eligibility_intro"))
    names = shared.district_names()  # a district office: its own districts only
    shared.kept_district("eligibility_district", names)
    district = shared.keep_widget(
        st.selectbox,
        t("districts_filter"),
        "eligibility_district",
        next(iter(names)),
        options=list(names),
        format_func=names.get,
    )
    shared.check_district(district)
    st.caption(
        t(
            "standard_caption",
            standard=shared.standard_words(shared.current_config().standard),
            radius=f"{shared.walk_radius_m():,.0f}",
        )
    )
    shared.distance_caption()
    communities = shared.with_reason_text(shared.scored())
    mine = communities[communities["district_code"] == district]

    counts = eligibility_counts(mine)
    columns = st.columns(6)
    columns[0].metric(t("metric_communities"), f"{counts['communities']:,}")
    columns[1].metric(t("metric_eligible"), f"{counts['eligible']:,}")
    columns[2].metric(t("metric_ineligible"), f"{counts['ineligible']:,}")
    columns[3].metric(t("metric_applied"), f"{counts['applied']:,}")
    columns[4].metric(t("metric_land"), f"{counts['needs_land_solution']:,}")
    columns[5].metric(t("metric_to_survey"), f"{counts['needs_site_check']:,}")

    filters = st.columns([1, 2, 1, 1])
    # Kept and given back each run: a widget whose labels change with the language would otherwise
    # show no choice after the switch (Streamlit matches its state by label).
    status = shared.keep_widget(
        filters[0].radio,
        t("filter_status"),
        "eligibility_status",
        next(iter(ELIGIBILITY_FILTERS)),
        options=list(ELIGIBILITY_FILTERS),
        horizontal=True,
        format_func=lambda s: t(f"filter_{s}"),
    )
    reasons = filters[1].multiselect(
        t("filter_reasons"),
        list(REASONS),
        format_func=lambda r: reason_label(r, shared.lang()),
        placeholder=t("filter_reasons_placeholder"),
    )
    applied_only = filters[2].checkbox(t("filter_applied"))
    site_check_only = filters[2].checkbox(t("filter_site_check"), help=t("filter_site_check_help"))
    name_part = filters[3].text_input(t("filter_name"))

    shown = filter_assessed(mine, status, reasons, applied_only, name_part, site_check_only)
    listed = [c for c in eligibility_columns(mine) if c not in HIDDEN]

    st.caption(t("rows_shown", shown=len(shown), total=len(mine)))
    # A missing cell (no application date …) shows empty, not Streamlit's English "None".
    shared.show_table(on_screen(shown, listed), height=420)
    shared.download_buttons(
        with_distance(shown[listed + ["geometry"]], shared.distance(), "nearest_set_m"),
        shared.download_stem("eligibility", district=district),
        parameters={
            "district": names[district],
            "service_standard": shared.current_config().standard,
            "coverage_distance": shared.distance(),
            "filter": status,
            "reasons": ",".join(reasons),
            "applicants_only": applied_only,
            "site_check_only": site_check_only,
            "walk_radius_m": shared.walk_radius_m(),
            "data_file": shared.data_name(),
            "data_sha256": file_sha256(shared.data_path()),
        },
        suffixes=(".xlsx", ".csv"),
        gis=True,
    )

    land = mine[mine["needs_land_solution"]]
    with st.expander(f"{t('land_solution_title')}: {len(land)}", expanded=bool(len(land))):
        shared.show_table(
            pd.DataFrame(land[["community_id", "name", "application_date", "reason_text", "open_space_m2"]])
        )

    landless_section(mine, district, names)

    st.subheader(t("map"))
    shared.show_map(560, district=district, ids=shown["community_id"])  # the rows the filters show


def plan_sentence(in_use: shared.PlanInUse, markdown: bool = True) -> str:
    """Which plan the section's "served by" columns follow, in the page's language; names shown as typed
    (:func:`shared.plain`) when ``markdown`` (for the page), as they are for a file."""
    language = shared.lang()
    shown = shared.plain if markdown else str
    values = dict(in_use.approval or {})
    if in_use.said != "landless_plan_approved":
        plan = in_use.plan
        programs = label("export", "list_separator", language).join(o.program.name(language) for o in plan.outcomes)
        values |= {"programs": programs, "mode": label("export", f"mode_{plan.mode}", language)}
    phrase = t if markdown else functools.partial(text, lang=language, **shared.place_names())
    return phrase(in_use.said, **{key: shown(value) for key, value in values.items()})


def landless_section(mine: pd.DataFrame, district: str, names: dict[str, str]) -> None:
    """无建设用地的小区: each land-less community of ``district``, its nearest public sites and the pick serving it."""
    st.subheader(t("landless_title"))
    radius = f"{shared.walk_radius_m():,.0f}"
    in_use = shared.plan_in_use()
    # The sites' distances are measured as the plan measured (shared.landless_of): the intro says which.
    on_foot = getattr(in_use.plan.config, "distance", "straight") == "network"
    st.caption(t("landless_intro_network" if on_foot else "landless_intro", radius=radius))
    table = shared.landless_of(mine, in_use)
    counts = landless_counts(mine, table)
    st.markdown(
        t(
            "landless_count",
            district=shared.plain(names[district]),
            count=f"{counts['landless']:,}",
            residents=f"{counts['residents']:,}",
            served=f"{counts['served']:,}",
            left=f"{counts['landless'] - counts['served']:,}",
        )
    )
    st.caption(
        t(
            "landless_reconcile",
            land=f"{counts['land']:,}",
            within=f"{counts['within']:,}",
            count=f"{counts['landless']:,}",
            radius=radius,
        )
    )
    st.caption(plan_sentence(in_use))
    if shared.city().public_sites is None:
        st.info(t("landless_no_sites_layer"))
    elif in_use.plan.outcomes and in_use.plan.outcomes[0].sites is None:
        st.caption(t("landless_plan_no_sites"))
    if not len(table):
        st.caption(t("landless_none"))
        return
    listed = landless_list(table, in_use.plan, shared.lang(), names, shared.actor_districts())
    # One district at a time: its name is the page's choice, not a column (the files keep it).
    shared.show_table(listed.drop(columns="district_name"), height=min(420, 38 + 35 * len(listed)))
    stem = export_stem("eligibility", shared.lang(), programs=[t("landless_stem")], district=names[district])
    shared.download_buttons(
        with_distance(listed, in_use.plan.config.distance, "site_1_name"),
        shared.DownloadName(stem, f"landless_{district}"),
        parameters={
            "district": names[district],
            "plan": plan_sentence(in_use, markdown=False),
            "coverage_distance": in_use.plan.config.distance,  # the sites' distances as the plan measured
            "walk_radius_m": shared.walk_radius_m(),
            "data_file": shared.data_name(),
            "data_sha256": file_sha256(shared.data_path()),
        },
        suffixes=(".xlsx", ".csv"),
        gis=False,
    )


shared.guarded(render)
