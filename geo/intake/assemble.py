"""The city to analyse after an upload: the import replaces or merges into the current city, every other layer kept.

:func:`assemble_city` takes the city now in use, the accepted communities (and fitness paths)
of an import and a mode, and returns the layers to write with :func:`geo.data.io.write_layers` and a
report. It decides nothing silently: every accepted row is written, or listed in ``unplaced``
with its reason; every layer and table of the current city that the import does not replace
(districts, ``applications``, any other) is written; no community is written without a
geometry.

Applications: the plan refuses an application that names a community the city lacks
(:func:`geo.analysis.eligibility.mark_applications`, so that none is silently lost). An application
whose community is not among the written communities (after a ``replace`` that left it out)
is therefore moved, unchanged, to the table ``applications_unmatched`` and counted in the
report; on the next assembly both tables are read together, so it returns to
``applications`` as soon as its community is back.

Applications that come with a merged return (a survey's 申请日期, ``application_date``) are added to
``applications`` as rows of ``community_id`` and ``application_date``: one per community, the
earliest date its rows gave, unless the city's tables already hold an application of that
community dated that day or earlier (the plan counts a community's earliest application). The
city's own rows are never changed or dropped.

Public sites (``public_sites``) that come with an upload (a sites file, or the 公共场地 sheet of a filled survey
template) are written by ``site_id``: in ``merge`` mode a site of the same ID replaces the city's row (in its
place; what changed is listed in ``site_updates``), a new ID is added and every other site of the city is kept;
in ``replace`` mode the upload's sites are the city's sites. An upload without sites keeps the city's sites in
either mode. A site whose ID is a written community's is not written (a plan names a place by its ID).

Columns of the report tables
----------------------------
located
    ``row`` (the file's row number), ``community_id``, ``name``, ``located_by`` (``"id"`` or
    ``"name"``): rows without coordinates written with the outline of the city's community.
unplaced
    ``source``, ``row`` (the file's row number; missing for a community of the current city),
    ``community_id``, ``name``, ``district_code``, ``reason_code``, ``reason_zh``,
    ``reason_en``: rows (and communities) not written, and why.
site_updates
    ``source``, ``row``, ``site_id``, ``name``, ``column`` (a field of ``public_sites``, or ``geometry``),
    ``city_value``, ``new_value`` (a location as its shapely geometry, EPSG:4326): one row per value of a city
    site that a site of the same ID changed.
sites_unplaced
    ``source``, ``row``, ``site_id``, ``name``, ``reason_code``, ``reason_zh``, ``reason_en``: accepted
    sites not written, and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.data.city import CityData
from geo.data.crs import require_storage_crs
from geo.data.schema import STORAGE_CRS
from geo.errors import data_error
from geo.i18n import label
from geo.intake.importer import APPROXIMATE_COLUMN, IntakeResult, import_file, survey_fitness_paths
from geo.intake.merge import (
    CONFLICT_COLUMNS,
    SAME_PLACE_M,
    MergeResult,
    generated_ids,
    merge_returns,
    normalised_id,
)

MODES = ("replace", "merge")
APPLICATIONS, UNMATCHED_APPLICATIONS = "applications", "applications_unmatched"
LOCATED_COLUMNS = ("row", "community_id", "name", "located_by")
CHANGE_COLUMNS = ("before", "added", "updated", "unchanged", "removed", "rejected", "after")
UNPLACED_COLUMNS = ("source", "row", "community_id", "name", "district_code", "reason_code", "reason_zh", "reason_en")
SITE_UPDATE_COLUMNS = ("source", "row", "site_id", "name", "column", "city_value", "new_value")
SITE_UNPLACED_COLUMNS = ("source", "row", "site_id", "name", "reason_code", "reason_zh", "reason_en")
# Why an accepted site was not written: code → the [message] phrase that says it.
SITE_REASONS = {"site_id_is_community": "site_unplaced_community_id", "site_id_repeated": "site_unplaced_repeated"}

# Why a row (or community) was not written: code → (Chinese, English).
REASONS = {
    "unknown_id": (
        "没有坐标，且小区编号不在当前数据中，无法定位；请填写经度/纬度，或核对小区编号",
        (
            "no coordinates, and the community ID is not in the current data, so it cannot be located; "
            "give its longitude/latitude or correct the ID"
        ),
    ),
    "no_place": (
        "没有坐标，也没有可在当前数据中据以定位的小区编号或名称；请填写经度/纬度或小区编号",
        (
            "no coordinates, and no community ID or name the current data can locate it by; "
            "give its longitude/latitude or its community ID"
        ),
    ),
    "city_without_geometry": (
        "当前数据中的该小区没有图形，无法分析；请在数据中补充其边界",
        "this community of the current data has no geometry and cannot be analysed; add its outline",
    ),
    "duplicate_id": (
        "小区编号与本文件中前面的一行重复；只采用了第一行",
        "the community ID repeats an earlier row of this file; only the first row was used",
    ),
    "ambiguous_match": (
        "名称在本区县对应多个小区，未合并；请填写小区编号（候选见合并冲突表）",
        (
            "the name fits several communities of the district, so the row was not merged; give its "
            "community ID (the candidates are in the merge conflicts)"
        ),
    ),
    "unmatchable": (
        "缺少名称或区县，且没有可据以查找的小区编号，未合并",
        "no name or district, and no community ID to find it by, so the row was not merged",
    ),
}


@dataclass(frozen=True)
class AssembledCity:
    """What :func:`assemble_city` built.

    Attributes
    ----------
    layers : dict of str to pandas.DataFrame
        Layer name → frame, for :func:`geo.data.io.write_layers`: ``districts``, ``communities``
        (EPSG:4326, every row with a geometry, unique ``community_id``), ``fitness_paths``,
        ``applications`` (when the city had any: those naming a written community) and
        ``applications_unmatched`` (the others, when there are any), then every other layer or
        table of the current city unchanged.
    mode : {"replace", "merge"}
    conflicts : pandas.DataFrame
        The merge's conflicts (:class:`geo.intake.merge.MergeResult`), with ``rows`` as the file's row
        numbers; empty in ``replace`` mode.
    located : pandas.DataFrame
        Rows without coordinates given the outline of the city's community (module docstring).
    unplaced : pandas.DataFrame
        Rows and communities not written, with the reason in Chinese and English (module docstring).
    merge : geo.intake.merge.MergeResult or None
        The merge itself, in ``merge`` mode.
    counts : dict
        See :meth:`summary`.
    site_updates, sites_unplaced : pandas.DataFrame
        Values of city sites changed by the upload's sites, and sites not written (module docstring).
    """

    layers: dict
    mode: str
    conflicts: pd.DataFrame
    located: pd.DataFrame
    unplaced: pd.DataFrame
    merge: MergeResult | None = None
    counts: dict = field(default_factory=dict)
    site_updates: pd.DataFrame = field(default_factory=lambda: _empty(SITE_UPDATE_COLUMNS))
    sites_unplaced: pd.DataFrame = field(default_factory=lambda: _empty(SITE_UNPLACED_COLUMNS))

    @property
    def communities(self) -> gpd.GeoDataFrame:
        return self.layers["communities"]

    @property
    def fitness_paths(self) -> gpd.GeoDataFrame:
        return self.layers["fitness_paths"]

    def summary(self) -> dict:
        """Counts for a headline (plain ints and strings, JSON-ready).

        ``mode``; ``rows_imported``, ``rows_placed``, ``rows_located`` (without coordinates,
        given the city's outline), ``rows_unplaced``; ``communities_before``/``_after``,
        ``communities_added`` (merge), ``communities_dropped`` (city communities without a
        geometry); ``conflicts``; ``fitness_paths_before``/``_after``, ``fitness_paths_imported``
        (from the paths file), ``fitness_paths_from_survey`` (reported counts),
        ``fitness_paths_superseded`` (current rows replaced by a row of the same ``path_id``),
        ``fitness_paths_replaced`` (current rows not carried in ``replace`` mode);
        ``applications_before``/``_after`` (rows of both application tables; after = before +
        ``applications_from_return``), ``applications_from_return`` (applications the merged
        return gave that the city did not hold, added to ``applications``),
        ``applications_unmatched`` (rows naming no written community, in
        ``applications_unmatched``); ``layers`` (names, in write order). The application counts
        are None when the city has no applications table and the return gave none.

        For :meth:`changes`: ``communities_updated`` (written communities the city had, with a
        value changed by the merge, or replaced by a row of the file), ``rows_rejected`` and
        ``fitness_paths_rejected`` (rows the import's checks refused), ``fitness_paths_updated``
        (current paths superseded by one of the same ``path_id``), ``applications_in_use_before``/
        ``_after`` (rows of the ``applications`` table, the ones the plan reads),
        ``applications_set_aside`` (rows of it naming no written community: moved to
        ``applications_unmatched``) and ``applications_restored`` (rows of
        ``applications_unmatched`` whose community is written again).

        Public sites (None when the city has none and the upload gave none): ``public_sites_before``,
        ``public_sites_imported`` (accepted by the checks), ``public_sites_added``, ``public_sites_updated``
        (city sites replaced by one of the same ID with a value changed), ``public_sites_unchanged``,
        ``public_sites_removed`` (city sites a ``replace`` does not carry), ``public_sites_rejected`` (rows
        refused by the checks or not written), ``public_sites_after``.
        """
        return dict(self.counts)

    def changes(self) -> pd.DataFrame:
        """What the upload does to each layer and table, as counts of rows.

        Returns
        -------
        pandas.DataFrame
            Index ``communities``, ``fitness_paths`` (then ``applications`` when the city has any, and
            ``public_sites`` when the city or the upload has any);
            columns ``before``, ``added``, ``updated``, ``unchanged``, ``removed`` (communities and
            paths not carried; applications set aside), ``rejected`` (the file's rows not used:
            refused by the checks or not placed; missing for applications), ``after``; nullable
            integers. For each row ``after = unchanged + updated + added``.
        """
        c = self.counts
        rows = {}
        before, after = c["communities_before"], c["communities_after"]
        if self.mode == "replace":
            updated, added = c["communities_updated"], after - c["communities_updated"]
            removed, unchanged = before - c["communities_updated"], 0
        else:
            updated, added, removed = c["communities_updated"], c["communities_added"], c["communities_dropped"]
            unchanged = after - updated - added
        rows["communities"] = (
            before,
            added,
            updated,
            unchanged,
            removed,
            c["rows_rejected"] + c["rows_unplaced"],
            after,
        )
        before, after = c["fitness_paths_before"], c["fitness_paths_after"]
        removed, updated = c["fitness_paths_replaced"], c["fitness_paths_updated"]
        unchanged = before - removed - updated
        rows["fitness_paths"] = (
            before,
            after - unchanged - updated,
            updated,
            unchanged,
            removed,
            c["fitness_paths_rejected"],
            after,
        )
        if c.get("applications_in_use_after") is not None:
            before, after = c["applications_in_use_before"] or 0, c["applications_in_use_after"]
            removed = c["applications_set_aside"]
            added = c["applications_from_return"] + c["applications_restored"]
            rows["applications"] = (before, added, 0, before - removed, removed, None, after)
        if c.get("public_sites_after") is not None:
            rows["public_sites"] = tuple(
                c[f"public_sites_{name}"]
                for name in ("before", "added", "updated", "unchanged", "removed", "rejected", "after")
            )
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(CHANGE_COLUMNS)).astype("Int64")


def assemble_city(
    current: CityData | Mapping,
    communities: IntakeResult | gpd.GeoDataFrame | None,
    mode: str,
    *,
    fitness_paths: IntakeResult | gpd.GeoDataFrame | None = None,
    public_sites: IntakeResult | gpd.GeoDataFrame | Mapping | None = None,
    source: str = "upload",
    same_place_m: float = SAME_PLACE_M,
) -> AssembledCity:
    """The layers of the city to analyse after an import, and a report of what happened to every row.

    Parameters
    ----------
    current : geo.pipeline.CityData or mapping of str to DataFrame
        The city now in use: its ``districts``, ``communities`` and ``fitness_paths`` (EPSG:4326)
        and, if it has one, its ``applications`` table. A mapping (layer name → frame) may hold
        any other layers or tables too (``applications_unmatched`` among them); all are carried.
    communities : geo.intake.importer.IntakeResult, geopandas.GeoDataFrame or None
        None when the upload has no communities (public sites sent alone: merged, the communities kept).
        The accepted communities of the import (``IntakeResult.accepted``: EPSG:4326, geometry
        None for a row that names a city community by ID without coordinates). Given an
        ``IntakeResult``, reports use the file's row numbers (``accepted_rows``); given a frame,
        1-based positions.
    mode : {"replace", "merge"}
        ``"replace"``: the import's rows are the city's communities, and its fitness paths
        (the paths file and the sets the survey reports) the city's fitness paths.
        ``"merge"``: the rows are merged into the current communities by
        :func:`geo.intake.merge.merge_returns`, the paths added to the current ones.
    fitness_paths : geo.intake.importer.IntakeResult or geopandas.GeoDataFrame, optional
        Accepted fitness paths of the import (points, EPSG:4326).
    public_sites : IntakeResult, GeoDataFrame or mapping of str to either, optional
        Accepted public sites of the import (``import_file(..., "public_sites")``, EPSG:4326); a mapping
        names each import's source (a sites file, the survey workbook's sites sheet), later ones winning
        over earlier ones for one ``site_id``. Written by ``site_id`` (module docstring); without them the
        city's sites are kept as they are.
    source : str, optional
        Name of the import in the reports (e.g. the uploaded file's name); data, never markup.
    same_place_m : float, optional
        Metres within which two geometries under one name are one community (merge).

    Returns
    -------
    AssembledCity
        ``layers`` to write, and ``conflicts``, ``located``, ``unplaced``, ``summary()``.

    Raises
    ------
    ValueError
        Unknown ``mode``; ``current`` lacks districts, communities or fitness paths; a frame is
        not in EPSG:4326; when merging, the current communities repeat a ``community_id``.
    TypeError
        ``current``, ``communities`` or ``fitness_paths`` is not of a type listed above.

    Notes
    -----
    A row without coordinates that names a community of the current city by ID (or, when
    merging, by its unique name in its district) is written with that community's outline and
    listed in ``located``. A row that can be placed nowhere — no coordinates and an ID the city
    lacks, a name that fits several communities, no name or district — is listed in
    ``unplaced`` and not written. In ``replace`` mode a row without ``community_id`` gets a new
    ``<district_code>-N<nnnn>``, and a repeated ID keeps its first row. Survey fitness paths
    (``existing_sets``) are made for the written communities the import gave a count for, with
    their final IDs; a path with the ``path_id`` of a current one supersedes it.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    layers = original = _current_layers(current)
    if communities is None:
        communities = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=STORAGE_CRS))
    rejected = {
        name: frame.rejected if isinstance(frame, IntakeResult) else 0
        for name, frame in (("communities", communities), ("fitness_paths", fitness_paths))
    }
    accepted, row_numbers = _accepted(communities, "communities")
    imported_paths = _accepted(fitness_paths, "fitness_paths")[0] if fitness_paths is not None else None
    city = layers["communities"]
    source = str(source)

    if mode == "replace":
        written, located, unplaced = _replaced(city, accepted, row_numbers, source)
        conflicts, merged = pd.DataFrame({c: pd.Series(dtype=object) for c in CONFLICT_COLUMNS}), None
        touched = written["community_id"]
        base_paths = layers["fitness_paths"].iloc[0:0]
    else:
        merged = merge_returns(city, {source: accepted}, same_place_m=same_place_m)
        written, located, unplaced = _merged(city, accepted, merged, row_numbers, source)
        conflicts = _with_file_rows(merged.conflicts, source, row_numbers)
        touched = merged.matches["community_id"].dropna()
        base_paths = layers["fitness_paths"]

    survey = survey_fitness_paths(written[written["community_id"].isin(set(touched))].reset_index(drop=True))
    paths, superseded = _combined_paths([base_paths, survey, imported_paths])
    paths_updated = len(base_paths) - _kept_rows(base_paths, [survey, imported_paths])
    out = {"districts": layers["districts"], "communities": written, "fitness_paths": paths}
    n_applications = [len(layers[n]) for n in (APPLICATIONS, UNMATCHED_APPLICATIONS) if n in layers]
    returned = 0
    if merged is not None:
        layers, returned = _with_returned_applications(layers, accepted, merged, written)
    applications = _split_applications(layers, written)
    out.update(applications)
    sites, site_updates, sites_unplaced, site_counts = _assembled_sites(
        layers.get("public_sites"), _site_imports(public_sites, source), mode, written["community_id"]
    )
    if sites is not None:
        out["public_sites"] = sites
    out.update({name: frame for name, frame in layers.items() if name not in out})

    dropped = int((unplaced["row"].isna()).sum())
    set_aside, restored = _application_moves(original, written)
    if mode == "replace":
        city_ids = set(city["community_id"].map(normalised_id).dropna())
        updated = int(written["community_id"].map(normalised_id).isin(city_ids).sum())
    else:
        city_ids = set(city["community_id"].dropna())
        changed = set(merged.updates["community_id"].dropna()) & city_ids
        updated = int(written["community_id"].isin(changed).sum())
    counts = {
        "mode": mode,
        "rows_imported": len(accepted),
        "rows_placed": len(accepted) - int(unplaced["row"].notna().sum()),
        "rows_located": len(located),
        "rows_unplaced": int(unplaced["row"].notna().sum()),
        "communities_before": len(city),
        "communities_after": len(written),
        "communities_added": 0
        if merged is None
        else int(merged.added["community_id"].isin(written["community_id"]).sum()),
        "communities_dropped": dropped,
        "communities_updated": updated,
        "rows_rejected": int(rejected["communities"]),
        "conflicts": len(conflicts),
        "fitness_paths_before": len(layers["fitness_paths"]),
        "fitness_paths_after": len(paths),
        "fitness_paths_imported": 0 if imported_paths is None else len(imported_paths),
        "fitness_paths_from_survey": len(survey),
        "fitness_paths_superseded": superseded,
        "fitness_paths_replaced": len(layers["fitness_paths"]) if mode == "replace" else 0,
        "fitness_paths_updated": paths_updated,
        "fitness_paths_rejected": int(rejected["fitness_paths"]),
        "applications_before": sum(n_applications) if n_applications else None,
        "applications_from_return": returned if applications else None,
        "applications_after": sum(len(frame) for frame in applications.values()) if applications else None,
        "applications_unmatched": len(applications.get(UNMATCHED_APPLICATIONS, ())) if applications else None,
        "applications_in_use_before": len(original[APPLICATIONS]) if APPLICATIONS in original else None,
        "applications_in_use_after": len(applications[APPLICATIONS]) if applications else None,
        "applications_set_aside": set_aside if applications else None,
        "applications_restored": restored if applications else None,
        **site_counts,
        "layers": list(out),
    }
    return AssembledCity(out, mode, conflicts, located, unplaced, merged, counts, site_updates, sites_unplaced)


