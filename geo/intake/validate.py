"""Validate an imported layer row by row: which rows are accepted, and why each other row is not."""

from __future__ import annotations

import datetime
import difflib
import re
import string

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.data import schema
from geo.data.crs import (
    CRS_NAMES,
    convert_geometries,
    is_storage_crs,
    metric_crs_for,
    normalise_crs_name,
    utm_crs_for,
)
from geo.data.io import RawLayer
from geo.data.schema import STORAGE_CRS
from geo.errors import Message
from geo.i18n import COLUMN_LABELS, LANGS, label, pairs

# Reason code -> (Chinese, English) title, from the catalogues' [rejection] table; a rejected row's
# reason is the [row] table's "issue": its title and a detail from the same table.
REASONS: dict[str, tuple[str, str]] = pairs("rejection")

# Geometry types each layer accepts; a community given as a Point gets an approximate footprint
# later (geo.intake.importer), a single-part MultiPoint is taken as its Point.
ALLOWED_GEOMETRY = {
    "communities": ("Polygon", "MultiPolygon", "Point"),
    "fitness_paths": ("Point",),
    "districts": ("Polygon", "MultiPolygon"),
    "public_sites": ("Point", "Polygon", "MultiPolygon"),
    "roads": ("LineString", "MultiLineString"),
}
ID_COLUMNS = {
    "communities": "community_id",
    "fitness_paths": "path_id",
    "districts": "district_code",
    "public_sites": "site_id",
    "roads": "road_id",
}
# Values every imported row must give, as the survey template (geo/intake/template.py) asks district
# offices: a community needs its name and district (区县 or its code), and a location — a
# geometry (经度/纬度 or a polygon) or, for a community the city already lists, its ID (the
# merge keeps the city's outline). A community without an ID is new (the merge gives it one);
# without a population it is imported but cannot be ranked: both are warnings, not rejections.
# geo.data.schema.REQUIRED_* name the columns the analysis layers must have, not values of every row.
REQUIRED = {
    "communities": ("name", "district_code"),
    "fitness_paths": schema.REQUIRED_FITNESS_PATH_COLUMNS,
    "districts": schema.REQUIRED_DISTRICT_COLUMNS,
    # A site proposed by a district office needs its ID and name (its kind, area and consent may be unknown).
    "public_sites": ("site_id", "name"),
    # A road needs only its line: an OSM-like export may have no ID (its row number is taken) and no name.
    "roads": (),
}

# A row whose coordinates are outside the city's bounding box (widened by this margin, which
# also covers the GCJ-02/BD-09 offsets of under 1 km) but inside it once swapped had its
# longitude and latitude exchanged.
SWAP_MARGIN_DEG = 0.1
# A row is in the city when its representative point lies within this distance of a district.
CITY_TOLERANCE_M = 2000.0
EARLIEST_YEAR = 1900
# A community of a city in the making (no districts file) farther than this from the median of the
# communities is rejected (``outside_city``): a city is some tens of km across.
FAR_FROM_OTHERS_M = 50_000.0
# The most a single community can hold: residents and households (a large Chinese community has tens
# of thousands), land and open space in m² (100 km², a district's size), fitness-path sets (each is
# made a point by geo.intake.importer.survey_fitness_paths). A value above is a typo or a wrong unit,
# and such values summed, multiplied or repeated later would overflow.
UPPER_LIMITS = {
    "population": 10_000_000,
    "households": 10_000_000,
    "land_area_m2": 100_000_000,
    "open_space_m2": 100_000_000,
    "existing_sets": 1_000,
    "usable_area_m2": 100_000_000,
}
# An invalid polygon whose edges cross each other more often than this is rejected, not
# repaired: shapely.make_valid takes time and memory that grow faster than the crossings, and a
# tangle of n random vertices crosses itself about n²/4 times. Measured (one row, shapely 2.2 /
# GEOS): 4,340 crossings 0.04 s; 9,520 0.13 s; 30,000 (500 vertices) 0.5 s and +60 MB; 119,000
# (1,000 vertices) 2.6 s and +250 MB; 2,000 vertices 15 s and 1.15 GB; 5,000 more than 300 s and
# 6.5 GB. A real outline with a bow-tie or a spike has a handful, whatever its vertex count (a
# 50,000-vertex outline with one crossing is counted in 0.24 s and repaired in 3 ms).
MAX_REPAIR_CROSSINGS = 10_000
# A cell (text or number as written) of more characters than this rejects its row. Names,
# addresses and remarks of a survey are far shorter; the text of an accepted row is copied into
# every page, map, tooltip and download of the session (60 names of 1.5 MB each held 1.8 GB).
MAX_TEXT_CHARS = 1000
# Longest cell value a message quotes; a longer one is cut, saying how long it is.
_QUOTED_CHARS = 200

_ISSUE_COLUMNS = ["position", "code", "zh", "en"]


# --------------------------------------------------------------------------- the whole check


