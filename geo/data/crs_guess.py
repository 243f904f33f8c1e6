"""Guess the coordinate system of coordinates that name none, from their ranges (degrees or Gauss–Krüger metres).

Chinese official data (natural-resources bureaus) come in CGCS2000 Gauss–Krüger metres: 3° zones
25–45 (central meridians 75°E … 135°E) or 6° zones 13–23, the easting either prefixed with the
zone number (zone 36: 36 500 000 m on the central meridian 108°E, EPSG:4524) or bare (500 000 m,
EPSG:4545, "CM 108E"). A prefixed easting names its zone, so its CRS is certain up to the datum
(CGCS2000, Xi'an 1980 and Beijing 1954 share the zoning); a bare easting does not name its
central meridian, so the guess only ranks candidates. Chinese surveys call the northing X and the
easting Y: a file whose first column holds northings is recognised as swapped.

EPSG codes (checked against PROJ in ``tests/test_crs_official.py``): CGCS2000 3° zone z is
EPSG:(4513 + z − 25), 3° CM c°E is EPSG:(4534 + (c − 75)/3); 6° zone z is EPSG:(4491 + z − 13),
6° CM c°E is EPSG:(4502 + (c − 75)/6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geo.errors import Message

# Longitude/latitude of China (mainland, Hainan, Taiwan, the Paracel Islands), in degrees.
CHINA_LON_DEG = (73.0, 136.0)
CHINA_LAT_DEG = (15.0, 54.0)
# A Gauss–Krüger easting without its zone prefix, in metres: 500 000 m on the central meridian,
# ±3° of longitude (a 6° zone's edge) at the equator at most.
EASTING_M = (166_000.0, 834_000.0)
# Gauss–Krüger northings (metres from the equator) of China's latitudes CHINA_LAT_DEG, widened a little.
NORTHING_M = (1_600_000.0, 6_000_000.0)
ZONE_FACTOR_M = 1_000_000.0

THREE_DEGREE_ZONES = range(25, 46)  # central meridian 3·z °E: 75 … 135
SIX_DEGREE_ZONES = range(13, 24)  # central meridian 6·z − 3 °E: 75 … 135
_METRES_PER_DEGREE = 111_320.0  # along the equator; along a meridian ≈ 110 900 m


@dataclass(frozen=True)
class CrsGuess:
    """What the coordinates of a file look like.

    Attributes
    ----------
    crs : str or None
        ``"wgs84"`` (longitude/latitude degrees in China), ``"EPSG:n"`` (a CGCS2000 Gauss–Krüger
        zone named by the eastings' prefix), or None when it cannot be decided.
    certain : bool
        True only for a zone named by the prefix of every easting.
    swapped : bool
        The first coordinate holds northings (latitudes) and the second eastings (longitudes).
    message : geo.errors.Message
        What was guessed and why (``crs_guess_*`` of the ``[message]`` table).
    candidates : tuple of str
        EPSG codes to offer the user, the likeliest first; empty for degrees and for
        coordinates that look like nothing known.
    """

    crs: str | None
    certain: bool
    swapped: bool
    message: Message
    candidates: tuple = ()


def three_degree_zone_code(zone: int) -> str:
    """``"EPSG:n"`` of CGCS2000 / 3-degree Gauss-Kruger zone ``zone`` (25–45, CM ``3·zone`` °E, easting prefixed)."""
    return f"EPSG:{4513 + zone - THREE_DEGREE_ZONES.start}"


def six_degree_zone_code(zone: int) -> str:
    """``"EPSG:n"`` of CGCS2000 / Gauss-Kruger zone ``zone`` (13–23, CM ``6·zone − 3`` °E, easting prefixed)."""
    return f"EPSG:{4491 + zone - SIX_DEGREE_ZONES.start}"


def three_degree_cm_code(central_meridian: int) -> str:
    """``"EPSG:n"`` of CGCS2000 / 3-degree Gauss-Kruger CM ``central_meridian`` E (75–135 by 3; bare easting)."""
    return f"EPSG:{4534 + (central_meridian - 75) // 3}"


def six_degree_cm_code(central_meridian: int) -> str:
    """``"EPSG:n"`` of CGCS2000 / Gauss-Kruger CM ``central_meridian`` E (75–135 by 6; bare easting)."""
    return f"EPSG:{4502 + (central_meridian - 75) // 6}"


# Every CGCS2000 Gauss–Krüger code the guess may offer -> (zone width in degrees, central meridian °E, zone or None).
OFFICIAL_CODES = {
    **{three_degree_zone_code(z): (3, 3 * z, z) for z in THREE_DEGREE_ZONES},
    **{six_degree_zone_code(z): (6, 6 * z - 3, z) for z in SIX_DEGREE_ZONES},
    **{three_degree_cm_code(c): (3, c, None) for c in range(75, 136, 3)},
    **{six_degree_cm_code(c): (6, c, None) for c in range(75, 136, 6)},
}


def describe(code: str) -> Message:
    """``code`` with its zone width and central meridian, said in any language (a code of :data:`OFFICIAL_CODES`)."""
    width, meridian, zone = OFFICIAL_CODES[code]
    if zone is None:
        return Message("crs_candidate", code=code, width=width, cm=meridian)
    return Message("crs_candidate_zone", code=code, width=width, cm=meridian, zone=zone)


def guess_crs(x, y, near_lon: float | None = None) -> CrsGuess:
    """Guess the coordinate system of a file's coordinates from their ranges.

    Parameters
    ----------
    x, y : array_like of float
        The first and second coordinate of each row (e.g. the first vertex of each geometry), in
        the file's own unknown units. Rows where either is NaN are ignored.
    near_lon : float, optional
        Longitude in degrees (WGS84) where the data should lie, e.g. the centre of the city they
        are imported into; ranks the candidate central meridians of bare eastings.

    Returns
    -------
    CrsGuess
        - most rows (:data:`MOST_ROWS`) degrees in China (lon 73–136, lat 15–54; or lat/lon swapped): ``"wgs84"``,
          not certain (GCJ-02 and BD-09 have the same ranges);
        - most rows a Gauss–Krüger easting/northing (northing 1.6–6 million m; easting 166–834 km,
          optionally prefixed by a zone number 25–45 (3°) or 13–23 (6°)), in either column order:
          one prefix common to most rows: that zone's CGCS2000 code, certain; different prefixes:
          None, the zones found as candidates; no prefix: None, the CGCS2000 "CM" codes as
          candidates (3° then 6°, or with ``near_lon`` ordered by how far from it the data would
          lie under each central meridian, the 3° one first on a tie);
        - anything else (no rows, a mixture, other units): None, no candidates.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if not x.size:
        return CrsGuess(None, False, False, Message("crs_guess_empty"))
    # Most rows, not every row: one mistyped row must not hide what the file is (it is then
    # rejected on its own, as outside the city).
    for swapped, (lon, lat) in ((False, (x, y)), (True, (y, x))):
        fits = _degrees(lon, lat)
        if _most(fits):
            lon, lat = lon[fits], lat[fits]
            guess = CrsGuess("wgs84", False, swapped, Message("crs_guess_wgs84", x=_span(lon, "g"), y=_span(lat, "g")))
            return _said_swapped(guess)
    for swapped, (east, north) in ((False, (x, y)), (True, (y, x))):
        fits = _eastings(east) & _northings(north)
        if _most(fits):
            return _said_swapped(_gauss_kruger(east[fits], north[fits], swapped, near_lon))
    return CrsGuess(None, False, False, Message("crs_guess_unknown", x=_span(x, ",.0f"), y=_span(y, ",.0f")))


def first_coordinates(geometry) -> tuple[np.ndarray, np.ndarray]:
    """The x and y of the first vertex of each geometry, NaN where it is missing or empty.

    Parameters
    ----------
    geometry : array_like of shapely geometries
        In any CRS; the coordinates are returned as they are.

    Returns
    -------
    x, y : numpy.ndarray of float
        One value per geometry, for :func:`guess_crs`.
    """
    geometry = np.asarray(geometry, dtype=object)
    x = np.full(len(geometry), np.nan)
    y = np.full(len(geometry), np.nan)
    coordinates, index = shapely.get_coordinates(geometry, return_index=True)
    if index.size:
        first = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
        x[index[first]] = coordinates[first, 0]
        y[index[first]] = coordinates[first, 1]
    return x, y


# The share of rows that must agree for a guess; the others are left to the row checks.
MOST_ROWS = 0.9


def _most(fits: np.ndarray) -> bool:
    """Whether at least :data:`MOST_ROWS` of the rows (and always all of one or two) fit."""
    return bool(fits.size) and fits.sum() >= max(MOST_ROWS * fits.size, min(fits.size, 2))


def _degrees(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= CHINA_LON_DEG[0]) & (lon <= CHINA_LON_DEG[1]) & (lat >= CHINA_LAT_DEG[0]) & (lat <= CHINA_LAT_DEG[1])


def _zone_prefix(east: np.ndarray) -> np.ndarray:
    return np.floor(east / ZONE_FACTOR_M).astype(np.int64)


def _eastings(east: np.ndarray) -> np.ndarray:
    """Values that are a Gauss–Krüger easting, bare or prefixed by a Chinese zone number."""
    prefix = _zone_prefix(east)
    bare = east - prefix * ZONE_FACTOR_M
    known = (prefix == 0) | np.isin(prefix, THREE_DEGREE_ZONES) | np.isin(prefix, SIX_DEGREE_ZONES)
    return known & (bare >= EASTING_M[0]) & (bare <= EASTING_M[1])


def _northings(north: np.ndarray) -> np.ndarray:
    return (north >= NORTHING_M[0]) & (north <= NORTHING_M[1])


def _gauss_kruger(east: np.ndarray, north: np.ndarray, swapped: bool, near_lon: float | None) -> CrsGuess:
    """The guess for Gauss–Krüger metres: the zone of a common prefix, else candidates."""
    zones = _zone_prefix(east)
    values, counts = np.unique(zones, return_counts=True)
    prefixes = (
        [int(values[counts.argmax()])] if _most(zones == values[counts.argmax()]) else sorted(set(zones.tolist()))
    )
    if prefixes == [0]:
        candidates = _cm_candidates(east, north, near_lon)
        message = Message("crs_guess_bare", east=_span(east, ",.0f"), north=_span(north, ",.0f"))
        return CrsGuess(None, False, swapped, message, candidates)
    codes = tuple(_zone_code(zone) for zone in prefixes if zone)
    if len(prefixes) == 1:
        width, meridian, zone = OFFICIAL_CODES[codes[0]]
        message = Message("crs_guess_zone", code=codes[0], width=width, cm=meridian, zone=zone)
        return CrsGuess(codes[0], True, swapped, message, codes)
    zones = ", ".join(str(zone) if zone else "—" for zone in prefixes)
    return CrsGuess(None, False, swapped, Message("crs_guess_mixed_zones", zones=zones), codes)


def _zone_code(zone: int) -> str:
    return three_degree_zone_code(zone) if zone in THREE_DEGREE_ZONES else six_degree_zone_code(zone)


def _cm_candidates(east: np.ndarray, north: np.ndarray, near_lon: float | None) -> tuple:
    """CGCS2000 "CM" codes for bare eastings: 3° then 6°, or ranked by the longitude each gives the data.

    The data's longitude under central meridian c is about c + (easting − 500 km) / (111.32 km ·
    cos latitude), latitude ≈ northing / 110.9 km: close enough to rank central meridians 3° apart.
    """
    three = [(3, c, three_degree_cm_code(c)) for c in range(75, 136, 3)]
    six = [(6, c, six_degree_cm_code(c)) for c in range(75, 136, 6)]
    if near_lon is None:
        return tuple(code for _, _, code in three + six)
    latitude = np.radians(float(np.median(north)) / 110_900.0)
    offset = (float(np.median(east)) - 500_000.0) / (_METRES_PER_DEGREE * np.cos(latitude))
    ranked = sorted(three + six, key=lambda item: (round(abs(item[1] + offset - near_lon), 6), item[0]))
    return tuple(code for _, _, code in ranked)


def _said_swapped(guess: CrsGuess) -> CrsGuess:
    if not guess.swapped:
        return guess
    key = "crs_guess_swapped_degrees" if guess.crs == "wgs84" else "crs_guess_swapped"
    return CrsGuess(guess.crs, guess.certain, True, Message(key, guess=guess.message), guess.candidates)


def _span(values: np.ndarray, spec: str) -> str:
    low, high = float(np.min(values)), float(np.max(values))
    return format(low, spec) if low == high else f"{low:{spec}}–{high:{spec}}"
