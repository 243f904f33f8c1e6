"""Read and validate the district, community and fitness-path layers into EPSG:4326 GeoDataFrames.

``read_layer`` (the pipeline's reader) is strict: the first problem raises. ``read_raw_layer``
(the import of survey files) is lenient: it keeps every row and reports unreadable cells per row,
for ``geo.intake.validate`` to decide.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import ctypes
import datetime
import functools
import io
import json
import mmap
import os
import re
import sqlite3
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pyproj.network
import shapely

from geo.data import schema
from geo.data.cells import unneutralised_cells
from geo.data.crs import is_storage_crs
from geo.data.files import atomic_write
from geo.i18n import COLUMN_LABELS
from geo.data.schema import STORAGE_CRS

# The name a file is shown under in messages, when it is not the file's own: the app stores an
# upload under a fixed name (never the user's), and its messages must still name the user's file.
_DISPLAY_NAMES: contextvars.ContextVar[dict] = contextvars.ContextVar("display_names", default={})


@contextlib.contextmanager
def shown_as(path, name: str | None):
    """Within this block, messages about ``path`` (and its copies of the same name) call it ``name``.

    ``name`` is the user's file name, shown as text; None leaves the file's own name.
    """
    if not name:
        yield
        return
    token = _DISPLAY_NAMES.set({**_DISPLAY_NAMES.get(), Path(path).name: display_file_name(name)})
    try:
        yield
    finally:
        _DISPLAY_NAMES.reset(token)


def display_file_name(name: str, limit: int = 120) -> str:
    """A user's file name fit for a one-line message: its last path part, without control or
    direction-changing characters (a right-to-left override would reverse the text after it), cut
    to ``limit`` characters."""
    name = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")).strip()
    return (name[:limit] + "…") if len(name) > limit else (name or "?")


def _shown(path) -> str:
    """How messages name ``path``: the name given with :func:`shown_as`, else the file's own."""
    own = Path(path).name
    return _DISPLAY_NAMES.get().get(own, own)


SUPPORTED_FORMATS = (
    "GeoPackage (.gpkg)",
    "GeoJSON (.geojson, .json)",
    "zipped Shapefile (.zip holding one .shp with its .dbf, .shx and .prj)",
    "CSV (.csv, UTF-8 or GBK; longitude/latitude columns or a WKT column)",
)

KINDS = tuple(schema.LAYERS)

# ``schema`` declares no required district columns yet; then none are required.
_REQUIRED_COLUMNS = {
    "districts": tuple(getattr(schema, "REQUIRED_DISTRICT_COLUMNS", ())),
    "communities": tuple(schema.REQUIRED_COMMUNITY_COLUMNS),
    "fitness_paths": tuple(schema.REQUIRED_FITNESS_PATH_COLUMNS),
}

_GEOMETRY_TYPES = {
    "districts": ("Polygon", "MultiPolygon"),
    "communities": ("Polygon", "MultiPolygon"),
    "fitness_paths": ("Point",),
}

# Pandas dtype of each schema kind: all nullable, so a missing cell stays missing.

_BOOL_WORDS = {
    "true": True, "1": True, "yes": True, "y": True, "是": True,
    "false": False, "0": False, "no": False, "n": False, "否": False,
}

_KIND_DESCRIPTIONS = {
    "int": "a whole number (e.g. 1250)",
    "float": "a number (e.g. 0.18 or 350.5)",
    "bool": "true/false (accepted: true, false, 1, 0, yes, no, y, n, 是, 否)",
    "date": "a date (e.g. 2018-09-01)",
}

# CSV headers for point coordinates, in order of preference (compared casefolded): any
# longitude name pairs with any latitude name; x pairs only with y.
_LON_NAMES = ("longitude", "lon", "lng", "经度")
_LAT_NAMES = ("latitude", "lat", "纬度")
_XY_NAMES = ("x", "y")
_WKT_COLUMNS = ("geometry", "wkt")

_SQLITE_MAGIC = b"SQLite format 3\x00"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_UTF8_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 4096

_EXTENSION_FORMATS = {
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "geojson",
    ".zip": "zip",
    ".csv": "csv",
    ".txt": "csv",
}

