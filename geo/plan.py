"""Budget plans: run programmes in sequence (coverage → eligibility → priority → allocation).

The second programme treats the first one's picks as existing sets: coverage, eligibility and
priority are recomputed with them before it allocates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.coverage import CityGeometry, CoverageRelation, add_fitness_paths, candidate_sites, community_coverage
from geo.analysis.eligibility import assess_eligibility, has_reason, listed_columns, mark_applications
from geo.analysis.priority import priority_components, priority_scores, weighted_priority, weighted_score
from geo.analysis.sites import SiteReach, assess_sites, check_site_ids, landless_access, score_sites, site_points
from geo.config import Config, Program
from geo.data.crs import metric_crs_for
from geo.errors import Message, data_error, said
from geo.i18n import district_names, with_district_names
from geo.optimize.allocate import (
    MODES,
    Allocation,
    CoverageProblem,
    allocate_optimal,
    allocate_rank,
    candidate_rows,
    plan_rows,
)


@dataclass(frozen=True)
class ProgramOutcome:
    """One programme's figures (JSON-ready through :meth:`summary`) and its selected rows."""

    program: Program
    allocation: Allocation
    selected: gpd.GeoDataFrame
    scored: gpd.GeoDataFrame  # the communities as this programme saw them
    candidates: np.ndarray | None = None  # row positions in ``scored`` (or ``sites``) of the candidates, priority order
    config: Config | None = None
    sites: gpd.GeoDataFrame | None = None  # the public sites as this programme saw them (score_sites), if any
    is_site: np.ndarray | None = None  # which candidates are public sites

    @property
    def standard(self) -> str:
        """The service standard the programme pursued (``inside`` or ``walk``)."""
        return self.config.standard if self.config is not None else "inside"

    @property
    def walk_radius_m(self) -> float:
        return self.config.walk_radius_m if self.config is not None else float("nan")

    @property
    def stop_reason(self) -> str:
        """Why the programme stopped (:data:`geo.optimize.allocate.STOP_REASONS`), or ``awaiting_survey``
        when nothing was left to pick but communities wait for their open space to be surveyed."""
        reason = self.allocation.stop_reason
        if reason == "no_candidates_left" and self.left_out_to_survey:
            return "awaiting_survey"
        return reason

    @property
    def communities_newly_within_radius(self) -> int:
        """Communities the picks bring within the walk radius of a set (none was within it before)."""
        if "served_communities" not in self.selected.columns or not len(self.selected):
            return 0
        served = self.selected["served_communities"].fillna("").astype(str)
        return int(sum(len([c for c in cell.split(";") if c]) for cell in served))

    @property
    def site_picks(self) -> int:
        """Sets the programme puts on public sites."""
        if "candidate_kind" not in self.selected.columns:
            return 0
        return int((self.selected["candidate_kind"] == "site").sum())

    @property
    def landless_newly_served(self) -> tuple[int, int]:
        """``(communities, residents)`` of land-less communities the picks bring within the walk radius."""
        return _landless_served(self.selected)

    @property
    def landless_newly_served_by_sites(self) -> tuple[int, int]:
        """``(communities, residents)`` of land-less communities the picks on public sites bring within reach."""
        if "candidate_kind" not in self.selected.columns:
            return 0, 0
        return _landless_served(self.selected[self.selected["candidate_kind"] == "site"])

    @property
    def picks_without_new_residents(self) -> int:
        """Picks that bring no new resident within the walk radius (possible only under ``inside``)."""
        if "population_newly_served" not in self.selected.columns:
            return 0
        return int((self.selected["population_newly_served"].to_numpy() == 0).sum())

    def left_out(self) -> pd.DataFrame:
        """The eligible candidates not in the plan, in priority order, and why each was left out.

        Columns: ``community_id`` (a public site's ``site_id``), ``candidate_kind`` (``community`` or
        ``site``), ``name``, ``district_code``, ``district_name`` (when the frame has it),
        ``priority_rank``, ``priority_score``,
        ``population`` and ``left_out_reason`` (a code of
        :data:`geo.optimize.allocate.LEFT_OUT_REASONS`).
        """
        a = self.allocation
        if a.left_out.size:
            is_site = self.is_site if self.is_site is not None else np.zeros(self.candidates.size, dtype=bool)
            rows = candidate_rows(self.scored, self.candidates, is_site, a.left_out, self.sites)
        else:
            rows = self.scored.iloc[0:0].assign(candidate_kind=pd.Series(dtype="string"))
        columns = [
            c
            for c in (
                "community_id",
                "candidate_kind",
                "name",
                "district_code",
                "district_name",
                "priority_rank",
                "priority_score",
                "population",
            )
            if c in rows.columns
        ]
        return pd.DataFrame(rows[columns]).assign(left_out_reason=list(a.left_out_reason)).reset_index(drop=True)

    @property
    def left_out_to_survey(self) -> int:
        """Communities not considered because their open space is to be surveyed on site (reason ``to_survey``)."""
        return int(has_reason(self.scored, "to_survey").sum()) if len(self.scored) else 0

    @property
    def picks_needing_site_check(self) -> int:
        """Picked communities whose open space is unknown (assumed to have room): to check before building."""
        if "needs_site_check" not in self.selected.columns:
            return 0
        return int(self.selected["needs_site_check"].astype("boolean").fillna(False).sum())

    def summary(self, lang: str = "zh") -> dict:
        """The programme's figures (``spent_cny`` in CNY), its name and messages said in ``lang``.

        ``left_out_to_survey`` (communities not considered: open space to be surveyed on site) is
        given, with a message saying how to consider them, when there are any; a city whose every
        open space is known has the summary it always had. Picks assumed to have room add a message
        asking for a site check.
        """
        a = self.allocation
        messages = list(a.messages)
        left_out, to_check = self.left_out_to_survey, self.picks_needing_site_check
        stop_reason = self.stop_reason
        if a.unspent_cny > 0 and stop_reason != "budget_spent":
            count = left_out if stop_reason == "awaiting_survey" else int(a.left_out.size)
            messages.append(Message(f"stop_{stop_reason}", unspent=f"{a.unspent_cny:,.0f}", count=count))
        no_new_residents = self.picks_without_new_residents
        if no_new_residents:
            messages.append(Message("picks_inside_only", count=no_new_residents, radius=f"{self.walk_radius_m:,.0f}"))
        if left_out:
            messages.append(Message("left_out_to_survey", count=left_out))
        if to_check:
            messages.append(Message("picks_need_site_check", count=to_check))
        on_sites = self.site_picks
        landless_count, landless_residents = self.landless_newly_served
        if on_sites:
            by_sites, by_sites_residents = self.landless_newly_served_by_sites
            messages.append(
                Message(
                    "picks_on_public_sites",
                    count=on_sites,
                    communities=by_sites,
                    residents=f"{by_sites_residents:,}",
                )
            )
        summary = {
            "program": self.program.key,
            "program_name": self.program.name(lang),
            "mode": a.mode,
            "standard": self.standard,
            "budget_cny": int(self.program.budget_cny),
            "spent_cny": float(self.selected["cost_cny"].sum()) if len(self.selected) else 0.0,
            "unspent_cny": float(a.unspent_cny),
            "stop_reason": stop_reason,
            "sets": int(len(self.selected)),
            "communities_newly_equipped": int(len(self.selected)) - self.site_picks,
            "sets_on_public_sites": self.site_picks,
            "landless_communities_newly_served": landless_count,
            "landless_population_newly_served": landless_residents,
            "population_newly_served": int(a.population_newly_served),
            "communities_newly_within_radius": self.communities_newly_within_radius,
            "candidates_left_out": int(a.left_out.size),
            "optimality_gap": None if a.optimality_gap is None else float(a.optimality_gap),
            "solve_seconds": round(float(a.solve_seconds), 4),
            "status": a.status,
            "messages": [said(message, lang) for message in messages],
        }
        if left_out:
            summary["left_out_to_survey"] = left_out
        return summary