def validate_layer(
    raw: RawLayer,
    kind: str,
    districts: gpd.GeoDataFrame,
    declared_crs: str | None = None,
    repair_max_area_change: float = 0.05,
    today: datetime.date | None = None,
):
    """Check every row of a layer read by :func:`geo.data.io.read_raw_layer`; accept or reject each.

    Parameters
    ----------
    raw : geo.data.io.RawLayer
        The layer as read.
    kind : {"communities", "fitness_paths"}
        Which layer it is (selects required columns, geometry types, ID column).
    districts : geopandas.GeoDataFrame or None
        The city's districts (``district_code``, ``district_name``, ``district_name_en``,
        Polygon/MultiPolygon geometry, any CRS): their union is the city, their names and codes
        the known districts. None for a city in the making (:mod:`geo.intake.newcity`): no row is
        outside the city, district names and codes are kept as given and may be missing (the
        districts are drawn from the communities afterwards).
    declared_crs : str, optional
        The coordinate system the user declared for coordinates without one of their own:
        ``"wgs84"`` (the default), ``"gcj02"``, ``"bd09"`` or ``"EPSG:n"`` in any spelling
        :func:`geo.data.crs.normalise_crs_name` accepts. A file's own CRS wins (with a warning); a
        ``crs`` column (坐标系) overrides it row by row in a file without one.
    repair_max_area_change : float
        An invalid polygon repaired by ``shapely.make_valid`` is kept when its area changes by
        at most this share (0.05 = 5 %), else the row is rejected.
    today : datetime.date, optional
        The date years and application dates must not exceed (default: today).

    Returns
    -------
    accepted : geopandas.GeoDataFrame
        The accepted rows, EPSG:4326, columns as in ``raw.frame`` (``district_code`` and
        ``district_name`` completed from each other, coded values such as 状况 normalised to
        their codes), indexed by their row number (index name ``"row"``). Communities may still
        be Points (see :func:`geo.intake.importer.approximate_footprints`) or have no geometry when
        located by their ID (see :data:`REQUIRED`).
    rejects : pandas.DataFrame
        One row per rejected row, in file order: the row number (column named by
        ``raw.row_kind``, see ``geo.data.io.ROW_KINDS``: ``sheet_row`` for CSV/XLSX, the row Excel
        shows; ``feature`` for geodata files, 1-based), ``reason_code`` (codes of :data:`REASONS` joined by ``;``),
        ``reason_zh``, ``reason_en`` (every reason of the row), then the original cells.
    report : dict
        ``input_rows``, ``accepted``, ``rejected`` (``accepted + rejected == input_rows``),
        ``repaired`` (accepted rows whose polygon was repaired) and ``warnings`` (list of str:
        fixes made, declarations overridden, incomplete but accepted communities).

    Notes
    -----
    The rules, in order, each with its reason code (:data:`REASONS`): unreadable cell
    (``wrong_type``), formula cell without a stored value (``formula``), a cell of more than
    :data:`MAX_TEXT_CHARS` characters (``text_too_long``), unknown 状况/资金来源
    word (``invalid_value``), no geometry (``empty_geometry``; a community may instead give its
    ID), a geometry of another type (``geometry_type``), unknown 坐标系 (``unknown_crs``),
    longitude and latitude swapped (fixed, warning), coordinates that are not degrees or lie
    more than ``CITY_TOLERANCE_M`` outside the districts (``outside_city``), invalid polygon
    (repaired within ``repair_max_area_change``, else ``invalid_geometry``; never repaired above
    :data:`MAX_REPAIR_CROSSINGS` self-crossings), unknown district
    name or code (``unknown_district``, with the closest known one) or a name and code that
    disagree (``district_mismatch``), empty required value (``missing_required``), impossible
    value (``implausible_value``), an ID already used by an earlier row (``duplicate_id``).
    Every reason of a row is reported, not only the first.
    """
    today = today or datetime.date.today()
    frame = raw.frame.copy()
    n_rows = len(frame)
    words = _row_words(raw.row_kind)
    warnings = list(raw.notes)
    issues = [cell_problems(raw), long_text(raw)]
    # The other rules neither quote nor check a cell already rejected as too long.
    frame, too_long = _without_long_text(frame)

    frame, found = coded_values(frame, raw.headers, schema.SITE_VALUE_SYNONYMS if kind == "public_sites" else None)
    issues.append(found)

    geometry = np.asarray(frame.geometry.to_numpy(), dtype=object).copy()
    excused = _problem_mask(raw, raw.geometry_columns)
    located_by_id = _has_value(frame[ID_COLUMNS[kind]]) if kind == "communities" else np.zeros(n_rows, dtype=bool)
    found, absent = empty_geometry(geometry, excused | located_by_id, kind, from_table=raw.row_kind == "sheet_row")
    issues.append(found)
    geometry, found, wrong_type = geometry_types(geometry, kind, ~absent)
    issues.append(found)

    row_crs, found, crs_warnings = coordinate_systems(frame, raw.headers, declared_crs, raw.file_crs, raw.label)
    issues.append(found)
    warnings += crs_warnings
    usable = ~absent & ~wrong_type & row_crs.notna().to_numpy()

    geographic = usable & row_crs.isin(CRS_NAMES).to_numpy()
    geometry, swapped = swapped_coordinates(geometry, geographic, _city_bounds(districts))
    if swapped.any():
        warnings.append(Message("rows_swapped", rows=_rows_text(raw.row_numbers[swapped], words), columns="经度/纬度"))

    geometry, found, converted = to_wgs84(geometry, row_crs, usable, raw.file_crs)
    issues.append(found)

    geometry, found, repaired = repair_polygons(geometry, converted, repair_max_area_change)
    issues.append(found)
    if districts is not None:
        issues.append(outside_city(geometry, converted & ~_found_mask(found, n_rows), districts))
    elif kind == "communities":  # a city in the making has no outline yet, but its communities lie together
        issues.append(far_from_others(geometry, converted & ~_found_mask(found, n_rows)))

    excused_required = {}
    if kind == "communities" and districts is not None:
        frame, placed = districts_by_location(frame, geometry, districts)
        if placed.any():
            rows = _rows_text(raw.row_numbers[placed], words)
            warnings.append(Message("rows_district_by_location", rows=rows))
        frame, found, district_handled = district_fields(frame, districts, raw.headers)
        issues.append(found)
        excused_required = {"district_code": district_handled, "district_name": district_handled}
    for problem in raw.problems:
        excused_required[problem.column] = excused_required.get(problem.column, False) | problem.bad
    for column, mask in too_long.items():
        excused_required[column] = excused_required.get(column, False) | mask
    if kind == "communities":  # a community is found by its name or its ID: one of them will do
        excused_required["name"] = excused_required.get("name", False) | _has_value(frame["community_id"])
        if districts is None:  # the districts are drawn from the communities afterwards
            excused_required["district_code"] = True
    issues.append(missing_required(frame, kind, raw.headers, excused_required))
    issues.append(implausible_values(frame, raw.headers, today))
    issues.append(duplicate_ids(frame, ID_COLUMNS[kind], raw.headers, raw.row_numbers, words))

    all_issues = pd.concat([found for found in issues if len(found)] or [_no_issues()], ignore_index=True)
    rejected = np.zeros(n_rows, dtype=bool)
    rejected[all_issues["position"].to_numpy(dtype=int)] = True

    frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=STORAGE_CRS))
    if kind == "communities":
        named_by_id = ~_has_value(frame["name"]) & _has_value(frame["community_id"])
        frame.loc[named_by_id, "name"] = frame.loc[named_by_id, "community_id"]
    frame = frame.set_axis(pd.Index(raw.row_numbers, name="row"))
    accepted = frame[~rejected]
    if kind == "communities":
        warnings += _community_notes(frame, absent, rejected, raw.row_numbers, words)
    n_repaired = int((repaired & ~rejected).sum())
    if n_repaired:
        rows = _rows_text(raw.row_numbers[repaired & ~rejected], words)
        warnings.append(Message("rows_repaired", rows=rows, change=repair_max_area_change))
    rejects = _rejects_table(all_issues, raw)
    report = {
        "input_rows": n_rows,
        "accepted": int(len(accepted)),
        "rejected": int(len(rejects)),
        "repaired": n_repaired,
        "warnings": warnings,
    }
    return accepted, rejects, report