# What ``read_raw_layer`` (the import of survey data) reads besides the formats above.
IMPORT_FORMATS = SUPPORTED_FORMATS + (
    "KML (.kml)",
    "Excel workbook (.xlsx: the survey template's sheet 小区调查, or any sheet with recognisable headers)",
)
_IMPORT_EXTENSION_FORMATS = {**_EXTENSION_FORMATS, ".kml": "kml", ".xlsx": "xlsx"}
_FORMAT_NAMES = {
    "gpkg": "GeoPackage", "geojson": "GeoJSON", "zip": "zipped Shapefile", "csv": "CSV",
    "kml": "KML", "xlsx": "Excel workbook",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# A zip member that unpacks to more than this many times its compressed size is refused (a
# "zip bomb"); below _ZIP_RATIO_MIN_BYTES unpacked the ratio is not checked, since tiny files of
# repeated bytes compress very well and are harmless.
MAX_ZIP_RATIO = 100
_ZIP_RATIO_MIN_BYTES = 1 << 20
_COPY_CHUNK = 1 << 20
_MB = 1 << 20

# Sizes a zip declares are never trusted: members are unpacked in chunks of _COPY_CHUNK, counting
# the bytes that really come out. Only Deflate and stored members are read: zipfile bounds what one
# read of those unpacks to, but not for bzip2 or LZMA (a few KB of either can unpack to gigabytes).
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# ``zipfile.ZipFile`` reads a zip's whole directory into memory (about 1 KB per member): a 90 MB
# directory of a million empty members takes 1 GB and 14 s. Shapefiles and workbooks have a few
# dozen members; this many bytes of directory hold some tens of thousands.
_ZIP_DIRECTORY_MAX_BYTES = 4 << 20
# Workbook parts openpyxl parses whole even in read-only mode (it streams the worksheets and the
# shared strings): each may unpack to at most this many bytes, so parsing them stays small.
_WORKBOOK_WHOLE_PARTS = re.compile(
    r"\[Content_Types\]\.xml|.*\.rels|docProps/(core|custom)\.xml|xl/theme/theme1\.xml|xl/styles\.xml"
    r"|xl/workbook\.xml|xl/(chartsheets|drawings|charts)/[^/]+\.xml"
)
_WORKBOOK_PART_MAX_MB = 32
_CSV_CHUNK_ROWS = 50_000
# Cells a CSV row may have beyond its header and still be read, to be found empty (a trailing comma)
# or refused naming the row. Without them pandas takes a first row one cell wider than the header
# as the index and shifts every cell of every row one column left (names read as districts).
_CSV_EXTRA_CELLS = 8
# Columns a table may have. A survey has about 20 and a bureau's export rarely 100; cells cost
# memory per row (a 200 MB CSV of 1,000 columns took 5.8 GB and 112 s to import), and a workbook
# row can reach column XFD (16,384) with one cell.
MAX_COLUMNS = 256
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_LISTED_MEMBERS = 20  # member names a message lists at most
# GeoPackage tables GDAL reads when it opens a file: they must be tables, not views.
_GPKG_SYSTEM_PREFIXES = ("gpkg_", "rtree_")

# Fields GDAL's KML drivers add to every placemark; they describe the map display, not the data.
_KML_STYLE_FIELDS = (
    "id", "description", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
    "visibility", "drawOrder", "icon", "snippet",
)

# Sheets of the survey template (``geo/intake/template.py``), tried first; then any visible sheet whose
# header row (one of the first _HEADER_SCAN_ROWS) has at least _MIN_RECOGNISED_HEADERS known
# columns (the template's hidden drop-down lists sheet is not data).
_TEMPLATE_SHEETS = {
    "communities": ("小区调查", "Community survey"),
    "fitness_paths": ("健身路径调查", "Fitness path survey", "健身路径"),
    "districts": (),
}
_HEADER_SCAN_ROWS = 10
_MIN_RECOGNISED_HEADERS = 2

# Extra columns (neither schema nor intake columns) that the accepted layer cannot carry under
# their own name: GDAL's GeoPackage writer names the feature ID "fid" and the geometry "geom", and
# geo.intake.importer adds "geometry_approximate" (its APPROXIMATE_COLUMN); SQLite compares column names
# without case. Such a column is renamed, e.g. "fid" -> "fid_2" (see _distinct_extra_columns).
RESERVED_COLUMNS = ("fid", "geom", "geometry", "geometry_approximate")
# A header longer than this many characters is refused: headers are repeated in every message.
MAX_HEADER_CHARS = 1000


# --------------------------------------------------------------------------- no network

# The product makes no network request. GDAL's GeoJSON driver GETs the address of a CRS given as a
# link ({"crs": {"type": "link", "properties": {"href": URL}}}, on the collection, a feature or a
# geometry), and PROJ can fetch grids named by URL. Two lines of defence: a file naming such a CRS
# is refused before GDAL opens it (_check_json_crs), and in this process GDAL and PROJ cannot reach
# the network at all (_forbid_network, run when this module is imported): GDAL has no setting that
# turns its HTTP client off, so its documented hook for an alternative HTTP layer
# (CPLHTTPSetFetchCallback) answers every request with an error; /vsicurl/ and the cloud file
# systems (which do not use that hook) accept only a file name nobody can give; PROJ's network
# access is off in pyproj's PROJ and in the one built into GDAL.

# CRS names GDAL resolves offline (OGC's URIs); any other address names something to fetch.
_OGC_CRS_URI = re.compile(r"https?://www\.opengis\.net/(def/crs/|gml/srs/epsg\.xml#)", re.IGNORECASE)
_URL = re.compile(r"[a-z][a-z0-9+.\-]*://|file:", re.IGNORECASE)
# Members naming a CRS, GeoJSON's "crs" (GDAL matches member names without case) and JSON-FG's
# "coordRefSys", are found in the file's bytes in any spelling JSON allows (a letter may be \u0063),
# and each value is parsed from a window of the bytes that follow, grown until it holds the value.
_JSON_CRS_FIRST_BYTES = 512
_JSON_CRS_MAX_BYTES = 1 << 16  # a CRS member is a few hundred bytes
# A file names its CRS once (old files, at most once per geometry); parsing a member costs a few
# microseconds, so a file of millions of tiny members ("crs":{}, 9 bytes each) is refused at this many.
_JSON_CRS_MAX_MEMBERS = 1_000_000
_NO_REMOTE_FILE = "/vsicurl/network-access-is-disabled"


def _json_member_pattern(name: str, values: str) -> bytes:
    """Regex (bytes, for re.IGNORECASE) of ``"name":`` with each letter literal or \\u-escaped.

    The match ends where the value starts, and only if it starts with one of ``values``.
    """
    letters = []
    for char in name:
        escapes = "|".join(f"\\\\u{code:04x}" for code in sorted({ord(char.lower()), ord(char.upper())}))
        letters.append(f"(?:{re.escape(char)}|{escapes})")
    return ('"' + "".join(letters) + r'"\s*:\s*(?=[' + re.escape(values) + "])").encode()


# GDAL reads a GeoJSON "crs" that is an object (a string there is a property, never read as a
# CRS); JSON-FG's "coordRefSys" may also be a string or a list.
_JSON_CRS_MEMBER = re.compile(_json_member_pattern("crs", "{") + b"|" + _json_member_pattern("coordRefSys", '{["'),
                              re.IGNORECASE)


def _check_json_crs(path: Path, label: str) -> None:
    """Refuse a GeoJSON (or JSON-FG) file that names its CRS by link or by a fetchable address.

    Every ``"crs"``/``"coordRefSys"`` member anywhere in the file is found in its bytes (read
    through a memory map, so the file is never held whole) and its value parsed alone. Refused:
    a CRS of type ``link`` or ``url`` (GDAL would GET its ``href``/``url``), and a name, URN or
    reference that is an address (``http://``, ``ftp://``, ``file:`` …) other than OGC's
    ``http://www.opengis.net/def/crs/…``. A CRS given by name (``EPSG:4326``,
    ``urn:ogc:def:crs:OGC:1.3:CRS84``) or code is read as before.
    """
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for number, match in enumerate(_JSON_CRS_MEMBER.finditer(data), start=1):
            if number > _JSON_CRS_MAX_MEMBERS:
                raise ValueError(
                    f"{label} names a CRS more than {_JSON_CRS_MAX_MEMBERS:,} times (a GeoJSON file names it once); "
                    "refused. Export the layer again (QGIS: Export > Save Features As… GeoJSON)"
                )
            value = _json_value_at(data, match.end())
            if value is _UNREADABLE:
                raise ValueError(
                    f"{label}: its CRS member at byte {match.start():,} is not JSON of at most "
                    f"{_JSON_CRS_MAX_BYTES // 1024} KB; give the CRS by name (e.g. EPSG:4326) or declare it on import"
                )
            reference = _fetched_crs_reference(value)
            if reference is not None:
                shown = " ".join(reference.split())
                shown = shown if len(shown) <= 200 else shown[:200] + "…"
                raise ValueError(
                    f"{label}: the file's CRS is a link to {shown}; reading it would fetch it from the network; "
                    "give the CRS by name (e.g. EPSG:4326) or declare it on import"
                )


_UNREADABLE = object()
_JSON_DECODER = json.JSONDecoder()


def _json_value_at(data, start: int):
    """The JSON value starting at byte ``start`` of ``data``; ``_UNREADABLE`` if none fits _JSON_CRS_MAX_BYTES.

    The bytes are read in a window that grows eightfold from _JSON_CRS_FIRST_BYTES, so a value costs
    about its own length to parse. A value still unreadable when the window reaches the end of the
    file is left to GDAL, which reports the damage itself (returned as None).
    """
    size = _JSON_CRS_FIRST_BYTES
    while True:
        window = data[start:start + size]
        try:
            return _JSON_DECODER.raw_decode(window.decode("utf-8", errors="replace"))[0]
        except ValueError:
            if len(window) < size:
                return None
            if size >= _JSON_CRS_MAX_BYTES:
                return _UNREADABLE
            size = min(size * 8, _JSON_CRS_MAX_BYTES)


def _fetched_crs_reference(value) -> str | None:
    """The address a CRS member's value would make GDAL fetch, or None for a CRS read offline."""
    if isinstance(value, list):
        return next((found for item in value if (found := _fetched_crs_reference(item)) is not None), None)
    if isinstance(value, str):
        text = value.strip()
        return text if _URL.match(text) and not _OGC_CRS_URI.match(text) else None
    if not isinstance(value, dict):
        return None
    # GDAL finds members without regard to case; the last of two equal names wins, either may be read.
    members = {str(key).casefold(): item for key, item in value.items()}
    properties = members.get("properties")
    properties = {str(key).casefold(): item for key, item in properties.items()} if isinstance(properties, dict) else {}
    kind = str(members.get("type", "")).strip().casefold()
    if kind.startswith(("link", "url")):
        address = properties.get("href", properties.get("url", members.get("href")))
        return str(address) if address is not None else "(no address)"
    for item in (properties.get("name"), properties.get("urn"), properties.get("href"), properties.get("url"),
                 members.get("href")):
        found = _fetched_crs_reference(item) if isinstance(item, str) else None
        if found is not None:
            return found
    return None


class _HTTPResult(ctypes.Structure):
    """GDAL's ``CPLHTTPResult`` (cpl_http.h)."""

    _fields_ = [
        ("nStatus", ctypes.c_int), ("pszContentType", ctypes.c_void_p), ("pszErrBuf", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int), ("nDataAlloc", ctypes.c_int), ("pabyData", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p), ("nMimePartCount", ctypes.c_int), ("pasMimePart", ctypes.c_void_p),
    ]


# CPLHTTPFetchCallbackFunc: (URL, options, progress, progress argument, write, write argument, user data).
_FETCH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_char_p, *[ctypes.c_void_p] * 6)