# --------------------------------------------------------------------------- inputs


def _current_layers(current) -> dict:
    if isinstance(current, CityData):
        layers = {
            "districts": current.districts,
            "communities": current.communities,
            "fitness_paths": current.fitness_paths,
        }
        if current.applications is not None:
            layers["applications"] = current.applications
        if current.public_sites is not None:
            layers["public_sites"] = current.public_sites
        if getattr(current, "roads", None) is not None:
            layers["roads"] = current.roads
        layers.update(current.other_layers)
    elif isinstance(current, Mapping):
        layers = dict(current)
    else:
        raise TypeError(
            f"current must be the city in use (a CityData or a dict of layers), got a {type(current).__name__}"
        )
    missing = [name for name in ("districts", "communities", "fitness_paths") if name not in layers]
    if missing:
        raise data_error("city_lacks_layers", layers=", ".join(missing))
    for name, frame in layers.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"layer {name!r} of the current city is a {type(frame).__name__}, not a (Geo)DataFrame")
    for name in ("communities", "fitness_paths"):
        _check_crs(layers[name], f"the current {name} layer")
    return layers


def _accepted(imported, layer: str) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The accepted frame (RangeIndex, geometry column ``geometry``) and the file's row number of each row."""
    if isinstance(imported, IntakeResult):
        if imported.layer != layer:
            raise ValueError(f"expected an import of {layer}, got one of {imported.layer}")
        frame, rows = imported.accepted, np.asarray(imported.accepted_rows, dtype=int)
    elif isinstance(imported, gpd.GeoDataFrame):
        frame, rows = imported, np.arange(1, len(imported) + 1)
    else:
        raise TypeError(
            f"the accepted {layer} must be an IntakeResult or a GeoDataFrame, got a {type(imported).__name__}"
        )
    _check_crs(frame, f"the imported {layer}")
    frame = frame.reset_index(drop=True)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    if len(rows) != len(frame):
        raise data_error("import_rows_mismatch", rows=len(rows), accepted=len(frame))
    return frame, rows


