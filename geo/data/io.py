"""Read and validate the district, community and fitness-path layers into EPSG:4326 GeoDataFrames.

``read_layer`` (the pipeline's reader) is strict: the first problem raises. ``read_raw_layer``
(the import of survey files) is lenient: it keeps every row and reports unreadable cells per row,
for ``geo.intake.validate`` to decide.

This module is the public reading API; the jobs behind it live in their own modules of
:mod:`geo.data`: :mod:`~geo.data.formats` (formats, sniffing, how messages name a file),
:mod:`~geo.data.archives` (zip caps, streaming members), :mod:`~geo.data.tables` (lenient CSV and
XLSX readers), :mod:`~geo.data.headers` (header matching, cell conversion), :mod:`~geo.data.gpkg`
(GeoPackage layers and writing) and :mod:`~geo.data.network` (no network from GDAL or PROJ).
The names re-exported below keep their documented home here.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.data import schema
from geo.data.archives import MAX_ZIP_RATIO, _check_zip_archive, _extract_shapefile
from geo.data.cells import unneutralised_cells
from geo.data.crs import is_storage_crs
from geo.data.formats import (
    _IMPORT_EXTENSION_FORMATS,
    IMPORT_FORMATS,
    KINDS,
    SUPPORTED_FORMATS,
    _check_upload_size,
    _checked_path,
    _one_line,
    _shown,
    _sniff_format,
    display_file_name,
    shown_as,
)
from geo.data.gpkg import _check_gpkg_tables, _choose_gpkg_layer, gpkg_layers, read_table, write_layers
from geo.data.headers import (
    MAX_COLUMNS,
    MAX_HEADER_CHARS,
    RESERVED_COLUMNS,
    CellProblem,
    _check_columns,
    _check_required,
    _convert_all,
    _convert_columns,
    _distinct_extra_columns,
    _header_key,
    _match_schema_names,
    _raise_first_problem,
    _rename_recognised,
    _renamed_aside,
)
from geo.data.network import _check_json_crs
from geo.data.osm import check_osm_name, is_osm_file, read_osm_roads, road_layer
from geo.data.schema import STORAGE_CRS
from geo.data.tables import (
    _WKT_COLUMNS,
    EXAMPLE_HEADERS,
    _csv_rows,
    _decoded_text,
    _has_text,
    _parse_points,
    _parse_wkt,
    _read_csv,
    _too_many_rows,
    _xlsx_rows,
)
from geo.errors import DataError, Message, data_error
from geo.i18n import label as label_of

__all__ = [
    "IMPORT_FORMATS",
    "KINDS",
    "MAX_COLUMNS",
    "MAX_HEADER_CHARS",
    "MAX_ZIP_RATIO",
    "RESERVED_COLUMNS",
    "ROW_KINDS",
    "SUPPORTED_FORMATS",
    "CellProblem",
    "RawLayer",
    "display_file_name",
    "gpkg_layers",
    "read_applications",
    "read_communities",
    "read_districts",
    "read_fitness_paths",
    "read_layer",
    "read_public_sites",
    "read_raw_layer",
    "read_roads",
    "read_table",
    "shown_as",
    "write_layers",
]

_GEOMETRY_TYPES = {
    "districts": ("Polygon", "MultiPolygon"),
    "communities": ("Polygon", "MultiPolygon"),
    "fitness_paths": ("Point",),
    "public_sites": ("Point", "Polygon", "MultiPolygon"),
    "roads": ("LineString", "MultiLineString"),
}

# Fields GDAL's KML drivers add to every placemark; they describe the map display, not the data.
_KML_STYLE_FIELDS = (
    "id",
    "description",
    "timestamp",
    "begin",
    "end",
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
    "snippet",
)


# --------------------------------------------------------------------------- public API


def read_layer(path, kind: str, layer: str | None = None, source_crs: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer of districts, communities or fitness paths, checked against its schema.

    Parameters
    ----------
    path : str or os.PathLike
        A GeoPackage, GeoJSON, zipped Shapefile or CSV file. The format is recognised from the
        file's first bytes (SQLite header, zip magic, ``{``, otherwise text is CSV); the
        extension only sharpens the error when the content matches no supported format.
    kind : {"communities", "fitness_paths", "districts"}
        Which layer the file holds; selects the column schema of ``geo.data.schema.LAYERS`` and the
        allowed geometry types (Polygon/MultiPolygon for communities and districts, Point for
        fitness paths).
    layer : str, optional
        GeoPackage layer to read. By default the layer named ``kind``, else the only layer.
        Ignored for the other formats.
    source_crs : str, optional
        Coordinate system of files that carry none (CSV; Shapefile without ``.prj``):
        ``"wgs84"`` (the default), ``"gcj02"``, ``"bd09"`` or ``"EPSG:n"``, in any spelling
        accepted by :func:`geo.data.crs.normalise_crs_name`. GCJ-02 and BD-09 mean WGS84-like
        longitude/latitude degrees shifted by that Chinese offset; they are converted with
        :func:`geo.data.crs.convert_geometries`. A file whose own CRS is geographic WGS84
        (EPSG:4326 or OGC:CRS84 — GeoJSON always is, and GCJ-02 has no code of its own) is
        shifted if ``source_crs`` is ``"gcj02"``/``"bd09"``. A file with any other CRS is
        reprojected from that CRS and ``source_crs`` is ignored: the file's CRS wins.

    Returns
    -------
    geopandas.GeoDataFrame
        CRS EPSG:4326 (longitude, latitude in degrees), a fresh RangeIndex, and columns in the
        order: schema columns (declared dtypes: ``str`` → ``"string"``, ``int`` → ``"Int64"``,
        ``float`` → ``float64``, ``bool`` → ``"boolean"``; optional columns absent from the file
        are added, all missing), then the file's extra columns as read, then ``geometry``.

    Raises
    ------
    ValueError
        If the format is not supported, the layer cannot be chosen, a required column is missing
        (the message lists the columns present), a value cannot be converted to its column's
        kind (the message names the column, the 1-based data row — header not counted — and the
        value), the file has no geometry, or a row's geometry is missing or of the wrong type.
        Also for the files :func:`read_raw_layer` refuses as unsafe: a GeoPackage layer that is
        a view or has computed columns, a zip member that is damaged, unpacks to something else
        than it declares or more than ``MAX_ZIP_RATIO`` times its compressed size.
    FileNotFoundError
        If ``path`` does not exist.

    Notes
    -----
    Column names are matched to the schema case-insensitively. Shapefile field names are at
    most 10 characters, so GDAL truncates longer ones on writing (``district_code`` →
    ``district_c``, ``district_name_en`` → ``district_1`` after a clash); such names are mapped
    back to the schema name, computed as GDAL does for fields written in schema order. Extra
    columns keep their (possibly truncated) names.

    Text encodings: a CSV is decoded as UTF-8 (with or without BOM), else as GBK/GB18030; every
    CSV cell is read as text first, so codes keep leading zeros. A zipped Shapefile is decoded
    with the encoding its ``.cpg`` names (``UTF-8``, ``GBK``, ``936`` …); without ``.cpg`` and
    without a code page in the ``.dbf`` header, its text is decoded as UTF-8 if valid, else GBK.
    """
    path = _checked_path(path, kind)

    file_format = _sniff_format(path)
    if file_format == "gpkg":
        layer = _choose_gpkg_layer(path, kind, layer)
        label = Message("label_gpkg_layer", kind=Message(f"kind_{kind}"), layer=repr(layer), file=_shown(path))
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    elif file_format == "geojson":
        label = Message("label_file", kind=Message(f"kind_{kind}"), file=_shown(path))
        _check_json_crs(path, label)
        frame = gpd.read_file(path, engine="pyogrio")
    elif file_format == "zip":
        _check_zip_archive(path, None)  # the same refusals as an upload: no escaping paths, no bombs
        with tempfile.TemporaryDirectory(prefix="read-") as folder:
            shp, member, encoding = _extract_shapefile(path, Path(folder), None)
            label = Message("label_shapefile", kind=Message(f"kind_{kind}"), member=member, file=_shown(path))
            frame = gpd.read_file(shp, engine="pyogrio", **({"encoding": encoding} if encoding else {}))
    else:
        label = Message("label_file", kind=Message(f"kind_{kind}"), file=_shown(path))
        frame = _read_csv(path, label)

    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise data_error("no_geometry_column", label=label)
    if len(frame) == 0:
        if kind != "fitness_paths":
            raise data_error("no_features", label=label)
        # A city may have no fitness paths yet: an empty layer is valid.
        empty, _ = _convert_columns(gpd.GeoDataFrame(geometry=[], crs=STORAGE_CRS), kind)
        return _ordered(empty, kind)

    frame = frame.reset_index(drop=True)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    frame = _match_schema_names(frame, kind, shapefile=file_format == "zip")
    _check_required(frame, kind, label)
    frame, problems = _convert_columns(frame, kind)
    _raise_first_problem(problems, label)
    _check_geometry(frame, kind, label)
    frame = _to_storage_crs(frame, source_crs)
    return _ordered(frame, kind)


