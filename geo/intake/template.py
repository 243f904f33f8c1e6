"""The survey template (Excel) that district offices fill in and return to the city: communities, public sites."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo import i18n
from geo.data.cells import append_xlsx_row
from geo.data.crs import is_storage_crs
from geo.data.files import atomic_write
from geo.data.schema import SITE_CONSENTS, SITE_KINDS
from geo.errors import DataError
from geo.i18n import COLUMN_LABELS, LANGS, check_lang, column_label

# Every word of the workbook is in the [template] table of geo/i18n/*.toml.
SURVEY_SHEET = {lang: i18n.label("template", "survey_sheet", lang) for lang in LANGS}
INSTRUCTIONS_SHEET = {lang: i18n.label("template", "instructions_sheet", lang) for lang in LANGS}
SITES_SHEET = {lang: i18n.label("template", "sites_sheet", lang) for lang in LANGS}
LISTS_SHEET = "_lists"

# Rows 2..LAST_ROW carry the drop-down lists and checks: room for the largest district's returns.
LAST_ROW = 2000
CRS_CHOICES = ("WGS84", "GCJ-02", "BD-09")
YES_NO = {lang: (i18n.label("template", "yes", lang), i18n.label("template", "no", lang)) for lang in LANGS}
FIRST_YEAR = 1900
FIRST_APPLICATION_DATE = dt.date(2000, 1, 1)
# Mainland China's extent in degrees: catches longitude and latitude typed in each other's cell.
LONGITUDE_RANGE = (73.0, 136.0)
LATITUDE_RANGE = (3.0, 54.0)

_REQUIRED_FILL = "FCE4D6"  # light orange: the header cells of required columns
_HEADER_FILL = "DDEBF7"  # light blue: the other header cells
_COLUMN_WIDTH_MIN = 8
_WIDE_CHARACTERS = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
    "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)


@dataclass(frozen=True)
class _Column:
    """One survey column: its check and how much it is required.

    Its words are ``meaning_<name>``, ``unit_<name>`` and ``allowed_<name>`` (the last two
    optional) in the ``[template]`` table of the catalogues.
    """

    name: str
    check: str  # key of _checks(), or "" for free text
    required: str  # req_required, req_optional, req_recommended, req_location …
    width: float = 12
    number_format: str = ""


# Headers the [column] table does not define: the survey's own columns.
_EXTRA_HEADERS = ("longitude", "latitude", "crs", "land_area_m2", "existing_sets", "application_date", "remarks")

SURVEY_COLUMNS: tuple[_Column, ...] = (
    _Column("community_id", "", "req_location", width=16, number_format="@"),
    _Column("name", "", "req_required", width=24, number_format="@"),
    _Column("district_name", "district", "req_required", width=16),
    _Column("longitude", "longitude", "req_location", width=12, number_format="0.000000"),
    _Column("latitude", "latitude", "req_location", width=12, number_format="0.000000"),
    _Column("crs", "crs", "req_with_coordinates", width=12),
    _Column("land_area_m2", "area", "req_optional", width=14, number_format="0"),
    _Column("built_year", "year", "req_optional", width=10, number_format="0"),
    _Column("households", "count", "req_optional", width=10, number_format="0"),
    _Column("population", "count", "req_recommended", width=10, number_format="0"),
    _Column("share_60plus", "share", "req_optional", width=12, number_format="0.00"),
    _Column("share_under14", "share", "req_optional", width=12, number_format="0.00"),
    _Column("open_space_m2", "area", "req_optional", width=14, number_format="0"),
    _Column("public_space_used_for_parking", "yes_no", "req_optional", width=12),
    _Column("sports_land_planned", "yes_no", "req_optional", width=12),
    _Column("existing_sets", "count", "req_optional", width=12, number_format="0"),
    _Column("application_date", "date", "req_optional", width=14, number_format="yyyy-mm-dd"),
    _Column("remarks", "", "req_optional", width=30, number_format="@"),
)


# The public-sites sheet (issue 15): places outside communities where a set could go. Columns named as the
# public_sites layer's where they are its own; their words are meaning_/unit_/allowed_ + SITE_WORD_KEYS[name].
SITE_COLUMNS: tuple[_Column, ...] = (
    _Column("site_id", "", "req_required", width=14, number_format="@"),
    _Column("site_name", "", "req_required", width=24, number_format="@"),
    _Column("site_kind", "site_kind", "req_recommended", width=20),
    _Column("longitude", "longitude", "req_site_location", width=12, number_format="0.000000"),
    _Column("latitude", "latitude", "req_site_location", width=12, number_format="0.000000"),
    _Column("crs", "crs", "req_with_coordinates", width=12),
    _Column("usable_area_m2", "area", "req_recommended", width=14, number_format="0"),
    _Column("owner", "", "req_recommended", width=22, number_format="@"),
    _Column("consent", "consent", "req_recommended", width=14),
    _Column("site_notes", "", "req_optional", width=30, number_format="@"),
)
SITE_WORD_KEYS = {
    "site_id": "site_id",
    "site_name": "site_name",
    "site_kind": "site_kind",
    "longitude": "site_longitude",
    "latitude": "site_latitude",
    "crs": "site_crs",
    "usable_area_m2": "site_area",
    "owner": "site_owner",
    "consent": "site_consent",
    "site_notes": "site_notes",
}
_SITE_HEADERS = ("site_name", "site_kind", "site_notes")  # the sheet's own headers ([template] header_<name>)


def site_kind_words(lang: str = "zh") -> list[str]:
    """The words the sites sheet offers for a site's kind, in ``geo.data.schema.SITE_KINDS`` order."""
    return [i18n.label("message", f"site_kind_{kind}", lang) for kind in SITE_KINDS]


