"""Eligibility: which communities can get a fitness path, and every reason why the others cannot.

Rules (thresholds from ``config.toml``); several reasons can apply to one community:

========================  ==============================================================
reason code               applies when
========================  ==============================================================
``served_inside``         a set already stands inside the community
``served_within_radius``  a set stands within the walk radius — only a reason when
                          ``eligibility.served_within_radius_is_served`` is true
``no_open_space``         usable open space is below one set's footprint
                          (``eligibility.min_open_space_m2``, default 150 m²)
``parking_no_space``      public space is used for parking and no other open space is left
                          (the seed's old-community case; implies ``no_open_space``)
``not_residential``       an optional ``residential`` column says False
``missing_data``          a value the rules need is missing (``missing_fields`` names it);
                          the community is reported, never silently dropped
========================  ==============================================================

A community is ``eligible`` when no reason applies. Applications received through a district
office (``application_date`` column, or an applications table merged by ``community_id``) are
marked ``applied``; an applicant that is not eligible for a land reason is flagged
``needs_land_solution`` for district follow-up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.config import Config
from geo.errors import DataError

REASONS = (
    "served_inside",
    "served_within_radius",
    "no_open_space",
    "parking_no_space",
    "not_residential",
    "missing_data",
)
LAND_REASONS = ("no_open_space", "parking_no_space")
REASON_SEPARATOR = ";"
# Fields the rules read; a missing value makes the decision impossible.
NEEDED_FIELDS = ("population", "open_space_m2")


def mark_applications(communities: pd.DataFrame, applications: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add ``applied`` (bool) and ``application_date`` from a column or an applications table.

    Parameters
    ----------
    communities : DataFrame
        Communities; may already carry an ``application_date`` column (missing = no application).
    applications : DataFrame, optional
        ``community_id`` and ``application_date``; an id unknown among the communities raises
        ValueError naming it, since an application must never be silently lost.

    Returns
    -------
    DataFrame
        A copy with ``application_date`` (datetime64, NaT when none) and ``applied``.
    """
    result = communities.copy()
    dates = pd.to_datetime(result.get("application_date", pd.Series(pd.NaT, index=result.index)), errors="coerce")
    if applications is not None and len(applications):
        for column in ("community_id", "application_date"):
            if column not in applications.columns:
                raise DataError(f"applications table needs a '{column}' column")
        unknown = sorted(set(applications["community_id"].astype(str)) - set(result["community_id"].astype(str)))
        if unknown:
            raise DataError(f"applications name unknown communities: {', '.join(unknown[:10])}")
        earliest = (
            applications.assign(application_date=pd.to_datetime(applications["application_date"], errors="coerce"))
            .groupby(applications["community_id"].astype(str))["application_date"]
            .min()
        )
        from_table = result["community_id"].astype(str).map(earliest)
        dates = dates.where(dates.notna() & ~(from_table < dates), from_table)
    result["application_date"] = pd.to_datetime(dates)
    result["applied"] = result["application_date"].notna().to_numpy()
    return result


