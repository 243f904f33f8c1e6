"""Public sites as candidate locations: which can host a set, every reason why the others cannot, and the cost.

Rules (thresholds from ``config.toml``'s ``[sites]``); several reasons can apply to one site:

=================  ===================================================================
reason code        applies when
=================  ===================================================================
``too_small``      the usable area is below one set's footprint
                   (``sites.min_usable_area_m2``, default 150 m², as for communities)
``no_consent``     the owner or manager said no (``consent`` is ``"no"``)
``hosts_a_set``    a fitness path stands inside the site's polygon or within
                   :data:`HOSTS_DISTANCE_M` (10 m) of the site
``area_unknown``   the usable area is missing: to be measured before the site can count
=================  ===================================================================

A site is ``eligible`` when no reason applies. A consent that is ``"unknown"`` is no reason: the
site stays eligible and is flagged ``consent_unknown`` (the owner must be asked before building).
Its cost is a set's (``cost.set_cost_cny``) plus its kind's extra (``sites.extra_cost_cny``:
surfacing, paving or fencing).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.coverage import coverage_pairs
from geo.analysis.eligibility import REASON_SEPARATOR
from geo.analysis.priority import COMPONENTS, check_weights, landless, old_community
from geo.config import Config
from geo.data.crs import metric_crs_for
from geo.errors import data_error

SITE_REASONS = ("too_small", "no_consent", "hosts_a_set", "area_unknown")
HOSTS_DISTANCE_M = 10.0
"""A fitness path this close to a site (metres, or inside its polygon) means the site already hosts a set."""


def hosts_a_set(sites: gpd.GeoDataFrame, fitness_paths: gpd.GeoDataFrame | None, metric_crs: str) -> np.ndarray:
    """Whether a fitness path stands inside each site or within :data:`HOSTS_DISTANCE_M` of it (bool array).

    Both layers are measured in ``metric_crs`` (a UTM zone, metres); rows without geometry host nothing.
    """
    hosts = np.zeros(len(sites), dtype=bool)
    if fitness_paths is None or len(fitness_paths) == 0 or len(sites) == 0:
        return hosts
    site_geometry = sites.geometry.to_crs(metric_crs).reset_index(drop=True)
    path_geometry = fitness_paths.geometry.to_crs(metric_crs)
    path_geometry = path_geometry[path_geometry.notna() & ~path_geometry.is_empty].reset_index(drop=True)
    if len(path_geometry) == 0:
        return hosts
    site_rows, _ = path_geometry.sindex.query(site_geometry, predicate="dwithin", distance=HOSTS_DISTANCE_M)
    hosts[np.unique(site_rows)] = True
    return hosts


def _codes(sites: pd.DataFrame, column: str, default: str) -> pd.Series:
    """The codes of ``column`` as text, a missing cell (or column) as ``default``."""
    if column not in sites.columns:
        return pd.Series(default, index=sites.index, dtype="string")
    return sites[column].astype("string").fillna(default)


def assess_sites(
    sites: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame | None,
    config: Config,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Add ``eligible``, ``reasons``, ``consent_unknown`` and ``cost_cny`` to public sites.

    Parameters
    ----------
    sites : GeoDataFrame
        Public sites as :func:`geo.data.io.read_public_sites` returns them (EPSG:4326, points or
        polygons): ``kind`` and ``consent`` codes (missing reads as ``"other"`` / ``"unknown"``),
        ``usable_area_m2`` in m² (missing = unknown).
    fitness_paths : GeoDataFrame or None
        Existing sets (points, EPSG:4326 or any CRS set); None or empty means none.
    config : Config
        ``site_min_usable_area_m2`` (m²), ``set_cost_cny`` and ``site_extra_cost_cny`` (yuan per kind;
        a kind not listed adds 0).
    metric_crs : str, optional
        The CRS distances are measured in (metres); by default the sites' UTM zone
        (:func:`geo.data.crs.metric_crs_for`).

    Returns
    -------
    GeoDataFrame
        A copy with ``eligible`` (bool), ``reasons`` (codes of :data:`SITE_REASONS` joined by ``;``,
        empty when eligible), ``consent_unknown`` (bool) and ``cost_cny`` (int, yuan).
    """
    result = sites.copy()
    kind, consent = _codes(result, "kind", "other"), _codes(result, "consent", "unknown")
    area = pd.to_numeric(result.get("usable_area_m2", pd.Series(np.nan, index=result.index)), errors="coerce")
    area = area.astype("float64").to_numpy()
    has_geometry = len(result) > 0 and bool((result.geometry.notna() & ~result.geometry.is_empty).any())
    if metric_crs is None and has_geometry:
        metric_crs = metric_crs_for(result)
    flags = {
        "too_small": ~np.isnan(area) & (area < config.site_min_usable_area_m2),
        "no_consent": (consent == "no").to_numpy(dtype=bool),
        "hosts_a_set": hosts_a_set(result, fitness_paths, metric_crs) if has_geometry else np.zeros(len(result), bool),
        "area_unknown": np.isnan(area),
    }
    codes = [REASON_SEPARATOR.join(code for code in SITE_REASONS if flags[code][row]) for row in range(len(result))]
    result["reasons"] = pd.Series(codes, index=result.index, dtype="string")
    result["eligible"] = ~np.logical_or.reduce([flags[code] for code in SITE_REASONS])
    result["consent_unknown"] = (consent == "unknown").to_numpy(dtype=bool)
    extra = kind.map(lambda k: config.site_extra_cost_cny.get(k, 0)).astype("int64")
    result["cost_cny"] = (config.set_cost_cny + extra).to_numpy(dtype="int64")
    return result


