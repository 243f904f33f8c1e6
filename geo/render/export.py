"""Render plan tables to CSV, Excel, GeoJSON, GeoPackage and zipped Shapefile files; render only, decide nothing."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.data import io as gio
from geo.data.cells import (
    append_xlsx_row,
    csv_bytes,
    normalised_text,
    spreadsheet_cells,
    spreadsheet_text,
)
from geo.data.crs import require_storage_crs
from geo.data.files import atomic_write
from geo.data.schema import STORAGE_CRS
from geo.errors import data_error
from geo.i18n import check_lang, column_label, label, reason_label
from geo.i18n import labels as catalogue_labels

SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".geojson", ".json", ".gpkg", ".zip")

# Coordinate systems geodata exports are written in: WGS84 (storage) or CGCS2000 geographic (2000国家大地坐标系).
CGCS2000 = "EPSG:4490"
OUTPUT_CRS = (STORAGE_CRS, CGCS2000)
# Text encodings of a zipped Shapefile's .dbf; every other format is UTF-8.
ENCODINGS = ("utf-8", "gbk")

# Lists in human tables read as "a; b"; in GeoJSON/GPKG as "a;b", so ``str.split(";")`` restores them.
_TABLE_LIST_SEPARATOR = "; "
_FILE_LIST_SEPARATOR = ";"

# 6 decimal degrees is about 0.1 m: finer digits in a CSV only suggest false precision.
_LONLAT_DECIMALS = 6

_SHEET_NAME_MAX = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_BREAKS = re.compile(r"[\t\r\n]")
_RESERVED_SHEET_NAMES = ("history",)  # Excel refuses a sheet named History (any case)
_COLUMN_WIDTH_MIN = 6
_COLUMN_WIDTH_MAX = 60
_NUMBER_WIDTH_MAX = 12  # Excel's General format shows at most about 11 characters of a number
# Characters a spreadsheet draws double width: CJK, Hangul, kana, full-width forms.
_WIDE_CHARACTERS = (
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
    "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]"
)


# --------------------------------------------------------------------------- public API


def export(
    frame_or_sheets,
    path,
    lang: str = "zh",
    parameters: dict | None = None,
    crs: str = STORAGE_CRS,
    encoding: str = "utf-8",
) -> Path:
    """Write a table, or several, to the format named by the suffix of ``path``.

    Parameters
    ----------
    frame_or_sheets : pandas.DataFrame, geopandas.GeoDataFrame or dict of str to DataFrame
        One table, or sheet name → table (e.g. one per programme). Geometries in EPSG:4326.
    path : str or os.PathLike
        File to create or replace; its suffix chooses the format (case-insensitive):
        ``.csv`` (:func:`to_csv`), ``.xlsx`` (:func:`to_xlsx`), ``.geojson``/``.json``
        (:func:`to_geojson`), ``.gpkg`` (:func:`to_gpkg`, layer ``"plan"``), ``.zip``
        (:func:`to_shapefile_zip`).
    lang : {"zh", "en"}
        Language of headers and yes/no words in ``.csv``, ``.xlsx`` and ``.zip``; GeoJSON and
        GeoPackage keep internal column names and ignore it.
    parameters : dict, optional
        Plan parameters for the ``参数``/``Parameters`` sheet; required for ``.xlsx`` (pass
        ``{}`` for an empty sheet); a ``.zip`` carries them as a CSV, with the coordinate system
        and encoding written; ignored by the other formats.
    crs : {"EPSG:4326", "EPSG:4490"}
        Coordinate system of the geometries written to ``.gpkg`` and ``.zip``: WGS84 or CGCS2000
        geographic (see :func:`check_export_options` for what is refused).
    encoding : {"utf-8", "gbk"}
        Text encoding of a ``.zip`` Shapefile's attributes; the other formats are UTF-8.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If the suffix is not supported (the message lists the supported ones), ``lang`` is
        unknown, ``.xlsx`` is asked for without ``parameters``, ``crs`` or ``encoding`` does not
        fit the format (:func:`check_export_options`), or a format-specific check of the
        functions above fails.

    Notes
    -----
    For ``.xlsx`` a single table becomes one sheet named after the file's stem. For the other
    formats several sheets are stacked into one table, in dict order, on a fresh index: each
    sheet's rows keep their ``program`` column, and a sheet without one gets the sheet name as
    its ``program`` (first column).
    """
    path = Path(path)
    check_lang(lang)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown_suffix, choices = (repr(path.suffix) if path.suffix else "-"), ", ".join(SUPPORTED_SUFFIXES)
        raise data_error("export_suffix", file=repr(path.name), suffix=shown_suffix, choices=choices)
    crs, encoding = check_export_options(path, crs, encoding)
    if suffix == ".xlsx":
        if parameters is None:
            raise ValueError(
                "an .xlsx export records the plan parameters on its last sheet; pass parameters= "
                "(plan parameters, file_sha256 of the data, software_version()), or {} for none"
            )
        sheets = frame_or_sheets if isinstance(frame_or_sheets, dict) else {path.stem: frame_or_sheets}
        return to_xlsx(sheets, path, parameters, lang=lang)
    frame = _stacked(frame_or_sheets) if isinstance(frame_or_sheets, dict) else frame_or_sheets
    if suffix == ".csv":
        return to_csv(frame, path, lang=lang)
    if suffix == ".gpkg":
        return to_gpkg(frame, path, crs=crs)
    if suffix == ".zip":
        return to_shapefile_zip(frame, path, lang=lang, crs=crs, encoding=encoding, parameters=parameters)
    return to_geojson(frame, path)


def check_shapefile_text(frame_or_sheets, lang: str = "zh", encoding: str = "utf-8") -> None:
    """Raise the :class:`DataError` a zipped Shapefile export of ``frame_or_sheets`` would raise for
    its text (a character ``encoding`` cannot hold, a text over 254 bytes), without writing anything.

    Cheap (the cells only): an app checks it before offering the download.
    """
    frame = _stacked(frame_or_sheets) if isinstance(frame_or_sheets, dict) else frame_or_sheets
    _shapefile_attributes(frame, lang, encoding)


def check_export_options(path, crs: str = STORAGE_CRS, encoding: str = "utf-8") -> tuple[str, str]:
    """The coordinate system and encoding to write ``path`` in, or the reason they do not fit its format.

    Parameters
    ----------
    path : str or os.PathLike
        The output file; its suffix names the format (as in :func:`export`).
    crs : str
        ``"EPSG:4326"`` (WGS84) or ``"EPSG:4490"`` (CGCS2000 geographic), any case.
    encoding : str
        ``"utf-8"`` (also ``"utf8"``) or ``"gbk"``, any case.

    Returns
    -------
    tuple of (str, str)
        ``crs`` as ``"EPSG:n"`` and ``encoding`` as ``"utf-8"`` or ``"gbk"``.

    Raises
    ------
    geo.errors.DataError
        If ``crs`` or ``encoding`` is unknown; if CGCS2000 is asked of GeoJSON (RFC 7946: always
        WGS84) or of CSV/Excel (their longitude and latitude are WGS84); if GBK is asked of any
        format but a zipped Shapefile (the others are always UTF-8).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    chosen_crs = str(crs).strip().upper()
    if chosen_crs not in OUTPUT_CRS:
        raise data_error("export_crs_unknown", crs=repr(str(crs)), choices=", ".join(OUTPUT_CRS))
    chosen_encoding = str(encoding).strip().lower().replace("_", "-")
    chosen_encoding = "utf-8" if chosen_encoding == "utf8" else chosen_encoding
    if chosen_encoding not in ENCODINGS:
        raise data_error("export_encoding_unknown", encoding=repr(str(encoding)), choices=", ".join(ENCODINGS))
    if chosen_crs != STORAGE_CRS and suffix in (".geojson", ".json"):
        raise data_error("export_crs_geojson", file=repr(path.name), crs=chosen_crs)
    if chosen_crs != STORAGE_CRS and suffix in (".csv", ".xlsx"):
        raise data_error("export_crs_table", file=repr(path.name), crs=chosen_crs)
    if chosen_encoding != "utf-8" and suffix != ".zip":
        raise data_error("export_encoding_zip_only", file=repr(path.name), encoding=chosen_encoding.upper())
    return chosen_crs, chosen_encoding


