"""新建城市 · New city — a city from a bureau's own files: upload, check the columns, preview, save.

For someone who has never seen our template: each uploaded file is stored under a fixed name in
the session's own folder (:mod:`geo.intake.uploads`), read leniently in a child process within the
[intake] limits (:func:`geo.intake.worker.run_bounded`) to show its columns with sample values and
the columns we recognised, and its coordinates' likely CRS (:func:`geo.data.crs_guess.guess_crs`).
The user corrects the mapping and the CRS, names the city, and builds a preview
(:func:`geo.intake.newcity.build_city`, also in a bounded child process); "save" writes the city
GeoPackage into the session's folder (:func:`geo.intake.newcity.write_city`) and makes it the data
every page analyses. File names and cells are data: shown as text or in tables, never in markup,
and never part of a path.

A file of public sites (parks, squares, school grounds … where a set could go) is optional: its columns are
mapped and its CRS found or guessed like the others', its rows checked (``import_file(..., "public_sites")``),
and the preview says how many sites can host a set (:func:`geo.analysis.sites.assess_sites`).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import streamlit as st

from geo import i18n
from geo.analysis.coverage import community_coverage
from geo.analysis.sites import SITE_REASONS, assess_sites
from geo.data.crs_guess import OFFICIAL_CODES, CrsGuess, describe, first_coordinates, guess_crs
from geo.data.formats import display_file_name
from geo.data.headers import mappable_fields
from geo.data.io import read_raw_layer
from geo.errors import DataError, Message
from geo.intake.newcity import build_city, write_city
from geo.intake.worker import WorkLimitError
from geo.plan import score_covered
from geo.render.maps import coverage_map
from views import shared
from views.shared import plain, t

LAYERS = ("communities", "districts", "fitness_paths", "public_sites")
NAMED_CRS = ("wgs84", "gcj02", "bd09")
AUTO, TYPED = "auto", "epsg"
SAMPLES = 3
SAMPLE_CHARS = 32  # a WKT polygon would fill the table: cut, the rest is in the file
REJECTS_SHOWN = 1000  # rows of a rejects table drawn on the page; the download has every row
# Fields whose column label the catalogue's [column] table does not give (they are not exported).
OWN_LABELS = ("longitude", "latitude", "land_area_m2", "crs", "existing_sets", "kind", "geometry_approximate")
# A layer's fields whose label is another column's ([column] table): a site's kind is no district's kind.
LAYER_LABELS = {"public_sites": {"kind": "site_kind"}}
FIELD_COLUMNS = 3

FILES, RESULT, MAP, FLASH, SEEN = "newcity_files", "newcity_result", "newcity_map", "newcity_flash", "newcity_seen"


@dataclass
class Upload:
    """One uploaded file: where it is kept (a fixed name in the session's folder) and what it holds.

    ``token`` is ours (it names the widgets of this file); ``columns`` are the file's headers,
    ``samples`` their first non-empty values, ``headers`` our field → the column recognised for it,
    ``file_crs`` the file's own CRS (``EPSG:n`` or its name) and ``file_degrees`` whether that is
    longitude/latitude; ``first_xy`` the first vertex of each geometry in the file's own coordinates,
    ``guess`` the guess from them when the file has no CRS (see :func:`_guessed`).
    """

    name: str
    path: Path
    file_id: str
    token: str
    columns: tuple = ()
    samples: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    file_crs: str | None = None
    file_degrees: bool = False
    guess: CrsGuess | None = None
    error: BaseException | None = None
    first_xy: tuple = ()


# --------------------------------------------------------------------------- pure pieces


def sample_values(original: pd.DataFrame, count: int = SAMPLES, chars: int = SAMPLE_CHARS) -> dict[str, list[str]]:
    """Each column's first ``count`` non-empty cells as text (cut to ``chars`` characters)."""
    samples = {}
    for position, column in enumerate(original.columns):
        values = original.iloc[:, position]
        shown = [str(v).strip() for v in values if not pd.isna(v) and str(v).strip()][:count]
        samples[str(column)] = [v if len(v) <= chars else v[: chars - 1] + "…" for v in shown]
    return samples


def sample_table(samples: dict, headers: dict, lang: str, layer: str | None = None) -> pd.DataFrame:
    """The file's columns, their sample values and the field each was recognised as, labelled in ``lang``."""
    read_as = {str(column): field_label(name, lang, layer) for name, column in headers.items()}
    rows = [
        [column, *(values + [""] * SAMPLES)[:SAMPLES], read_as.get(column, "—")] for column, values in samples.items()
    ]
    heads = [
        i18n.text("newcity_column", lang),
        *(i18n.text("newcity_sample", lang, n=n + 1) for n in range(SAMPLES)),
        i18n.text("newcity_read_as", lang),
    ]
    return pd.DataFrame(rows, columns=heads, dtype="string")


def field_label(name: str, lang: str, layer: str | None = None) -> str:
    """Our field ``name`` (of ``layer``, when its label depends on it) as a person reads it in ``lang``."""
    if name in LAYER_LABELS.get(layer, {}):
        return i18n.column_label(LAYER_LABELS[layer][name], lang)
    if name in OWN_LABELS:
        return i18n.text(f"newcity_field_{name}", lang)
    return i18n.column_label(name, lang)


def centre_longitude(entry: Upload) -> float | None:
    """The median longitude (degrees) of a file whose coordinates are degrees, else None."""
    if entry.error is not None or not entry.first_xy:
        return None
    x, y = entry.first_xy
    if entry.file_crs is not None:
        return float(np.nanmedian(x)) if entry.file_degrees else None
    if entry.guess is not None and entry.guess.crs == "wgs84":
        return float(np.nanmedian(y if entry.guess.swapped else x))
    return None


def crs_options(guess: CrsGuess | None) -> list[str]:
    """The choices of the CRS select: automatic, the named systems, the guess's candidates, a typed code."""
    candidates = [code for code in (guess.candidates if guess else ()) if code in OFFICIAL_CODES]
    return [AUTO, *NAMED_CRS, *candidates, TYPED]


def crs_label(choice: str, lang: str) -> str:
    if choice == AUTO:
        return i18n.text("newcity_crs_auto", lang)
    if choice in NAMED_CRS or choice == TYPED:
        return i18n.text(f"crs_{choice}", lang)
    return describe(choice).in_language(lang)


def declared_crs(choice: str, code: str = "") -> str | None:
    """What :func:`geo.intake.newcity.build_city` is told: None (the file's own, else the guess) or a CRS."""
    if choice == AUTO:
        return None
    if choice == TYPED:
        return f"EPSG:{code.strip()}"
    return choice


def column_map_of(choices: dict, detected: dict | None = None) -> dict:
    """Our field → the user's column, for the fields given a column; a field whose detected column
    the user set to "—" maps to "" (not read: geo.data.headers honours it)."""
    mapped = {name: column for name, column in choices.items() if column is not None}
    dropped = {name: "" for name in (detected or {}) if name in choices and choices[name] is None}
    return {**mapped, **dropped}


def chosen_twice(choices: dict) -> dict[str, list[str]]:
    """The columns chosen for more than one field → those fields (a column holds one field)."""
    fields_of: dict[str, list[str]] = {}
    for name, column in column_map_of(choices).items():
        fields_of.setdefault(column, []).append(name)
    return {column: names for column, names in fields_of.items() if len(names) > 1}


def renamed(message, stored: str, shown: str):
    """``message`` (a :class:`geo.errors.Message`, possibly nested) naming ``shown`` where it named ``stored``."""
    if isinstance(message, Message):
        return Message(message.key, **{k: renamed(v, stored, shown) for k, v in message.values.items()})
    return shown if message == stored else message


def applications_left_behind(current, new) -> int:
    """Applications of the ``current`` city (both tables) that the ``new`` one (a CityData) does not carry:
    all of them when the new city has no applications table, else none (it is the bureau's own list)."""
    if new.applications is not None and len(new.applications):
        return 0
    held = 0 if current.applications is None else len(current.applications)
    unmatched = current.other_layers.get("applications_unmatched")
    return held + (0 if unmatched is None else len(unmatched))


# --------------------------------------------------------------------------- bounded work


def _read(entry: Upload, layer: str) -> Upload:
    """``entry`` with its columns, samples, recognised headers and CRS read from its file (bounded)."""
    config = shared.base_config()
    limits = {
        "max_upload_mb": config.max_upload_mb,
        "max_unzipped_mb": config.max_unzipped_mb,
        "max_rows": config.max_rows,
        "max_vertices": config.max_vertices,
    }
    try:
        raw = shared.bounded(read_raw_layer, (entry.path, layer), limits, what=f"{layer} file")
    except DataError as error:  # its messages name our stored file: name the user's instead
        first = error.args[0] if len(error.args) == 1 else None
        entry.error = DataError(renamed(first, entry.path.name, display_file_name(entry.name))) if first else error
        return entry
    except Exception as error:  # over a limit, a file error or a bug: said under this file, the page goes on
        entry.error = error
        return entry
    entry.columns = tuple(dict.fromkeys(str(c) for c in raw.original.columns))
    entry.samples = sample_values(raw.original)
    entry.headers = {name: str(column) for name, column in raw.headers.items()}
    entry.first_xy = first_coordinates(raw.frame.geometry.to_numpy())
    if raw.file_crs is not None:
        own = pyproj.CRS.from_user_input(raw.file_crs)
        entry.file_crs = f"EPSG:{own.to_epsg()}" if own.to_epsg() else own.name
        entry.file_degrees = own.is_geographic
    else:
        entry.guess = guess_crs(*entry.first_xy)
    return entry


def _upload(layer: str, upload, shown_before: bool) -> Upload | None:
    """The session's copy of this file uploader's file, read once per file; None when there is none.

    ``shown_before``: the uploader was on the page's previous run. Streamlit drops a page's widgets
    when the user leaves it, so an uploader is empty when they come back: the file uploaded on the
    earlier visit is kept until another is uploaded, or until the user empties the uploader that
    held it on the previous run.
    """
    files = st.session_state.setdefault(FILES, {})
    seen = st.session_state.setdefault(SEEN, {})
    held, seen[layer] = seen.get(layer), (upload.file_id if upload is not None else None)
    entry = files.get(layer)
    if entry is not None and upload is None and not (shown_before and held == entry.file_id):
        st.caption(t("newcity_kept", file=plain(display_file_name(entry.name))))
        return entry
    if entry is not None and (upload is None or upload.file_id != entry.file_id):
        entry.path.unlink(missing_ok=True)  # replaced or removed: its copy goes
        files.pop(layer)
        st.session_state.pop(RESULT, None)
        entry = None
    if upload is None:
        return None
    if entry is None:
        path = shared.upload_folder().file(f"newcity_{layer}", upload.name)
        path.write_bytes(upload.getvalue())
        with st.spinner(t("newcity_reading", file=plain(display_file_name(upload.name)))):
            entry = files[layer] = _read(Upload(upload.name, path, upload.file_id, secrets.token_hex(4)), layer)
    return entry


# --------------------------------------------------------------------------- the page


def _guessed(entry: Upload, near_lon: float | None) -> CrsGuess | None:
    """The guess of ``entry``'s CRS, its candidate central meridians ranked by the city's other files' longitude."""
    if entry.guess is None or near_lon is None or not entry.first_xy:
        return entry.guess
    return guess_crs(*entry.first_xy, near_lon=near_lon)


def _file_checks(layer: str, entry: Upload, near_lon: float | None = None) -> tuple[dict, str | None, bool]:
    """The columns table, one select per field and the CRS select of a file.

    Returns the column map, the declared CRS and whether the file can be used as chosen.
    """
    st.markdown(f"**{plain(t(f'newcity_layer_{layer}'))}** · {plain(display_file_name(entry.name))}")
    if entry.error is not None:
        if isinstance(entry.error, WorkLimitError):
            st.error(t(f"intake_limit_{entry.error.limit}", limit=f"{entry.error.value:g}"))
        else:
            shared.fail_gently(entry.error)
        return {}, None, False
    lang = shared.lang()
    st.dataframe(
        sample_table(entry.samples, entry.headers, lang, layer), hide_index=True, width="stretch", placeholder=""
    )
    options = [None, *entry.columns]
    choices = {}
    with st.expander(t("newcity_fields", found=len(entry.headers)), expanded=True):
        columns = st.columns(FIELD_COLUMNS)
        for number, name in enumerate(mappable_fields(layer)):
            detected = entry.headers.get(name)
            with columns[number % FIELD_COLUMNS]:
                choices[name] = shared.keep_widget(
                    st.selectbox,
                    field_label(name, lang, layer),
                    f"newcity_{entry.token}_field_{name}",
                    detected if detected in options else None,
                    options=options,
                    format_func=lambda column: "—" if column is None else column,
                    placeholder="—",  # Streamlit shows the placeholder, not the format, for None
                )
    twice = chosen_twice(choices)
    for column, names in twice.items():
        listed = t("newcity_list_separator").join(field_label(name, lang, layer) for name in names)
        st.error(t("newcity_column_twice", column=plain(column), fields=plain(listed)))
    if entry.file_crs is not None:
        st.caption(t("newcity_crs_file", crs=plain(entry.file_crs)))
        return column_map_of(choices, entry.headers), None, not twice
    guess = _guessed(entry, near_lon)
    choice = shared.keep_widget(
        st.selectbox,
        t("newcity_crs"),
        f"newcity_{entry.token}_coordinates",
        AUTO,
        options=crs_options(guess),
        format_func=lambda c: crs_label(c, lang),
    )
    code = ""
    if choice == TYPED:
        code = shared.keep_widget(st.text_input, t("crs_epsg_code"), f"newcity_{entry.token}_code", "4490")
    if guess is not None:
        st.caption(t("newcity_crs_guess", guess=plain(guess.message.in_language(lang))))
        if choice == AUTO and guess.crs is None and guess.candidates:
            st.warning(t("newcity_crs_choose", first=plain(describe(guess.candidates[0]).in_language(lang))))
    return column_map_of(choices, entry.headers), declared_crs(choice, code), not twice


def _preview(entries: dict, column_map: dict, crs: dict, name: str, name_en: str) -> None:
    """Build the city in a bounded child process and keep it, with what it was built from, in the session."""
    kwargs = {
        "districts": entries["districts"].path if "districts" in entries else None,
        "fitness_paths": entries["fitness_paths"].path if "fitness_paths" in entries else None,
        "public_sites": entries["public_sites"].path if "public_sites" in entries else None,
        "crs": crs,
        "column_map": column_map,
        "name": name or None,
        "name_en": name_en or None,
        "config": shared.base_config(),
        "display_names": {layer: entry.name for layer, entry in entries.items()},
    }
    st.session_state.pop(RESULT, None)
    st.session_state.pop(MAP, None)
    with st.status(t("newcity_building"), expanded=True) as status:
        try:
            new_city = shared.bounded(build_city, (entries["communities"].path,), kwargs, what="building the city")
        except WorkLimitError as error:
            status.update(label=t("newcity_failed"), state="error")
            st.error(t(f"intake_limit_{error.limit}", limit=f"{error.value:g}"))
            return
        except Exception as error:  # the user's data (a DataError says what to do) or a bug: said plainly
            status.update(label=t("newcity_failed"), state="error")
            shared.fail_gently(error)
            return
        status.update(label=t("newcity_built"), state="complete", expanded=False)
    st.session_state[RESULT] = (_signature(entries, column_map, crs, name, name_en), new_city)


def _signature(entries: dict, column_map: dict, crs: dict, name: str, name_en: str) -> str:
    """What a preview was built from: a preview of other choices must be built again before it is saved."""
    files = {layer: entry.token for layer, entry in entries.items()}
    return json.dumps([files, column_map, crs, name, name_en], sort_keys=True, ensure_ascii=False)


def assessed_sites(new_city):
    """The new city's public sites assessed (:func:`geo.analysis.sites.assess_sites`: eligible, reasons), or None."""
    city = new_city.city
    if city.public_sites is None:
        return None
    return assess_sites(city.public_sites, city.fitness_paths, shared.base_config())


def sites_sentence(assessed, lang: str) -> str:
    """How many sites, how many can host a set, how many are held back by each reason, how many await consent."""
    reasons = assessed["reasons"].fillna("").str.split(";")
    counted = [(code, int(reasons.map(lambda codes, code=code: code in codes).sum())) for code in SITE_REASONS]
    listed = i18n.text("newcity_list_separator", lang).join(
        i18n.text("newcity_sites_reason_count", lang, reason=i18n.reason_label(code, lang), count=f"{count:,}")
        for code, count in counted
        if count
    )
    return i18n.text(
        "newcity_sites_summary",
        lang,
        count=f"{len(assessed):,}",
        eligible=f"{int(assessed['eligible'].sum()):,}",
        reasons=listed or i18n.text("newcity_sites_none_ineligible", lang),
        unknown=f"{int(assessed['consent_unknown'].sum()):,}",
    )


def _counts(new_city) -> None:
    summary = new_city.summary(shared.lang())
    for layer in ("communities", "fitness_paths", "public_sites"):
        counts = summary[layer]
        if counts is None:
            continue
        st.markdown(f"**{plain(t(f'newcity_layer_{layer}'))}**")
        columns = st.columns(4)
        columns[0].metric(t("intake_rows"), f"{counts['input_rows']:,}")
        columns[1].metric(t("intake_accepted"), f"{counts['accepted']:,}")
        columns[2].metric(t("intake_rejected"), f"{counts['rejected']:,}")
        if layer == "communities":
            columns[3].metric(t("newcity_population_estimated"), f"{counts['population_estimated']:,}")
        if layer == "public_sites":
            assessed = assessed_sites(new_city)
            columns[3].metric(t("newcity_sites_eligible"), f"{int(assessed['eligible'].sum()):,}")
            st.caption(plain(sites_sentence(assessed, shared.lang())))
    districts = summary["districts"]
    listed = t("newcity_list_separator").join(i18n.district_names(new_city.city.districts, shared.lang()).values())
    st.markdown(
        plain(t("newcity_districts", count=districts["count"], source=t(f"newcity_districts_{districts['source']}")))
        + " — "
        + plain(listed)
    )


def _warnings_and_rejects(new_city) -> None:
    for warning in new_city.warnings:  # the files' notes, in the page's language
        st.warning(plain(shared.message_text(warning)))
    for layer, result in new_city.results.items():
        if not result.rejected:
            continue
        st.markdown(f"**{plain(t('newcity_rejects', layer=t(f'newcity_layer_{layer}')))}**")
        shown = result.rejects.head(REJECTS_SHOWN)
        if result.rejected > len(shown):
            st.caption(t("rejects_first", shown=len(shown), total=result.rejected))
        st.dataframe(
            i18n.rejects_for_reading(shown, shared.lang()), hide_index=True, width="stretch", height=240, placeholder=""
        )
        st.download_button(
            t("intake_rejects_download"),
            data=result.rejects_csv(),
            file_name=f"rejects_{layer}.csv",
            mime="text/csv",
            key=f"newcity-rejects-{layer}",
            on_click="ignore",
        )


def _map(signature: str, new_city) -> None:
    """The built city on the coverage map (this session's alone: kept in its state, never in a shared cache)."""
    city = new_city.city
    limit = shared.base_config().map_max_communities
    if len(city.communities) > limit:
        st.info(t("map_too_many", count=len(city.communities), limit=limit, setting="max_communities"))
        return
    key = (signature, shared.lang(), shared.walk_radius_m())
    kept = st.session_state.get(MAP)
    if kept is None or kept[0] != key:
        covered = community_coverage(city.communities, city.fitness_paths, shared.walk_radius_m())
        # Scored as the coverage page scores the city, so the preview's colours are the map's to come.
        config = shared.config_for(shared.walk_radius_m(), tuple(sorted(shared.weights().items())), 0)
        scored = score_covered(covered, config, city.applications)
        drawn = coverage_map(
            city.districts,
            scored,
            city.fitness_paths,
            lang=shared.lang(),
            public_sites=assessed_sites(new_city),
            distance="straight",  # the page takes no roads: the preview measures in straight lines, and says so
            walk_radius_m=shared.walk_radius_m(),
            shapes_at_once=shared.base_config().map_shapes_at_once,  # a large city: grid cells until zoomed in
            shapes_min_zoom=shared.base_config().map_shapes_min_zoom,
        )
        kept = st.session_state[MAP] = (key, drawn.get_root().render())
    st.iframe(kept[1], height=480)


def _save(new_city) -> None:
    """Write the city into the session's folder and analyse it on every page from now on."""
    with st.spinner(t("newcity_saving")):
        number = int(st.session_state.get("uploaded_cities", 0)) + 1
        target = shared.upload_folder().file(f"uploaded_city_{number}", "city.gpkg")
        write_city(new_city, target)
        if shared.using_upload():
            shared.data_path().unlink(missing_ok=True)  # the session's previous upload: not needed any more
        st.session_state["uploaded_cities"] = number
        identity = new_city.identity
        shared.use_data(target, identity.name_zh or identity.name_en)
    city = new_city.city
    # Said after the rerun, so that the sidebar (drawn before this page) already names the new city.
    st.session_state[FLASH] = t(
        "newcity_saved",
        name=plain(identity.name_zh if shared.lang() == "zh" else identity.name_en or identity.name_zh),
        districts=len(city.districts),
        communities=len(city.communities),
        paths=len(city.fitness_paths),
    )
    if city.public_sites is not None:
        st.session_state[FLASH] += " " + t("newcity_saved_sites", sites=f"{len(city.public_sites):,}")
    st.rerun()


def render() -> None:
    shared.require_page("new-city")  # besides the navigation (shared.PAGE_ROLES)
    st.title(t("page_new_city"))
    st.write(t("newcity_intro"))

    st.subheader(t("newcity_files_title"))
    limit = shared.base_config().max_upload_mb
    uploads = {}
    for layer in LAYERS:
        key = f"newcity-upload-{layer}"
        shown_before = key in st.session_state  # read before the widget of this run is made
        upload = st.file_uploader(t(f"newcity_file_{layer}"), key=key, help=t("intake_formats", limit=f"{limit:g}"))
        uploads[layer] = _upload(layer, upload, shown_before)
    entries = {layer: entry for layer, entry in uploads.items() if entry is not None}
    if "communities" not in entries:
        st.info(t("newcity_need_communities"))
        return

    st.subheader(t("newcity_columns_title"))
    st.caption(t("newcity_columns_help"))
    column_map, crs, broken = {}, {}, []
    # Where the city lies (a file in degrees) ranks the central meridians of bare Gauss–Krüger eastings.
    longitudes = [
        centre_longitude(entries[layer]) for layer in ("districts", "fitness_paths", "public_sites") if layer in entries
    ]
    near_lon = next((lon for lon in longitudes if lon is not None), None)
    for layer, entry in entries.items():
        column_map[layer], crs[layer], usable = _file_checks(layer, entry, near_lon)
        if not usable:
            broken.append(layer)
    column_map = {layer: fields for layer, fields in column_map.items() if fields}

    st.subheader(t("newcity_name_title"))
    columns = st.columns(2)
    with columns[0]:
        name = shared.keep_widget(st.text_input, t("newcity_name"), "newcity_name", "", max_chars=60).strip()
    with columns[1]:
        name_en = shared.keep_widget(st.text_input, t("newcity_name_en"), "newcity_name_en", "", max_chars=60).strip()
    if not name:
        st.caption(t("newcity_name_default"))

    st.subheader(t("newcity_preview_title"))
    if st.button(t("newcity_preview"), type="primary", disabled=bool(broken)):
        _preview(entries, column_map, crs, name, name_en)
    if RESULT not in st.session_state:
        return
    signature, new_city = st.session_state[RESULT]
    stale = signature != _signature(entries, column_map, crs, name, name_en)
    if stale:
        st.info(t("newcity_stale"))
    _counts(new_city)
    _warnings_and_rejects(new_city)
    st.markdown(f"**{plain(t('newcity_map_title'))}**")
    _map(signature, new_city)

    st.subheader(t("newcity_save_title"))
    # The new city replaces the session's upload, whose file is then deleted: applications it does not
    # carry are said before, and confirmed. (The server's own data stays; "back to the sample" returns to it.)
    left = 0
    if shared.using_upload():
        try:
            left = applications_left_behind(shared.city(), new_city.city)
        except (DataError, OSError):  # the data in use cannot be read: nothing of it to keep
            left = 0
    confirmed = True
    if left:
        st.warning(t("newcity_sets_aside", count=f"{left:,}"))
        confirmed = st.checkbox(t("newcity_sets_aside_confirm", count=f"{left:,}"), key="newcity-set-aside-confirm")
    if st.button(t("newcity_save"), type="primary", disabled=stale or not confirmed):
        _save(new_city)
    if FLASH in st.session_state:  # beside the button pressed (the page keeps its scroll position)
        st.success(st.session_state.pop(FLASH))
        st.page_link("views/coverage_map.py", label=t("newcity_open_map"), icon=":material/map:")


shared.guarded(render)