# --------------------------------------------------------------------------- sites as candidates of a plan


def check_site_ids(sites: pd.DataFrame, communities: pd.DataFrame) -> None:
    """Raise a DataError (``site_ids_clash``, naming up to five) unless every site id is present, unique and no
    community's id: a plan, its saved picks and their installations name a set's place by this id."""
    ids = sites["site_id"].astype("string")
    clash = ids[ids.isna() | ids.duplicated(keep=False) | ids.isin(communities["community_id"].astype("string"))]
    if len(clash):
        shown = sorted({'""' if pd.isna(value) else repr(str(value)) for value in clash})
        raise data_error("site_ids_clash", ids=", ".join(shown[:5]) + (" …" if len(shown) > 5 else ""))


SITE_PREFIX_COLUMNS = ("site_id", "name", "kind", "usable_area_m2", "owner", "consent", "notes")


def site_points(sites_m: np.ndarray) -> np.ndarray:
    """Where a set on each site would stand: the point itself, or a point inside a polygon (same CRS)."""
    return shapely.point_on_surface(np.asarray(sites_m))


def site_districts(points_m: np.ndarray, polygons_m: np.ndarray, district_code: np.ndarray) -> np.ndarray:
    """The district of each site: that of the nearest community (the one containing it, or the closest edge).

    A public-sites layer carries no district (a survey may not know it, a greenway may cross a boundary);
    the district whose residents a site is nearest to is the one that plans and reports it. Metric CRS.
    """
    if len(points_m) == 0 or len(polygons_m) == 0:
        return np.full(len(points_m), "", dtype=object)
    tree = shapely.STRtree(polygons_m)
    site_idx, polygon_idx = tree.query_nearest(points_m, all_matches=False)
    result = np.full(len(points_m), "", dtype=object)
    result[site_idx] = np.asarray(district_code, dtype=object)[polygon_idx]
    return result


def nearest_set_m(points_m: np.ndarray, fitness_paths: gpd.GeoDataFrame | None, metric_crs, network=None) -> np.ndarray:
    """Distance (m) from each site to the nearest fitness path; NaN when there is none.

    ``network``: a :class:`geo.analysis.network.WalkNetwork` in ``metric_crs``: the distance is walked (the
    set's leg to its nearest node, the path, the site's leg from its nearest node); NaN when no set can be
    reached on foot.
    """
    distance = np.full(len(points_m), np.nan)
    if fitness_paths is None or len(fitness_paths) == 0 or len(points_m) == 0:
        return distance
    paths_m = np.asarray(fitness_paths.geometry.to_crs(metric_crs).values)
    paths_m = paths_m[~shapely.is_missing(paths_m) & ~shapely.is_empty(paths_m)]
    if paths_m.size == 0:
        return distance
    if network is not None:
        if not len(network.nodes_m):
            return distance
        set_nodes, set_legs = network.nearest_nodes(paths_m)
        reached = network.distances_from(set_nodes, set_legs)
        site_nodes, site_legs = network.nearest_nodes(points_m)
        walked = reached[site_nodes] + site_legs
        return np.where(np.isfinite(walked), walked, np.nan)
    (site_idx, _), found = shapely.STRtree(paths_m).query_nearest(points_m, return_distance=True, all_matches=False)
    distance[site_idx] = found
    return distance


