"""数据导入 · Data intake — the survey template, upload, validation report, and analysing the bureau's own data."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.intake import import_file, survey_fitness_paths
from geo.io import write_layers
from geo.merge import merge_returns
from geo.template import survey_template_bytes
from views import shared
from views.shared import t

CRS_CHOICES = ("wgs84", "gcj02", "bd09", "epsg")
MODES = ("replace", "merge")


def _saved_upload(upload, folder: Path) -> Path:
    """The uploaded bytes in a file (the format is sniffed from the content, not the name)."""
    target = folder / Path(upload.name).name
    target.write_bytes(upload.getvalue())
    return target


def _crs_widget(label: str, key: str) -> str:
    choice = st.radio(label, CRS_CHOICES, horizontal=True, key=key, format_func=lambda c: t(f"crs_{c}"))
    if choice == "epsg":
        code = st.text_input(t("crs_epsg_code"), value="4490", key=f"{key}-code")
        return f"EPSG:{code.strip()}"
    return choice


def _report(result, label: str) -> None:
    summary = result.summary()
    st.markdown(f"**{label}**")
    columns = st.columns(4)
    columns[0].metric(t("intake_rows"), f"{summary['input_rows']:,}")
    columns[1].metric(t("intake_accepted"), f"{summary['accepted']:,}")
    columns[2].metric(t("intake_rejected"), f"{summary['rejected']:,}")
    columns[3].metric(t("intake_repaired"), f"{summary['repaired']:,}")
    for warning in summary["warnings"]:
        st.warning(warning)
    if result.rejected:
        st.dataframe(result.rejects, hide_index=True, width="stretch", height=240)
        csv = result.rejects_csv()
        st.download_button(t("intake_rejects_download"), data=csv, file_name=f"rejects_{result.layer}.csv",
                           mime="text/csv", key=f"rejects-{result.layer}", on_click="ignore")


def render() -> None:
    st.title(t("page_intake"))
    st.write(t("intake_intro"))

    st.subheader(t("intake_template_title"))
    st.caption(t("intake_template_help"))
    districts = shared.city().districts
    st.download_button(t("intake_template_download"), data=lambda: survey_template_bytes(districts, lang=shared.lang()),
                       file_name="健身路径小区调查表.xlsx" if shared.lang() == "zh" else "fitness_path_survey.xlsx",
                       mime=shared.MIME[".xlsx"], key="template-download", on_click="ignore")

    st.subheader(t("intake_upload_title"))
    limit = shared.base_config().max_upload_mb
    communities_file = st.file_uploader(t("intake_communities_file"), key="upload-communities",
                                        help=t("intake_formats", limit=f"{limit:g}"))
    communities_crs = _crs_widget(t("intake_crs"), "crs-communities")
    paths_file = st.file_uploader(t("intake_paths_file"), key="upload-paths", help=t("intake_formats", limit=f"{limit:g}"))
    paths_crs = _crs_widget(t("intake_crs"), "crs-paths") if paths_file else None
    mode = st.radio(t("intake_mode"), MODES, horizontal=True, format_func=lambda m: t(f"intake_mode_{m}"))

    if st.button(t("intake_run"), type="primary", disabled=communities_file is None):
        with st.spinner(t("intake_running")), tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            config = shared.base_config()
            result = import_file(_saved_upload(communities_file, folder), "communities", communities_crs, config, districts)
            paths_result = (import_file(_saved_upload(paths_file, folder), "fitness_paths", paths_crs, config, districts)
                            if paths_file else None)
        st.session_state["intake_results"] = (result, paths_result, mode, communities_file.name)

    if "intake_results" not in st.session_state:
        return
    result, paths_result, mode, name = st.session_state["intake_results"]
    _report(result, f"{t('intake_communities_file')}: {name}")
    if paths_result is not None:
        _report(paths_result, t("intake_paths_file"))
    if len(result.accepted) == 0:
        st.error(t("intake_nothing_accepted"))
        return

    current = shared.city()
    survey_paths = survey_fitness_paths(result.accepted)
    if mode == "merge":
        merged = merge_returns(current.communities, {name: result.accepted})
        st.markdown(f"**{t('intake_merge_title')}**")
        st.json(merged.summary())
        if len(merged.conflicts):
            st.warning(t("intake_conflicts"))
            st.dataframe(merged.conflicts, hide_index=True, width="stretch")
        communities = merged.communities
        base_paths = [current.fitness_paths]
    else:
        communities = result.accepted
        base_paths = []
    paths = [paths_result.accepted] if paths_result is not None else base_paths
    paths = gpd.GeoDataFrame(pd.concat([*paths, survey_paths], ignore_index=True), crs="EPSG:4326")

    if st.button(t("intake_use"), type="primary"):
        folder = Path(tempfile.mkdtemp(prefix="planner-upload-"))
        target = folder / "uploaded_city.gpkg"
        write_layers(target, {"districts": current.districts, "communities": communities, "fitness_paths": paths})
        shared.use_data(target)
        st.success(t("intake_in_use", communities=len(communities), paths=len(paths)))


shared.guarded(render)
