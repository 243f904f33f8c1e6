"""The pipeline as one call each for the app, the CLI and notebooks, so all give the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.analysis.coverage import city_total, community_coverage, coverage_summary
from geo.analysis.network import WalkNetwork
from geo.data.city import CityData
from geo.data.crs import metric_crs_for
from geo.data.io import (
    gpkg_layers,
    read_applications,
    read_communities,
    read_districts,
    read_fitness_paths,
    read_public_sites,
    read_roads,
    read_table,
)
from geo.errors import DataError, data_error

CITY_LAYERS = ("districts", "communities", "fitness_paths", "applications", "public_sites", "roads")
"""The layers the analysis reads; any other layer or table of a city file is carried as it is."""


@dataclass(frozen=True)
class CoverageReport:
    """Communities with coverage columns, the per-district table and the city totals."""

    communities: gpd.GeoDataFrame
    by_district: pd.DataFrame
    total: dict
    walk_radius_m: float


def load_city(path: str | Path) -> CityData:
    """Read ``districts``, ``communities``, ``fitness_paths`` (and ``applications``, ``public_sites``, ``roads``).

    Every other layer or table of the file goes, unread by the analysis, into ``other_layers``.
    """
    path = Path(path)
    layers = set(gpkg_layers(path))
    missing = [name for name in ("districts", "communities", "fitness_paths") if name not in layers]
    if missing:
        raise DataError(f"{path.name} lacks the layer(s) {', '.join(missing)}; it has: {', '.join(sorted(layers))}")
    return CityData(
        districts=read_districts(path, layer="districts"),
        communities=read_communities(path, layer="communities"),
        fitness_paths=read_fitness_paths(path, layer="fitness_paths"),
        source=str(path),
        applications=read_applications(path) if "applications" in layers else None,
        other_layers={name: read_table(path, name) for name in sorted(layers) if name not in CITY_LAYERS},
        public_sites=read_public_sites(path) if "public_sites" in layers else None,
        roads=read_roads(path, layer="roads") if "roads" in layers else None,
    )


def walk_network(city: CityData, config=None):
    """The walk graph of ``city``'s roads layer (:class:`geo.analysis.network.WalkNetwork`, in the communities'
    UTM zone) with ``config``'s ``[network]`` tolerances (segment_m, snap_m, access_m; without a config, the
    defaults of :mod:`geo.analysis.network`); a DataError ``network_needs_roads`` when the city has none."""
    if city.roads is None or not len(city.roads):
        raise data_error("network_needs_roads")
    tolerances = (
        {}
        if config is None
        else {
            "segment_m": config.network_segment_m,
            "snap_m": config.network_snap_m,
            "access_m": config.network_access_m,
        }
    )
    return WalkNetwork.from_roads(city.roads, metric_crs_for(city.communities), **tolerances)


def coverage_report(city: CityData, walk_radius_m: float, distance: str = "straight", config=None) -> CoverageReport:
    """Coverage of every community and its totals per district and for the city.

    ``distance``: ``straight`` lines, or on foot along the city's roads (``network``; a DataError
    ``network_needs_roads`` when the city has no roads layer), built with ``config``'s ``[network]``
    tolerances (default: :mod:`geo.analysis.network`'s).
    """
    network = walk_network(city, config) if distance == "network" else None
    covered = community_coverage(city.communities, city.fitness_paths, walk_radius_m, network=network)
    by_district = coverage_summary(covered, city.districts)
    return CoverageReport(covered, by_district, city_total(by_district), walk_radius_m)


def network_for(city: CityData, config):
    """The walk network a run on ``city`` measures along: :func:`walk_network` when ``config.distance`` is
    "network" (a DataError ``network_needs_roads`` when the city has no roads layer), None for straight lines."""
    return walk_network(city, config) if config.distance == "network" else None
