"""Compact map data: polygons as quantised, delta-encoded integers, text columns dictionary-encoded, grid cells.

The coverage map sends its communities to the browser in this form instead of GeoJSON (about a fifth of the
bytes, and built without a Python loop over features). Everything here is plain JSON values (ints, strings,
lists, dicts); the page's script (:class:`geo.render.maps._MapLayers`) decodes it, and :func:`decode_shapes`,
:func:`decode_column` and :func:`layer_features` decode it the same way in Python (for tests and tools).

Shapes (:func:`encode_shapes`), all in EPSG:4326:

* ``origin`` — ``[lon, lat]`` in degrees, and ``quantum`` — degrees per integer step (1e-6 ≈ 0.1 m);
* ``coords`` — every vertex of every ring, ``[dx, dy, dx, dy, …]``: the integer steps from the vertex before
  (the first from ``origin``), across rings and features, so that a running sum gives the vertices;
  each ring's closing vertex (equal to its first) is left out;
* ``rings`` — vertices per ring; ``polys`` — rings per polygon (the first is the outer ring);
  ``parts`` — polygons per feature (2 or more for a MultiPolygon).

A vertex decodes to ``origin + quantum · sum of steps``, within ``quantum / 2`` of the coordinate given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

QUANTUM_DEG = 1e-6
"""Degrees per integer step of the encoded coordinates: about 0.11 m of latitude (0.10 m of longitude at 24° N)."""

DICTIONARY_SHARE = 0.5
"""A text column is dictionary-encoded when it has fewer distinct values than this share of its rows."""


def encode_shapes(geometries, quantum: float = QUANTUM_DEG, origin: tuple[float, float] | None = None) -> dict:
    """Polygons and multipolygons (EPSG:4326 degrees) as quantised integer steps (see the module docstring).

    Parameters
    ----------
    geometries : array-like of shapely Polygon or MultiPolygon
        Non-empty, non-missing shapes in EPSG:4326 (longitude, latitude in degrees).
    quantum : float, default :data:`QUANTUM_DEG`
        Degrees per integer step.
    origin : (float, float), optional
        ``(lon, lat)`` the steps start from, in degrees; default: the shapes' south-west corner, rounded down
        to a whole number of quanta.

    Returns
    -------
    dict
        ``origin``, ``quantum``, ``coords``, ``rings``, ``polys`` and ``parts`` (lists of ints).
    """
    shapes = np.asarray(geometries, dtype=object)
    if not len(shapes):
        return {"origin": [0.0, 0.0], "quantum": quantum, "coords": [], "rings": [], "polys": [], "parts": []}
    kinds = set(shapely.get_type_id(shapes).tolist())
    if kinds - {3, 6}:
        raise ValueError(f"encode_shapes takes polygons and multipolygons only, got type ids {sorted(kinds)}")
    kind, coords, offsets = shapely.to_ragged_array(shapes)
    if kind == shapely.GeometryType.POLYGON:
        ring_offsets, polygon_offsets = offsets
        parts = np.ones(len(shapes), dtype=np.int64)
    else:
        ring_offsets, polygon_offsets, part_offsets = offsets
        parts = np.diff(part_offsets)
    if origin is None:
        origin = tuple(np.floor(coords.min(axis=0) / quantum) * quantum)
    steps = np.rint((coords - np.asarray(origin)) / quantum).astype(np.int64)
    ring_sizes = np.diff(ring_offsets)
    keep = np.ones(len(steps), dtype=bool)
    keep[ring_offsets[1:] - 1] = False  # each ring's closing vertex
    deltas = np.diff(steps[keep], axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return {
        "origin": [float(origin[0]), float(origin[1])],
        "quantum": quantum,
        "coords": deltas.ravel().tolist(),
        "rings": (ring_sizes - 1).tolist(),
        "polys": np.diff(polygon_offsets).tolist(),
        "parts": parts.tolist(),
    }


def decode_shapes(encoded: dict) -> list:
    """The shapes of :func:`encode_shapes` (a Polygon for a feature of one part, else a MultiPolygon)."""
    steps = np.cumsum(np.asarray(encoded["coords"], dtype=np.int64).reshape(-1, 2), axis=0)
    points = np.asarray(encoded["origin"]) + steps * encoded["quantum"]
    rings, polys, shapes = iter(encoded["rings"]), iter(encoded["polys"]), []
    at = 0

    def ring() -> np.ndarray:
        nonlocal at
        size = next(rings)
        vertices = points[at : at + size]
        at += size
        return np.vstack([vertices, vertices[:1]])

    for parts in encoded["parts"]:
        polygons = []
        for _ in range(parts):
            n_rings = next(polys)
            outer, holes = ring(), [ring() for _ in range(n_rings - 1)]
            polygons.append(shapely.Polygon(outer, holes))
        shapes.append(polygons[0] if parts == 1 else shapely.MultiPolygon(polygons))
    return shapes


def encode_column(values) -> list | dict:
    """Text values for the page: a list, or ``{"values": distinct, "codes": index of each}`` when that is shorter
    (fewer distinct values than :data:`DICTIONARY_SHARE` of the rows), or ``{"values": [value], "repeat": rows}``
    when every row has the same. Values must be strings (or JSON scalars)."""
    series = pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    if len(series) > 1 and len(uniques) == 1:  # one value for every row
        return {"values": list(uniques), "repeat": len(series)}
    if len(series) and len(uniques) < DICTIONARY_SHARE * len(series):
        return {"values": list(uniques), "codes": codes.tolist()}
    return series.tolist()


def decode_column(column) -> list:
    """The values of :func:`encode_column`, one per row."""
    if isinstance(column, dict) and "repeat" in column:
        return column["values"] * column["repeat"]
    if isinstance(column, dict):
        values = column["values"]
        return [values[code] for code in column["codes"]]
    return list(column)


def layer_features(layer: dict) -> list[dict]:
    """GeoJSON-like features (``properties`` and ``geometry`` as a mapping) of a map layer in either form.

    A GeoJSON layer (``features``) gives its features; a compact layer (``shapes``: the coverage map's
    communities, the district outlines) gives one feature per shape with its ``props`` and, for communities
    (``ids``), ``community_id`` and ``approximate`` (true for a footprint drawn from a point).
    """
    if "features" in layer:
        return layer["features"]["features"]
    columns = {name: decode_column(column) for name, column in layer["props"].items()}
    approximate = set(layer.get("approximate", []))
    shapes = decode_shapes(layer["shapes"])
    ids = layer.get("ids")
    features = []
    for index, shape in enumerate(shapes):
        properties = {name: values[index] for name, values in columns.items()}
        if ids is not None:
            properties = {"community_id": ids[index], **properties, "approximate": index in approximate}
        geometry = shapely.geometry.mapping(shape) if shape is not None else None
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return features


def grid_cells(lon, lat, codes, n_codes: int, size_deg: tuple[float, float], origin: tuple[float, float]) -> dict:
    """Count points per grid cell and per code: the coverage map's summary of a large city at low zoom.

    Parameters
    ----------
    lon, lat : array-like of float
        Degrees (EPSG:4326) of one point per community (a point on its surface).
    codes : array-like of int
        Each community's status, ``0 … n_codes - 1`` (the index of its status in the legend's order).
    n_codes : int
        How many statuses there are.
    size_deg : (float, float)
        A cell's width (longitude) and height (latitude), degrees.
    origin : (float, float)
        ``(lon, lat)`` of the grid's south-west corner, degrees.

    Returns
    -------
    dict
        ``size`` (the cell size, degrees), ``origin``, and ``cells``: one ``[column, row, count of code 0, …,
        count of code n_codes - 1]`` per cell holding any point (column and row count cells from ``origin``).
        The counts of all cells add up to the number of points.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    codes = np.asarray(codes, dtype=np.int64)
    columns = np.floor((lon - origin[0]) / size_deg[0]).astype(np.int64)
    rows = np.floor((lat - origin[1]) / size_deg[1]).astype(np.int64)
    cells, where = np.unique(np.column_stack([columns, rows]), axis=0, return_inverse=True)
    counts = np.zeros((len(cells), n_codes), dtype=np.int64)
    np.add.at(counts, (where.ravel(), codes), 1)
    return {
        "size": [float(size_deg[0]), float(size_deg[1])],
        "origin": [float(origin[0]), float(origin[1])],
        "cells": np.column_stack([cells, counts]).tolist() if len(cells) else [],
    }