def to_csv(frame: pd.DataFrame, path, lang: str = "zh") -> Path:
    """Write a table as a CSV that Excel and WPS open correctly, with translated headers.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        Columns with internal names; a GeoDataFrame must be in EPSG:4326.
    path : str or os.PathLike
        File to create or replace; its folder must exist.
    lang : {"zh", "en"}
        Language of headers (:func:`geo.i18n.column_label`) and of yes/no words.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``lang`` is unknown, the GeoDataFrame is not in EPSG:4326, or it already has a
        ``longitude`` or ``latitude`` column.

    Notes
    -----
    - Written by :func:`geo.data.cells.csv_bytes`: UTF-8 with BOM (``utf-8-sig``), comma-separated,
      CRLF line ends (RFC 4180), text cells and headers quoted, numbers not, no index column.
    - Geometry: a GeoDataFrame's active geometry becomes ``longitude`` and ``latitude``
      columns (degrees EPSG:4326, 6 decimals ≈ 0.1 m) of a representative point — a point
      itself, a point guaranteed inside a polygon — appended last; missing geometry gives empty
      cells. Other geometry columns are dropped. :func:`geo.data.io.read_layer` reads such a file
      back as points.
    - Booleans are written 是/否 (``"zh"``) or Yes/No (``"en"``); lists as ``"a; b"``;
      missing values as empty cells; numbers as numbers; datetimes as ``YYYY-MM-DD`` when
      every time is midnight, else ``YYYY-MM-DD HH:MM:SS`` (time zone dropped, local time kept).
    - Formula injection: every text cell and header goes through
      :func:`geo.data.cells.spreadsheet_text`: control and invisible characters are removed, then
      text starting with ``=``, ``+``, ``-``, ``@`` (or their full-width forms, also after
      leading spaces), tab, CR or LF gets a leading ``'`` so a spreadsheet shows it as text
      instead of running it. This includes text such as ``"-5"`` in a text column; numbers,
      negative ones included, are untouched. Headers taken from the frame's own columns (a
      user's file) are treated the same way.
    """
    check_lang(lang)
    content = csv_bytes(_human_table(frame, lang))
    with atomic_write(path) as staged:
        staged.write_bytes(content)
    return Path(path)


def to_xlsx(sheets: dict, path, parameters: dict, lang: str = "zh") -> Path:
    """Write tables to an Excel workbook, one sheet each, plus a sheet of plan parameters.

    Parameters
    ----------
    sheets : dict of str to pandas.DataFrame
        Sheet name → table (e.g. programme → priority list), written in dict order. Tables are
        rendered as in :func:`to_csv` (geometry → longitude/latitude, 是/否, lists, formula
        neutralisation).
    path : str or os.PathLike
        ``.xlsx`` file to create or replace; its folder must exist.
    parameters : dict
        Written as key/value rows to a last sheet ``参数`` (``"en"``: ``Parameters``): nested
        dicts flattened to dotted keys (``{"budget": {"total_cny": 1}}`` → ``budget.total_cny``),
        lists joined with ``"; "``, numbers as numbers, booleans as 是/否 or Yes/No, other
        values as text. Callers put all plan parameters here, with the data file's
        :func:`geo.render.provenance.file_sha256` and :func:`geo.render.provenance.software_version`.
    lang : {"zh", "en"}
        Language of headers, yes/no words and the parameters sheet's name and headers.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``sheets`` is empty, ``lang`` is unknown, or a table fails a check of :func:`to_csv`.

    Notes
    -----
    Sheet names follow Excel's rules: control and invisible characters are removed
    (:func:`geo.data.cells.normalised_text`), tabs and line breaks become spaces, ``[]:*?/\\``
    become ``_``, at most 31 characters, no leading or trailing ``'``, not ``History``,
    unique ignoring case (a clash gets `` (2)``, `` (3)`` …) and distinct from the parameters
    sheet. Every sheet has a bold header row, frozen (``A2``), and an autofilter over the data;
    column widths follow the longest cell, CJK characters counted double, between 6 and 60
    characters. Missing values are empty cells. Every text cell, header and parameter goes
    through :func:`geo.data.cells.xlsx_row`: control and invisible characters removed, formula
    triggers prefixed with ``'`` as in :func:`to_csv`, CR and CRLF line breaks stored as LF
    (what reading an .xlsx gives), and the cell typed as a string, so no text is ever stored
    as a formula (or as an error such as ``#N/A``).
    """
    check_lang(lang)
    if not sheets:
        raise ValueError("no sheets to write; pass a dict of sheet name to DataFrame")
    try:
        from openpyxl import Workbook
    except ImportError as error:  # pragma: no cover - openpyxl is a declared dependency
        raise ValueError("writing .xlsx needs openpyxl; install it with `pip install openpyxl`") from error

    parameters_sheet = _word("parameters_sheet", lang)
    names = _sheet_names([str(name) for name in sheets], reserved=[parameters_sheet])
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, frame in zip(names, sheets.values()):
        table, formats = _human_cells(frame, lang)
        _write_sheet(workbook.create_sheet(name), table, autofilter=True, formats=dict(enumerate(formats)))
    table, value_formats = _parameter_cells(parameters, lang)
    _write_sheet(workbook.create_sheet(parameters_sheet), table, autofilter=False, formats={1: value_formats})
    with atomic_write(path) as staged:
        workbook.save(staged)
    return Path(path)


def to_geojson(frame: gpd.GeoDataFrame, path) -> Path:
    """Write a GeoDataFrame as UTF-8 GeoJSON with internal column names, for other programs.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        CRS EPSG:4326; any geometry types, mixed or missing.
    path : str or os.PathLike
        File to create or replace; its folder must exist.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``frame`` is not a GeoDataFrame or its CRS is not EPSG:4326.

    Notes
    -----
    Chinese text is written as is (UTF-8, not ``\\u`` escapes); coordinates and floats with
    17 significant digits, so they read back exactly; missing values and NaN as ``null``.
    Columns are prepared as described in :func:`to_gpkg`. :func:`read_geojson` reads the file
    back equal to the prepared frame, except that GeoJSON records values, not column types:
    a column missing in every row reads back as text, and datetimes as ISO 8601 text
    (``pd.to_datetime`` restores them).
    """
    prepared = _machine_frame(frame, "GeoJSON")
    with atomic_write(path) as staged:
        pyogrio.write_dataframe(prepared, staged, driver="GeoJSON", layer=Path(path).stem, promote_to_multi=False)
    return Path(path)


def to_gpkg(frame: gpd.GeoDataFrame, path, layer: str = "plan", crs: str = STORAGE_CRS) -> Path:
    """Write a GeoDataFrame as a one-layer GeoPackage with internal column names.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        CRS EPSG:4326; any geometry types, mixed or missing.
    path : str or os.PathLike
        File to create; an existing file is replaced whole (other layers included).
    layer : str
        Layer name.
    crs : {"EPSG:4326", "EPSG:4490"}
        Coordinate system written (pyproj's transformation from WGS84); the GeoPackage records it.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``frame`` is not a GeoDataFrame or its CRS is not EPSG:4326.

    Notes
    -----
    Columns are prepared for both :func:`to_gpkg` and :func:`to_geojson` as follows: the index
    is dropped (written rows are numbered afresh), the geometry column is named ``geometry``
    and comes last (other geometry columns are dropped),
    object columns holding lists or tuples are joined into ``";"``-separated text
    (``["a", "b"]`` → ``"a;b"``, restore with ``str.split(";")``), other object columns are
    given the nullable dtype of their values (``string``, ``Int64``, ``boolean`` or
    ``float64``; text otherwise), and ``bool``/integer columns become ``boolean``/``Int64``;
    datetimes stay datetimes. :func:`read_gpkg` reads the layer back equal to the prepared
    frame, datetimes at millisecond precision.
    """
    crs, _ = check_export_options(Path(path).with_suffix(".gpkg"), crs)
    prepared = _machine_frame(frame, "GeoPackage")
    gio.write_layers(path, {layer: prepared if crs == STORAGE_CRS else prepared.to_crs(crs)})
    return Path(path)


def read_geojson(path) -> gpd.GeoDataFrame:
    """Read a file written by :func:`to_geojson`, restoring nullable dtypes.

    Parameters
    ----------
    path : str or os.PathLike
        GeoJSON file.

    Returns
    -------
    geopandas.GeoDataFrame
        CRS EPSG:4326, RangeIndex, text as ``string``, integers as ``Int64``, booleans as
        ``boolean``, reals as ``float64`` (missing as NaN), then ``geometry``.
    """
    return _read_typed(path, layer=None)


def read_gpkg(path, layer: str = "plan") -> gpd.GeoDataFrame:
    """Read a layer written by :func:`to_gpkg`, restoring nullable dtypes.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage file.
    layer : str
        Layer name.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`read_geojson`.
    """
    return _read_typed(path, layer=layer)


# --------------------------------------------------------------------------- download names