def _loaded_gdal():
    """The GDAL library pyogrio loaded into this process (ctypes), or None if it cannot be found."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "libgdal" in line.rsplit("/", 1)[-1]})
    except OSError:
        paths = []
    for candidate in paths:
        try:
            return ctypes.CDLL(candidate, mode=os.RTLD_NOLOAD)
        except OSError:
            continue
    return None


_GDAL = _loaded_gdal()


@_FETCH_CALLBACK
def _refuse_fetch(url, options, progress, progress_argument, write, write_argument, user_data):
    """Answer a GDAL HTTP request with a failed result (allocated by GDAL, which frees it) instead of fetching."""
    address = _GDAL.CPLCalloc(1, ctypes.sizeof(_HTTPResult))
    result = _HTTPResult.from_address(address)
    result.nStatus = 1
    result.pszErrBuf = _GDAL.CPLStrdup(b"network access is disabled in this program (geo.data.io)")
    return address


def _forbid_network() -> None:
    """Make GDAL and PROJ unable to reach the network from this process (and the processes it starts)."""
    os.environ["PROJ_NETWORK"] = "OFF"
    pyproj.network.set_network_enabled(False)
    pyogrio.set_gdal_config_options({"CPL_VSIL_CURL_ALLOWED_FILENAME": _NO_REMOTE_FILE})
    if _GDAL is None:
        return
    _GDAL.CPLCalloc.restype, _GDAL.CPLCalloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t, ctypes.c_size_t]
    _GDAL.CPLStrdup.restype, _GDAL.CPLStrdup.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    _GDAL.CPLHTTPSetFetchCallback.argtypes = [_FETCH_CALLBACK, ctypes.c_void_p]
    _GDAL.CPLHTTPSetFetchCallback(_refuse_fetch, None)
    _GDAL.OSRSetPROJEnableNetwork.argtypes = [ctypes.c_int]
    _GDAL.OSRSetPROJEnableNetwork(0)


_forbid_network()


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
        label = f"{kind} layer {layer!r} of {_shown(path)}"
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    elif file_format == "geojson":
        label = f"{kind} file {_shown(path)}"
        _check_json_crs(path, label)
        frame = gpd.read_file(path, engine="pyogrio")
    elif file_format == "zip":
        _check_zip_archive(path, None)  # the same refusals as an upload: no escaping paths, no bombs
        with tempfile.TemporaryDirectory(prefix="read-") as folder:
            shp, member, encoding = _extract_shapefile(path, Path(folder), None)
            label = f"{kind} shapefile {member} in {_shown(path)}"
            frame = gpd.read_file(shp, engine="pyogrio", **({"encoding": encoding} if encoding else {}))
    else:
        label = f"{kind} file {_shown(path)}"
        frame = _read_csv(path, label)

    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise ValueError(f"{label} has no geometry column; give the features a geometry")
    if len(frame) == 0:
        if kind != "fitness_paths":
            raise ValueError(f"{label} has no features; check the file and layer")
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


class CellProblem(NamedTuple):
    """Cells of one column that could not be read as what the column holds."""

    column: str        # schema/intake column name, or the file's header for a WKT column
    bad: np.ndarray    # boolean mask over the rows of the RawLayer
    values: pd.Series  # the cells as read
    expected: str      # "str", "int", "float", "bool", "date", "wkt" or "formula"


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


def read_raw_layer(path, kind: str, layer: str | None = None, *, max_upload_mb: float | None = None,
                   max_unzipped_mb: float | None = None, max_rows: int | None = None,
                   max_vertices: int | None = None) -> RawLayer:
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
        found = _FORMAT_NAMES[file_format]
        found = ("an " if found[0] in "AEIOU" else "a ") + found
        notes.append(f"{_shown(path)} has the extension {path.suffix} but holds {found}; read as {found}")
    if file_format in ("zip", "xlsx"):
        _check_zip_archive(path, max_unzipped_mb)
    label = f"{kind} file {_shown(path)}"
    if file_format in ("csv", "xlsx"):
        if file_format == "csv":
            table, row_numbers, formulas = _csv_rows(path, label, max_rows, notes)
        else:
            table, row_numbers, formulas = _xlsx_rows(path, kind, label, max_unzipped_mb, max_rows, notes)
        raw = _raw_from_table(table, row_numbers, formulas, kind, file_format, label, notes)
        _check_vertices(raw.frame.geometry.to_numpy(), label, max_vertices)
        return raw
    frame = _read_geodata(path, file_format, kind, layer, label, max_unzipped_mb, max_rows)
    if isinstance(frame, gpd.GeoDataFrame) and frame.active_geometry_name is not None:
        _check_vertices(frame.geometry.to_numpy(), label, max_vertices)
    return _raw_from_geodata(frame, kind, file_format, label, notes)


def write_layers(path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write several layers to one GeoPackage, replacing the file if it exists.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage file to create (conventionally ``.gpkg``). Its folder must exist.
    layers : dict of str to geopandas.GeoDataFrame or pandas.DataFrame
        Layer name → frame, written in dict order, each in its own CRS (normally EPSG:4326)
        with its dtypes; nullable missing values are stored as NULL. A plain DataFrame becomes
        an attribute table without geometry.

    Raises
    ------
    ValueError
        If ``layers`` is empty or a value is not a DataFrame.

    Notes
    -----
    The layers are written to a temporary file in the same folder that then replaces ``path``,
    so a failed write leaves an existing file untouched.
    """
    if not layers:
        raise ValueError("no layers to write; pass a dict of layer name to GeoDataFrame")
    for name, frame in layers.items():
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"layer {name!r} is a {type(frame).__name__}, not a (Geo)DataFrame")
    with atomic_write(path) as staged:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(staged, layer=name, driver="GPKG", engine="pyogrio")
            else:  # a plain attribute table, e.g. applications
                pyogrio.write_dataframe(frame, staged, layer=name, driver="GPKG")


# --------------------------------------------------------------------------- formats


def _supported(extended: bool = False) -> str:
    return "supported formats: " + "; ".join(IMPORT_FORMATS if extended else SUPPORTED_FORMATS)


def _sniff_format(path: Path, extended: bool = False) -> str:
    """Return the format of ``path`` from its first bytes (the extension only breaks ties).

    "gpkg", "zip", "geojson" or "csv"; with ``extended`` (the import formats) also "xlsx" (a zip
    holding ``xl/workbook.xml``) and "kml" (XML whose first bytes name ``<kml``).
    """
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head:
        raise ValueError(f"{_shown(path)} is empty; {_supported(extended)}")
    if head.startswith(_SQLITE_MAGIC):
        return "gpkg"
    if head.startswith(_ZIP_MAGICS):
        _check_zip_directory(path)
        return "xlsx" if extended and _zip_is_workbook(path) else "zip"
    text_head = head.removeprefix(_UTF8_BOM).lstrip()
    if text_head.startswith(b"{"):
        return "geojson"

    suffix = path.suffix.lower()
    if extended:
        if head.startswith(_OLE_MAGIC):
            raise ValueError(
                f"{_shown(path)} is an old-style Excel .xls (or an encrypted workbook); open it in Excel or WPS, "
                f"save it as .xlsx and import that ({_supported(extended)})"
            )
        if text_head.startswith(b"<") and b"<kml" in head.lower():
            return "kml"
    if head.startswith(_SHP_MAGIC) or suffix == ".shp":
        raise ValueError(
            f"{_shown(path)} is a bare Shapefile; zip it together with its .dbf, .shx, .prj (and .cpg) "
            f"files and read the .zip ({_supported(extended)})"
        )
    expected = (_IMPORT_EXTENSION_FORMATS if extended else _EXTENSION_FORMATS).get(suffix)
    if expected not in (None, "csv"):
        raise ValueError(
            f"{_shown(path)} has extension {suffix} but its content is not {expected}; {_supported(extended)}"
        )
    if b"\x00" in head or text_head.startswith(b"<"):
        raise ValueError(
            f"{_shown(path)} is not in a supported format (binary, UTF-16 or XML content); {_supported(extended)}"
        )
    return "csv"


