"""Values a community survey may lack, estimated by documented rules and flagged as estimates.

``population_source`` says where each community's population came from:

``surveyed``    given in the file
``households``  households × ``[intake] persons_per_household`` (rounded to whole residents)
``area``        the community's land area in hectares × ``[intake] residents_per_hectare``
                (its polygon's area, measured in the city's UTM zone; a point-only community's
                approximate footprint counts as its area)

A community with neither population, households nor an area keeps no population (missing).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.data.crs import metric_crs_for

POPULATION_SOURCES = ("surveyed", "households", "area")
SOURCE_COLUMN = "population_source"
# No community's population is above this (residents); see geo.intake.validate.UPPER_LIMITS.
MAX_POPULATION = 10_000_000


def estimate_population(
    communities: gpd.GeoDataFrame,
    persons_per_household: float,
    residents_per_hectare: float,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """``communities`` with every missing ``population`` estimated, and ``population_source``.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        EPSG:4326 communities; ``population`` and ``households`` (residents, households) may be
        missing or absent.
    persons_per_household : float
        Residents per household, for a community with households but no population.
    residents_per_hectare : float
        Residents per hectare of land (10,000 m²), for a community with neither.
    metric_crs : str, optional
        The metric CRS to measure areas in (default: the communities' UTM zone).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy: ``population`` (Int64) filled where a rule applies; ``population_source``
        (string: one of :data:`POPULATION_SOURCES`, missing where no rule applies).
    """
    out = communities.copy()
    n = len(out)
    population = _numbers(out, "population")
    households = _numbers(out, "households")
    source = pd.Series(pd.NA, index=out.index, dtype="string")
    surveyed = ~np.isnan(population)
    source[surveyed] = "surveyed"

    from_households = ~surveyed & (households > 0)
    population = np.where(from_households, np.round(households * persons_per_household), population)
    source[from_households] = "households"

    needs_area = ~surveyed & ~from_households
    has_shape = ~(out.geometry.isna() | out.geometry.is_empty).to_numpy()
    if (needs_area & has_shape).any():
        crs = metric_crs or metric_crs_for(out[has_shape])
        area_m2 = np.zeros(n)
        area_m2[has_shape] = out.geometry[has_shape].to_crs(crs).area.to_numpy()
        from_area = needs_area & has_shape & (area_m2 > 0)
        population = np.where(from_area, np.round(area_m2 / 10_000 * residents_per_hectare), population)
        source[from_area] = "area"
    # Validation rejects such values; a frame from elsewhere (or a huge households × rate) still never
    # gives a negative population or one that Int64 (or a later sum) cannot hold.
    with np.errstate(invalid="ignore"):
        impossible = ~np.isnan(population) & ((population < 0) | (population > MAX_POPULATION))
    population = np.where(impossible, np.nan, population)
    source[impossible] = pd.NA
    out["population"] = pd.array(np.where(np.isnan(population), pd.NA, population), dtype="Float64").astype("Int64")
    out = file_source_aside(out)
    out[SOURCE_COLUMN] = source
    return out


def file_source_aside(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the file's own ``population_source`` column, if it holds any value, renamed
    ``population_source (file)`` (``(file 2)`` … when taken), so that ours does not overwrite it."""
    if SOURCE_COLUMN not in frame.columns:
        return frame
    text = frame[SOURCE_COLUMN].astype("string").str.strip()
    if not (text.notna() & (text != "")).any():
        return frame.drop(columns=SOURCE_COLUMN)
    taken, name, number = {str(c) for c in frame.columns}, f"{SOURCE_COLUMN} (file)", 2
    while name in taken:
        name, number = f"{SOURCE_COLUMN} (file {number})", number + 1
    return frame.rename(columns={SOURCE_COLUMN: name})


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column]`` as float64 (NaN where missing or absent)."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
