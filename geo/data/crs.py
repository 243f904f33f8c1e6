"""Coordinate systems of Chinese map data (WGS84, GCJ-02, BD-09) and the metric CRS for measuring."""

from __future__ import annotations

import re

import geopandas
import numpy as np
import pyproj
import shapely

from geo.errors import DataError, data_error

from .schema import STORAGE_CRS

_STORAGE = pyproj.CRS.from_user_input(STORAGE_CRS)

# GCJ-02 ("Mars coordinates", 火星坐标): the published obfuscation, computed on the
# Krasovsky 1940 ellipsoid.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323

# BD-09 (百度坐标): Baidu's further offset of GCJ-02.
_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

# The standard algorithm's "mainland China" rectangle, in degrees; outside it GCJ-02 = WGS84.
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271

# Inverse transforms iterate until the forward transform reproduces the input this closely.
_INVERSE_TOL_DEG = 1e-9
_INVERSE_MAX_ITER = 30

CRS_NAMES = ("wgs84", "gcj02", "bd09")


def is_storage_crs(crs) -> bool:
    """Whether ``crs`` is the storage CRS: WGS84 longitude/latitude degrees.

    Parameters
    ----------
    crs : pyproj.CRS, str, int or None
        Anything :meth:`pyproj.CRS.from_user_input` takes, e.g. a frame's ``.crs``.

    Returns
    -------
    bool
        True for EPSG:4326 and for any CRS equal to it up to axis order, notably ``OGC:CRS84``
        (the GeoJSON default); False for None and every other CRS.

    Notes
    -----
    EPSG:4326 declares latitude first and OGC:CRS84 longitude first, but GeoPandas and the
    product always hold coordinates as x = longitude, y = latitude (``always_xy``), so a frame
    in either holds the same numbers and needs no reprojection. The product writes EPSG:4326.
    """
    if crs is None:
        return False
    return pyproj.CRS.from_user_input(crs).equals(_STORAGE, ignore_axis_order=True)


def require_storage_crs(frame, what: str, *, unset_if_no_geometry: bool = False) -> None:
    """Raise unless ``frame`` is in the storage CRS (see :func:`is_storage_crs`).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame or geopandas.GeoSeries
        The data to check.
    what : str
        What ``frame`` is, for the message (e.g. ``"communities"``).
    unset_if_no_geometry : bool
        Accept a frame without a CRS when it has no geometry (every value missing or empty),
        e.g. a layer of rows that could not be placed.

    Raises
    ------
    ValueError
        If the CRS is missing or not WGS84 longitude/latitude; the message names the CRS found
        and says to reproject with ``to_crs('EPSG:4326')``.
    """
    crs = frame.crs
    if crs is None and unset_if_no_geometry:
        values = (frame.geometry if hasattr(frame, "geometry") else frame).to_numpy()
        if (shapely.is_missing(values) | shapely.is_empty(values)).all():
            return
    if not is_storage_crs(crs):
        raise DataError(
            f"{what} must be in {STORAGE_CRS} (longitude/latitude), but its CRS is {crs or 'not set'}; "
            f"call frame.to_crs({STORAGE_CRS!r}) first (or set_crs if the CRS is missing)"
        )


_NAME_ALIASES = {
    "wgs84": (
        "wgs84",
        "wgs1984",
        "epsg4326",
        "4326",
        "gps",
        "gpscoordinates",
        "wgs84坐标",
        "wgs84坐标系",
        "大地坐标",
    ),
    "gcj02": (
        "gcj02",
        "gcj",
        "mars",
        "marscoordinates",
        "amap",
        "gaode",
        "autonavi",
        "火星",
        "火星坐标",
        "火星坐标系",
        "高德",
        "高德地图",
        "高德坐标",
        "国测局",
        "国测局坐标",
        "国测局坐标系",
        "腾讯",
        "腾讯地图",
    ),
    "bd09": (
        "bd09",
        "bd09ll",
        "bd",
        "baidu",
        "百度",
        "百度坐标",
        "百度坐标系",
        "百度地图",
        "百度经纬度",
    ),
}
_ALIAS_TO_NAME = {alias: name for name, aliases in _NAME_ALIASES.items() for alias in aliases}
_EPSG_PATTERN = re.compile(r"^epsg(\d+)$")


# --------------------------------------------------------------------------- validation


