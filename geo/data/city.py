"""A city's data as the pipeline takes it: its layers in EPSG:4326, applications and other layers."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd


@dataclass(frozen=True)
class CityData:
    """The three layers of a city, in EPSG:4326, its applications, and every other layer of its file.

    ``public_sites`` (EPSG:4326, ``geo.data.schema.PUBLIC_SITE_COLUMNS``) are the places outside
    communities where a set could go, when the file has that layer; else None.
    ``roads`` (EPSG:4326, ``geo.data.schema.ROAD_COLUMNS``, LineString/MultiLineString) are the lines a
    resident can walk along (``walkable``), when the file has that layer; else None.
    ``other_layers`` (name → frame, as stored) are not analysed; they are kept so that writing
    the city again (after an upload, :func:`geo.intake.assemble.assemble_city`) loses none of them.
    """

    districts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    fitness_paths: gpd.GeoDataFrame
    source: str
    applications: pd.DataFrame | None = None
    other_layers: dict = field(default_factory=dict)
    public_sites: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