def read_communities(path, **kw) -> gpd.GeoDataFrame:
    """Read community polygons; ``read_layer(path, "communities", **kw)``.

    Returns a GeoDataFrame in EPSG:4326 with ``geo.data.schema.COMMUNITY_COLUMNS`` and Polygon or
    MultiPolygon geometry; see :func:`read_layer` for the arguments and errors.
    """
    return read_layer(path, "communities", **kw)


def read_fitness_paths(path, **kw) -> gpd.GeoDataFrame:
    """Read existing fitness-path points; ``read_layer(path, "fitness_paths", **kw)``.

    Returns a GeoDataFrame in EPSG:4326 with ``geo.data.schema.FITNESS_PATH_COLUMNS`` and Point
    geometry; see :func:`read_layer` for the arguments and errors.
    """
    return read_layer(path, "fitness_paths", **kw)


def read_public_sites(path, layer: str = "public_sites", **kw) -> gpd.GeoDataFrame:
    """Read public sites (parks, squares, greenways …) where a set could go; ``read_layer(path, "public_sites")``.

    Returns a GeoDataFrame in EPSG:4326 with ``geo.data.schema.PUBLIC_SITE_COLUMNS`` and Point,
    Polygon or MultiPolygon geometry. ``kind`` and ``consent`` hold codes (``schema.SITE_KINDS``,
    ``schema.SITE_CONSENTS``) whatever words the file uses (口袋公园, 广场, 是/否/未知 …, see
    ``schema.SITE_VALUE_SYNONYMS``); a missing kind is ``"other"``, a missing consent ``"unknown"``.
    ``usable_area_m2`` is in square metres (missing = unknown).

    Raises
    ------
    geo.errors.DataError
        As :func:`read_layer`, and for the first row whose kind or consent is not a known word
        (naming the row, 1-based, the column, the value and the words allowed).
    """
    frame = read_layer(path, "public_sites", layer=layer, **kw)
    kind, shown = Message("kind_public_sites"), _shown(Path(path))
    if _sniff_format(Path(path)) == "gpkg":
        label = Message("label_gpkg_layer", kind=kind, layer=repr(layer), file=shown)
    else:
        label = Message("label_file", kind=kind, file=shown)
    for column, default in (("kind", "other"), ("consent", "unknown")):
        frame[column] = _site_codes(frame[column], column, default, label)
    return frame