def _landless_served(picks: pd.DataFrame) -> tuple[int, int]:
    """``(communities, residents)`` of the land-less communities ``picks`` (plan rows) newly serve."""
    if "landless_served" not in picks.columns or not len(picks):
        return 0, 0
    ids = picks["landless_served"].fillna("").astype(str)
    count = int(sum(len([c for c in cell.split(";") if c]) for cell in ids))
    return count, int(picks["landless_population_newly_served"].sum())


@dataclass(frozen=True)
class Plan:
    """Programmes run in sequence; ``selected`` stacks every programme's rows.

    ``config`` is the configuration the plan was run with (walk radius, weights, budgets …):
    exports and the public notice take their parameters from it, so they can only ever state
    the settings that produced the list they show.
    """

    outcomes: tuple[ProgramOutcome, ...]
    walk_radius_m: float
    mode: str
    config: Config | None = None

    @property
    def selected(self) -> gpd.GeoDataFrame:
        frames = [o.selected for o in self.outcomes]
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326") if frames else gpd.GeoDataFrame()

    def summaries(self, lang: str = "zh") -> list[dict]:
        """Each programme's :meth:`ProgramOutcome.summary`, its name and messages in ``lang``."""
        return [o.summary(lang) for o in self.outcomes]


def score_communities(
    communities, fitness_paths, config: Config, applications=None, metric_crs=None, network=None
) -> gpd.GeoDataFrame:
    """Coverage, eligibility and priority of every community, given the sets that exist.

    ``network``: the walk network, required when ``config.distance`` is "network" (see :func:`run_plan`).
    """
    network = network_in_force(config, network)
    if network is not None:
        metric_crs = network.metric_crs
    covered = community_coverage(communities, fitness_paths, config.walk_radius_m, metric_crs, network=network)
    return score_covered(covered, config, applications, metric_crs, network=network)