def _check_crs(frame: pd.DataFrame, what: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"{what} must be a GeoDataFrame, got a {type(frame).__name__}")
    require_storage_crs(frame, what, unset_if_no_geometry=True)


def _present(geometry: np.ndarray) -> np.ndarray:
    return ~np.asarray(pd.isna(geometry) | shapely.is_empty(geometry), dtype=bool)


# --------------------------------------------------------------------------- communities


def _replaced(city, accepted, row_numbers, source):
    """The import's rows as the communities; a row without coordinates takes the outline of the city's ID."""
    frame = accepted.copy()
    ids = _column(frame, "community_id")
    ids = pd.Series([normalised_id(value) for value in ids], dtype=object)
    city_ids = city["community_id"].map(normalised_id)
    city_position = pd.Series(np.arange(len(city)), index=city_ids.to_numpy())
    city_position = city_position[city_position.index.notna() & ~city_position.index.duplicated()]

    geometry = frame.geometry.to_numpy().copy()
    found = ids.map(city_position).to_numpy()
    take = ~_present(geometry) & pd.notna(found)
    from_city = found[take].astype(int)
    geometry[take] = city.geometry.to_numpy()[from_city]
    if APPROXIMATE_COLUMN in city.columns or APPROXIMATE_COLUMN in frame.columns:
        flags = (
            frame[APPROXIMATE_COLUMN].astype("boolean")
            if APPROXIMATE_COLUMN in frame.columns
            else pd.Series(pd.NA, index=frame.index, dtype="boolean")
        ).to_numpy(dtype=object)
        city_flags = (
            city[APPROXIMATE_COLUMN].astype("boolean").fillna(False).to_numpy(dtype=bool)
            if APPROXIMATE_COLUMN in city.columns
            else np.zeros(len(city), dtype=bool)
        )
        flags[take] = city_flags[from_city]
        frame[APPROXIMATE_COLUMN] = pd.array(flags, dtype="boolean")
    frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=STORAGE_CRS))

    placed = _present(geometry)
    take &= placed  # a city community without an outline gives none
    if take.any():  # spelt as the city spells it (full-width digits, spaces), so its applications still match
        spelt = _column(frame, "community_id")
        spelt[take] = city["community_id"].astype(object).to_numpy()[found[take].astype(int)]
        frame["community_id"] = pd.array(spelt, dtype="string")
    has_id = ids.notna().to_numpy()
    repeated = placed & has_id & ids.where(placed).duplicated().to_numpy()
    reasons = np.full(len(frame), None, dtype=object)
    reasons[~placed] = np.where(has_id[~placed], "unknown_id", "no_place")
    reasons[repeated] = "duplicate_id"
    keep = pd.isna(reasons)
    unplaced = _unplaced_rows(frame, row_numbers, reasons, source)

    located = pd.DataFrame(
        {
            "row": row_numbers[take & keep],
            "community_id": _column(frame, "community_id")[take & keep],
            "name": _column(frame, "name")[take & keep],
            "located_by": "id",
        },
        columns=list(LOCATED_COLUMNS),
    )
    written = frame[keep].reset_index(drop=True)
    missing = ids[keep].isna().to_numpy()
    if missing.any():  # new communities: IDs never used by the import or the current city
        new_ids = _column(written, "community_id")
        new_ids[missing] = generated_ids(
            _column(written, "district_code")[missing], set(ids.dropna()) | set(city_ids.dropna())
        )
        written["community_id"] = pd.array(new_ids, dtype="string")
    return written, located, unplaced