def _community_notes(frame: pd.DataFrame, absent: np.ndarray, rejected: np.ndarray, row_numbers, words) -> list[str]:
    """Warnings on accepted communities that are incomplete in ways the template allows."""
    notes = []
    kept = ~rejected
    checks = (
        (~_has_value(frame["community_id"]), "rows_no_id"),
        (absent, "rows_located_by_id"),
        (frame["population"].isna().to_numpy(), "rows_no_population"),
    )
    for mask, key in checks:
        if (mask & kept).any():
            notes.append(Message(key, rows=_rows_text(row_numbers[mask & kept], words)))
    return notes


# --------------------------------------------------------------------------- rules: cells


def cell_problems(raw: RawLayer) -> pd.DataFrame:
    """Issues ``wrong_type`` (a cell that is not its column's kind) and ``formula`` (a formula cell)."""
    found = []
    for problem in raw.problems:
        field = _field(problem.column, raw.headers)
        values = _quoted(problem.values.astype("string").str.strip().fillna(""))
        if problem.expected == "formula":
            found.append(_issues(problem.bad, "formula", "formula", field=field))
            continue
        kind = _Both(*(label("row", f"kind_{problem.expected}", lang) for lang in LANGS))
        found.append(_issues(problem.bad, "wrong_type", "wrong_type", field=field, value=values, kind=kind))
    return _concat(found)


def long_text(raw: RawLayer, max_chars: int = MAX_TEXT_CHARS) -> pd.DataFrame:
    """Issue ``text_too_long`` for every cell of more than ``max_chars`` characters, as the file gives it.

    Every column of ``raw.original`` is checked (the file's headers name them) except the text
    of geometries (a WKT column, a geodata file's ``wkt``), which has no such limit.
    """
    geometry_text = {column for column in raw.geometry_columns if column not in ("geometry", "longitude", "latitude")}
    if raw.row_kind == "feature":
        geometry_text.add("wkt")
    found = []
    for header in raw.original.columns:
        if header in geometry_text:
            continue
        lengths = _text_lengths(raw.original[header])
        too_long = (lengths > max_chars).to_numpy()
        if too_long.any():
            shown = lengths.map("{:,.0f}".format)
            found.append(
                _issues(too_long, "text_too_long", "text_too_long", field=header, length=shown, limit=f"{max_chars:,}")
            )
    return _concat(found)


def _without_long_text(frame: gpd.GeoDataFrame, max_chars: int = MAX_TEXT_CHARS):
    """``frame`` with cells of more than ``max_chars`` characters missing, and those cells' mask per column."""
    blanked = {}
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        too_long = (_text_lengths(frame[column]) > max_chars).to_numpy()
        if too_long.any():
            blanked[column] = too_long
    if blanked:
        frame = frame.copy()
        for column, mask in blanked.items():
            frame.loc[mask, column] = pd.NA if isinstance(frame[column].dtype, pd.StringDtype) else None
    return frame, blanked


def _text_lengths(values: pd.Series) -> pd.Series:
    """Characters of each text cell; 0 for a missing cell or a value that is not text."""
    try:
        lengths = values.str.len()
    except AttributeError:  # a column of numbers or dates
        return pd.Series(0, index=values.index)
    return lengths.fillna(0)


def _quoted(text: pd.Series, limit: int = _QUOTED_CHARS):
    """Cell values for a message: those longer than ``limit`` cut, with their length (said in each language)."""
    long = (text.str.len() > limit).fillna(False).to_numpy(dtype=bool)
    if not long.any():
        return text
    positions = np.flatnonzero(long)
    lengths = text.str.len().to_numpy(dtype=object)[positions]
    said = []
    for lang in LANGS:
        cut = text.astype(object).copy()
        note = _filled(
            label("row", "cut", lang), {"length": np.array([f"{n:,}" for n in lengths], dtype=object)}, positions.size
        )
        cut.iloc[positions] = text.str.slice(0, limit).to_numpy(dtype=object)[positions] + note
        said.append(cut)
    return _Both(*said)


_CJK = re.compile("[\u3400-\u9fff]")


