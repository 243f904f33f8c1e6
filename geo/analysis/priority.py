"""Priority: a transparent 0–100 score per community from weighted, separately kept components.

Each component is normalised to 0–1 and kept as its own column ``c_<name>``, so a district
office can see exactly why one community ranks above another:

=============================  ==========================================================
component                      value (0–1)
=============================  ==========================================================
``population``                 residents ÷ the largest community's residents (city-wide)
``elderly_and_children``       share aged 60+ plus share under 14 (the residents asked for
                               equipment suited to the elderly and children), capped at 1
``distance_to_nearest_set``    distance to the nearest existing set ÷ ``distance_cap_m``,
                               capped at 1 (1 when there is no set at all)
``old_community``              1 when built before ``old_before_year`` (老旧小区), 0 when
                               built that year or later, and 0.5 (:data:`OLD_UNKNOWN`) when
                               the built year is unknown
``application_received``       1 when the community applied through its district office
``neighbours_unserved``        residents of *other* communities not served within the walk
                               radius that a set here would bring within it, ÷ the city's
                               largest such number
``landless_reached``           residents of *other* land-less communities (not served within
                               the walk radius, and unable to host a set: no open space, or
                               it is used for parking) that a set here would bring within
                               it, ÷ the city's largest such number. The component that lets
                               a public site (:mod:`geo.analysis.sites`) compete: a site has
                               no residents of its own, and is there for these.
=============================  ==========================================================

``priority_score = 100 × Σ wₖ·cₖ / Σ wₖ`` with the weights of ``config.toml`` (a config without a
``landless_reached`` weight weighs it 0). Missing inputs
count as 0 for their component (and are reported by eligibility), except the built year: a
community whose built year is unknown (an empty cell, or no ``built_year`` column at all) is
neither counted as old nor as new, and scores the neutral 0.5 halfway between them; tables and
tooltips show its old-community status as 未知 / unknown. A frame without ``share_60plus`` /
``share_under14`` columns counts them as missing (0). ``priority_score`` is given only to eligible
communities (missing for the others: they cannot be picked); ``priority_rank`` orders the eligible
communities by score, ties broken by ``community_id``: the same inputs always give the same order.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.coverage import CoverageRelation, candidate_sites, coverage_pair_batches, coverage_pairs
from geo.analysis.eligibility import LAND_REASONS, has_reason
from geo.config import Config
from geo.data.crs import metric_crs_for
from geo.data.schema import PRIORITY_COMPONENTS
from geo.errors import DataError

COMPONENTS = PRIORITY_COMPONENTS  # the names live in geo.data.schema: geo.config checks them too
# The old-community component of a community whose built year is unknown: between new (0) and old (1).
OLD_UNKNOWN = 0.5


def check_weights(weights: dict[str, float]) -> dict[str, float]:
    """Every component's weight (absent ones 0); unknown names or no positive weight raise ValueError."""
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        raise DataError(f"unknown priority weight(s) {', '.join(unknown)}; known: {', '.join(COMPONENTS)}")
    full = {name: float(weights.get(name, 0.0)) for name in COMPONENTS}
    if any(w < 0 for w in full.values()) or sum(full.values()) <= 0:
        raise DataError("priority weights must be ≥ 0 and at least one must be positive")
    return full


def neighbours_unserved_population(
    assessed: gpd.GeoDataFrame,
    walk_radius_m: float,
    metric_crs=None,
    *,
    max_pairs: int | None = None,
    relation: CoverageRelation | None = None,
    network=None,
) -> np.ndarray:
    """Residents of other not-served-within-radius communities within the walk radius of each site.

    The site of a new set is the community's ``point_on_surface`` (see
    :func:`geo.analysis.coverage.candidate_sites`); distances in metres in ``metric_crs`` (default: the
    data's UTM zone). Returns one integer per row of ``assessed``. ``max_pairs``: most (site,
    community) pairs to consider (``Config.max_pairs``; None for no limit); above it
    :class:`geo.analysis.coverage.PairLimitError` (a ValueError) is raised. ``relation``: the
    run's shared :class:`geo.analysis.coverage.CoverageRelation` of ``assessed`` at this walk
    radius, read instead of projecting and querying again (the same result). ``network``: the radius is
    walked along this :class:`geo.analysis.network.WalkNetwork` (in ``metric_crs``) instead.
    """
    return reached_residents(
        assessed, walk_radius_m, metric_crs, max_pairs=max_pairs, relation=relation, network=network
    )[0]