def site_consent_words(lang: str = "zh") -> list[str]:
    """The words the sites sheet offers for the owner's consent (yes, no, unknown)."""
    return [i18n.label("message", f"site_consent_{consent}", lang) for consent in SITE_CONSENTS]


def _words(lang: str, districts: pd.DataFrame, config=None) -> dict:
    """Every ``[template]`` phrase in ``lang`` with its placeholders filled.

    The city's name and the programmes come from ``config`` (default: the repository's
    ``config.toml``); the "about" coordinates from the example point.
    """
    if config is None:
        from geo.config import load_config

        config = load_config()
    names = i18n.place_names(config, lang)
    longitude, latitude = _example_point(districts)
    values = {
        **names,
        # How a sentence names the city in passing: 柳州 for 柳州市 (Chinese drops the 市), Liuzhou.
        "city_short": names["city"].removesuffix("市") if lang == "zh" else names["city"],
        "programs": i18n.label("template", "and", lang).join(p.name(lang) for p in config.programs),
        "first_year": FIRST_YEAR,
        "longitude_min": LONGITUDE_RANGE[0],
        "longitude_max": LONGITUDE_RANGE[1],
        "latitude_min": LATITUDE_RANGE[0],
        "latitude_max": LATITUDE_RANGE[1],
        "longitude": longitude,
        "latitude": latitude,
        "site_kinds": ("、" if lang == "zh" else ", ").join(site_kind_words(lang)),
        "site_consents": ("、" if lang == "zh" else ", ").join(site_consent_words(lang)),
    }
    return {
        key: [line.format(**values) for line in phrase] if isinstance(phrase, list) else phrase.format(**values)
        for key, phrase in i18n.labels("template", lang).items()
    }


# --------------------------------------------------------------------------- public API


def survey_header(column: str, lang: str = "zh") -> str:
    """The header of survey column ``column`` in ``lang`` (from :mod:`geo.i18n` where it has one)."""
    check_lang(lang)
    if column in COLUMN_LABELS:
        return column_label(column, lang)
    if column in _EXTRA_HEADERS:
        return i18n.label("template", f"header_{column}", lang)
    raise ValueError(f"{column!r} is not a survey column; the columns are {', '.join(c.name for c in SURVEY_COLUMNS)}")


def survey_headers(lang: str = "zh") -> list[str]:
    """The survey sheet's header row in ``lang``, in column order."""
    return [survey_header(column.name, lang) for column in SURVEY_COLUMNS]


def site_headers(lang: str = "zh") -> list[str]:
    """The public-sites sheet's header row in ``lang``, in column order (each recognised by the intake's
    ``public_sites`` layer: 场地编号, 场地名称, 场地类型 …)."""
    check_lang(lang)
    return [
        i18n.label("template", f"header_{c.name}", lang) if c.name in _SITE_HEADERS else survey_header(c.name, lang)
        for c in SITE_COLUMNS
    ]