def coded_values(
    frame: gpd.GeoDataFrame, headers: dict, synonyms: dict | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Replace the words of coded columns (状况, 资金来源 …) by their codes; issue ``invalid_value`` for others.

    The words are those of ``synonyms`` (column → code → words), by default
    ``geo.data.schema.VALUE_SYNONYMS`` (好/良好 → good, 体彩公益金 → lottery …); a public site's are
    ``schema.SITE_VALUE_SYNONYMS`` (口袋公园 → pocket_park, 同意 → yes …). Compared casefolded without spaces.
    """
    frame = frame.copy()
    found = []
    for column, codes in (schema.VALUE_SYNONYMS if synonyms is None else synonyms).items():
        if column not in frame.columns:
            continue
        lookup = {_value_key(word): code for code, words in codes.items() for word in words}
        text = frame[column].astype("string").str.strip()
        present = text.notna() & (text != "")
        mapped = _mapped(_value_keys(text), lookup)
        unknown = (present & mapped.isna()).to_numpy()
        frame[column] = mapped.astype("string")
        field = _field(column, headers)
        # The Chinese reason lists the Chinese words (a site's synonyms hold English ones too).
        choices_zh = "、".join(word for words in codes.values() for word in words[1:] if _CJK.search(word))
        choices = _Both(choices_zh, f"{'/'.join(codes)} ({choices_zh})")
        found.append(
            _issues(unknown, "invalid_value", "invalid_value", field=field, value=text.fillna(""), choices=choices)
        )
    return frame, _concat(found)


# --------------------------------------------------------------------------- rules: geometry


def empty_geometry(geometry: np.ndarray, excused: np.ndarray, kind: str, from_table: bool):
    """Issue ``empty_geometry`` for rows without a geometry, except the ``excused`` ones.

    Excused are rows whose coordinate cell was already reported unreadable, and communities
    located by their ID instead. Returns the issues and the mask of rows with no geometry.
    """
    absent = np.asarray(pd.isna(geometry) | shapely.is_empty(geometry), dtype=bool)
    key = ("no_lonlat" if from_table else "no_geometry") + ("_no_id" if kind == "communities" else "")
    return _issues(absent & ~excused, "empty_geometry", key), absent


def geometry_types(geometry: np.ndarray, kind: str, present: np.ndarray):
    """Issue ``geometry_type`` for a geometry the layer does not take (e.g. a line among polygons).

    A single-part MultiPoint becomes its Point. Returns the geometries, the issues and the mask
    of rows of a wrong type.
    """
    geometry = geometry.copy()
    types = pd.Series(shapely.get_type_id(geometry)).map(_TYPE_NAMES).to_numpy()
    single = present & (types == "MultiPoint") & (shapely.get_num_geometries(geometry) == 1)
    geometry[single] = shapely.get_geometry(geometry[single], 0)
    types[single] = "Point"
    allowed = ALLOWED_GEOMETRY[kind]
    wrong = present & ~np.isin(types, allowed)
    words = _Both(*(label("row", "or", lang).join(allowed) for lang in LANGS))
    found = _issues(wrong, "geometry_type", "geometry_type", found=types, layer=Message(f"kind_{kind}"), allowed=words)
    return geometry, found, wrong


_TYPE_NAMES = {
    -1: "missing",
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def coordinate_systems(frame: pd.DataFrame, headers: dict, declared: str | None, file_crs, label: str):
    """The coordinate system of each row: the file's own, else the row's ``crs`` cell, else the declared one.

    Returns
    -------
    row_crs : pandas.Series of object
        ``"wgs84"``, ``"gcj02"``, ``"bd09"``, ``"EPSG:n"`` or ``"file"`` (the file's own CRS,
        not WGS84 longitude/latitude); None for a row whose ``crs`` cell is not recognised.
    issues : pandas.DataFrame
        ``unknown_crs`` for those rows.
    warnings : list of str
        When a declaration (or the ``crs`` column) is overridden by the file's own CRS.
    """
    declared_name = normalise_crs_name(declared) if declared is not None else None
    warnings = []
    row_crs = pd.Series("wgs84", index=frame.index, dtype=object)
    cells = frame["crs"].astype("string").str.strip() if "crs" in frame.columns else None
    given = cells.notna() & (cells != "") if cells is not None else pd.Series(False, index=frame.index)
    file_lonlat = is_storage_crs(file_crs)

    if file_crs is not None and not file_lonlat:
        row_crs[:] = "file"
        own = _crs_text(file_crs)
        if declared_name is not None and declared_name != own:
            warnings.append(Message("crs_file_over_declared", label=label, own=own, declared=declared))
        if given.any():
            warnings.append(Message("crs_file_over_column", label=label, own=own, column="坐标系 (crs)"))
        return row_crs, _no_issues(), warnings

    base = declared_name or "wgs84"
    if file_lonlat and base not in CRS_NAMES:
        warnings.append(Message("crs_lonlat_over_declared", label=label, declared=declared))
        base = "wgs84"
    row_crs[:] = base
    if not given.any():
        return row_crs, _no_issues(), warnings

    names = {}
    for value in cells[given].unique():
        try:
            names[value] = normalise_crs_name(value)
        except ValueError:
            names[value] = None
    row_names = cells[given].map(names)
    if file_lonlat:
        ignored = row_names.notna() & ~row_names.isin(CRS_NAMES)
        if ignored.any():
            warnings.append(Message("crs_lonlat_over_projected", label=label, column="坐标系 (crs)"))
        row_names = row_names.where(~ignored, base)
    row_crs[given] = row_names
    row_crs = row_crs.where(row_crs.notna(), None)
    field = _field("crs", headers)
    unknown = (given & row_crs.isna()).to_numpy()
    found = _issues(unknown, "unknown_crs", "unknown_crs", field=field, value=cells.fillna(""))
    return row_crs, found, warnings


# Mainland China's rectangle in degrees (lon, lat): where a city in the making lies, for the
# swapped-coordinates check when there are no districts yet.
_CHINA_BOUNDS = (73.0, 18.0, 135.5, 53.6)


def _city_bounds(districts) -> tuple:
    """``(min lon, min lat, max lon, max lat)`` of ``districts`` in WGS84; China's without districts."""
    return _CHINA_BOUNDS if districts is None else tuple(districts.to_crs(STORAGE_CRS).total_bounds)


def swapped_coordinates(geometry: np.ndarray, candidates: np.ndarray, city_bounds) -> tuple[np.ndarray, np.ndarray]:
    """Exchange x and y of rows that lie in the city's bounding box only once swapped.

    Parameters
    ----------
    geometry : numpy.ndarray of shapely geometries
        In the rows' own longitude/latitude degrees (WGS84, GCJ-02 or BD-09).
    candidates : numpy.ndarray of bool
        Rows to consider (geometry present, longitude/latitude coordinates).
    city_bounds : array_like
        ``(min lon, min lat, max lon, max lat)`` of the districts in WGS84, widened here by
        ``SWAP_MARGIN_DEG``.

    Returns
    -------
    geometry, swapped : numpy.ndarray
        The geometries with swapped rows exchanged back, and the mask of those rows.
    """
    minx, miny, maxx, maxy = np.asarray(city_bounds, dtype=float) + np.array([-1, -1, 1, 1]) * SWAP_MARGIN_DEG
    bounds = shapely.bounds(geometry)
    with np.errstate(invalid="ignore"):
        inside = (bounds[:, 0] >= minx) & (bounds[:, 2] <= maxx) & (bounds[:, 1] >= miny) & (bounds[:, 3] <= maxy)
        inside_swapped = (
            (bounds[:, 1] >= minx) & (bounds[:, 3] <= maxx) & (bounds[:, 0] >= miny) & (bounds[:, 2] <= maxy)
        )
    swapped = candidates & ~inside & inside_swapped
    geometry = geometry.copy()
    geometry[swapped] = shapely.transform(geometry[swapped], lambda coords: coords[:, ::-1])
    return geometry, swapped


def to_wgs84(geometry: np.ndarray, row_crs: pd.Series, usable: np.ndarray, file_crs):
    """Convert each usable row from its coordinate system to WGS84 longitude/latitude (EPSG:4326).

    GCJ-02 and BD-09 with :func:`geo.data.crs.convert_geometries`; EPSG codes and the file's own
    CRS with PROJ. Issue ``outside_city`` for a row whose coordinates are not degrees
    (|lon| > 180, |lat| > 90) in a longitude/latitude system, or do not convert.

    Returns the geometries (unusable rows unchanged), the issues and the mask of converted rows.
    """
    geometry = geometry.copy()
    converted = np.zeros(len(geometry), dtype=bool)
    not_degrees = np.zeros(len(geometry), dtype=bool)
    bounds = shapely.bounds(geometry)
    with np.errstate(invalid="ignore"):
        degrees = (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1) & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
    # A coordinate that is no number (a GeoJSON's NaN) is left out of the bounds by GEOS: such a row is no place.
    coords, owner = shapely.get_coordinates(geometry, return_index=True)
    not_finite = np.zeros(len(geometry), dtype=bool)
    not_finite[owner[~np.isfinite(coords).all(axis=1)]] = True
    degrees &= ~not_finite
    crs_values = row_crs.to_numpy(dtype=object)
    for name in pd.unique(crs_values[usable]):
        rows = usable & (crs_values == name)
        if name in CRS_NAMES:
            not_degrees |= rows & ~degrees
            rows &= degrees
            if name != "wgs84":
                geometry[rows] = convert_geometries(geometry[rows], name, "wgs84")
        else:
            source = file_crs if name == "file" else name
            moved = gpd.GeoSeries(geometry[rows], crs=source).to_crs(STORAGE_CRS).to_numpy()
            moved_bounds = shapely.bounds(moved)
            finite = np.isfinite(moved_bounds).all(axis=1) & ~not_finite[rows]
            positions = np.flatnonzero(rows)
            not_degrees[positions[~finite]] = True
            rows[positions[~finite]] = False
            geometry[positions[finite]] = moved[finite]
        converted |= rows
    first = _first_coordinates(geometry, not_degrees)
    found = _issues(not_degrees, "outside_city", "not_degrees", first=first)
    return geometry, found, converted


def repair_polygons(
    geometry: np.ndarray, rows: np.ndarray, max_area_change: float, max_crossings: int = MAX_REPAIR_CROSSINGS
):
    """Repair invalid polygons with ``shapely.make_valid``; issue ``invalid_geometry`` when that fails.

    A repair is kept when the result is still a non-empty Polygon or MultiPolygon (the
    "structure" method, which drops collapsed spikes) whose area differs from the original's by
    at most ``max_area_change`` of it. An invalid polygon whose edges cross more than
    ``max_crossings`` times is not repaired but rejected at once (see
    :data:`MAX_REPAIR_CROSSINGS`). Returns the geometries, the issues and the repaired mask.
    """
    geometry = geometry.copy()
    polygonal = rows & np.isin(shapely.get_type_id(geometry), (3, 6))
    invalid = polygonal & ~shapely.is_valid(geometry)
    repaired = np.zeros(len(geometry), dtype=bool)
    if not invalid.any():
        return geometry, _no_issues(), repaired
    vertices = shapely.get_num_coordinates(geometry)
    tangled = np.zeros(len(geometry), dtype=bool)
    # n edges cross at most n²/2 times: fewer coordinates than that cannot pass the bound, uncounted.
    for position in np.flatnonzero(invalid & (vertices.astype(float) ** 2 / 2 > max_crossings)):
        tangled[position] = edge_crossings(geometry[position], stop_above=max_crossings) > max_crossings
    invalid &= ~tangled
    reason = pd.Series("", index=range(len(geometry)), dtype=object)
    reason[np.flatnonzero(tangled | invalid)] = shapely.is_valid_reason(geometry[tangled | invalid])
    reason = _validity_reasons(reason)
    count = pd.Series(vertices, dtype=object).map("{:,}".format)
    found = [_issues(tangled, "invalid_geometry", "tangled", reason=reason, vertices=count, limit=f"{max_crossings:,}")]
    if not invalid.any():
        return geometry, _concat(found), repaired
    before = geometry[invalid]
    after = shapely.make_valid(before, method="structure", keep_collapsed=False)
    area_before = shapely.area(before)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.abs(shapely.area(after) - area_before) / area_before
    change = np.where(np.isfinite(change), change, np.inf)
    still_polygonal = np.isin(shapely.get_type_id(after), (3, 6)) & ~shapely.is_empty(after)
    keep = still_polygonal & (change <= max_area_change)
    positions = np.flatnonzero(invalid)
    geometry[positions[keep]] = after[keep]
    repaired[positions[keep]] = True
    failed = np.zeros(len(geometry), dtype=bool)
    failed[positions[~keep]] = True
    change_text = pd.Series("", index=range(len(geometry)), dtype=object)
    change_text[positions] = [f"{c:.0%}" if c < 1 else "" for c in change]
    change_text = _Both(*(change_text.replace("", label("row", "over_100", lang)) for lang in LANGS))
    area_changed = np.zeros(len(geometry), dtype=bool)
    area_changed[positions[~keep & still_polygonal]] = True
    allowed = f"{max_area_change:.0%}"
    found.append(
        _issues(area_changed, "invalid_geometry", "repair_area", reason=reason, change=change_text, allowed=allowed)
    )
    found.append(_issues(failed & ~area_changed, "invalid_geometry", "repair_not_polygon", reason=reason))
    return geometry, _concat(found), repaired


def edge_crossings(polygon, stop_above: int | None = None, batch: int = 64) -> int:
    """How many times the edges of ``polygon``'s rings cross each other (any CRS).

    Edges that only touch (neighbours, a spike folding back) or overlap are not crossings.
    Counted a batch of edges at a time against a tree of all edges; with ``stop_above``,
    counting stops as soon as the count passes it (the count returned is then a lower bound),
    so a tangle is recognised in a fraction of a second whatever its size.
    """
    edges = []
    for ring in shapely.get_rings(polygon):
        xy = shapely.get_coordinates(ring)
        edges.append(shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1)))
    edges = np.concatenate(edges) if edges else np.array([], dtype=object)
    tree = shapely.STRtree(edges)
    total = 0
    for start in range(0, len(edges), batch):
        mine, other = tree.query(edges[start : start + batch], predicate="crosses")
        total += int((mine + start < other).sum())  # each pair once
        if stop_above is not None and total > stop_above:
            break
    return total