def score_covered(
    covered, config: Config, applications=None, metric_crs=None, relation=None, network=None
) -> gpd.GeoDataFrame:
    """Eligibility and priority of communities whose coverage is already computed.

    ``relation``: a :class:`geo.analysis.coverage.CoverageRelation` of ``covered`` shared by a
    plan run (priority reads it instead of building its own). ``network``: the walk network when
    ``config.distance`` is "network" (``covered`` must then have been measured on foot along it).
    """
    network = network_in_force(config, network)
    assessed = assess_eligibility(mark_applications(covered, applications), config)
    return priority_scores(assessed, config, metric_crs, relation, network)


def network_in_force(config: Config, network):
    """The walk network a run measures along: ``network`` when ``config.distance`` is "network" (a DataError
    ``network_needs_roads`` when there is none), None for straight lines (a network given is not used)."""
    if config.distance != "network":
        return None
    if network is None:
        raise data_error("network_needs_roads")
    return network


def run_plan(
    communities: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    config: Config,
    program_keys: list[str],
    mode: str = "rank",
    applications: pd.DataFrame | None = None,
    covered: gpd.GeoDataFrame | None = None,
    public_sites: gpd.GeoDataFrame | None = None,
    network=None,
    relation: CoverageRelation | None = None,
    basis: PlanBasis | None = None,
) -> Plan:
    """Run the named programmes in order with ``mode`` ("rank" or "optimal").

    Parameters
    ----------
    communities, fitness_paths : GeoDataFrame
        EPSG:4326 layers as read by :mod:`geo.data.io`.
    config : Config
        Walk radius (m), unit cost (CNY), programmes and their budgets (CNY), weights, limits.
    program_keys : list of str
        Keys of ``config.programs``, run in this order.
    mode : {"rank", "optimal"}
    applications : DataFrame, optional
        ``community_id`` and ``application_date`` of applications received.
    covered : GeoDataFrame, optional
        :func:`geo.analysis.coverage.community_coverage` of ``communities`` with ``fitness_paths`` at
        ``config.walk_radius_m``, when the caller has it already (the app caches it, so changing
        a weight or a budget does not recompute coverage).
    public_sites : GeoDataFrame, optional
        The city's public sites (:func:`geo.data.io.read_public_sites`, EPSG:4326): each programme
        assesses them against the sets that exist and those planned before it
        (:func:`geo.analysis.sites.assess_sites`), scores them (:func:`geo.analysis.sites.score_sites`)
        and takes the eligible ones as candidates beside the communities. None: communities only.
    network : geo.analysis.network.WalkNetwork, optional
        The city's walk network (:func:`geo.pipeline.walk_network`, in the communities' UTM zone). Required
        when ``config.distance`` is "network" (a DataError ``network_needs_roads`` otherwise): then coverage,
        the coverage relation read by priority and by both modes, the public sites' reach and each
        programme's coverage update are all walked along it. Not used for straight lines. ``covered``, when
        given, must have been measured the same way.
    relation : CoverageRelation, optional
        :func:`plan_relation` of ``covered`` (which must then be given) with this config and network, when the
        caller keeps it (the app caches it: a weight or budget change does not build it again). Checked: the
        same communities, radius, distance and demand, else ValueError.
    basis : PlanBasis, optional
        :func:`plan_basis` of these same frames (``fitness_paths``, ``applications``, ``public_sites`` and
        ``covered`` the very objects it was built from, ``covered`` may be left out) under this config but
        for its weights and programmes: the first programme then only weighs what the basis holds (the app
        keeps it across weight, budget and programme changes). The plan is the one run without it; a basis
        of other frames or another config is refused (ValueError).
    """
    if basis is not None:
        covered = _check_basis(basis, fitness_paths, config, applications, covered, public_sites)
        relation = basis.relation if relation is None else relation
    if mode not in MODES:
        raise data_error("unknown_mode", mode=repr(mode), modes=", ".join(MODES))
    if not program_keys:
        raise data_error("no_program")
    # The city is projected once and the (site, community) relation built once, over the
    # communities unserved at the start: every programme's demand is a subset of them, so
    # priority, allocation and the coverage update of every programme slice the same relation.
    network = network_in_force(config, network)
    metric_crs = network.metric_crs if network is not None else metric_crs_for(communities)
    if relation is not None:
        if covered is None:
            raise ValueError("a coverage relation is given with the coverage it was built on (covered=)")
        _check_plan_relation(relation, covered, config, network)
        geometry, metric_crs = relation.geometry, relation.geometry.metric_crs
    elif covered is None:
        geometry = CityGeometry.of(communities, metric_crs)
        covered = community_coverage(
            communities, fitness_paths, config.walk_radius_m, metric_crs, geometry=geometry, network=network
        )
    else:
        geometry = CityGeometry.of(covered, metric_crs)  # the rows every later step reads
    if relation is None:
        relation = plan_relation(covered, config, network, geometry)
    if public_sites is not None and len(public_sites) and basis is None:  # a basis checked them once
        check_site_ids(public_sites, communities)
    outcomes = []
    # The sites' tests read the sets in metres: projected once (the basis holds the city's), not per programme.
    with_sites = public_sites is not None and len(public_sites) > 0
    paths_so_far = None
    if with_sites:
        paths_so_far = basis.fitness_paths_m if basis is not None else _in_crs(fitness_paths, metric_crs)
    for index, key in enumerate(program_keys):
        program = config.program(key)
        sites = reach = None
        if index == 0 and basis is not None:  # the city as it is: only the weights are new
            scored = weighted_priority(basis.components, config.priority_weights)
            if basis.sites is not None:
                sites = basis.sites.copy()
                sites["priority_score"] = weighted_score(sites, config.priority_weights)
                reach = basis.reach
        elif basis is not None:  # the applications are the city's: marked once, in the basis (same rows)
            marked = covered.assign(
                application_date=pd.Series(basis.components["application_date"].array, index=covered.index),
                applied=basis.components["applied"].to_numpy(),
            )
            scored = priority_scores(assess_eligibility(marked, config), config, metric_crs, relation, network)
        else:
            scored = score_covered(covered, config, applications, metric_crs, relation, network)
        if sites is None and public_sites is not None and len(public_sites):
            assessed_sites = assess_sites(public_sites, paths_so_far, config, metric_crs)
            reach = SiteReach.build(assessed_sites, scored, config, metric_crs, geometry.polygons_m, network)
            sites = score_sites(
                assessed_sites, scored, config, paths_so_far, metric_crs, geometry.polygons_m, reach, network
            )
        problem = CoverageProblem.from_scored(
            scored,
            config.walk_radius_m,
            config.set_cost_cny,
            metric_crs,
            max_pairs=config.max_pairs,
            relation=relation,
            standard=config.standard,
            sites=sites,
            site_reach=reach,
            network=network,
        )
        if mode == "rank":
            allocation = allocate_rank(
                problem, program.budget_cny, program.district_min_sets, program.district_max_sets
            )
        else:
            allocation = allocate_optimal(
                problem,
                program.budget_cny,
                program.district_min_sets,
                program.district_max_sets,
                time_limit_s=config.optimal_time_limit_s,
                mip_rel_gap=config.optimal_mip_rel_gap,
            )
        selected = plan_rows(scored, problem, allocation, program, sites)
        outcomes.append(
            ProgramOutcome(
                program, allocation, selected, scored, problem.candidates, config, sites, problem.site_mask.copy()
            )
        )
        if len(selected) and index < len(program_keys) - 1:  # the next programme sees these sets as existing
            planned = planned_sets(selected, program, metric_crs, _pick_points_m(problem, allocation, geometry, sites))
            covered = add_fitness_paths(
                covered, planned, config.walk_radius_m, metric_crs, geometry=geometry, network=network
            )
            if with_sites:
                planned_m = _in_crs(planned, metric_crs)
                paths_so_far = (
                    pd.concat([paths_so_far, planned_m], ignore_index=True)
                    if paths_so_far is not None and len(paths_so_far)
                    else planned_m
                )
    return Plan(tuple(outcomes), config.walk_radius_m, mode, config)