def write_survey_template(path, districts: pd.DataFrame, lang: str = "zh", config=None) -> Path:
    """Write the Excel template in which a district office lists its communities.

    Parameters
    ----------
    path : str or os.PathLike
        ``.xlsx`` file to create or replace; its folder must exist.
    districts : pandas.DataFrame or geopandas.GeoDataFrame
        The districts layer: ``district_name`` (offered in the 区县 drop-down, in
        ``district_code`` order when that column exists). A geometry in EPSG:4326, when
        present, places the example row's coordinates inside the first district.
    lang : {"zh", "en"}
        Language of sheet names, headers, messages and instructions.
    config : geo.config.Config, optional
        Names the city and the programmes in the instructions (``[city]`` and
        ``[[programs]]``); default the repository's ``config.toml``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``lang`` is unknown or ``districts`` has no district names.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Notes
    -----
    Sheets: ``小区调查`` (``Community survey``) with only the header row (bold, frozen with the
    ID and name columns, required columns in orange) and, over rows 2–2000, drop-down lists
    (区县 from the hidden sheet ``_lists``; 是/否; WGS84/GCJ-02/BD-09) and range checks with an
    error message; ``公共场地`` (``Public sites``) laid out alike, where the office proposes sites
    outside communities (drop-downs of the site kinds and of 是/否/未知; read back by
    ``geo import --layer public_sites`` or ``geo city init --sites``); ``填写说明`` (``Instructions``)
    with the purpose, one line per column, the coordinate-system advice, how to submit, an example
    row, then the public sites' purpose, columns and example row, the examples kept off the data
    sheets so they are never returned by mistake; and the hidden ``_lists``. See
    :func:`survey_headers` and :func:`site_headers`.

    Every cell is written by :func:`geo.data.cells.append_xlsx_row`: a district name from the city's
    file is stored as text, never as a formula (control and invisible characters removed, a
    leading ``=``, ``+``, ``-``, ``@`` … prefixed with ``'``), and the 区县 drop-down refers to
    those cells by range, so no name is ever part of a validation formula.
    """
    path = Path(path)
    content = survey_template_bytes(districts, lang=lang, config=config)
    with atomic_write(path) as staged:
        staged.write_bytes(content)
    return path


def survey_template_bytes(districts: pd.DataFrame, lang: str = "zh", config=None) -> bytes:
    """The template of :func:`write_survey_template` as the bytes of an .xlsx (for a download button)."""
    buffer = io.BytesIO()
    _survey_workbook(districts, lang, config).save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- workbook


def _survey_workbook(districts: pd.DataFrame, lang: str, config=None):
    from openpyxl import Workbook

    check_lang(lang)
    names = _district_names(districts)
    words = _words(lang, districts, config)
    workbook = Workbook()
    survey = workbook.active
    survey.title = SURVEY_SHEET[lang]
    instructions = workbook.create_sheet(INSTRUCTIONS_SHEET[lang])
    sites = workbook.create_sheet(SITES_SHEET[lang])  # after the instructions, which an office reads first
    lists = workbook.create_sheet(LISTS_SHEET)
    district_range = _fill_lists(lists, names, lang, words)
    _fill_survey(survey, district_range, lang, words)
    _fill_survey(sites, district_range, lang, words, SITE_COLUMNS, site_headers(lang), SITE_WORD_KEYS)
    _fill_instructions(instructions, names[0], _example_point(districts), lang, words)
    _fill_site_instructions(instructions, names[0], _example_point(districts), lang, words)
    workbook.active = 0
    return workbook


def _district_names(districts: pd.DataFrame) -> list[str]:
    if not isinstance(districts, pd.DataFrame) or "district_name" not in districts.columns:
        raise ValueError(
            "districts must be a (Geo)DataFrame with a district_name column, e.g. the "
            "districts layer or data/boundaries/liuzhou_districts.geojson"
        )
    table = pd.DataFrame(districts.drop(columns=districts.select_dtypes("geometry").columns, errors="ignore"))
    if "district_code" in table.columns:
        table = table.sort_values("district_code", kind="stable", na_position="last")
    names = table["district_name"].dropna().astype(str).str.strip()
    names = names[names != ""].drop_duplicates().tolist()
    if not names:
        raise DataError("districts has no district names; the district drop-down list would be empty")
    return names