def outside_city(
    geometry: np.ndarray, rows: np.ndarray, districts: gpd.GeoDataFrame, tolerance_m: float = CITY_TOLERANCE_M
) -> pd.DataFrame:
    """Issue ``outside_city`` for rows whose representative point is farther than ``tolerance_m`` from the city.

    The city is the union of ``districts``; distances are measured in its UTM zone.
    """
    if not rows.any():
        return _no_issues()
    metric = metric_crs_for(districts)
    city = shapely.union_all(districts.to_crs(metric).geometry.to_numpy())
    shapely.prepare(city)
    points = shapely.point_on_surface(geometry[rows])
    to_metric = pyproj.Transformer.from_crs(STORAGE_CRS, metric, always_xy=True)
    x, y = to_metric.transform(shapely.get_x(points), shapely.get_y(points))
    near = shapely.dwithin(city, shapely.points(x, y), tolerance_m)
    outside = np.zeros(len(geometry), dtype=bool)
    outside[np.flatnonzero(rows)[~near]] = True
    first = _first_coordinates(geometry, outside)
    km = f"{tolerance_m / 1000:g}"
    return _issues(outside, "outside_city", "outside_city", first=first, km=km)


def far_from_others(geometry: np.ndarray, rows: np.ndarray, limit_m: float = FAR_FROM_OTHERS_M) -> pd.DataFrame:
    """Issue ``outside_city`` for rows farther than ``limit_m`` from the median of the communities.

    For a city in the making, which has no outline yet: its outline is drawn around its
    communities, and one community given in the wrong place (a typo, another coordinate system)
    would stretch it across the country. The median (of the longitudes and of the latitudes of
    the rows' representative points, WGS84) is not moved by a few such rows; distances are
    measured in the UTM zone of that median. Fewer than 3 rows tell nothing and are all kept.
    """
    positions = np.flatnonzero(rows)
    if positions.size < 3:
        return _no_issues()
    points = shapely.point_on_surface(geometry[positions])
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    middle_lon, middle_lat = float(np.median(lon)), float(np.median(lat))
    to_metric = pyproj.Transformer.from_crs(STORAGE_CRS, utm_crs_for(middle_lon, middle_lat), always_xy=True)
    x, y = to_metric.transform(lon, lat)
    middle_x, middle_y = to_metric.transform(middle_lon, middle_lat)
    distance_m = np.hypot(x - middle_x, y - middle_y)
    far = np.zeros(len(geometry), dtype=bool)
    far[positions[distance_m > limit_m]] = True
    km = np.full(len(geometry), "", dtype=object)
    km[positions] = [f"{d / 1000:,.0f}" for d in distance_m]
    first = _first_coordinates(geometry, far)
    return _issues(far, "outside_city", "far_from_others", first=first, km=km, limit=f"{limit_m / 1000:g}")