def landless(assessed: pd.DataFrame) -> np.ndarray:
    """Communities that cannot host a set for want of land and are not served within the walk radius (bool).

    "Land-less": not eligible for a land reason (:data:`geo.analysis.eligibility.LAND_REASONS`: no open
    space, or the public space is used for parking) — the seed's old communities that only a set
    nearby, in a community or a public site, can serve.
    """
    if not len(assessed) or "reasons" not in assessed.columns:
        return np.zeros(len(assessed), dtype=bool)  # eligibility not assessed: no land reason known
    land = np.logical_or.reduce([has_reason(assessed, code) for code in LAND_REASONS])
    return land & ~assessed["served_within_radius"].to_numpy(dtype=bool)


def reached_residents(
    assessed: gpd.GeoDataFrame,
    walk_radius_m: float,
    metric_crs=None,
    *,
    max_pairs: int | None = None,
    relation: CoverageRelation | None = None,
    network=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per community: residents of *other* unserved communities, and of other land-less ones, a set there would reach.

    Returns ``(neighbours_unserved, landless_reached)``, integers per row of ``assessed``; see
    :func:`neighbours_unserved_population` for the site, the distances and ``max_pairs`` /
    ``relation``, and :func:`landless` for which communities are land-less (a subset of the unserved).
    """
    n = len(assessed)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Only unserved communities count, so only they go into the relation (few in a served city).
    unserved = np.flatnonzero(~assessed["served_within_radius"].to_numpy(dtype=bool))
    population = assessed["population"].fillna(0).to_numpy(dtype=np.int64)
    landless_population = np.where(landless(assessed), population, 0)
    reached = np.zeros(n, dtype=np.int64)
    reached_landless = np.zeros(n, dtype=np.int64)
    if relation is not None:
        distance = "straight" if network is None else "network"
        relation.check(assessed, walk_radius_m, "assessed communities", metric_crs, distance)
        batches = relation.pair_batches(np.arange(n), unserved, max_pairs=max_pairs)
    else:
        metric_crs = network.metric_crs if network is not None else metric_crs or metric_crs_for(assessed)
        polygons_m = assessed.geometry.to_crs(metric_crs).values
        sites = candidate_sites(polygons_m)
        if network is not None:
            batches = [coverage_pairs(sites, polygons_m[unserved], walk_radius_m, max_pairs=max_pairs, network=network)]
        else:
            batches = coverage_pair_batches(sites, polygons_m[unserved], walk_radius_m, max_pairs=max_pairs)
    # Summed batch by batch: the whole relation is never held at once.
    for site_idx, local in batches:
        demand_idx = unserved[local]
        keep = site_idx != demand_idx
        site_idx, demand_idx = site_idx[keep], demand_idx[keep]
        reached += np.bincount(site_idx, weights=population[demand_idx], minlength=n).astype(np.int64)
        reached_landless += np.bincount(site_idx, weights=landless_population[demand_idx], minlength=n).astype(np.int64)
    return reached, reached_landless


def priority_scores(
    assessed: gpd.GeoDataFrame,
    config: Config,
    metric_crs=None,
    relation: CoverageRelation | None = None,
    network=None,
) -> gpd.GeoDataFrame:
    """Add the components ``c_*``, ``neighbours_unserved_population``, ``priority_score`` and ``priority_rank``.

    Parameters
    ----------
    assessed : GeoDataFrame
        Output of :func:`geo.analysis.eligibility.assess_eligibility` (EPSG:4326).
    config : Config
        Priority weights, ``distance_cap_m`` (m), ``old_before_year``, ``walk_radius_m`` (m),
        ``max_pairs`` (the bound on the "unserved neighbours" relation).
    metric_crs : CRS or str, optional
        Projected CRS for distances (default: the data's UTM zone).
    relation : CoverageRelation, optional
        The run's shared relation (see :func:`neighbours_unserved_population`).
    network : geo.analysis.network.WalkNetwork, optional
        The walk network when ``config.distance`` is "network" (unserved neighbours are counted on foot;
        ``nearest_set_m`` is whatever coverage measured).

    Returns
    -------
    GeoDataFrame
        A copy with the components (0–1), ``priority_score`` (0–100) and ``priority_rank``
        (1 = first among eligible communities; missing for ineligible ones). The same as
        :func:`weighted_priority` of :func:`priority_components`.
    """
    check_weights(config.priority_weights)
    return weighted_priority(
        priority_components(assessed, config, metric_crs, relation, network), config.priority_weights, copy=False
    )


def priority_components(
    assessed: gpd.GeoDataFrame,
    config: Config,
    metric_crs=None,
    relation: CoverageRelation | None = None,
    network=None,
) -> gpd.GeoDataFrame:
    """Everything of :func:`priority_scores` but the weights: a copy of ``assessed`` with the components ``c_*``
    (0–1), ``neighbours_unserved_population`` and ``landless_reached_population`` (residents).

    A weight change needs only :func:`weighted_priority` of this (the app keeps it across weight changes);
    ``config``'s weights are not read. Arguments as :func:`priority_scores`'s.
    """
    result = assessed.copy()
    population = _numbers(result, "population", 0.0)
    share = _numbers(result, "share_60plus", 0.0) + _numbers(result, "share_under14", 0.0)
    distance = result["nearest_set_m"].to_numpy(dtype=float)
    built = _numbers(result, "built_year", np.nan)
    neighbours, landless_reached = reached_residents(
        result, config.walk_radius_m, metric_crs, max_pairs=config.max_pairs, relation=relation, network=network
    )

    components = {
        "population": _share_of_max(population),
        "elderly_and_children": np.clip(share, 0.0, 1.0),
        "distance_to_nearest_set": np.where(
            np.isnan(distance), 1.0, np.clip(distance / config.distance_cap_m, 0.0, 1.0)
        ),
        "old_community": old_community(built, config.old_before_year),
        "application_received": result["applied"].to_numpy(dtype=bool).astype(float),
        "neighbours_unserved": _share_of_max(neighbours.astype(float)),
        "landless_reached": _share_of_max(landless_reached.astype(float)),
    }
    for name in COMPONENTS:
        result[f"c_{name}"] = components[name]
    result["neighbours_unserved_population"] = neighbours
    result["landless_reached_population"] = landless_reached
    return result


def weighted_score(frame: pd.DataFrame, weights: dict[str, float]) -> np.ndarray:
    """The priority score (0–100) of each row of ``frame`` from its components ``c_*`` (0–1) and ``weights``
    (checked by :func:`check_weights`): 100 × Σ weight × component ÷ Σ weights; NaN where ``eligible`` is
    false (only a candidate that can be picked has a score). Communities and public sites alike."""
    weights = check_weights(weights)
    score = np.zeros(len(frame))
    for name in COMPONENTS:
        score += weights[name] * frame[f"c_{name}"].to_numpy(dtype=float)
    eligible = frame["eligible"].to_numpy(dtype=bool) if len(frame) else np.zeros(0, dtype=bool)
    return np.where(eligible, 100.0 * score / sum(weights.values()), np.nan)


def weighted_priority(components: gpd.GeoDataFrame, weights: dict[str, float], copy: bool = True) -> gpd.GeoDataFrame:
    """:func:`priority_components` output with ``priority_score`` (0–100, :func:`weighted_score`) and
    ``priority_rank`` (1 = first among eligible communities; missing for ineligible ones) for ``weights``.

    ``components`` is left as it is (a copy is scored) unless ``copy`` is false."""
    result = components.copy() if copy else components
    result["priority_score"] = weighted_score(result, weights)
    result["priority_rank"] = _rank_eligible(result)
    return result


def old_community(built_year: np.ndarray, old_before_year: int) -> np.ndarray:
    """The old-community component: 1 built before ``old_before_year``, 0 after, :data:`OLD_UNKNOWN` when unknown.

    ``built_year``: years as floats, NaN where unknown.
    """
    return np.where(np.isnan(built_year), OLD_UNKNOWN, (built_year < old_before_year).astype(float))


def _numbers(frame: pd.DataFrame, column: str, missing: float) -> np.ndarray:
    """``frame[column]`` as floats, ``missing`` where a cell is empty or the column is absent."""
    if column not in frame.columns:
        return np.full(len(frame), missing, dtype=float)
    values = pd.to_numeric(frame[column], errors="coerce").astype("Float64")
    return values.to_numpy(dtype=float, na_value=missing)


def priority_order(scored: pd.DataFrame) -> np.ndarray:
    """Row positions of the eligible communities, best first (score desc, then ``community_id``)."""
    eligible = np.flatnonzero(scored["eligible"].to_numpy(dtype=bool))
    keys = scored.iloc[eligible]
    order = np.lexsort((keys["community_id"].astype(str).to_numpy(), -keys["priority_score"].to_numpy(dtype=float)))
    return eligible[order]


def _rank_eligible(scored: pd.DataFrame) -> pd.Series:
    rank = pd.Series(pd.NA, index=scored.index, dtype="Int64")
    rank.iloc[priority_order(scored)] = np.arange(1, int(scored["eligible"].sum()) + 1)
    return rank


def _share_of_max(values: np.ndarray) -> np.ndarray:
    """values ÷ max(values), 0 when all are 0."""
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)