def _merged(city, accepted, merged: MergeResult, row_numbers, source):
    """The merged communities with a geometry; rows not merged, or merged into a community without one, listed."""
    communities = merged.communities
    placed = _present(communities.geometry.to_numpy())
    written = communities[placed].reset_index(drop=True)
    without = set(communities.loc[~placed, "community_id"].dropna())

    matches = merged.matches
    positions = matches["row"].to_numpy(int) - 1
    reasons = np.full(len(accepted), None, dtype=object)
    lost = matches["community_id"].isin(without).to_numpy()
    in_city = matches["community_id"].isin(set(communities["community_id"].iloc[: len(city)].dropna())).to_numpy()
    has_id = np.array([normalised_id(value) is not None for value in _column(accepted, "community_id")], dtype=bool)
    reasons[positions[lost]] = np.where(
        in_city[lost], "city_without_geometry", np.where(has_id[positions[lost]], "unknown_id", "no_place")
    )
    for kind in ("ambiguous_match", "unmatchable"):
        reasons[positions[(matches["matched_by"] == kind).to_numpy()]] = kind
    unplaced = _unplaced_rows(accepted, row_numbers, reasons, source)

    city_without = communities.iloc[np.flatnonzero(~placed[: len(city)])]
    if len(city_without):  # a community of the current city that never had an outline
        unplaced = pd.concat(
            [
                unplaced,
                _unplaced_table(
                    source=None,
                    row=pd.array([pd.NA] * len(city_without), dtype="Int64"),
                    community_id=city_without["community_id"].to_numpy(object),
                    name=_column(city_without, "name"),
                    district_code=_column(city_without, "district_code"),
                    reasons=["city_without_geometry"] * len(city_without),
                ),
            ],
            ignore_index=True,
        )

    absent = ~_present(accepted.geometry.to_numpy())
    by = matches["matched_by"].to_numpy(object)
    took = absent[positions] & np.isin(by, ("id", "name")) & ~lost
    located = pd.DataFrame(
        {
            "row": row_numbers[positions[took]],
            "community_id": matches["community_id"].to_numpy(object)[took],
            "name": _column(accepted, "name")[positions[took]],
            "located_by": by[took],
        },
        columns=list(LOCATED_COLUMNS),
    )
    return written, located, unplaced