@dataclass(frozen=True)
class PlanBasis:
    """What the first programme of a plan computes before its weights come in, kept across weight changes.

    Built by :func:`plan_basis` from the city as it is (coverage, eligibility, the priority components and
    the public sites' assessment, reach and components): none of it depends on the priority weights, the
    budgets or the programmes, so a plan run for new ones (:func:`run_plan` ``basis=``) only weighs it.
    Read-only: shared by every run (the app keeps one per data version, radius, distance and rules).

    Attributes
    ----------
    config : Config
        The configuration it was built under; a run's may differ in weights and programmes only.
    fitness_paths, applications, public_sites : frames
        The frames it was built from (the very objects a run must be given).
    covered : GeoDataFrame
        :func:`geo.analysis.coverage.community_coverage` of the communities (EPSG:4326).
    relation : CoverageRelation
        :func:`plan_relation` of ``covered``.
    components : GeoDataFrame
        ``covered`` with eligibility and :func:`geo.analysis.priority.priority_components` (no score).
    sites : GeoDataFrame or None
        The public sites assessed and scored (:func:`geo.analysis.sites.score_sites`; their
        ``priority_score`` is reweighed per run); None without sites.
    reach : SiteReach or None
        The sites' reach among the unserved communities (:class:`geo.analysis.sites.SiteReach`).
    fitness_paths_m : GeoDataFrame or None
        ``fitness_paths`` in the relation's metric CRS (the sites' tests read them in metres); None without sites.
    """

    config: Config
    fitness_paths: gpd.GeoDataFrame
    applications: pd.DataFrame | None
    public_sites: gpd.GeoDataFrame | None
    covered: gpd.GeoDataFrame
    relation: CoverageRelation
    components: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame | None = None
    reach: SiteReach | None = None
    fitness_paths_m: gpd.GeoDataFrame | None = None


