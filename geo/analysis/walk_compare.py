"""Straight line against on foot: the communities a set serves in a straight line but not on foot, and their routes.

A set 300 m away across the Liu River is "within 500 m" in a straight line and 1,900 m away on foot. This module
puts the two measures side by side (:func:`straight_vs_foot`), counts them per district (:func:`by_district`)
and draws each community's walk to its nearest set along the network (:func:`walking_routes`).

Columns added by :func:`straight_vs_foot`, per community:

* ``straight_m`` — straight distance (m) from the community's edge to the nearest set, 0 with a set inside,
  NaN when there is no set (as ``nearest_set_m`` of :func:`geo.analysis.coverage.community_coverage`).
* ``on_foot_m`` — distance on foot (m) to the nearest set along the network
  (:func:`geo.analysis.network.walking_distance_to_nearest_set`), 0 with a set inside, NaN when no set can be
  reached on foot (another piece of the network).
* ``served_straight`` / ``served_on_foot`` — that distance is within the walk radius (1 mm tolerance, as in
  :mod:`geo.analysis.coverage`); a community no set can be reached from is not served on foot.
* ``lost_on_foot`` — served in a straight line but not on foot.

Inputs in EPSG:4326; every distance in metres, measured in the data's UTM zone (straight) and in the network's
``metric_crs`` (on foot).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from geo.analysis.coverage import RADIUS_TOLERANCE_M, community_coverage
from geo.analysis.network import WalkNetwork, walking_distance_to_nearest_set
from geo.data.crs import require_storage_crs

COMPARE_COLUMNS = ("straight_m", "on_foot_m", "served_straight", "served_on_foot", "lost_on_foot")
"""The columns :func:`straight_vs_foot` adds."""

DISTRICT_COLUMNS = (
    "district_code",
    "district_name",
    "communities",
    "served_straight",
    "served_on_foot",
    "lost_on_foot",
    "population",
    "population_lost_on_foot",
)
"""The columns of :func:`by_district`, in order."""

ROUTE_COLUMNS = ("community_id", "name", "path_id", "length_m")
"""The columns of :func:`walking_routes` besides its geometry."""

# An edge of length 0 is no edge to a sparse matrix: a set standing on its node gets this leg instead.
_NO_LENGTH = 1e-9


def straight_vs_foot(
    communities: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    network: WalkNetwork,
    walk_radius_m: float,
    metric_crs=None,
    *,
    access_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Each community's distance to its nearest set in a straight line and on foot, and whether each serves it.

    Parameters
    ----------
    communities : GeoDataFrame
        Polygons in EPSG:4326.
    fitness_paths : GeoDataFrame
        Points in EPSG:4326 (may be empty).
    network : WalkNetwork
        The walk graph (:meth:`WalkNetwork.from_roads`).
    walk_radius_m : float
        Walk radius (m).
    metric_crs : CRS or str, optional
        Projected CRS of the straight distances; by default the communities' UTM zone.
    access_m : float, optional
        How far (m) from its edge a community reaches the streets (:meth:`WalkNetwork.access`); default the
        network's own (``[network] access_m``).

    Returns
    -------
    GeoDataFrame
        A copy of ``communities`` (EPSG:4326, same index) plus :data:`COMPARE_COLUMNS` (see the module).
    """
    require_storage_crs(communities, "communities")
    require_storage_crs(fitness_paths, "fitness_paths")
    straight = community_coverage(communities, fitness_paths, walk_radius_m, metric_crs)
    walked = walking_distance_to_nearest_set(communities, fitness_paths, network, access_m=access_m)
    # A set inside serves at 0 by either measure (tested in WGS84, as coverage does).
    walked = np.where(straight["served_inside"].to_numpy(dtype=bool), 0.0, walked)
    on_foot = np.where(np.isfinite(walked), walked, np.nan)
    table = communities.copy()
    table["straight_m"] = straight["nearest_set_m"].to_numpy(dtype=float)
    table["on_foot_m"] = on_foot
    table["served_straight"] = table["straight_m"].to_numpy() <= walk_radius_m + RADIUS_TOLERANCE_M
    table["served_on_foot"] = on_foot <= walk_radius_m + RADIUS_TOLERANCE_M
    table["lost_on_foot"] = table["served_straight"] & ~table["served_on_foot"]
    return table