def _with_file_rows(conflicts: pd.DataFrame, source: str, row_numbers: np.ndarray) -> pd.DataFrame:
    """The merge's conflicts with each row of the import as the file's row number."""
    conflicts = conflicts.copy()
    conflicts["rows"] = [
        [int(row_numbers[row - 1]) if label == source else row for label, row in zip(sources, rows)]
        for sources, rows in zip(conflicts["sources"], conflicts["rows"])
    ]
    return conflicts


def _column(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    values = frame[column].astype(object)
    return np.array(values.where(values.notna(), None).to_numpy(object), dtype=object)  # writable


def _unplaced_rows(frame, row_numbers, reasons: np.ndarray, source: str) -> pd.DataFrame:
    listed = pd.notna(reasons)
    return _unplaced_table(
        source=[source] * int(listed.sum()),
        row=pd.array(row_numbers[listed], dtype="Int64"),
        community_id=_column(frame, "community_id")[listed],
        name=_column(frame, "name")[listed],
        district_code=_column(frame, "district_code")[listed],
        reasons=reasons[listed],
    )


def _unplaced_table(source, row, community_id, name, district_code, reasons) -> pd.DataFrame:
    reasons = list(reasons)
    return pd.DataFrame(
        {
            "source": pd.Series(source if source is not None else [None] * len(reasons), dtype=object),
            "row": pd.Series(row, dtype="Int64"),
            "community_id": pd.Series(community_id, dtype=object),
            "name": pd.Series(name, dtype=object),
            "district_code": pd.Series(district_code, dtype=object),
            "reason_code": pd.Series(reasons, dtype=object),
            "reason_zh": pd.Series([REASONS[r][0] for r in reasons], dtype=object),
            "reason_en": pd.Series([REASONS[r][1] for r in reasons], dtype=object),
        },
        columns=list(UNPLACED_COLUMNS),
    )


# --------------------------------------------------------------------------- paths and applications


def _combined_paths(parts) -> tuple[gpd.GeoDataFrame, int]:
    """The paths of ``parts`` in order; a row with the ``path_id`` of a row in a later part is superseded by it.

    Repeats within one part are kept (they are that part's to resolve). Returns the paths and
    the number of rows superseded.
    """
    parts = [part for part in parts if part is not None]
    later: set = set()
    kept, superseded = [], 0
    for part in reversed(parts):
        ids = part["path_id"].map(normalised_id) if "path_id" in part.columns else pd.Series([None] * len(part))
        replaced = ids.isin(later).to_numpy()
        superseded += int(replaced.sum())
        kept.insert(0, part[~replaced])
        later |= set(ids.dropna())
    filled = [part for part in kept if len(part)] or kept[:1]
    frame = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0].reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_CRS), superseded