def _zip_is_workbook(path: Path) -> bool:
    """True for a zip holding an Excel workbook (``xl/workbook.xml``); only the listing is read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _choose_gpkg_layer(path: Path, kind: str, layer: str | None) -> str:
    """Pick the GeoPackage layer: ``layer`` if given, else the one named ``kind``, else the only one.

    The layer is then known to be a table that reads as data (see :func:`_check_gpkg_tables`).
    """
    _check_gpkg_tables(path)
    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    listed = ", ".join(names) or "(none)"
    if layer is not None:
        if layer not in names:
            raise ValueError(f"{_shown(path)} has no layer {layer!r}; its layers are: {listed}")
        chosen = layer
    elif kind in names:
        chosen = kind
    elif len(names) == 1:
        chosen = names[0]
    else:
        raise ValueError(
            f"{_shown(path)} has {len(names)} layers and none is named {kind!r}; "
            f"pass layer= one of: {listed}"
        )
    _check_gpkg_tables(path, chosen)
    return chosen


def _check_gpkg_tables(path: Path, layer: str | None = None) -> None:
    """Refuse a GeoPackage whose reading would run its own SQL instead of reading stored data.

    A view is a query that runs when it is read: one that counts forever (``WITH RECURSIVE``)
    never returns, one that joins a table to itself a few times runs for hours, and a computed
    (generated) column such as ``zeroblob(1000000000)`` makes a gigabyte from nothing on every
    row. So the GeoPackage's own tables (``gpkg_*``, ``rtree_*``) must be tables (the R-tree
    index a virtual table), and ``layer``, if given, a table without computed columns.

    Only SQLite's parsed schema is consulted (``pragma_table_list``, ``pragma_table_xinfo``;
    SQLite ≥ 3.37), read-only: nothing the file defines is run.
    """
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as error:
        raise ValueError(f"{_shown(path)} cannot be opened as a GeoPackage ({_one_line(error)})") from None
    try:
        objects = connection.execute(
            "SELECT name, type FROM pragma_table_list WHERE schema = 'main'"
        ).fetchall()
        table = None
        if layer is not None:
            table = connection.execute(
                "SELECT name, type FROM pragma_table_list WHERE schema = 'main' AND name = ? COLLATE NOCASE",
                (layer,),
            ).fetchone()
        computed = []
        if table is not None and table[1] == "table":
            computed = [row[0] for row in connection.execute(
                "SELECT name FROM pragma_table_xinfo(?) WHERE hidden IN (2, 3)", (table[0],)
            )]
    except sqlite3.Error as error:
        raise ValueError(f"{_shown(path)} cannot be read as a GeoPackage ({_one_line(error)})") from None
    finally:
        connection.close()
    for name, object_type in objects:
        system = name.lower().startswith(_GPKG_SYSTEM_PREFIXES)
        allowed = ("table", "shadow", "virtual") if name.lower().startswith("rtree_") else ("table",)
        if system and object_type not in allowed:
            raise ValueError(
                f"{_shown(path)}: its GeoPackage table {name!r} is a {object_type}, a query that would run "
                "when the file is read, not stored data; refused. Export the data again as a GeoPackage "
                "(QGIS: Export > Save Features As…)"
            )
    if table is not None and table[1] != "table":
        raise ValueError(
            f"{_shown(path)}: layer {layer!r} is a {table[1]}, a query that runs when it is read, not a "
            "table of stored data; refused. Save the layer as a table (QGIS: Export > Save Features As…) "
            "and import that"
        )
    if computed:
        raise ValueError(
            f"{_shown(path)}: layer {layer!r} has computed (generated) columns ({', '.join(computed)}), "
            "which run SQL when read; refused. Save the layer as a plain table and import that"
        )


def _shapefile_parts(archive: zipfile.ZipFile, path: Path) -> tuple[str, dict[str, zipfile.ZipInfo]]:
    """The one ``.shp`` member of a zip and its parts by suffix (``.shp``, ``.dbf``, ``.shx``, …).

    Only the listing is read.
    """
    members = [
        info for info in archive.infolist()
        if not info.is_dir() and PurePosixPath(info.filename).parts[0] != "__MACOSX"
    ]
    names = [info.filename for info in members]
    shapefiles = [name for name in names if name.lower().endswith(".shp")]
    if not shapefiles:
        listed = ", ".join(names[:_LISTED_MEMBERS]) or "nothing"
        if len(names) > _LISTED_MEMBERS:
            listed += f" … {len(names):,} files in all"
        raise ValueError(f"{_shown(path)} is a zip without a .shp file (it holds: {listed}); {_supported()}")
    if len(shapefiles) > 1:
        raise ValueError(
            f"{_shown(path)} holds {len(shapefiles)} shapefiles ({', '.join(shapefiles)}); "
            "zip one layer per file"
        )
    member = shapefiles[0]
    stem = member[:-4]
    parts = {info.filename[len(stem):].lower(): info for info in members if info.filename[:-4] == stem}
    missing = [ext for ext in (".dbf", ".shx") if ext not in parts]
    if missing:
        raise ValueError(
            f"{member} in {_shown(path)} lacks its {' and '.join(missing)} file; "
            "zip all the parts of the shapefile together"
        )
    return member, {suffix: info for suffix, info in parts.items() if suffix in _SHAPEFILE_PARTS}


def _cpg_encoding(cpg: bytes) -> str | None:
    """Python codec named by a ``.cpg`` file (``UTF-8``, ``GBK``, ``936``, ``ANSI 936`` …), or None."""
    text = cpg.decode("ascii", errors="ignore").strip()
    if text.upper().startswith("ANSI "):
        text = text[5:].strip()
    if text.isdigit():
        text = "utf-8" if text == "65001" else f"cp{text}"
    try:
        name = codecs.lookup(text).name
    except (LookupError, ValueError):  # ValueError: a NUL byte in the name
        return None  # unknown to Python: leave it to GDAL, which also reads the .cpg
    # GB18030 is a superset of GB2312 and GBK, so decoding with it loses nothing.
    return "gb18030" if name in ("gb2312", "gbk") else name


def _dbf_text_encoding(dbf: Path) -> str | None:
    """Encoding of a ``.dbf`` without ``.cpg``: None when its header names a code page (GDAL reads it).

    Otherwise GDAL would assume ISO-8859-1, which garbles the GBK text of Chinese files; the
    records are decoded as UTF-8, else GB18030, and the first that succeeds is used. The file is
    read in chunks, so a large ``.dbf`` is never held whole.
    """
    with open(dbf, "rb") as handle:
        header = handle.read(32)
        if len(header) < 32 or header[29] != 0:
            return None
        handle.seek(int.from_bytes(header[8:10], "little"))
        return _text_encoding(handle, ("utf-8", "gb18030"), none_if_ascii=True)


def _text_encoding(handle, encodings, none_if_ascii: bool = False) -> str | None:
    """The first of ``encodings`` that decodes the rest of ``handle`` (read in chunks), or None.

    With ``none_if_ascii`` an all-ASCII text gives None (any encoding would do).
    """
    decoders = {encoding: codecs.getincrementaldecoder(encoding)() for encoding in encodings}
    ascii_only = True
    while chunk := handle.read(_COPY_CHUNK):
        if ascii_only and chunk.isascii():
            continue  # ASCII decodes alike in every encoding tried, and ends on a character boundary
        ascii_only = False
        for encoding, decoder in list(decoders.items()):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                del decoders[encoding]
        if not decoders:
            return None
    if ascii_only and none_if_ascii:
        return None
    for encoding, decoder in decoders.items():
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _checked_path(path, kind: str, extended: bool = False) -> Path:
    """``path`` as a Path, once it is known to be an existing file and ``kind`` a known layer."""
    if kind not in KINDS:
        raise ValueError(f"unknown layer kind {kind!r}; use one of {', '.join(KINDS)}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; check the path")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; pass a file ({_supported(extended=extended)})")
    return path


def _csv_encoding(path: Path, label: str) -> str:
    """Encoding of a CSV: UTF-8 (with or without BOM), else GBK (as its superset GB18030).

    The file is decoded in chunks and the text thrown away, so checking it takes no memory.
    """
    with open(path, "rb") as handle:
        encoding = _text_encoding(handle, ("utf-8-sig", "gb18030"))
    if encoding is None:
        raise ValueError(f"{label} is neither UTF-8 nor GBK text; save it as UTF-8 CSV")
    return encoding


def _decoded_text(raw: bytes, label: str) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), else GBK (as its superset GB18030)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{label} is neither UTF-8 nor GBK text; save it as UTF-8 CSV")


def _csv_table(path: Path, label: str, keep_blank_lines: bool = False, max_rows: int | None = None,
               notes: list | None = None) -> pd.DataFrame:
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
        first = pd.read_csv(path, encoding=encoding, dtype=str, header=None, nrows=1, keep_default_na=False,
                            skip_blank_lines=not keep_blank_lines)
        given = ["" if pd.isna(value) else str(value) for value in first.iloc[0]] if len(first) else []
        # A row can have no more cells than the names it is read with (the parser refuses it), so
        # the header's width (and the few extra cells allowed) bounds every row's.
        _check_columns(len(given), label)
        names = _distinct_headers([header.strip() or f"Unnamed: {j}" for j, header in enumerate(given)],
                                  given, label, notes)
        spare = _spare_names(names, _CSV_EXTRA_CELLS)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # The header is read as the first record (header=0 would refuse more names than headers).
            with pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False, na_values=[""],
                             skip_blank_lines=not keep_blank_lines, chunksize=_CSV_CHUNK_ROWS, header=None,
                             names=names + spare, index_col=False) as reader:
                for number, chunk in enumerate(reader):
                    if number == 0:
                        chunk = chunk.iloc[1:]
                    if any(issubclass(warning.category, pd.errors.ParserWarning) for warning in caught):
                        raise ValueError(
                            f"{label} cannot be read as CSV: it has rows of more than {len(names) + len(spare)} "
                            f"cells, beyond its {len(names)} headers; check the separators (a cell holding a comma "
                            "must be quoted) or give those columns a header"
                        )
                    data_rows += int(chunk.notna().any(axis=1).sum())
                    if max_rows is not None and data_rows > max_rows:
                        raise ValueError(_too_many_rows(label, f"more than {max_rows:,} data rows", max_rows,
                                                        "before validation"))
                    chunks.append(chunk)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"{label} cannot be read as CSV: {_one_line(error)}") from None
    table = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    beyond = np.flatnonzero(table[spare].notna().any(axis=1).to_numpy())
    if beyond.size:
        row = f"row {beyond[0] + 2}" if keep_blank_lines else f"data row {beyond[0] + 1}"
        raise ValueError(
            f"{label} cannot be read as CSV: {row} has cells beyond its {len(names)} headers; check the "
            "separators (a cell holding a comma must be quoted) or give those columns a header"
        )
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

    raise ValueError(
        f"{label} has no geometry: add longitude and latitude columns (or lon/lat, lng/lat, x/y, "
        f"经度/纬度) or a WKT column named geometry or wkt; columns present: {', '.join(table.columns)}"
    )


def _parse_wkt(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Shapely geometries from WKT text (None for a missing cell) and a mask of unreadable cells."""
    text = values.astype(object).where(values.notna(), None).to_numpy()
    text = np.array([t.strip() or None if isinstance(t, str) else t for t in text], dtype=object)
    geometry = shapely.from_wkt(text, on_invalid="ignore")
    return geometry, np.asarray(pd.isna(geometry) & pd.notna(text), dtype=bool)


