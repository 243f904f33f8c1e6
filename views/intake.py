"""数据导入 · Data intake — the survey template, upload, validation report, and analysing the bureau's own data.

An upload is stored under a fixed name in the session's own folder (:mod:`geo.intake.uploads`), read and
validated in a child process within the time and memory limits of ``config.toml`` [intake]
(:func:`geo.intake.worker.run_bounded`), and deleted as soon as it is read; the process is killed if
the session ends first. The file's name is only ever shown, as text.

Public sites come with a return as a file of their own, or as the 公共场地 / Public sites sheet of the filled
survey template uploaded as the communities file (:func:`geo.intake.assemble.workbook_sites`); both are
checked row by row and written into the city by site ID (:func:`geo.intake.assemble.assemble_city`).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pyproj
import shapely
import streamlit as st

from geo import i18n
from geo.analysis.sites import assess_sites
from geo.data.io import write_layers
from geo.intake.assemble import assemble_city, workbook_sites
from geo.intake.importer import import_file
from geo.intake.template import survey_template_bytes
from geo.intake.worker import WorkLimitError
from views import shared
from views.shared import plain, t

CRS_CHOICES = ("wgs84", "gcj02", "bd09", "epsg")
# Rejected rows shown on the page (100,000 rows of 250 columns exceeded Streamlit's message size).
# A bare string here would be drawn on the page by Streamlit's "magic" (tests/test_app.py checks).
REJECTS_SHOWN = 1000
MODES = ("replace", "merge")


def _saved_upload(upload, stem: str) -> Path:
    """The uploaded bytes in this session's folder under a fixed name (the format is sniffed from the content)."""
    target = shared.upload_folder().file(stem, upload.name)
    target.write_bytes(upload.getvalue())
    return target


def _checked(upload, stem: str, layer: str, crs: str | None, districts, sheet_sites: bool = False):
    """Import one upload in a bounded child process; the saved file is deleted whatever happens.

    With ``sheet_sites``, returns the import and the public sites of the workbook's sites sheet (None when it
    has none; :func:`geo.intake.assemble.workbook_sites`), read in a second bounded child once the first
    import has found the file safe to open.
    """
    path = _saved_upload(upload, stem)
    try:
        arguments = (path, layer, crs, shared.base_config(), districts)
        result = shared.bounded(import_file, arguments, {"display_name": upload.name}, what=f"{layer} file")
        if not sheet_sites:
            return result
        sites = shared.bounded(
            workbook_sites, arguments[:1] + arguments[2:], {"display_name": upload.name}, what="public sites sheet"
        )
        return result, sites
    finally:
        path.unlink(missing_ok=True)


def _crs_widget(label: str, key: str) -> str:
    # A kept widget: its labels change with the language, and Streamlit would lose the choice. The labels are
    # bound to this run's language (a format called later, outside the run, would otherwise say Chinese).
    lang = shared.lang()
    choice = shared.keep_widget(
        st.radio,
        label,
        key,
        CRS_CHOICES[0],
        options=CRS_CHOICES,
        horizontal=True,
        format_func=lambda c: i18n.text(f"crs_{c}", lang),
    )
    if choice == "epsg":
        code = st.text_input(t("crs_epsg_code"), value="4490", key=f"{key}-code")
        return f"EPSG:{code.strip()}"
    return choice


def _report(result, label: str, key: str | None = None) -> None:
    summary = result.summary()
    st.markdown(f"**{plain(label)}**")
    columns = st.columns(4)
    columns[0].metric(t("intake_rows"), f"{summary['input_rows']:,}")
    columns[1].metric(t("intake_accepted"), f"{summary['accepted']:,}")
    columns[2].metric(t("intake_rejected"), f"{summary['rejected']:,}")
    columns[3].metric(t("intake_repaired"), f"{summary['repaired']:,}")
    for warning in result.warnings:  # notes and warnings of the file, in the page's language
        st.warning(plain(shared.message_text(warning)))
    if result.rejected:
        shown = result.rejects.head(REJECTS_SHOWN)
        if result.rejected > len(shown):  # the page could not carry them all; the download has every row
            st.caption(t("rejects_first", shown=len(shown), total=result.rejected))
        st.dataframe(
            i18n.rejects_for_reading(shown, shared.lang()), hide_index=True, width="stretch", height=240, placeholder=""
        )
        csv = result.rejects_csv()
        st.download_button(
            t("intake_rejects_download"),
            data=csv,
            file_name=f"rejects_{result.layer}.csv",
            mime="text/csv",
            key=f"rejects-{key or result.layer}",
            on_click="ignore",
        )