STEM_KINDS = ("plan", "eligibility", "notice")
_STEM_MODES = ("rank", "optimal")
_FILE_NAME_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')  # path separators, Windows-reserved characters, spaces
_DASHES = re.compile(r"-{2,}")
_FILE_PART_EDGES = ".-_+ "
_FILE_PART_MAX = 40  # characters of one user text (a programme's or a district's name)
_FILE_STEM_BYTES = 150  # UTF-8 bytes of a stem: a suffix such as "_cgcs2000_gbk.gpkg" still fits 255


def download_stem(
    kind: str, lang: str = "zh", programs=(), mode: str | None = None, district: str | None = None
) -> str:
    """The name (without suffix) of a downloaded file: what it is, its programmes, mode and district.

    Parameters
    ----------
    kind : {"plan", "eligibility", "notice"}
        健身路径规划 / ``plan``, 资格核查 / ``eligibility``, or 健身路径建设计划公示 / ``notice``.
    lang : {"zh", "en"}
        Language of the words; English names are written in lower case with ``-`` for spaces.
    programs : iterable of str
        The programmes' names in ``lang``, in the order run; joined with ``+``.
    mode : {"rank", "optimal"}, optional
        The allocation mode: 排序/最优 (``rank``/``optimal``).
    district : str, optional
        The district's name in ``lang``; None for the whole city (全市 / ``whole-city``).

    Returns
    -------
    str
        ``健身路径规划_市本级+自治区补助_排序_柳南区`` or
        ``plan_city-budget+regional-grant_rank_whole-city``. Safe as a file name on Windows, macOS
        and Linux whatever the names hold: control and invisible characters removed; path
        separators, ``:*?"<>|`` and white space become ``-``; no part starts or ends with a dot;
        each name at most 40 characters, the stem at most 150 UTF-8 bytes (whole characters); it
        always starts with the kind's word, so it is never a Windows device name (``CON`` …). A name
        left empty by this is dropped.

    Raises
    ------
    ValueError
        If ``kind``, ``lang`` or ``mode`` is unknown.
    """
    check_lang(lang)
    if kind not in STEM_KINDS:
        raise ValueError(f"unknown kind of download {kind!r}; choose one of {', '.join(STEM_KINDS)}")
    if mode is not None and mode not in _STEM_MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(_STEM_MODES)}")
    names = [part for part in (_file_part(name, lang) for name in programs) if part]
    parts = [
        _word(f"stem_{kind}", lang),
        "+".join(names),
        _word(f"stem_mode_{mode}", lang) if mode else "",
        _file_part(_word("all_districts", lang) if district is None else district, lang),
    ]
    stem = "_".join(part for part in parts if part)
    stem = _cut_to_bytes(stem, _FILE_STEM_BYTES, "utf-8").rstrip(_FILE_PART_EDGES)
    return f"_{stem}" if _WINDOWS_DEVICES.fullmatch(stem.split(".")[0]) else stem


def _file_part(text, lang: str) -> str:
    """One user text made safe inside a file name (see :func:`download_stem`)."""
    part = _FILE_NAME_UNSAFE.sub("-", normalised_text(str(text)))
    part = _DASHES.sub("-", part).strip(_FILE_PART_EDGES)
    part = part.lower() if lang == "en" else part
    return part[:_FILE_PART_MAX].rstrip(_FILE_PART_EDGES)


# --------------------------------------------------------------------------- human tables


def _word(key: str, lang: str, **values) -> str:
    """A word export itself introduces (the ``[export]`` table of ``geo/i18n/*.toml``)."""
    return label("export", key, lang, **values)


def _human_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Cells for people: geometry as lon/lat, yes/no words, lists joined, formulas defused, NA as None.

    Every column is of object dtype holding str, int, float or None, under translated headers.
    Numbers are rounded as people read them (:func:`number_style`).
    """
    return _human_cells(frame, lang)[0]


def _human_cells(frame: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, list[str | None]]:
    """:func:`_human_table` and the Excel number format of each of its columns (None: General)."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"expected a DataFrame to export, got a {type(frame).__name__}")
    table = _with_value_labels(_with_lonlat(frame), lang)
    yes, no = _word("yes", lang), _word("no", lang)
    columns, formats = [], []
    for position in range(table.shape[1]):
        values = table.iloc[:, position].reset_index(drop=True)
        style = number_style(str(table.columns[position]))
        number_format = None
        if pd.api.types.is_bool_dtype(values.dtype):
            cells = values.astype("boolean").astype(object).map({True: yes, False: no}, na_action="ignore")
        elif pd.api.types.is_numeric_dtype(values.dtype) and style:
            cells, number_format = _rounded(values, style[0]), style[1]
        elif pd.api.types.is_numeric_dtype(values.dtype):
            cells = values.astype(object).map(_plain_number, na_action="ignore")
        elif pd.api.types.is_datetime64_any_dtype(values.dtype):
            cells = _date_cells(values)
        else:
            cells = spreadsheet_cells(values.astype(object).map(lambda v: _cell(v, yes, no), na_action="ignore"))
        columns.append(cells.astype(object).where(values.notna(), None))
        formats.append(number_format)
    labels = [
        spreadsheet_text(_word(c, lang) if c in ("longitude", "latitude") else column_label(str(c), lang))
        for c in table.columns
    ]
    if not columns:
        return pd.DataFrame(), []
    return pd.concat(columns, axis=1, ignore_index=True).set_axis(labels, axis=1), formats


# How people read numbers: (decimals, Excel number format). Distances and areas to the metre and
# square metre, money in whole yuan, counts whole, all with a thousands separator; shares (0 to 1)
# to 3 decimals, which Excel shows as a percentage to 0.1 %; score components 0 to 1 to 3 decimals;
# the priority score to 1 decimal; years and ranks without a separator; degrees to 6 decimals (≈ 0.1 m).
_WHOLE = (0, "#,##0")
_PLAIN_WHOLE = (0, "0")
_NUMBER_STYLES = {
    "longitude": (_LONLAT_DECIMALS, "0.000000"),
    "latitude": (_LONLAT_DECIMALS, "0.000000"),
    "priority_score": (1, "#,##0.0"),
    **dict.fromkeys(("built_year", "install_year", "old_before_year", "rank", "priority_rank"), _PLAIN_WHOLE),
    **dict.fromkeys(
        (
            "households",
            "communities",
            "sets",
            "n_sets_inside",
            "n_pieces",
            "communities_newly_equipped",
            "communities_newly_within_radius",
            "candidates_left_out",
            "left_out_to_survey",
        ),
        _WHOLE,
    ),
}
_SHARE = (3, "0.0%")
_COMPONENT = (3, "0.000")


def number_style(column: str) -> tuple[int, str] | None:
    """How a number column of internal name ``column`` is written: (decimals, Excel number format).

    Parameters
    ----------
    column : str
        An internal column name (``nearest_set_m``, ``share_60plus`` …).

    Returns
    -------
    tuple of (int, str) or None
        Decimals the value is rounded to (0: written as a whole number) and the number format of
        its ``.xlsx`` cells: ``*_m``, ``*_m2`` (metres, square metres), ``*_cny`` (whole yuan),
        populations and counts → 0 and ``#,##0``; ``share_*`` → 3 decimals shown as ``0.0%``
        (25.6 %); ``c_*`` (score components, 0 to 1) → 3 and ``0.000``; ``priority_score`` → 1 and
        ``#,##0.0``; years and ranks → 0 and ``0``; longitude and latitude → 6. None for any other
        column: written as it is, in Excel's General format.
    """
    if column in _NUMBER_STYLES:
        return _NUMBER_STYLES[column]
    if column.startswith("share_"):
        return _SHARE
    if column.startswith("c_"):
        return _COMPONENT
    if column.endswith(("_m", "_m2", "_cny", "_population")) or column.startswith("population"):
        return _WHOLE
    return None


def _rounded(values: pd.Series, decimals: int) -> pd.Series:
    """Numbers rounded to ``decimals`` (half to even), as Python ints when ``decimals`` is 0; missing stays missing."""
    present = values.notna()
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").round(decimals)
    finite = present & np.isfinite(numbers)
    cells = numbers.astype(object).where(finite, None)
    if decimals == 0:
        cells = cells.map(int, na_action="ignore")
    return cells.where(present, None)


# Columns of codes that people read as words: column -> codes, each said by the [export] key "<column>_<code>".
_VALUE_LABELS = {
    "population_source": ("surveyed", "households", "area"),
    "mode": ("rank", "optimal"),
    "standard": ("inside", "walk"),
    "distance": ("straight", "network"),
    "stop_reason": ("budget_spent", "no_candidates_left", "nothing_more_to_gain", "district_limits"),
    "candidate_kind": ("community", "site"),
    "site_kind": ("pocket_park", "park", "square", "greenway", "school_ground", "street_corner", "other"),
}


