"""健身路径规划 — the Streamlit app. Thin: it arranges widgets and calls geo/ (no analysis here)."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st
from streamlit_folium import st_folium

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.i18n import labelled, text
from geo.maps import coverage_map
from geo.pipeline import CityData, CoverageReport, coverage_report, load_city

log = logging.getLogger("fitness-path-planner")

TABLE_COLUMNS = [
    "district_name", "communities", "served_inside", "served_within_radius", "share_served_within_radius",
    "population", "population_served_within_radius",
]


@st.cache_data(show_spinner=False)
def cached_city(path: str, modified: float) -> CityData:
    """The city's layers; ``modified`` (file mtime) makes an edited file reload."""
    return load_city(path)


@st.cache_data(show_spinner=False)
def cached_report(path: str, modified: float, walk_radius_m: float) -> CoverageReport:
    return coverage_report(cached_city(path, modified), walk_radius_m)


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_map(path: str, modified: float, walk_radius_m: float, district_codes: tuple[str, ...], lang: str):
    report = cached_report(path, modified, walk_radius_m)
    city = cached_city(path, modified)
    districts = city.districts[city.districts["district_code"].isin(district_codes)]
    communities = report.communities[report.communities["district_code"].isin(district_codes)]
    return coverage_map(districts, communities, city.fitness_paths, lang=lang)


def show_metrics(report: CoverageReport, lang: str) -> None:
    total = report.total
    columns = st.columns(4)
    columns[0].metric(text("metric_communities", lang), f"{total['communities']:,}")
    columns[1].metric(
        text("metric_served_inside", lang), f"{total['served_inside']:,}",
        f"{(total['share_served_inside'] or 0):.1%}", delta_color="off", delta_arrow="off",
    )
    columns[2].metric(
        text("metric_served_within_radius", lang), f"{total['served_within_radius']:,}",
        f"{(total['share_served_within_radius'] or 0):.1%}", delta_color="off", delta_arrow="off",
    )
    share_people = total["population_served_within_radius"] / total["population"] if total["population"] else 0
    columns[3].metric(
        text("metric_population_served", lang), f"{total['population_served_within_radius']:,}",
        f"{share_people:.1%}", delta_color="off", delta_arrow="off",
    )


def main() -> None:
    st.set_page_config(page_title="健身路径规划 · Fitness-path planner", layout="wide")
    config = load_config()
    lang = "en" if st.sidebar.radio(text("language", "zh"), ["中文", "English"], horizontal=True) == "English" else "zh"
    st.title(text("app_title", lang))
    st.caption(text("app_caption", lang))
    st.info(text("synthetic_notice", lang))

    data_path = Path(DEFAULT_DATA_PATH)
    walk_radius_m = st.sidebar.number_input(
        text("walk_radius_input", lang), min_value=50, max_value=5000, value=int(config.walk_radius_m), step=50
    )
    try:
        modified = data_path.stat().st_mtime
        city = cached_city(str(data_path), modified)
        report = cached_report(str(data_path), modified, float(walk_radius_m))
    except (ValueError, OSError) as err:
        st.error(text("error_data", lang) + str(err))
        return
    st.sidebar.caption(f"{text('data_source', lang)}: {data_path.name}")

    name_column = "district_name" if lang == "zh" else "district_name_en"
    names = dict(zip(city.districts["district_code"], city.districts[name_column]))
    whole_city = text("whole_city", lang)
    district = st.sidebar.selectbox(
        text("districts_filter", lang), [whole_city, *names], format_func=lambda c: names.get(c, c)
    )
    chosen = list(names) if district == whole_city else [district]

    show_metrics(report, lang)
    st.subheader(text("by_district", lang))
    table = report.by_district[report.by_district["district_code"].isin(chosen)][TABLE_COLUMNS].copy()
    table["district_name"] = [names[c] for c in report.by_district.loc[table.index, "district_code"]]
    table["share_served_within_radius"] = (table["share_served_within_radius"] * 100).round(1)
    st.dataframe(labelled(table, lang), hide_index=True, width="stretch")

    st.subheader(text("map", lang))
    st.caption(text("map_caption", lang))
    if chosen:
        m = cached_map(str(data_path), modified, float(walk_radius_m), tuple(sorted(chosen)), lang)
        st_folium(m, height=640, use_container_width=True, returned_objects=[], key=f"map-{lang}")


try:
    main()
except Exception:  # the page must never show a traceback; the server log keeps it
    log.exception("unhandled error in app.py")
    st.error(text("error_internal", "zh") + " / " + text("error_internal", "en"))