def _example_point(districts: pd.DataFrame) -> tuple[float, float]:
    """Longitude and latitude (WGS84) of a point inside the first district, else central Liuzhou."""
    fallback = (109.415, 24.326)
    if not isinstance(districts, gpd.GeoDataFrame) or districts.geometry.name not in districts.columns:
        return fallback
    if not is_storage_crs(districts.crs):
        return fallback
    table = districts.sort_values("district_code") if "district_code" in districts.columns else districts
    shapes = table.geometry.dropna()
    shapes = shapes[~shapes.is_empty]
    if shapes.empty:
        return fallback
    point = shapely.point_on_surface(shapes.iloc[0])
    return round(point.x, 6), round(point.y, 6)


def _fill_lists(sheet, names: list[str], lang: str, words: dict) -> str:
    """Write the drop-down lists to the hidden sheet; return the absolute range of district names."""
    append_xlsx_row(sheet, [survey_header("district_name", lang), words["yes_no_header"], survey_header("crs", lang)])
    yes_no = YES_NO[lang]
    for row in range(max(len(names), len(yes_no), len(CRS_CHOICES))):
        append_xlsx_row(
            sheet,
            [
                names[row] if row < len(names) else None,
                yes_no[row] if row < len(yes_no) else None,
                CRS_CHOICES[row] if row < len(CRS_CHOICES) else None,
            ],
        )
    sheet.sheet_state = "hidden"
    return f"'{LISTS_SHEET}'!$A$2:$A${len(names) + 1}"


def _fill_survey(
    sheet, district_range: str, lang: str, words: dict, columns=SURVEY_COLUMNS, headers=None, word_keys=None
) -> None:
    """A data sheet: ``columns``' header row (``headers``, default the survey's), formats and checks.

    ``word_keys`` names each column's words (``allowed_<key>``) when they are not its own name.
    """
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    headers = headers or survey_headers(lang)
    word_keys = word_keys or {}
    append_xlsx_row(sheet, headers)
    bold = Font(bold=True)
    for column, cell in zip(columns, sheet[1]):
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        colour = (
            _REQUIRED_FILL if column.required in ("req_required", "req_location", "req_site_location") else _HEADER_FILL
        )
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
    sheet.row_dimensions[1].height = 32
    sheet.freeze_panes = "C2"  # header row and the ID and name columns stay in view

    checks = _checks(district_range, lang)
    for position, (column, header) in enumerate(zip(columns, headers), start=1):
        letter = get_column_letter(position)
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(column.width, _display_width(header) + 2, _COLUMN_WIDTH_MIN)
        if column.number_format:
            dimension.number_format = column.number_format
        if column.check:
            validation = checks[column.check]()
            validation.error = words[f"check_{column.check}"]
            validation.errorTitle = words["check_title"]
            validation.prompt = words.get(f"allowed_{word_keys.get(column.name, column.name)}", "")[:255]
            validation.promptTitle = header[:32]  # Excel's limit for a prompt title
            validation.showErrorMessage = True
            validation.showInputMessage = True
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)