@dataclass(frozen=True)
class SiteReach:
    """Which unserved community each public site would serve: built once per programme, read twice.

    Attributes
    ----------
    points_m : ndarray of shapely Points
        Where a set on each site would stand (:func:`site_points`), in the run's metric CRS.
    site, community : ndarray of int
        One entry per (site, community) pair within the walk radius: the site's row in the sites frame
        and the community's row in the scored communities, only communities not served within the radius.
    """

    points_m: np.ndarray
    site: np.ndarray
    community: np.ndarray

    @classmethod
    def build(cls, sites, scored, config: Config, metric_crs=None, polygons_m=None, network=None) -> SiteReach:
        """The pairs of ``sites`` (EPSG:4326) and ``scored``'s unserved communities within ``config.walk_radius_m``
        (metres in ``metric_crs``; ``polygons_m``: ``scored`` already projected); bounded by ``config.max_pairs``.
        ``network``: walked along this :class:`geo.analysis.network.WalkNetwork` (in ``metric_crs``) instead of
        a straight line."""
        metric_crs = metric_crs or metric_crs_for(scored)
        if polygons_m is None:
            polygons_m = np.asarray(scored.geometry.to_crs(metric_crs).values)
        if not len(sites):
            return cls(np.array([], dtype=object), np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))
        points = site_points(np.asarray(sites.geometry.to_crs(metric_crs).values))
        unserved = np.flatnonzero(~scored["served_within_radius"].to_numpy(dtype=bool))
        site, local = coverage_pairs(
            points, polygons_m[unserved], config.walk_radius_m, max_pairs=config.max_pairs, network=network
        )
        return cls(points, site, unserved[local])