def _geometry_from_wkt(values: pd.Series, column: str, label: str) -> np.ndarray:
    """Parse WKT text to shapely geometries; a missing cell gives None."""
    geometry, bad = _parse_wkt(values)
    _raise_first_problem({column: (bad, values, "WKT geometry (e.g. POLYGON ((109.4 24.3, ...)))")}, label)
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


# --------------------------------------------------------------------------- import: safety and formats


def _one_line(error) -> str:
    """An exception's message on one line (GDAL and parsers may span several)."""
    return " ".join(str(error).split()) or type(error).__name__


def _check_upload_size(path: Path, max_upload_mb: float | None) -> None:
    """Refuse a file above ``max_upload_mb`` before reading any of it."""
    if max_upload_mb is None:
        return
    size = path.stat().st_size
    if size > max_upload_mb * _MB:
        raise ValueError(
            f"{_shown(path)} is {size:,} bytes, above the upload limit of {max_upload_mb:g} MB "
            "(config.toml [intake] max_upload_mb); split the file or ask the administrator to raise the limit"
        )


def _check_zip_archive(path: Path, max_unzipped_mb: float | None) -> None:
    """Refuse a zip whose members would leave their folder or declare absurd sizes.

    Only the central directory is read: member names (absolute, drive letters, ``..``), each
    member's declared size against its compressed size, and the declared sizes' sum. This only
    refuses early what declares itself a bomb: declared sizes may lie, so every member is also
    unpacked through :func:`_stream_member`, which counts what really comes out.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ValueError(f"{_shown(path)} is not a readable zip ({_one_line(error)}); {_supported(extended=True)}") from None
    total = 0
    for member in members:
        name = member.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise ValueError(
                f"{_shown(path)} holds a member whose path leaves the archive's folder ({name!r}: absolute "
                "or with '..'); refused without unpacking. Zip the files again from their own folder"
            )
        packed = max(member.compress_size, 1)
        if member.file_size > _ZIP_RATIO_MIN_BYTES and member.file_size > MAX_ZIP_RATIO * packed:
            raise ValueError(
                f"{_shown(path)}: member {name!r} would unpack to {member.file_size / packed:,.0f} times its "
                f"compressed size (limit {MAX_ZIP_RATIO}×), as a zip bomb does; refused without unpacking"
            )
        total += member.file_size
    if max_unzipped_mb is not None and total > max_unzipped_mb * _MB:
        raise ValueError(
            f"{_shown(path)} would unpack to {total:,} bytes, above the limit of {max_unzipped_mb:g} MB "
            "(config.toml [intake] max_unzipped_mb); refused without unpacking"
        )


def _check_zip_directory(path: Path) -> None:
    """Refuse a zip whose directory (the listing ``zipfile`` reads whole) is absurdly large.

    Only the end record is read, with ``zipfile``'s own reader, so the size checked is the one
    ``ZipFile`` would then trust.
    """
    with open(path, "rb") as handle:
        end = zipfile._EndRecData(handle)
    if end is not None and end[zipfile._ECD_SIZE] > _ZIP_DIRECTORY_MAX_BYTES:
        raise ValueError(
            f"{_shown(path)} has a zip directory of {end[zipfile._ECD_SIZE]:,} bytes (tens of thousands of "
            f"members or more; a Shapefile or workbook has a few dozen), above {_ZIP_DIRECTORY_MAX_BYTES >> 20} MB; "
            "refused without listing it. Zip only the files of the one layer"
        )


@dataclass
class _Unzipped:
    """Bytes unpacked so far from one zip, counted as they come out (declared sizes are not trusted)."""

    path: Path
    max_unzipped_mb: float | None
    total: int = 0


def _stream_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, sink, unzipped: _Unzipped,
                   part_max_mb: float | None = None) -> None:
    """Unpack ``member`` into the binary file ``sink`` in chunks, within every limit.

    Each read unpacks at most ``_COPY_CHUNK`` bytes, whatever the member declares, and the bytes
    are counted as they come: the copy stops with ValueError as soon as the member unpacks to
    more than ``MAX_ZIP_RATIO`` times its compressed size (above ``_ZIP_RATIO_MIN_BYTES``), more
    than ``part_max_mb``, or the whole zip to more than ``unzipped.max_unzipped_mb``. A member
    that ends at another size than it declares, or fails its checksum, is refused too: zipfile
    stops reading at the declared size, so a member that unpacks to more shows as a wrong
    checksum.
    """
    name, archive_name = member.filename, _shown(unzipped.path)
    if member.flag_bits & 0x1:
        raise ValueError(f"{archive_name}: member {name!r} is encrypted; zip the files again without a password")
    if member.compress_type not in _ZIP_METHODS:
        method = zipfile.compressor_names.get(member.compress_type, f"method {member.compress_type}")
        raise ValueError(
            f"{archive_name}: member {name!r} is compressed with {method}; zip the files again with the "
            "usual (Deflate) compression"
        )
    # Its compressed bytes cannot be more than the file holds, whatever the member declares.
    packed = max(1, min(member.compress_size, unzipped.path.stat().st_size))
    written = 0
    try:
        with archive.open(member) as source:
            while chunk := source.read(_COPY_CHUNK):
                written += len(chunk)
                unzipped.total += len(chunk)
                if written > _ZIP_RATIO_MIN_BYTES and written > MAX_ZIP_RATIO * packed:
                    raise ValueError(
                        f"{archive_name}: member {name!r} unpacks to more than {MAX_ZIP_RATIO} times its "
                        f"compressed size (limit {MAX_ZIP_RATIO}×), as a zip bomb does; refused while unpacking"
                    )
                if part_max_mb is not None and written > part_max_mb * _MB:
                    raise ValueError(
                        f"{archive_name}: workbook part {name!r} unpacks to more than {part_max_mb:g} MB, far "
                        "more than a workbook needs; refused. Open the file in Excel or WPS and save it again as .xlsx"
                    )
                if unzipped.max_unzipped_mb is not None and unzipped.total > unzipped.max_unzipped_mb * _MB:
                    raise ValueError(
                        f"{archive_name} unpacks to more than the limit of {unzipped.max_unzipped_mb:g} MB "
                        f"(config.toml [intake] max_unzipped_mb), whatever its listing declares; refused while "
                        "unpacking. Split the file by district, or ask the administrator to raise the limit"
                    )
                sink.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise ValueError(
            f"{archive_name}: member {name!r} is damaged or does not unpack to what the zip declares "
            f"({_one_line(error)}); refused. Zip the files again"
        ) from None
    if written != member.file_size:
        raise ValueError(
            f"{archive_name}: member {name!r} unpacks to {written:,} bytes but the zip declares "
            f"{member.file_size:,}; refused as damaged. Zip the files again"
        )


def _extract_shapefile(path: Path, folder: Path, max_unzipped_mb: float | None) -> tuple[Path, str, str | None]:
    """Unpack the zip's one Shapefile into ``folder`` as ``layer.*``: its path, member name and encoding.

    The parts are written under fixed names, so nothing a member's path says can place a file
    elsewhere; each is streamed through :func:`_stream_member`. The encoding is the one the
    ``.cpg`` names; without a ``.cpg``, or with one naming nothing Python knows (garbage, NUL
    bytes), the one the ``.dbf`` records decode with (see :func:`_dbf_text_encoding`).
    """
    unzipped = _Unzipped(path, max_unzipped_mb)
    try:
        with zipfile.ZipFile(path) as archive:
            member, parts = _shapefile_parts(archive, path)
            for suffix, info in parts.items():
                with open(folder / f"layer{suffix}", "wb") as sink:
                    _stream_member(archive, info, sink, unzipped)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{_shown(path)} is not a readable zip ({_one_line(error)}); {_supported()}") from None
    encoding = None
    if (folder / "layer.cpg").exists():
        with open(folder / "layer.cpg", "rb") as handle:
            encoding = _cpg_encoding(handle.read(256))
    if encoding is None:  # no .cpg, or one naming no encoding Python knows
        encoding = _dbf_text_encoding(folder / "layer.dbf")
    return folder / "layer.shp", member, encoding


def _streamed_workbook(path: Path, target: Path, max_unzipped_mb: float | None) -> Path:
    """Copy the workbook ``path`` to ``target``, every member streamed through :func:`_stream_member`.

    openpyxl reads some members whole, trusting the sizes they declare (CPython's zipfile then
    asks zlib for up to 2 GB at once). The copy holds the same members, each at its true size
    and within the limits: ``max_unzipped_mb`` in all, and ``_WORKBOOK_PART_MAX_MB`` for each
    part openpyxl parses whole.
    """
    unzipped = _Unzipped(path, max_unzipped_mb)
    try:
        with zipfile.ZipFile(path) as archive, \
                zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as copy:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                whole = _WORKBOOK_WHOLE_PARTS.fullmatch(info.filename) is not None
                with copy.open(info.filename, "w", force_zip64=True) as sink:
                    _stream_member(archive, info, sink, unzipped, _WORKBOOK_PART_MAX_MB if whole else None)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{_shown(path)} is not a readable zip ({_one_line(error)}); save it again as .xlsx") from None
    return target


def _read_geodata(path: Path, file_format: str, kind: str, layer: str | None, label: str,
                  max_unzipped_mb: float | None = None, max_rows: int | None = None):
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
        raise ValueError(f"{label} cannot be read as {_FORMAT_NAMES[file_format]}: {_one_line(error)}") from None


def _read_features(path: Path, layers: list, label: str, max_rows: int | None,
                   encoding: str | None = None) -> list[gpd.GeoDataFrame]:
    """The features of each of ``layers`` (None: the only one), read by GDAL, within ``max_rows`` in all."""
    options = {"encoding": encoding} if encoding else {}
    if max_rows is not None:
        infos = [pyogrio.read_info(path, layer=name, force_feature_count=True, **options) for name in layers]
        _check_columns(max((len(info["fields"]) for info in infos), default=0), label)
        count = sum(info["features"] for info in infos)
        if count > max_rows:
            raise ValueError(_too_many_rows(label, f"{count:,} features", max_rows, "before reading them"))
    frames = [gpd.read_file(path, layer=name, engine="pyogrio", max_features=None if max_rows is None else max_rows + 1,
                            **options) for name in layers]
    if max_rows is not None and sum(len(frame) for frame in frames) > max_rows:
        raise ValueError(_too_many_rows(label, f"more than {max_rows:,} features", max_rows, "while reading them"))
    return frames


def _check_columns(count: int, label: str) -> None:
    """Refuse a table of more than ``MAX_COLUMNS`` columns."""
    if count > MAX_COLUMNS:
        raise ValueError(
            f"{label} has {count:,} columns, above the {MAX_COLUMNS} an import reads; keep the columns of "
            "the survey template and remove the others"
        )


def _too_many_rows(label: str, found: str, max_rows: int, when: str) -> str:
    """The message for a file above ``max_rows``; ``found`` says how many it has."""
    return (
        f"{label} has {found}, above the limit of {max_rows:,} (config.toml [intake] max_rows); refused {when}. "
        "Split the file by district and import each part, or ask the administrator to raise the limit"
    )


def _check_vertices(geometry: np.ndarray, label: str, max_vertices: int | None) -> None:
    """Refuse geometries with more than ``max_vertices`` coordinates in all (missing ones have none)."""
    if max_vertices is None:
        return
    count = int(shapely.get_num_coordinates(np.asarray(geometry, dtype=object)).sum())
    if count > max_vertices:
        raise ValueError(
            f"{label} has {count:,} vertices, above the limit of {max_vertices:,} (config.toml [intake] "
            "max_vertices); refused before validation. Simplify the polygons or split the file by district, "
            "or ask the administrator to raise the limit"
        )


def _read_kml(path: Path, label: str, max_rows: int | None = None) -> gpd.GeoDataFrame:
    """All placemarks of a KML (every folder, in order), without GDAL's display fields."""
    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    frames = _read_features(path, names, label, max_rows)
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs=STORAGE_CRS)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    unused = [
        column for column in _KML_STYLE_FIELDS
        if column in frame.columns and not (column == "description" and _has_text(frame[column]))
    ]
    return frame.drop(columns=unused)


