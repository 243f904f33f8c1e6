"""Lenient table readers: CSV (UTF-8 or GBK) and XLSX workbooks read as text cells, with point or WKT geometry."""

from __future__ import annotations

import datetime
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.data.archives import _streamed_workbook
from geo.data.formats import _one_line, _text_encoding
from geo.data.headers import (
    MAX_COLUMNS,
    _as_text,
    _check_columns,
    _distinct_headers,
    _header_key,
    _header_lookup,
    _raise_first_problem,
    _to_float,
)
from geo.errors import DataError, Message, data_error

# CSV headers for point coordinates, in order of preference (compared casefolded): any
# longitude name pairs with any latitude name; x pairs only with y.
_LON_NAMES = ("longitude", "lon", "lng", "经度")
_LAT_NAMES = ("latitude", "lat", "纬度")
_XY_NAMES = ("x", "y")
_WKT_COLUMNS = ("geometry", "wkt")
_CSV_CHUNK_ROWS = 50_000
# Cells a CSV row may have beyond its header and still be read, to be found empty (a trailing comma)
# or refused naming the row. Without them pandas takes a first row one cell wider than the header
# as the index and shifts every cell of every row one column left (names read as districts).
_CSV_EXTRA_CELLS = 8

# Sheets of the survey template (``geo/intake/template.py``), tried first; then any visible sheet whose
# header row (one of the first _HEADER_SCAN_ROWS) has at least _MIN_RECOGNISED_HEADERS known
# columns (the template's hidden drop-down lists sheet is not data).
_TEMPLATE_SHEETS = {
    "communities": ("小区调查", "Community survey"),
    "fitness_paths": ("健身路径调查", "Fitness path survey", "健身路径"),
    "districts": (),
    "public_sites": ("公共场地", "Public sites"),
}
_HEADER_SCAN_ROWS = 10
# Headers a message suggests (the survey template's): the user's words in a file, in any page language.
EXAMPLE_HEADERS = "小区编号, 名称, 区县, 人口, 经度, 纬度"
_MIN_RECOGNISED_HEADERS = 2


def _csv_encoding(path: Path, label: str) -> str:
    """Encoding of a CSV: UTF-8 (with or without BOM), else GBK (as its superset GB18030).

    The file is decoded in chunks and the text thrown away, so checking it takes no memory.
    """
    with open(path, "rb") as handle:
        encoding = _text_encoding(handle, ("utf-8-sig", "gb18030"))
    if encoding is None:
        raise data_error("file_not_text", label=label)
    return encoding


def _decoded_text(raw: bytes, label: str) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), else GBK (as its superset GB18030)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise data_error("file_not_text", label=label)