def render() -> None:
    shared.require_page("intake")  # besides the navigation (shared.PAGE_ROLES)
    st.title(t("page_intake"))
    if "intake_flash" in st.session_state:
        st.success(st.session_state.pop("intake_flash"))
    st.write(t("intake_intro"))
    st.page_link("views/new_city.py", label=t("newcity_link"), icon=":material/add_location_alt:")

    st.subheader(t("intake_template_title"))
    st.caption(t("intake_template_help"))
    districts = shared.city().districts
    st.download_button(
        t("intake_template_download"),
        data=functools.partial(survey_template_bytes, districts, lang=shared.lang(), config=shared.base_config()),
        file_name=t("template_file_name"),
        mime=shared.MIME[".xlsx"],
        key="template-download",
        on_click="ignore",
    )

    st.subheader(t("intake_upload_title"))
    limit = shared.base_config().max_upload_mb
    communities_file = st.file_uploader(
        t("intake_communities_file"), key="upload-communities", help=t("intake_formats", limit=f"{limit:g}")
    )
    communities_crs = _crs_widget(t("intake_crs"), "crs-communities")
    paths_file = st.file_uploader(
        t("intake_paths_file"), key="upload-paths", help=t("intake_formats", limit=f"{limit:g}")
    )
    paths_crs = _crs_widget(t("intake_crs"), "crs-paths") if paths_file else None
    sites_file = st.file_uploader(
        t("intake_sites_file"), key="upload-sites", help=t("intake_sites_help", limit=f"{limit:g}")
    )
    sites_crs = _crs_widget(t("intake_crs"), "crs-sites") if sites_file else None
    lang = shared.lang()
    mode = st.radio(t("intake_mode"), MODES, horizontal=True, format_func=lambda m: i18n.text(f"intake_mode_{m}", lang))

    # A district may send sites alone: merged into the city as they are (its communities untouched).
    sites_only = communities_file is None and sites_file is not None
    if sites_only and mode != "merge":
        st.caption(t("intake_sites_only_merge"))
    if st.button(
        t("intake_run"), type="primary", disabled=communities_file is None and not (sites_only and mode == "merge")
    ):
        st.session_state.pop("intake_results", None)
        try:
            with st.spinner(t("intake_running")):
                result, sheet_sites = (
                    _checked(
                        communities_file, "communities", "communities", communities_crs, districts, sheet_sites=True
                    )
                    if communities_file is not None
                    else (None, None)
                )
                paths_result = (
                    _checked(paths_file, "fitness_paths", "fitness_paths", paths_crs, districts) if paths_file else None
                )
                site_results = {}  # source → import; a later one wins for one site ID
                if sheet_sites is not None:
                    site_results[t("intake_sites_sheet_source", file=communities_file.name)] = sheet_sites
                if sites_file is not None:
                    site_results[sites_file.name] = _checked(
                        sites_file, "public_sites", "public_sites", sites_crs, districts
                    )
                name = (communities_file or sites_file).name
                accepted = (
                    len(result.accepted) if result is not None else sum(len(r.accepted) for r in site_results.values())
                )
                # Merging is work on the user's rows too (tens of seconds for 50,000): bounded, and done once.
                assembled = (
                    shared.bounded(
                        assemble_city,
                        (shared.city(), result, mode),
                        {"fitness_paths": paths_result, "public_sites": site_results or None, "source": name},
                        what="merging the upload",
                    )
                    if accepted
                    else None
                )
        except WorkLimitError as error:
            st.error(t(f"intake_limit_{error.limit}", limit=f"{error.value:g}"))
            return
        st.session_state["intake_results"] = (result, paths_result, assembled, name, site_results)

    if "intake_results" not in st.session_state:
        return
    result, paths_result, assembled, name, *more = st.session_state["intake_results"]
    site_results = more[0] if more else {}
    if result is not None:
        _report(result, f"{t('intake_communities_file')}: {name}")
    if paths_result is not None:
        _report(paths_result, t("intake_paths_file"))
    for number, (source, site_result) in enumerate(site_results.items()):
        _report(site_result, f"{t('intake_sites_report')}: {source}", key=f"public_sites-{number}")
    if assembled is None:  # no community (or, sent alone, no site) passed the checks
        st.error(t("intake_nothing_accepted"))
        return

    _assembly_report(assembled)
    if len(assembled.communities) == 0:  # nothing could be placed: writing it would leave an empty city
        st.error(t("assembly_empty"))
        return

    # Applications whose community the upload leaves out are kept apart, not lost; said before, and confirmed.
    set_aside = assembled.summary().get("applications_set_aside") or 0
    confirmed = True
    if set_aside:
        st.warning(t("intake_replace_sets_aside", count=f"{set_aside:,}"))
        confirmed = st.checkbox(t("intake_replace_confirm", count=f"{set_aside:,}"), key="intake-set-aside-confirm")
    if st.button(t("intake_use"), type="primary", disabled=not confirmed):
        folder = shared.upload_folder()
        number = int(st.session_state.get("uploaded_cities", 0)) + 1
        target = folder.file(f"uploaded_city_{number}", "city.gpkg")
        write_layers(target, assembled.layers)
        if shared.using_upload():
            shared.data_path().unlink(missing_ok=True)  # the session's previous upload: not needed any more
        st.session_state["uploaded_cities"] = number
        shared.use_data(target, name)
        # Said after the rerun, so that the sidebar (drawn before this page) already names the new data.
        st.session_state["intake_flash"] = t(
            "intake_in_use", communities=len(assembled.communities), paths=len(assembled.fitness_paths)
        )
        if "public_sites" in assembled.layers:
            sites = f"{len(assembled.layers['public_sites']):,}"
            st.session_state["intake_flash"] += " " + t("newcity_saved_sites", sites=sites)
        st.rerun()