def by_district(table: pd.DataFrame, districts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per district: communities, served in a straight line, served on foot, lost on foot, and residents lost.

    Parameters
    ----------
    table : DataFrame
        :func:`straight_vs_foot` output with ``district_code`` and ``population`` (missing counts 0).
    districts : DataFrame, optional
        ``district_code`` and ``district_name`` of every district: every district gets a row (zeros when it
        has no community), in this order. Default: the codes present, sorted.

    Returns
    -------
    DataFrame
        :data:`DISTRICT_COLUMNS`: counts of communities and of residents (int).
    """
    population = pd.to_numeric(table["population"], errors="coerce").fillna(0).astype("int64").to_numpy()
    lost = table["lost_on_foot"].to_numpy(dtype=bool)
    parts = pd.DataFrame(
        {
            "district_code": table["district_code"].astype(str).to_numpy(),
            "communities": 1,
            "served_straight": table["served_straight"].to_numpy(dtype=bool).astype(int),
            "served_on_foot": table["served_on_foot"].to_numpy(dtype=bool).astype(int),
            "lost_on_foot": lost.astype(int),
            "population": population,
            "population_lost_on_foot": np.where(lost, population, 0),
        }
    )
    sums = parts.groupby("district_code", sort=True).sum()
    if districts is not None:
        names = districts[["district_code", "district_name"]].astype(str).drop_duplicates("district_code")
    elif "district_name" in table.columns:
        names = table[["district_code", "district_name"]].astype(str).drop_duplicates("district_code")
        names = names.sort_values("district_code")
    else:
        names = pd.DataFrame({"district_code": sums.index, "district_name": sums.index})
    result = names.merge(sums, left_on="district_code", right_index=True, how="left")
    counts = list(sums.columns)
    result[counts] = result[counts].fillna(0).astype("int64")
    return result[list(DISTRICT_COLUMNS)].reset_index(drop=True)


def compare_total(summary: pd.DataFrame) -> dict:
    """City totals of :func:`by_district` (plain ints, JSON-ready)."""
    return {c: int(summary[c].sum()) for c in DISTRICT_COLUMNS[2:]}


def walking_routes(
    communities_subset: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    access_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Each community's walk to its nearest set on foot, as a line: the set's leg, the streets, the community's leg.

    One search serves every community: a Dijkstra from a source joined to every set's nearest node by that
    set's leg (as :meth:`WalkNetwork.distances_from`), which gives each node its nearest set and the tree of
    shortest paths (``scipy.sparse.csgraph.dijkstra(return_predecessors=True)``). Each community then takes
    its best access node (:meth:`WalkNetwork.access`) and the path back to the set.

    Parameters
    ----------
    communities_subset : GeoDataFrame
        Polygons in EPSG:4326 (e.g. the communities lost on foot); ``community_id`` and ``name`` are carried
        when present.
    fitness_paths : GeoDataFrame
        Points in EPSG:4326 with ``path_id``.
    network : WalkNetwork
        The walk graph.
    access_m : float, optional
        How far (m) from its edge a community reaches the streets; default the network's own.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, the index of ``communities_subset``: ``community_id``, ``name``, ``path_id`` (the nearest
        set on foot; missing when none can be reached), ``length_m`` (the walk, m: the same as
        :func:`geo.analysis.network.walking_distance_to_nearest_set`; 0 with a set inside; NaN when
        unreachable) and the route (a LineString from the set to the community's edge, in metres of
        ``network.metric_crs`` before it is stored in WGS84; None when unreachable or the set is inside).
    """
    require_storage_crs(communities_subset, "communities")
    require_storage_crs(fitness_paths, "fitness_paths")
    fitness_paths = fitness_paths[fitness_paths.geometry.notna() & ~fitness_paths.geometry.is_empty]
    n = len(communities_subset)
    index = communities_subset.index
    carried = {
        column: (
            communities_subset[column].astype("string").astype(object).to_numpy()
            if column in communities_subset.columns
            else np.full(n, None, dtype=object)
        )
        for column in ("community_id", "name")
    }
    path_id = np.full(n, None, dtype=object)
    length = np.full(n, np.nan)
    routes = np.full(n, None, dtype=object)
    polygons = np.asarray(communities_subset.geometry.to_crs(network.metric_crs).values)
    points = np.asarray(fitness_paths.geometry.to_crs(network.metric_crs).values)
    set_ids = fitness_paths["path_id"].astype("string").astype(object).to_numpy() if len(fitness_paths) else []
    if n and len(points) and len(network.nodes_m):
        set_nodes, set_legs = network.nearest_nodes(points)
        distance, predecessor, set_at = _search_from_sets(network, set_nodes, set_legs)
        access = network.access(polygons, access_m)
        via = distance[access.node] + access.leg
        # Per community its best access node: entries are sorted by community, so the first least one wins.
        order = np.lexsort((via, access.polygon))
        first = np.r_[True, access.polygon[order][1:] != access.polygon[order][:-1]]
        best = order[first]
        for entry in best:
            k, node = access.polygon[entry], access.node[entry]
            if not np.isfinite(via[entry]):
                continue
            chain = _path_to_source(predecessor, node)
            start = set_at[chain[0]]
            coords = np.vstack(
                [
                    shapely.get_coordinates(points[start]),
                    network.nodes_m[chain],
                    _edge_point(polygons[k], network.nodes_m[node]),
                ]
            )
            routes[k] = _line(coords)
            path_id[k] = set_ids[start]
            length[k] = float(via[entry])
        # A set inside the community serves it where it stands: no walk (tested in WGS84, as coverage does).
        set_of, inside = shapely.STRtree(np.asarray(communities_subset.geometry.values)).query(
            np.asarray(fitness_paths.geometry.values), predicate="covered_by"
        )
        set_of, inside = set_of[::-1], inside[::-1]  # the first set inside wins
        path_id[inside] = set_ids[set_of] if len(set_of) else path_id[inside]
        length[inside] = 0.0
        routes[inside] = None
    result = gpd.GeoDataFrame(
        {"community_id": carried["community_id"], "name": carried["name"], "path_id": path_id, "length_m": length},
        geometry=gpd.GeoSeries(routes, crs=network.metric_crs),
    )
    result = result.set_geometry(result.geometry.to_crs("EPSG:4326"))
    return result.set_axis(index)


def _search_from_sets(
    network: WalkNetwork, set_nodes: np.ndarray, set_legs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Dijkstra from every set at once: each node's distance on foot to its nearest set (m; inf when none),
    its predecessor on that path (-1 at a set's node, where the path starts), and at each set's node which set
    starts there (the one with the shortest leg; -1 elsewhere)."""
    n = len(network.nodes_m)
    best = np.full(n, np.inf)
    np.minimum.at(best, set_nodes, set_legs)
    # Among the sets sharing a node, the one with the shortest leg (the first such).
    order = np.lexsort((set_legs, set_nodes))
    first = np.r_[True, set_nodes[order][1:] != set_nodes[order][:-1]]
    set_at = np.full(n, -1, dtype=np.intp)
    set_at[set_nodes[order][first]] = order[first]
    linked = np.flatnonzero(np.isfinite(best))
    source = sp.csr_array(
        (np.maximum(best[linked], _NO_LENGTH), (np.zeros(linked.size, dtype=np.intp), linked + 1)), shape=(1, n + 1)
    )
    # Node 0 is the source, node k + 1 the network's node k.
    graph = sp.vstack([source, sp.hstack([sp.csr_array((n, 1)), network.graph], format="csr")], format="csr")
    distance, predecessor = dijkstra(graph, directed=True, indices=0, return_predecessors=True)
    predecessor = predecessor[1:] - 1  # the source (0) becomes -1; unreached (-9999) stays negative
    predecessor[predecessor < -1] = -1
    return distance[1:], predecessor, set_at


def _path_to_source(predecessor: np.ndarray, node: int) -> np.ndarray:
    """The nodes from the set's node to ``node`` along the tree of shortest paths."""
    chain = [node]
    while predecessor[chain[-1]] >= 0:
        chain.append(predecessor[chain[-1]])
    return np.asarray(chain[::-1], dtype=np.intp)


def _edge_point(polygon, node_xy: np.ndarray) -> np.ndarray:
    """The point of ``polygon`` nearest the node (the node itself when inside): where the walk enters it."""
    node = shapely.Point(node_xy)
    if polygon.covers(node):
        return np.asarray([node_xy])
    return shapely.get_coordinates(shapely.shortest_line(node, polygon))[1:]


def _line(coords: np.ndarray):
    """A LineString through ``coords`` without repeated points; None when fewer than two points remain."""
    keep = np.r_[True, np.any(np.diff(coords, axis=0) != 0, axis=1)]
    coords = coords[keep]
    return shapely.linestrings(coords) if len(coords) >= 2 else None