def _with_value_labels(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``table`` with the codes of :data:`_VALUE_LABELS` columns as words (调查, 由户数估算 …), and
    ``missing_fields`` (``;``-joined field names) as the fields' headers; other cells kept."""
    present = [column for column in _VALUE_LABELS if column in table.columns]
    if not present and "missing_fields" not in table.columns:
        return table
    table = table.copy()
    for column in present:
        words = {code: _word(f"{column}_{code}", lang) for code in _VALUE_LABELS[column]}
        values = table[column].astype(object)
        table[column] = values.map(words).where(values.isin(list(words)), values)
    if "missing_fields" in table.columns:
        separator = _word("list_separator", lang)

        def fields_said(fields) -> str | None:
            return separator.join(column_label(field, lang) for field in _items(fields)) or None

        table["missing_fields"] = table["missing_fields"].astype(object).map(fields_said, na_action="ignore")
    return table


# --------------------------------------------------------------------------- what a pick is and serves


def location_words(picks: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """Each pick's location type in words: 小区 / community, or 公共场地·口袋公园 / public site · pocket park.

    ``picks``: plan rows with ``candidate_kind`` (``community`` or ``site``; a missing column or cell
    reads as a community) and, for sites, ``site_kind`` (a code of the public-sites layer; missing: the
    kind is not said). Returns text indexed like ``picks``.
    """
    kinds = _codes(picks, "candidate_kind", "community")
    site_kinds = _codes(picks, "site_kind", "")
    community, site = _word("candidate_kind_community", lang), _word("candidate_kind_site", lang)
    joiner = _word("location_kind_joiner", lang)

    def said(kind: str, site_kind: str) -> str:
        if kind != "site":
            return community
        if site_kind in _VALUE_LABELS["site_kind"]:
            return f"{site}{joiner}{_word(f'site_kind_{site_kind}', lang)}"
        return site

    return pd.Series([said(k, sk) for k, sk in zip(kinds, site_kinds)], index=picks.index, dtype=object)


def pick_explanations(picks: pd.DataFrame, community_names: dict, lang: str = "zh") -> pd.Series:
    """One sentence per pick saying what it serves: 场地 X 服务小区 A、B（无建设用地），以及小区 C.

    Parameters
    ----------
    picks : DataFrame
        Plan rows (:func:`geo.optimize.allocate.plan_rows`): ``community_id`` (a site's ``site_id``),
        ``name``, ``candidate_kind``, ``served_communities`` and ``landless_served`` (``;``-joined ids
        of the communities the pick newly brings within the walk radius, and the land-less ones among
        them; missing columns read as empty).
    community_names : dict
        ``community_id`` → name, the data's own; an id without a name is said as the id.
    lang : {"zh", "en"}

    Returns
    -------
    Series of str, indexed like ``picks``. The land-less communities come first, marked as having no land
    of their own; the pick's own community is marked as itself. A community pick that brings no other
    community within reach says it gets a set of its own (the ``inside`` standard); a site, that it
    serves no one new. Names are text, never markup.
    """
    names = {str(k): (str(v) if not _is_na(v) else str(k)) for k, v in dict(community_names).items()}
    separator = _word("list_separator", lang)
    kinds = _codes(picks, "candidate_kind", "community")
    own_names = picks["name"] if "name" in picks.columns else picks["community_id"]
    served_cells = _codes(picks, "served_communities", "")
    landless_cells = _codes(picks, "landless_served", "")
    sentences = []
    for pick_id, own_name, kind, served, landless in zip(
        picks["community_id"].astype(str), own_names, kinds, served_cells, landless_cells
    ):
        landless_ids = [i for i in landless.split(";") if i]
        other_ids = [i for i in served.split(";") if i and i not in set(landless_ids)]

        subject = _word("explain_site" if kind == "site" else "explain_community", lang)
        name = pick_id if _is_na(own_name) else str(own_name)
        itself = pick_id if kind != "site" else None
        landless_said, others_said = (
            _names_said(ids, names, itself, separator, lang) for ids in (landless_ids, other_ids)
        )
        if landless_ids and other_ids:
            key, values = "explain_serves_both", {"landless": landless_said, "others": others_said}
        elif landless_ids:
            key, values = "explain_serves_landless", {"landless": landless_said}
        elif other_ids:
            key, values = "explain_serves", {"others": others_said}
        else:  # nothing new within the walk radius: a community still gets a set of its own (the inside standard)
            key, values = ("explain_serves_none" if kind == "site" else "explain_community_only"), {}
        sentences.append(_word(key, lang, subject=subject, name=name, **values))
    return pd.Series(sentences, index=picks.index, dtype=object)


def plan_community_names(plan) -> dict[str, str]:
    """``community_id`` → name of every community a :class:`geo.plan.Plan` saw (its first programme's
    ``scored``), for :func:`pick_explanations`; empty for a plan without programmes."""
    if not plan.outcomes:
        return {}
    scored = plan.outcomes[0].scored
    return dict(zip(scored["community_id"].astype(str), scored["name"]))


def explained_plan_sheets(sheets: dict, plan, lang: str = "zh") -> dict:
    """:func:`geo.plan.plan_sheets` output with each sheet's ``pick_explanation`` (:func:`with_pick_explanations`)
    and, when the plan records its configuration, ``distance`` (:func:`with_distance`)."""
    names = plan_community_names(plan)
    explained = {name: with_pick_explanations(sheet, names, lang) for name, sheet in sheets.items()}
    if plan.config is None:
        return explained
    return {name: with_distance(sheet, plan.config.distance) for name, sheet in explained.items()}


def with_distance(sheet: pd.DataFrame, distance: str, before: str | None = None) -> pd.DataFrame:
    """``sheet`` (a plan export table, or any list with distances) with ``distance``, how its walk radius was
    measured, on every row.

    ``distance`` is ``"straight"`` or ``"network"`` (:data:`geo.config.DISTANCES`); the column stands just before
    the column ``before`` when given and present (a list's first distance in metres), else after ``mode`` (first
    without one), and keeps the code: the CSV, Excel and Shapefile exports say it in words
    (直线距离 / 步行距离（沿道路）), GeoJSON and GeoPackage keep the code. Every row has the same value, so a
    file read alone, or a row pasted elsewhere, still says which distance made it.
    """
    table = sheet.copy()
    columns = list(table.columns)
    if before is not None and before in columns:
        position = columns.index(before)
    else:
        position = columns.index("mode") + 1 if "mode" in columns else 0
    table.insert(position, "distance", pd.Series(distance, index=table.index, dtype=object))
    return table


def _names_said(ids: list[str], names: dict, itself: str | None, separator: str, lang: str) -> str:
    """The communities ``ids`` by name, joined; the pick's own community (``itself``) marked as such."""
    said = [names.get(i, i) for i in ids]
    return separator.join(_word("explain_itself", lang, name=n) if i == itself else n for i, n in zip(ids, said))


def with_pick_explanations(sheet: pd.DataFrame, community_names: dict, lang: str = "zh") -> pd.DataFrame:
    """``sheet`` (a plan export table) with ``pick_explanation`` (:func:`pick_explanations`) before its geometry."""
    table = sheet.copy()
    position = list(table.columns).index("geometry") if "geometry" in table.columns else len(table.columns)
    table.insert(position, "pick_explanation", pick_explanations(sheet, community_names, lang))
    return table


def _codes(frame: pd.DataFrame, column: str, default: str) -> list[str]:
    """The cells of ``column`` as text, a missing cell (or column) as ``default``."""
    if column not in frame.columns:
        return [default] * len(frame)
    return [default if _is_na(v) else str(v) for v in frame[column]]


def _with_lonlat(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without geometry columns; a GeoDataFrame's geometry becomes longitude/latitude."""
    geometry_columns = [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
    table = pd.DataFrame(frame.drop(columns=geometry_columns))
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        clash = [c for c in ("longitude", "latitude") if c in table.columns]
        if clash:
            raise data_error("export_lonlat_clash", columns=", ".join(clash))
        _check_crs(frame, "CSV/Excel longitude and latitude")
        points = shapely.point_on_surface(frame.geometry.to_numpy())
        table["longitude"] = np.round(shapely.get_x(points), _LONLAT_DECIMALS)
        table["latitude"] = np.round(shapely.get_y(points), _LONLAT_DECIMALS)
    return table


def _date_cells(values: pd.Series) -> pd.Series:
    """Dates when every time is midnight, else datetimes; a time zone's wall-clock time is kept."""
    if values.dt.tz is not None:
        values = values.dt.tz_localize(None)
    present = values.dropna()
    if (present == present.dt.normalize()).all():
        return values.dt.date.astype(object)
    return pd.Series(values.dt.to_pydatetime(), index=values.index, dtype=object)


def _cell(value, yes: str, no: str):
    """One non-missing cell of a text/object column: a number stays, the rest becomes text."""
    if isinstance(value, (bool, np.bool_)):
        return yes if value else no
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _plain_number(value)
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return _TABLE_LIST_SEPARATOR.join(str(_cell(item, yes, no)) for item in value if not _is_na(item))
    return str(value)


def _plain_number(value):
    """A Python int or float for a NumPy one, which the CSV and Excel writers render plainly."""
    return value.item() if isinstance(value, np.generic) else value


def _is_na(value) -> bool:
    missing = pd.isna(value)
    return bool(missing) if np.ndim(missing) == 0 else False


def _items(value) -> list[str]:
    """The items of a ``;``-joined text or of a list, without empty ones."""
    items = value if _is_listlike(value) else str(value).split(";")
    return [str(item).strip() for item in items if not _is_na(item) and str(item).strip()]


def _parameter_table(parameters: dict, lang: str) -> pd.DataFrame:
    """Labelled rows of ``parameters`` (:func:`parameter_rows`) under the headers 参数/值 (Parameter/Value)."""
    return _parameter_cells(parameters, lang)[0]


def _parameter_cells(parameters: dict, lang: str) -> tuple[pd.DataFrame, list[str | None]]:
    """:func:`_parameter_table` and the Excel number format of each row's value (None: General)."""
    rows = parameter_rows(parameters, lang)
    frame = pd.DataFrame(
        {
            "parameter": pd.Series([label for label, _, _ in rows], dtype=object),
            "value": pd.Series([value for _, value, _ in rows], dtype=object),
        }
    )
    table = _human_table(frame, lang)
    return table.set_axis([_word("parameter", lang), _word("value", lang)], axis=1), [f for _, _, f in rows]


def parameter_rows(parameters: dict, lang: str = "zh") -> list[tuple[str, object, str | None]]:
    """The parameters of a plan or a list as a clerk reads them: (label, value, Excel number format).

    Parameters
    ----------
    parameters : dict
        Nested dict of internal keys (:func:`geo.render.provenance.plan_parameters`, a page's filters),
        flattened to dotted keys (:func:`flattened`).
    lang : {"zh", "en"}
        Language of the labels and of the values said in words.

    Returns
    -------
    list of (str, object, str or None)
        One row per key, in order. The label is :func:`parameter_label` (the key itself when it has
        none: a key of the caller's own). The value: codes in words (the mode, the service standard,
        a stop reason, a status, an eligibility filter, reasons, the open-space rule), programme keys
        as names, lists joined with 、 (", "), booleans 是/否 (Yes/No), the data file by its name only
        (never a folder), nothing as "—", numbers as numbers rounded (money to the yuan, seconds to
        the millisecond). The number format shows money as ``5,000,000 元`` (``CNY 5,000,000``),
        lengths, areas and counts with a thousands separator, years plain, gaps as percentages.
    """
    if not isinstance(parameters, dict):
        raise ValueError(f"parameters must be a dict of name to value, got a {type(parameters).__name__}")
    check_lang(lang)
    pairs = [(key, value) for key, value in flattened(parameters)]
    names = _program_names(pairs, lang)
    rows = []
    for key, value in pairs:
        label = parameter_label(key, lang, names)
        if label is None:  # a key of the caller's own: its value as given
            rows.append((key, parameter_value("", value, lang, names)[0], None))
            continue
        shown, number_format = parameter_value(key, value, lang, names)
        rows.append((label, shown, number_format))
    return rows


def parameter_label(key: str, lang: str = "zh", program_names: dict | None = None) -> str | None:
    """The label of a dotted parameter key in ``lang``, or None when the catalogues have none.

    ``walk_radius_m`` → 步行服务半径（米）; ``priority_weights.population`` → 优先得分权重 · 人口分项;
    ``program.city.budget_cny`` → 市本级 · 预算（元） (``program_names``: key → name, else the key);
    ``program.city.district_min_sets.450226`` → 市本级 · 各区县最少套数 · 450226. Labels come from
    the ``[parameter]`` table of ``geo/i18n/*.toml``, then from ``[column]``.
    """
    head, _, rest = key.partition(".")
    if not rest:
        return _field_label(key, lang)
    if head == "priority_weights":
        component = column_label(f"c_{rest}", lang)
        return None if component == f"c_{rest}" else f"{_field_label(head, lang)} · {component}"
    if head == "program":
        program, _, field = rest.partition(".")
        field, _, district = field.partition(".")
        label = _field_label(field, lang) if field else None
        if label is None:
            return None
        name = (program_names or {}).get(program, program)
        return " · ".join(part for part in (name, label, district) if part)
    return None


def _field_label(key: str, lang: str) -> str | None:
    labels = catalogue_labels("parameter", lang)
    if key in labels:
        return labels[key]
    column = column_label(key, lang)
    return None if column == key else column


def _program_names(pairs: list[tuple[str, object]], lang: str) -> dict[str, str]:
    """Programme key -> name in ``lang``, from the ``program.<key>.name_zh``/``name_en`` parameters."""
    names = {}
    for key, value in pairs:
        head, _, rest = key.partition(".")
        program, _, field = rest.partition(".")
        if head == "program" and field == f"name_{lang}" and isinstance(value, str) and value:
            names[program] = value
    return names


_NOTHING = "—"
# Parameters whose codes are said in words: key -> (catalogue section, key prefix).
_PARAMETER_WORDS = {
    "mode": ("export", "mode_"),
    "service_standard": ("export", "standard_"),
    "coverage_distance": ("export", "distance_"),
    "stop_reason": ("export", "stop_reason_"),
    "unknown_open_space": ("text", "open_space_rule_"),
    "filter": ("text", "filter_"),
}
_GIS_CRS_WORDS = {"EPSG:4326": "gis_crs_wgs84", "EPSG:4490": "gis_crs_cgcs2000"}
_PERCENT_KEYS = ("optimality_gap", "optimal_mip_rel_gap")
_SECONDS_KEYS = ("solve_seconds",)


def parameter_value(key: str, value, lang: str, program_names: dict) -> tuple[object, str | None]:
    """``value`` of parameter ``key`` as a clerk reads it, and its Excel number format.

    Codes are said in words (:data:`_PARAMETER_WORDS`, statuses, programme keys, reasons); the
    public notice's appendix takes its words from here too (:mod:`geo.render.notice`).
    """
    last = key.rpartition(".")[2]
    separator = _word("list_separator", lang)
    if value is None or (isinstance(value, (str, dict, list, tuple)) and not value) or _is_na(value):
        return _NOTHING, None
    if isinstance(value, (bool, np.bool_)):
        return bool(value), None
    if last in _PARAMETER_WORDS and isinstance(value, str):
        section, prefix = _PARAMETER_WORDS[last]
        return catalogue_labels(section, lang).get(f"{prefix}{value}", value), None
    if last == "status" and isinstance(value, str):
        status_key = "status_" + "_".join("".join(c if c.isalnum() else " " for c in value).split())
        return catalogue_labels("notice", lang).get(status_key, value), None
    if key == "programs_run" and isinstance(value, str):
        return separator.join(program_names.get(k, k) for k in _items(value.replace(",", ";"))) or _NOTHING, None
    if key == "reasons" and isinstance(value, str):
        return separator.join(reason_label(code, lang) for code in _items(value.replace(",", ";"))) or _NOTHING, None
    if key == "district" and value == "all":
        return _word("all_districts", lang), None
    if key == "data_file":
        return _file_name(str(value)), None
    if key == "output_crs" and value in _GIS_CRS_WORDS:
        return catalogue_labels("text", lang)[_GIS_CRS_WORDS[value]], None
    if _is_listlike(value):
        return separator.join(str(_plain_number(item)) for item in value if not _is_na(item)) or _NOTHING, None
    if isinstance(value, (int, float, np.integer, np.floating)):
        if key.startswith("priority_weights."):  # a weight is a plain number, not a population
            return _plain_number(value), None
        return _parameter_number(last, _plain_number(value), lang)
    return str(value), None


def _parameter_number(last: str, number, lang: str) -> tuple[object, str | None]:
    """A numeric parameter rounded as people read it, with its number format."""
    if isinstance(number, float) and not np.isfinite(number):
        return _NOTHING, None
    if last in _PERCENT_KEYS:
        return number, "0.0000%"
    if last in _SECONDS_KEYS:
        return round(float(number), 3), "0.000"
    if last.endswith("_cny"):
        return int(round(number)), _word("money_format", lang)
    style = number_style(last)
    whole = isinstance(number, int) or float(number).is_integer()
    if style is None and last.endswith(("_s", "_sets")):
        style = _WHOLE if whole else None
    if style is None:
        return (int(number) if whole else number), None
    decimals, number_format = style
    return (int(round(number)) if decimals == 0 else round(float(number), decimals)), number_format


def _file_name(path: str) -> str:
    """The last part of a path, whether written with / or \\: a file's name, never its folder."""
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1]


def flattened(mapping: dict, prefix: str = "") -> list[tuple[str, object]]:
    """``(dotted key, value)`` pairs of a nested dict of parameters; an empty dict stays a value."""
    rows = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(flattened(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


def _sheet_names(names: list[str], reserved: list[str]) -> list[str]:
    """Excel-valid, case-insensitively unique sheet names, none equal to a ``reserved`` one.

    A name longer than Excel's 31 characters is shortened to whole words (CJK characters are words)
    and ends with "…"; a clash gets " (2)", " (3)" …, the name shortened the same way to make room.
    """
    taken = {name.casefold() for name in reserved}
    result = []
    for raw in names:
        text = _SHEET_NAME_BREAKS.sub(" ", normalised_text(raw))
        text = _SHEET_NAME_FORBIDDEN.sub("_", text).strip().strip("'").strip() or "Sheet"
        name, n = _shortened(text, _SHEET_NAME_MAX), 1
        while name.casefold() in taken or name.casefold() in _RESERVED_SHEET_NAMES:
            n += 1
            suffix = f" ({n})"
            name = _shortened(text, _SHEET_NAME_MAX - len(suffix)) + suffix
        taken.add(name.casefold())
        result.append(name)
    return result


_ELLIPSIS = "…"
_WORD_END = re.compile(r"[\s_\-·,;，、（(【\[]")  # a break, or an opening bracket a name is cut before


def _shortened(text: str, limit: int) -> str:
    """``text`` itself if it has at most ``limit`` characters, else its first whole words and "…".

    A text without word breaks within the second half of the limit (one long word, or CJK text,
    whose characters are words) is cut at the limit instead.
    """
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    breaks = [m.start() for m in _WORD_END.finditer(text[:limit])]
    if breaks and breaks[-1] >= limit // 2:
        head = text[: breaks[-1]]
    return head.rstrip(" '_-·,;，、") + _ELLIPSIS


def _write_sheet(sheet, table: pd.DataFrame, autofilter: bool, formats: dict | None = None) -> None:
    """Fill ``sheet`` with a bold, frozen header row, the cells, column widths and an autofilter.

    ``formats``: column position -> the Excel number format of its numeric cells, one for the whole
    column (str) or one per row (list); None or missing keeps Excel's General format.
    """
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    append_xlsx_row(sheet, [str(label) for label in table.columns])
    for row in table.itertuples(index=False, name=None):
        append_xlsx_row(sheet, row)
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    for position, number_format in (formats or {}).items():
        per_row = number_format if isinstance(number_format, list) else [number_format] * len(table)
        for row, cell_format in enumerate(per_row, start=2):
            cell = sheet.cell(row=row, column=position + 1)
            if cell_format and cell.data_type == "n" and cell.value is not None:
                cell.number_format = cell_format
    sheet.freeze_panes = "A2"
    last_column = get_column_letter(max(len(table.columns), 1))
    if autofilter:
        sheet.auto_filter.ref = f"A1:{last_column}{len(table) + 1}"
    for index, width in enumerate(_column_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _column_widths(table: pd.DataFrame) -> list[float]:
    """Width of each column in characters: its widest line, header included, between the bounds."""
    widths = []
    for position, header in enumerate(table.columns):
        values = table.iloc[:, position]
        is_number = values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).astype(bool)
        shown = values.map(lambda v: f"{v:,}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
        cell_widths = _display_widths(shown.where(values.notna(), ""))
        cell_widths = cell_widths.where(~is_number, cell_widths.clip(upper=_NUMBER_WIDTH_MAX))
        longest = max([int(_display_widths(pd.Series([str(header)])).iloc[0])] + cell_widths.tolist())
        widths.append(float(min(max(longest + 2, _COLUMN_WIDTH_MIN), _COLUMN_WIDTH_MAX)))
    return widths


def _display_widths(text: pd.Series) -> pd.Series:
    """Display width of the widest line of each text, CJK and other wide characters counted double."""
    lines = text.reset_index(drop=True).astype(str).str.split(r"\r\n|\r|\n", regex=True).explode()
    widths = lines.str.len() + lines.str.count(_WIDE_CHARACTERS)
    return widths.groupby(level=0).max().astype(int)


# --------------------------------------------------------------------------- machine-readable files


def _stacked(sheets: dict) -> pd.DataFrame:
    """Rows of all sheets in dict order on a fresh index; a sheet without ``program`` gets its name."""
    if not sheets:
        raise ValueError("no sheets to write; pass a dict of sheet name to DataFrame")
    frames = []
    for name, frame in sheets.items():
        if "program" not in frame.columns:
            frame = frame.copy()
            frame.insert(0, "program", pd.Series(str(name), index=frame.index, dtype="string"))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _check_crs(frame: gpd.GeoDataFrame, what: str) -> None:
    require_storage_crs(frame, what)


def _machine_frame(frame, format_name: str) -> gpd.GeoDataFrame:
    """A copy ready for GDAL: fresh index, ``geometry`` column, list and object columns typed."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise ValueError(
            f"{format_name} needs a GeoDataFrame with a geometry, got a {type(frame).__name__} without one; "
            "export a plain table to .csv or .xlsx instead"
        )
    _check_crs(frame, f"{format_name} geometries")
    frame = frame.reset_index(drop=True)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    other_geometries = [
        c for c in frame.columns if c != "geometry" and isinstance(frame[c].dtype, gpd.array.GeometryDtype)
    ]
    frame = frame.drop(columns=other_geometries)
    frame = frame[[c for c in frame.columns if c != "geometry"] + ["geometry"]]
    for column in frame.columns.drop("geometry"):
        frame[column] = _machine_column(frame[column])
    return frame


def _machine_column(values: pd.Series) -> pd.Series:
    """``values`` in a dtype GDAL writes and :func:`_read_typed` restores."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return values.astype("boolean")
    if pd.api.types.is_integer_dtype(dtype):
        return values.astype("Int64")
    if pd.api.types.is_float_dtype(dtype):
        return values.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return values
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return values.astype("string")
    objects = values.astype(object)
    present = objects[~objects.map(_is_na).astype(bool)]
    if present.map(_is_listlike).any():
        joined = objects.map(lambda v: _joined(v) if _is_listlike(v) else v, na_action="ignore")
        return joined.astype("string")
    kind = pd.api.types.infer_dtype(present, skipna=True)
    if kind == "boolean":
        return objects.where(objects.notna(), None).astype("boolean")
    if kind == "integer":
        return objects.where(objects.notna(), None).astype("Int64")
    if kind in ("floating", "mixed-integer-float"):
        return pd.to_numeric(objects).astype("float64")
    return objects.map(str, na_action="ignore").astype("string")


def _is_listlike(value) -> bool:
    return isinstance(value, (list, tuple, set, frozenset, np.ndarray))


def _joined(items) -> str:
    return _FILE_LIST_SEPARATOR.join(str(item) for item in items if not _is_na(item))


# OGR field type → pandas dtype on reading; booleans are integers of subtype OFSTBoolean.
_OGR_DTYPES = {"OFTString": "string", "OFTInteger": "Int64", "OFTInteger64": "Int64", "OFTReal": "float64"}


def _read_typed(path, layer: str | None) -> gpd.GeoDataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; check the path")
    # GeoJSON has no date type: without DATE_AS_STRING, GDAL would turn date-like text into dates.
    options = {"DATE_AS_STRING": "YES"} if layer is None else {}
    info = pyogrio.read_info(path, layer=layer, **options)
    frame = pyogrio.read_dataframe(path, layer=layer, **options)
    for name, ogr_type, subtype in zip(info["fields"], info["ogr_types"], info["ogr_subtypes"]):
        dtype = "boolean" if subtype == "OFSTBoolean" else _OGR_DTYPES.get(ogr_type)
        if dtype is not None:
            frame[name] = frame[name].astype(dtype)
    return frame


# --------------------------------------------------------------------------- zipped Shapefile

_SHAPEFILE_NAME_BYTES = 10  # a dBASE field name
_SHAPEFILE_TEXT_BYTES = 254  # a dBASE character field
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_GDAL_ENCODINGS = {"utf-8": "UTF-8", "gbk": "CP936"}
# What the .cpg says, and the language driver ID in byte 29 of the .dbf header: ArcGIS reads the
# LDID first, GDAL and QGIS the .cpg. 0x4D is code page 936 (GBK); 0 leaves it to the .cpg.
_CODE_PAGES = {"utf-8": ("UTF-8", 0x00), "gbk": ("936", 0x4D)}
_DBF_LDID_OFFSET = 29
_MEMBER_STEM_MAX = 64
_MEMBER_STEM_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_WINDOWS_DEVICES = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)", re.IGNORECASE)
_NOT_WORD = re.compile(r"\W+")
_UNDERSCORES = re.compile(r"_{2,}")
# A Shapefile holds one kind of shape: shapely's type ids by kind, and the type written for each.
_SHAPE_KINDS = {0: "point", 4: "point", 1: "line", 2: "line", 5: "line", 3: "polygon", 6: "polygon"}
_SHAPE_TYPES = {"line": "MultiLineString", "polygon": "MultiPolygon"}
_NUMBER_RTOL = 1e-13  # a .dbf number keeps 15 significant digits
# No-break spaces (common in text pasted from web pages) that GBK lacks: written as plain spaces.
_GBK_SPACES = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u202f": " "})


def to_shapefile_zip(
    frame: gpd.GeoDataFrame,
    path,
    lang: str = "zh",
    crs: str = STORAGE_CRS,
    encoding: str = "utf-8",
    parameters: dict | None = None,
    layer: str = "plan",
) -> Path:
    """Write a GeoDataFrame as a zipped Shapefile for GIS software (ArcGIS, SuperMap, QGIS).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        CRS EPSG:4326; geometries of one kind (points, lines or polygons, single or multi) or
        missing.
    path : str or os.PathLike
        ``.zip`` file to create or replace; its folder must exist.
    lang : {"zh", "en"}
        Language of the headers and yes/no words, as in :func:`to_csv`.
    crs : {"EPSG:4326", "EPSG:4490"}
        Coordinate system written (WGS84 or CGCS2000 geographic; pyproj's transformation), named
        by the ``.prj``.
    encoding : {"utf-8", "gbk"}
        Encoding of the ``.dbf``'s text and field names. GBK is for older software that reads
        only the Chinese Windows code page.
    parameters : dict, optional
        Plan parameters, written with the coordinate system and encoding (``output_crs``,
        ``encoding``) to the ``<stem>_parameters.csv`` member, as the ``.xlsx`` parameters sheet.
    layer : str
        Name of the members when the file's own name cannot be used (see Notes).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    geo.errors.DataError
        If the geometries are of several kinds (export ``.gpkg``); if a text holds a character
        GBK cannot hold (``encoding="gbk"``: export UTF-8 or change the text; nothing is
        replaced silently); if a text is longer than the 254 bytes a ``.dbf`` field holds in the
        encoding (export ``.gpkg``; nothing is cut); or if ``crs``/``encoding`` is unknown.
    ValueError
        If ``frame`` is not a GeoDataFrame in EPSG:4326.

    Notes
    -----
    - Members: ``<stem>.shp``, ``.shx``, ``.dbf``, ``.prj``, ``.cpg`` (``UTF-8``, or ``936`` for
      GBK, whose ``.dbf`` header also carries language driver ID 0x4D), ``<stem>_fields.csv``
      (short field name → full header, UTF-8 with BOM) and ``<stem>_parameters.csv``. The stem
      is the file's own stem reduced to ASCII letters, digits, ``_`` and ``-`` (at most 64);
      when nothing is left, or a Windows device name (``CON`` …), it is ``layer``. No text of
      the table ever becomes a member name.
    - Attributes are the cells of :func:`to_csv` (translated headers, 是/否, lists joined,
      formulas defused), without the longitude/latitude columns: the geometry is the shape
      itself, in 2D; an empty geometry is written as missing. A column whose cells are all
      whole numbers is an integer field, all numbers a real field (15 significant digits), else
      a text field; empty text and missing values are both written as missing, and trailing
      spaces (which a ``.dbf`` pads with) are dropped. In GBK, no-break spaces (U+00A0, U+2007,
      U+202F, which GBK lacks) are written as plain spaces; any other character GBK lacks is
      refused, never replaced.
    - Field names (:func:`shapefile_field_names`): at most 10 bytes in the encoding, letters,
      digits and ``_``, unique; the full header is in ``<stem>_fields.csv``.
    - The zip is read back with pyogrio in the encoding before it replaces ``path``: rows, field
      names, values, geometries and coordinate system must be what was meant to be written.
    """
    check_lang(lang)
    path = Path(path)
    crs, encoding = check_export_options(path.with_suffix(".zip"), crs, encoding)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise ValueError(
            f"a Shapefile needs a GeoDataFrame with a geometry, got a {type(frame).__name__} without one; "
            "export a plain table to .csv or .xlsx instead"
        )
    _check_crs(frame, "Shapefile geometries")
    attributes, headers = _shapefile_attributes(frame, lang, encoding)
    names = shapefile_field_names(headers, encoding)
    geometry = _shapefile_geometry(frame, crs)
    shape_type = _shape_type(geometry)
    written = gpd.GeoDataFrame(attributes.set_axis(names, axis=1), geometry=geometry, crs=crs)
    fields = pd.DataFrame({_word("field_name", lang): names, _word("field_header", lang): headers}, dtype=object)
    recorded = {**(parameters or {}), "output_crs": crs, "encoding": encoding.upper()}
    stem = shapefile_stem(path, layer)
    with atomic_write(path) as staged:
        shapefile = staged.parent / f"{stem}.shp"
        pyogrio.write_dataframe(
            written,
            shapefile,
            layer=stem,
            driver="ESRI Shapefile",
            encoding=_GDAL_ENCODINGS[encoding],
            geometry_type=shape_type,
        )
        _mark_code_page(shapefile, encoding)
        with zipfile.ZipFile(staged, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for suffix in _SHAPEFILE_PARTS:
                archive.write(shapefile.with_suffix(suffix), f"{stem}{suffix}")
            archive.writestr(f"{stem}_fields.csv", csv_bytes(fields))
            archive.writestr(f"{stem}_parameters.csv", csv_bytes(_parameter_table(recorded, lang)))
        _check_read_back(read_shapefile_zip(staged, encoding, full_headers=False), written)
    return path


def read_shapefile_zip(path, encoding: str = "utf-8", full_headers: bool = True) -> gpd.GeoDataFrame:
    """Read the Shapefile of a zip written by :func:`to_shapefile_zip`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.zip`` file.
    encoding : {"utf-8", "gbk"}
        Encoding of its ``.dbf`` (given to pyogrio, whatever the ``.cpg`` says).
    full_headers : bool
        Rename the short field names to the full headers of the ``<stem>_fields.csv`` member.

    Returns
    -------
    geopandas.GeoDataFrame
        In the coordinate system of the ``.prj``; text as object, numbers as float64 (missing as
        NaN), as pyogrio reads them.
    """
    path = Path(path)
    _, encoding = check_export_options(path.with_suffix(".zip"), STORAGE_CRS, encoding)
    with zipfile.ZipFile(path) as archive:
        member = next(name for name in archive.namelist() if name.lower().endswith(".shp"))
        fields = None
        if full_headers:
            with archive.open(f"{member[:-4]}_fields.csv") as handle:
                fields = pd.read_csv(handle, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    # Braces keep GDAL from splitting the path at a ".zip" earlier in it.
    frame = pyogrio.read_dataframe(
        f"/vsizip/{{{path.resolve().as_posix()}}}/{member}", encoding=_GDAL_ENCODINGS[encoding]
    )
    if fields is not None:
        frame = frame.rename(columns=dict(zip(fields.iloc[:, 0], fields.iloc[:, 1])))
    return frame


def shapefile_field_names(headers: list[str], encoding: str = "utf-8") -> list[str]:
    """dBASE field names for ``headers``: at most 10 bytes in ``encoding``, unique ignoring case.

    Parameters
    ----------
    headers : list of str
        Column headers, in order (e.g. ``"优先级得分"``).
    encoding : {"utf-8", "gbk"}
        The ``.dbf``'s encoding: a Chinese character takes 3 bytes in UTF-8, 2 in GBK.

    Returns
    -------
    list of str
        One name per header: every run of characters that are not letters, digits or ``_``
        (or that ``encoding`` cannot hold) becomes one ``_``, leading and trailing ``_`` go, a
        name that does not start with a letter gets an ``F`` in front (ArcGIS wants a letter
        first), then the name is cut to whole characters within 10 bytes (and of a trailing
        ``_``). A name already taken
        (ignoring case) is cut shorter and numbered: ``_2``, ``_3`` …
        ``["社区名称", "社区名字"]`` → ``["社区名", "社区_2"]`` in UTF-8, ``["社区名称", "社区名字"]``
        in GBK.
    """
    taken: set[str] = set()
    names = []
    for header in headers:
        held = "".join(c if _encoded_size(c, encoding) else "_" for c in str(header))
        base = _UNDERSCORES.sub("_", _NOT_WORD.sub("_", held)).strip("_")
        base = base if base[:1].isalpha() else f"F{base}"
        name, n = _cut_to_bytes(base, _SHAPEFILE_NAME_BYTES, encoding).rstrip("_"), 1
        while name.casefold() in taken:
            n += 1
            suffix = f"_{n}"
            name = _cut_to_bytes(base, _SHAPEFILE_NAME_BYTES - len(suffix), encoding).rstrip("_") + suffix
        taken.add(name.casefold())
        names.append(name)
    return names


def shapefile_stem(path, fallback: str = "plan") -> str:
    """The name a zip's members share: ``path``'s stem in ASCII letters, digits, ``_`` and ``-``.

    At most 64 characters; ``fallback`` when nothing is left or the stem is a Windows device name.
    """
    stem = _MEMBER_STEM_UNSAFE.sub("_", Path(path).stem).strip("_-")[:_MEMBER_STEM_MAX].strip("_-")
    return fallback if not stem or _WINDOWS_DEVICES.fullmatch(stem) else stem


def _encoded_size(text: str, encoding: str) -> int:
    """Bytes of ``text`` in ``encoding``; 0 when it cannot be encoded."""
    try:
        return len(text.encode(encoding))
    except UnicodeEncodeError:
        return 0


def _cut_to_bytes(text: str, limit: int, encoding: str) -> str:
    """The longest start of ``text`` that takes at most ``limit`` bytes in ``encoding`` (whole characters)."""
    sizes = np.cumsum([len(c.encode(encoding)) for c in text])
    return text[: int(np.searchsorted(sizes, limit, side="right"))]


def _shapefile_attributes(frame: gpd.GeoDataFrame, lang: str, encoding: str) -> tuple[pd.DataFrame, list[str]]:
    """The cells of :func:`to_csv` without longitude/latitude, typed for a ``.dbf`` and checked; their headers."""
    geometry_columns = [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
    cells = _human_table(pd.DataFrame(frame.drop(columns=geometry_columns)), lang)
    headers = [str(header) for header in cells.columns]
    if not headers:
        return pd.DataFrame(index=pd.RangeIndex(len(frame))), headers
    columns = [_shapefile_column(cells.iloc[:, position]) for position in range(cells.shape[1])]
    if encoding == "gbk":
        columns = [_with_plain_spaces(column) for column in columns]
    attributes = pd.concat(columns, axis=1, ignore_index=True)
    _check_shapefile_text(attributes, headers, encoding)
    return attributes, headers


def _shapefile_column(cells: pd.Series) -> pd.Series:
    """One column of :func:`_human_table` typed for a ``.dbf``: Int64, float64 or string."""
    present = cells.dropna()
    is_number = present.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).astype(bool)
    if len(present) and is_number.all():
        if present.map(lambda v: isinstance(v, int)).all():
            return cells.astype("Int64")
        return pd.to_numeric(cells).astype("float64")
    text = cells.map(str, na_action="ignore").astype("string").str.rstrip(" ")
    return text.mask(text == "")


def _with_plain_spaces(column: pd.Series) -> pd.Series:
    """A text column with no-break spaces as plain spaces (trailing ones dropped); others unchanged."""
    if not pd.api.types.is_string_dtype(column.dtype):
        return column
    text = column.str.translate(_GBK_SPACES).str.rstrip(" ")
    return text.mask(text == "")


def _check_shapefile_text(attributes: pd.DataFrame, headers: list[str], encoding: str) -> None:
    """Refuse a text that ``encoding`` cannot hold, or longer than a ``.dbf`` field, naming where it is."""
    for position, header in enumerate(headers):
        column = attributes.iloc[:, position]
        if not pd.api.types.is_string_dtype(column.dtype):
            continue
        present = column.dropna()
        sizes = present.map(lambda text: _encoded_size(text, encoding)).astype(int)
        unfit = sizes[sizes == 0]
        if len(unfit):
            row, text = unfit.index[0], present[unfit.index[0]]
            character = next(c for c in text if not _encoded_size(c, encoding))
            raise data_error(
                "shp_encoding_unfit",
                column=header,
                row=row + 1,
                character=f"{character!r} (U+{ord(character):04X})",
                encoding=encoding.upper(),
            )
        too_long = sizes[sizes > _SHAPEFILE_TEXT_BYTES]
        if len(too_long):
            raise data_error(
                "shp_text_too_long",
                column=header,
                row=too_long.index[0] + 1,
                size=int(too_long.iloc[0]),
                limit=_SHAPEFILE_TEXT_BYTES,
                encoding=encoding.upper(),
            )


def _shapefile_geometry(frame: gpd.GeoDataFrame, crs: str) -> gpd.GeoSeries:
    """``frame``'s geometry in 2D on a fresh index, empty ones missing, in ``crs``."""
    values = shapely.force_2d(frame.geometry.to_numpy())
    values[shapely.is_empty(values)] = None
    geometry = gpd.GeoSeries(values, crs=STORAGE_CRS)
    return geometry if crs == STORAGE_CRS else geometry.to_crs(crs)


def _shape_type(geometry: gpd.GeoSeries) -> str:
    """The Shapefile geometry type for ``geometry``; DataError when it holds several kinds of shape."""
    present = geometry.dropna().to_numpy()
    type_ids = set(shapely.get_type_id(present).tolist())
    kinds = {_SHAPE_KINDS.get(type_id, "other") for type_id in type_ids}
    if len(kinds) > 1 or "other" in kinds:
        found = sorted(set(shapely.get_type_id(present).tolist()))
        names = sorted({shapely.GeometryType(type_id).name.title().replace("string", "String") for type_id in found})
        raise data_error("shp_mixed_geometry", kinds=", ".join(names))
    if not kinds or kinds == {"point"}:
        return "MultiPoint" if 4 in type_ids else "Point"
    return _SHAPE_TYPES[kinds.pop()]


def _mark_code_page(shapefile: Path, encoding: str) -> None:
    """Write the ``.cpg`` and the ``.dbf`` header's language driver ID for ``encoding``."""
    cpg, ldid = _CODE_PAGES[encoding]
    shapefile.with_suffix(".cpg").write_bytes(cpg.encode("ascii"))
    with open(shapefile.with_suffix(".dbf"), "r+b") as dbf:
        dbf.seek(_DBF_LDID_OFFSET)
        dbf.write(bytes([ldid]))


def _check_read_back(read: gpd.GeoDataFrame, written: gpd.GeoDataFrame) -> None:
    """Raise ValueError (a bug, not the user's) where the Shapefile read back differs from ``written``."""
    problems = []
    if list(read.columns.drop("geometry")) != list(written.columns.drop("geometry")):
        problems.append(f"fields {list(read.columns)} instead of {list(written.columns)}")
    elif len(read) != len(written):
        problems.append(f"{len(read)} rows instead of {len(written)}")
    else:
        for name in written.columns.drop("geometry"):
            if not _same_values(read[name], written[name]):
                problems.append(f"values of field {name!r}")
        if not _same_shapes(read.geometry.to_numpy(), written.geometry.to_numpy()):
            problems.append("geometries")
        if read.crs is None or read.crs.to_epsg() != written.crs.to_epsg():
            problems.append(f"coordinate system {read.crs} instead of {written.crs}")
    if problems:
        raise ValueError(f"the Shapefile read back differs from what was written: {'; '.join(problems)} (a bug)")


def _same_values(read: pd.Series, written: pd.Series) -> bool:
    read = read.reset_index(drop=True)
    missing = written.isna().to_numpy()
    if not np.array_equal(read.isna().to_numpy(), missing):
        return False
    if pd.api.types.is_numeric_dtype(written.dtype):
        expected = written.to_numpy(dtype="float64", na_value=np.nan)[~missing]
        got = read.to_numpy(dtype="float64")[~missing]
        return bool(np.allclose(got, expected, rtol=_NUMBER_RTOL, atol=0.0))
    return bool((read[~missing].astype(str).to_numpy() == written[~missing].astype(str).to_numpy()).all())


def _same_shapes(read: np.ndarray, written: np.ndarray) -> bool:
    """Same missing rows, and each shape with the same coordinates (a ring may be reversed or restarted)."""
    if not np.array_equal(shapely.is_missing(read), shapely.is_missing(written)):
        return False

    def points(values):
        coordinates, index = shapely.get_coordinates(values, return_index=True)
        frame = pd.DataFrame({"row": index, "x": coordinates[:, 0], "y": coordinates[:, 1]})
        return frame.sort_values(["row", "x", "y"]).drop_duplicates().to_numpy()

    return bool(np.array_equal(points(read), points(written)))