def _as_float_array(values, what: str) -> np.ndarray:
    """Return ``values`` as a float64 array (None / pandas.NA become NaN); else raise ValueError."""
    # pandas nullable dtypes (Float64, Int64) hold pandas.NA, which numpy cannot cast.
    if (
        hasattr(values, "to_numpy")
        and getattr(values, "dtype", None) is not None
        and getattr(values.dtype, "kind", "O") in "iuf"
    ):
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    array = np.asarray(values)
    if array.dtype.kind in "iuf":
        return array.astype(np.float64, copy=False)
    if array.dtype.kind == "O":
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            pass
    raise DataError(
        f"{what} must be numbers in degrees (int or float, scalar or array), "
        f"got dtype {array.dtype} (e.g. {array.ravel()[:3].tolist()!r}); "
        "convert text columns with pandas.to_numeric first"
    )


def _lonlat_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Validate and broadcast longitude/latitude to two float64 arrays of one shape."""
    lon = _as_float_array(lon, "longitude")
    lat = _as_float_array(lat, "latitude")
    try:
        lon, lat = np.broadcast_arrays(lon, lat)
    except ValueError:
        raise DataError(
            f"longitude shape {lon.shape} and latitude shape {lat.shape} do not broadcast; "
            "pass arrays of the same length (or a scalar for one of them)"
        ) from None
    lon, lat = lon.copy(), lat.copy()
    # NaN passes (missing stays missing); anything else outside the globe is a unit mistake.
    if np.any(np.abs(lon) > 180.0) or np.any(np.abs(lat) > 90.0):
        raise DataError(
            "coordinates outside ±180° longitude / ±90° latitude "
            f"(lon {np.nanmin(lon):g}..{np.nanmax(lon):g}, lat {np.nanmin(lat):g}..{np.nanmax(lat):g}); "
            "pass degrees (not projected metres), longitude before latitude"
        )
    return lon, lat


def _result(lon, lat, like: np.ndarray) -> tuple:
    """Return float64 arrays shaped like ``like``, or two numpy.float64 when ``like`` is 0-d."""
    lon = np.asarray(lon, dtype=np.float64).reshape(like.shape)
    lat = np.asarray(lat, dtype=np.float64).reshape(like.shape)
    if like.ndim == 0:
        return lon[()], lat[()]
    return lon, lat


# --------------------------------------------------------------------------- GCJ-02


def _outside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where the standard GCJ-02 algorithm leaves a point unshifted (NaN counts as inside)."""
    return (lon < _CHINA_LON_MIN) | (lon > _CHINA_LON_MAX) | (lat < _CHINA_LAT_MIN) | (lat > _CHINA_LAT_MAX)