def _kept_rows(part: pd.DataFrame, later_parts) -> int:
    """Rows of ``part`` that no row of ``later_parts`` supersedes (the same ``path_id``; see _combined_paths)."""
    if "path_id" not in part.columns:
        return len(part)
    later = set()
    for other in later_parts:
        if other is not None and "path_id" in other.columns:
            later |= set(other["path_id"].map(normalised_id).dropna())
    return int((~part["path_id"].map(normalised_id).isin(later)).sum())


def _application_moves(layers: dict, communities: pd.DataFrame) -> tuple[int, int]:
    """Rows of ``applications`` naming none of ``communities`` (set aside), and rows of
    ``applications_unmatched`` naming one of them (restored); IDs matched as text, as
    :func:`_split_applications` matches them."""
    known = set(communities["community_id"].astype(str))

    def naming(name: str) -> np.ndarray:
        table = layers.get(name)
        if table is None:
            return np.zeros(0, dtype=bool)
        if "community_id" not in table.columns:
            return np.zeros(len(table), dtype=bool)
        return table["community_id"].astype(str).isin(known).to_numpy()

    return int((~naming(APPLICATIONS)).sum()), int(naming(UNMATCHED_APPLICATIONS).sum())


def _split_applications(layers: dict, communities: pd.DataFrame) -> dict:
    """``applications`` naming a written community and ``applications_unmatched`` (the rest), from both tables.

    Matched as :func:`geo.analysis.eligibility.mark_applications` matches them (the IDs as text), so
    the plan never meets an application it would refuse. Empty dict when the city has neither.
    """
    parts = [layers[name] for name in (APPLICATIONS, UNMATCHED_APPLICATIONS) if name in layers]
    if not parts:
        return {}
    table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if "community_id" in table.columns:
        known = set(communities["community_id"].astype(str))
        matched = table["community_id"].astype(str).isin(known).to_numpy()
    else:
        matched = np.zeros(len(table), dtype=bool)
    if matched.all() and UNMATCHED_APPLICATIONS not in layers:
        return {APPLICATIONS: table}  # unchanged
    return {
        APPLICATIONS: table[matched].reset_index(drop=True),
        UNMATCHED_APPLICATIONS: table[~matched].reset_index(drop=True),
    }


