"""Walking distance on the street network: the walk graph, how places reach it, and the distance on foot.

A set 400 m away across the Liu River is not "within 500 m" for someone who must walk to the nearest bridge.
This module measures distance along the streets:

* :class:`WalkNetwork` — the walkable road lines of a city as a graph, in metres in the data's UTM zone.
  Lines are cut into pieces of at most ``segment_m`` (so that a place can reach a street near where it
  stands, not only at its ends), line vertices closer than ``snap_m`` become one node (lines that meet at a
  junction but were drawn a few centimetres apart; each edge is measured between its nodes, so no path is
  shorter than the straight line between its ends), a line that ends on (or within ``snap_m`` of) another
  line's middle is joined to it there (a T-junction), and every node knows its connected piece. Lines that
  cross without a shared vertex stay apart: a bridge over a street, an underpass. What was
  found wrong is counted, never silently mended: zero-length and duplicate edges, and the pieces.
* **Access legs** — a community reaches the network at every node within ``access_m`` of its edge (its
  gates, when the streets pass them), each at the straight distance from its edge (0 inside or on it);
  a community with no node that near reaches the nodes within ``access_m`` of its nearest node's distance
  instead and is listed (``Access.without_street``). A set (or a site) reaches the network at its nearest node.
* **Distance on foot** between a set and a community = the set's leg + the shortest path between the two
  nodes + the community's leg, the least over the community's access nodes. From many sets at once it is
  one Dijkstra run from a source joined to every set's node by that set's leg
  (:func:`scipy.sparse.csgraph.dijkstra`), so the cost does not grow with the number of sets.

Coordinates: inputs in EPSG:4326 (or any CRS set), measured in ``metric_crs`` (metres).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo.data.crs import metric_crs_for

SEGMENT_M = 20.0
"""Longest piece (m) a road line is cut into: a place reaches a street node within half of this of where the
street passes it (a set's or a community's straight leg is at most that much longer than to the street)."""
SNAP_M = 1.0
"""Line vertices closer than this (m) are one node: lines drawn to meet at a junction but a little apart."""
ACCESS_M = 50.0
"""A community reaches every street node within this (m) of its edge (its gates, when streets pass them)."""
# An edge of length 0 is no edge to a sparse matrix: the legs of the search's source get this instead.
_NO_LENGTH = 1e-9


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """The walk graph of a city.

    Attributes
    ----------
    metric_crs : CRS or str
        The projected CRS (metres) of ``nodes_m`` and every length.
    nodes_m : ndarray, shape (n, 2)
        Node coordinates (m).
    graph : scipy.sparse.csr_array, shape (n, n)
        Edge lengths in metres, both directions (the shortest where two edges join the same nodes).
    piece : ndarray of int
        Each node's connected piece (0 … ``pieces - 1``, the largest first).
    found : dict
        What building the graph found: ``lines`` (walkable lines read), ``zero_length_edges`` and
        ``duplicate_edges`` (dropped), ``snapped_vertices`` (vertices moved to another's node, within ``snap_m``),
        ``t_junctions`` (line ends within ``snap_m`` of another line's middle: that line was cut there).
    access_m : float
        How far (m) from a community's edge its access nodes may lie: the default of :meth:`access`,
        :func:`walking_distance_to_nearest_set` and :func:`coverage_pairs_on_foot` (``[network] access_m``).
    segment_m, snap_m : float
        The tolerances (m) the graph was built with (``[network]``), for the report of what was found.
    """

    metric_crs: object
    nodes_m: np.ndarray
    graph: sp.csr_array
    piece: np.ndarray
    found: dict = field(default_factory=dict)
    access_m: float = ACCESS_M
    segment_m: float = SEGMENT_M
    snap_m: float = SNAP_M

    @property
    def pieces(self) -> int:
        return int(self.piece.max()) + 1 if self.piece.size else 0

    @classmethod
    def from_roads(
        cls,
        roads: gpd.GeoDataFrame,
        metric_crs=None,
        *,
        segment_m: float = SEGMENT_M,
        snap_m: float = SNAP_M,
        access_m: float = ACCESS_M,
    ) -> WalkNetwork:
        """Build the graph from road lines (LineString / MultiLineString; a ``walkable`` column, when present,
        keeps only the rows where it is true). ``metric_crs``: default the roads' UTM zone. The tolerances
        (m) are ``[network]``'s in config.toml: ``segment_m``, ``snap_m``, and ``access_m`` kept for the legs."""
        if "walkable" in roads.columns:
            roads = roads[roads["walkable"].astype("boolean").fillna(True).to_numpy(dtype=bool)]
        metric_crs = metric_crs or metric_crs_for(roads)
        lines = np.asarray(roads.geometry.to_crs(metric_crs).values)
        lines = lines[~shapely.is_missing(lines) & ~shapely.is_empty(lines)]
        lines = shapely.get_parts(lines)
        lines = lines[shapely.get_type_id(lines) == 1]  # LineStrings
        # A line whose vertices are all one point (LINESTRING (x y, x y)) is a zero-length edge: counted and dropped
        # here, as GEOS cannot cut it into pieces and its lone node would be an island that a set could snap to. So is
        # a line with a coordinate that is no number (NaN, or infinite once projected): it has no usable length.
        length = shapely.length(lines)
        point_lines = ~(np.isfinite(length) & (length > 0))
        lines = lines[~point_lines]
        lines, t_junctions = _split_at_line_ends(lines, snap_m)
        # A hair over segment_m: a line whose length is a multiple of it (2,000 m in 50 m pieces) is cut into
        # that many pieces, not one more because projection made it 2,000.000001 m long.
        lines = shapely.segmentize(lines, segment_m * (1 + 1e-6))
        coords, line_of = shapely.get_coordinates(lines, return_index=True)
        same_line = line_of[:-1] == line_of[1:]
        start, end = np.flatnonzero(same_line), np.flatnonzero(same_line) + 1
        node_of, nodes, snapped = _snap(coords, snap_m)
        a, b = node_of[start], node_of[end]
        # Each edge as long as the straight line between its nodes (where they were snapped to): no path is then
        # shorter than the straight line between its ends, which coverage_pairs_on_foot's tiles rely on.
        length = np.hypot(*(nodes[b] - nodes[a]).T)
        zero = a == b
        a, b, length = a[~zero], b[~zero], length[~zero]
        graph, duplicates = _symmetric_graph(a, b, length, len(nodes))
        count, label = connected_components(graph, directed=False)
        # Pieces numbered by size, largest first: piece 0 is the city's network, others are islands.
        order = np.argsort(-np.bincount(label, minlength=count), kind="stable")
        rank = np.empty(count, dtype=np.int64)
        rank[order] = np.arange(count)
        found = {
            "lines": int(len(lines)),
            "zero_length_edges": int(zero.sum() + point_lines.sum()),
            "duplicate_edges": int(duplicates),
            "snapped_vertices": int(snapped),
            "t_junctions": int(t_junctions),
        }
        piece = rank[label] if count else label
        return cls(metric_crs, nodes, graph, piece, found, float(access_m), float(segment_m), float(snap_m))

    # The nodes' search trees, built on first use and kept: a plan reaches the network many times.
    @cached_property
    def _node_kdtree(self) -> cKDTree:
        return cKDTree(self.nodes_m)

    @cached_property
    def _node_points(self) -> tuple[np.ndarray, shapely.STRtree]:
        points = shapely.points(self.nodes_m)
        return points, shapely.STRtree(points)

    def nearest_nodes(self, points_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The nearest node of each point (shapely Points in ``metric_crs``) and the distance to it (m)."""
        xy = shapely.get_coordinates(np.asarray(points_m))
        distance, node = self._node_kdtree.query(xy)
        return node.astype(np.intp), distance

    def access(self, polygons_m: np.ndarray, access_m: float | None = None) -> Access:
        """How each polygon (in ``metric_crs``) reaches the network: see :class:`Access`. ``access_m``: default the
        network's own (:attr:`access_m`)."""
        access_m = self.access_m if access_m is None else access_m
        polygons_m = np.asarray(polygons_m)
        points, tree = self._node_points
        polygon, node = tree.query(polygons_m, predicate="dwithin", distance=access_m)
        leg = shapely.distance(polygons_m[polygon], points[node])
        without = np.setdiff1d(np.arange(len(polygons_m)), polygon)
        if without.size:
            # No street that near: the nodes within access_m of the nearest one's distance (listed; the
            # documented fallback), so that the whole street passing at that distance is a way in.
            (_, _), nearest = tree.query_nearest(polygons_m[without], return_distance=True, all_matches=False)
            far_polygon, far_node = tree.query(polygons_m[without], predicate="dwithin", distance=nearest + access_m)
            polygon = np.concatenate([polygon, without[far_polygon]])
            node = np.concatenate([node, far_node])
            leg = np.concatenate([leg, shapely.distance(polygons_m[without][far_polygon], points[far_node])])
        order = np.lexsort((leg, polygon))
        return Access(polygon[order], node[order], leg[order], without)

    def distances_from(self, nodes: np.ndarray, legs: np.ndarray, limit: float = np.inf) -> np.ndarray:
        """Distance on foot (m) from the nearest of several sources to every node.

        ``nodes``: each source's node; ``legs``: each source's straight leg to it (m). One search from a
        source joined to every source node by its leg. Nodes farther than ``limit`` (or unreachable) are inf.
        """
        n = len(self.nodes_m)
        if len(nodes) == 0 or n == 0:
            return np.full(n, np.inf)
        nodes = np.asarray(nodes, dtype=np.intp)
        best = np.full(n, np.inf)
        np.minimum.at(best, nodes, np.asarray(legs, dtype=float))
        linked = np.flatnonzero(np.isfinite(best))
        source = sp.csr_array(
            (np.maximum(best[linked], _NO_LENGTH), (np.zeros(linked.size, dtype=np.intp), linked + 1)), shape=(1, n + 1)
        )
        graph = sp.vstack(
            [source, sp.hstack([sp.csr_array((n, 1)), self.graph], format="csr")], format="csr"
        )  # node 0 is the source, node k + 1 the network's node k
        # A leg of 0 counts 1e-9 m (a sparse matrix has no edge of length 0): nothing a metre can show.
        return dijkstra(graph, directed=True, indices=0, limit=limit)[1:]


@dataclass(frozen=True)
class Access:
    """Where polygons reach the network: one entry per (polygon, node), sorted by polygon then leg.

    ``leg`` is the straight distance (m) from the polygon's edge to the node (0 inside or on it).
    ``without_street`` lists the polygons with no node within the access distance: each reaches its
    nearest node instead.
    """

    polygon: np.ndarray
    node: np.ndarray
    leg: np.ndarray
    without_street: np.ndarray

    def distances(self, node_distance: np.ndarray, n_polygons: int) -> np.ndarray:
        """Per polygon: the least of ``node_distance[node] + leg`` over its access nodes (m; inf if none)."""
        result = np.full(n_polygons, np.inf)
        np.minimum.at(result, self.polygon, node_distance[self.node] + self.leg)
        return result


def walking_distance_to_nearest_set(
    communities: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    access_m: float | None = None,
    limit_m: float = np.inf,
) -> np.ndarray:
    """Distance on foot (m) from each community to its nearest set, along ``network``; inf where none is
    reachable (another piece of the network, or beyond ``limit_m``). A set inside a community is at 0.
    ``access_m``: default the network's own.

    Inputs in EPSG:4326 (or any CRS set); measured in the network's ``metric_crs``.
    """
    polygons = np.asarray(communities.geometry.to_crs(network.metric_crs).values)
    distance = np.full(len(polygons), np.inf)
    if len(fitness_paths) == 0 or len(polygons) == 0 or len(network.nodes_m) == 0:
        return distance
    points = np.asarray(fitness_paths.geometry.to_crs(network.metric_crs).values)
    nodes, legs = network.nearest_nodes(points)
    reached = network.distances_from(nodes, legs, limit_m)
    distance = network.access(polygons, access_m).distances(reached, len(polygons))
    # A set inside the community is reached without a street.
    inside = shapely.STRtree(polygons).query(points, predicate="covered_by")[1]
    distance[np.unique(inside)] = 0.0
    return np.where(distance <= limit_m, distance, np.inf)


def _split_at_line_ends(lines: np.ndarray, snap_m: float) -> tuple[np.ndarray, int]:
    """Cut each line where another line ends on it (within ``snap_m``): the T-junctions a survey draws without a
    shared vertex. Returns the lines (with the cut points as vertices) and how many such ends were found."""
    if len(lines) == 0:
        return lines, 0
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    own = np.concatenate([np.arange(len(lines)), np.arange(len(lines))])
    end, line = shapely.STRtree(lines).query(ends, predicate="dwithin", distance=snap_m)
    other = own[end] != line
    end, line = end[other], line[other]
    at = shapely.line_locate_point(lines[line], ends[end])
    length = shapely.length(lines[line])
    middle = (at > snap_m) & (at < length - snap_m)  # near the other line's own end: a plain junction
    end, line, at = end[middle], line[middle], at[middle]
    lines = lines.copy()
    for k in np.unique(line):
        cuts = np.unique(at[line == k])
        coords = shapely.get_coordinates(lines[k])
        along = shapely.line_locate_point(lines[k], shapely.points(coords))
        points = shapely.get_coordinates(shapely.line_interpolate_point(lines[k], cuts))
        merged = np.concatenate([coords, points])
        order = np.argsort(np.concatenate([along, cuts]), kind="stable")
        lines[k] = shapely.linestrings(merged[order])
    return lines, int(end.size)


def _snap(coords: np.ndarray, snap_m: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Merge coordinates closer than ``snap_m`` (chains included): each coordinate's node, the nodes' positions
    (the first coordinate of each), and how many coordinates were moved to another's node: more than a
    millimetre (lines that share a vertex exactly are drawn right, not snapped)."""
    if len(coords) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros((0, 2)), 0
    pairs = cKDTree(coords).query_pairs(snap_m, output_type="ndarray")
    n = len(coords)
    links = sp.csr_array((np.ones(len(pairs), dtype=bool), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, label = connected_components(links, directed=False)
    first = np.full(count, n)
    np.minimum.at(first, label, np.arange(n))
    moved = np.hypot(*(coords - coords[first][label]).T) > 1e-3
    return label.astype(np.intp), coords[first], int(moved.sum())


def _symmetric_graph(a: np.ndarray, b: np.ndarray, length: np.ndarray, n: int) -> tuple[sp.csr_array, int]:
    """The (n × n) graph of edges ``a``–``b`` in both directions, the shortest where several join two nodes;
    also how many edges repeated a pair (dropped)."""
    low, high = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((length, high, low))
    low, high, length = low[order], high[order], length[order]
    first = np.ones(low.size, dtype=bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
    low, high, length = low[first], high[first], length[first]
    rows, cols = np.concatenate([low, high]), np.concatenate([high, low])
    graph = sp.csr_array((np.concatenate([length, length]), (rows, cols)), shape=(n, n))
    return graph, int((~first).sum())


# Memory one batch of searches may take (bytes): dense rows of distances over a tile's nodes (with the rows of
# path + leg over the tile's access nodes made from them, about three times this at most).
SEARCH_BATCH_BYTES = 64 * 1024 * 1024


def coverage_pairs_on_foot(
    network: WalkNetwork,
    points_m: np.ndarray,
    polygons_m: np.ndarray,
    walk_radius_m: float,
    *,
    access_m: float | None = None,
    batch_bytes: int = SEARCH_BATCH_BYTES,
    tile_m: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which point (a set's place) lies within ``walk_radius_m`` on foot of which polygon: the network's
    :func:`geo.analysis.coverage.coverage_pairs`.

    A point inside (or on) a polygon serves it at 0. Otherwise its distance on foot is its leg to its nearest
    node + the path + the polygon's access leg, the least over the polygon's access nodes. The searches run
    from the points' distinct nodes, each stopped at the radius (``scipy.sparse.csgraph.dijkstra(limit=…)``).

    A path is never shorter than the straight line, so a search stopped at the radius never leaves the disc of
    that radius around its node: the nodes are grouped in square tiles of ``tile_m`` (default the radius, at least
    100 m), and each tile's searches run on the subgraph of the nodes within the radius of the tile,
    their dense rows (at most ``batch_bytes`` at a time) as long as that subgraph, not the whole network. The
    pairs are exactly those of searching the whole network. Inputs in ``network.metric_crs``; ``access_m``:
    default the network's own.

    Returns ``(point_index, polygon_index)``, sorted by point then polygon.
    """
    points_m, polygons_m = np.asarray(points_m), np.asarray(polygons_m)
    found_points, found_polygons = [], []
    if len(points_m) and len(polygons_m):
        point, polygon = shapely.STRtree(polygons_m).query(points_m, predicate="covered_by")
        found_points.append(point)
        found_polygons.append(polygon)
    if len(points_m) and len(polygons_m) and len(network.nodes_m):
        limit = walk_radius_m + 1e-3
        nodes, legs = network.nearest_nodes(points_m)
        access = network.access(polygons_m, access_m)
        for point, polygon in _tiled_pairs(
            network, nodes, legs, access, limit, tile_m or max(walk_radius_m, 100.0), batch_bytes
        ):
            found_points.append(point)
            found_polygons.append(polygon)
    if not found_points:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    # One integer per pair, sorted and deduplicated: many times faster than np.unique on rows (axis=0).
    key = np.sort(np.concatenate(found_points).astype(np.int64) * len(polygons_m) + np.concatenate(found_polygons))
    key = key[np.r_[True, key[1:] != key[:-1]]] if key.size else key
    return (key // len(polygons_m)).astype(np.intp), (key % len(polygons_m)).astype(np.intp)


def _tiled_pairs(
    network: WalkNetwork,
    nodes: np.ndarray,
    legs: np.ndarray,
    access: Access,
    limit: float,
    tile_m: float,
    batch_bytes: int,
):
    """Yield ``(point, polygon)`` arrays: the points (at ``nodes``, ``legs`` m from them) within ``limit`` on foot
    of the polygons reached through ``access``, searching tile by tile (see :func:`coverage_pairs_on_foot`)."""
    n = len(network.nodes_m)
    distinct, point_of = np.unique(nodes, return_inverse=True)
    # The points standing at each distinct node, as ranges of ``by_node``.
    by_node = np.argsort(point_of, kind="stable")
    member_start = np.r_[0, np.cumsum(np.bincount(point_of, minlength=distinct.size))]
    # Access entries by node (ranges of ``entry_of``), so a tile finds its own without scanning them all.
    entry_of = np.argsort(access.node, kind="stable")
    entry_start = np.r_[0, np.cumsum(np.bincount(access.node, minlength=n))]
    # Nodes in square cells of tile_m, sorted by cell: a tile's neighbourhood is a few contiguous runs.
    origin = network.nodes_m.min(axis=0)
    cell = np.floor((network.nodes_m - origin) / tile_m).astype(np.int64)
    rows = int(cell[:, 1].max()) + 1
    key = cell[:, 0] * rows + cell[:, 1]
    node_order = np.argsort(key, kind="stable")
    sorted_key = key[node_order]
    # Access entries before each place of that order: a tile with no access node near it is skipped at once.
    entries_before = np.r_[0, np.cumsum(np.diff(entry_start)[node_order])]
    margin = int(np.ceil(limit / tile_m))
    source_key = key[distinct]
    tile_order = np.argsort(source_key, kind="stable")
    tile_bounds = np.flatnonzero(np.r_[True, source_key[tile_order][1:] != source_key[tile_order][:-1], True])
    local = np.full(n, -1, dtype=np.intp)
    for t in range(tile_bounds.size - 1):
        sources = distinct[tile_order[tile_bounds[t] : tile_bounds[t + 1]]]  # indices into the network's nodes
        source_rows = tile_order[tile_bounds[t] : tile_bounds[t + 1]]  # indices into ``distinct``
        cx, cy = divmod(int(source_key[tile_order[tile_bounds[t]]]), rows)
        columns = np.arange(cx - margin, cx + margin + 1, dtype=np.int64)
        low = np.searchsorted(sorted_key, columns * rows + max(cy - margin, 0), side="left")
        high = np.searchsorted(sorted_key, columns * rows + min(cy + margin, rows - 1), side="right")
        if not (entries_before[high] - entries_before[low]).any():
            continue
        near = node_order[_ranges(low, high)]
        # Of the cells' nodes, those within the limit of the sources' box: the only ones a search can reach.
        box_low, box_high = network.nodes_m[sources].min(axis=0) - limit, network.nodes_m[sources].max(axis=0) + limit
        xy = network.nodes_m[near]
        near = near[((xy >= box_low) & (xy <= box_high)).all(axis=1)]
        entries = np.sort(entry_of[_ranges(entry_start[near], entry_start[near + 1])])
        if not entries.size:
            continue
        local[near] = np.arange(near.size)
        subgraph = _subgraph(network.graph, near, local)
        entry_node, entry_leg = local[access.node[entries]], access.leg[entries]
        group_start = np.flatnonzero(np.r_[True, access.polygon[entries][1:] != access.polygon[entries][:-1]])
        group_polygon = access.polygon[entries][group_start]
        batch = max(1, int(batch_bytes // (8 * max(near.size, entries.size))))
        for first in range(0, sources.size, batch):
            # The graph holds both directions: a directed search spares scipy symmetrising it again.
            reached = dijkstra(subgraph, directed=True, indices=local[sources[first : first + batch]], limit=limit)
            # Per polygon: the least over its access nodes of path + leg (rows: the searched nodes).
            via = np.minimum.reduceat(reached[:, entry_node] + entry_leg, group_start, axis=1)
            del reached
            row, group = np.nonzero(via <= limit)
            # Each hit, for every point standing at the searched node, kept where the point's own leg fits.
            at = source_rows[first + row]
            count = member_start[at + 1] - member_start[at]
            point = by_node[_ranges(member_start[at], member_start[at + 1])]
            hit = np.repeat(np.arange(row.size), count)
            keep = via[row[hit], group[hit]] + legs[point] <= limit
            yield point[keep], group_polygon[group[hit[keep]]]
        local[near] = -1


def _subgraph(graph: sp.csr_array, near: np.ndarray, local: np.ndarray) -> sp.csr_array:
    """The rows and columns ``near`` of ``graph`` (``local`` maps each of them to its place in ``near``, every
    other node to -1): what ``graph[near][:, near]`` gives, without scipy's checks on every call."""
    start, stop = graph.indptr[near], graph.indptr[near + 1]
    entries = _ranges(start, stop)
    row = np.repeat(np.arange(near.size), stop - start)
    column = local[graph.indices[entries]]
    inside = column >= 0
    indptr = np.r_[0, np.cumsum(np.bincount(row[inside], minlength=near.size))]
    return sp.csr_array((graph.data[entries][inside], column[inside], indptr), shape=(near.size, near.size))


def _ranges(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """The integers of every half-open range ``[start[k], stop[k])``, concatenated in order."""
    length = np.maximum(np.asarray(stop) - np.asarray(start), 0)
    total = int(length.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    ends = np.cumsum(length)
    offset = np.repeat(np.asarray(start) - (ends - length), length)
    return (np.arange(total) + offset).astype(np.intp)


# ---------------------------------------------------------------- what is wrong with a network, in words

# The most communities (or pieces) the report's sentences name; the frames hold them all.
NAMED_IN_WORDS = 10


@dataclass(frozen=True)
class NetworkProblems:
    """What is wrong with a walk network, so that nothing is silently wrong: see :func:`network_problems`.

    Pieces are numbered from 1, the largest first (``WalkNetwork.piece + 1``): piece 1 is the city's network,
    every other piece an island of it.

    Attributes
    ----------
    pieces : DataFrame
        One row per connected piece: ``piece``, ``nodes``, ``length_km`` (its edges' length, km) and
        ``communities`` (those whose nearest access node is in it).
    cut_off : DataFrame
        The communities whose access nodes all lie outside piece 1, only reachable within their piece:
        ``community_id``, ``piece`` (that of their nearest access node).
    without_street : DataFrame
        The communities with no street node within ``access_m`` of their edge: ``community_id`` and
        ``nearest_street_m`` (the straight distance to the nearest node, m; missing on a network without nodes).
        Each reaches the network at the nodes near its nearest one instead (the documented fallback).
    found : dict
        What building the graph found and mended (:attr:`WalkNetwork.found`): ``duplicate_edges`` and
        ``zero_length_edges`` (dropped), ``snapped_vertices`` (merged within ``snap_m``), ``t_junctions``.
    access_m, snap_m : float
        The network's tolerances (m).
    """

    pieces: pd.DataFrame
    cut_off: pd.DataFrame
    without_street: pd.DataFrame
    found: dict
    access_m: float
    snap_m: float

    def counts(self) -> dict[str, int]:
        """How many of each problem: ``islands`` (pieces beyond the first), ``cut_off``, ``without_street``,
        ``duplicate_edges``, ``zero_length_edges``, ``snapped_vertices``, ``t_junctions``."""
        return {
            "islands": max(len(self.pieces) - 1, 0),
            "cut_off": len(self.cut_off),
            "without_street": len(self.without_street),
            **{key: int(self.found.get(key, 0)) for key in FOUND_KEYS},
        }

    def table(self, lang: str = "zh") -> pd.DataFrame:
        """The report in words: one row per kind of problem, columns ``network_problem``, ``network_count``,
        ``network_detail`` (headers through :func:`geo.i18n.labelled`), every phrase from the catalogue."""
        from geo.i18n import text

        counts = self.counts()

        def named(frame: pd.DataFrame, item: str, value: str, decimals: int = 0) -> str:
            # A distance to no street at all (a network without nodes) is a dash.
            words = [
                text(item, lang, id=row.community_id, value="—" if pd.isna(v) else _number(v, decimals))
                for row in frame.head(NAMED_IN_WORDS).itertuples()
                for v in [getattr(row, value)]
            ]
            if len(frame) > NAMED_IN_WORDS:
                words.append(text("network_more", lang, count=len(frame) - NAMED_IN_WORDS))
            return text("network_list_separator", lang).join(words) if words else text("network_none", lang)

        main = self.pieces.iloc[0] if len(self.pieces) else {"nodes": 0, "length_km": 0.0}
        islands = self.pieces.iloc[1:]
        pieces = {"nodes": _number(main["nodes"]), "km": _number(main["length_km"], 1)}
        rows = [
            (
                text("network_problem_islands", lang),
                counts["islands"],
                text(
                    "network_detail_islands",
                    lang,
                    **pieces,
                    island_nodes=_number(islands["nodes"].sum()),
                    island_km=_number(islands["length_km"].sum(), 1),
                )
                if len(islands)
                else text("network_detail_one_piece", lang, **pieces)
                if len(self.pieces)
                else text("network_detail_no_network", lang),
            ),
            (
                text("network_problem_cut_off", lang),
                counts["cut_off"],
                named(self.cut_off, "network_item_piece", "piece"),
            ),
            (
                text("network_problem_without_street", lang, access=_number(self.access_m)),
                counts["without_street"],
                text(
                    "network_detail_without_street",
                    lang,
                    communities=named(self.without_street, "network_item_metres", "nearest_street_m", 1),
                )
                if len(self.without_street)
                else text("network_none", lang),
            ),
        ]
        rows += [
            (
                text(f"network_problem_{key}", lang, snap=_number(self.snap_m, 1)),
                counts[key],
                text(f"network_detail_{key}", lang),
            )
            for key in FOUND_KEYS
        ]
        return pd.DataFrame(rows, columns=["network_problem", "network_count", "network_detail"])

    def to_dict(self) -> dict:
        """The report as plain JSON values (pieces numbered from 1, distances in m, lengths in km)."""
        return {
            "counts": self.counts(),
            "access_m": self.access_m,
            "snap_m": self.snap_m,
            "pieces": self.pieces.to_dict(orient="records"),
            "cut_off": self.cut_off.to_dict(orient="records"),
            "without_street": [
                {
                    "community_id": row.community_id,
                    "nearest_street_m": None
                    if pd.isna(row.nearest_street_m)
                    else round(float(row.nearest_street_m), 1),
                }
                for row in self.without_street.itertuples()
            ],
        }


FOUND_KEYS = ("duplicate_edges", "zero_length_edges", "snapped_vertices", "t_junctions")
"""What building the graph counts (:attr:`WalkNetwork.found`) and the report shows, in this order."""


def network_problems(network: WalkNetwork, polygons_m: np.ndarray, ids) -> NetworkProblems:
    """The problems of ``network`` for the communities ``polygons_m`` (in ``network.metric_crs``) named ``ids``.

    Disconnected pieces (nodes and length each), the communities only reachable within a piece other than the
    largest (all their access nodes outside it), the communities with no street within the network's
    ``access_m`` (with their distance to the nearest node), and what building the graph found (duplicate and
    zero-length edges dropped, vertices snapped, T-junctions joined). A pure function of its inputs.
    """
    polygons_m, ids = np.asarray(polygons_m), np.asarray(ids, dtype=object)
    count = network.pieces
    upper = sp.triu(network.graph, format="coo")  # each edge once
    length_km = np.bincount(network.piece[upper.row], weights=upper.data, minlength=count) / 1000
    nearest_piece = np.full(len(polygons_m), -1)
    nearest_m = np.full(len(polygons_m), np.nan)
    on_main = np.zeros(len(polygons_m), dtype=bool)
    without = np.arange(len(polygons_m))
    if len(polygons_m) and len(network.nodes_m):
        access = network.access(polygons_m)
        first = np.flatnonzero(np.r_[True, access.polygon[1:] != access.polygon[:-1]])
        nearest_piece[access.polygon[first]] = network.piece[access.node[first]]
        nearest_m[access.polygon[first]] = access.leg[first]
        on_main[access.polygon[network.piece[access.node] == 0]] = True
        without = access.without_street
    reached = nearest_piece >= 0
    pieces = pd.DataFrame(
        {
            "piece": np.arange(1, count + 1),
            "nodes": np.bincount(network.piece, minlength=count),
            "length_km": length_km.round(3),
            "communities": np.bincount(nearest_piece[reached], minlength=count)[:count],
        }
    )
    cut = np.flatnonzero(reached & ~on_main)
    cut_off = pd.DataFrame({"community_id": ids[cut].astype(str), "piece": nearest_piece[cut] + 1})
    without_street = pd.DataFrame(
        {"community_id": ids[without].astype(str), "nearest_street_m": nearest_m[without].round(1)}
    )
    return NetworkProblems(
        pieces, cut_off, without_street, dict(network.found), float(network.access_m), float(network.snap_m)
    )


def _number(value, decimals: int = 0) -> str:
    """``value`` with thousands separators and ``decimals`` places (a whole number without them)."""
    value = float(value)
    return f"{value:,.{decimals}f}" if decimals and not value.is_integer() else f"{value:,.0f}"