def plan_basis(
    communities: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    config: Config,
    applications: pd.DataFrame | None = None,
    covered: gpd.GeoDataFrame | None = None,
    public_sites: gpd.GeoDataFrame | None = None,
    network=None,
    relation: CoverageRelation | None = None,
) -> PlanBasis:
    """The :class:`PlanBasis` of a plan on these frames under ``config`` (its weights and programmes aside).

    Arguments as :func:`run_plan`'s; ``covered`` and ``relation`` are computed when not given. The public
    sites' ids are checked here (DataError ``site_ids_clash``), once.
    """
    network = network_in_force(config, network)
    metric_crs = network.metric_crs if network is not None else metric_crs_for(communities)
    if covered is None:
        covered = community_coverage(communities, fitness_paths, config.walk_radius_m, metric_crs, network=network)
    if relation is None:
        relation = plan_relation(covered, config, network)
    else:
        _check_plan_relation(relation, covered, config, network)
    assessed = assess_eligibility(mark_applications(covered, applications), config)
    components = priority_components(assessed, config, relation.geometry.metric_crs, relation, network)
    basis = PlanBasis(config, fitness_paths, applications, None, covered, relation, components)
    if public_sites is not None and len(public_sites):
        check_site_ids(public_sites, communities)
        return with_public_sites(basis, public_sites, network)
    return basis


