"""Merge the district offices' survey returns into the city's communities layer, logging every change."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import scipy.sparse.csgraph
import shapely

from geo.data.crs import metric_crs_for, require_storage_crs
from geo.data.schema import STORAGE_CRS
from geo.errors import Message, data_error

# Columns that are not attributes to merge: the match key and the provenance of a row.
_NOT_ATTRIBUTES = ("community_id", "source", "geometry_approximate")
APPROXIMATE_COLUMN = "geometry_approximate"
SOURCE_COLUMN = "source"
# Geometries are compared on a 1e-7° grid (≈1 cm), the precision the boundaries are stored at.
_GEOMETRY_GRID = 1e-7
# Reals are compared to 9 decimals, so 0.22 typed in Excel equals 0.22 read from a GeoPackage.
_REAL_DECIMALS = 9
# Two rows with one name in one district are one community when their geometries are this close
# (metres): outlines of one estate drawn twice, or a point-made footprint beside its outline.
# Farther apart they are two communities that happen to share a name.
SAME_PLACE_M = 200.0

# How good a community's geometry is: none, an approximate footprint (or a point), a polygon.
_NO_GEOMETRY, _APPROXIMATE, _POLYGON = 0, 1, 2

UPDATE_COLUMNS = ("community_id", "name", "district_code", "column", "old", "new", "source")
CONFLICT_COLUMNS = (
    "community_id",
    "name",
    "district_code",
    "kind",
    "column",
    "city_value",
    "values",
    "sources",
    "rows",
    "resolution",
)
ADDED_COLUMNS = ("community_id", "name", "district_code", "district_name", "source", "id_generated", "rows")
MATCH_COLUMNS = ("source", "row", "community_id", "matched_by")

# How a conflict was resolved: English text (the CLI's), said in the page's language by the app.
_KEEP_CITY = Message("resolution_kept_city")
_LEFT_MISSING = Message("resolution_left_missing")
_NOT_MERGED = Message("resolution_not_merged")
_FIRST_GEOMETRY = Message("resolution_first_geometry")
_KEPT_APART = Message("resolution_kept_apart")
_SAME_NAME_ID = "same_name_different_id"
_SAME_NAME_PLACE = "same_name_different_place"


@dataclass(frozen=True)
class MergeResult:
    """What :func:`merge_returns` did.

    Attributes
    ----------
    communities : geopandas.GeoDataFrame
        The merged layer, EPSG:4326: the city's rows in their order, then the added ones, on a
        fresh RangeIndex; the city's columns and dtypes (a NumPy int or bool column becomes
        ``Int64``/``boolean`` when it must hold a missing value), then columns only the returns
        had, then ``geometry``.
    updates : pandas.DataFrame
        The change log of city rows, one row per changed value: ``community_id``, ``name``,
        ``district_code``, ``column``, ``old`` (missing when the city had no value), ``new``,
        ``source`` (the returns that gave the value, ``"; "``-joined). Geometries as WKT.
    conflicts : pandas.DataFrame
        One row per disagreement or coincidence, none silently resolved: ``community_id``,
        ``name``, ``district_code``, ``kind``, ``column``, ``city_value``,
        ``values``/``sources``/``rows`` (aligned lists: each contributing return row's value,
        return and 1-based row), ``resolution``. Kinds: ``value`` and ``geometry`` (returns
        disagree; ``city_value`` is the city's value), ``same_name_different_id`` and
        ``same_name_different_place`` (a new community kept apart from others of its name in
        its district; ``city_value`` lists their IDs), ``ambiguous_match`` (a row that fits
        several communities, listed in ``city_value``; not merged) and ``unmatchable`` (a row
        with no name or district and no ID to place it by; not merged).
    added : pandas.DataFrame
        One row per new community: ``community_id``, ``name``, ``district_code``,
        ``district_name``, ``source``, ``id_generated`` (bool), ``rows`` (return rows merged).
    matches : pandas.DataFrame
        One row per returned row: ``source``, ``row`` (1-based), ``community_id`` it went to
        (missing when not merged), ``matched_by`` (``id``, ``name``, ``new``,
        ``ambiguous_match``, ``unmatchable``).
    returns : tuple of str
        The names of the returns, in the order given.
    """

    communities: gpd.GeoDataFrame
    updates: pd.DataFrame
    conflicts: pd.DataFrame
    added: pd.DataFrame
    matches: pd.DataFrame
    returns: tuple[str, ...] = ()

    def summary(self) -> dict:
        """Counts for a headline: rows returned and how they matched, updates, conflicts, additions."""
        matched_by = self.matches["matched_by"].value_counts()
        return {
            "returns": len(self.returns),
            "rows_returned": len(self.matches),
            "matched_by_id": int(matched_by.get("id", 0)),
            "matched_by_name": int(matched_by.get("name", 0)),
            "rows_new": int(matched_by.get("new", 0)),
            "rows_not_merged": int(matched_by.get("ambiguous_match", 0) + matched_by.get("unmatchable", 0)),
            "communities_before": len(self.communities) - len(self.added),
            "communities_after": len(self.communities),
            "added": len(self.added),
            "updates": len(self.updates),
            "communities_updated": int(self.updates["community_id"].nunique()),
            "conflicts": len(self.conflicts),
            "communities_in_conflict": int(self.conflicts["community_id"].dropna().nunique()),
        }


# --------------------------------------------------------------------------- public API


def normalised_name(name) -> str | None:
    """The matching key of a community name: NFKC (full-width → half-width), no whitespace, casefolded.

    ``"阳光 花园"``, ``"阳光花园"`` and ``"阳光　花园"`` (ideographic space) give the same key;
    a missing or blank name gives None.
    """
    if _is_missing(name):
        return None
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name))).casefold()
    return key or None


def normalised_id(value) -> str | None:
    """The matching key of a community ID: NFKC (full-width → half-width), stripped; missing or blank gives None."""
    return None if _is_missing(value) else unicodedata.normalize("NFKC", str(value)).strip() or None


def generated_ids(district_codes, used_ids) -> list[str]:
    """New community IDs ``<district_code>-N<nnnn>``, one per code given, never one in ``used_ids``.

    Numbers run per district after the highest ``<code>-N<nnnn>`` in ``used_ids``; a missing
    code gives ``NEW-N<nnnn>``. E.g. codes ``["450202", "450202"]`` with ``{"450202-N0007"}``
    used give ``["450202-N0008", "450202-N0009"]``.
    """
    next_number: dict[str, int] = {}
    for identifier in used_ids:
        match = re.fullmatch(r"(.+)-N(\d+)", identifier or "")
        if match:
            next_number[match[1]] = max(next_number.get(match[1], 0), int(match[2]))
    ids = []
    for code in district_codes:
        code = normalised_id(code) or "NEW"
        next_number[code] = next_number.get(code, 0) + 1
        ids.append(f"{code}-N{next_number[code]:04d}")
    return ids


def merge_returns(city: gpd.GeoDataFrame, returns, *, same_place_m: float = SAME_PLACE_M) -> MergeResult:
    """Merge the communities returned by district offices into the city's communities layer.

    Parameters
    ----------
    city : geopandas.GeoDataFrame
        The current communities layer (columns of :data:`geo.data.schema.COMMUNITY_COLUMNS`,
        EPSG:4326, unique ``community_id``); may be empty. An optional ``geometry_approximate``
        column marks footprints made from a point.
    returns : list or dict of geopandas.GeoDataFrame
        Accepted communities frames, one per district office, same schema and CRS; they may
        carry ``geometry_approximate``, ``existing_sets``, ``application_date``, ``source`` and
        other columns. A dict's keys name the returns in the reports; in a list a return is
        named by its ``source`` column when that holds one value, else ``"return N"``.
    same_place_m : float, optional
        Distance in metres (default :data:`SAME_PLACE_M`, 200 m) within which two geometries
        under one name in one district are one community; measured between the outlines
        (0 when they touch or overlap) in the UTM zone of the data.

    Returns
    -------
    MergeResult
        The merged layer and the reports (see :class:`MergeResult`).

    Raises
    ------
    ValueError
        If a frame is not in EPSG:4326, the city's ``community_id`` values are not unique, or
        ``same_place_m`` is not a finite distance of 0 or more.

    Notes
    -----
    Matching — two rows are one community only when the evidence says so; every returned row
    ends in the layer or is listed in ``conflicts`` with the reason it was not merged.

    1. A row with the ``community_id`` of a city community goes to it.
    2. A row with any other ``community_id`` is a new community with that ID; rows giving the
       same ID are that community. Rows with different IDs are never one community, whatever
       their names.
    3. A row without an ID but with a geometry goes to the community of the same
       :func:`normalised_name` and ``district_code`` (filled from ``district_name`` when
       missing) whose known geometry lies within ``same_place_m``; such rows within reach of
       one another (directly or by a chain) go together. Near two such communities it is an
       ``ambiguous_match``, not merged. Near none, it goes to the one community of that name
       without any geometry, if there is exactly one and this is the only place given for the
       name; otherwise it is a new community.
    4. A row with neither ID nor geometry goes to the community of its name in its district
       when there is exactly one (city or new), is an ``ambiguous_match`` when there are
       several, and otherwise is a new community together with the other such rows of the name.
    5. A row with no name or district that steps 1–2 did not place is ``unmatchable``.

    A new community is given the ``community_id`` its rows give, else a new
    ``<district_code>-N<nnnn>`` (numbers continue after the highest in use). A new community
    sharing its name in its district with another is listed as ``same_name_different_id``
    (both carry their own IDs) or ``same_name_different_place`` (kept apart by distance).

    Conflict policy — nothing is ever silently chosen. For each community and column, the
    values given by all returned rows are compared (missing values give no information and
    never erase). If they disagree, the conflict is listed with every row's value and source,
    and the community **keeps the city's existing value; when the city had none (or the
    community is new) the value stays missing** until someone resolves it. If they agree, the
    value is written, and for a city community the change (or a fill of a missing value) is
    logged in ``updates``. Reals are compared to 9 decimals, names by their normalised key.

    Geometry: a polygon beats an approximate footprint (``geometry_approximate`` true, or a
    point), from a return or in the city; among the returns' best-ranked geometries, two that
    differ on a 1e-7° grid are a ``geometry`` conflict: the city's geometry is kept, and when
    the city has none the first row's (in the order of the returns and their rows) is taken,
    so no community that any row gave a geometry ends without one. A community ends without a
    geometry only when neither the city nor any of its rows gave one (a new community named
    by an unknown ID, or by a name alone); the caller must place or report it.
    ``geometry_approximate`` is carried to the result when any input has it.
    A ``source`` column, when any input has one, gets the returns' names for added rows.
    """
    if not (isinstance(same_place_m, (int, float)) and np.isfinite(same_place_m) and same_place_m >= 0):
        raise ValueError(f"same_place_m must be a distance in metres, 0 or more; got {same_place_m!r}")
    returns = _named_returns(returns)
    city = _prepared_city(city)
    n_city = len(city)
    frames = [(label, _prepared_return(frame, label)) for label, frame in returns]

    rows = _stacked_rows(city, frames)
    rows, pairs, by_pair = _matched(rows, city, same_place_m)
    new_ids = _new_community_ids(rows, _keys(city["community_id"], normalised_id))
    n_total = n_city + len(new_ids)

    columns = _attribute_columns(city, frames)
    long = _long_values(frames, rows, columns)
    merged_values = {column: _city_values(city, column, n_total) for column in columns}
    attribute_updates, attribute_conflicts = _resolve_attributes(long, merged_values, n_city)
    _fill_new_district_codes(merged_values, rows, n_city)

    geometry, approximate = _city_geometry(city, n_total)
    geometry_updates, geometry_conflicts = _resolve_geometry(rows, geometry, approximate, n_city, same_place_m)

    ids = np.concatenate([city["community_id"].astype(object).to_numpy(), np.array(new_ids, dtype=object)])
    communities = _assemble(city, frames, merged_values, columns, ids, geometry, approximate, rows, n_city)

    describe = _describer(ids, merged_values, rows)
    updates = _table(attribute_updates + geometry_updates, UPDATE_COLUMNS, describe)
    conflicts = _table(
        _same_name_conflicts(rows, pairs, by_pair, ids, n_city)
        + attribute_conflicts
        + geometry_conflicts
        + _match_conflicts(rows, ids),
        CONFLICT_COLUMNS,
        describe,
    )
    added = _added_table(rows, ids, merged_values, n_city, n_total)
    matches = pd.DataFrame(
        {
            "source": rows["source"].to_numpy(object),
            "row": rows["row"].to_numpy(int),
            "community_id": [ids[t] if t >= 0 else None for t in rows["target"]],
            "matched_by": rows["matched_by"].to_numpy(object),
        },
        columns=list(MATCH_COLUMNS),
    )
    return MergeResult(communities, updates, conflicts, added, matches, tuple(label for label, _ in frames))


# --------------------------------------------------------------------------- inputs


def _named_returns(returns) -> list[tuple[str, pd.DataFrame]]:
    if isinstance(returns, pd.DataFrame):
        raise ValueError(
            "returns must be a list or dict of frames, one per district office; wrap a single frame in [ ]"
        )
    if isinstance(returns, dict):
        named = [(str(label), frame) for label, frame in returns.items()]
    else:
        named = []
        for number, frame in enumerate(returns, start=1):
            sources = frame[SOURCE_COLUMN].dropna().unique() if SOURCE_COLUMN in getattr(frame, "columns", ()) else []
            named.append((str(sources[0]) if len(sources) == 1 else f"return {number}", frame))
    seen: dict[str, int] = {}
    unique = []
    for label, frame in named:
        seen[label] = seen.get(label, 0) + 1
        unique.append((label if seen[label] == 1 else f"{label} ({seen[label]})", frame))
    return unique


def _check_crs(frame: pd.DataFrame, what: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        return
    require_storage_crs(frame, what, unset_if_no_geometry=True)


def _prepared_city(city: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(city, pd.DataFrame):
        raise ValueError(f"city must be the communities GeoDataFrame, got a {type(city).__name__}")
    _check_crs(city, "the city's communities layer")
    if not isinstance(city, gpd.GeoDataFrame) or city.geometry.name not in city.columns:
        city = gpd.GeoDataFrame(pd.DataFrame(city), geometry=[None] * len(city), crs=STORAGE_CRS)
    city = city.reset_index(drop=True)
    if city.geometry.name != "geometry":
        city = city.rename_geometry("geometry")
    for column in ("community_id", "name", "district_code"):
        if column not in city.columns:
            city[column] = pd.Series([None] * len(city), dtype="string")
    ids = _keys(city["community_id"], normalised_id)
    duplicated = ids[ids.notna() & ids.duplicated(keep=False)]
    if not duplicated.empty:
        raise data_error("city_ids_repeated", ids=", ".join(sorted(set(duplicated))[:5]))
    return city


def _prepared_return(frame, label: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"return {label!r} must be a GeoDataFrame of communities, got a {type(frame).__name__}")
    _check_crs(frame, f"return {label!r}")
    return frame.reset_index(drop=True)


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    missing = pd.isna(value)
    return bool(missing) if np.ndim(missing) == 0 else False


def _keys(values: pd.Series, key) -> pd.Series:
    """``key`` of each value, as objects (a string column mapped to all-None must stay object)."""
    return pd.Series([key(value) for value in values.astype(object)], index=values.index, dtype=object)


def _value_key(value, column: str):
    """What two values of ``column`` are compared by: names normalised, reals rounded, text stripped."""
    if column == "name":
        return normalised_name(value)
    if column == "district_code":
        return normalised_id(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        number = round(float(value), _REAL_DECIMALS)
        return int(number) if number.is_integer() else number
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (dt.date, np.datetime64)):
        return pd.Timestamp(value)
    if isinstance(value, shapely.Geometry):
        return _geometry_key(value)
    return value


def _geometry_key(geometry) -> bytes:
    snapped = shapely.set_precision(geometry, _GEOMETRY_GRID, mode="pointwise")
    return shapely.to_wkb(shapely.normalize(snapped))


def _geometry_rank(geometry: np.ndarray, approximate: np.ndarray) -> np.ndarray:
    present = ~(pd.isna(geometry) | shapely.is_empty(geometry))
    polygonal = np.isin(shapely.get_type_id(geometry), (3, 6))  # Polygon, MultiPolygon
    return np.where(~present, _NO_GEOMETRY, np.where(polygonal & ~approximate, _POLYGON, _APPROXIMATE))


def _approximate_flags(frame: pd.DataFrame) -> np.ndarray:
    if APPROXIMATE_COLUMN not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[APPROXIMATE_COLUMN].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _geometries(frame: pd.DataFrame) -> np.ndarray:
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        return frame.geometry.to_numpy().astype(object)
    return np.full(len(frame), None, dtype=object)


# --------------------------------------------------------------------------- matching


def _district_codes_by_name(city: pd.DataFrame, frames) -> dict[str, str]:
    """District name → code, from every frame that has both, where the pair is unambiguous."""
    pairs = [
        f[["district_name", "district_code"]]
        for f in [city] + [frame for _, frame in frames]
        if {"district_name", "district_code"} <= set(f.columns)
    ]
    if not pairs:
        return {}
    table = pd.concat(
        [
            pd.DataFrame(
                {"name": _keys(p["district_name"], normalised_name), "code": _keys(p["district_code"], normalised_id)}
            )
            for p in pairs
        ]
    )
    table = table.dropna().drop_duplicates()
    table = table[~table["name"].duplicated(keep=False)]
    return dict(zip(table["name"], table["code"]))


def _stacked_rows(city: pd.DataFrame, frames) -> pd.DataFrame:
    """One row per returned row: its return, 1-based data row (header not counted), match keys, geometry."""
    codes_by_name = _district_codes_by_name(city, frames)
    parts = []
    for number, (label, frame) in enumerate(frames):
        n = len(frame)
        codes = pd.Series([None] * n, dtype=object)
        if "district_code" in frame.columns:
            codes = _keys(frame["district_code"], normalised_id)
        if "district_name" in frame.columns:
            by_name = _keys(frame["district_name"], normalised_name).map(codes_by_name).astype(object)
            codes = codes.where(codes.notna(), by_name)
        geometry = _geometries(frame)
        parts.append(
            pd.DataFrame(
                {
                    "return": number,
                    "source": label,
                    "row": np.arange(1, n + 1),
                    "id_key": _keys(frame["community_id"], normalised_id).to_numpy(object)
                    if "community_id" in frame.columns
                    else np.full(n, None, dtype=object),
                    "name": frame["name"].astype(object).to_numpy(object)
                    if "name" in frame.columns
                    else np.full(n, None, dtype=object),
                    "name_key": _keys(frame["name"], normalised_name).to_numpy(object)
                    if "name" in frame.columns
                    else np.full(n, None, dtype=object),
                    "code_key": codes.astype(object).where(codes.notna(), None).to_numpy(object),
                    "geometry": geometry,
                    "rank": _geometry_rank(geometry, _approximate_flags(frame)),
                }
            )
        )
    columns = ["return", "source", "row", "name", "id_key", "name_key", "code_key", "geometry", "rank"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def _pair_key(name_keys: pd.Series, code_keys: pd.Series) -> pd.Series:
    both = name_keys.notna() & code_keys.notna()
    return (code_keys.astype(object) + "\x1f" + name_keys.astype(object)).where(both, None)


def _present(geometry: np.ndarray) -> np.ndarray:
    return ~np.asarray(pd.isna(geometry) | shapely.is_empty(geometry), dtype=bool)


def _metric_geometries(*arrays: np.ndarray) -> list[np.ndarray]:
    """The EPSG:4326 geometries of each array in the UTM zone of all of them, to measure in metres."""
    joined = np.concatenate([np.asarray(a, dtype=object) for a in arrays]) if arrays else np.array([], dtype=object)
    present = _present(joined)
    projected = np.full(len(joined), None, dtype=object)
    if present.any():
        series = gpd.GeoSeries(joined[present], crs=STORAGE_CRS)
        projected[present] = series.to_crs(metric_crs_for(series)).to_numpy()
    return np.split(projected, np.cumsum([len(a) for a in arrays])[:-1])


class _Communities:
    """The communities a returned row may join while matching, indexed by district and name.

    Keys ``0 … n_city-1`` are the city's communities, the next ones new communities in the order
    they are made; each has its set of name keys (``pairs``) and the metric geometries known for
    it (``places``: the city's, and those of the rows it has taken).
    """

    def __init__(self, city_pairs: pd.Series, city_metric: np.ndarray, same_place_m: float):
        self.same_place_m = same_place_m
        self.pairs: list[set] = [{pair} if pair is not None else set() for pair in city_pairs]
        self.places: list[list] = [[g] if g is not None else [] for g in city_metric]
        self.by_pair: dict[str, list[int]] = {}
        for key, pair in enumerate(city_pairs):
            if pair is not None:
                self.by_pair.setdefault(pair, []).append(key)

    def new(self, pairs: set) -> int:
        key = len(self.pairs)
        self.pairs.append(set(pairs))
        self.places.append([])
        for pair in pairs:
            self.by_pair.setdefault(pair, []).append(key)
        return key

    def named(self, pair: str) -> list[int]:
        return list(self.by_pair.get(pair, ()))

    def near(self, key: int, geometries: np.ndarray) -> bool:
        """Whether any of ``geometries`` (metric) lies within ``same_place_m`` of a place of ``key``."""
        if not self.places[key]:
            return False
        known = np.array(self.places[key], dtype=object)
        return bool(shapely.dwithin(geometries[:, None], known[None, :], self.same_place_m).any())


def _place_clusters(geometries: np.ndarray, same_place_m: float) -> np.ndarray:
    """Label of each (metric) geometry.

    Those within ``same_place_m`` of each other, directly or by a chain, share it."""
    if len(geometries) < 2:
        return np.zeros(len(geometries), dtype=int)
    close = shapely.dwithin(geometries[:, None], geometries[None, :], same_place_m)
    return scipy.sparse.csgraph.connected_components(scipy.sparse.csr_array(close), directed=False)[1]


def _matched(rows: pd.DataFrame, city: gpd.GeoDataFrame, same_place_m: float):
    """Decide which community each returned row is; add ``target``, ``matched_by``, ``candidates``, ``pair``.

    ``target`` is the row's position in the merged layer (-1 when not merged), ``candidates``
    the positions an ambiguous row could go to. Also returns, by merged position, the name keys
    of each community (a list of sets) and the positions holding each name key (a dict).
    """
    n_city, n_rows = len(city), len(rows)
    rows = rows.copy()
    pair = _pair_key(rows["name_key"], rows["code_key"]).to_numpy(object)
    city_pair = _pair_key(_keys(city["name"], normalised_name), _keys(city["district_code"], normalised_id))
    city_ids = _keys(city["community_id"], normalised_id)
    row_metric, city_metric = _metric_geometries(rows["geometry"].to_numpy(object), _geometries(city))
    placed = _present(row_metric)
    found = _Communities(city_pair, city_metric, same_place_m)
    target = np.full(n_rows, -1, dtype=int)
    matched_by = np.full(n_rows, "unmatchable", dtype=object)
    candidates: list[list[int] | None] = [None] * n_rows

    def join(key: int, positions) -> None:
        positions = np.asarray(positions, dtype=int)
        target[positions] = key
        matched_by[positions] = "name" if key < n_city else "new"
        found.places[key].extend(row_metric[positions][placed[positions]])

    # 1. The ID of a city community is the strongest evidence.
    by_id = rows["id_key"].map(dict(zip(city_ids.dropna(), city_ids.dropna().index)))
    for position in np.flatnonzero(by_id.notna().to_numpy()):
        join(int(by_id.iloc[position]), [position])
        matched_by[position] = "id"
    # 2. Any other ID is a new community of its own: rows giving it are that community, whatever its name.
    other_id = rows["id_key"].notna().to_numpy() & by_id.isna().to_numpy()
    for positions in pd.Series(np.flatnonzero(other_id)).groupby(rows["id_key"].to_numpy()[other_id], sort=False):
        positions = positions[1].to_numpy()
        pairs = {p for p in pair[positions] if p is not None}
        if pairs:  # without a name and district a new community cannot be placed in a district
            join(found.new(pairs), positions)
    # 3. Rows without an ID but with a geometry: one community per place of a name in a district.
    without_id = rows["id_key"].isna().to_numpy() & pd.notna(pair)
    located = np.flatnonzero(without_id & placed)
    for name_pair, positions in pd.Series(located).groupby(pair[located], sort=False):
        positions = positions.to_numpy()
        labels = _place_clusters(row_metric[positions], same_place_m)
        earlier = found.named(name_pair)
        free = []
        for label in dict.fromkeys(labels):
            cluster = positions[labels == label]
            near = [key for key in earlier if found.near(key, row_metric[cluster])]
            if len(near) == 1:
                join(near[0], cluster)
            elif len(near) > 1:
                matched_by[cluster] = "ambiguous_match"
                for position in cluster:
                    candidates[position] = near
            else:
                free.append(cluster)
        unplaced = [key for key in earlier if not found.places[key]]
        if len(free) == 1 and len(unplaced) == 1:
            join(unplaced[0], free[0])  # the only place given for the only community without one
        else:
            for cluster in free:
                join(found.new({name_pair}), cluster)
    # 4. Rows with neither ID nor geometry: the community of their name in their district, if only one.
    unlocated = np.flatnonzero(without_id & ~placed)
    for name_pair, positions in pd.Series(unlocated).groupby(pair[unlocated], sort=False):
        positions = positions.to_numpy()
        named = found.named(name_pair)
        if len(named) > 1:
            matched_by[positions] = "ambiguous_match"
            for position in positions:
                candidates[position] = named
        else:
            join(named[0] if named else found.new({name_pair}), positions)

    # New communities take their place in the merged layer in the order of their first row.
    new_keys = list(dict.fromkeys(target[target >= n_city]))
    renumber = {key: n_city + number for number, key in enumerate(new_keys)}
    renumber.update({key: key for key in range(n_city)})
    renumber[-1] = -1
    rows["target"] = [renumber[key] for key in target]
    rows["matched_by"] = matched_by
    rows["candidates"] = [None if c is None else [renumber[key] for key in c] for c in candidates]
    rows["pair"] = pair
    pairs = found.pairs[:n_city] + [found.pairs[key] for key in new_keys]
    by_pair = {p: [renumber[key] for key in keys if key in renumber] for p, keys in found.by_pair.items()}
    return rows, pairs, by_pair


def _new_community_ids(rows: pd.DataFrame, city_ids) -> list[str]:
    """The IDs of new communities: the one their rows give, else ``<district_code>-N<nnnn>``.

    The rows of a new community give at most one ID (rows with different IDs are different
    communities), and never one of the city's (those rows went to that community).
    """
    new = rows[rows["matched_by"] == "new"]
    if new.empty:
        return []
    given = new.groupby("target", sort=True)["id_key"].first()  # first non-missing, else None
    codes = new.groupby("target", sort=True)["code_key"].first()
    used = {identifier for identifier in city_ids if identifier is not None} | set(given.dropna())
    generated = iter(generated_ids(codes[given.isna()], used))
    return [
        identifier if identifier is not None and not pd.isna(identifier) else next(generated) for identifier in given
    ]


def _match_conflicts(rows: pd.DataFrame, ids) -> list[dict]:
    """Rows not merged: a name that fits several communities of the district, or no name/district."""
    conflicts = []
    for _, row in rows[rows["matched_by"].isin(["ambiguous_match", "unmatchable"])].iterrows():
        candidates = [ids[key] for key in row["candidates"]] if row["candidates"] else []
        conflicts.append(
            {
                "target": -1,
                "kind": row["matched_by"],
                "column": "name" if candidates else "name/district",
                "city_value": candidates or None,
                "values": [None if _is_missing(row["name"]) else row["name"]],
                "sources": [row["source"]],
                "rows": [int(row["row"])],
                "resolution": _NOT_MERGED,
            }
        )
    return conflicts


def _same_name_conflicts(rows: pd.DataFrame, pairs: list[set], by_pair: dict, ids, n_city: int) -> list[dict]:
    """Each new community that shares its name in its district with another, kept apart from it.

    ``same_name_different_id`` when both carry an ID of their own (given, not generated),
    ``same_name_different_place`` when they were kept apart by where they are.
    """
    conflicts = []
    new = rows[rows["matched_by"] == "new"]
    has_id = new["id_key"].notna().groupby(new["target"]).any()
    given = set(has_id.index[has_id.to_numpy(dtype=bool)])
    for target in range(n_city, len(ids)):
        others = sorted({key for pair in pairs[target] for key in by_pair.get(pair, ())} - {target})
        if not others:
            continue
        by_ids = target in given and all(key in given or (key < n_city and not _is_missing(ids[key])) for key in others)
        group = rows[rows["target"] == target]
        conflicts.append(
            {
                "target": target,
                "kind": _SAME_NAME_ID if by_ids else _SAME_NAME_PLACE,
                "column": "name",
                "city_value": [ids[key] for key in others],
                "values": group["name"].tolist(),
                "sources": group["source"].tolist(),
                "rows": [int(r) for r in group["row"]],
                "resolution": _KEPT_APART,
            }
        )
    return conflicts


# --------------------------------------------------------------------------- attributes


def _attribute_columns(city: pd.DataFrame, frames) -> list[str]:
    """Columns to merge: the city's, then those only returns have, in order of first appearance."""
    columns = []
    for frame in [city] + [frame for _, frame in frames]:
        geometry_columns = set(frame.select_dtypes("geometry").columns)
        for column in frame.columns:
            if column not in columns and column not in geometry_columns and column not in _NOT_ATTRIBUTES:
                columns.append(column)
    return columns


def _long_values(frames, rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every non-missing value of every returned row that was merged: target, column, value, key, source, row."""
    parts = []
    offset = 0
    for label, frame in frames:
        targets = rows["target"].to_numpy()[offset : offset + len(frame)]
        for column in columns:
            if column not in frame.columns:
                continue
            values = frame[column].astype(object)
            keep = ~values.map(_is_missing).astype(bool).to_numpy() & (targets >= 0)
            parts.append(
                pd.DataFrame(
                    {
                        "target": targets[keep],
                        "column": column,
                        "value": values[keep].to_numpy(object),
                        "key": values[keep].map(lambda v, c=column: _value_key(v, c)).to_numpy(object),
                        "source": label,
                        "row": np.arange(1, len(frame) + 1)[keep],
                    }
                )
            )
        offset += len(frame)
    if not parts:
        return pd.DataFrame(columns=["target", "column", "value", "key", "source", "row"])
    return pd.concat(parts, ignore_index=True)


def _city_values(city: pd.DataFrame, column: str, n_total: int) -> np.ndarray:
    values = np.full(n_total, None, dtype=object)
    if column in city.columns:
        present = city[column].astype(object)
        values[: len(city)] = present.where(~present.map(_is_missing).astype(bool), None).to_numpy(object)
    return values


def _resolve_attributes(long: pd.DataFrame, merged: dict, n_city: int) -> tuple[list[dict], list[dict]]:
    """Write agreed values into ``merged`` (column → values by position); return updates and conflicts."""
    updates, conflicts = [], []
    if long.empty:
        return updates, conflicts
    distinct = long.groupby(["target", "column"], sort=False)["key"].transform("nunique")
    for (target, column), group in long[distinct > 1].groupby(["target", "column"], sort=False):
        city_value = merged[column][target] if target < n_city else None
        resolution = _LEFT_MISSING if _is_missing(city_value) else _KEEP_CITY
        conflicts.append(_conflict(target, "value", column, city_value, group, group["value"], resolution))
    # Agreed values, column by column (a loop over every community's groups took 21 s for 20,000 rows).
    agreed_rows = long[distinct == 1]
    first = agreed_rows.drop_duplicates(["target", "column"])  # one row per group, in order of appearance
    targets, keys, values = (first[c].to_numpy() for c in ("target", "key", "value"))
    old_values = np.empty(len(first), dtype=object)
    unchanged = np.zeros(len(first), dtype=bool)
    for column, positions in first.groupby("column", sort=False).indices.items():
        old = merged[column][targets[positions]]
        old_values[positions] = old
        unchanged[positions] = [
            target < n_city and not _is_missing(value) and _value_key(value, column) == key
            for target, value, key in zip(targets[positions], old, keys[positions])
        ]
        written = positions[~unchanged[positions]]
        merged[column][targets[written]] = values[written]
    updated = first[~unchanged & (targets < n_city)]
    if len(updated):
        pairs = pd.MultiIndex.from_frame(updated[["target", "column"]])
        rows = agreed_rows[pd.MultiIndex.from_frame(agreed_rows[["target", "column"]]).isin(pairs)]
        sources = rows.groupby(["target", "column"], sort=False)["source"].agg(lambda s: "; ".join(dict.fromkeys(s)))
        for position, (target, column) in zip(np.flatnonzero(~unchanged & (targets < n_city)), pairs):
            updates.append(
                {
                    "target": target,
                    "column": column,
                    "old": old_values[position],
                    "new": values[position],
                    "source": sources[(target, column)],
                }
            )
    return updates, conflicts


def _conflict(target, kind, column, city_value, group, values, resolution) -> dict:
    return {
        "target": int(target),
        "kind": kind,
        "column": column,
        "city_value": city_value,
        "values": list(values),
        "sources": group.loc[values.index, "source"].tolist(),
        "rows": [int(r) for r in group.loc[values.index, "row"]],
        "resolution": resolution,
    }


def _fill_new_district_codes(merged: dict, rows: pd.DataFrame, n_city: int) -> None:
    """A new community whose rows gave only the district name gets the code it was grouped by."""
    codes = merged.get("district_code")
    if codes is None:
        return
    for target, code in rows[rows["target"] >= n_city].groupby("target")["code_key"].first().items():
        if _is_missing(codes[target]):
            codes[target] = code


# --------------------------------------------------------------------------- geometry


def _city_geometry(city: gpd.GeoDataFrame, n_total: int) -> tuple[np.ndarray, np.ndarray]:
    geometry = np.full(n_total, None, dtype=object)
    geometry[: len(city)] = _geometries(city)
    approximate = np.zeros(n_total, dtype=bool)
    approximate[: len(city)] = _approximate_flags(city)
    return geometry, approximate


def _resolve_geometry(
    rows: pd.DataFrame, geometry: np.ndarray, approximate: np.ndarray, n_city: int, same_place_m: float = SAME_PLACE_M
):
    """Best-ranked returned geometry per community, applied to ``geometry``/``approximate`` in place.

    A returned footprint that ranks below the city's outline does not replace it; when it lies
    more than ``same_place_m`` from that outline the disagreement is listed, not dropped.
    """
    updates, conflicts = [], []
    candidates = rows[(rows["target"] >= 0) & (rows["rank"] > _NO_GEOMETRY)].copy()
    if candidates.empty:
        return updates, conflicts
    candidates["key"] = [_geometry_key(g) for g in candidates["geometry"]]
    best = candidates.groupby("target")["rank"].transform("max")
    candidates = candidates[candidates["rank"] == best]
    # The common case at once: a new community located by a single row takes that row's geometry.
    single = (candidates.groupby("target")["target"].transform("size") == 1) & (candidates["target"] >= n_city)
    if single.any():
        simple = candidates[single]
        targets = simple["target"].to_numpy(dtype=int)
        geometry[targets] = simple["geometry"].to_numpy(dtype=object)
        approximate[targets] = simple["rank"].to_numpy() == _APPROXIMATE
        candidates = candidates[~single]
    for target, group in candidates.groupby("target", sort=True):
        city_geometry = geometry[target]
        city_rank = int(_geometry_rank(np.array([city_geometry], dtype=object), approximate[target : target + 1])[0])
        if group["key"].nunique() > 1:
            resolution = _KEEP_CITY if city_rank > _NO_GEOMETRY else _FIRST_GEOMETRY
            wkt = group["geometry"].map(shapely.to_wkt)
            conflicts.append(_conflict(target, "geometry", "geometry", _wkt(city_geometry), group, wkt, resolution))
            if city_rank > _NO_GEOMETRY:
                continue
            group = group.iloc[:1]  # a geometry must not be lost: the first row's, listed as chosen
        rank, new_geometry = int(group["rank"].iloc[0]), group["geometry"].iloc[0]
        new_approximate = rank == _APPROXIMATE
        if rank < city_rank:  # the city's polygon beats a returned approximate footprint …
            far_metric, city_metric = _metric_geometries(
                np.array([new_geometry], dtype=object), np.array([city_geometry], dtype=object)
            )
            if shapely.distance(far_metric[0], city_metric[0]) > same_place_m:  # … but say so when it is elsewhere
                wkt = group["geometry"].map(shapely.to_wkt)
                conflicts.append(_conflict(target, "geometry", "geometry", _wkt(city_geometry), group, wkt, _KEEP_CITY))
            continue
        same_shape = city_rank > _NO_GEOMETRY and _geometry_key(city_geometry) == group["key"].iloc[0]
        source = "; ".join(dict.fromkeys(group["source"]))
        if target < n_city and not same_shape:
            updates.append(
                {
                    "target": target,
                    "column": "geometry",
                    "old": _wkt(city_geometry),
                    "new": _wkt(new_geometry),
                    "source": source,
                }
            )
        if target < n_city and city_rank > _NO_GEOMETRY and approximate[target] != new_approximate:
            updates.append(
                {
                    "target": target,
                    "column": APPROXIMATE_COLUMN,
                    "old": bool(approximate[target]),
                    "new": new_approximate,
                    "source": source,
                }
            )
        if not same_shape:
            geometry[target] = new_geometry
        approximate[target] = new_approximate
    return updates, conflicts


def _wkt(geometry) -> str | None:
    return None if _is_missing(geometry) else shapely.to_wkt(geometry)


# --------------------------------------------------------------------------- output


def _assemble(city, frames, merged, columns, ids, geometry, approximate, rows, n_city) -> gpd.GeoDataFrame:
    data = {"community_id": _typed(ids, city["community_id"].dtype)}
    for column in columns:
        data[column] = _typed(merged[column], _dtype_of(column, city, frames))
    inputs = [city] + [frame for _, frame in frames]
    if any(APPROXIMATE_COLUMN in frame.columns for frame in inputs):
        present = ~(pd.isna(geometry) | shapely.is_empty(geometry))
        data[APPROXIMATE_COLUMN] = pd.array(np.where(present, approximate, None).tolist(), dtype="boolean")
    if any(SOURCE_COLUMN in frame.columns for frame in inputs):
        sources = _city_values(city, SOURCE_COLUMN, len(ids))
        new = rows[rows["target"] >= n_city]
        for target, labels in new.groupby("target")["source"]:
            sources[target] = "; ".join(dict.fromkeys(labels))
        data[SOURCE_COLUMN] = _typed(sources, city[SOURCE_COLUMN].dtype if SOURCE_COLUMN in city.columns else "string")
    order = [c for c in city.columns if c in data] + [c for c in data if c not in city.columns]
    frame = pd.DataFrame({column: data[column] for column in order})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(list(geometry), crs=STORAGE_CRS), crs=STORAGE_CRS)


def _dtype_of(column: str, city: pd.DataFrame, frames):
    for frame in [city] + [frame for _, frame in frames]:
        if column in frame.columns:
            return frame[column].dtype
    return object


def _typed(values: np.ndarray, dtype) -> pd.Series:
    """``values`` in ``dtype``; a NumPy int or bool column that must hold a missing value becomes
    ``Int64``/``boolean``; values that fit no dtype stay objects."""
    series = pd.Series(list(values), dtype=object)
    numpy_kind = not pd.api.types.is_extension_array_dtype(dtype)
    if numpy_kind and series.isna().any():
        if pd.api.types.is_bool_dtype(dtype):
            dtype = "boolean"
        elif pd.api.types.is_integer_dtype(dtype):
            dtype = "Int64"
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


def _describer(ids, merged: dict, rows: pd.DataFrame):
    """Fill a report row's community_id, name and district_code from its merged position."""
    names, codes = merged.get("name"), merged.get("district_code")
    first_name = rows[rows["target"] >= 0].groupby("target")["name"].first()

    def describe(entry: dict) -> dict:
        target = entry.pop("target")
        if target < 0:
            return {"community_id": None, "name": None, "district_code": None, **entry}
        name = names[target] if names is not None and not _is_missing(names[target]) else first_name.get(target)
        code = codes[target] if codes is not None else None
        return {"community_id": ids[target], "name": name, "district_code": code, **entry}

    return describe


_VALUE_COLUMNS = ("old", "new", "city_value", "values", "sources", "rows")


def _table(entries: list[dict], columns, describe) -> pd.DataFrame:
    """A report table; value columns stay objects, so a missing old value reads None, not NaN."""
    described = [describe(dict(entry)) for entry in entries]
    return pd.DataFrame(
        {
            column: pd.Series(
                [entry[column] for entry in described],
                dtype=object if column in _VALUE_COLUMNS or not described else None,
            )
            for column in columns
        }
    )


def _added_table(rows: pd.DataFrame, ids, merged: dict, n_city: int, n_total: int) -> pd.DataFrame:
    new = rows[rows["target"] >= n_city]
    groups = new.groupby("target", sort=True)
    positions = np.arange(n_city, n_total)

    def column(name):
        values = merged.get(name)
        return [None if values is None else values[p] for p in positions]

    own_id = pd.Series([ids[t] for t in new["target"]], index=new.index, dtype=object)
    gave_id = (new["id_key"].notna() & (new["id_key"].astype(object) == own_id)).groupby(new["target"], sort=True).any()
    return pd.DataFrame(
        {
            "community_id": [ids[p] for p in positions],
            "name": column("name"),
            "district_code": column("district_code"),
            "district_name": column("district_name"),
            "source": groups["source"].agg(lambda labels: "; ".join(dict.fromkeys(labels))).tolist(),
            "id_generated": (~gave_id.to_numpy(dtype=bool)).tolist(),
            "rows": groups.size().tolist(),
        },
        columns=list(ADDED_COLUMNS),
    )