def _site_key(word: str) -> str:
    """A word as compared to ``schema.SITE_VALUE_SYNONYMS``: casefolded, no spaces or ``_``, half-width brackets."""
    return word.casefold().replace("（", "(").replace("）", ")").replace(" ", "").replace("_", "").replace("\u3000", "")


def _site_codes(values: pd.Series, column: str, default: str, label) -> pd.Series:
    """The codes of the words ``values`` of a site's ``column``; missing or blank → ``default``; unknown → raise."""
    codes = schema.SITE_VALUE_SYNONYMS[column]
    lookup = {_site_key(word): code for code, words in codes.items() for word in words}
    out = []
    for row, value in enumerate(values, start=1):
        if pd.isna(value) or not str(value).strip():
            out.append(default)
            continue
        code = lookup.get(_site_key(str(value).strip()))
        if code is None:
            words = "、".join(label_of("message", f"site_{column}_{code}", "zh") for code in codes)
            choices = f"{'/'.join(codes)} ({words})"
            shown = _one_line(str(value))[:60]
            raise data_error("invalid_site_value", label=label, row=row, column=column, value=shown, choices=choices)
        out.append(code)
    return pd.Series(out, index=values.index, dtype="string")


def read_roads(path, layer: str = "roads", **kw) -> gpd.GeoDataFrame:
    """Read the roads a resident can walk along (streets, paths, bridges …), from a file or an OSM extract.

    Parameters
    ----------
    path : str or os.PathLike
        A GeoPackage, GeoJSON or zipped Shapefile of lines (checked as :func:`read_layer`), or an
        OpenStreetMap extract (``.osm.pbf`` or OSM XML, recognised by its content; read by
        :func:`geo.data.osm.read_osm_roads`, where ``layer`` and ``source_crs`` do not apply).
    layer : str
        GeoPackage layer (default ``"roads"``, else the only layer).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, ``geo.data.schema.ROAD_COLUMNS`` and LineString/MultiLineString geometry, as
        :func:`geo.data.osm.road_layer` completes them: ``kind`` a code (快速路 → trunk, 人行道 →
        footway …, ``schema.ROAD_KIND_WORDS``; other words kept), ``walkable`` as the file says, else by
        the kind (and ``foot``/``access`` columns when the file has them), ``bridge`` as the file says,
        else True for a kind ``bridge``; a missing ``road_id`` is the row number.

    Raises
    ------
    geo.errors.DataError
        As :func:`read_layer` (a row that is not a line is named with its row number and type).
    """
    if is_osm_file(_checked_path(path, "roads")):
        return read_osm_roads(path)
    check_osm_name(path)  # an .osm.pbf that is no extract would be read as a CSV and said to lack headers
    frame = read_layer(path, "roads", layer=layer, **kw)
    extra = [column for column in ("foot", "access") if column in frame.columns]
    return road_layer(frame[[*schema.ROAD_COLUMNS, *extra, "geometry"]])