def _checks(district_range: str, lang: str) -> dict:
    """Factories of the data validations, one per kind of check (each column gets its own object)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    yes, no = YES_NO[lang]
    this_year = dt.date.today().year
    first_date = f"DATE({FIRST_APPLICATION_DATE.year},{FIRST_APPLICATION_DATE.month},{FIRST_APPLICATION_DATE.day})"

    def make(**kw):
        return lambda: DataValidation(allow_blank=True, errorStyle="stop", **kw)

    return {
        "district": make(type="list", formula1=district_range),
        "yes_no": make(type="list", formula1=f'"{yes},{no}"'),
        "crs": make(type="list", formula1='"' + ",".join(CRS_CHOICES) + '"'),
        "year": make(type="whole", operator="between", formula1=str(FIRST_YEAR), formula2=str(this_year)),
        "share": make(type="decimal", operator="between", formula1="0", formula2="1"),
        "count": make(type="whole", operator="greaterThanOrEqual", formula1="0"),
        "area": make(type="decimal", operator="greaterThanOrEqual", formula1="0"),
        "longitude": make(
            type="decimal", operator="between", formula1=f"{LONGITUDE_RANGE[0]:g}", formula2=f"{LONGITUDE_RANGE[1]:g}"
        ),
        "latitude": make(
            type="decimal", operator="between", formula1=f"{LATITUDE_RANGE[0]:g}", formula2=f"{LATITUDE_RANGE[1]:g}"
        ),
        "date": make(type="date", operator="greaterThanOrEqual", formula1=first_date),
        "site_kind": make(type="list", formula1='"' + ",".join(site_kind_words(lang)) + '"'),
        "consent": make(type="list", formula1='"' + ",".join(site_consent_words(lang)) + '"'),
    }


def _fill_instructions(
    sheet, example_district: str, example_point: tuple[float, float], lang: str, words: dict
) -> None:
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def heading(key: str, size: int = 12) -> None:
        append_xlsx_row(sheet, [words[key]])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=size)

    def paragraphs(key: str) -> None:
        for line in words[key]:
            append_xlsx_row(sheet, [line])
        append_xlsx_row(sheet, [])

    heading("title", size=14)
    append_xlsx_row(sheet, [])
    heading("purpose_heading")
    paragraphs("purpose")
    heading("required_heading")
    paragraphs("required")

    heading("columns_heading")
    append_xlsx_row(sheet, words["columns_header"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for column in SURVEY_COLUMNS:
        append_xlsx_row(
            sheet,
            [
                survey_header(column.name, lang),
                words[f"meaning_{column.name}"],
                words.get(f"unit_{column.name}", ""),
                words[column.required],
                words.get(f"allowed_{column.name}", ""),
            ],
        )
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
    append_xlsx_row(sheet, [])

    heading("crs_heading")
    paragraphs("crs")
    heading("submit_heading")
    paragraphs("submit")

    heading("example_heading")
    append_xlsx_row(sheet, survey_headers(lang))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    yes, no = YES_NO[lang]
    example = {
        "community_id": None,
        "name": words["example_name"],
        "district_name": example_district,
        "longitude": example_point[0],
        "latitude": example_point[1],
        "crs": "WGS84",
        "land_area_m2": 25000,
        "built_year": 1995,
        "households": 480,
        "population": 1350,
        "share_60plus": 0.22,
        "share_under14": 0.12,
        "open_space_m2": 300,
        "public_space_used_for_parking": yes,
        "sports_land_planned": no,
        "existing_sets": 0,
        "application_date": dt.date(2018, 5, 3),
        "remarks": words["example_remarks"],
    }
    append_xlsx_row(sheet, [example[column.name] for column in SURVEY_COLUMNS])
    for column, cell in zip(SURVEY_COLUMNS, sheet[sheet.max_row]):
        if column.number_format and column.number_format != "@":
            cell.number_format = column.number_format

    # The first columns hold both the prose and the example's cells: wide enough for both.
    widths = {"A": 22, "B": 44, "C": 16, "D": 22, "E": 44}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width


def _fill_site_instructions(
    sheet, example_district: str, example_point: tuple[float, float], lang: str, words: dict
) -> None:
    """The public sites' part of the instructions: why, one line per column, and a worked example row."""
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    append_xlsx_row(sheet, [])
    append_xlsx_row(sheet, [words["sites_heading"]])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)
    for line in words["sites"]:
        append_xlsx_row(sheet, [line])
    append_xlsx_row(sheet, [])
    append_xlsx_row(sheet, [words["sites_columns_heading"]])
    sheet.cell(sheet.max_row, 1).font = bold
    append_xlsx_row(sheet, words["columns_header"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for column, header in zip(SITE_COLUMNS, site_headers(lang)):
        key = SITE_WORD_KEYS[column.name]
        row = [header, words[f"meaning_{key}"], words.get(f"unit_{key}", ""), words[column.required]]
        append_xlsx_row(sheet, [*row, words.get(f"allowed_{key}", "")])
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
    append_xlsx_row(sheet, [])
    append_xlsx_row(sheet, [words["sites_example_heading"]])
    sheet.cell(sheet.max_row, 1).font = bold
    append_xlsx_row(sheet, site_headers(lang))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    example = {
        "site_id": f"{example_district}-01",
        "site_name": words["example_site_name"],
        "site_kind": site_kind_words(lang)[SITE_KINDS.index("pocket_park")],
        "longitude": example_point[0],
        "latitude": example_point[1],
        "crs": "WGS84",
        "usable_area_m2": 600,
        "owner": words["example_site_owner"],
        "consent": site_consent_words(lang)[SITE_CONSENTS.index("yes")],
        "site_notes": words["example_site_notes"],
    }
    append_xlsx_row(sheet, [example[column.name] for column in SITE_COLUMNS])
    for column, cell in zip(SITE_COLUMNS, sheet[sheet.max_row]):
        if column.number_format and column.number_format != "@":
            cell.number_format = column.number_format


def _display_width(text: str) -> int:
    """Width of ``text`` in a spreadsheet, CJK and full-width characters counted double."""
    return len(text) + len(_WIDE_CHARACTERS.findall(text))