# Figures the per-layer table (changes_table) does not show.
ASSEMBLY_DETAILS = ("rows_located", "conflicts", "applications_from_return", "applications_unmatched")


def changes_table(changes: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:meth:`geo.intake.assemble.AssembledCity.changes` for reading: one row per layer or table, labelled in
    ``lang``; a count that does not apply is empty."""
    shown = changes.reset_index(names="layer")
    shown["layer"] = [i18n.text(f"changes_layer_{layer}", lang) for layer in shown["layer"]]
    return shown.rename(columns={column: i18n.text(f"changes_{column}", lang) for column in shown.columns})


# Columns of the merge's tables holding codes, and the catalogue keys ([message]) that say them.
CODE_PHRASES = {"kind": "conflict_", "located_by": "located_by_"}
# Columns of the conflicts holding values of any type, or lists of them.
MIXED_COLUMNS = ("city_value", "values", "sources", "rows")


def said_codes(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """The merge's conflicts or located rows with their codes (``kind``, ``located_by``) and messages
    (``resolution``) in the page's language; a code the catalogue does not know is shown as it is."""
    lang = lang or shared.lang()
    phrases = i18n.labels("message", lang)
    shown = frame.copy()
    for column, prefix in CODE_PHRASES.items():
        if column in shown.columns:
            shown[column] = [phrases.get(f"{prefix}{code}", code) for code in shown[column]]
    if "resolution" in shown.columns:
        # A table's cells are plain text (pandas keeps no Message): the English phrase names its key.
        keys = {text: key for key, text in i18n.labels("message", "en").items() if key.startswith("resolution_")}
        shown["resolution"] = [phrases[keys[value]] if value in keys else value for value in shown["resolution"]]
    # The file's and the city's values as people read them (missing empty; a year or a row number plain).
    years = shown["column"].astype(str).str.endswith("_year") if "column" in shown.columns else [False] * len(shown)
    for column in MIXED_COLUMNS:
        if column in shown.columns:
            plain_numbers = [True] * len(shown) if column == "rows" else years
            shown[column] = [shared.cell_text(v, p, lang) for v, p in zip(shown[column], plain_numbers)]
    return shown


def _assembly_report(assembled) -> None:
    """What the upload does to the city: counts, rows placed by the city's outline, rows not placed, conflicts."""
    summary = assembled.summary()
    st.markdown(f"**{t('intake_merge_title')}**")
    if summary.get("fitness_paths_after") == 0:
        st.warning(t("assembly_no_fitness_paths"))
    changes = changes_table(assembled.changes(), shared.lang())
    counts = {label: st.column_config.NumberColumn(format="localized") for label in changes.columns[1:]}
    st.dataframe(changes, hide_index=True, placeholder="", column_config=counts)
    st.caption(t("changes_note"))
    figures = [(t(f"assembly_{key}"), summary[key]) for key in ASSEMBLY_DETAILS if summary.get(key) is not None]
    if figures:
        st.dataframe(
            pd.DataFrame(figures, columns=[t("assembly_figure"), t("assembly_count")]), hide_index=True, placeholder=""
        )
    if len(assembled.located):
        st.caption(t("assembly_located_note"))
        st.dataframe(shared.humanised(said_codes(assembled.located)), hide_index=True, width="stretch", placeholder="")
    if len(assembled.unplaced):
        st.warning(t("assembly_unplaced_note"))
        st.dataframe(
            shared.humanised(i18n.reasons_in_language(assembled.unplaced, shared.lang())),
            hide_index=True,
            width="stretch",
            placeholder="",
        )
    if len(assembled.conflicts):
        st.warning(t("intake_conflicts"))
        st.dataframe(
            shared.humanised(said_codes(assembled.conflicts)), hide_index=True, width="stretch", placeholder=""
        )
    _sites_report(assembled)


def _sites_report(assembled) -> None:
    """The public sites after the upload: how many can host a set, how the upload's were written, what changed."""
    sites = assembled.layers.get("public_sites")
    if sites is None:
        return
    summary, lang = assembled.summary(), shared.lang()
    st.markdown(f"**{t('intake_sites_title')}**")
    eligible = (
        int(assess_sites(sites, assembled.fitness_paths, shared.base_config())["eligible"].sum()) if len(sites) else 0
    )
    st.caption(t("intake_sites_after", count=f"{len(sites):,}", eligible=f"{eligible:,}"))
    if not summary.get("public_sites_imported") and not summary.get("public_sites_rejected"):
        return
    st.caption(t(f"intake_sites_written_{assembled.mode}"))
    if len(assembled.site_updates):
        st.caption(t("intake_sites_updated_note"))
        st.dataframe(site_updates_table(assembled.site_updates, lang), hide_index=True, width="stretch", placeholder="")
    if len(assembled.sites_unplaced):
        st.warning(t("intake_sites_unplaced_note"))
        st.dataframe(
            sites_unplaced_table(assembled.sites_unplaced, lang), hide_index=True, width="stretch", placeholder=""
        )


# Catalogue words of the site fields whose column label is not the one to show, and coded values said in words.
SITE_FIELD_LABELS = {"kind": "site_kind"}
SITE_VALUE_WORDS = {"kind": "site_kind_", "consent": "site_consent_"}


def site_field_text(column: str, lang: str) -> str:
    """A field of the public sites (or ``geometry``) as a person reads it in ``lang``."""
    if column == "geometry":
        return i18n.text("intake_sites_location", lang)
    return i18n.column_label(SITE_FIELD_LABELS.get(column, column), lang)


def site_value_text(column: str, value, lang: str) -> str:
    """A value of a site's ``column`` as text in ``lang``: codes in words, numbers plain, missing empty."""
    if column == "geometry":
        return place_text(value, lang)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column in SITE_VALUE_WORDS:
        words = i18n.labels("message", lang)
        return words.get(f"{SITE_VALUE_WORDS[column]}{value}", str(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def place_text(geometry, lang: str) -> str:
    """Where a site is, in ``lang``: a point's longitude, latitude (degrees, EPSG:4326, 6 decimals); a polygon's
    area (m², on the WGS84 ellipsoid) and a point inside it; empty when there is none."""
    if not isinstance(geometry, shapely.Geometry) or geometry.is_empty:
        return ""
    point = geometry.representative_point()
    where = {"lon": f"{point.x:.6f}", "lat": f"{point.y:.6f}"}
    if geometry.geom_type == "Point":
        return i18n.text("intake_sites_point", lang, **where)
    area = abs(pyproj.Geod(ellps="WGS84").geometry_area_perimeter(geometry)[0])
    return i18n.text("intake_sites_polygon", lang, area=f"{area:,.0f}", **where)


def site_updates_table(updates: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:attr:`geo.intake.assemble.AssembledCity.site_updates` for reading in ``lang``: every cell text."""
    shown = pd.DataFrame(
        {
            "source": updates["source"].astype(str),
            "row": updates["row"].astype("Int64"),
            "site_id": updates["site_id"].astype(str),
            "name": [site_value_text("name", v, lang) for v in updates["name"]],
            "column": [site_field_text(c, lang) for c in updates["column"]],
            "city_value": [site_value_text(c, v, lang) for c, v in zip(updates["column"], updates["city_value"])],
            "new_value": [site_value_text(c, v, lang) for c, v in zip(updates["column"], updates["new_value"])],
        }
    )
    return shown.rename(columns={c: i18n.text(f"intake_sites_{c}", lang) for c in shown.columns})


def sites_unplaced_table(unplaced: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:attr:`geo.intake.assemble.AssembledCity.sites_unplaced` for reading in ``lang``."""
    shown = pd.DataFrame(
        {
            "source": unplaced["source"].astype(str),
            "row": unplaced["row"].astype("Int64"),
            "site_id": unplaced["site_id"].astype(str),
            "name": [site_value_text("name", v, lang) for v in unplaced["name"]],
            "reason": unplaced[f"reason_{lang}"].astype(str),
        }
    )
    return shown.rename(columns={c: i18n.text(f"intake_sites_{c}", lang) for c in shown.columns})


shared.guarded(render)