def read_districts(path, **kw) -> gpd.GeoDataFrame:
    """Read district boundaries; ``read_layer(path, "districts", **kw)``.

    Returns a GeoDataFrame in EPSG:4326 with ``geo.data.schema.DISTRICT_COLUMNS`` and Polygon or
    MultiPolygon geometry; see :func:`read_layer` for the arguments and errors.
    """
    return read_layer(path, "districts", **kw)


# --------------------------------------------------------------------------- lenient reading (import)

ROW_KINDS = {
    "sheet_row": "the row number Excel/WPS shows: a CSV's header is row 1, an XLSX keeps its sheet's numbering",
    "feature": "feature number, 1-based in file order",
}


@dataclass(frozen=True)
class RawLayer:
    """A layer as read, row by row, with what could not be read instead of an error.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        One row per data row of the file, on a RangeIndex. Recognised columns renamed to their
        schema name (``geo.data.schema.LAYERS[kind]``, all present, declared dtypes) or intake name
        (``geo.data.schema.INTAKE_COLUMNS[kind]``, only those in the file); unreadable cells are
        missing. Other columns as read. ``geometry`` in the file's own coordinates: its CRS is
        the file's, or None when the file declares none (CSV, XLSX, Shapefile without .prj).
        Missing (None) where the file gives no readable geometry.
    original : pandas.DataFrame
        The cells as read under the file's own headers, row for row; for a geodata file the
        geometry as WKT in a column ``wkt``.
    row_numbers : numpy.ndarray of int
        The number by which the user finds each row (see ``row_kind``).
    row_kind : {"sheet_row", "feature"}
        ``"sheet_row"`` for CSV and XLSX: the row number Excel/WPS shows (a CSV's header is row
        1, so its first data row is 2; an XLSX keeps its sheet's numbering, title rows above the
        header included); blank rows are not data rows but keep their number. ``"feature"`` for
        geodata files: the 1-based position in file order.
    problems : tuple of CellProblem
        Cells that could not be read (only columns with at least one bad cell).
    headers : dict of str to str
        Recognised column name → the file's header for it.
    geometry_columns : tuple of str
        The columns the geometry was built from (``longitude``/``latitude``, a WKT column) or
        ``("geometry",)`` for a geodata file.
    file_format : str
        "gpkg", "geojson", "zip" (Shapefile), "kml", "csv" or "xlsx".
    file_crs : pyproj.CRS or None
        The file's own coordinate system.
    label : str
        How messages name the file.
    notes : tuple of str
        Remarks for the user (an extension that does not match the content, columns not found).
    """

    frame: gpd.GeoDataFrame
    original: pd.DataFrame
    row_numbers: np.ndarray
    row_kind: str
    problems: tuple
    headers: dict
    geometry_columns: tuple
    file_format: str
    file_crs: object
    label: str
    notes: tuple