def score_sites(
    sites: gpd.GeoDataFrame,
    scored: gpd.GeoDataFrame,
    config: Config,
    fitness_paths: gpd.GeoDataFrame | None,
    metric_crs=None,
    polygons_m: np.ndarray | None = None,
    reach: SiteReach | None = None,
    network=None,
) -> gpd.GeoDataFrame:
    """Priority components and score of each assessed public site, beside the communities' (``scored``).

    A site has no residents of its own: it is there for the unserved communities around it, above all
    the land-less ones (:func:`geo.analysis.priority.landless`). Its components (0–1) are read from
    them, on the communities' own scales so that adding sites never changes a community's score, and so
    that a site competes with a community as a community's set would if it had no residents of its own
    (a first version read the population component from the land-less residents reached: on a 50,000-
    community city with no sets, ranked plans then bought sites nearly only, and reached fewer land-less
    residents than communities alone):

    ============================  ===============================================================
    ``population``                0: a site has no residents of its own (those it reaches count
                                  below, as a community's neighbours do)
    ``elderly_and_children``      their residents-weighted share aged 60+ or under 14
    ``distance_to_nearest_set``   the site's own distance to the nearest set ÷ ``distance_cap_m``
    ``old_community``             their residents-weighted old-community component
    ``application_received``      the residents-weighted share of them that applied through their
                                  district office (1 for "any of them applied" put nearly every site
                                  that reaches many above every community that had not applied)
    ``neighbours_unserved``       residents of every unserved community within the radius ÷ the
                                  communities' largest such number (capped at 1)
    ``landless_reached``          residents of the land-less ones ÷ the communities' largest such
                                  number (capped at 1; 1 when no community reaches any)
    ============================  ===============================================================

    Parameters
    ----------
    sites : GeoDataFrame
        :func:`assess_sites` output (EPSG:4326).
    scored : GeoDataFrame
        :func:`geo.analysis.priority.priority_scores` output for the same moment (EPSG:4326).
    config : Config
        Weights, ``walk_radius_m`` (m), ``distance_cap_m`` (m), ``max_pairs``.
    fitness_paths : GeoDataFrame or None
        The sets that exist (and those planned by earlier programmes).
    metric_crs : CRS, optional
        The CRS distances are measured in (default: the communities' UTM zone).
    polygons_m : ndarray, optional
        ``scored``'s polygons already in ``metric_crs`` (a run's :class:`CityGeometry`).
    reach : SiteReach, optional
        :meth:`SiteReach.build` of these sites and ``scored``, when the caller has it (a plan run builds it
        once and gives it to the coverage problem too).
    network : geo.analysis.network.WalkNetwork, optional
        Distances on foot along it (``[coverage] distance = "network"``): the site's distance to the nearest
        set, and (when ``reach`` is not given) which communities it reaches.

    Returns
    -------
    GeoDataFrame
        ``sites`` plus ``district_code`` (and ``district_name`` when ``scored`` has it: the nearest
        community's, :func:`site_districts`), ``nearest_set_m``, ``neighbours_unserved_population``,
        ``landless_reached_population``, ``landless_reached_count``, the components ``c_*`` and
        ``priority_score`` (0–100; missing for a site that is not eligible).
    """
    result = sites.copy()
    n = len(result)
    metric_crs = metric_crs or metric_crs_for(scored)
    if polygons_m is None:
        polygons_m = np.asarray(scored.geometry.to_crs(metric_crs).values)
    if reach is None:
        reach = SiteReach.build(result, scored, config, metric_crs, polygons_m, network)
    points = reach.points_m
    codes = site_districts(points, polygons_m, scored["district_code"].astype(str).to_numpy())
    result["district_code"] = pd.array(codes, dtype="string")
    if "district_name" in scored.columns:
        names = dict(zip(scored["district_code"].astype(str), scored["district_name"].astype("string")))
        result["district_name"] = pd.array([names.get(code) for code in codes], dtype="string")
    result["nearest_set_m"] = nearest_set_m(points, fitness_paths, metric_crs, network)

    population = scored["population"].fillna(0).to_numpy(dtype=float)
    is_landless = landless(scored)
    site_idx, reached = reach.site, reach.community
    share = np.clip(_column(scored, "share_60plus") + _column(scored, "share_under14"), 0.0, 1.0)
    old = old_community(_column(scored, "built_year", np.nan), config.old_before_year)
    applied = scored["applied"].to_numpy(dtype=bool) if "applied" in scored.columns else np.zeros(len(scored), bool)

    def per_site(values: np.ndarray, among: np.ndarray) -> np.ndarray:
        keep = among[reached]
        return np.bincount(site_idx[keep], weights=values[reached[keep]], minlength=n)

    everyone = np.ones(len(scored), dtype=bool)
    unserved_residents = per_site(population, everyone)
    landless_residents = per_site(population, is_landless)
    result["neighbours_unserved_population"] = unserved_residents.astype(np.int64)
    result["landless_reached_population"] = landless_residents.astype(np.int64)
    result["landless_reached_count"] = per_site(np.ones(len(scored)), is_landless).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = np.where(landless_residents > 0, 1.0 / landless_residents, 0.0)
        components = {
            "population": np.zeros(n),
            "elderly_and_children": per_site(population * share, is_landless) * weighted,
            "distance_to_nearest_set": np.where(
                np.isnan(result["nearest_set_m"].to_numpy(dtype=float)),
                1.0,
                np.clip(result["nearest_set_m"].to_numpy(dtype=float) / config.distance_cap_m, 0.0, 1.0),
            ),
            "old_community": per_site(population * old, is_landless) * weighted,
            "application_received": per_site(population * applied, is_landless) * weighted,
            "neighbours_unserved": _capped(unserved_residents, _column_max(scored, "neighbours_unserved_population")),
            "landless_reached": _capped(landless_residents, _column_max(scored, "landless_reached_population")),
        }
    weights = check_weights(config.priority_weights)
    score = np.zeros(n)
    for name in COMPONENTS:
        result[f"c_{name}"] = components[name]
        score += weights[name] * components[name]
    eligible = result["eligible"].to_numpy(dtype=bool) if n else np.zeros(0, bool)
    result["priority_score"] = np.where(eligible, 100.0 * score / sum(weights.values()), np.nan)
    return result


def _column(frame: pd.DataFrame, column: str, missing: float = 0.0) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), missing)
    return pd.to_numeric(frame[column], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=missing)


