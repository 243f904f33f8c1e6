"""Public sites as candidate locations: which can host a set, every reason why the others cannot, and the cost.

Rules (thresholds from ``config.toml``'s ``[sites]``); several reasons can apply to one site:

=================  ===================================================================
reason code        applies when
=================  ===================================================================
``too_small``      the usable area is below one set's footprint
                   (``sites.min_usable_area_m2``, default 150 m², as for communities)
``no_consent``     the owner or manager said no (``consent`` is ``"no"``)
``hosts_a_set``    a fitness path stands inside the site's polygon or within
                   :data:`HOSTS_DISTANCE_M` (10 m) of the site
``area_unknown``   the usable area is missing: to be measured before the site can count
=================  ===================================================================

A site is ``eligible`` when no reason applies. A consent that is ``"unknown"`` is no reason: the
site stays eligible and is flagged ``consent_unknown`` (the owner must be asked before building).
Its cost is a set's (``cost.set_cost_cny``) plus its kind's extra (``sites.extra_cost_cny``:
surfacing, paving or fencing).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.eligibility import REASON_SEPARATOR
from geo.config import Config
from geo.data.crs import metric_crs_for

SITE_REASONS = ("too_small", "no_consent", "hosts_a_set", "area_unknown")
HOSTS_DISTANCE_M = 10.0
"""A fitness path this close to a site (metres, or inside its polygon) means the site already hosts a set."""


def hosts_a_set(sites: gpd.GeoDataFrame, fitness_paths: gpd.GeoDataFrame | None, metric_crs: str) -> np.ndarray:
    """Whether a fitness path stands inside each site or within :data:`HOSTS_DISTANCE_M` of it (bool array).

    Both layers are measured in ``metric_crs`` (a UTM zone, metres); rows without geometry host nothing.
    """
    hosts = np.zeros(len(sites), dtype=bool)
    if fitness_paths is None or len(fitness_paths) == 0 or len(sites) == 0:
        return hosts
    site_geometry = sites.geometry.to_crs(metric_crs).reset_index(drop=True)
    path_geometry = fitness_paths.geometry.to_crs(metric_crs)
    path_geometry = path_geometry[path_geometry.notna() & ~path_geometry.is_empty].reset_index(drop=True)
    if len(path_geometry) == 0:
        return hosts
    site_rows, _ = path_geometry.sindex.query(site_geometry, predicate="dwithin", distance=HOSTS_DISTANCE_M)
    hosts[np.unique(site_rows)] = True
    return hosts


def _codes(sites: pd.DataFrame, column: str, default: str) -> pd.Series:
    """The codes of ``column`` as text, a missing cell (or column) as ``default``."""
    if column not in sites.columns:
        return pd.Series(default, index=sites.index, dtype="string")
    return sites[column].astype("string").fillna(default)


def assess_sites(
    sites: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame | None,
    config: Config,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Add ``eligible``, ``reasons``, ``consent_unknown`` and ``cost_cny`` to public sites.

    Parameters
    ----------
    sites : GeoDataFrame
        Public sites as :func:`geo.data.io.read_public_sites` returns them (EPSG:4326, points or
        polygons): ``kind`` and ``consent`` codes (missing reads as ``"other"`` / ``"unknown"``),
        ``usable_area_m2`` in m² (missing = unknown).
    fitness_paths : GeoDataFrame or None
        Existing sets (points, EPSG:4326 or any CRS set); None or empty means none.
    config : Config
        ``site_min_usable_area_m2`` (m²), ``set_cost_cny`` and ``site_extra_cost_cny`` (yuan per kind;
        a kind not listed adds 0).
    metric_crs : str, optional
        The CRS distances are measured in (metres); by default the sites' UTM zone
        (:func:`geo.data.crs.metric_crs_for`).

    Returns
    -------
    GeoDataFrame
        A copy with ``eligible`` (bool), ``reasons`` (codes of :data:`SITE_REASONS` joined by ``;``,
        empty when eligible), ``consent_unknown`` (bool) and ``cost_cny`` (int, yuan).
    """
    result = sites.copy()
    kind, consent = _codes(result, "kind", "other"), _codes(result, "consent", "unknown")
    area = pd.to_numeric(result.get("usable_area_m2", pd.Series(np.nan, index=result.index)), errors="coerce")
    area = area.astype("float64").to_numpy()
    has_geometry = len(result) > 0 and bool((result.geometry.notna() & ~result.geometry.is_empty).any())
    if metric_crs is None and has_geometry:
        metric_crs = metric_crs_for(result)
    flags = {
        "too_small": ~np.isnan(area) & (area < config.site_min_usable_area_m2),
        "no_consent": (consent == "no").to_numpy(dtype=bool),
        "hosts_a_set": hosts_a_set(result, fitness_paths, metric_crs) if has_geometry else np.zeros(len(result), bool),
        "area_unknown": np.isnan(area),
    }
    codes = [REASON_SEPARATOR.join(code for code in SITE_REASONS if flags[code][row]) for row in range(len(result))]
    result["reasons"] = pd.Series(codes, index=result.index, dtype="string")
    result["eligible"] = ~np.logical_or.reduce([flags[code] for code in SITE_REASONS])
    result["consent_unknown"] = (consent == "unknown").to_numpy(dtype=bool)
    extra = kind.map(lambda k: config.site_extra_cost_cny.get(k, 0)).astype("int64")
    result["cost_cny"] = (config.set_cost_cny + extra).to_numpy(dtype="int64")
    return result