def _gcj02_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 in degrees at WGS84 ``lon``/``lat``, without the China rectangle test."""
    x = lon - 105.0
    y = lat - 35.0
    # Terms shared by the two polynomials of the published algorithm.
    common = 0.1 * x * y + (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)) * 2.0 / 3.0
        + (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)) * 2.0 / 3.0
        + (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * 2.0 / 3.0
    )
    radlat = np.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _fixed_point_inverse(forward, target_lon, target_lat, lon, lat):
    """Solve ``forward(lon, lat) == target`` by ``guess -= forward(guess) - target``.

    Converges because every offset here changes by far less than a degree per degree. Stops when
    the largest residual is below ``_INVERSE_TOL_DEG`` or after ``_INVERSE_MAX_ITER`` steps.
    """
    for _ in range(_INVERSE_MAX_ITER):
        fwd_lon, fwd_lat = forward(lon, lat)
        err_lon = fwd_lon - target_lon
        err_lat = fwd_lat - target_lat
        lon = lon - err_lon
        lat = lat - err_lat
        worst = np.fmax(np.abs(err_lon), np.abs(err_lat))
        if worst.size == 0 or not np.any(worst >= _INVERSE_TOL_DEG):  # NaN never counts as worse
            break
    return lon, lat


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude to GCJ-02 (火星坐标, used by Amap/高德 and Tencent).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 (EPSG:4326) longitude and latitude in degrees. Any shapes that broadcast together.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        GCJ-02 longitude and latitude in degrees: float64 arrays of the broadcast shape, or two
        ``numpy.float64`` (a ``float`` subclass) when both inputs are scalars.
        NaN (or None) in, NaN out.

    Notes
    -----
    This is the standard published algorithm (Krasovsky 1940 ellipsoid). Like it, points outside
    the rectangle 72.004–137.8347°E, 0.8293–55.8271°N are returned unchanged. The rectangle is
    coarse: it includes e.g. Seoul and Ulaanbaatar (shifted) and excludes Tokyo (not shifted).
    Inside China the shift is a few hundred metres.

    Raises
    ------
    ValueError
        If the inputs are not numeric, lie outside ±180° / ±90°, or do not broadcast.
    """
    lon, lat = _lonlat_arrays(lon, lat)
    dlon, dlat = _gcj02_offset(lon, lat)
    outside = _outside_china(lon, lat)
    return _result(np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat), lon)


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude to WGS84, exactly inverting :func:`wgs84_to_gcj02`.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees. Any shapes that broadcast together.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        WGS84 (EPSG:4326) longitude and latitude in degrees: float64 arrays of the broadcast
        shape, or two ``numpy.float64`` when both inputs are scalars. NaN (or None) in, NaN out.

    Notes
    -----
    The common one-step inverse (subtract the offset computed at the GCJ-02 point) is off by
    up to ~6e-5° (several metres) across China. Here that estimate is refined by fixed-point
    iteration until ``wgs84_to_gcj02`` of the result reproduces the input within 1e-9°
    (3–4 steps).
    Points whose GCJ-02 input lies outside the China rectangle (see :func:`wgs84_to_gcj02`) are
    returned unchanged, as in the standard algorithm.

    Raises
    ------
    ValueError
        If the inputs are not numeric, lie outside ±180° / ±90°, or do not broadcast.
    """
    lon, lat = _lonlat_arrays(lon, lat)
    inside = ~_outside_china(lon, lat)
    gcj_lon, gcj_lat = lon[inside], lat[inside]

    def forward(guess_lon, guess_lat):
        # No rectangle test while iterating: a guess just across the border must still move.
        dlon, dlat = _gcj02_offset(guess_lon, guess_lat)
        return guess_lon + dlon, guess_lat + dlat

    dlon, dlat = _gcj02_offset(gcj_lon, gcj_lat)
    wgs_lon, wgs_lat = _fixed_point_inverse(forward, gcj_lon, gcj_lat, gcj_lon - dlon, gcj_lat - dlat)
    lon[inside] = wgs_lon
    lat[inside] = wgs_lat
    return _result(lon, lat, lon)


# --------------------------------------------------------------------------- BD-09


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude to BD-09 (百度坐标, Baidu Maps' BD09LL).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees. Any shapes that broadcast together.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        BD-09 longitude and latitude in degrees: float64 arrays of the broadcast shape, or two
        ``numpy.float64`` when both inputs are scalars. NaN (or None) in, NaN out.

    Notes
    -----
    The standard formula (``x_pi = π·3000/180``, then +0.0065° lon, +0.006° lat). As in the
    common implementations (coordtransform, eviltransform, gcoord) it has no China test: the
    Baidu offset (~1 km) is applied everywhere, so ``wgs84_to_bd09`` moves points outside China
    too, although ``wgs84_to_gcj02`` does not.

    Raises
    ------
    ValueError
        If the inputs are not numeric, lie outside ±180° / ±90°, or do not broadcast.
    """
    lon, lat = _lonlat_arrays(lon, lat)
    return _result(*_gcj02_to_bd09(lon, lat), lon)


