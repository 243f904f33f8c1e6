"""Every user-facing word of the planner, Chinese first: one catalogue per language.

The catalogues are ``geo/i18n/zh.toml`` and ``geo/i18n/en.toml``: plain TOML files (read with
the standard library's ``tomllib``) that a translator can edit without touching code, with one
table per kind of label:

``[text]``       the app's pages and messages        (:func:`text`)
``[column]``     column headers of tables and exports (:func:`column_label`, :data:`COLUMN_LABELS`)
``[reason]``     eligibility reason codes             (:func:`reason_label`, :data:`REASON_LABELS`)
``[map]``        the coverage map's legend, layers and tooltips
``[notice]``     the public notice page
``[parameter]``  the plan parameters in the notice
``[export]``     words the exports add (yes/no, longitude/latitude, the parameters sheet)
``[template]``   the survey template (sheets, headers, instructions, cell checks); paragraphs are lists
``[message]``    notes, warnings and errors about a file read or imported (:class:`geo.errors.Message`)
``[rejection]``  why an imported row is rejected: the reason's title (``geo.intake.validate.REASONS``)
``[row]``        the detail said after that title, per row (``geo.intake.validate``)
``[cli]``        the command line's help texts and its own error lines (:mod:`geo.cli`)

Every key exists in both files with the same ``{placeholders}`` (``tests/test_i18n.py``).
``{city}`` and ``{bureau}`` are never written in a catalogue's words: they are filled from
``config.toml``'s ``[city]`` table (:func:`place_names`). The files are read once per process.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import pandas as pd

LANGS = ("zh", "en")
SECTIONS = (
    "text",
    "column",
    "reason",
    "map",
    "notice",
    "parameter",
    "export",
    "template",
    "message",
    "rejection",
    "row",
    "cli",
)
CATALOGUE_DIR = Path(__file__).resolve().parent


@functools.cache
def catalogue(lang: str) -> dict[str, dict[str, str]]:
    """The catalogue of ``lang``: section name -> key -> phrase (read once, then shared)."""
    with open(CATALOGUE_DIR / f"{check_lang(lang)}.toml", "rb") as file:
        return tomllib.load(file)


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise ValueError naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(LANGS)}")
    return lang


def pairs(section: str) -> dict[str, tuple[str, str]]:
    """``section`` of both catalogues as key -> (Chinese, English)."""
    zh, en = catalogue("zh")[section], catalogue("en")[section]
    return {key: (zh[key], en[key]) for key in zh}


def label(section: str, key: str, lang: str = "zh", **values) -> str:
    """The phrase ``key`` of ``section`` in ``lang``, its ``{name}`` placeholders filled from ``values``."""
    phrase = catalogue(lang)[section][key]
    return phrase.format(**values) if values else phrase


def labels(section: str, lang: str = "zh") -> dict[str, str]:
    """The whole ``section`` in ``lang`` (key -> phrase)."""
    return dict(catalogue(lang)[section])


# Kept for modules that match headers in either language (geo.data.io, geo.intake.validate …).
COLUMN_LABELS: dict[str, tuple[str, str]] = pairs("column")
TEXT: dict[str, tuple[str, str]] = pairs("text")
REASON_LABELS: dict[str, tuple[str, str]] = pairs("reason")


def text(key: str, lang: str = "zh", **values) -> str:
    """A user-facing phrase in ``lang``; ``values`` fill its ``{name}`` placeholders."""
    return label("text", key, lang, **values)


def column_label(column: str, lang: str = "zh") -> str:
    """The user-facing header of ``column`` (the column name itself when none is defined)."""
    return catalogue(lang)["column"].get(column, column)


def reason_label(code: str, lang: str = "zh") -> str:
    """The user-facing label of an eligibility reason code (the code itself when unknown)."""
    return catalogue(lang)["reason"].get(code, code)


def place_names(config, lang: str = "zh") -> dict[str, str]:
    """``{"city": …, "bureau": …}`` in ``lang`` from ``config`` (``config.toml``'s ``[city]`` table)."""
    check_lang(lang)
    return {"city": config.city_name(lang), "bureau": config.bureau_name(lang)}


def yes_no(lang: str = "zh") -> tuple[str, str]:
    """The words for True and False in ``lang``."""
    return label("export", "yes", lang), label("export", "no", lang)


def labelled(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A copy of ``frame`` with user-facing column headers."""
    return frame.rename(columns={c: column_label(c, lang) for c in frame.columns})


def humanised(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Like :func:`labelled`, with yes/no columns shown as 是/否 (Yes/No), and dates without a time of
    day as ``2019-12-29`` (not ``2019-12-29 00:00:00``); a missing date stays missing.

    A copy for display: ``frame`` is not changed.
    """
    yes, no = yes_no(lang)
    shown = frame.copy()
    for column in shown.columns:
        values = shown[column]
        if pd.api.types.is_bool_dtype(values):
            shown[column] = values.map({True: yes, False: no}).fillna("")
        elif pd.api.types.is_datetime64_any_dtype(values) and (values.dropna() == values.dropna().dt.normalize()).all():
            shown[column] = values.dt.strftime("%Y-%m-%d").astype("string")
    return labelled(shown, lang)


def program_names(programs, lang: str = "zh") -> dict[str, str]:
    """Programme key -> its name in ``lang`` (``programs``: :class:`geo.config.Program` objects)."""
    check_lang(lang)
    return {program.key: program.name(lang) for program in programs}


def with_program_names(frame: pd.DataFrame, programs, lang: str = "zh") -> pd.DataFrame:
    """``frame`` with ``program_name`` rewritten from its ``program`` key in ``lang`` (unknown keys kept)."""
    names = program_names(programs, lang)
    return frame.assign(program_name=frame["program"].map(names).fillna(frame["program_name"]))


def program_choices(config) -> tuple[str, ...]:
    """The budget choices offered for ``config``: each programme alone, all in order (when several), ``custom``.

    A choice is a comma-separated list of programme keys, as ``run_plan`` and ``--program`` take it.
    """
    keys = [program.key for program in config.programs]
    return (*keys, *([",".join(keys)] if len(keys) > 1 else []), "custom")


def program_choice_label(choice: str, config, lang: str = "zh") -> str:
    """The label of a :func:`program_choices` entry in ``lang``: names, budgets and sets from ``config``."""
    if choice == "custom":
        return text("program_custom", lang)
    keys = choice.split(",")
    if len(keys) == 1:
        program = config.program(keys[0])
        return text(
            "program_one",
            lang,
            name=program.name(lang),
            budget=program.budget_cny,
            sets=program.budget_cny // config.set_cost_cny,
        )
    names = [config.program(key).name(lang) for key in keys]
    return text("program_sequence", lang, names=text("program_then", lang).join(names))


def community_labels(communities: pd.DataFrame, district_names: dict, lang: str = "zh") -> dict[str, str]:
    """``community_id`` -> "name (district)" in ``lang``, for a search box.

    ``district_names`` maps ``district_code`` to the district's name in ``lang``; a code it
    lacks shows the row's ``district_name``.
    """
    phrase = text("community_in_district", lang)
    districts = communities["district_code"].map(district_names).fillna(communities["district_name"])
    return {
        community_id: phrase.format(name=name, district=district)
        for community_id, name, district in zip(communities["community_id"], communities["name"], districts)
    }


# Above this many communities a search box lists only what matches the typed text: a list of every one
# (a 100,000-community city's names are megabytes) would be sent to the browser on every run.
SEARCH_LIST_MAX = 5_000
SEARCH_MATCHES_SHOWN = 50


def matching_labels(
    labels: dict[str, str], typed: str, limit: int = SEARCH_MATCHES_SHOWN
) -> tuple[dict[str, str], int]:
    """The first ``limit`` of ``labels`` (``community_id`` -> label, as :func:`community_labels`) whose label or
    id contains ``typed`` (case and surrounding spaces ignored), in their order, and how many match in all.
    Plain substring matching: the typed text is data, never a pattern."""
    needle = typed.strip().casefold()
    if not needle:
        return {}, 0
    found = [key for key, label in labels.items() if needle in label.casefold() or needle in str(key).casefold()]
    return {key: labels[key] for key in found[:limit]}, len(found)


def district_names(districts: pd.DataFrame, lang: str = "zh") -> dict[str, str]:
    """``district_code`` -> the district's name in ``lang``, from the districts layer.

    Chinese from ``district_name``, English from ``district_name_en``; a district without an
    English name (a blank cell, or no such column) keeps its Chinese name rather than none.
    """
    chinese = districts["district_name"]
    names = chinese
    if check_lang(lang) == "en" and "district_name_en" in districts.columns:
        english = districts["district_name_en"]
        names = english.where(english.notna() & (english.astype("string").str.strip() != ""), chinese)
    return dict(zip(districts["district_code"].astype(str), names))


def with_district_names(frame: pd.DataFrame, district_names: dict) -> pd.DataFrame:
    """``frame`` with ``district_name`` from its ``district_code`` through ``district_names`` (code -> name in
    the page's language); a code it lacks keeps the row's name."""
    return frame.assign(district_name=frame["district_code"].map(district_names).fillna(frame["district_name"]))


REASON_COLUMNS = ("reason_zh", "reason_en")


def reasons_in_language(frame: pd.DataFrame, lang: str = "zh", *, keep_code: bool = True) -> pd.DataFrame:
    """``frame`` with only ``lang``'s reason column of a row report (``reason_zh`` / ``reason_en``).

    ``keep_code=False`` also drops ``reason_code``. Other columns are kept as they are.
    """
    mine = f"reason_{check_lang(lang)}"
    dropped = [c for c in REASON_COLUMNS if c != mine] + ([] if keep_code else ["reason_code"])
    return frame.drop(columns=[c for c in dropped if c in frame.columns])


def rejects_for_reading(rejects: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Rejected rows for a page: row number, feature and reason in ``lang`` under labelled headers, then
    the file's own cells under the user's headers."""
    shown = reasons_in_language(rejects, lang, keep_code=False)
    labels = {
        "sheet_row": text("rejects_sheet_row", lang),
        "feature": text("rejects_feature", lang),
        f"reason_{lang}": text("rejects_reason", lang),
    }
    return shown.rename(columns={c: label for c, label in labels.items() if c in shown.columns})
