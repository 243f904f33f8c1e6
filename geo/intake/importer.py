"""Import a district's survey file: read it, validate it row by row, write accepted rows and rejects."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.config import BOUNDARIES_PATH, Config, load_config
from geo.data import schema
from geo.data.crs import CRS_NAMES, is_storage_crs, metric_crs_for, normalise_crs_name
from geo.data.crs_guess import describe, first_coordinates, guess_crs
from geo.data.files import atomic_write
from geo.data.formats import _check_upload_size, _shown
from geo.data.io import RawLayer, _check_vertices, read_districts, read_raw_layer, shown_as
from geo.data.osm import check_osm_name, filled_road_ids, is_osm_file, read_osm_roads, road_layer
from geo.data.schema import STORAGE_CRS
from geo.data.tables import _too_many_rows
from geo.errors import DataError, Message, data_error
from geo.intake.estimate import estimate_population
from geo.intake.validate import CITY_TOLERANCE_M, validate_layer

IMPORT_LAYERS = ("communities", "fitness_paths", "public_sites", "roads")
APPROXIMATE_COLUMN = "geometry_approximate"

# Intake columns that only say where a row is; the accepted layer has its geometry instead.
_POSITION_COLUMNS = ("longitude", "latitude", "crs")


@dataclass(frozen=True)
class IntakeResult:
    """What an import produced.

    Attributes
    ----------
    layer : {"communities", "fitness_paths"}
    accepted : geopandas.GeoDataFrame
        Accepted rows, EPSG:4326, RangeIndex; the schema's columns in its dtypes
        (``geo.data.schema.LAYERS[layer]``), for communities then ``geometry_approximate``
        (boolean: True for a point-only community given a square footprint), then the intake
        columns the file had (``land_area_m2``, ``application_date``, ``existing_sets``), then
        the file's other columns as read, then ``geometry`` (2-D; Polygon/MultiPolygon for
        communities, or None for a community given only by the ID of one the city already lists;
        Point for fitness paths). A community may lack ``community_id`` (a new one: the merge
        gives it an ID) or ``population`` (it cannot be ranked yet); both are reported in
        ``warnings``.
    rejects : pandas.DataFrame
        See :func:`geo.intake.validate.validate_layer`: row number (column ``sheet_row`` or
        ``feature``), ``reason_code``, ``reason_zh``, ``reason_en``, original cells.
    input_rows, repaired : int
        Data rows read (blank spreadsheet rows are not rows); accepted rows whose polygon was
        repaired.
    warnings : tuple of str
        Fixes made (swapped coordinates, repaired polygons) and declarations overridden.
    row_kind : {"sheet_row", "feature"}
        How rows are numbered (``geo.data.io.ROW_KINDS``).
    accepted_rows : numpy.ndarray of int
        The row number of each accepted row.
    crs : str
        The coordinate system the file's coordinates were taken in: the file's own (``"wgs84"``
        for longitude/latitude, else ``"EPSG:n"`` or its name), else the declared one, else the
        guessed one (:func:`geo.data.crs_guess.guess_crs`), else ``"wgs84"``; as
        :func:`geo.data.crs.normalise_crs_name` spells it. Rows may override it in a ``crs`` column.
    crs_assumed : bool
        True when ``crs`` was neither the file's nor declared, but guessed or the default.
    """

    layer: str
    accepted: gpd.GeoDataFrame
    rejects: pd.DataFrame
    input_rows: int
    repaired: int
    warnings: tuple
    row_kind: str
    accepted_rows: np.ndarray
    crs: str = "wgs84"
    crs_assumed: bool = False
    headers: dict | None = None  # our field → the file's header it was read from (mapped or recognised)

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def summary(self) -> dict:
        """``{"input_rows", "accepted", "rejected", "repaired", "warnings", "crs"}`` for JSON output.

        ``"crs"`` is ``{"used": crs, "assumed": crs_assumed}``.
        """
        return {
            "input_rows": self.input_rows,
            "accepted": len(self.accepted),
            "rejected": self.rejected,
            "repaired": self.repaired,
            "warnings": list(self.warnings),
            "crs": {"used": self.crs, "assumed": self.crs_assumed},
        }

    def rejects_csv(self) -> bytes:
        """The rejected rows as CSV bytes for a download: :func:`rejects_csv_bytes`."""
        return rejects_csv_bytes(self)


def import_file(
    path,
    layer: str,
    crs: str | None = None,
    config: Config | None = None,
    districts: gpd.GeoDataFrame | None = None,
    *,
    gpkg_layer: str | None = None,
    today: datetime.date | None = None,
    display_name: str | None = None,
    column_map: dict | None = None,
    new_city: bool = False,
) -> IntakeResult:
    """Read a survey file and keep every row that passes validation; explain every other row.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage, GeoJSON, zipped Shapefile, KML, CSV or XLSX; see :func:`geo.data.io.read_raw_layer`.
    layer : {"communities", "fitness_paths", "public_sites"}
        What the file holds (public sites: points or polygons, ``kind`` and ``consent`` words as codes).
    crs : str, optional
        Declared coordinate system of coordinates that carry none: ``"wgs84"`` (default),
        ``"gcj02"`` (Amap, Tencent), ``"bd09"`` (Baidu) or ``"EPSG:n"``, any spelling
        :func:`geo.data.crs.normalise_crs_name` accepts. A file's own CRS wins, with a warning.
        When None and the file has no CRS, the coordinates decide (:func:`resolve_crs`): degrees
        are WGS84; Gauss–Krüger eastings prefixed by a zone number are read in that CGCS2000 zone,
        with a warning; eastings without one (or with different ones) raise a DataError that
        lists the candidate EPSG codes, the one nearest the ``districts`` first.
    config : geo.config.Config, optional
        Limits and repair settings (``[intake]`` of ``config.toml``); default: ``load_config()``.
    districts : geopandas.GeoDataFrame, optional
        The city's districts; default: ``data/boundaries/liuzhou_districts.geojson``.
    gpkg_layer : str, optional
        GeoPackage layer to read (default: the one named ``layer``, else the only one).
    today : datetime.date, optional
        Reference date for years and application dates in the future (default: today).
    display_name : str, optional
        The name messages give the file (the user's name for an upload the app stored under a
        fixed one); default: the file's own name.
    column_map : dict of str to str, optional
        The file's header for some of our fields (field → header), winning over the headers'
        recognition; see :func:`geo.data.io.read_raw_layer`.
    new_city : bool
        The file makes a new city (:mod:`geo.intake.newcity`): ``districts`` are ignored, no row
        is outside the city and district fields are kept as given (the districts are drawn from
        the communities afterwards).

    Returns
    -------
    IntakeResult
        ``len(accepted) + len(rejects) == input_rows`` always.

    Raises
    ------
    ValueError
        Unknown ``layer`` or ``crs``; or the file cannot be read at all (too large, unsafe zip,
        unsupported or damaged format …), or its coordinate system cannot be told (see ``crs``):
        a one-line reason.
    FileNotFoundError
        If ``path`` does not exist.

    Notes
    -----
    A community given as a point gets a square footprint of its ``land_area_m2`` (else
    ``config.default_footprint_m2``) centred on the point, built in the city's UTM zone and
    stored in WGS84, and ``geometry_approximate`` True.
    """
    if layer not in IMPORT_LAYERS:
        raise ValueError(f"unknown layer {layer!r}; import one of {', '.join(IMPORT_LAYERS)}")
    if crs is not None:
        normalise_crs_name(crs)  # an unknown name fails before the file is read
    config = config or load_config()
    if new_city:
        districts = None
    elif districts is None:
        districts = read_districts(BOUNDARIES_PATH)
    if layer == "roads" and is_osm_file(path):
        return _osm_roads_result(path, config, display_name, districts)
    if layer == "roads":
        with shown_as(path, display_name):
            check_osm_name(path)  # an .osm.pbf that is no extract would be read as a CSV and said to lack headers
    with shown_as(path, display_name):
        raw = read_raw_layer(
            path,
            layer,
            gpkg_layer,
            max_upload_mb=config.max_upload_mb,
            max_unzipped_mb=config.max_unzipped_mb,
            max_rows=config.max_rows,
            max_vertices=config.max_vertices,
            column_map=column_map,
        )
    raw, crs, crs_used, crs_assumed, crs_warnings = resolve_crs(raw, crs, _city_longitude(districts))
    accepted, rejects, report = validate_layer(
        raw, layer, districts, declared_crs=crs, repair_max_area_change=config.repair_max_area_change, today=today
    )
    accepted_rows = accepted.index.to_numpy(dtype=int)
    accepted = accepted.reset_index(drop=True)
    if layer == "communities":
        is_point = (accepted.geom_type == "Point").to_numpy()
        areas = (
            accepted["land_area_m2"] if "land_area_m2" in accepted.columns else pd.Series(np.nan, index=accepted.index)
        )
        sides = np.sqrt(areas.where(areas > 0, config.default_footprint_m2).to_numpy(dtype=float))
        geometry = accepted.geometry.to_numpy().copy()
        if is_point.any():
            metric = metric_crs_for(districts if districts is not None else accepted[~accepted.geometry.isna()])
            geometry[is_point] = approximate_footprints(geometry[is_point], sides[is_point], metric)
        accepted = accepted.set_geometry(gpd.GeoSeries(geometry, index=accepted.index, crs=STORAGE_CRS))
        given = accepted[APPROXIMATE_COLUMN] if APPROXIMATE_COLUMN in accepted.columns else None
        given = np.zeros(len(accepted), dtype=bool) if given is None else given.astype("boolean").fillna(False)
        accepted[APPROXIMATE_COLUMN] = pd.array(is_point | np.asarray(given, dtype=bool), dtype="boolean")
        if accepted["population"].isna().any():  # estimated, and flagged (geo.intake.estimate)
            accepted = estimate_population(accepted, config.persons_per_household, config.residents_per_hectare)
    accepted = accepted.set_geometry(shapely.force_2d(accepted.geometry.to_numpy()), crs=STORAGE_CRS)
    if layer == "roads":  # kinds as codes, walkability and bridges decided where the file is silent; ID: row number
        accepted["road_id"] = filled_road_ids(accepted["road_id"], accepted_rows)
        accepted = road_layer(accepted)
    return IntakeResult(
        layer=layer,
        accepted=_ordered(accepted, layer),
        rejects=rejects,
        input_rows=report["input_rows"],
        repaired=report["repaired"],
        warnings=tuple(crs_warnings + list(report["warnings"]) + _roads_walkable_warning(layer, accepted)),
        row_kind=raw.row_kind,
        accepted_rows=accepted_rows,
        crs=crs_used,
        crs_assumed=crs_assumed,
        headers=dict(raw.headers),
    )


def _osm_roads_result(
    path, config: Config, display_name: str | None = None, districts: gpd.GeoDataFrame | None = None
) -> IntakeResult:
    """An OpenStreetMap extract's roads (:func:`geo.data.osm.read_osm_roads`) as an import.

    OSM's tags are already codes and its coordinates WGS84, so no row is rejected. An extract is cut by
    area (a province, a country): only the ways within ``CITY_TOLERANCE_M`` of the ``districts`` are kept,
    and a warning says how many were left out (they are the extract's, not the city's: no rejects file).
    The import's limits hold as for any file: ``max_upload_mb`` before reading, ``max_rows`` (roads)
    and ``max_vertices`` on the ways kept.
    """
    with shown_as(path, display_name):
        _check_upload_size(Path(path), config.max_upload_mb)
        roads = read_osm_roads(path)
        label = Message("label_file", kind=Message("kind_roads"), file=_shown(Path(path)))
    warnings = ()
    if districts is not None and len(districts):
        near = ways_near(roads, districts, CITY_TOLERANCE_M)
        if not near.all():
            warnings = (
                Message(
                    "osm_ways_outside",
                    count=int((~near).sum()),
                    km=f"{CITY_TOLERANCE_M / 1000:g}",
                    kept=int(near.sum()),
                ),
            )
            roads = roads[near].reset_index(drop=True)
        if not len(roads):
            raise data_error("osm_no_roads_in_city", file=_shown(Path(path)), km=f"{CITY_TOLERANCE_M / 1000:g}")
    if config.max_rows is not None and len(roads) > config.max_rows:
        found = Message("found_features", count=len(roads))
        raise DataError(_too_many_rows(label, found, config.max_rows, "before_validation"))
    _check_vertices(roads.geometry.to_numpy(), label, config.max_vertices)
    rejects = pd.DataFrame(columns=["feature", "reason_code", "reason_zh", "reason_en"])
    return IntakeResult(
        layer="roads",
        accepted=roads,
        rejects=rejects,
        input_rows=len(roads),
        repaired=0,
        warnings=warnings + tuple(_roads_walkable_warning("roads", roads)),
        row_kind="feature",
        accepted_rows=np.arange(1, len(roads) + 1),
        crs="wgs84",
        crs_assumed=False,
        headers={"road_id": "osm_id", "name": "name", "kind": "highway"},
    )


def _roads_walkable_warning(layer: str, accepted: gpd.GeoDataFrame) -> list:
    """A warning when roads were imported but none of them is walkable (all motorways …): no walk network."""
    if layer != "roads" or not len(accepted) or accepted["walkable"].astype("boolean").fillna(True).any():
        return []
    return [Message("roads_none_walkable", count=len(accepted))]


def ways_near(roads: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, distance_m: float) -> np.ndarray:
    """Which road lines (EPSG:4326) come within ``distance_m`` of the union of ``districts`` (bool per row).

    A line is kept whole when any part of it is that near (a road leaving the city is not cut). Measured in
    the districts' UTM zone.
    """
    if not len(roads):
        return np.zeros(0, dtype=bool)
    metric = metric_crs_for(districts)
    city = shapely.union_all(districts.to_crs(metric).geometry.to_numpy())
    lines = roads.geometry.to_crs(metric).to_numpy()
    near = np.zeros(len(lines), dtype=bool)
    near[shapely.STRtree(lines).query(city, predicate="dwithin", distance=distance_m)] = True
    return near


def approximate_footprints(points: np.ndarray, sides_m: np.ndarray, metric_crs: str) -> np.ndarray:
    """Squares of the given sides centred on the points, axis-aligned in ``metric_crs``.

    Parameters
    ----------
    points : numpy.ndarray of shapely Point
        Centres in WGS84 (EPSG:4326) longitude/latitude.
    sides_m : numpy.ndarray of float
        Side of each square in metres (``sqrt`` of the land area in m²).
    metric_crs : str
        A metric CRS (the city's UTM zone, e.g. ``"EPSG:32649"``) in which the squares are square.

    Returns
    -------
    numpy.ndarray of shapely Polygon
        In WGS84 longitude/latitude.
    """
    forward = pyproj.Transformer.from_crs(STORAGE_CRS, metric_crs, always_xy=True)
    back = pyproj.Transformer.from_crs(metric_crs, STORAGE_CRS, always_xy=True)
    x, y = forward.transform(shapely.get_x(points), shapely.get_y(points))
    half = np.asarray(sides_m, dtype=float) / 2
    squares = shapely.box(x - half, y - half, x + half, y + half)
    return shapely.transform(squares, lambda coords: np.column_stack(back.transform(coords[:, 0], coords[:, 1])))


def resolve_crs(raw: RawLayer, declared: str | None, near_lon: float | None = None):
    """The coordinate system to read ``raw`` in: the file's own, the declared one, or a guess from its coordinates.

    Parameters
    ----------
    raw : geo.data.io.RawLayer
        The layer as read; ``raw.file_crs`` is the file's own CRS, if any.
    declared : str or None
        What the user declared (any spelling :func:`geo.data.crs.normalise_crs_name` accepts).
    near_lon : float, optional
        Longitude (WGS84 degrees) of the city the file is imported into: ranks the candidate
        central meridians of Gauss–Krüger eastings without a zone number.

    Returns
    -------
    raw : geo.data.io.RawLayer
        ``raw``, with x and y exchanged when the file gives Gauss–Krüger northings (X) before
        eastings (Y), the surveyors' order.
    declared : str or None
        The CRS to validate with: the declared one, or the guessed zone.
    used : str
        The CRS the coordinates are taken in (see :attr:`IntakeResult.crs`).
    assumed : bool
        Whether ``used`` is a guess or the WGS84 default rather than the file's or the user's.
    warnings : list of geo.errors.Message
        ``crs_guessed`` when a zone was guessed, ``crs_columns_swapped`` when the columns were
        exchanged under a declared CRS.

    Raises
    ------
    geo.errors.DataError
        ``crs_guess_needed``: nothing declared, the file has no CRS, and its coordinates are
        Gauss–Krüger metres whose zone is not certain (no zone number, or different ones); the
        message names the likeliest candidate and the others.

    Notes
    -----
    A file that has its own CRS, or a ``crs`` column (坐标系) filled in any row, is not guessed;
    ``used`` is then the column's system when every row names the same one.
    Coordinates that are degrees in China are WGS84 unless declared (the validation swaps
    longitude/latitude itself); coordinates that look like nothing known are left to the
    validation, which rejects each row that is not degrees in the city.
    """
    if raw.file_crs is not None:
        own = pyproj.CRS.from_user_input(raw.file_crs)
        used = "wgs84" if is_storage_crs(own) else (f"EPSG:{own.to_epsg()}" if own.to_epsg() else own.name)
        return raw, declared, used, False, []
    name = normalise_crs_name(declared) if declared is not None else None
    cells = raw.frame["crs"].astype("string").str.strip().fillna("") if "crs" in raw.frame.columns else None
    if cells is not None and cells.ne("").any():
        named = {_crs_name_or_none(cell) for cell in cells.unique()}
        if len(named) == 1 and None not in named:  # every row names the same system
            return raw, declared, named.pop(), False, []
        return raw, declared, name or "wgs84", name is None, []
    guess = guess_crs(*first_coordinates(raw.frame.geometry.to_numpy()), near_lon=near_lon)
    metres_swapped = guess.swapped and guess.crs != "wgs84"
    if name is not None:
        if metres_swapped and name not in CRS_NAMES:
            return _exchanged(raw), declared, name, False, [Message("crs_columns_swapped", label=raw.label)]
        return raw, declared, name, False, []
    if guess.crs is None and guess.candidates:
        first, *others = guess.candidates
        shown = (", ".join(others[:5]) + (" …" if len(others) > 5 else "")) or Message("none")
        raise data_error("crs_guess_needed", label=raw.label, guess=guess.message, first=describe(first), others=shown)
    if guess.crs is None or guess.crs == "wgs84":
        return raw, None, "wgs84", True, []
    raw = _exchanged(raw) if metres_swapped else raw
    return raw, guess.crs, guess.crs, True, [Message("crs_guessed", label=raw.label, guess=guess.message)]


def _crs_name_or_none(text: str) -> str | None:
    """:func:`geo.data.crs.normalise_crs_name` of a cell, None when it is empty or not a known name."""
    try:
        return normalise_crs_name(text) if text else None
    except DataError:
        return None


def _exchanged(raw: RawLayer) -> RawLayer:
    """``raw`` with the x and y of every geometry exchanged."""
    geometry = shapely.transform(raw.frame.geometry.to_numpy(), lambda coords: coords[:, ::-1])
    frame = raw.frame.set_geometry(gpd.GeoSeries(geometry, index=raw.frame.index, crs=raw.frame.crs))
    return replace(raw, frame=frame)


def _city_longitude(districts: gpd.GeoDataFrame | None) -> float | None:
    """The longitude (WGS84 degrees) of the centre of the districts' bounds; None without districts."""
    if districts is None or not len(districts):
        return None
    minx, _, maxx, _ = districts.to_crs(STORAGE_CRS).total_bounds
    return float((minx + maxx) / 2) if np.isfinite([minx, maxx]).all() else None


def write_accepted(result: IntakeResult, path) -> Path:
    """Write the accepted rows as the layer ``result.layer`` of a GeoPackage.

    Other layers of an existing GeoPackage are kept; a layer of the same name is replaced.
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise data_error("accepted_not_gpkg", file=path.name)
    with atomic_write(path, keep_existing=True) as staged:
        result.accepted.to_file(staged, layer=result.layer, driver="GPKG", engine="pyogrio")
    return path


def write_rejects(result: IntakeResult, path) -> Path:
    """Write :func:`rejects_csv_bytes` of ``result`` to ``path`` (a CSV; its folder must exist)."""
    path = Path(path)
    content = rejects_csv_bytes(result)
    with atomic_write(path) as staged:
        staged.write_bytes(content)
    return path


def rejects_csv_bytes(result: IntakeResult) -> bytes:
    """The rejected rows as the bytes of a CSV that Excel, WPS and LibreOffice open without running anything.

    Parameters
    ----------
    result : IntakeResult
        An import's result; its ``rejects`` hold the user's cells as read, under the user's
        headers, after the row number and the reasons.

    Returns
    -------
    bytes
        The CSV of :func:`geo.data.cells.csv_bytes` (UTF-8 with BOM, CRLF, text quoted): every
        header and text cell, the user's included, with control and invisible characters removed
        and a leading ``'`` when it would start a formula (``=1+2`` → ``'=1+2``, ``-1`` → ``'-1``);
        numbers as numbers; missing cells empty. The app's download and ``geo import --rejects``
        write these same bytes.
    """
    from geo.data.cells import csv_bytes

    table = result.rejects.astype(object)
    table = table.where(table.notna(), None).map(_reject_cell)
    return csv_bytes(table)


def _reject_cell(value):
    """A number or missing value as it is; anything else as its text."""
    if value is None or isinstance(value, (bool, int, float, np.integer, np.floating)):
        return value
    return str(value)


def _ordered(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Schema columns, the approximation flag, intake columns, other columns, then geometry."""
    columns = list(schema.LAYERS[layer])
    if layer == "communities":
        columns.append(APPROXIMATE_COLUMN)
    columns += [
        c for c in schema.INTAKE_COLUMNS[layer] if c in frame.columns and c not in (*_POSITION_COLUMNS, *columns)
    ]
    others = [c for c in frame.columns if c not in columns and c != "geometry" and c not in _POSITION_COLUMNS]
    return frame[columns + others + ["geometry"]]


def survey_fitness_paths(communities: gpd.GeoDataFrame, metric_crs=None) -> gpd.GeoDataFrame:
    """Fitness paths a survey reported only as a count (``existing_sets``), as points.

    One point per reported set, at the community's ``point_on_surface`` (computed in the UTM
    zone of the data), ``path_id`` ``<community_id>-S<k>``, ``location_approximate`` True. A
    community with no count, or 0, gets none. Returns EPSG:4326 points in the schema's columns.
    """
    from geo.analysis.coverage import candidate_sites

    empty = gpd.GeoDataFrame(
        {c: pd.Series(dtype=d) for c, d in schema.layer_dtypes("fitness_paths").items()},
        geometry=gpd.GeoSeries([], crs=STORAGE_CRS),
    )
    if "existing_sets" not in communities.columns or len(communities) == 0:
        return empty.assign(location_approximate=pd.array([], dtype="boolean"))
    counts = pd.to_numeric(communities["existing_sets"], errors="coerce").fillna(0).clip(lower=0).astype(int).to_numpy()
    rows = np.repeat(np.arange(len(communities)), counts)
    if rows.size == 0:
        return empty.assign(location_approximate=pd.array([], dtype="boolean"))
    metric_crs = metric_crs or metric_crs_for(communities)
    sites = gpd.GeoSeries(candidate_sites(communities.geometry.to_crs(metric_crs).values[rows]), crs=metric_crs)
    ordinal = pd.Series(rows).groupby(rows).cumcount().to_numpy() + 1
    ids = communities["community_id"].astype("string").fillna("NEW").to_numpy()[rows]
    frame = gpd.GeoDataFrame(
        {
            "path_id": pd.array([f"{i}-S{k}" for i, k in zip(ids, ordinal)], dtype="string"),
            "name": pd.array((communities["name"].astype(str).to_numpy()[rows] + "健身路径"), dtype="string"),
        },
        geometry=sites.to_crs(STORAGE_CRS).values,
        crs=STORAGE_CRS,
    )
    for column, dtype in schema.layer_dtypes("fitness_paths").items():
        if column not in frame.columns:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype=dtype)
    frame["location_approximate"] = pd.array(np.ones(len(frame), bool), dtype="boolean")
    return frame[[*schema.layer_dtypes("fitness_paths"), "location_approximate", "geometry"]]