def with_public_sites(basis: PlanBasis, public_sites: gpd.GeoDataFrame, network=None) -> PlanBasis:
    """``basis`` (built without sites) with ``public_sites`` (EPSG:4326, ids checked by the caller:
    :func:`geo.analysis.sites.check_site_ids`) assessed, reached and scored as a plan's first programme does;
    the communities' part is shared, not copied. ``network``: the walk network when on foot."""
    config, relation = basis.config, basis.relation
    network = network_in_force(config, network)
    metric_crs, polygons_m = relation.geometry.metric_crs, relation.geometry.polygons_m
    paths_m = _in_crs(basis.fitness_paths, metric_crs)
    assessed = assess_sites(public_sites, paths_m, config, metric_crs)
    reach = SiteReach.build(assessed, basis.components, config, metric_crs, polygons_m, network)
    sites = score_sites(assessed, basis.components, config, paths_m, metric_crs, polygons_m, reach, network)
    return replace(basis, public_sites=public_sites, sites=sites, reach=reach, fitness_paths_m=paths_m)


def _in_crs(frame: gpd.GeoDataFrame | None, crs) -> gpd.GeoDataFrame | None:
    """``frame`` in ``crs`` (itself when it has no CRS: nothing to project)."""
    if frame is None or frame.crs is None:
        return frame
    return frame.to_crs(crs)


def _some(frame):
    """``frame``, or None when it is None or has no rows (no public sites either way)."""
    return frame if frame is not None and len(frame) else None


def _weights_aside(config: Config) -> Config:
    return replace(config, priority_weights={}, programs=())


def _check_basis(basis: PlanBasis, fitness_paths, config: Config, applications, covered, public_sites):
    """``basis.covered`` when ``basis`` was built from these frames and this config (weights and programmes
    aside), else ValueError."""
    same = (
        basis.fitness_paths is fitness_paths
        and basis.applications is applications
        and _some(basis.public_sites) is _some(public_sites)
        and (covered is None or covered is basis.covered)
    )
    if not same:
        raise ValueError("the plan basis was built from other frames than the plan is given")
    if _weights_aside(basis.config) != _weights_aside(config):
        raise ValueError("the plan basis was built under another configuration (other than weights and programmes)")
    return basis.covered


def plan_relation(covered: gpd.GeoDataFrame, config: Config, network=None, geometry=None) -> CoverageRelation:
    """The coverage relation a plan run on ``covered`` builds (:func:`run_plan`): every community's site against
    the communities not served within ``config.walk_radius_m`` at the start, straight or walked along
    ``network`` as ``config.distance`` says, bounded by ``config.max_pairs``. ``geometry``: ``covered`` already
    projected (:class:`geo.analysis.coverage.CityGeometry`; default: projected here, in the network's CRS when
    on foot, else the communities' UTM zone). It does not depend on weights, budgets or programmes."""
    network = network_in_force(config, network)
    if geometry is None:
        metric_crs = network.metric_crs if network is not None else metric_crs_for(covered)
        geometry = CityGeometry.of(covered, metric_crs)
    unserved = np.flatnonzero(~covered["served_within_radius"].to_numpy(dtype=bool))
    return CoverageRelation.build(geometry, unserved, config.walk_radius_m, max_pairs=config.max_pairs, network=network)


