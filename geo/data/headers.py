"""Header matching and cell conversion: a table's headers recognised as schema columns, cells converted."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.data import schema
from geo.errors import Message, data_error
from geo.i18n import COLUMN_LABELS

# ``schema`` declares no required district columns yet; then none are required.
_REQUIRED_COLUMNS = {
    "districts": tuple(getattr(schema, "REQUIRED_DISTRICT_COLUMNS", ())),
    "communities": tuple(schema.REQUIRED_COMMUNITY_COLUMNS),
    "fitness_paths": tuple(schema.REQUIRED_FITNESS_PATH_COLUMNS),
    "public_sites": tuple(schema.REQUIRED_PUBLIC_SITE_COLUMNS),
    "roads": tuple(schema.REQUIRED_ROAD_COLUMNS),
}

_BOOL_WORDS = {
    "true": True,
    "1": True,
    "yes": True,
    "y": True,
    "是": True,
    "false": False,
    "0": False,
    "no": False,
    "n": False,
    "否": False,
}

# What a cell of each kind must hold, as messages say it (keys ``expect_<kind>`` of the catalogue).
_KIND_DESCRIPTIONS = ("int", "float", "bool", "date", "wkt")
# Columns a table may have. A survey has about 20 and a bureau's export rarely 100; cells cost
# memory per row (a 200 MB CSV of 1,000 columns took 5.8 GB and 112 s to import), and a workbook
# row can reach column XFD (16,384) with one cell.
MAX_COLUMNS = 256

# Extra columns (neither schema nor intake columns) that the accepted layer cannot carry under
# their own name: GDAL's GeoPackage writer names the feature ID "fid" and the geometry "geom", and
# geo.intake.importer adds "geometry_approximate" (its APPROXIMATE_COLUMN); SQLite compares column names
# without case. Such a column is renamed, e.g. "fid" -> "fid_2" (see _distinct_extra_columns).
RESERVED_COLUMNS = ("fid", "geom", "geometry", "geometry_approximate")
# A header longer than this many characters is refused: headers are repeated in every message.
MAX_HEADER_CHARS = 1000


class CellProblem(NamedTuple):
    """Cells of one column that could not be read as what the column holds."""

    column: str  # schema/intake column name, or the file's header for a WKT column
    bad: np.ndarray  # boolean mask over the rows of the RawLayer
    values: pd.Series  # the cells as read
    expected: str  # "str", "int", "float", "bool", "date", "wkt" or "formula"


def _check_columns(count: int, label: str) -> None:
    """Refuse a table of more than ``MAX_COLUMNS`` columns."""
    if count > MAX_COLUMNS:
        raise data_error("too_many_columns", label=label, count=count, limit=MAX_COLUMNS)


def _distinct_headers(
    names: list[str], given: list, label: str, notes: list, columns: list[str] | None = None
) -> list[str]:
    """Stripped headers made distinct as pandas does for a CSV: a repeat of ``a`` becomes ``a.1``, ``a.2`` …

    Parameters
    ----------
    names : list of str
        The headers, stripped (an empty one already named, e.g. ``Unnamed: 3``).
    given : list
        The headers as the file gives them, for the note (`` 备用`` and ``备用`` are one header).
    label, notes
        How the file is named; the list a note per repeated header is appended to, naming the
        header, its columns and what each repeat is read as.
    columns : list of str, optional
        How the note names each column (a workbook's letters); default its number from 1.

    Raises
    ------
    ValueError
        For a header longer than ``MAX_HEADER_CHARS`` (headers are repeated in every message).
    """
    columns = columns or [str(j + 1) for j in range(len(names))]
    for j, name in enumerate(names):
        if len(name) > MAX_HEADER_CHARS:
            raise data_error(
                "header_too_long", label=label, column=columns[j], length=len(name), limit=MAX_HEADER_CHARS
            )
    taken, counts, distinct = set(names), {}, []
    renamed: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        if name not in counts:
            counts[name] = 0
            distinct.append(name)
            continue
        count = counts[name]
        while f"{name}.{count + 1}" in taken:
            count += 1
        counts[name] = count + 1
        distinct.append(f"{name}.{count + 1}")
        taken.add(distinct[-1])
        renamed.setdefault(name, [names.index(name)]).append(j)
    for name, positions in renamed.items():
        spellings = " / ".join(dict.fromkeys(repr(str(given[j])) for j in positions))
        notes.append(
            Message(
                "note_same_header",
                label=label,
                columns=", ".join(columns[j] for j in positions),
                spellings=spellings,
                first=repr(name),
                others=", ".join(repr(distinct[j]) for j in positions[1:]),
            )
        )
    return distinct


# --------------------------------------------------------------------------- import: columns and geometry


def _header_key(text) -> str:
    """A header compared loosely: NFKC (full-width → half-width, ² → 2), casefolded, no spaces, _ or -."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(text)).casefold())


@functools.cache
def _header_lookup(kind: str) -> dict[str, str]:
    """Loose header → column name, for the schema and intake columns of ``kind``.

    The column's own name wins over a label, a label over a synonym of the layer's own
    (``geo.data.schema.LAYER_COLUMN_SYNONYMS``), that over a synonym of any layer (``COLUMN_SYNONYMS``).
    """
    columns = [*schema.LAYERS[kind], *schema.INTAKE_COLUMNS[kind]]
    lookup: dict[str, str] = {}
    for name in columns:
        lookup.setdefault(_header_key(name), name)
    for name in columns:
        for label in COLUMN_LABELS.get(name, ()):
            lookup.setdefault(_header_key(label), name)
    for name, synonyms in schema.LAYER_COLUMN_SYNONYMS.get(kind, {}).items():
        for synonym in synonyms:
            lookup.setdefault(_header_key(synonym), name)
    for name in columns:
        for synonym in schema.COLUMN_SYNONYMS.get(name, ()):
            lookup.setdefault(_header_key(synonym), name)
    return lookup


# Units written after a header ("面积(㎡)", "人口（人）", "open space m2"), after NFKC and casefolding:
# a header not recognised as it is is looked up again without them.
_TRAILING_UNIT = re.compile(r"(\([^()]*\)|\[[^\[\]]*\]|m2|平方米|平米|人|户|年|个|套|元)$")


def _unit_stripped(key: str) -> str:
    """``key`` (a :func:`_header_key`) without one trailing unit or bracketed note, e.g. 面积(m2) → 面积."""
    return _TRAILING_UNIT.sub("", key)


def mappable_fields(kind: str) -> tuple[str, ...]:
    """The fields of layer ``kind`` a user's column can be mapped to (schema and intake columns)."""
    return (*schema.LAYERS[kind], *schema.INTAKE_COLUMNS[kind])


def _explicit_renames(frame: pd.DataFrame, kind: str, column_map: dict, label) -> dict:
    """``column_map`` (field → the user's header) checked against ``frame``: file header → field.

    Raises a :class:`DataError` for a field the layer does not have, or a header the file lacks
    (naming the file's columns), or two fields mapped to one column.
    """
    fields = mappable_fields(kind)
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    present = {str(column): column for column in frame.columns if column != geometry_name}
    renames = {}
    for field, header in column_map.items():
        if field not in fields:
            raise data_error("map_unknown_field", layer=kind, field=repr(field), fields=", ".join(fields))
        if str(header) not in present:
            columns = ", ".join(repr(c) for c in present)
            raise data_error("map_missing_column", label=label, field=field, column=repr(header), columns=columns)
        column = present[str(header)]
        if column in renames:
            raise data_error("map_column_twice", column=repr(header), first=renames[column], second=field)
        renames[column] = field
    return renames


def _cut_header_field(header: str, lookup: dict[str, str]) -> str | None:
    """The field whose header a Shapefile cut to 10 bytes (``小区编`` of ``小区编号`` in UTF-8), if exactly one.

    Only a header of 8 to 10 bytes in UTF-8 or GBK can have been cut (a 3-byte character that would
    pass 10 bytes is dropped whole); it must begin exactly one known field's header.
    """
    if not any(8 <= len(header.encode(encoding, "replace")) <= 10 for encoding in ("utf-8", "gbk")):
        return None
    key = _header_key(header)
    fields = {field for known, field in lookup.items() if len(key) >= 2 and known.startswith(key)}
    return fields.pop() if len(fields) == 1 else None


def _renamed_aside(columns, present) -> dict:
    """Each of ``columns`` → ``"<column> (file)"``, or ``"<column> (file 2)"`` … when that name is taken.

    ``present`` holds the frame's columns; a new name is never one of them nor another new name.
    """
    taken = {str(column) for column in present}
    renames = {}
    for column in columns:
        candidate, number = f"{column} (file)", 2
        while candidate in taken:
            candidate, number = f"{column} (file {number})", number + 1
        taken.add(candidate)
        renames[column] = candidate
    return renames


def _rename_recognised(
    frame: pd.DataFrame, kind: str, shapefile: bool = False, column_map: dict | None = None, label=""
) -> tuple[pd.DataFrame, dict]:
    """Rename recognised headers to column names; the first header recognised for a column wins.

    ``column_map`` (field → the user's header) is applied first and wins over recognition (a field
    mapped to ``""`` or None is not read at all); a header is recognised by its loose form
    (:func:`_header_key`), else without a trailing unit (:func:`_unit_stripped`). Returns the
    renamed frame and column name → the file's header.
    """
    lookup = _header_lookup(kind)
    if shapefile:
        truncated = _shapefile_field_names([*schema.LAYERS[kind], *schema.INTAKE_COLUMNS[kind]])
        # A Shapefile field cut to 10 characters ("community_") is its schema column, whatever label reads alike.
        lookup = {**lookup, **{_header_key(cut): name for name, cut in truncated.items() if cut != name}}
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    # A field mapped to nothing ("" or None) is not read, even from a column recognised for it.
    ignored = {field for field, header in (column_map or {}).items() if header is None or str(header) == ""}
    given = {field: header for field, header in (column_map or {}).items() if field not in ignored}
    explicit = _explicit_renames(frame, kind, given, label) if given else {}
    mapped = set(explicit.values())
    known = set(lookup.values())
    # A column already named as a field the user mapped elsewhere steps aside (kept, renamed).
    aside = [c for c in frame.columns if (c in mapped or c in ignored) and c not in explicit]
    renames = _renamed_aside(aside, frame.columns)
    renames.update(explicit)
    headers = {field: str(column) for column, field in explicit.items()}
    headers.update({str(c): str(c) for c in frame.columns if c in known and c not in mapped and c not in explicit})
    for column in frame.columns:
        if column == geometry_name or column in known or column in renames:
            continue
        key = _header_key(column)
        target = lookup.get(key) or lookup.get(_unit_stripped(key))
        if target is None and shapefile:
            target = _cut_header_field(str(column), lookup)
        if target is not None and target not in headers and target not in ignored:
            renames[column] = target
            headers[target] = str(column)
    return frame.rename(columns=renames), headers


def _convert_all(frame: gpd.GeoDataFrame, kind: str) -> tuple[gpd.GeoDataFrame, list[CellProblem]]:
    """Schema columns (all, declared dtypes) and the intake columns present, with their bad cells."""
    frame, schema_problems = _convert_columns(frame, kind)
    problems = [
        CellProblem(name, np.asarray(bad, dtype=bool), values, column_kind)
        for name, (bad, values, column_kind) in schema_problems.items()
    ]
    for name, column_kind in schema.INTAKE_COLUMNS[kind].items():
        if name in frame.columns:
            values = frame[name]
            frame[name], bad = _CONVERTERS[column_kind](values)
            problems.append(CellProblem(name, np.asarray(bad, dtype=bool), values, column_kind))
    return frame, [problem for problem in problems if problem.bad.any()]


def _distinct_extra_columns(
    frame: gpd.GeoDataFrame, kind: str, headers: dict, label: str, notes: list
) -> gpd.GeoDataFrame:
    """Rename the file's extra columns that the accepted layer could not write under their name.

    An extra column (neither a schema nor an intake column of ``kind``) whose name, ignoring case,
    is one of ``RESERVED_COLUMNS`` (GeoPackage's ``fid`` and ``geom``, the ``geometry``,
    geo.intake.importer's ``geometry_approximate``) or another column's (``Name`` beside 名称, read as
    ``name``; ``NAME`` beside ``nAme``) gets the first free name ``<name>_2``, ``<name>_3`` …,
    keeping every value; a note in ``notes`` names the old and the new name and why.
    """
    known = {*schema.LAYERS[kind], *schema.INTAKE_COLUMNS[kind], "geometry"}
    taken = {str(column).casefold(): str(column) for column in frame.columns if column in known}
    reserved = {name.casefold(): name for name in RESERVED_COLUMNS}
    present = {str(column).casefold() for column in frame.columns}
    renames = {}
    for column in [column for column in frame.columns if column not in known]:
        folded = str(column).casefold()
        clash = reserved.get(folded) or taken.get(folded)
        if clash is None:
            taken[folded] = str(column)
            continue
        number = 2
        while any(f"{column}_{number}".casefold() in names for names in (taken, reserved, present)):
            number += 1
        renames[column] = f"{column}_{number}"
        taken[renames[column].casefold()] = renames[column]
        names = {"label": label, "column": repr(column), "renamed": repr(renames[column])}
        if folded in reserved:
            use = Message(f"reserved_use_{clash}")
            notes.append(Message("note_column_reserved", **names, reserved=repr(clash), use=use))
        else:
            shown = headers.get(clash, clash)
            if shown != clash:
                notes.append(Message("note_column_case_read_as", **names, other=repr(shown), name=clash))
            else:
                notes.append(Message("note_column_case", **names, other=repr(shown)))
    return frame.rename(columns=renames) if renames else frame


# --------------------------------------------------------------------------- schema


def _shapefile_field_names(names) -> dict[str, str]:
    """Map each name to the field name GDAL's Shapefile driver gives it when written in this order.

    Names are cut to 10 characters; a clash becomes the first 8 characters + ``_1`` … ``_9``,
    then the first 7 + ``_10`` … ``_99`` (clashes compared case-insensitively, as GDAL does).
    """
    used, laundered = set(), {}
    for name in names:
        candidate = name[:10]
        suffixes = [f"{name[:8]}_{i}" for i in range(1, 10)] + [f"{name[:7]}_{i}" for i in range(10, 100)]
        for alternative in suffixes:
            if candidate.upper() not in used:
                break
            candidate = alternative
        used.add(candidate.upper())
        laundered[name] = candidate
    return laundered


def _match_schema_names(frame: gpd.GeoDataFrame, kind: str, shapefile: bool) -> gpd.GeoDataFrame:
    """Rename columns that match a schema name case-insensitively (or as truncated by Shapefile)."""
    columns = schema.LAYERS[kind]
    present = set(frame.columns)
    by_folded: dict[str, list[str]] = {}
    for column in frame.columns:
        by_folded.setdefault(str(column).casefold(), []).append(column)
    truncated = _shapefile_field_names(columns) if shapefile else {}

    renames = {}
    for name in columns:
        if name in present:
            continue
        candidates = by_folded.get(name.casefold(), [])
        if not candidates and name in truncated:
            candidates = by_folded.get(truncated[name].casefold(), [])
        if len(candidates) == 1 and candidates[0] not in columns and candidates[0] not in renames:
            renames[candidates[0]] = name
    return frame.rename(columns=renames)


def _check_required(frame: gpd.GeoDataFrame, kind: str, label: str) -> None:
    """Raise ValueError naming the first required column of ``kind`` that ``frame`` lacks."""
    missing = [name for name in _REQUIRED_COLUMNS[kind] if name not in frame.columns]
    if missing:
        present = ", ".join(str(column) for column in frame.columns if column != frame.geometry.name)
        also = Message("also_missing", columns=", ".join(missing[1:])) if len(missing) > 1 else ""
        raise data_error(
            "required_missing",
            label=label,
            column=repr(missing[0]),
            also=also,
            present=present or Message("none_parenthesised"),
        )


def _convert_columns(frame: gpd.GeoDataFrame, kind: str):
    """Give every schema column its declared dtype; add absent optional columns as missing.

    Returns
    -------
    frame : geopandas.GeoDataFrame
        A copy with converted columns; unconvertible cells are missing.
    problems : dict
        Column → (bad-row boolean mask, original values, schema kind), one entry per schema
        column. Raising on the first problem is the caller's choice; a per-row rejects report
        can use the same masks.
    """
    frame = frame.copy()
    problems = {}
    for name, column_kind in schema.LAYERS[kind].items():
        if name not in frame.columns:
            frame[name] = pd.Series(index=frame.index, dtype=schema.DTYPES[column_kind])
            continue
        values = frame[name]
        converted, bad = _CONVERTERS[column_kind](values)
        frame[name] = converted
        problems[name] = (bad, values, column_kind)
    return frame, problems


def _raise_first_problem(problems: dict, label: str) -> None:
    """Raise ValueError for the earliest row with a bad value (first column in schema order)."""
    first_row, first_column = None, None
    for column, (bad, _, _) in problems.items():
        rows = np.flatnonzero(np.asarray(bad, dtype=bool))
        if rows.size and (first_row is None or rows[0] < first_row):
            first_row, first_column = int(rows[0]), column
    if first_row is None:
        return
    _, values, column_kind = problems[first_column]
    value = values.iloc[first_row]
    expected = Message(f"expect_{column_kind}") if column_kind in _KIND_DESCRIPTIONS else column_kind
    raise data_error(
        "cell_unreadable",
        label=label,
        column=repr(first_column),
        row=first_row + 1,
        value=repr(value),
        expected=expected,
    )


def _as_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Stripped text of ``values`` and a mask of missing (NA or empty) cells."""
    text = values.astype("string").str.strip()
    missing = text.isna() | (text == "")
    return text.mask(missing), missing.to_numpy(dtype=bool)


def _to_string(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to pandas ``"string"``; whole floats (from numeric storage) lose their ``.0``."""
    bad = np.zeros(len(values), dtype=bool)
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.notna() & np.isfinite(values) & (values % 1 == 0)
        text = values.astype("string")
        text[whole] = values[whole].astype("Int64").astype("string")
        return text, bad
    return values.astype("string"), bad


def _to_float(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to float64 (NaN for missing); text that is not a finite number is bad."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.astype("float64")
        return numbers, np.zeros(len(values), dtype=bool)
    text, missing = _as_text(values)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = ~missing & ~np.isfinite(numbers.to_numpy())
    return numbers.where(~bad), bad


# 2**63 as a float: float64 cannot tell 2**63 - 1 from it, so a number of this size or more does not fit int64.
_INT64_LIMIT = float(2**63)


def _to_int(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to nullable Int64; a number with a fraction or non-numeric text is bad."""
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("Int64"), np.zeros(len(values), dtype=bool)
    numbers, bad = _to_float(values)
    fractional = (numbers % 1 != 0).to_numpy() & numbers.notna().to_numpy()
    # A whole number int64 cannot hold (9223372036854775808, 1e20) is a bad cell of its row, not a crash.
    with np.errstate(invalid="ignore"):
        too_large = (numbers.abs() >= _INT64_LIMIT).fillna(False).to_numpy(dtype=bool)
    bad = bad | fractional | too_large
    return numbers.where(~bad).astype("Int64"), bad


def _to_bool(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to nullable boolean from bools, 0/1 numbers or the words of ``_BOOL_WORDS``."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean"), np.zeros(len(values), dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64")
        bad = (numbers.notna() & ~numbers.isin([0.0, 1.0])).to_numpy()
        return (numbers == 1.0).astype("boolean").mask(numbers.isna() | bad), bad
    text, missing = _as_text(values)
    flags = text.str.lower().map(_BOOL_WORDS)
    bad = ~missing & flags.isna().to_numpy()
    return flags.astype(object).where(~bad & ~missing, None).astype("boolean"), bad


def _to_date(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to datetime64 at midnight from dates or text (2018-09-01, 2018/9/1, 2018年9月1日)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if values.dt.tz is not None:
            values = values.dt.tz_localize(None)
        return values.dt.normalize().astype("datetime64[ns]"), np.zeros(len(values), dtype=bool)
    text, missing = _as_text(values)
    text = text.str.replace(r"[年月]", "-", regex=True).str.replace("日", "", regex=False)
    dates = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = ~missing & dates.isna().to_numpy()
    return dates.dt.normalize().astype("datetime64[ns]"), bad


_CONVERTERS = {"str": _to_string, "int": _to_int, "float": _to_float, "bool": _to_bool, "date": _to_date}
