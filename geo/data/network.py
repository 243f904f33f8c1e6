"""No network from GDAL or PROJ: a GeoJSON naming its CRS by address is refused; network access is off."""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import re
from pathlib import Path

import pyogrio
import pyproj
import pyproj.network

from geo.errors import data_error

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
_JSON_CRS_MEMBER = re.compile(
    _json_member_pattern("crs", "{") + b"|" + _json_member_pattern("coordRefSys", '{["'), re.IGNORECASE
)


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
                raise data_error("json_crs_repeated", label=label, limit=_JSON_CRS_MAX_MEMBERS)
            value = _json_value_at(data, match.end())
            if value is _UNREADABLE:
                raise data_error(
                    "json_crs_unreadable", label=label, offset=match.start(), limit=_JSON_CRS_MAX_BYTES // 1024
                )
            reference = _fetched_crs_reference(value)
            if reference is not None:
                shown = " ".join(reference.split())
                shown = shown if len(shown) <= 200 else shown[:200] + "…"
                raise data_error("json_crs_link", label=label, address=shown)


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
        window = data[start : start + size]
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
    for item in (
        properties.get("name"),
        properties.get("urn"),
        properties.get("href"),
        properties.get("url"),
        members.get("href"),
    ):
        found = _fetched_crs_reference(item) if isinstance(item, str) else None
        if found is not None:
            return found
    return None


class _HTTPResult(ctypes.Structure):
    """GDAL's ``CPLHTTPResult`` (cpl_http.h)."""

    _fields_ = [
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("pszErrBuf", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pabyData", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p),
        ("nMimePartCount", ctypes.c_int),
        ("pasMimePart", ctypes.c_void_p),
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
    result.pszErrBuf = _GDAL.CPLStrdup(b"network access is disabled in this program (geo.data.network)")
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
