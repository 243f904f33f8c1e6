"""GeoPackage reading and writing: choosing a layer, checking the file's tables, writing layers atomically."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.data import network  # noqa: F401  (GDAL opens files here: its network is off from the first import)
from geo.data.files import atomic_write
from geo.data.formats import _one_line, _shown, _sniff_format
from geo.errors import Message, data_error

# GeoPackage tables GDAL reads when it opens a file: they must be tables, not views.
_GPKG_SYSTEM_PREFIXES = ("gpkg_", "rtree_")


def write_layers(path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write several layers to one GeoPackage, replacing the file if it exists.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage file to create (conventionally ``.gpkg``). Its folder must exist.
    layers : dict of str to geopandas.GeoDataFrame or pandas.DataFrame
        Layer name → frame, written in dict order, each in its own CRS (normally EPSG:4326)
        with its dtypes; nullable missing values are stored as NULL. A plain DataFrame becomes
        an attribute table without geometry.

    Raises
    ------
    ValueError
        If ``layers`` is empty or a value is not a DataFrame.

    Notes
    -----
    The layers are written to a temporary file in the same folder that then replaces ``path``,
    so a failed write leaves an existing file untouched.
    """
    if not layers:
        raise ValueError("no layers to write; pass a dict of layer name to GeoDataFrame")
    for name, frame in layers.items():
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"layer {name!r} is a {type(frame).__name__}, not a (Geo)DataFrame")
    with atomic_write(path) as staged:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(staged, layer=name, driver="GPKG", engine="pyogrio")
            else:  # a plain attribute table, e.g. applications
                pyogrio.write_dataframe(frame, staged, layer=name, driver="GPKG")


def _choose_gpkg_layer(path: Path, kind: str, layer: str | None) -> str:
    """Pick the GeoPackage layer: ``layer`` if given, else the one named ``kind``, else the only one.

    The layer is then known to be a table that reads as data (see :func:`_check_gpkg_tables`).
    """
    _check_gpkg_tables(path)
    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    listed = ", ".join(names) or Message("none")
    if layer is not None:
        if layer not in names:
            raise data_error("gpkg_no_such_layer", file=_shown(path), layer=repr(layer), listed=listed)
        chosen = layer
    elif kind in names:
        chosen = kind
    elif len(names) == 1:
        chosen = names[0]
    else:
        raise data_error("gpkg_which_layer", file=_shown(path), count=len(names), kind=repr(kind), listed=listed)
    _check_gpkg_tables(path, chosen)
    return chosen


def _check_gpkg_tables(path: Path, layer: str | None = None) -> None:
    """Refuse a GeoPackage whose reading would run its own SQL instead of reading stored data.

    A view is a query that runs when it is read: one that counts forever (``WITH RECURSIVE``)
    never returns, one that joins a table to itself a few times runs for hours, and a computed
    (generated) column such as ``zeroblob(1000000000)`` makes a gigabyte from nothing on every
    row. So the GeoPackage's own tables (``gpkg_*``, ``rtree_*``) must be tables (the R-tree
    index a virtual table), and ``layer``, if given, a table without computed columns.

    Only SQLite's parsed schema is consulted (``pragma_table_list``, ``pragma_table_xinfo``;
    SQLite ≥ 3.37), read-only: nothing the file defines is run.
    """
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as error:
        raise data_error("gpkg_unopenable", file=_shown(path), detail=_one_line(error)) from None
    try:
        objects = connection.execute("SELECT name, type FROM pragma_table_list WHERE schema = 'main'").fetchall()
        table = None
        if layer is not None:
            table = connection.execute(
                "SELECT name, type FROM pragma_table_list WHERE schema = 'main' AND name = ? COLLATE NOCASE",
                (layer,),
            ).fetchone()
        computed = []
        if table is not None and table[1] == "table":
            computed = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM pragma_table_xinfo(?) WHERE hidden IN (2, 3)", (table[0],)
                )
            ]
    except sqlite3.Error as error:
        raise data_error("gpkg_unreadable", file=_shown(path), detail=_one_line(error)) from None
    finally:
        connection.close()
    for name, object_type in objects:
        system = name.lower().startswith(_GPKG_SYSTEM_PREFIXES)
        allowed = ("table", "shadow", "virtual") if name.lower().startswith("rtree_") else ("table",)
        if system and object_type not in allowed:
            raise data_error("gpkg_system_view", file=_shown(path), table=repr(name), type=object_type)
    if table is not None and table[1] != "table":
        raise data_error("gpkg_layer_view", file=_shown(path), layer=repr(layer), type=table[1])
    if computed:
        raise data_error("gpkg_computed_columns", file=_shown(path), layer=repr(layer), columns=", ".join(computed))


def read_table(path, layer: str) -> pd.DataFrame:
    """Any one layer or attribute table of a GeoPackage as stored, for carrying it along unchanged.

    A layer with a geometry comes back as a GeoDataFrame in its own CRS; a table without one as
    a DataFrame. Refused like every GeoPackage read here if the layer is a view, a virtual
    table or has computed columns (see :func:`_check_gpkg_tables`).
    """
    path = Path(path)
    _check_gpkg_tables(path, layer)
    try:
        if pyogrio.read_info(path, layer=layer).get("geometry_type"):
            return gpd.read_file(path, layer=layer, engine="pyogrio")
        return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    except pyogrio.errors.DataSourceError as err:
        raise data_error("gpkg_layer_unreadable", file=_shown(path), layer=repr(layer), detail=_one_line(err)) from None


def gpkg_layers(path) -> list[str]:
    """Names of the layers of a GeoPackage; ValueError (not a GDAL error) for anything else."""
    path = Path(path)
    if not path.exists():
        raise data_error("data_file_not_found", file=str(path))
    if path.is_dir() or _sniff_format(path) != "gpkg":
        raise data_error("gpkg_not_city", file=_shown(path))
    _check_gpkg_tables(path)
    try:
        return [name for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as err:
        raise data_error("gpkg_unopenable_plain", file=_shown(path), detail=str(err)) from None