def _csv_table(
    path: Path, label: str, keep_blank_lines: bool = False, max_rows: int | None = None, notes: list | None = None
) -> pd.DataFrame:
    """The cells of a CSV as text (UTF-8 with or without BOM, else GBK), under stripped, distinct headers.

    With ``keep_blank_lines`` a blank line is a row of missing cells, so that row ``i`` of the
    table is record ``i + 2`` of the file (the header being record 1), as a spreadsheet numbers it.
    The file is parsed in chunks of ``_CSV_CHUNK_ROWS`` records; with ``max_rows`` reading stops,
    with ValueError, as soon as more than ``max_rows`` non-blank rows have been read.

    Headers are stripped and made distinct (:func:`_distinct_headers`): a header given twice, or
    twice once spaces are trimmed, is read the second time as ``name.1``, with a note appended
    to ``notes``. Empty cells beyond the header (a trailing comma) are ignored; a row with a
    value beyond the header is refused, naming the row, instead of being shifted.
    """
    encoding = _csv_encoding(path, label)
    notes = [] if notes is None else notes
    # Every cell as text so codes keep their leading zeros; only an empty cell is missing.
    chunks, data_rows = [], 0
    try:
        first = pd.read_csv(
            path,
            encoding=encoding,
            dtype=str,
            header=None,
            nrows=1,
            keep_default_na=False,
            skip_blank_lines=not keep_blank_lines,
        )
        given = ["" if pd.isna(value) else str(value) for value in first.iloc[0]] if len(first) else []
        # A row can have no more cells than the names it is read with (the parser refuses it), so
        # the header's width (and the few extra cells allowed) bounds every row's.
        _check_columns(len(given), label)
        names = _distinct_headers(
            [header.strip() or f"Unnamed: {j}" for j, header in enumerate(given)], given, label, notes
        )
        spare = _spare_names(names, _CSV_EXTRA_CELLS)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # The header is read as the first record (header=0 would refuse more names than headers).
            with pd.read_csv(
                path,
                encoding=encoding,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=not keep_blank_lines,
                chunksize=_CSV_CHUNK_ROWS,
                header=None,
                names=names + spare,
                index_col=False,
            ) as reader:
                for number, chunk in enumerate(reader):
                    if number == 0:
                        chunk = chunk.iloc[1:]
                    if any(issubclass(warning.category, pd.errors.ParserWarning) for warning in caught):
                        raise data_error("csv_too_wide", label=label, cells=len(names) + len(spare), headers=len(names))
                    data_rows += int(chunk.notna().any(axis=1).sum())
                    if max_rows is not None and data_rows > max_rows:
                        raise DataError(
                            _too_many_rows(
                                label, Message("found_more_data_rows", count=max_rows), max_rows, "before_validation"
                            )
                        )
                    chunks.append(chunk)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise data_error("csv_unreadable", label=label, detail=_one_line(error)) from None
    table = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    beyond = np.flatnonzero(table[spare].notna().any(axis=1).to_numpy())
    if beyond.size:
        if keep_blank_lines:
            raise data_error("csv_row_too_wide", label=label, row=beyond[0] + 2, headers=len(names))
        raise data_error("csv_data_row_too_wide", label=label, row=beyond[0] + 1, headers=len(names))
    return table.drop(columns=spare)


def _spare_names(names: list[str], count: int) -> list[str]:
    """``count`` column names ``Unnamed: n`` (n from ``len(names)``) that ``names`` does not hold."""
    taken, spare, number = set(names), [], len(names)
    while len(spare) < count:
        if f"Unnamed: {number}" not in taken:
            spare.append(f"Unnamed: {number}")
        number += 1
    return spare


def _read_csv(path: Path, label: str) -> gpd.GeoDataFrame:
    """Read a CSV as text columns with a geometry from lon/lat or WKT columns, CRS unset."""
    table = _csv_table(path, label)
    folded = {}
    for column in table.columns:
        folded.setdefault(column.casefold(), column)

    wkt_column = next((folded[name] for name in _WKT_COLUMNS if name in folded), None)
    if wkt_column is not None:
        geometry = _geometry_from_wkt(table[wkt_column], wkt_column, label)
        return gpd.GeoDataFrame(table.drop(columns=[wkt_column]), geometry=geometry)

    lon_column = next((folded[name] for name in _LON_NAMES if name in folded), None)
    lat_column = next((folded[name] for name in _LAT_NAMES if name in folded), None)
    if lon_column is None or lat_column is None:
        lon_column, lat_column = (folded.get(name) for name in _XY_NAMES)
    if lon_column is not None and lat_column is not None:
        geometry = _points_from_lonlat(table[lon_column], table[lat_column], lon_column, lat_column, label)
        return gpd.GeoDataFrame(table.drop(columns=[lon_column, lat_column]), geometry=geometry)

    raise data_error("csv_no_geometry", label=label, columns=", ".join(table.columns))