def assess_eligibility(covered: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Add ``eligible``, ``reasons``, ``missing_fields`` and ``needs_land_solution``.

    Parameters
    ----------
    covered : DataFrame
        Output of :func:`geo.analysis.coverage.community_coverage` (``served_inside``,
        ``served_within_radius``), with ``population``, ``open_space_m2`` and optionally
        ``public_space_used_for_parking``, ``residential``, ``application_date``/``applied``.
    config : Config
        ``min_open_space_m2`` (m²) and ``served_within_radius_is_served``.

    Returns
    -------
    DataFrame
        A copy with ``eligible`` (bool), ``reasons`` (reason codes joined by ``;``, empty when
        eligible), ``missing_fields`` (``;``-joined names), ``applied`` (bool) and
        ``needs_land_solution`` (bool: applied, not eligible, and a land reason applies).
    """
    result = covered if "applied" in covered.columns else mark_applications(covered)
    result = result.copy()
    n = len(result)
    open_space = pd.to_numeric(result["open_space_m2"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    no_space = open_space < config.min_open_space_m2  # NaN compares False: reported as missing instead
    parking = _bool_column(result, "public_space_used_for_parking")
    residential = _bool_column(result, "residential", default=True)

    missing = np.zeros((n, len(NEEDED_FIELDS)), dtype=bool)
    for k, field in enumerate(NEEDED_FIELDS):
        missing[:, k] = result[field].isna().to_numpy() if field in result else True

    flags = {
        "served_inside": result["served_inside"].to_numpy(dtype=bool),
        "served_within_radius": (
            result["served_within_radius"].to_numpy(dtype=bool) & ~result["served_inside"].to_numpy(dtype=bool)
            if config.served_within_radius_is_served
            else np.zeros(n, dtype=bool)
        ),
        "no_open_space": no_space,
        "parking_no_space": no_space & parking,
        "not_residential": ~residential,
        "missing_data": missing.any(axis=1),
    }
    result["reasons"] = _join_flags(flags, REASONS)
    result["missing_fields"] = _join_flags({f: missing[:, k] for k, f in enumerate(NEEDED_FIELDS)}, NEEDED_FIELDS)
    result["eligible"] = ~np.logical_or.reduce([flags[r] for r in REASONS])
    land = flags["no_open_space"] | flags["parking_no_space"]
    result["needs_land_solution"] = result["applied"].to_numpy(dtype=bool) & ~result["eligible"].to_numpy() & land
    return result


def reason_labels(reasons: pd.Series, lang: str = "zh") -> pd.Series:
    """Human-readable reasons: each ``;``-joined code list rendered in ``lang``."""
    from geo.i18n import reason_label, text

    separator = text("reason_separator", lang)
    return reasons.fillna("").map(
        lambda codes: separator.join(reason_label(code, lang) for code in codes.split(REASON_SEPARATOR) if code)
    )


def eligibility_summary(assessed: pd.DataFrame) -> pd.DataFrame:
    """Per district: communities, eligible, applied, needing a land solution, and each reason's count."""
    frame = pd.DataFrame(
        {
            "district_code": assessed["district_code"].astype(str).to_numpy(),
            "communities": 1,
            "eligible": assessed["eligible"].to_numpy(dtype=int),
            "applied": assessed["applied"].to_numpy(dtype=int),
            "needs_land_solution": assessed["needs_land_solution"].to_numpy(dtype=int),
        }
    )
    reasons = assessed["reasons"].fillna("").to_numpy(dtype=str)
    for code in REASONS:
        frame[f"reason_{code}"] = np.char.find(np.char.add(np.char.add(";", reasons), ";"), f";{code};") >= 0
    return frame.groupby("district_code", sort=True).sum().astype("int64").reset_index()


def eligibility_counts(assessed: pd.DataFrame) -> dict[str, int]:
    """Communities, eligible, not eligible, applied and needing a land solution among ``assessed``.

    ``assessed`` has the columns of :func:`assess_eligibility`; ``served_within_radius`` too
    (from coverage) adds ``unserved_eligible`` and ``unserved_ineligible``: communities with no
    set within the walk radius that can / cannot get one.
    """
    eligible = assessed["eligible"].to_numpy(dtype=bool)
    counts = {
        "communities": int(len(assessed)),
        "eligible": int(eligible.sum()),
        "ineligible": int((~eligible).sum()),
        "applied": int(assessed["applied"].to_numpy(dtype=bool).sum()) if "applied" in assessed else 0,
        "needs_land_solution": (
            int(assessed["needs_land_solution"].to_numpy(dtype=bool).sum()) if "needs_land_solution" in assessed else 0
        ),
    }
    if "served_within_radius" in assessed:
        unserved = ~assessed["served_within_radius"].to_numpy(dtype=bool)
        counts["unserved_eligible"] = int((unserved & eligible).sum())
        counts["unserved_ineligible"] = int((unserved & ~eligible).sum())
    return counts


# The eligibility list's columns, in order, as exported (CLI and app); geometry follows.
ELIGIBILITY_COLUMNS = (
    "community_id",
    "name",
    "district_code",
    "district_name",
    "eligible",
    "reason_text",
    "missing_fields",
    "applied",
    "application_date",
    "needs_land_solution",
    "open_space_m2",
    "public_space_used_for_parking",
    "served_inside",
    "nearest_set_m",
    "population",
    "built_year",
)

ELIGIBILITY_FILTERS = ("all", "eligible", "ineligible")


def filter_assessed(
    assessed: pd.DataFrame, status: str = "all", reasons=(), applied_only: bool = False, name_contains: str = ""
) -> pd.DataFrame:
    """The rows of ``assessed`` a district office asked for (every condition must hold).

    Parameters
    ----------
    assessed : pandas.DataFrame
        Communities with the columns of :func:`assess_eligibility` and ``name``.
    status : {"all", "eligible", "ineligible"}
    reasons : iterable of str
        Reason codes; a row is kept when it has at least one of them (none given: no condition).
    applied_only : bool
        Keep only communities that applied.
    name_contains : str
        Keep names containing this text, as typed (no pattern).

    Raises
    ------
    ValueError
        If ``status`` or a reason code is unknown.
    """
    if status not in ELIGIBILITY_FILTERS:
        raise ValueError(f"status must be one of {', '.join(ELIGIBILITY_FILTERS)}, got {status!r}")
    reasons = list(reasons)
    unknown = sorted(set(reasons) - set(REASONS))
    if unknown:
        raise ValueError(f"unknown reason code(s) {', '.join(unknown)}; known: {', '.join(REASONS)}")
    keep = np.ones(len(assessed), dtype=bool)
    if status != "all":
        keep &= assessed["eligible"].to_numpy(dtype=bool) == (status == "eligible")
    if reasons:
        padded = REASON_SEPARATOR + assessed["reasons"].fillna("").astype(str) + REASON_SEPARATOR
        keep &= np.logical_or.reduce(
            [
                padded.str.contains(f"{REASON_SEPARATOR}{code}{REASON_SEPARATOR}", regex=False).to_numpy()
                for code in reasons
            ]
        )
    if applied_only:
        keep &= assessed["applied"].to_numpy(dtype=bool)
    if name_contains:
        names = assessed["name"].astype("string")
        keep &= names.str.contains(name_contains, regex=False).fillna(False).to_numpy(dtype=bool)
    return assessed[keep]


def _bool_column(frame: pd.DataFrame, column: str, default: bool = False) -> np.ndarray:
    """A boolean array from an optional nullable column; missing values take ``default``."""
    if column not in frame:
        return np.full(len(frame), default)
    return frame[column].astype("boolean").fillna(default).to_numpy(dtype=bool)


def _join_flags(flags: dict[str, np.ndarray], order) -> np.ndarray:
    """Join the names of the true flags per row with ``;`` (vectorised over rows)."""
    n = len(next(iter(flags.values())))
    joined = np.full(n, "", dtype=object)
    for name in order:
        add = flags[name]
        joined[add] = np.where(joined[add] == "", name, joined[add] + REASON_SEPARATOR + name)
    return joined