def _check_plan_relation(relation: CoverageRelation, covered, config: Config, network) -> None:
    """ValueError unless ``relation`` is :func:`plan_relation` of ``covered`` under ``config`` (and ``network``)."""
    relation.check(covered, config.walk_radius_m, "covered communities", None, config.distance)
    if network is not None and network.metric_crs != relation.geometry.metric_crs:
        raise ValueError("the coverage relation is not in the walk network's CRS")
    unserved = np.flatnonzero(~covered["served_within_radius"].to_numpy(dtype=bool))
    if not np.array_equal(relation.demand, unserved):
        raise ValueError("the coverage relation was built on another coverage (its demand differs)")


def _pick_points_m(problem: CoverageProblem, allocation: Allocation, geometry: CityGeometry, sites) -> np.ndarray:
    """Where each pick's set stands, in plan order, in the run's metric CRS: a community's site, or a public
    site's point (:func:`geo.analysis.sites.site_points`)."""
    chosen = allocation.chosen
    rows = problem.candidates[chosen]
    is_site = problem.site_mask[chosen]
    points = np.empty(chosen.size, dtype=object)
    points[~is_site] = geometry.sites_m[rows[~is_site]]
    if is_site.any():
        points[is_site] = site_points(np.asarray(sites.geometry.iloc[rows[is_site]].to_crs(geometry.metric_crs).values))
    return points


def planned_sets(selected: gpd.GeoDataFrame, program: Program, metric_crs, sites_m=None) -> gpd.GeoDataFrame:
    """One planned set at the site of each selected community (EPSG:4326 points).

    ``sites_m``: those sites in ``metric_crs`` when already known (:class:`CityGeometry`), one per row.
    """
    if sites_m is None:
        sites_m = candidate_sites(selected.geometry.to_crs(metric_crs).values)
    sites = gpd.GeoSeries(sites_m, crs=metric_crs).to_crs("EPSG:4326")
    return gpd.GeoDataFrame(
        {
            "path_id": pd.array([f"PLAN-{program.key}-{i:04d}" for i in range(1, len(selected) + 1)], dtype="string"),
            "name": pd.array((selected["name"].astype(str) + "（规划）").to_numpy(), dtype="string"),
            "funding_source": pd.array(np.full(len(selected), program.key), dtype="string"),
        },
        geometry=sites.values,
        crs="EPSG:4326",
    )


# Columns of a plan export, in order; geometry last. Community columns absent from a frame are skipped,
# and so are needs_site_check when no pick is flagged (geo.analysis.eligibility.listed_columns).
PLAN_COLUMNS = (
    "program",
    "program_name",
    "mode",
    "rank",
    "candidate_kind",
    "community_id",
    "name",
    "site_kind",
    "site_consent_unknown",
    "district_code",
    "district_name",
    "population",
    "population_source",
    "households",
    "built_year",
    "share_60plus",
    "share_under14",
    "open_space_m2",
    "needs_site_check",
    "applied",
    "application_date",
    "nearest_set_m",
    "priority_score",
    "priority_rank",
    "c_population",
    "c_elderly_and_children",
    "c_distance_to_nearest_set",
    "c_old_community",
    "c_application_received",
    "c_neighbours_unserved",
    "c_landless_reached",
    "neighbours_unserved_population",
    "landless_reached_population",
    "cost_cny",
    "cumulative_cost_cny",
    "money_left_cny",
    "population_newly_served",
    "served_communities",
    "landless_population_newly_served",
    "landless_served",
)


def plan_sheets(plan: Plan, lang: str = "zh", districts: pd.DataFrame | None = None) -> dict[str, gpd.GeoDataFrame]:
    """One export table per programme, named by the programme, with :data:`PLAN_COLUMNS`.

    ``program_name`` is the programme's name in ``lang``; given ``districts`` (the districts
    layer: ``district_code``, ``district_name``, ``district_name_en``), so is ``district_name``.
    Community names are the data's own and stay as they are.
    """
    names = district_names(districts, lang) if districts is not None else {}
    sheets = {}
    for outcome in plan.outcomes:
        rows = outcome.selected.assign(program_name=outcome.program.name(lang))
        if names and "district_name" in rows.columns:
            rows = with_district_names(rows, names)
        columns = listed_columns(rows, PLAN_COLUMNS) + ["geometry"]
        sheets[outcome.program.name(lang)] = gpd.GeoDataFrame(rows[columns], geometry="geometry", crs="EPSG:4326")
    return sheets