# --------------------------------------------------------------------------- rules: attributes


def districts_by_location(frame: pd.DataFrame, geometry: np.ndarray, districts: gpd.GeoDataFrame):
    """Give a row that names no district (neither code nor name) the district it lies in.

    Returns the frame and the mask of the rows so placed.

    ``geometry`` is in WGS84 (EPSG:4326); a row's representative point is looked up in the
    districts, else the nearest district within ``CITY_TOLERANCE_M`` (measured in the city's UTM
    zone). A row farther from every district is left without one (and ``outside_city`` says why).
    """
    code = frame["district_code"].astype("string").str.strip().replace("", pd.NA)
    name = frame["district_name"].astype("string").str.strip().replace("", pd.NA)
    present = ~(pd.isna(geometry) | shapely.is_empty(geometry))
    rows = np.flatnonzero((code.isna() & name.isna()).to_numpy() & present)
    placed = np.zeros(len(frame), dtype=bool)
    if not rows.size:
        return frame, placed
    metric = metric_crs_for(districts)
    outlines = districts.to_crs(metric)
    points = gpd.GeoSeries(shapely.point_on_surface(geometry[rows]), crs=STORAGE_CRS).to_crs(metric)
    found = gpd.sjoin_nearest(
        gpd.GeoDataFrame({"row": rows}, geometry=points.to_numpy(), crs=metric),
        outlines[["district_code", "geometry"]],
        how="inner",
        max_distance=CITY_TOLERANCE_M,
    ).drop_duplicates("row")
    frame = frame.copy()
    positions = found["row"].to_numpy(dtype=int)
    frame["district_code"] = frame["district_code"].astype("string")
    frame.iloc[positions, frame.columns.get_loc("district_code")] = found["district_code"].astype(str).to_numpy()
    placed[positions] = True
    return frame, placed


def district_fields(frame: pd.DataFrame, districts: gpd.GeoDataFrame, headers: dict):
    """Complete ``district_code`` from ``district_name`` and the reverse; check both are known.

    A name is known in Chinese or English (any case) and stored in Chinese. Issues
    ``unknown_district`` (with the closest known name or code, by difflib) and
    ``district_mismatch``. Returns the frame, the issues and the mask of rows with an issue.
    """
    frame = frame.copy()
    codes = districts["district_code"].astype(str).tolist()
    names = districts["district_name"].astype(str).tolist()
    code_to_name = dict(zip(codes, names))
    name_to_code = {_value_key(name): code for name, code in zip(names, codes)}
    if "district_name_en" in districts.columns:
        name_to_code.update({_value_key(str(en)): code for en, code in zip(districts["district_name_en"], codes)})
    spelled = {key: key for key in name_to_code}

    code = frame["district_code"].astype("string").str.strip().replace("", pd.NA)
    name = frame["district_name"].astype("string").str.strip().replace("", pd.NA)
    name_code = _mapped(_value_keys(name), name_to_code)
    bad_code = (code.notna() & ~code.isin(codes)).to_numpy()
    bad_name = (name.notna() & name_code.isna()).to_numpy()
    mismatch = (code.isin(codes) & name_code.notna() & (name_code != code)).to_numpy()

    code_field, name_field = _field("district_code", headers), _field("district_name", headers)
    # difflib only for the distinct unknown spellings: it is slow, and they are few.
    near_code = _mapped(code, {value: _closest(value, codes) for value in code[bad_code].unique()}, "")
    near_name = _mapped(
        name,
        {value: _closest_name(value, spelled, name_to_code, code_to_name) for value in name[bad_name].unique()},
        "",
    )
    found = [
        _issues(bad_code, "unknown_district", "unknown_district_code", field=code_field, value=code, near=near_code),
        _issues(bad_name, "unknown_district", "unknown_district_name", field=name_field, value=name, near=near_name),
        _issues(
            mismatch & ~bad_code & ~bad_name,
            "district_mismatch",
            "district_mismatch",
            field=name_field,
            value=name,
            code_of_name=name_code,
            code=code,
        ),
    ]
    # A known name is stored in Chinese; a missing code or name is filled from the other.
    from_name = _mapped(name_code, code_to_name)
    from_code = _mapped(code, code_to_name)
    frame["district_code"] = code.where(code.notna(), name_code).astype("string")
    filled_name = from_name.astype(object).where(from_name.notna(), name.astype(object))
    frame["district_name"] = filled_name.where(filled_name.notna(), from_code).astype("string")
    return frame, _concat(found), bad_code | bad_name | mismatch