def _gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 longitude/latitude to GCJ-02, exactly inverting :func:`gcj02_to_bd09`.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 (Baidu BD09LL) longitude and latitude in degrees. Shapes must broadcast.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        GCJ-02 longitude and latitude in degrees: float64 arrays of the broadcast shape, or two
        ``numpy.float64`` when both inputs are scalars. NaN (or None) in, NaN out.

    Notes
    -----
    Starts from the usual closed-form approximation (off by up to ~2e-6°) and refines it by
    fixed-point iteration until :func:`gcj02_to_bd09` reproduces the input within 1e-9°.
    Applied everywhere, like :func:`gcj02_to_bd09`.

    Raises
    ------
    ValueError
        If the inputs are not numeric, lie outside ±180° / ±90°, or do not broadcast.
    """
    lon, lat = _lonlat_arrays(lon, lat)
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gcj_lon, gcj_lat = _fixed_point_inverse(_gcj02_to_bd09, lon, lat, z * np.cos(theta), z * np.sin(theta))
    return _result(gcj_lon, gcj_lat, lon)


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude to BD-09: ``gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))``.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 (EPSG:4326) longitude and latitude in degrees. Shapes must broadcast.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        BD-09 longitude and latitude in degrees: float64 arrays of the broadcast shape, or two
        ``numpy.float64`` when both inputs are scalars. NaN (or None) in, NaN out.

    Notes
    -----
    Outside the China rectangle only the Baidu step moves the point (see :func:`gcj02_to_bd09`).
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 longitude/latitude to WGS84: ``gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))``.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 (Baidu BD09LL) longitude and latitude in degrees. Shapes must broadcast.

    Returns
    -------
    lon, lat : numpy.ndarray or numpy.float64
        WGS84 (EPSG:4326) longitude and latitude in degrees: float64 arrays of the broadcast
        shape, or two ``numpy.float64`` when both inputs are scalars.
        NaN (or None) in, NaN out. Both inverse steps are iterated to 1e-9°.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


# --------------------------------------------------------------------------- names


def normalise_crs_name(text) -> str:
    """Return the canonical name of a coordinate system written in one of its common spellings.

    Parameters
    ----------
    text : str
        A name as found in a data file or typed by a user: ``"WGS84"``, ``"wgs-84"``,
        ``"EPSG:4326"``, ``"gcj02"``, ``"GCJ-02"``, ``"火星坐标"``, ``"高德"``, ``"bd09"``,
        ``"BD-09"``, ``"百度"``, or any ``"EPSG:n"``. Case, spaces, ``-``, ``_`` and ``:`` are
        ignored.

    Returns
    -------
    str
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``; or ``"EPSG:n"`` for another EPSG code known to
        PROJ (EPSG:4326 itself gives ``"wgs84"``).

    Raises
    ------
    ValueError
        If ``text`` is not a string, or is not a known name or EPSG code.
    """
    if not isinstance(text, str):
        raise DataError(f"coordinate system name must be text, got {type(text).__name__}: {text!r}")
    key = re.sub(r"[\s\-_:]+", "", text).lower()
    if key in _ALIAS_TO_NAME:
        return _ALIAS_TO_NAME[key]
    match = _EPSG_PATTERN.match(key)
    if match:
        code = int(match.group(1))
        try:
            pyproj.CRS.from_epsg(code)
        except pyproj.exceptions.CRSError:
            raise data_error("crs_unknown_epsg", text=repr(text)) from None
        return f"EPSG:{code}"
    raise data_error("crs_unknown_name", text=repr(text), names=", ".join(CRS_NAMES))


def _chinese_crs_name(text, role: str) -> str:
    """Normalise ``text`` and check it is one of CRS_NAMES, naming ``role`` in the error."""
    try:
        name = normalise_crs_name(text)
    except ValueError as error:
        raise DataError(f"{role}: {error}") from None
    if name not in CRS_NAMES:
        raise DataError(
            f"{role} {text!r} is not a Chinese map datum this function converts; accepted: "
            f"{', '.join(CRS_NAMES)}. Reproject other CRSs with GeoSeries.to_crs instead"
        )
    return name


# --------------------------------------------------------------------------- geometries


def convert_geometries(geoms, source, target="wgs84"):
    """Convert every coordinate of shapely geometries between WGS84, GCJ-02 and BD-09.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or array_like of shapely geometries
        Geometries of any type (points, lines, polygons with holes, multi-parts, collections) in
        longitude/latitude degrees of ``source``. Missing values (None) stay missing; Z values
        are kept unchanged. For a GeoDataFrame, its active geometry column is converted.
    source, target : str
        Datum of the input and of the output: ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` in any
        spelling accepted by :func:`normalise_crs_name`. ``target`` defaults to WGS84, the
        project's storage CRS (EPSG:4326).

    Returns
    -------
    geopandas.GeoSeries or numpy.ndarray
        Same kind, length, index and geometry structure as ``geoms`` (ring and part counts are
        unchanged), with coordinates in ``target`` degrees. A GeoSeries converted to WGS84 gets
        ``crs`` EPSG:4326; otherwise its ``crs`` is kept (GCJ-02 and BD-09 have no EPSG code).

    Raises
    ------
    ValueError
        If ``source`` or ``target`` is not one of the three names, or a GeoSeries has a
        projected CRS (convert lon/lat data, before projecting to metres).
    """
    source = _chinese_crs_name(source, "source")
    target = _chinese_crs_name(target, "target")

    series = None
    if hasattr(geoms, "geometry") and hasattr(geoms, "crs"):
        series = geoms.geometry if hasattr(geoms, "columns") else geoms
        if series.crs is not None and not series.crs.is_geographic:
            raise DataError(
                f"geometries are in projected CRS {series.crs.to_string()}; WGS84/GCJ-02/BD-09 "
                "conversion works on longitude/latitude degrees, so convert before projecting"
            )
        array = np.asarray(series.values, dtype=object)
    else:
        array = np.asarray(geoms, dtype=object)

    if source == target:
        converted = array.copy()
    else:
        convert = _CONVERTERS[(source, target)]

        def transform_coords(coords: np.ndarray) -> np.ndarray:
            lon, lat = convert(coords[:, 0], coords[:, 1])
            out = coords.copy()
            out[:, 0] = lon
            out[:, 1] = lat
            return out

        # Two calls keep 3-D geometries 3-D without shapely>=2.1's include_z=None.
        converted = np.empty_like(array)
        has_z = shapely.has_z(array)
        converted[~has_z] = shapely.transform(array[~has_z], transform_coords, include_z=False)
        converted[has_z] = shapely.transform(array[has_z], transform_coords, include_z=True)

    if series is None:
        return converted
    crs = STORAGE_CRS if target == "wgs84" else series.crs
    return geopandas.GeoSeries(converted, index=series.index, crs=crs, name=series.name)


# --------------------------------------------------------------------------- metric CRS


def utm_crs_for(lon, lat) -> str:
    """Choose the UTM zone CRS (WGS84 datum, metres) that fits the given points.

    The project stores geometry in WGS84 longitude/latitude (EPSG:4326) and measures distances
    and areas in metres after projecting to this CRS. For Liuzhou (≈109.4°E, 24.3°N) it is
    EPSG:32649 (UTM zone 49N).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 longitude and latitude in degrees; NaNs are ignored.

    Returns
    -------
    str
        ``"EPSG:326zz"`` (northern hemisphere) or ``"EPSG:327zz"`` (southern), where ``zz`` is
        the zone of the mean longitude and the hemisphere that of the mean latitude. The
        Norway/Svalbard zone exceptions are not applied.

    Raises
    ------
    ValueError
        If there is no finite point, a value is outside ±180° / ±90° (projected data passed by
        mistake?), or the longitudes span more than 180° (data across the antimeridian have no
        single sensible UTM zone; split or reproject them yourself).
    """
    lon, lat = _lonlat_arrays(lon, lat)
    finite = np.isfinite(lon) & np.isfinite(lat)
    if not finite.any():
        raise DataError("no finite longitude/latitude to choose a UTM zone from; check the data is not empty")
    lon = lon[finite]
    lat = lat[finite]
    span = lon.max() - lon.min()
    if span > 180.0:
        raise DataError(
            f"longitudes span {span:.1f}° ({lon.min():g}..{lon.max():g}), across the antimeridian "
            "or half the globe; one UTM zone cannot measure these data, split them by region"
        )
    mean_lon = float(lon.mean())
    zone = int(np.floor((mean_lon + 180.0) / 6.0)) % 60 + 1
    hemisphere = 326 if float(lat.mean()) >= 0.0 else 327
    return f"EPSG:{hemisphere}{zone:02d}"


def metric_crs_for(gdf) -> str:
    """Choose the UTM CRS for measuring a GeoDataFrame or GeoSeries in metres.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
        Data with a CRS set; normally EPSG:4326 (WGS84 degrees), the project's storage CRS.
        Other CRSs are reprojected to EPSG:4326 to find the zone.

    Returns
    -------
    str
        ``"EPSG:326zz"`` / ``"EPSG:327zz"`` chosen by :func:`utm_crs_for` from the centre of the
        total bounds, e.g. ``"EPSG:32649"`` for Liuzhou. Use ``gdf.to_crs(metric_crs_for(gdf))``.

    Raises
    ------
    ValueError
        If ``gdf`` has no CRS, has no non-empty geometry, or spans the antimeridian.
    """
    if gdf.crs is None:
        raise DataError(f"data have no CRS; set it first, e.g. gdf.set_crs('{STORAGE_CRS}') for longitude/latitude")
    geographic = gdf if is_storage_crs(gdf.crs) else gdf.to_crs(STORAGE_CRS)
    minx, miny, maxx, maxy = geographic.total_bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        raise DataError("no non-empty geometry to choose a UTM zone from; check the data is not empty")
    return utm_crs_for([minx, maxx], [miny, maxy])