def read_raw_layer(
    path,
    kind: str,
    layer: str | None = None,
    *,
    max_upload_mb: float | None = None,
    max_unzipped_mb: float | None = None,
    max_rows: int | None = None,
    max_vertices: int | None = None,
    column_map: dict | None = None,
) -> RawLayer:
    """Read a layer leniently for import: every data row kept, unreadable cells reported per row.

    Unlike :func:`read_layer` nothing is decided here: no row is dropped and no coordinate is
    converted; :mod:`geo.intake.validate` decides from the returned :class:`RawLayer`.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage, GeoJSON, zipped Shapefile (UTF-8 or GBK ``.dbf``, ``.cpg`` honoured), KML,
        CSV (UTF-8, UTF-8 with BOM or GBK; longitude/latitude or WKT columns) or XLSX (the
        survey template's sheet ``小区调查``, else the first sheet with recognisable headers in
        one of its first 10 rows; cell values as stored, formulas never evaluated: a formula
        cell without a stored value is reported as a ``"formula"`` problem). The format is
        recognised from the content; an extension that disagrees gives a note.
    kind : {"communities", "fitness_paths", "districts"}
        Which layer the file holds; selects the recognised columns.
    layer : str, optional
        GeoPackage layer; by default the one named ``kind``, else the only one.
    max_upload_mb : float, optional
        Refuse a file larger than this many MB (2**20 bytes) before reading it.
    max_unzipped_mb : float, optional
        Refuse a zip (Shapefile or XLSX) whose members add up to more than this many MB, as
        declared (before unpacking) or as really unpacked (counted while unpacking).
    max_rows : int, optional
        Refuse a file with more data rows (features) than this: a CSV or workbook is read no
        further than ``max_rows + 1`` data rows; a geodata file's features are counted before
        they are read.
    max_vertices : int, optional
        Refuse a file whose geometries have more vertices (coordinates) than this in all, counted
        as soon as they are read, before anything else is done with them.
    column_map : dict of str to str, optional
        The user's header for some of our fields (field → header, e.g. ``{"name": "小区名称"}``),
        applied before recognition and winning over it; a header the file lacks is an error that
        lists the file's columns (:func:`geo.data.headers.mappable_fields` lists the fields).

    Returns
    -------
    RawLayer

    Raises
    ------
    ValueError
        The file cannot be read at all: too large, empty, unsupported or damaged format, a zip
        with a member path leaving its folder (absolute or ``..``), a member that would unpack
        more than ``MAX_ZIP_RATIO`` times its compressed size, members above
        ``max_unzipped_mb``, a member that unpacks to other than its declared size or checksum,
        is encrypted or compressed otherwise than with Deflate, a zip directory of more than
        ``_ZIP_DIRECTORY_MAX_BYTES``, a workbook part read whole (styles, workbook, relations)
        above ``_WORKBOOK_PART_MAX_MB``, a GeoPackage layer (or its metadata tables) that is a
        view or virtual table, or has computed columns, more rows than ``max_rows`` or vertices
        than ``max_vertices``, a zip without exactly one Shapefile, a workbook without a sheet
        of recognisable headers, a table with no recognisable column. Messages are one line.
    FileNotFoundError
        If ``path`` does not exist.

    Notes
    -----
    Headers are recognised by their schema name, their labels in ``geo.i18n.COLUMN_LABELS``
    (Chinese and English) and ``geo.data.schema.COLUMN_SYNONYMS``, ignoring case, spaces, ``_``,
    ``-`` and full-width forms. Nothing in a file is executed or evaluated: no formula, and no
    SQL of a GeoPackage (views, computed columns and triggers are never run).

    Memory stays bounded by the limits: zip members are unpacked in 1 MB chunks to a temporary
    folder (a Shapefile's parts, or a copy of a workbook for openpyxl) whatever sizes the zip
    declares; a CSV is decoded and parsed in chunks.
    """
    path = _checked_path(path, kind, extended=True)
    _check_upload_size(path, max_upload_mb)
    file_format = _sniff_format(path, extended=True)
    notes = []
    named = _IMPORT_EXTENSION_FORMATS.get(path.suffix.lower())
    if named is not None and named != file_format:
        found = Message(f"format_a_{file_format}")
        notes.append(Message("note_extension", file=_shown(path), suffix=path.suffix, found=found))
    if file_format in ("zip", "xlsx"):
        _check_zip_archive(path, max_unzipped_mb)
    label = Message("label_file", kind=Message(f"kind_{kind}"), file=_shown(path))
    if file_format in ("csv", "xlsx"):
        if file_format == "csv":
            table, row_numbers, formulas = _csv_rows(path, label, max_rows, notes)
        else:
            table, row_numbers, formulas = _xlsx_rows(path, kind, label, max_unzipped_mb, max_rows, notes)
        raw = _raw_from_table(table, row_numbers, formulas, kind, file_format, label, notes, column_map)
        _check_vertices(raw.frame.geometry.to_numpy(), label, max_vertices)
        return raw
    frame = _read_geodata(path, file_format, kind, layer, label, max_unzipped_mb, max_rows)
    if isinstance(frame, gpd.GeoDataFrame) and frame.active_geometry_name is not None:
        _check_vertices(frame.geometry.to_numpy(), label, max_vertices)
    return _raw_from_geodata(frame, kind, file_format, label, notes, column_map)


def _read_geodata(
    path: Path,
    file_format: str,
    kind: str,
    layer: str | None,
    label: str,
    max_unzipped_mb: float | None = None,
    max_rows: int | None = None,
):
    """Read a GeoPackage, GeoJSON, zipped Shapefile or KML with GDAL; damage becomes ValueError.

    With ``max_rows`` the features are counted first (``pyogrio.read_info``) and no more than
    ``max_rows + 1`` are read, in case the count a file stores is wrong.
    """
    try:
        if file_format == "gpkg":
            layer = _choose_gpkg_layer(path, kind, layer)
            return _read_features(path, [layer], label, max_rows)[0]
        if file_format == "geojson":
            _check_json_crs(path, label)
            return _read_features(path, [None], label, max_rows)[0]
        if file_format == "kml":
            return _read_kml(path, label, max_rows)
        with tempfile.TemporaryDirectory(prefix="intake-") as folder:
            shp, _, encoding = _extract_shapefile(path, Path(folder), max_unzipped_mb)
            return _read_features(shp, [None], label, max_rows, encoding)[0]
    except ValueError:
        raise
    except Exception as error:  # GDAL, SQLite and zip errors of a damaged file have many types
        raise data_error(
            "geodata_unreadable", label=label, format=Message(f"format_{file_format}"), detail=_one_line(error)
        ) from None


