"""Input formats: what the readers accept, a file's format sniffed from its bytes, how messages name a file."""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import unicodedata
import zipfile
from pathlib import Path

from geo.data import schema
from geo.errors import Message, data_error

# The name a file is shown under in messages, when it is not the file's own: the app stores an
# upload under a fixed name (never the user's), and its messages must still name the user's file.
# The default is never mutated: shown_as sets a new dict for its block and resets it after.
_DISPLAY_NAMES: contextvars.ContextVar[dict] = contextvars.ContextVar("display_names", default={})  # noqa: B039


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
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_COPY_CHUNK = 1 << 20
_MB = 1 << 20
# ``zipfile.ZipFile`` reads a zip's whole directory into memory (about 1 KB per member): a 90 MB
# directory of a million empty members takes 1 GB and 14 s. Shapefiles and workbooks have a few
# dozen members; this many bytes of directory hold some tens of thousands.
_ZIP_DIRECTORY_MAX_BYTES = 4 << 20


# --------------------------------------------------------------------------- formats


def _supported(extended: bool = False) -> Message:
    """The supported formats, as a message (the import's when ``extended``)."""
    return Message("formats_import", sheet="小区调查") if extended else Message("formats_supported")


def _sniff_format(path: Path, extended: bool = False) -> str:
    """Return the format of ``path`` from its first bytes (the extension only breaks ties).

    "gpkg", "zip", "geojson" or "csv"; with ``extended`` (the import formats) also "xlsx" (a zip
    holding ``xl/workbook.xml``) and "kml" (XML whose first bytes name ``<kml``).
    """
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head:
        raise data_error("file_empty", file=_shown(path), supported=_supported(extended))
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
            raise data_error("file_xls", file=_shown(path), supported=_supported(extended))
        if text_head.startswith(b"<") and b"<kml" in head.lower():
            return "kml"
    if head.startswith(_SHP_MAGIC) or suffix == ".shp":
        raise data_error("file_bare_shapefile", file=_shown(path), supported=_supported(extended))
    expected = (_IMPORT_EXTENSION_FORMATS if extended else _EXTENSION_FORMATS).get(suffix)
    if expected not in (None, "csv"):
        raise data_error(
            "file_extension_mismatch",
            file=_shown(path),
            suffix=suffix,
            expected=expected,
            supported=_supported(extended),
        )
    if b"\x00" in head or text_head.startswith(b"<"):
        raise data_error("file_unsupported", file=_shown(path), supported=_supported(extended))
    return "csv"


def _zip_is_workbook(path: Path) -> bool:
    """True for a zip holding an Excel workbook (``xl/workbook.xml``); only the listing is read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


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
        raise data_error("path_is_folder", path=str(path), formats=_supported(extended=extended))
    return path


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
        raise data_error("file_too_large", file=_shown(path), size=size, limit=max_upload_mb)


def _check_zip_directory(path: Path) -> None:
    """Refuse a zip whose directory (the listing ``zipfile`` reads whole) is absurdly large.

    Only the end record is read, with ``zipfile``'s own reader, so the size checked is the one
    ``ZipFile`` would then trust.
    """
    with open(path, "rb") as handle:
        end = zipfile._EndRecData(handle)
    if end is not None and end[zipfile._ECD_SIZE] > _ZIP_DIRECTORY_MAX_BYTES:
        raise data_error(
            "zip_directory_too_large",
            file=_shown(path),
            size=end[zipfile._ECD_SIZE],
            limit=_ZIP_DIRECTORY_MAX_BYTES >> 20,
        )
