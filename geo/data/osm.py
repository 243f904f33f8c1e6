"""Roads from OpenStreetMap extracts (``.osm.pbf``, ``.osm``) and the walkability rule every roads layer follows.

OSM files are read with GDAL's OSM driver (through pyogrio, already a dependency): its ``lines`` layer
holds every way that is not an area, ``highway`` as a field and the other tags in ``other_tags``
(``"bridge"=>"yes","foot"=>"no"``). Measured against pyosmium and pyrosm in ``benchmarks/README.md``.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.data import schema
from geo.data.formats import _one_line, _shown
from geo.data.schema import STORAGE_CRS
from geo.errors import Message, data_error

__all__ = [
    "check_osm_name",
    "filled_road_ids",
    "is_osm_file",
    "read_osm_roads",
    "road_kind_codes",
    "road_layer",
    "walkable_by_tags",
]

# The file name endings of an OpenStreetMap extract: a file so named must be one (else it would be read as a CSV).
OSM_SUFFIXES = (".pbf", ".osm")
# The most characters of GDAL's own words a message quotes (it may quote a 300-digit coordinate).
_DETAIL_CHARS = 200

# ``foot=`` values that open a way to walkers whatever its kind (a trunk road with a pavement).
_FOOT_OPEN = ("yes", "designated", "permissive", "use_sidepath", "sidewalk")
# Kinds no ``foot=`` tag opens: the road is not there yet.
_NOT_BUILT = ("construction", "proposed")


def is_osm_file(path) -> bool:
    """True when ``path`` is an OSM extract: PBF (a blob header naming ``OSMHeader``) or OSM XML (``<osm``)."""
    with open(path, "rb") as file:
        head = file.read(1024)
    if b"OSMHeader" in head[:64]:
        return True
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return text.startswith(b"<") and b"<osm" in text


def check_osm_name(path) -> None:
    """Refuse a file named as an OSM extract (``.osm.pbf``, ``.osm``) whose content is neither PBF nor OSM XML.

    Raises
    ------
    geo.errors.DataError
        ``osm_not_osm``, naming the file and its ending.
    """
    path = Path(path)
    if path.suffix.lower() in OSM_SUFFIXES and not is_osm_file(path):
        raise data_error("osm_not_osm", file=_shown(path), suffix=path.suffix)


def _key(word) -> str:
    """A word as compared to ``schema.ROAD_KIND_WORDS``: casefolded, no spaces, ``_`` or ``-``."""
    return str(word).strip().casefold().replace(" ", "").replace("_", "").replace("-", "").replace("\u3000", "")


_KIND_LOOKUP = {_key(word): code for code, words in schema.ROAD_KIND_WORDS.items() for word in (code, *words)}


def road_kind_codes(values: pd.Series) -> pd.Series:
    """The stored kind of each road: the code of a known word (快速路 → trunk, 人行道 → footway …), else the word.

    Words are matched casefolded without spaces, ``_`` or ``-`` (``schema.ROAD_KIND_WORDS``); an OSM
    ``highway`` value not in that table (``living_street``, ``track`` …) is kept as written, lower-case.
    Missing or blank stays missing. Returns a ``"string"`` Series on ``values``' index.
    """
    text = values.astype("string").str.strip()
    text = text.where(text != "")
    codes = {word: _KIND_LOOKUP.get(_key(word), str(word).casefold()) for word in text.dropna().unique()}
    return text.map(codes).astype("string")


def walkable_by_tags(kind, foot=None, access=None) -> np.ndarray:
    """Whether a person may walk along each road, from its kind and its OSM ``foot``/``access`` tags.

    The rule: a kind in ``schema.NOT_WALKABLE_KINDS`` (motorway, trunk, their links, construction,
    proposed, raceway, bus_guideway, escape) is not walkable unless ``foot`` opens it (yes,
    designated, permissive — a trunk road with a pavement; never a road not yet built). ``foot=no``
    or ``foot=private`` closes any road; ``access=no``/``private`` closes it unless ``foot`` opens it.
    Every other kind, a kind not known and a missing kind are walkable.

    Parameters
    ----------
    kind, foot, access : array-like of str or missing
        One value per road (``foot``/``access`` None: no such tags). Compared casefolded.

    Returns
    -------
    numpy.ndarray of bool
    """
    kind = _lower(kind)
    n = len(kind)
    foot = _lower(foot) if foot is not None else np.full(n, "", dtype=object)
    access = _lower(access) if access is not None else np.full(n, "", dtype=object)
    foot_open = np.isin(foot, _FOOT_OPEN)
    closed_kind = np.isin(kind, schema.NOT_WALKABLE_KINDS) & ~(foot_open & ~np.isin(kind, _NOT_BUILT))
    closed_foot = np.isin(foot, schema.NOT_WALKABLE_ACCESS)
    closed_access = np.isin(access, schema.NOT_WALKABLE_ACCESS) & ~foot_open
    return ~(closed_kind | closed_foot | closed_access)


def _lower(values) -> np.ndarray:
    """Values as stripped lower-case str, missing as ``""`` (object array)."""
    series = pd.Series(values, dtype="string").str.strip().str.casefold().fillna("")
    return series.to_numpy(dtype=object)


def road_layer(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A roads layer as the city file keeps it, from roads read or imported (EPSG:4326, line geometry).

    ``kind`` becomes its code (:func:`road_kind_codes`); a missing ``walkable`` is decided by
    :func:`walkable_by_tags` (with ``foot``/``access`` columns when the frame has them), a given one is
    kept; a missing ``bridge`` is True for a kind in ``schema.BRIDGE_KINDS``, else False; a missing
    ``road_id`` is the road's 1-based position in the frame. Returns the columns of
    ``schema.ROAD_COLUMNS`` (their dtypes) and ``geometry``, on a fresh RangeIndex.
    """
    frame = frame.reset_index(drop=True)
    out = gpd.GeoDataFrame(index=frame.index)
    for column in schema.ROAD_COLUMNS:
        out[column] = frame[column] if column in frame.columns else pd.NA
    kind = road_kind_codes(out["kind"])
    by_rule = walkable_by_tags(kind, *(frame[c] if c in frame.columns else None for c in ("foot", "access")))
    given = out["walkable"].astype("boolean")
    out["walkable"] = given.fillna(pd.Series(by_rule, index=frame.index)).astype("boolean")
    out["bridge"] = out["bridge"].astype("boolean").fillna(pd.Series(kind.isin(schema.BRIDGE_KINDS), index=frame.index))
    out["bridge"] = out["bridge"].astype("boolean")
    out["kind"] = kind
    out["road_id"] = filled_road_ids(out["road_id"], frame.index + 1)
    out["name"] = out["name"].astype("string")
    return out.set_geometry(gpd.GeoSeries(frame.geometry.to_numpy(), index=frame.index, crs=frame.crs)).to_crs(
        STORAGE_CRS
    )