def _read_features(
    path: Path, layers: list, label: str, max_rows: int | None, encoding: str | None = None
) -> list[gpd.GeoDataFrame]:
    """The features of each of ``layers`` (None: the only one), read by GDAL, within ``max_rows`` in all."""
    options = {"encoding": encoding} if encoding else {}
    if max_rows is not None:
        infos = [pyogrio.read_info(path, layer=name, force_feature_count=True, **options) for name in layers]
        _check_columns(max((len(info["fields"]) for info in infos), default=0), label)
        count = sum(info["features"] for info in infos)
        if count > max_rows:
            raise DataError(_too_many_rows(label, Message("found_features", count=count), max_rows, "before_reading"))
    # A geometry GEOS cannot hold (a line of one point) is read as missing, so that its row is rejected as empty
    # (with its number) while the rest loads, instead of the whole file failing.
    frames = [
        gpd.read_file(
            path,
            layer=name,
            engine="pyogrio",
            max_features=None if max_rows is None else max_rows + 1,
            on_invalid="ignore",
            **options,
        )
        for name in layers
    ]
    if max_rows is not None and sum(len(frame) for frame in frames) > max_rows:
        found = Message("found_more_features", count=max_rows)
        raise DataError(_too_many_rows(label, found, max_rows, "while_reading"))
    return frames


def _check_vertices(geometry: np.ndarray, label: str, max_vertices: int | None) -> None:
    """Refuse geometries with more than ``max_vertices`` coordinates in all (missing ones have none)."""
    if max_vertices is None:
        return
    count = int(shapely.get_num_coordinates(np.asarray(geometry, dtype=object)).sum())
    if count > max_vertices:
        raise data_error("too_many_vertices", label=label, count=count, limit=max_vertices)


def _read_kml(path: Path, label: str, max_rows: int | None = None) -> gpd.GeoDataFrame:
    """All placemarks of a KML (every folder, in order), without GDAL's display fields."""
    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    frames = _read_features(path, names, label, max_rows)
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs=STORAGE_CRS)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    unused = [
        column
        for column in _KML_STYLE_FIELDS
        if column in frame.columns and not (column == "description" and _has_text(frame[column]))
    ]
    return frame.drop(columns=unused)