def _column_max(frame: pd.DataFrame, column: str) -> float:
    return float(_column(frame, column).max(initial=0.0))


def _capped(values: np.ndarray, top: float) -> np.ndarray:
    """values ÷ top, capped at 1; when ``top`` is 0 any positive value counts as the most (1)."""
    if top > 0:
        return np.clip(values / top, 0.0, 1.0)
    return (values > 0).astype(float)


NEAREST_SITES = 3
"""How many candidate sites :func:`landless_access` lists for each land-less community."""


def landless_access(
    scored: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame | None,
    metric_crs=None,
    nearest: int = NEAREST_SITES,
    network=None,
) -> pd.DataFrame:
    """Each land-less community (:func:`geo.analysis.priority.landless`) and its nearest eligible public sites.

    Parameters
    ----------
    scored : GeoDataFrame
        Scored communities (EPSG:4326; :func:`geo.analysis.priority.priority_scores`).
    sites : GeoDataFrame or None
        :func:`assess_sites` output (EPSG:4326); only eligible sites are listed. None: no sites.
    metric_crs : CRS, optional
        Where distances are measured (metres; default the communities' UTM zone).
    nearest : int
        How many sites to list per community.
    network : geo.analysis.network.WalkNetwork, optional
        When the walk radius is measured on foot (``[coverage] distance = "network"``): the sites nearest on
        foot along it (in ``metric_crs``), at their walking distance; sites more than
        :data:`ON_FOOT_SEARCH_M` away on foot, or on another piece of the network, are not listed.

    Returns
    -------
    DataFrame
        One row per land-less community, in ``scored`` order: ``community_id``, ``name``,
        ``district_code`` (and ``district_name`` when present), ``population``, ``reasons``, and for the
        ``k``-th nearest eligible site (k = 1 … ``nearest``) ``site_{k}_id``, ``site_{k}_name`` and
        ``site_{k}_m`` (distance in metres from the site's set to the community's edge; missing when there
        are fewer sites). Distances are measured as the walk radius is: straight lines, or on foot.
    """
    chosen = landless(scored)
    columns = ("community_id", "name", "district_code", "district_name", "population", "reasons")
    table = pd.DataFrame(scored.loc[chosen, [c for c in columns if c in scored.columns]]).reset_index(drop=True)
    eligible = sites[sites["eligible"].to_numpy(dtype=bool)] if sites is not None and len(sites) else None
    for k in range(1, nearest + 1):
        table[f"site_{k}_id"] = pd.array([None] * len(table), dtype="string")
        table[f"site_{k}_name"] = pd.array([None] * len(table), dtype="string")
        table[f"site_{k}_m"] = np.nan
    if eligible is None or not len(eligible) or not len(table):
        return table
    metric_crs = network.metric_crs if network is not None else metric_crs or metric_crs_for(scored)
    polygons_m = np.asarray(scored.geometry[chosen].to_crs(metric_crs).values)
    points_m = site_points(np.asarray(eligible.geometry.to_crs(metric_crs).values))
    if network is None:
        community, site, distance = _nearest_pairs(polygons_m, points_m, nearest)
    else:
        community, site, distance = _nearest_pairs_on_foot(polygons_m, points_m, nearest, network)
    ids = eligible["site_id"].astype("string").to_numpy()
    names = eligible["name"].astype("string").to_numpy() if "name" in eligible.columns else ids
    # Pairs come sorted by community then distance: the k-th of each community is its k-th nearest.
    starts = np.searchsorted(community, np.arange(len(table)))
    nth = np.arange(community.size) - starts[community] + 1
    for k in range(1, nearest + 1):
        take = nth == k
        table.loc[community[take], f"site_{k}_id"] = ids[site[take]]
        table.loc[community[take], f"site_{k}_name"] = names[site[take]]
        table.loc[community[take], f"site_{k}_m"] = np.round(distance[take], 1)
    return table