def filled_road_ids(ids: pd.Series, numbers) -> pd.Series:
    """``ids`` as text, each missing one replaced by its road's number (``numbers``, one per road: the file's row).

    A number another road already has as its ID becomes ``row-<number>`` instead (once more ``-2``, ``-3`` … until
    free), so that two roads never share an ID. Returns a ``"string"`` Series on ``ids``' index.
    """
    ids = ids.astype("string")
    missing = ids.isna().to_numpy()
    if not missing.any():
        return ids
    taken = set(ids.dropna())
    filled = ids.to_numpy(dtype=object).copy()
    for position, number in zip(np.flatnonzero(missing), np.asarray(numbers)[missing]):
        candidate, k = str(number), 1
        while candidate in taken:
            k += 1
            candidate = f"row-{number}" if k == 2 else f"row-{number}-{k - 1}"
        taken.add(candidate)
        filled[position] = candidate
    return pd.Series(filled, index=ids.index, dtype="string")


def _tags(other_tags: pd.Series, key: str) -> pd.Series:
    """The value of one tag from GDAL's ``other_tags`` hstore text (missing where the way has no such tag)."""
    pattern = re.compile(r'(?:^|,)"' + re.escape(key) + r'"=>"((?:[^"\\]|\\.)*)"')
    return other_tags.astype("string").str.extract(pattern, expand=False).astype("string")


def read_osm_roads(path) -> gpd.GeoDataFrame:
    """Read the roads of an OpenStreetMap extract (``.osm.pbf`` or OSM XML) as a roads layer.

    Every way with a ``highway`` tag that GDAL's OSM driver gives as a line (areas such as
    ``area=yes`` squares are polygons and are not read). ``road_id`` is the way's OSM id, ``name`` its
    ``name``, ``kind`` its ``highway`` value, ``bridge`` True for ``bridge=yes`` (or any value but
    ``no``), ``walkable`` by :func:`walkable_by_tags` from ``highway``, ``foot`` and ``access``.

    Parameters
    ----------
    path : str or os.PathLike
        The extract; no network is used (GDAL reads it locally, node positions kept in a
        temporary file for large extracts).

    Returns
    -------
    geopandas.GeoDataFrame
        ``schema.ROAD_COLUMNS`` and LineString geometry, EPSG:4326 (OSM's own coordinates).

    Raises
    ------
    geo.errors.DataError
        ``osm_no_roads`` when the extract has no way tagged ``highway``.
    """
    path = Path(path)
    try:
        lines = pyogrio.read_dataframe(path, layer="lines", columns=["osm_id", "name", "highway", "other_tags"])
    except Exception as error:  # GDAL's words for a damaged extract (bad XML, a DTD, a coordinate of NaN …)
        detail = _one_line(error)
        detail = detail if len(detail) <= _DETAIL_CHARS else detail[:_DETAIL_CHARS] + "…"
        label = Message("label_file", kind=Message("kind_roads"), file=_shown(path))
        raise data_error("geodata_unreadable", label=label, format=Message("format_osm"), detail=detail) from None
    lines = lines[lines["highway"].notna()].reset_index(drop=True)
    if len(lines) == 0:
        raise data_error("osm_no_roads", file=_shown(path))
    other = lines["other_tags"] if "other_tags" in lines.columns else pd.Series(pd.NA, index=lines.index)
    bridge = _tags(other, "bridge")
    frame = gpd.GeoDataFrame(
        {
            "road_id": lines["osm_id"].astype("string"),
            "name": lines["name"].astype("string"),
            "kind": lines["highway"].astype("string"),
            "bridge": (bridge.notna() & (bridge.str.casefold() != "no")).astype("boolean"),
            "foot": _tags(other, "foot"),
            "access": _tags(other, "access"),
        },
        geometry=shapely.force_2d(lines.geometry.to_numpy()),
        crs=lines.crs or STORAGE_CRS,
    )
    return road_layer(frame)