def _raw_ordered(frame: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """Schema columns, the intake columns present, the file's other columns, then ``geometry``."""
    columns = list(schema.LAYERS[kind]) + [c for c in schema.INTAKE_COLUMNS[kind] if c in frame.columns]
    others = [c for c in frame.columns if c not in columns and c != "geometry"]
    return frame[columns + others + ["geometry"]]


def _fill_points(geometry: np.ndarray, frame: pd.DataFrame) -> tuple[np.ndarray, bool]:
    """Fill missing geometries with points from converted ``longitude``/``latitude`` columns, if any."""
    if "longitude" not in frame.columns or "latitude" not in frame.columns:
        return geometry, False
    points, _, _ = _parse_points(frame["longitude"], frame["latitude"])
    missing = pd.isna(geometry)
    geometry = geometry.copy()
    geometry[missing] = points[missing]
    return geometry, True


def _raw_from_table(
    table: pd.DataFrame,
    row_numbers: np.ndarray,
    formulas: dict,
    kind: str,
    file_format: str,
    label: str,
    notes: list,
    column_map: dict | None = None,
) -> RawLayer:
    """A RawLayer from text cells (CSV or XLSX): geometry from a WKT column and/or longitude/latitude.

    A ``'`` that our own writers put before a formula start (geo.data.cells) is dropped from the
    values, so a corrected rejects file reads back as it was; ``original`` keeps the cells as given.
    """
    original = table.copy()
    table = table.apply(unneutralised_cells)
    renamed, headers = _rename_recognised(table, kind, column_map=column_map, label=label)
    if not headers:
        columns = ", ".join(map(str, table.columns)) or Message("none")
        raise data_error("no_recognisable_column", label=label, columns=columns, headers=EXAMPLE_HEADERS)
    loose = {_header_key(column): column for column in reversed(renamed.columns) if column not in headers}
    if ("longitude" not in headers or "latitude" not in headers) and "x" in loose and "y" in loose:
        renamed = renamed.rename(columns={loose["x"]: "longitude", loose["y"]: "latitude"})
        headers.update(longitude=loose["x"], latitude=loose["y"])
    problems, geometry_columns = [], []
    geometry = np.full(len(renamed), None, dtype=object)
    wkt_column = next((loose[name] for name in _WKT_COLUMNS if name in loose), None)
    if wkt_column is not None:
        geometry, bad = _parse_wkt(renamed[wkt_column])
        problems.append(CellProblem(wkt_column, bad, renamed[wkt_column], "wkt"))
        geometry_columns.append(wkt_column)
        renamed = renamed.drop(columns=[wkt_column])
    frame, converted_problems = _convert_all(gpd.GeoDataFrame(renamed, geometry=geometry), kind)
    geometry, from_points = _fill_points(frame.geometry.to_numpy(), frame)
    if from_points:
        geometry_columns += ["longitude", "latitude"]
        frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index))
    elif wkt_column is None:
        notes.append(Message("note_no_geometry_columns", label=label, columns=", ".join(map(str, table.columns))))
    by_header = {header: name for name, header in headers.items()}
    for header, mask in formulas.items():
        problems.append(CellProblem(by_header.get(header, header), mask, original[header], "formula"))
    frame = _distinct_extra_columns(_raw_ordered(frame, kind), kind, headers, label, notes)
    return RawLayer(
        frame=frame,
        original=original,
        row_numbers=np.asarray(row_numbers, dtype=int),
        row_kind="sheet_row",
        problems=tuple(p for p in problems + converted_problems if p.bad.any()),
        headers=headers,
        geometry_columns=tuple(geometry_columns),
        file_format=file_format,
        file_crs=None,
        label=label,
        notes=tuple(notes),
    )


def _raw_from_geodata(frame, kind: str, file_format: str, label: str, notes: list, column_map=None) -> RawLayer:
    """A RawLayer from a GeoPackage, GeoJSON, Shapefile or KML layer as GDAL read it."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        frame = gpd.GeoDataFrame(pd.DataFrame(frame), geometry=[None] * len(frame))
    frame = frame.reset_index(drop=True)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    attributes = pd.DataFrame(frame.drop(columns="geometry"))
    for name in attributes.columns:
        if len(str(name)) > MAX_HEADER_CHARS:
            raise data_error("field_name_too_long", label=label, length=len(str(name)), limit=MAX_HEADER_CHARS)
    original = attributes.astype(object).where(attributes.notna(), None)
    original["wkt"] = shapely.to_wkt(frame.geometry.to_numpy())
    renamed, headers = _rename_recognised(frame, kind, file_format == "zip", column_map, label)
    converted, problems = _convert_all(renamed, kind)
    geometry, from_points = _fill_points(converted.geometry.to_numpy(), converted)
    converted = converted.set_geometry(gpd.GeoSeries(geometry, index=converted.index, crs=frame.crs))
    converted = _distinct_extra_columns(_raw_ordered(converted, kind), kind, headers, label, notes)
    return RawLayer(
        frame=converted,
        original=original,
        row_numbers=np.arange(1, len(frame) + 1),
        row_kind="feature",
        problems=tuple(problems),
        headers=headers,
        geometry_columns=("geometry", "longitude", "latitude") if from_points else ("geometry",),
        file_format=file_format,
        file_crs=frame.crs,
        label=label,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- geometry and CRS


def _geometry_problems(geometry: gpd.GeoSeries, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row masks: geometry missing or empty, and geometry of a type ``kind`` does not allow."""
    absent = (geometry.isna() | geometry.is_empty).to_numpy()
    wrong_type = ~absent & ~geometry.geom_type.isin(_GEOMETRY_TYPES[kind]).to_numpy()
    return absent, wrong_type


def _check_geometry(frame: gpd.GeoDataFrame, kind: str, label: str) -> None:
    """Raise ValueError if no row has geometry, or for the first row with missing/wrong geometry."""
    absent, wrong_type = _geometry_problems(frame.geometry, kind)
    types = _GEOMETRY_TYPES[kind]
    allowed = Message("either", first=types[0], second=types[1]) if len(types) == 2 else ", ".join(types)
    kind_name = Message(f"kind_{kind}")
    if absent.all():
        raise data_error("no_geometries", label=label, kind=kind_name, allowed=allowed)
    bad_rows = np.flatnonzero(absent | wrong_type)
    if bad_rows.size:
        row = int(bad_rows[0])
        if absent[row]:
            found = Message("found_no_geometry")
        else:
            found = Message("found_geometry_type", type=frame.geometry.iloc[row].geom_type)
        raise data_error("wrong_geometry", label=label, row=row + 1, found=found, kind=kind_name, allowed=allowed)