def missing_required(frame: pd.DataFrame, kind: str, headers: dict, excused: dict) -> pd.DataFrame:
    """Issue ``missing_required`` for each required column a row leaves empty.

    ``excused`` maps a column to rows already rejected for that cell (unreadable, formula,
    unknown district), so each problem is reported once.
    """
    found = []
    for column in REQUIRED[kind]:
        values = frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index)
        empty = ~_has_value(values) & ~np.asarray(excused.get(column, False), dtype=bool)
        # A district is given by its name (区县) or its code; name the one the file has, if either.
        named = column
        if column == "district_code" and ("district_name" in headers or column not in headers):
            named = "district_name"
        field = _field(named, headers)
        key = "missing_column" if named not in headers else "missing_value"
        found.append(_issues(empty, "missing_required", key, field=field))
    return _concat(found)


def implausible_values(frame: pd.DataFrame, headers: dict, today: datetime.date) -> pd.DataFrame:
    """Issue ``implausible_value`` for values that cannot be true.

    Negative counts and areas (population, households, open space, pieces, existing sets), a
    land area ≤ 0, a count or area above :data:`UPPER_LIMITS` (no later sum or product overflows), a
    share outside 0–1 or shares of 60+ and under-14 adding up to more than 1, a
    year before 1900 or after ``today``, an application dated after ``today``.
    """
    found = []

    def check(column, bad_of, key, **placeholders):
        if column not in frame.columns:
            return
        values = frame[column]
        with np.errstate(invalid="ignore"):
            bad = np.asarray(bad_of(values).fillna(False), dtype=bool)
        field = _field(column, headers)
        shown = values.astype("string").fillna("")
        found.append(_issues(bad, "implausible_value", key, field=field, value=shown, **placeholders))

    for column in ("population", "households", "open_space_m2", "n_pieces", "existing_sets", "usable_area_m2"):
        check(column, lambda v: v < 0, "negative")
    check("land_area_m2", lambda v: v <= 0, "not_positive")
    for column, limit in UPPER_LIMITS.items():
        check(column, lambda v, limit=limit: v > limit, "above_limit", limit=f"{limit:,}")
    for column in ("share_60plus", "share_under14"):
        check(column, lambda v: (v < 0) | (v > 1), "share_range")
    if "share_60plus" in frame.columns and "share_under14" in frame.columns:
        total = frame["share_60plus"] + frame["share_under14"]
        in_range = frame["share_60plus"].between(0, 1) & frame["share_under14"].between(0, 1)
        bad = (in_range & (total > 1 + 1e-9)).to_numpy()
        found.append(_issues(bad, "implausible_value", "shares_sum"))
    for column in ("built_year", "install_year"):
        check(
            column, lambda v: (v < EARLIEST_YEAR) | (v > today.year), "year_range", first=EARLIEST_YEAR, last=today.year
        )
    check("application_date", lambda v: v > pd.Timestamp(today), "future_date")
    return _concat(found)


def duplicate_ids(
    frame: pd.DataFrame, column: str, headers: dict, row_numbers: np.ndarray, words: tuple[str, str, str]
) -> pd.DataFrame:
    """Issue ``duplicate_id`` for every row repeating an earlier row's ID, naming that first row."""
    if column not in frame.columns:
        return _no_issues()
    ids = frame[column].astype("string").str.strip().replace("", pd.NA).reset_index(drop=True)
    repeated = (ids.notna() & ids.duplicated(keep="first")).to_numpy()
    if not repeated.any():
        return _no_issues()
    first_row = pd.Series(row_numbers).groupby(ids.fillna("")).transform("first").astype(str)
    field = _field(column, headers)
    return _issues(
        repeated, "duplicate_id", f"duplicate_{words[1]}", field=field, value=ids.fillna(""), first=first_row
    )


# --------------------------------------------------------------------------- helpers


class _Field:
    """How messages name a column: the file's header, and the schema name in English."""

    def __init__(self, column: str, header: str):
        self.zh = header
        self.en = header if header == column else f"{header} ({column})"


def _field(column: str, headers: dict) -> _Field:
    header = headers.get(column)
    if header is None:
        labels = COLUMN_LABELS.get(column)
        header = labels[0] if labels else column
    return _Field(column, header)


def _has_value(values: pd.Series) -> np.ndarray:
    """Cells that hold something other than blanks."""
    text = values.astype("string").str.strip()
    return (text.notna() & (text != "")).to_numpy(dtype=bool)


def _value_key(value: str) -> str:
    return re.sub(r"\s+", "", str(value)).casefold()


def _mapped(values: pd.Series, mapping: dict, default=None) -> pd.Series:
    """``mapping[value]`` for every cell as objects, ``default`` where the value is missing or unmapped."""
    out = values.astype(object).map(mapping).astype(object)
    return out.where(out.notna(), default)


def _value_keys(values: pd.Series) -> pd.Series:
    """:func:`_value_key` of every cell (missing stays missing)."""
    return values.astype("string").str.replace(r"\s+", "", regex=True).str.casefold()


def _closest(value: str, choices: list[str]) -> str:
    match = difflib.get_close_matches(value, choices, n=1, cutoff=0.0)
    return match[0] if match else ""


def _closest_name(value: str, spelled: dict, name_to_code: dict, code_to_name: dict) -> str:
    """The Chinese name of the known district (spelled in Chinese or English) closest to ``value``."""
    key = _closest(_value_key(value), list(spelled))
    return code_to_name.get(name_to_code.get(key, ""), "")


def _crs_text(crs) -> str:
    crs = pyproj.CRS.from_user_input(crs)
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


# shapely.is_valid_reason's reasons (GEOS's words) -> the [row] table's key that says it.
_VALIDITY_REASONS = {
    "Self-intersection": "invalid_self_intersection",
    "Ring Self-intersection": "invalid_ring_self_intersection",
    "Too few points": "invalid_too_few_points",
    "Interior is disconnected": "invalid_interior_disconnected",
    "Hole lies outside shell": "invalid_hole_outside",
    "Nested holes": "invalid_nested_holes",
    "Nested shells": "invalid_nested_shells",
    "Duplicate Rings": "invalid_duplicate_rings",
    "Invalid Coordinate": "invalid_coordinate",
    "Ring is not closed": "invalid_ring_not_closed",
}