def served_by_picks(plan: Plan) -> pd.DataFrame:
    """Which pick of ``plan`` newly brings each community within the walk radius (the first that does).

    Columns: ``community_id`` (the served community), ``program`` (key), ``rank``, ``pick_id`` (the
    pick's community or site id), ``pick_name`` and ``candidate_kind``.
    """
    rows = []
    for outcome in plan.outcomes:
        picked = outcome.selected
        if not len(picked) or "served_communities" not in picked.columns:
            continue
        kinds = picked["candidate_kind"] if "candidate_kind" in picked.columns else pd.Series("community", picked.index)
        for rank, pick_id, name, kind, served in zip(
            picked["rank"], picked["community_id"], picked["name"], kinds, picked["served_communities"].fillna("")
        ):
            for community in str(served).split(";"):
                if community:
                    rows.append((community, outcome.program.key, int(rank), pick_id, name, kind))
    columns = ["community_id", "program", "rank", "pick_id", "pick_name", "candidate_kind"]
    return pd.DataFrame(rows, columns=columns).drop_duplicates("community_id").reset_index(drop=True)


def landless_table(
    plan: Plan | None, scored: gpd.GeoDataFrame, sites: gpd.GeoDataFrame | None, network=None
) -> pd.DataFrame:
    """Each land-less community, its nearest eligible public sites and the pick of ``plan`` that now serves it.

    :func:`geo.analysis.sites.landless_access` (distances in metres; on foot along ``network`` when given,
    as when ``[coverage] distance = "network"``) plus, from :func:`served_by_picks`,
    ``served_by_program`` (key), ``served_by_rank``, ``served_by_id``, ``served_by_name`` and
    ``served_by_kind`` (missing when no pick of the plan reaches it, or without a plan).
    """
    table = landless_access(scored, sites, network=network)
    served = served_by_picks(plan if plan is not None else Plan((), 0.0, "rank"))
    served = served.rename(
        columns={
            "program": "served_by_program",
            "rank": "served_by_rank",
            "pick_id": "served_by_id",
            "pick_name": "served_by_name",
            "candidate_kind": "served_by_kind",
        }
    )
    table = table.assign(community_id=table["community_id"].astype(str))
    return table.merge(served, on="community_id", how="left")


def gain_curve(plan: Plan) -> pd.DataFrame:
    """What the plan gains as its money is spent: one row per set bought, in plan order, programmes in sequence.

    Columns: ``program`` (key), ``sets`` (1 … over the whole plan), ``spent_cny`` (cumulative CNY),
    ``population_newly_served`` (cumulative residents newly within the walk radius) and
    ``communities_newly_equipped`` (cumulative; a set on a public site equips none). Starts with a row of
    zeros, so a plan that buys nothing is a single point at the origin. Within a programme the rows follow
    the plan order (rank: priority order; optimal: each set adding the most residents first), so the slope is the
    marginal gain of each set.
    """
    rows = [("", 0, 0.0, 0, 0)]
    sets, spent, residents, equipped = 0, 0.0, 0, 0
    for outcome in plan.outcomes:
        picked = outcome.selected
        kinds = picked["candidate_kind"] if "candidate_kind" in picked.columns else ["community"] * len(picked)
        for cost, gain, kind in zip(picked.get("cost_cny", []), picked.get("population_newly_served", []), kinds):
            sets += 1
            spent += float(cost)
            residents += int(gain)
            equipped += int(kind != "site")  # a set on a public site equips no community
            rows.append((outcome.program.key, sets, spent, residents, equipped))
    return pd.DataFrame(
        rows, columns=["program", "sets", "spent_cny", "population_newly_served", "communities_newly_equipped"]
    )