def _with_returned_applications(layers: dict, accepted: pd.DataFrame, merged: MergeResult, written: pd.DataFrame):
    """``layers`` with the merged return's applications added to ``applications``, and how many were added.

    A returned row's ``application_date`` goes to the community the row was merged into, if that
    community is written; per community the earliest date; one the city's tables hold at that
    date or earlier is not added again (module docstring). ``layers`` itself is not changed.
    """
    if "application_date" not in accepted.columns:
        return layers, 0
    matches = merged.matches
    dates = pd.to_datetime(accepted["application_date"], errors="coerce").to_numpy()[matches["row"].to_numpy(int) - 1]
    returned = pd.DataFrame({"community_id": matches["community_id"].to_numpy(object), "application_date": dates})
    keep = returned["community_id"].notna() & returned["application_date"].notna()
    keep &= returned["community_id"].astype(str).isin(set(written["community_id"].astype(str)))
    returned = returned[keep.to_numpy()]
    if returned.empty:
        return layers, 0
    returned = returned.groupby(returned["community_id"].astype(str), sort=False)["application_date"].min()
    parts = [layers[name] for name in (APPLICATIONS, UNMATCHED_APPLICATIONS) if name in layers]
    held = pd.Series(dtype="datetime64[ns]")
    if parts and all({"community_id", "application_date"} <= set(part.columns) for part in parts):
        table = pd.concat([part[["community_id", "application_date"]] for part in parts], ignore_index=True)
        held = (
            pd.to_datetime(table["application_date"], errors="coerce").groupby(table["community_id"].astype(str)).min()
        )
    held_for = pd.to_datetime(held.reindex(returned.index))
    new = returned[~(held_for.notna() & (held_for <= returned)).to_numpy()]
    if new.empty:
        return layers, 0
    city_table = layers.get(APPLICATIONS)
    added = pd.DataFrame(
        {
            "community_id": pd.array(new.index.to_numpy(object), dtype="string"),
            "application_date": new.to_numpy(dtype="datetime64[ns]"),
        }
    )
    if city_table is not None:
        dtypes = {column: city_table[column].dtype for column in added.columns if column in city_table.columns}
        added = added.astype(dtypes, errors="ignore")
        table = pd.concat([city_table, added], ignore_index=True)
    else:
        table = added
    return {**layers, APPLICATIONS: table}, len(added)


# --------------------------------------------------------------------------- public sites


def workbook_sites(path, crs=None, config=None, districts=None, *, display_name=None) -> IntakeResult | None:
    """The public sites of a filled survey template: its 公共场地 / Public sites sheet, imported row by row.

    None when ``path`` is no Excel workbook, has no such sheet (another sheet is never read as sites:
    its communities would pass for sites) or the sheet has no data row (the template as downloaded).
    The arguments are :func:`geo.intake.importer.import_file`'s. Meant for a workbook whose
    communities were imported first, within the [intake] limits (the archive is then known to be safe).
    """
    import zipfile

    import openpyxl

    from geo.intake.template import SITES_SHEET

    try:
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                return None
    except (zipfile.BadZipFile, OSError):
        return None
    with open(path, "rb") as handle:  # a file object: openpyxl would refuse a name not ending in .xlsx
        book = openpyxl.load_workbook(handle, read_only=True, keep_links=False)
        names = list(book.sheetnames)
        book.close()
    if not set(SITES_SHEET.values()) & set(names):
        return None
    result = import_file(path, "public_sites", crs, config, districts, display_name=display_name)
    return result if result.input_rows else None


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})


def _site_imports(public_sites, source: str) -> list[tuple[str, gpd.GeoDataFrame, np.ndarray, int]]:
    """Each import of sites as ``(source, accepted sites as the city file keeps them, file rows, rows rejected)``."""
    from geo.intake.newcity import site_defaults

    if public_sites is None:
        return []
    given = public_sites.items() if isinstance(public_sites, Mapping) else [(source, public_sites)]
    imports = []
    for name, imported in given:
        frame, rows = _accepted(imported, "public_sites")
        rejected = imported.rejected if isinstance(imported, IntakeResult) else 0
        imports.append((str(name), site_defaults(frame), rows, int(rejected)))
    return imports