def _has_text(values: pd.Series) -> bool:
    text, missing = _as_text(values)
    return not missing.all()


def _csv_rows(path: Path, label: str, max_rows: int | None = None,
              notes: list | None = None) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """A CSV's non-blank data rows as text, with their spreadsheet row numbers (header = 1)."""
    table = _csv_table(path, label, keep_blank_lines=True, max_rows=max_rows, notes=notes)
    row_numbers = np.arange(len(table)) + 2
    blank = table.isna().all(axis=1).to_numpy()
    return table[~blank].reset_index(drop=True), row_numbers[~blank], {}


def _xlsx_rows(path: Path, kind: str, label: str, max_unzipped_mb: float | None = None,
               max_rows: int | None = None, notes: list | None = None) -> tuple[pd.DataFrame, np.ndarray, dict]:
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


def _workbook_rows(path: Path, kind: str, label: str, max_rows: int | None,
                   notes: list) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """:func:`_xlsx_rows` of a workbook whose members are known to be within the limits.

    Headers are made distinct as a CSV's are (:func:`_distinct_headers`), with a note in ``notes``.
    """
    import openpyxl

    # Opened from file objects: openpyxl would refuse a workbook whose name does not end in .xlsx.
    handles = [open(path, "rb"), open(path, "rb")]
    try:
        # keep_links=False: the cached copies of other workbooks a formula refers to are not read.
        values_book = openpyxl.load_workbook(handles[0], read_only=True, data_only=True, keep_links=False)
        formula_book = openpyxl.load_workbook(handles[1], read_only=True, data_only=False, keep_links=False)
    except Exception as error:  # openpyxl raises KeyError, BadZipFile, XML errors … for a damaged file
        for handle in handles:
            handle.close()
        raise ValueError(f"{label} cannot be opened as an Excel workbook ({_one_line(error)}); save it again as .xlsx") from None
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
                raise ValueError(_too_many_rows(label, f"more than {max_rows:,} data rows", max_rows, "before validation"))
            records.append(texts)
            numbers.append(number)
            formulas.append([getattr(cell, "data_type", None) == "f" and value is None
                             for cell, value in zip(cells, values)])
    except ValueError:
        raise
    except Exception as error:
        raise ValueError(f"{label} cannot be read as an Excel workbook ({_one_line(error)}); save it again as .xlsx") from None
    finally:
        values_book.close()
        formula_book.close()
        for handle in handles:
            handle.close()

    width = max([_last_filled(header)] + [_last_filled(record) for record in records])
    letters = [openpyxl.utils.get_column_letter(j + 1) for j in range(width)]
    given = [header[j] if j < len(header) and header[j] is not None else "" for j in range(width)]
    names = _distinct_headers([str(given[j]).strip() or f"column_{letters[j]}" for j in range(width)],
                              given, label, notes, letters)
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
    raise ValueError(
        f"{label}: no sheet has recognisable column headers in its first {_HEADER_SCAN_ROWS} rows "
        f"(sheets: {', '.join(book.sheetnames)}); use the survey template (sheet {examples}) "
        "or headers such as 小区编号, 名称, 区县, 人口, 经度, 纬度"
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


def _distinct_headers(names: list[str], given: list, label: str, notes: list,
                      columns: list[str] | None = None) -> list[str]:
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
            raise ValueError(
                f"{label}: the header of column {columns[j]} is {len(name):,} characters long, above the "
                f"{MAX_HEADER_CHARS:,} a header may have; shorten it"
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
            f"{label}: columns {', '.join(columns[j] for j in positions)} have the same header {spellings}; "
            f"the first is read as {name!r}, the others as {', '.join(repr(distinct[j]) for j in positions[1:])} "
            "(extra columns, kept as they are)"
        )
    return distinct


# --------------------------------------------------------------------------- import: columns and geometry


def _header_key(text) -> str:
    """A header compared loosely: NFKC (full-width → half-width, ² → 2), casefolded, no spaces, _ or -."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(text)).casefold())


@functools.lru_cache(maxsize=None)
def _header_lookup(kind: str) -> dict[str, str]:
    """Loose header → column name, for the schema and intake columns of ``kind``.

    The column's own name wins over a label, a label over a synonym (``geo.data.schema.COLUMN_SYNONYMS``).
    """
    columns = [*schema.LAYERS[kind], *schema.INTAKE_COLUMNS[kind]]
    lookup: dict[str, str] = {}
    for name in columns:
        lookup.setdefault(_header_key(name), name)
    for name in columns:
        for label in COLUMN_LABELS.get(name, ()):
            lookup.setdefault(_header_key(label), name)
    for name in columns:
        for synonym in schema.COLUMN_SYNONYMS.get(name, ()):
            lookup.setdefault(_header_key(synonym), name)
    return lookup


def _rename_recognised(frame: pd.DataFrame, kind: str, shapefile: bool = False) -> tuple[pd.DataFrame, dict]:
    """Rename recognised headers to column names; the first header recognised for a column wins.

    Returns the renamed frame and column name → the file's header.
    """
    lookup = _header_lookup(kind)
    if shapefile:
        truncated = _shapefile_field_names([*schema.LAYERS[kind], *schema.INTAKE_COLUMNS[kind]])
        lookup = {**{_header_key(cut): name for name, cut in truncated.items()}, **lookup}
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    known = set(lookup.values())
    headers = {str(c): str(c) for c in frame.columns if c in known}
    renames = {}
    for column in frame.columns:
        if column == geometry_name or column in known:
            continue
        target = lookup.get(_header_key(column))
        if target is not None and target not in headers:
            renames[column] = target
            headers[target] = str(column)
    return frame.rename(columns=renames), headers


def _convert_all(frame: gpd.GeoDataFrame, kind: str) -> tuple[gpd.GeoDataFrame, list[CellProblem]]:
    """Schema columns (all, declared dtypes) and the intake columns present, with their bad cells."""
    frame, schema_problems = _convert_columns(frame, kind)
    problems = [CellProblem(name, np.asarray(bad, dtype=bool), values, column_kind)
                for name, (bad, values, column_kind) in schema_problems.items()]
    for name, column_kind in schema.INTAKE_COLUMNS[kind].items():
        if name in frame.columns:
            values = frame[name]
            frame[name], bad = _CONVERTERS[column_kind](values)
            problems.append(CellProblem(name, np.asarray(bad, dtype=bool), values, column_kind))
    return frame, [problem for problem in problems if problem.bad.any()]


def _raw_ordered(frame: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """Schema columns, the intake columns present, the file's other columns, then ``geometry``."""
    columns = list(schema.LAYERS[kind]) + [c for c in schema.INTAKE_COLUMNS[kind] if c in frame.columns]
    others = [c for c in frame.columns if c not in columns and c != "geometry"]
    return frame[columns + others + ["geometry"]]


def _distinct_extra_columns(frame: gpd.GeoDataFrame, kind: str, headers: dict, label: str,
                            notes: list) -> gpd.GeoDataFrame:
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
        if folded in reserved:
            why = f"{clash!r} is a name the city file uses itself ({_RESERVED_USES[clash]})"
        else:
            shown = headers.get(clash, clash)
            why = (f"it differs only in case from the column {shown!r}"
                   + (f" (read as {clash})" if shown != clash else "")
                   + ", and a GeoPackage does not tell such names apart")
        notes.append(f"{label}: the column {column!r} is kept as {renames[column]!r}: {why}")
    return frame.rename(columns=renames) if renames else frame


_RESERVED_USES = {
    "fid": "its feature ID", "geom": "its geometry", "geometry": "its geometry",
    "geometry_approximate": "whether a community's outline is approximate",
}


def _fill_points(geometry: np.ndarray, frame: pd.DataFrame) -> tuple[np.ndarray, bool]:
    """Fill missing geometries with points from converted ``longitude``/``latitude`` columns, if any."""
    if "longitude" not in frame.columns or "latitude" not in frame.columns:
        return geometry, False
    points, _, _ = _parse_points(frame["longitude"], frame["latitude"])
    missing = pd.isna(geometry)
    geometry = geometry.copy()
    geometry[missing] = points[missing]
    return geometry, True


def _raw_from_table(table: pd.DataFrame, row_numbers: np.ndarray, formulas: dict, kind: str,
                    file_format: str, label: str, notes: list) -> RawLayer:
    """A RawLayer from text cells (CSV or XLSX): geometry from a WKT column and/or longitude/latitude.

    A ``'`` that our own writers put before a formula start (geo.data.cells) is dropped from the
    values, so a corrected rejects file reads back as it was; ``original`` keeps the cells as given.
    """
    original = table.copy()
    table = table.apply(unneutralised_cells)
    renamed, headers = _rename_recognised(table, kind)
    if not headers:
        raise ValueError(
            f"{label} has no recognisable column (columns present: {', '.join(map(str, table.columns)) or 'none'}); "
            "use the survey template's headers, e.g. 小区编号, 名称, 区县, 人口, 经度, 纬度"
        )
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
        notes.append(
            f"{label} has no longitude/latitude (经度/纬度) nor WKT column, so no row has a geometry; "
            f"columns present: {', '.join(map(str, table.columns))}"
        )
    by_header = {header: name for name, header in headers.items()}
    for header, mask in formulas.items():
        problems.append(CellProblem(by_header.get(header, header), mask, original[header], "formula"))
    frame = _distinct_extra_columns(_raw_ordered(frame, kind), kind, headers, label, notes)
    return RawLayer(
        frame=frame, original=original, row_numbers=np.asarray(row_numbers, dtype=int),
        row_kind="sheet_row",
        problems=tuple(p for p in problems + converted_problems if p.bad.any()), headers=headers,
        geometry_columns=tuple(geometry_columns), file_format=file_format, file_crs=None, label=label,
        notes=tuple(notes),
    )


def _raw_from_geodata(frame, kind: str, file_format: str, label: str, notes: list) -> RawLayer:
    """A RawLayer from a GeoPackage, GeoJSON, Shapefile or KML layer as GDAL read it."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        frame = gpd.GeoDataFrame(pd.DataFrame(frame), geometry=[None] * len(frame))
    frame = frame.reset_index(drop=True)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    attributes = pd.DataFrame(frame.drop(columns="geometry"))
    for name in attributes.columns:
        if len(str(name)) > MAX_HEADER_CHARS:
            raise ValueError(f"{label} has a field name of {len(str(name)):,} characters, above the "
                             f"{MAX_HEADER_CHARS:,} a column name may have; shorten it")
    original = attributes.astype(object).where(attributes.notna(), None)
    original["wkt"] = shapely.to_wkt(frame.geometry.to_numpy())
    renamed, headers = _rename_recognised(frame, kind, shapefile=file_format == "zip")
    converted, problems = _convert_all(renamed, kind)
    geometry, from_points = _fill_points(converted.geometry.to_numpy(), converted)
    converted = converted.set_geometry(gpd.GeoSeries(geometry, index=converted.index, crs=frame.crs))
    converted = _distinct_extra_columns(_raw_ordered(converted, kind), kind, headers, label, notes)
    return RawLayer(
        frame=converted, original=original, row_numbers=np.arange(1, len(frame) + 1), row_kind="feature",
        problems=tuple(problems), headers=headers,
        geometry_columns=("geometry", "longitude", "latitude") if from_points else ("geometry",),
        file_format=file_format, file_crs=frame.crs, label=label, notes=tuple(notes),
    )


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
        raise ValueError(
            f"{label} is missing required column {missing[0]!r}"
            + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
            + f"; columns present: {present or '(none)'}. Add or rename the column"
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
    expected = _KIND_DESCRIPTIONS.get(column_kind, column_kind)
    raise ValueError(
        f"{label}: column {first_column!r}, data row {first_row + 1} (1-based, header not counted): "
        f"cannot read {value!r} as {expected}; correct the value or leave the cell empty"
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


def _to_int(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to nullable Int64; a number with a fraction or non-numeric text is bad."""
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("Int64"), np.zeros(len(values), dtype=bool)
    numbers, bad = _to_float(values)
    fractional = (numbers % 1 != 0).to_numpy() & numbers.notna().to_numpy()
    bad = bad | fractional
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


# --------------------------------------------------------------------------- geometry and CRS


def _geometry_problems(geometry: gpd.GeoSeries, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row masks: geometry missing or empty, and geometry of a type ``kind`` does not allow."""
    absent = (geometry.isna() | geometry.is_empty).to_numpy()
    wrong_type = ~absent & ~geometry.geom_type.isin(_GEOMETRY_TYPES[kind]).to_numpy()
    return absent, wrong_type


def _check_geometry(frame: gpd.GeoDataFrame, kind: str, label: str) -> None:
    """Raise ValueError if no row has geometry, or for the first row with missing/wrong geometry."""
    absent, wrong_type = _geometry_problems(frame.geometry, kind)
    allowed = " or ".join(_GEOMETRY_TYPES[kind])
    if absent.all():
        raise ValueError(f"{label} has no geometries (all missing or empty); {kind} need {allowed} geometries")
    bad_rows = np.flatnonzero(absent | wrong_type)
    if bad_rows.size:
        row = int(bad_rows[0])
        found = "no geometry" if absent[row] else f"a {frame.geometry.iloc[row].geom_type}"
        raise ValueError(
            f"{label}: data row {row + 1} (1-based) has {found}, but {kind} must be {allowed}; "
            "fix or remove that feature"
        )


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


def read_applications(path, layer: str = "applications") -> pd.DataFrame:
    """Applications received through district offices: ``community_id`` and ``application_date``.

    Parameters
    ----------
    path : str or os.PathLike
        A GeoPackage (attribute table ``layer``) or a CSV (UTF-8 with or without BOM, or GBK).

    Returns
    -------
    DataFrame
        ``community_id`` (string) and ``application_date`` (datetime64, day precision); extra
        columns kept. A date that cannot be read raises ValueError naming the 1-based row.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; check the path")
    if _sniff_format(path) == "gpkg":
        _check_gpkg_tables(path, layer)
        frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    else:
        frame = pd.read_csv(io.StringIO(_decoded_text(path.read_bytes(), _shown(path))), dtype=str, keep_default_na=False)
    frame = frame.rename(columns={c: c.strip().lower() for c in frame.columns})
    frame = frame.rename(columns={"小区编号": "community_id", "申请日期": "application_date"})
    for column in ("community_id", "application_date"):
        if column not in frame.columns:
            raise ValueError(f"applications in {_shown(path)}: required column '{column}' is missing")
    frame["community_id"] = frame["community_id"].astype("string").str.strip()
    dates = pd.to_datetime(frame["application_date"], errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        value = frame["application_date"].iloc[bad[0]]
        raise ValueError(
            f"applications in {_shown(path)}: row {bad[0] + 1}, column 'application_date': cannot read {value!r} as a date"
        )
    frame["application_date"] = dates.astype("datetime64[ns]")
    return frame


def read_table(path, layer: str) -> pd.DataFrame:
    """Any one layer or attribute table of a GeoPackage as stored, for carrying it along unchanged.

    A layer with a geometry comes back as a GeoDataFrame in its own CRS; a table without one as
    a DataFrame. Refused like every GeoPackage read here if the layer is a view, a virtual
    table or has computed columns (see :func:`_check_gpkg_tables`).
    """
    path = Path(path)
    _check_gpkg_tables(path, layer)
    try:
        if pyogrio.read_info(path, layer=layer).get("geometry_type"):
            return gpd.read_file(path, layer=layer, engine="pyogrio")
        return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    except pyogrio.errors.DataSourceError as err:
        raise ValueError(f"{_shown(path)}: layer {layer!r} cannot be read: {_one_line(err)}") from None


def gpkg_layers(path) -> list[str]:
    """Names of the layers of a GeoPackage; ValueError (not a GDAL error) for anything else."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"data file not found: {path}")
    if path.is_dir() or _sniff_format(path) != "gpkg":
        raise ValueError(f"{_shown(path)} is not a GeoPackage; the city data must be a .gpkg with the layers "
                         "districts, communities and fitness_paths")
    _check_gpkg_tables(path)
    try:
        return [name for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as err:
        raise ValueError(f"{_shown(path)} cannot be opened as a GeoPackage: {err}") from None
