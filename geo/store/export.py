"""The city and the store's records in one GeoPackage, for a GIS or an archive (``geo store export``).

The city's layers are written as the app analyses them (:func:`geo.store.installations.city_with_records`):
``fitness_paths`` holds the file's sets and the installed ones (``installation_id`` set for those),
``applications`` the file's and the store's (earliest date per community); every other layer of
the city file goes as it is. The store's tables follow as ``store_<table>``: plan picks and
installations as point layers (EPSG:4326), the rest as attribute tables. Left out on purpose:
the users' password hashes and the photos' bytes (``store_attachments`` holds their name, type,
size and SHA-256; a backup, :mod:`geo.store.backup`, keeps the bytes).
"""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
from sqlalchemy import select

from geo.data.city import CityData
from geo.data.gpkg import write_layers
from geo.data.schema import STORAGE_CRS
from geo.store.installations import city_with_records
from geo.store.schema import Base

# Store table → its layer in the export; which columns are left out; which are points (lon/lat).
STORE_TABLES = (
    "users",
    "applications",
    "application_events",
    "plans",
    "plan_picks",
    "installations",
    "inspections",
    "attachments",
    "audit_log",
)
LEFT_OUT = {"users": ("password_hash",), "attachments": ("content",)}
POINT_TABLES = ("plan_picks", "installations")
PREFIX = "store_"


def store_tables(store) -> dict[str, pd.DataFrame]:
    """Every exported store table (``store_<name>`` → frame), without :data:`LEFT_OUT` columns.

    Times are written as UTC without a zone (GeoPackage keeps none); :data:`POINT_TABLES` become
    point layers in EPSG:4326 from their ``lon``/``lat`` (degrees, kept as columns too).
    """
    tables = {}
    with store.engine.connect() as connection:
        for name in STORE_TABLES:
            table = Base.metadata.tables[name]
            columns = [c for c in table.c if c.name not in LEFT_OUT.get(name, ())]
            rows = connection.execute(select(*columns).order_by(table.c.id)).all()
            frame = pd.DataFrame(rows, columns=[c.name for c in columns])
            frame = frame.apply(_naive_utc)
            if name in POINT_TABLES:
                frame = gpd.GeoDataFrame(
                    frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=STORAGE_CRS
                )
            tables[PREFIX + name] = frame
    return tables


def _naive_utc(column: pd.Series) -> pd.Series:
    """A column of times as naive UTC datetimes; any other column as it is."""
    if not any(isinstance(v, datetime) for v in column.dropna()):
        return column
    times = pd.to_datetime(column, utc=True)
    return times.dt.tz_localize(None)


def city_layers(city: CityData, store) -> dict[str, pd.DataFrame]:
    """The city's layers with the store's records (see the module), in the order a city file has them."""
    city = city_with_records(city, store)
    layers = {"districts": city.districts, "communities": city.communities, "fitness_paths": city.fitness_paths}
    if city.applications is not None:
        layers["applications"] = city.applications
    if city.public_sites is not None:
        layers["public_sites"] = city.public_sites
    if city.roads is not None:
        layers["roads"] = city.roads
    layers.update(city.other_layers)
    return layers


def export_city(city: CityData, store, out) -> dict[str, int]:
    """Write ``city`` with the store's records and tables to the GeoPackage ``out``; returns rows per layer.

    ``out`` is replaced whole (written to a temporary file first). A layer of the city file named
    like a store table (``store_…``) is overwritten by the store's.
    """
    layers = city_layers(city, store) | store_tables(store)
    write_layers(out, layers)
    return {name: len(frame) for name, frame in layers.items()}