def _assembled_sites(city_sites, imports: list, mode: str, community_ids: pd.Series):
    """The public sites to write, the values the upload changed, the sites not written, and the counts.

    ``city_sites`` (EPSG:4326 or None) and the imports of :func:`_site_imports`: see the module docstring.
    """
    before = None if city_sites is None else len(city_sites)
    if not imports:
        counts = {} if city_sites is None else _site_counts(before, 0, 0, 0, before, 0, 0, before)
        return city_sites, _empty(SITE_UPDATE_COLUMNS), _empty(SITE_UNPLACED_COLUMNS), counts
    new = pd.concat(
        [frame.assign(_source=name, _row=rows) for name, frame, rows, _ in imports], ignore_index=True
    ).set_crs(STORAGE_CRS, allow_override=True)
    ids = new["site_id"].map(normalised_id)
    reasons = np.full(len(new), None, dtype=object)
    reasons[ids.duplicated(keep="last").to_numpy()] = "site_id_repeated"  # a later import's row wins
    reasons[ids.isin(set(community_ids.map(normalised_id).dropna())).to_numpy()] = "site_id_is_community"
    listed = pd.notna(reasons)
    unplaced = pd.DataFrame(
        {
            "source": new["_source"][listed].to_numpy(object),
            "row": pd.array(new["_row"][listed].to_numpy(), dtype="Int64"),
            "site_id": _column(new, "site_id")[listed],
            "name": _column(new, "name")[listed],
            "reason_code": reasons[listed],
            "reason_zh": [label("message", SITE_REASONS[r], "zh") for r in reasons[listed]],
            "reason_en": [label("message", SITE_REASONS[r], "en") for r in reasons[listed]],
        },
        columns=list(SITE_UNPLACED_COLUMNS),
    )
    new, ids = new[~listed].reset_index(drop=True), ids[~listed].reset_index(drop=True)

    base = city_sites if city_sites is not None else new.iloc[0:0].drop(columns=["_source", "_row"])
    base_ids = base["site_id"].map(normalised_id).reset_index(drop=True)
    position = pd.Series(np.arange(len(base)), index=base_ids.to_numpy())
    position = position[position.index.notna() & ~position.index.duplicated()]
    replaces = ids.map(position)  # the city row each new site replaces (NaN: a new ID)
    updates = _site_updates(base.reset_index(drop=True), new, replaces)
    replaced = base_ids.isin(set(ids)).to_numpy()
    # Each new site takes the place of the city row it replaces; new IDs follow the city's sites.
    order_new = replaces.fillna(pd.Series(len(base) + np.arange(len(new)), dtype=float)).to_numpy(float)
    kept = base.reset_index(drop=True)[~replaced] if mode == "merge" else base.iloc[0:0]
    order_kept = np.flatnonzero(~replaced).astype(float) if mode == "merge" else np.zeros(0)
    frames = [part for part in (kept, new.drop(columns=["_source", "_row"])) if len(part)] or [kept]
    sites = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    sites = sites.iloc[np.argsort(np.r_[order_kept, order_new][: len(sites)], kind="stable")]
    sites = gpd.GeoDataFrame(sites.reset_index(drop=True), geometry="geometry", crs=STORAGE_CRS)

    n_replaced = int(replaces.notna().sum())
    n_updated = int(updates["site_id"].nunique())
    unchanged = n_replaced - n_updated + (len(kept) if mode == "merge" else 0)
    counts = _site_counts(
        before or 0,
        sum(len(frame) for _, frame, _, _ in imports),
        len(new) - n_replaced,
        n_updated,
        unchanged,
        0 if mode == "merge" else (before or 0) - n_replaced,
        sum(rejected for *_, rejected in imports) + len(unplaced),
        len(sites),
    )
    return sites, updates, unplaced, counts


def _site_counts(before, imported, added, updated, unchanged, removed, rejected, after) -> dict:
    values = (before, imported, added, updated, unchanged, removed, rejected, after)
    names = ("before", "imported", "added", "updated", "unchanged", "removed", "rejected", "after")
    return {f"public_sites_{name}": int(value) for name, value in zip(names, values)}


def _site_updates(base: gpd.GeoDataFrame, new: gpd.GeoDataFrame, replaces: pd.Series) -> pd.DataFrame:
    """One row per value of a city site (``base``) that the new site of the same ID changes (module docstring)."""
    from geo.data import schema

    rows = []
    for j in np.flatnonzero(replaces.notna().to_numpy()):
        i = int(replaces.iloc[j])
        for column in [*schema.LAYERS["public_sites"], "geometry"]:
            old = base[column].iloc[i] if column in base.columns else None
            value = new[column].iloc[j] if column in new.columns else None
            if _same_value(old, value):
                continue
            rows.append(
                (
                    new["_source"].iloc[j],
                    int(new["_row"].iloc[j]),
                    new["site_id"].iloc[j],
                    new["name"].iloc[j],
                    column,
                    None if _missing(old) else old,
                    None if _missing(value) else value,
                )
            )
    table = pd.DataFrame(rows, columns=list(SITE_UPDATE_COLUMNS), dtype=object)
    table["row"] = table["row"].astype("Int64")
    return table


def _missing(value) -> bool:
    return value is None or (not isinstance(value, shapely.Geometry) and bool(pd.isna(value)))


def _same_value(old, new) -> bool:
    if _missing(old) or _missing(new):
        return _missing(old) and _missing(new)
    if isinstance(old, shapely.Geometry) or isinstance(new, shapely.Geometry):
        # 1e-7° is about a centimetre: a site written and read back is the same place.
        return isinstance(old, shapely.Geometry) and isinstance(new, shapely.Geometry) and old.equals_exact(new, 1e-7)
    if isinstance(old, (int, float, np.number)) and isinstance(new, (int, float, np.number)):
        return bool(np.isclose(float(old), float(new)))
    return str(old).strip() == str(new).strip()