def _nearest_pairs(polygons_m: np.ndarray, points_m: np.ndarray, nearest: int, start_m: float = 2_000.0):
    """The ``nearest`` closest points to each polygon: ``(polygon, point, distance_m)`` sorted by polygon,
    then distance (ties: point order). Searched within ``start_m``, then four times as far for the polygons
    that found fewer, until each has ``nearest`` or every point."""
    tree = shapely.STRtree(points_m)
    want = min(nearest, len(points_m))
    polygons, points, distances = [], [], []
    todo, radius = np.arange(len(polygons_m)), start_m
    while todo.size:
        rows, hits = tree.query(polygons_m[todo], predicate="dwithin", distance=radius)
        counts = np.bincount(rows, minlength=todo.size)
        done = counts >= want
        keep = done[rows]
        polygons.append(todo[rows[keep]])
        points.append(hits[keep])
        distances.append(shapely.distance(polygons_m[todo[rows[keep]]], points_m[hits[keep]]))
        todo, radius = todo[~done], radius * 4
    polygon, point, distance = (np.concatenate(parts) for parts in (polygons, points, distances))
    order = np.lexsort((point, distance, polygon))
    polygon, point, distance = polygon[order], point[order], distance[order]
    first = np.searchsorted(polygon, polygon)  # position of each polygon's first pair
    keep = np.arange(polygon.size) - first < nearest
    return polygon[keep], point[keep], distance[keep]


ON_FOOT_SEARCH_M = 5_000.0
"""How far (m, on foot) :func:`landless_access` looks for a land-less community's nearest sites along the network."""
# Memory one batch of those searches may take (bytes): a dense row of distances per community.
_SEARCH_BATCH_BYTES = 128 * 1024 * 1024


def _nearest_pairs_on_foot(polygons_m: np.ndarray, points_m: np.ndarray, nearest: int, network, limit_m=None):
    """:func:`_nearest_pairs` walked along ``network``: the ``nearest`` points nearest each polygon on foot
    (the polygon's access legs, the path, the point's leg to its nearest node; 0 for a point inside or on the
    polygon), within ``limit_m`` (default :data:`ON_FOOT_SEARCH_M`). One search per polygon, from a node of
    its own joined to its access nodes by their legs, batched so that the dense rows stay bounded."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    limit_m = ON_FOOT_SEARCH_M if limit_m is None else limit_m
    m, n, k = len(polygons_m), len(network.nodes_m), len(points_m)
    want = min(nearest, k)
    inside = sp.csr_array(
        (np.ones(0, dtype=bool), (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))), shape=(m, k)
    )
    polygon_parts, point_parts, distance_parts = [], [], []
    if m and k:
        polygon, point = shapely.STRtree(points_m).query(polygons_m, predicate="covers")
        inside = sp.csr_array((np.ones(polygon.size, dtype=bool), (polygon, point)), shape=(m, k))
    if m and k and n:
        access = network.access(polygons_m)
        # Node n + j is polygon j's own: joined to each of its access nodes by that node's leg (a leg of 0
        # counts a nanometre: a sparse matrix has no edge of length 0).
        legs = sp.csr_array((np.maximum(access.leg, 1e-9), (access.polygon, access.node)), shape=(m, n + m))
        graph = sp.vstack([sp.hstack([network.graph, sp.csr_array((n, m))]), legs], format="csr")
        point_node, point_leg = network.nearest_nodes(points_m)
        batch = max(1, int(_SEARCH_BATCH_BYTES // (8 * (n + m + k))))
        for first in range(0, m, batch):
            rows = np.arange(first, min(first + batch, m))
            found = dijkstra(graph, directed=True, indices=n + rows, limit=limit_m)[:, point_node] + point_leg
            found[inside[rows].toarray()] = 0.0
            found[found > limit_m] = np.inf
            # The `want` nearest of each row, ties by point order.
            order = np.lexsort((np.broadcast_to(np.arange(k), found.shape), found), axis=1)[:, :want]
            polygon_parts.append(np.repeat(rows, want))
            point_parts.append(order.ravel())
            distance_parts.append(np.take_along_axis(found, order, axis=1).ravel())
    elif m and k:  # no street at all: only the sites inside a community are reached
        polygon, point = inside.nonzero()
        polygon_parts, point_parts, distance_parts = [polygon], [point], [np.zeros(polygon.size)]
    if not polygon_parts:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0)
    polygon, point, distance = (np.concatenate(parts) for parts in (polygon_parts, point_parts, distance_parts))
    keep = np.isfinite(distance)
    return polygon[keep].astype(np.intp), point[keep].astype(np.intp), distance[keep]
