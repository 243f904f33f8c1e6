"""Coverage: which communities have a fitness path inside or within walking distance.

Definitions, applied to every community polygon:

* ``n_sets_inside`` — fitness paths that the polygon *covers*: a set exactly on the boundary
  counts as inside (a set on the fence line serves the residents). The test runs on the stored
  WGS84 coordinates, so a point given exactly on an edge stays on it.
* ``nearest_set_m`` — distance in metres from the polygon (its nearest edge, not its centroid) to
  the nearest set, measured in the UTM CRS that fits the data; 0 when a set is inside; NaN when
  there are no sets at all.
* ``served_inside`` — at least one set inside.
* ``served_within_radius`` — ``nearest_set_m <= walk_radius_m`` (with a 1 mm tolerance for
  round-off from reprojection, so a set placed at exactly the radius counts); implies nothing
  about ``served_inside``, but every community served inside is also served within the radius.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.network import coverage_pairs_on_foot, walking_distance_to_nearest_set
from geo.config import check_walk_radius
from geo.data.crs import metric_crs_for, require_storage_crs
from geo.errors import DataError

# Reprojection round-off is far below a millimetre at city scale.
RADIUS_TOLERANCE_M = 1e-3

COVERAGE_COLUMNS = ("n_sets_inside", "nearest_set_m", "served_inside", "served_within_radius")


def community_coverage(
    communities: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    walk_radius_m: float,
    metric_crs=None,
    *,
    geometry: CityGeometry | None = None,
    network=None,
) -> gpd.GeoDataFrame:
    """Add the coverage columns to a copy of ``communities``.

    Parameters
    ----------
    communities : GeoDataFrame
        Polygons or MultiPolygons in EPSG:4326.
    fitness_paths : GeoDataFrame
        Points in EPSG:4326 (may be empty).
    walk_radius_m : float
        Walk radius in metres.
    metric_crs : CRS or str, optional
        Projected CRS for distances; by default the UTM zone that fits the communities.
    geometry : CityGeometry, optional
        ``communities`` already projected (:meth:`CityGeometry.of`): its CRS and polygons are
        used instead of projecting again.
    network : geo.analysis.network.WalkNetwork, optional
        Measure on foot along this network (``[coverage] distance = "network"``): ``nearest_set_m`` is the
        walk to the nearest set (missing when none can be reached on foot), and "within the walk radius"
        means that walk. None: straight lines.

    Returns
    -------
    GeoDataFrame
        ``communities`` (EPSG:4326, same index) plus ``n_sets_inside`` (int),
        ``nearest_set_m`` (float, metres), ``served_inside`` and ``served_within_radius`` (bool).
    """
    check_walk_radius(walk_radius_m)
    for name, frame in (("communities", communities), ("fitness_paths", fitness_paths)):
        _check_wgs84(frame, name)
    inside_counts, nearest = _sets_inside_and_nearest(communities, fitness_paths, metric_crs, geometry, network)
    return _with_coverage_columns(communities.copy(), inside_counts, nearest, walk_radius_m)


def add_fitness_paths(
    covered: gpd.GeoDataFrame,
    new_paths: gpd.GeoDataFrame,
    walk_radius_m: float,
    metric_crs=None,
    *,
    geometry: CityGeometry | None = None,
    network=None,
) -> gpd.GeoDataFrame:
    """Update :func:`community_coverage` output for newly added sets, without recomputing the rest.

    Gives exactly what :func:`community_coverage` would give on all sets together: counts add
    up and the nearest distance is the smaller of the old and the new one. Units, CRS,
    ``geometry`` and ``network`` as there.
    """
    if len(new_paths) == 0:
        return covered.copy()
    _check_wgs84(new_paths, "new fitness paths")
    inside_counts, nearest = _sets_inside_and_nearest(covered, new_paths, metric_crs, geometry, network)
    inside_counts = inside_counts + covered["n_sets_inside"].to_numpy(dtype=np.int64)
    nearest = np.fmin(nearest, covered["nearest_set_m"].to_numpy(dtype=float))
    return _with_coverage_columns(covered.copy(), inside_counts, nearest, walk_radius_m)


def _check_wgs84(frame, name: str) -> None:
    require_storage_crs(frame, name)


def _sets_inside_and_nearest(communities, fitness_paths, metric_crs, geometry=None, network=None):
    """Sets covered by each polygon (tested in WGS84) and the distance in metres to the nearest one (on foot
    along ``network`` when given: NaN where none can be reached)."""
    if geometry is not None:
        geometry.check(communities, "communities")
        metric_crs = geometry.metric_crs
    polygons = communities.geometry.values
    points = fitness_paths.geometry.values
    n = len(communities)
    inside_counts = np.zeros(n, dtype=np.int64)
    nearest = np.full(n, np.nan)
    if len(points) and n:
        tree = shapely.STRtree(polygons)
        pairs = tree.query(points, predicate="covered_by")  # row 0: point index, row 1: polygon index
        inside_counts = np.bincount(pairs[1], minlength=n)
        metric_crs = metric_crs or metric_crs_for(communities)
        polygons_m = geometry.polygons_m if geometry is not None else communities.geometry.to_crs(metric_crs).values
        points_m = fitness_paths.geometry.to_crs(metric_crs).values
        tree_m = shapely.STRtree(points_m)
        (poly_idx, _), distance = tree_m.query_nearest(polygons_m, return_distance=True, all_matches=False)
        nearest[poly_idx] = distance
        if network is not None:
            walked = walking_distance_to_nearest_set(communities, fitness_paths, network)
            nearest = np.where(np.isfinite(walked), walked, np.nan)
        nearest[inside_counts > 0] = 0.0
    return inside_counts, nearest


def _with_coverage_columns(result, inside_counts, nearest, walk_radius_m):
    result["n_sets_inside"] = inside_counts
    result["nearest_set_m"] = nearest
    result["served_inside"] = inside_counts > 0
    result["served_within_radius"] = nearest <= walk_radius_m + RADIUS_TOLERANCE_M
    return result


def coverage_summary(covered: pd.DataFrame, districts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Totals per district, from the output of :func:`community_coverage`.

    Parameters
    ----------
    covered : DataFrame
        Communities with ``district_code``, ``population`` and the coverage columns.
    districts : DataFrame, optional
        ``district_code`` and ``district_name`` of every district, so districts with no community
        still get a row (of zeros) and rows follow this order. Defaults to the codes present.

    Returns
    -------
    DataFrame
        One row per district: ``district_code``, ``district_name``, ``communities``,
        ``served_inside``, ``served_within_radius``, ``population``, ``population_served_inside``,
        ``population_served_within_radius``, ``share_served_inside``,
        ``share_served_within_radius`` (shares of communities, 0–1; NaN for a district with none).
    """
    population = covered["population"].fillna(0).astype("int64")
    parts = pd.DataFrame(
        {
            "district_code": covered["district_code"].astype(str).to_numpy(),
            "communities": 1,
            "served_inside": covered["served_inside"].astype(bool).astype(int).to_numpy(),
            "served_within_radius": covered["served_within_radius"].astype(bool).astype(int).to_numpy(),
            "population": population.to_numpy(),
            "population_served_inside": np.where(covered["served_inside"], population, 0),
            "population_served_within_radius": np.where(covered["served_within_radius"], population, 0),
        }
    )
    sums = parts.groupby("district_code", sort=True).sum()
    if districts is not None:
        names = districts[["district_code", "district_name"]].astype(str).drop_duplicates("district_code")
    else:
        names = (
            covered[["district_code", "district_name"]].astype(str).drop_duplicates("district_code")
            if "district_name" in covered
            else pd.DataFrame({"district_code": sums.index, "district_name": sums.index})
        ).sort_values("district_code")
    table = names.merge(sums, left_on="district_code", right_index=True, how="left")
    count_columns = list(sums.columns)
    table[count_columns] = table[count_columns].fillna(0).astype("int64")
    return _with_shares(table.reset_index(drop=True))