def _validity_reasons(reasons: pd.Series) -> _Both:
    """GEOS's reason per row (``"Self-intersection[109.4 24.3]"``) said in each language; where GEOS
    gives a reason not listed, its own words (with the place) in both."""
    kind = reasons.str.extract(r"^([^\[]*)", expand=False).fillna("").str.strip()
    place = reasons.str.extract(r"(\[[^\]]*\])", expand=False).fillna("")
    said = []
    for lang in LANGS:
        words = kind.map({reason: label("row", key, lang) for reason, key in _VALIDITY_REASONS.items()})
        said.append((words + place).where(words.notna(), reasons))
    return _Both(*said)


def _first_coordinates(geometry: np.ndarray, rows: np.ndarray) -> pd.Series:
    """The first vertex of each geometry of ``rows`` as ``(x, y)`` text, 6 decimals; "" elsewhere."""
    text = pd.Series("", index=range(len(geometry)), dtype=object)
    positions = np.flatnonzero(rows)
    if positions.size:
        coordinates = shapely.get_coordinates(geometry[positions], return_index=True)
        firsts = {}
        for (x, y), index in zip(coordinates[0], coordinates[1]):
            firsts.setdefault(int(index), f"({x:.6f}, {y:.6f})")
        text[positions] = [firsts.get(i, "") for i in range(positions.size)]
    return text


def _problem_mask(raw: RawLayer, columns) -> np.ndarray:
    """Rows with an unreadable cell in any of ``columns``."""
    mask = np.zeros(len(raw.frame), dtype=bool)
    for problem in raw.problems:
        if problem.column in columns:
            mask |= problem.bad
    return mask


def _row_words(row_kind: str) -> tuple[str, str, str]:
    """(Chinese prefix, English noun, Chinese suffix) naming a row: 第 N 行 / row N, 第 N 个要素 / feature N."""
    return ("第 ", "row", " 行") if row_kind == "sheet_row" else ("第 ", "feature", " 个要素")


def _rows_text(numbers, words: tuple[str, str, str], limit: int = 10) -> Message:
    """ "row 3", "rows 3, 5" or "rows 3, 5 … (12 in all)" (features likewise), said in any language."""
    numbers = [int(n) for n in numbers]
    shown = ", ".join(map(str, numbers[:limit]))
    noun = words[1]
    if len(numbers) > limit:
        return Message(f"rows_{noun}_more", rows=shown, count=len(numbers))
    return Message(f"rows_{noun}_many" if len(numbers) > 1 else f"rows_{noun}", rows=shown)


class _Both:
    """A value said differently in each language: ``zh`` and ``en`` (text, or one value per row)."""

    def __init__(self, zh, en):
        self.zh, self.en = zh, en


def _said_at(value, lang: str, positions: np.ndarray) -> np.ndarray:
    """``value`` in ``lang`` at ``positions``, as text: a scalar repeated, or a per-row value picked.

    A value with ``zh``/``en`` (a :class:`_Both`, a :class:`_Field`) is taken in ``lang``; a
    :class:`geo.errors.Message` is said in it.
    """
    if isinstance(value, (_Both, _Field)):
        value = getattr(value, lang)
    if isinstance(value, Message):
        value = value.in_language(lang)
    if isinstance(value, (pd.Series, pd.Index, np.ndarray, list)):
        picked = pd.Series(value).to_numpy(dtype=object)[positions]
        return np.array(["" if pd.isna(v) else str(v) for v in picked], dtype=object)
    return np.full(positions.size, str(value), dtype=object)


def _filled(phrase: str, values: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``phrase`` with its ``{name}`` placeholders filled from per-row texts, for ``n`` rows at once."""
    out = np.full(n, "", dtype=object)
    for literal, name, _, _ in string.Formatter().parse(phrase):
        out = out + literal
        if name is not None:
            out = out + values[name]
    return out


def _issues(mask, code: str, detail: str, /, **values) -> pd.DataFrame:
    """An issue frame for the rows of ``mask``: reason ``code``, said by the ``[row]`` phrase ``detail``.

    ``values`` fill the phrase's placeholders: text, one value per row (a Series or array as long as
    ``mask``), a :class:`_Both` or :class:`_Field` (said differently per language) or a
    :class:`geo.errors.Message`.
    """
    mask = np.asarray(mask, dtype=bool)
    positions = np.flatnonzero(mask)
    if not positions.size:
        return _no_issues()
    said = {}
    for lang in LANGS:
        details = _filled(
            label("row", detail, lang),
            {name: _said_at(v, lang, positions) for name, v in values.items()},
            positions.size,
        )
        said[lang] = list(
            _filled(
                label("row", "issue", lang),
                {"title": label("rejection", code, lang), "detail": details},
                positions.size,
            )
        )
    return pd.DataFrame({"position": positions, "code": code, "zh": said["zh"], "en": said["en"]})


def _no_issues() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=int if column == "position" else object) for column in _ISSUE_COLUMNS})


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [frame for frame in frames if len(frame)]
    return pd.concat(frames, ignore_index=True) if frames else _no_issues()


def _found_mask(found: pd.DataFrame, n_rows: int) -> np.ndarray:
    """Rows that have at least one issue in ``found``."""
    mask = np.zeros(n_rows, dtype=bool)
    mask[found["position"].to_numpy(dtype=int)] = True
    return mask


def _rejects_table(issues: pd.DataFrame, raw: RawLayer) -> pd.DataFrame:
    """One row per rejected row: number, reason codes and texts, then the original cells."""
    row_column = raw.row_kind
    if not len(issues):
        base = pd.DataFrame(
            {
                row_column: pd.Series(dtype=int),
                "reason_code": pd.Series(dtype=object),
                "reason_zh": pd.Series(dtype=object),
                "reason_en": pd.Series(dtype=object),
            }
        )
        return pd.concat([base, raw.original.iloc[:0].reset_index(drop=True).astype(object)], axis=1)
    ordered = issues.sort_values("position", kind="stable")
    grouped = ordered.groupby("position", sort=True).agg(
        code=("code", lambda codes: ";".join(dict.fromkeys(codes))),
        zh=("zh", "；".join),
        en=("en", "; ".join),
    )
    positions = grouped.index.to_numpy(dtype=int)
    table = pd.DataFrame(
        {
            row_column: raw.row_numbers[positions],
            "reason_code": grouped["code"].to_numpy(),
            "reason_zh": grouped["zh"].to_numpy(),
            "reason_en": grouped["en"].to_numpy(),
        }
    )
    original = raw.original.iloc[positions].reset_index(drop=True)
    fixed = set(table.columns)
    original = original.rename(columns={c: f"{c} (original)" for c in original.columns if c in fixed})
    return pd.concat([table, original], axis=1)