def _parse_wkt(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Shapely geometries from WKT text (None for a missing cell) and a mask of unreadable cells."""
    text = values.astype(object).where(values.notna(), None).to_numpy()
    text = np.array([t.strip() or None if isinstance(t, str) else t for t in text], dtype=object)
    geometry = shapely.from_wkt(text, on_invalid="ignore")
    return geometry, np.asarray(pd.isna(geometry) & pd.notna(text), dtype=bool)


def _geometry_from_wkt(values: pd.Series, column: str, label: str) -> np.ndarray:
    """Parse WKT text to shapely geometries; a missing cell gives None."""
    geometry, bad = _parse_wkt(values)
    _raise_first_problem({column: (bad, values, "wkt")}, label)
    return geometry


def _parse_points(lon_values, lat_values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points from text or numbers; None where either is missing or unreadable, and the two bad masks."""
    lon, lon_bad = _to_float(lon_values)
    lat, lat_bad = _to_float(lat_values)
    geometry = shapely.points(np.column_stack([lon.to_numpy(), lat.to_numpy()]))
    geometry[lon.isna().to_numpy() | lat.isna().to_numpy()] = None
    return geometry, lon_bad, lat_bad


def _points_from_lonlat(lon_values, lat_values, lon_column, lat_column, label) -> np.ndarray:
    """Build points from text longitude/latitude; a row missing either gives None."""
    geometry, lon_bad, lat_bad = _parse_points(lon_values, lat_values)
    _raise_first_problem(
        {lon_column: (lon_bad, lon_values, "float"), lat_column: (lat_bad, lat_values, "float")}, label
    )
    return geometry


def _too_many_rows(label: str, found: Message, max_rows: int, when: str) -> Message:
    """The message for a file above ``max_rows``; ``found`` says how many it has, ``when`` is
    ``"before_validation"``, ``"before_reading"`` or ``"while_reading"``."""
    return Message("too_many_rows", label=label, found=found, limit=max_rows, when=Message(f"when_{when}"))


def _has_text(values: pd.Series) -> bool:
    _text, missing = _as_text(values)
    return not missing.all()


def _csv_rows(
    path: Path, label: str, max_rows: int | None = None, notes: list | None = None
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """A CSV's non-blank data rows as text, with their spreadsheet row numbers (header = 1)."""
    table = _csv_table(path, label, keep_blank_lines=True, max_rows=max_rows, notes=notes)
    row_numbers = np.arange(len(table)) + 2
    blank = table.isna().all(axis=1).to_numpy()
    return table[~blank].reset_index(drop=True), row_numbers[~blank], {}


def _xlsx_rows(
    path: Path,
    kind: str,
    label: str,
    max_unzipped_mb: float | None = None,
    max_rows: int | None = None,
    notes: list | None = None,
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The data rows of the workbook's survey sheet as text, their sheet row numbers, formula cells.

    openpyxl reads a copy of the workbook made by :func:`_streamed_workbook`, never the file as
    uploaded. Values are read as stored (``data_only=True``); a second read-only pass only looks
    at cell types, to report formula cells that have no stored value (a file written by a
    program, not by Excel), whose formula is never evaluated. With ``max_rows`` reading stops
    with ValueError at data row ``max_rows + 1``.
    """
    with tempfile.TemporaryDirectory(prefix="intake-") as folder:
        copy = _streamed_workbook(path, Path(folder) / "workbook.xlsx", max_unzipped_mb)
        return _workbook_rows(copy, kind, label, max_rows, [] if notes is None else notes)


def _workbook_rows(
    path: Path, kind: str, label: str, max_rows: int | None, notes: list
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """:func:`_xlsx_rows` of a workbook whose members are known to be within the limits.

    Headers are made distinct as a CSV's are (:func:`_distinct_headers`), with a note in ``notes``.
    """
    import openpyxl

    # Opened from file objects: openpyxl would refuse a workbook whose name does not end in .xlsx.
    # Closed below on failure, else when the workbooks are done with (not a with-block: they outlive it).
    handles = [open(path, "rb"), open(path, "rb")]  # noqa: SIM115
    try:
        # keep_links=False: the cached copies of other workbooks a formula refers to are not read.
        values_book = openpyxl.load_workbook(handles[0], read_only=True, data_only=True, keep_links=False)
        formula_book = openpyxl.load_workbook(handles[1], read_only=True, data_only=False, keep_links=False)
    except Exception as error:  # openpyxl raises KeyError, BadZipFile, XML errors … for a damaged file
        for handle in handles:
            handle.close()
        raise data_error("workbook_unopenable", label=label, detail=_one_line(error)) from None
    for sheet in values_book.worksheets + formula_book.worksheets:
        # The size a sheet declares (<dimension>) is not trusted either: openpyxl would drop the
        # rows below it and pad every row, blank ones too, to its width (up to 16,384 cells).
        sheet.reset_dimensions()
    try:
        sheet_name, header_row = _choose_sheet(values_book, kind, label)
        value_rows = values_book[sheet_name].iter_rows(min_row=1, values_only=True)
        cell_rows = formula_book[sheet_name].iter_rows(min_row=1)
        header, records, numbers, formulas = (), [], [], []
        for number, (values, cells) in enumerate(zip(value_rows, cell_rows), start=1):
            if number < header_row:
                continue
            if len(values) > MAX_COLUMNS:  # refused if anything is filled beyond, else cut
                if values[MAX_COLUMNS:].count(None) != len(values) - MAX_COLUMNS:
                    _check_columns(len(values), label)
                values, cells = values[:MAX_COLUMNS], cells[:MAX_COLUMNS]
            if number == header_row:
                header = values
                continue
            texts = [_xlsx_cell_text(value) for value in values]
            if all(text is None for text in texts):
                continue
            if max_rows is not None and len(records) == max_rows:
                raise DataError(
                    _too_many_rows(
                        label, Message("found_more_data_rows", count=max_rows), max_rows, "before_validation"
                    )
                )
            records.append(texts)
            numbers.append(number)
            formulas.append(
                [getattr(cell, "data_type", None) == "f" and value is None for cell, value in zip(cells, values)]
            )
    except ValueError:
        raise
    except Exception as error:
        raise data_error("workbook_unreadable", label=label, detail=_one_line(error)) from None
    finally:
        values_book.close()
        formula_book.close()
        for handle in handles:
            handle.close()

    width = max([_last_filled(header)] + [_last_filled(record) for record in records])
    letters = [openpyxl.utils.get_column_letter(j + 1) for j in range(width)]
    given = [header[j] if j < len(header) and header[j] is not None else "" for j in range(width)]
    names = _distinct_headers(
        [str(given[j]).strip() or f"column_{letters[j]}" for j in range(width)], given, label, notes, letters
    )
    rows = [(record + [None] * width)[:width] for record in records]
    table = pd.DataFrame(rows, columns=names, dtype=str) if rows else pd.DataFrame(columns=names, dtype=str)
    formula_masks = {}
    for j, name in enumerate(names):
        mask = np.array([j < len(flags) and flags[j] for flags in formulas], dtype=bool)
        if mask.any():
            formula_masks[name] = mask
    return table, np.asarray(numbers, dtype=int), formula_masks


def _choose_sheet(book, kind: str, label: str) -> tuple[str, int]:
    """The survey sheet and its header row: a template sheet first, then the first recognisable one."""
    templates = [name for name in _TEMPLATE_SHEETS[kind] if name in book.sheetnames]
    lookup = _header_lookup(kind)
    for name in templates + [name for name in book.sheetnames if name not in templates]:
        sheet = book[name]
        if not hasattr(sheet, "iter_rows") or (name not in templates and sheet.sheet_state != "visible"):
            continue  # a chart sheet, or a hidden one
        rows = sheet.iter_rows(min_row=1, max_row=_HEADER_SCAN_ROWS, values_only=True)
        for number, values in enumerate(rows, start=1):
            known = {lookup.get(_header_key(value)) for value in values if isinstance(value, str)} - {None}
            if len(known) >= _MIN_RECOGNISED_HEADERS:
                return name, number
    examples = ", ".join(_TEMPLATE_SHEETS[kind]) or "(none)"
    raise data_error(
        "workbook_no_sheet",
        label=label,
        rows=_HEADER_SCAN_ROWS,
        sheets=", ".join(book.sheetnames),
        examples=examples,
        headers=EXAMPLE_HEADERS,
    )


def _xlsx_cell_text(value) -> str | None:
    """A stored cell value as the text a CSV would hold (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _last_filled(values) -> int:
    """1 + the index of the last non-empty cell (0 for an empty row)."""
    for j in range(len(values) - 1, -1, -1):
        if values[j] is not None and str(values[j]).strip():
            return j + 1
    return 0
