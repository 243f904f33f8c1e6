"""The land-less communities in words (issue 15): the district offices' list, on the page, in the CLI and in files.

Render only: every figure comes from :func:`geo.plan.landless_table` (which communities are land-less,
their nearest eligible public sites, the pick that serves each); this module says it in a language.

Columns of :func:`landless_list` (:data:`LIST_COLUMNS`, in this order but ``reason_text`` last):

==========================  ==========================================================================
``community_id``, ``name``  the community as the data names it (text, never markup)
``district_name``           its district, in the language
``population``              residents
``reason_text``             why it cannot host a set, in words (a land reason, and any other)
``site_{k}_name``           the k-th nearest eligible public site (k = 1 … 3), empty when there is none
``site_{k}_m``              its distance in metres (straight line, from the set's point to the community)
``served_by_program_name``  the programme of the pick that now serves it, or 尚无方案覆盖 / not yet
``served_by_rank``          that pick's rank in its programme (empty when none)
``served_by_name``          the pick's name (a community or a public site); for a district office, a
                            pick in a district it may not see is named by its district only
``served_by_kind``          小区 / 公共场地 (community / public site)
==========================  ==========================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.analysis.eligibility import reason_labels
from geo.analysis.sites import NEAREST_SITES
from geo.i18n import text
from geo.plan import Plan

SITE_COLUMNS = tuple(c for k in range(1, NEAREST_SITES + 1) for c in (f"site_{k}_name", f"site_{k}_m"))
LIST_COLUMNS = (
    "community_id",
    "name",
    "district_name",
    "population",
    "served_by_program_name",
    "served_by_rank",
    "served_by_name",
    "served_by_kind",
    *SITE_COLUMNS,
    "reason_text",
)
"""The list's columns: the answer a district office looks for first (which pick serves the community), then
the sites that could, then why it has no land (the longest text) last."""


def pick_districts(plan: Plan | None) -> dict[str, str]:
    """The district code of each pick of ``plan`` (a community's, or a public site's nearest community's), by id."""
    if plan is None:
        return {}
    selected = plan.selected
    if not len(selected) or "district_code" not in selected.columns:
        return {}
    return dict(zip(selected["community_id"].astype(str), selected["district_code"].astype(str)))


def landless_list(
    table: pd.DataFrame,
    plan: Plan | None,
    lang: str = "zh",
    district_names: dict[str, str] | None = None,
    visible: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """The land-less communities of ``table`` (:func:`geo.plan.landless_table`) in ``lang``: :data:`LIST_COLUMNS`.

    Parameters
    ----------
    table : DataFrame
        :func:`geo.plan.landless_table` output (distances in metres).
    plan : Plan or None
        The plan ``table`` was made with: its programmes' names and its picks' districts.
    lang : {"zh", "en"}
    district_names : dict, optional
        District code → name in ``lang`` (default: the table's own ``district_name``).
    visible : tuple of str, optional
        A district office's district codes: a serving pick in another district is named by that
        district only (``landless_pick_elsewhere``), not by its community's or site's name. None: every name.

    Returns
    -------
    DataFrame
        One row per row of ``table``, in its order; missing figures stay missing (empty in a file).
    """
    programs = {o.program.key: o.program.name(lang) for o in plan.outcomes} if plan is not None else {}
    codes = table["district_code"].astype(str)
    names = district_names or {}
    own = table["district_name"] if "district_name" in table.columns else codes
    served = table["served_by_id"].notna().to_numpy(dtype=bool)
    program_name = [
        programs.get(key, key) if hit else text("landless_not_served", lang)
        for key, hit in zip(table["served_by_program"].astype(object), served)
    ]
    kind = [
        text(f"landless_kind_{value}", lang) if hit and value in ("community", "site") else None
        for value, hit in zip(table["served_by_kind"].astype(object), served)
    ]
    pick_name = table["served_by_name"].astype(object).where(served, None).tolist()
    if visible is not None:
        where = pick_districts(plan)
        for row, (pick, hit) in enumerate(zip(table["served_by_id"].astype(object), served)):
            district = where.get(str(pick)) if hit else None
            if hit and district not in visible:
                pick_name[row] = text("landless_pick_elsewhere", lang, district=names.get(district, district or ""))
    listed = pd.DataFrame(
        {
            "community_id": table["community_id"].astype("string").to_numpy(),
            "name": table["name"].astype("string").to_numpy(),
            "district_name": pd.array(
                [names.get(code, fallback) for code, fallback in zip(codes, own.astype(object))], dtype="string"
            ),
            "population": pd.array(table["population"], dtype="Int64"),
            "reason_text": reason_labels(table["reasons"].reset_index(drop=True), lang).astype("string").to_numpy(),
        }
    )
    for column in SITE_COLUMNS:
        values = table[column].reset_index(drop=True)
        listed[column] = values.astype("Float64") if column.endswith("_m") else values.astype("string")
    listed["served_by_program_name"] = pd.array(program_name, dtype="string")
    listed["served_by_rank"] = table["served_by_rank"].reset_index(drop=True).astype("Float64").round().astype("Int64")
    listed["served_by_name"] = pd.array(pick_name, dtype="string")
    listed["served_by_kind"] = pd.array(kind, dtype="string")
    return listed[list(LIST_COLUMNS)]


def landless_counts(communities: pd.DataFrame, table: pd.DataFrame) -> dict[str, int]:
    """The figures the list's headline says, from the communities it was made of (:func:`geo.plan.landless_table`).

    ``land``: communities not eligible for a land reason (no open space, or parking on it); ``within``:
    those of them already within the walk radius of a set; ``landless``: the rest, the list's rows;
    ``residents`` their residents; ``served``: those a pick of the plan now serves.
    """
    from geo.analysis.eligibility import LAND_REASONS, has_reason

    land = np.logical_or.reduce([has_reason(communities, code) for code in LAND_REASONS]) if len(communities) else []
    land = np.asarray(land, dtype=bool)
    within = communities["served_within_radius"].to_numpy(dtype=bool) if len(communities) else land
    return {
        "land": int(land.sum()),
        "within": int((land & within).sum()),
        "landless": int(len(table)),
        "residents": int(pd.to_numeric(table["population"], errors="coerce").fillna(0).sum()),
        "served": int(table["served_by_id"].notna().sum()),
    }