def _to_storage_crs(frame: gpd.GeoDataFrame, source_crs: str | None) -> gpd.GeoDataFrame:
    """Bring ``frame`` to EPSG:4326 from its own CRS, else from ``source_crs`` (see read_layer)."""
    declared = None
    if source_crs is not None:
        from geo.data.crs import normalise_crs_name

        declared = normalise_crs_name(source_crs)

    if frame.crs is not None and not is_storage_crs(frame.crs):
        return frame.to_crs(STORAGE_CRS)  # the file's own CRS wins over a declared one
    if frame.crs is None and declared is not None and declared.startswith("EPSG:"):
        return frame.set_crs(declared).to_crs(STORAGE_CRS)
    if declared in ("gcj02", "bd09"):
        from geo.data.crs import convert_geometries

        shifted = convert_geometries(frame.geometry.to_numpy(), declared, "wgs84")
        frame = frame.set_geometry(gpd.GeoSeries(shifted, index=frame.index, name="geometry"), crs=None)
    return frame.set_crs(STORAGE_CRS, allow_override=True)


def _ordered(frame: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """Schema columns, then extras, then ``geometry``, on a fresh RangeIndex."""
    columns = list(schema.LAYERS[kind])
    extras = [column for column in frame.columns if column not in columns and column != "geometry"]
    return frame[columns + extras + ["geometry"]].reset_index(drop=True)


def read_applications(path, layer: str = "applications", column_map: dict | None = None) -> pd.DataFrame:
    """Applications received through district offices: ``community_id`` and ``application_date``.

    Parameters
    ----------
    path : str or os.PathLike
        A GeoPackage (attribute table ``layer``) or a CSV (UTF-8 with or without BOM, or GBK).
    layer : str
        The GeoPackage table to read.
    column_map : dict of str to str, optional
        The file's column for ``community_id`` and/or ``application_date`` (field → column), e.g.
        from ``--map applications.community_id=编号``; a field not mapped is found by its name
        (any case) or its Chinese header (小区编号, 申请日期). A column already named as a mapped
        field steps aside as ``"<name> (file)"``.

    Returns
    -------
    DataFrame
        ``community_id`` (string) and ``application_date`` (datetime64, day precision); extra
        columns kept.

    Raises
    ------
    DataError
        A mapped column the file lacks (naming the file's columns); a required column missing
        (naming the file's columns); a date that cannot be read (naming its 1-based row).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; check the path")
    if _sniff_format(path) == "gpkg":
        _check_gpkg_tables(path, layer)
        frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    else:
        frame = pd.read_csv(
            io.StringIO(_decoded_text(path.read_bytes(), _shown(path))), dtype=str, keep_default_na=False
        )
    frame = _application_columns(frame, column_map or {}, _shown(path))
    frame["community_id"] = frame["community_id"].astype("string").str.strip()
    dates = pd.to_datetime(frame["application_date"], errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        value = frame["application_date"].iloc[bad[0]]
        raise data_error("applications_bad_date", file=_shown(path), row=bad[0] + 1, value=repr(value))
    frame["application_date"] = dates.astype("datetime64[ns]")
    return frame


_APPLICATION_HEADERS = {"小区编号": "community_id", "申请日期": "application_date"}


def _application_columns(frame: pd.DataFrame, column_map: dict, shown: str) -> pd.DataFrame:
    """``frame`` with ``community_id`` and ``application_date`` named so (see :func:`read_applications`)."""
    columns = ", ".join(repr(str(c)) for c in frame.columns) or Message("none_parenthesised")
    present = {str(c).strip(): c for c in frame.columns}
    explicit = {}
    for field, header in column_map.items():
        if str(header).strip() not in present:
            raise data_error("map_missing_column", label=shown, field=field, column=repr(header), columns=columns)
        explicit[present[str(header).strip()]] = field
    aside = [c for c in frame.columns if c not in explicit and str(c).strip().lower() in column_map]
    renames = {**_renamed_aside(aside, frame.columns), **explicit}
    for column in frame.columns:
        if column in renames:
            continue
        name = str(column).strip()
        field = _APPLICATION_HEADERS.get(name, name.lower())
        if field in ("community_id", "application_date") and field not in column_map:
            if field not in renames.values():
                renames[column] = field
        elif name.lower() != column:
            renames[column] = name.lower()
    frame = frame.rename(columns=renames)
    for column in ("community_id", "application_date"):
        if column not in frame.columns:
            raise data_error("applications_column_absent", file=shown, column=column, columns=columns)
    return frame