def city_total(summary: pd.DataFrame) -> dict:
    """City-wide totals from :func:`coverage_summary` (plain Python numbers, JSON-ready)."""
    counts = [c for c in summary.columns if c not in ("district_code", "district_name") and not c.startswith("share_")]
    total = {c: int(summary[c].sum()) for c in counts}
    shares = _with_shares(pd.DataFrame([total])).iloc[0]
    total["share_served_inside"] = _plain(shares["share_served_inside"])
    total["share_served_within_radius"] = _plain(shares["share_served_within_radius"])
    return total


def _with_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Add shares of communities served; NaN where there are no communities."""
    communities = table["communities"].where(table["communities"] > 0)
    table["share_served_inside"] = table["served_inside"] / communities
    table["share_served_within_radius"] = table["served_within_radius"] / communities
    return table


def _plain(value: float) -> float | None:
    """A JSON-friendly float: None for NaN."""
    return None if pd.isna(value) else float(value)


def candidate_sites(communities_m: gpd.GeoSeries) -> np.ndarray:
    """Where a new set in each community would stand: a point guaranteed inside its polygon.

    ``shapely.point_on_surface`` (not the centroid, which can fall outside an L-shape or in the
    road between the parts of a MultiPolygon). Input and output in the same metric CRS.
    """
    return shapely.point_on_surface(np.asarray(communities_m))


# Sites are queried in batches whose pairs, bounded from above before the query, stay below this
# many: the memory of one query stays small (≈ 50 MB) however dense the data, and a refusal comes
# as soon as the count passes the limit. Batches this large cost nothing measurable in time.
PAIRS_PER_BATCH = 1 << 21


class PairLimitError(DataError):
    """The coverage relation would hold more than ``max_pairs`` pairs; nothing was built.

    ``walk_radius_m`` and ``max_pairs`` are kept so a user interface can say it in its own
    language; ``str(error)`` says it in English, on one line.
    """

    def __init__(self, walk_radius_m: float, max_pairs: int):
        super().__init__(
            f"At a walk radius of {walk_radius_m:,g} m the communities have more than {max_pairs:,} (site, community) "
            "pairs within reach (config.toml [coverage] max_pairs): use a smaller walk radius, check the data for "
            "many communities at the same place, or ask the administrator to raise the limit"
        )
        self.walk_radius_m = walk_radius_m
        self.max_pairs = max_pairs


def coverage_pairs(
    sites_m, polygons_m, walk_radius_m: float, *, max_pairs: int | None = None, network=None
) -> tuple[np.ndarray, np.ndarray]:
    """Sparse coverage relation: which site lies within the walk radius of which polygon.

    Parameters
    ----------
    sites_m : array of shapely Points
        Candidate set locations, in a metric CRS (metres).
    polygons_m : array of shapely (Multi)Polygons
        Communities (the demand), in the same CRS.
    walk_radius_m : float
        Walk radius in metres (with the same 1 mm tolerance as :func:`community_coverage`).
    max_pairs : int, optional
        Most pairs to build (``Config.max_pairs``); None for no limit. The relation is built in
        batches of sites, and building stops as soon as the count passes the limit (or at once,
        when a lower bound on the count already does), so memory stays bounded by about
        ``max_pairs`` pairs (24 bytes each at the peak, 16 in the result) whatever the data.

    Returns
    -------
    (site_index, polygon_index) : tuple of int arrays
        One entry per covering pair, sorted by site then polygon; never a dense matrix.

    Raises
    ------
    PairLimitError
        A ValueError: there are more than ``max_pairs`` pairs.

    With ``network`` (a :class:`geo.analysis.network.WalkNetwork` in the same CRS) the radius is walked along
    the streets (:func:`geo.analysis.network.coverage_pairs_on_foot`); ``max_pairs`` is then checked on the
    pairs found (a walk is never shorter than the straight line, so there are never more than straight).
    """
    if network is not None:
        return _pairs_on_foot(network, sites_m, polygons_m, walk_radius_m, max_pairs)
    # Batches are kept in 32 bits until the end: the peak is 24 bytes a pair instead of 32.
    stored = np.int32 if max(len(sites_m), len(polygons_m)) < 2**31 else np.intp
    site_parts, polygon_parts = [], []
    for site_idx, polygon_idx in coverage_pair_batches(sites_m, polygons_m, walk_radius_m, max_pairs=max_pairs):
        site_parts.append(site_idx.astype(stored))
        polygon_parts.append(polygon_idx.astype(stored))
    if not site_parts:
        return np.array([], dtype=np.intp), np.array([], dtype=np.intp)
    return np.concatenate(site_parts, dtype=np.intp), np.concatenate(polygon_parts, dtype=np.intp)


def _pairs_on_foot(network, sites_m, polygons_m, walk_radius_m: float, max_pairs: int | None):
    """:func:`coverage_pairs` on foot along ``network``: the same (site, polygon) pairs and order, walked."""
    check_walk_radius(walk_radius_m)
    site_idx, polygon_idx = coverage_pairs_on_foot(network, np.asarray(sites_m), np.asarray(polygons_m), walk_radius_m)
    if max_pairs is not None and site_idx.size > max_pairs:
        raise PairLimitError(walk_radius_m, max_pairs)
    return site_idx.astype(np.intp), polygon_idx.astype(np.intp)


def coverage_pair_batches(sites_m, polygons_m, walk_radius_m: float, *, max_pairs: int | None = None):
    """:func:`coverage_pairs` one batch of sites at a time, for callers that need no whole relation.

    Yields ``(site_index, polygon_index)`` int arrays (indices into the whole inputs) for
    consecutive ranges of sites, each sorted by site then polygon, so that their concatenation
    is :func:`coverage_pairs`. Raises :class:`PairLimitError` as soon as more than ``max_pairs``
    pairs have been found (None: no limit); units and CRS as there.
    """
    polygons_m = np.asarray(polygons_m)
    sites_m = np.asarray(sites_m)
    if len(polygons_m) == 0 or len(sites_m) == 0:
        return
    distance_m = walk_radius_m + RADIUS_TOLERANCE_M
    most = _most_pairs_per_site(sites_m, polygons_m, distance_m)
    # Data with many communities at one place is refused at once when a count that never
    # exceeds the true one already passes the limit (it would take ~0.5 µs a pair to find out).
    if max_pairs is not None and most.sum() > max_pairs and _fewest_pairs(sites_m, polygons_m, distance_m) > max_pairs:
        raise PairLimitError(walk_radius_m, max_pairs)
    tree = shapely.STRtree(polygons_m)
    found = 0
    for start, stop in _site_batches(most, PAIRS_PER_BATCH):
        site_idx, polygon_idx = tree.query(sites_m[start:stop], predicate="dwithin", distance=distance_m)
        found += site_idx.size
        if max_pairs is not None and found > max_pairs:
            raise PairLimitError(walk_radius_m, max_pairs)
        order = np.lexsort((polygon_idx, site_idx))
        yield site_idx[order] + start, polygon_idx[order]


def _most_pairs_per_site(sites_m, polygons_m, distance_m: float) -> np.ndarray:
    """An upper bound on each site's pairs, without building them.

    A polygon within ``distance_m`` of a site overlaps the site's bounds widened by
    ``distance_m`` both in x and in y; the polygons overlapping a strip are counted by binary
    search on their sorted bounds, and the narrower of the two strips bounds the site.
    """
    site_bounds = shapely.bounds(sites_m)
    polygon_bounds = shapely.bounds(polygons_m)
    most = np.full(len(sites_m), len(polygons_m), dtype=np.int64)
    for low, high in ((0, 2), (1, 3)):  # (xmin, xmax), then (ymin, ymax)
        starts = np.sort(polygon_bounds[:, low])  # NaN (empty geometry) sorts last and is never counted
        ends = np.sort(polygon_bounds[:, high])
        begun = np.searchsorted(starts, site_bounds[:, high] + distance_m, side="right")
        ended = np.searchsorted(ends, site_bounds[:, low] - distance_m, side="left")
        most = np.minimum(most, begun - ended)
    return most


def _fewest_pairs(sites_m, polygons_m, distance_m: float) -> int:
    """A lower bound on the number of pairs, without building them.

    A polygon is within ``distance_m`` of a site when one of its vertices is; so every site and
    every polygon whose first vertex fall in the same square cell, whose diagonal is shorter than
    ``distance_m``, make a pair. Counted on four grids shifted by half a cell (a cluster smaller
    than half a cell lies whole in one cell of one of them); the largest count is returned.
    """
    vertex = shapely.get_point(shapely.get_exterior_ring(shapely.get_geometry(polygons_m, 0)), 0)
    site_xy = shapely.get_coordinates(sites_m[~shapely.is_empty(sites_m) & (shapely.get_type_id(sites_m) == 0)])
    vertex_xy = shapely.get_coordinates(vertex)  # skips the missing ones (empty polygons)
    if len(site_xy) == 0 or len(vertex_xy) == 0:
        return 0
    side = distance_m / 1.5  # diagonal 0.94 × distance_m: round-off cannot make a same-cell pair too far
    low = np.minimum(site_xy.min(axis=0), vertex_xy.min(axis=0)) - side
    span = np.floor((np.maximum(site_xy.max(axis=0), vertex_xy.max(axis=0)) - low) / side) + 2
    if not np.isfinite(span).all() or span[0] * span[1] > 2.0**62:
        return 0
    best = 0
    for shift in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)):
        origin = low + side * np.asarray(shift)
        site_cells, site_counts = np.unique(_cell_keys(site_xy, origin, side, int(span[1])), return_counts=True)
        vertex_cells, vertex_counts = np.unique(_cell_keys(vertex_xy, origin, side, int(span[1])), return_counts=True)
        _, in_sites, in_vertices = np.intersect1d(site_cells, vertex_cells, assume_unique=True, return_indices=True)
        best = max(best, int(site_counts[in_sites] @ vertex_counts[in_vertices]))
    return best


def _cell_keys(xy: np.ndarray, origin: np.ndarray, side: float, rows: int) -> np.ndarray:
    """One integer per point: its cell in the grid of ``side``-metre squares starting at ``origin``."""
    ij = np.floor((xy - origin) / side).astype(np.int64)
    return ij[:, 0] * rows + ij[:, 1]


def _site_batches(most_pairs: np.ndarray, pairs_per_batch: int):
    """``(start, stop)`` ranges of consecutive sites whose bound sums to about ``pairs_per_batch``
    (one site alone may exceed it: a batch holds at least one site)."""
    n = most_pairs.size
    before = np.concatenate([[0], np.cumsum(most_pairs)])  # before[i]: bound of sites 0..i-1
    start = 0
    while start < n:
        stop = int(np.searchsorted(before, before[start] + pairs_per_batch, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        yield start, stop
        start = stop


# --------------------------------------------------------------------------- shared per run
# A plan run projects the city once and builds the (site, community) relation once; priority,
# allocation and the next programme's coverage update then take slices of it (issue 11).

# Slices of a built relation are read in batches of about this many pairs: a slice costs some
# 50 bytes a pair in temporaries, so this keeps them near 13 MB (larger batches gain nothing).
SLICE_PAIRS_PER_BATCH = 1 << 18


@dataclass(frozen=True, eq=False)
class CityGeometry:
    """The communities of one city in metres: projected once, shared by every step of a run.

    Attributes
    ----------
    index : pandas.Index
        The communities' index; a frame is accepted only with this same index (same rows, same order).
    metric_crs : CRS or str
        The projected CRS (metres) the polygons are in.
    polygons_m : ndarray of shapely (Multi)Polygons
        Every community, in row order, in ``metric_crs``.
    sites_m : ndarray of shapely Points
        Where a new set in each community would stand (:func:`candidate_sites`), in ``metric_crs``.
    """

    index: pd.Index
    metric_crs: object
    polygons_m: np.ndarray
    sites_m: np.ndarray

    @classmethod
    def of(cls, communities: gpd.GeoDataFrame, metric_crs=None) -> CityGeometry:
        """Project ``communities`` (EPSG:4326) to ``metric_crs`` (default: the UTM zone that fits them)."""
        metric_crs = metric_crs or metric_crs_for(communities)
        polygons_m = np.asarray(communities.geometry.to_crs(metric_crs).values)
        return cls(communities.index, metric_crs, polygons_m, candidate_sites(polygons_m))

    def check(self, frame, name: str = "communities", metric_crs=None) -> None:
        """Raise ValueError unless ``frame`` has the rows this geometry was made from (and the same CRS)."""
        if len(frame) != len(self.index) or not frame.index.equals(self.index):
            raise ValueError(f"{name} are not the communities this geometry was projected from")
        if metric_crs is not None and metric_crs is not self.metric_crs and metric_crs != self.metric_crs:
            raise ValueError(f"{name}: metric CRS {metric_crs} differs from the shared geometry's {self.metric_crs}")


@dataclass(frozen=True, eq=False)
class CoverageRelation:
    """Which community's site lies within the walk radius of which demand community, built once.

    Rows are every community of ``geometry`` (as a site); columns are ``demand`` only (row
    positions, ascending) — in a plan run the communities not served within the radius at the
    start, of which every programme's demand is a subset, so the relation stays as small as
    the one priority always built. Stored as CSR without values: 4 bytes a pair.

    Build it with :meth:`build`; :meth:`pairs` and :meth:`pair_batches` give what
    :func:`coverage_pairs` / :func:`coverage_pair_batches` would on any subset of sites and of
    ``demand``, without a spatial query.
    """

    geometry: CityGeometry
    walk_radius_m: float
    demand: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    # How the radius is measured: "straight" lines or on foot along a walk "network" (Config.distance).
    distance: str = "straight"

    @classmethod
    def build(
        cls,
        geometry: CityGeometry,
        demand: np.ndarray,
        walk_radius_m: float,
        *,
        max_pairs: int | None = None,
        network=None,
    ) -> CoverageRelation:
        """Every site of ``geometry`` against the communities at row positions ``demand``.

        Built batch by batch with :func:`coverage_pair_batches`; raises :class:`PairLimitError`
        when there are more than ``max_pairs`` pairs (None: no limit), before holding them.
        ``network``: a :class:`geo.analysis.network.WalkNetwork` in ``geometry.metric_crs``: the radius is
        walked along it (:func:`coverage_pairs` on foot) and :attr:`distance` is "network".
        """
        demand = np.unique(np.asarray(demand, dtype=np.intp))
        n = len(geometry.sites_m)
        counts = np.zeros(n, dtype=np.int64)
        parts = []
        if network is not None:
            _check_same_crs(network, geometry.metric_crs)
            batches = [
                coverage_pairs(
                    geometry.sites_m, geometry.polygons_m[demand], walk_radius_m, max_pairs=max_pairs, network=network
                )
            ]
        else:
            batches = coverage_pair_batches(
                geometry.sites_m, geometry.polygons_m[demand], walk_radius_m, max_pairs=max_pairs
            )
        for site_idx, local in batches:
            counts += np.bincount(site_idx, minlength=n)
            parts.append(local.astype(np.int32))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        indices = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        distance = "straight" if network is None else "network"
        return cls(geometry, float(walk_radius_m), demand, indptr, indices, distance)

    @property
    def n_pairs(self) -> int:
        return int(self.indices.size)

    def check(
        self, frame, walk_radius_m: float, name: str = "communities", metric_crs=None, distance: str | None = None
    ) -> None:
        """Raise ValueError unless ``frame``, ``walk_radius_m`` (and ``distance``, when given) are the ones the
        relation was built for."""
        self.geometry.check(frame, name, metric_crs)
        if float(walk_radius_m) != self.walk_radius_m:
            raise ValueError(f"the shared coverage relation is for {self.walk_radius_m:g} m, not {walk_radius_m:g} m")
        if distance is not None and distance != self.distance:
            raise ValueError(f"the shared coverage relation is measured {self.distance}, not {distance}")

    def pair_batches(self, sites: np.ndarray, demand: np.ndarray, *, max_pairs: int | None = None):
        """:func:`coverage_pair_batches` of ``geometry.sites_m[sites]`` against ``geometry.polygons_m[demand]``.

        ``sites``: row positions, in the order wanted; ``demand``: row positions, every one in
        :attr:`demand`. Yields ``(site_index, demand_index)`` (positions in ``sites`` and in
        ``demand``), sorted by site then demand, in batches of about :data:`SLICE_PAIRS_PER_BATCH`;
        raises :class:`PairLimitError` once more than ``max_pairs`` pairs have been yielded.
        """
        sites = np.asarray(sites, dtype=np.intp)
        demand = np.asarray(demand, dtype=np.intp)
        position = np.searchsorted(self.demand, demand)
        if demand.size and (position.max() >= self.demand.size or not np.array_equal(self.demand[position], demand)):
            raise ValueError("demand outside the shared coverage relation (it is built for the demand at the start)")
        column = np.full(self.demand.size, -1, dtype=np.intp)
        column[position] = np.arange(demand.size)
        ascending = bool(np.all(np.diff(demand) > 0))
        start, stop = self.indptr[sites], self.indptr[sites + 1]
        length = stop - start
        found = 0
        for first, last in _site_batches(length, SLICE_PAIRS_PER_BATCH):
            size = length[first:last]
            site_idx = np.repeat(np.arange(first, last, dtype=np.intp), size)
            offset = np.repeat(start[first:last] - (np.cumsum(size) - size), size)
            local = column[self.indices[offset + np.arange(size.sum(), dtype=np.intp)]]
            keep = local >= 0
            site_idx, local = site_idx[keep], local[keep]
            found += site_idx.size
            if max_pairs is not None and found > max_pairs:
                raise PairLimitError(self.walk_radius_m, max_pairs)
            if not ascending:
                order = np.lexsort((local, site_idx))
                site_idx, local = site_idx[order], local[order]
            if site_idx.size:
                yield site_idx, local

    def matrix(self, sites: np.ndarray, demand: np.ndarray, *, max_pairs: int | None = None):
        """The pairs of :meth:`pairs` as a ``len(sites) × len(demand)`` boolean ``scipy.sparse.csr_array``.

        Built straight into CSR (4 bytes a pair, 8 while the batches are joined), never as
        coordinate lists.
        """
        import scipy.sparse as sp

        counts = np.zeros(len(sites), dtype=np.int64)
        parts = []
        for site_idx, local in self.pair_batches(sites, demand, max_pairs=max_pairs):
            counts += np.bincount(site_idx, minlength=len(sites))
            parts.append(local.astype(np.int32))
        indices = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        data = np.ones(indices.size, dtype=bool)
        return sp.csr_array((data, indices, indptr), shape=(len(sites), len(demand)))

    def pairs(
        self, sites: np.ndarray, demand: np.ndarray, *, max_pairs: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`coverage_pairs` of ``geometry.sites_m[sites]`` against ``geometry.polygons_m[demand]``
        (see :meth:`pair_batches`): the same pairs, in the same order."""
        # Batches kept in 32 bits until the end, as in coverage_pairs: 24 bytes a pair at the peak.
        stored = np.int32 if max(len(sites), len(demand)) < 2**31 else np.intp
        site_parts, demand_parts = [], []
        for site_idx, local in self.pair_batches(sites, demand, max_pairs=max_pairs):
            site_parts.append(site_idx.astype(stored))
            demand_parts.append(local.astype(stored))
        if not site_parts:
            return np.array([], dtype=np.intp), np.array([], dtype=np.intp)
        return np.concatenate(site_parts, dtype=np.intp), np.concatenate(demand_parts, dtype=np.intp)


def _check_same_crs(network, metric_crs) -> None:
    """Raise ValueError unless ``network`` is in ``metric_crs`` (a walk is measured where the polygons are)."""
    if network.metric_crs is not metric_crs and network.metric_crs != metric_crs:
        raise ValueError(f"the walk network is in {network.metric_crs}, the communities in {metric_crs}")
