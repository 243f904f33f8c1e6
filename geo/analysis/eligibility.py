"""Eligibility: which communities can get a fitness path, and every reason why the others cannot.

Rules (thresholds from ``config.toml``); several reasons can apply to one community:

========================  ==============================================================
reason code               applies when
========================  ==============================================================
``served_inside``         a set already stands inside the community
``served_within_radius``  a set stands within the walk radius — only a reason under the
                          ``walk`` service standard (``coverage.standard``)
``no_open_space``         usable open space is below one set's footprint
                          (``eligibility.min_open_space_m2``, default 150 m²)
``parking_no_space``      public space is used for parking and no other open space is left
                          (the seed's old-community case; implies ``no_open_space``)
``not_residential``       an optional ``residential`` column says False
``missing_data``          the population is missing (``missing_fields`` names it); the
                          community is reported, never silently dropped
``to_survey``             the open space is unknown (empty cell, or no ``open_space_m2``
                          column at all) and no other reason applies: to be surveyed on site
                          (待现场核查); only a reason when ``eligibility.unknown_open_space``
                          is ``"survey_first"`` (the default)
========================  ==============================================================

``served`` says whether a community is served under the service standard in force
(``coverage.standard``): ``inside`` (the seed's: a set inside it; the default) or ``walk`` (a set
within the walk radius). Every count of "served", "unserved" and "eligible" follows it.

A community is ``eligible`` when no reason applies. A community whose open space is unknown and
that no other rule excludes is flagged ``needs_site_check``: with ``unknown_open_space =
"survey_first"`` it is not eligible (reason ``to_survey``); with ``"assume_room"`` it is assumed to
have room, is eligible, and its pick says that the site must be checked before building.
``missing_fields`` names every field the rules read that is missing (``population``,
``open_space_m2``), whichever reason it led to.

Applications received through a district office (``application_date`` column, or an applications
table merged by ``community_id``) are marked ``applied``; an unserved applicant that is not eligible for a
land reason is flagged ``needs_land_solution`` for district follow-up.

Columns a city's own file may lack (``open_space_m2``, ``public_space_used_for_parking``,
``built_year``, ``share_60plus``, ``share_under14``) are added as missing values
(:func:`with_optional_columns`). An optional ``population_source`` column says how each
population was obtained (:data:`POPULATION_SOURCES`; an absent column means all surveyed); it is
carried, not added.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.config import Config
from geo.data.schema import layer_dtypes
from geo.errors import DataError

REASONS = (
    "served_inside",
    "served_within_radius",
    "no_open_space",
    "parking_no_space",
    "not_residential",
    "missing_data",
    "to_survey",
)
LAND_REASONS = ("no_open_space", "parking_no_space")
REASON_SEPARATOR = ";"
# Columns a plan's row has only for a public site (geo.optimize.allocate.candidate_rows).
SITE_PICK_COLUMNS = ("candidate_kind", "site_kind", "site_consent_unknown")
# Fields the rules read (named in ``missing_fields`` when missing): a missing population makes the
# decision impossible (missing_data); a missing open space is surveyed on site (to_survey).
NEEDED_FIELDS = ("population", "open_space_m2")
# Community columns the analysis reads that a city's own file may not have: added as missing values.
OPTIONAL_FIELDS = ("open_space_m2", "public_space_used_for_parking", "built_year", "share_60plus", "share_under14")
# How a population was obtained (``population_source``): counted by a survey, or estimated at import
# as households × persons per household, or as polygon area × residential density.
POPULATION_SOURCES = ("surveyed", "households", "area")
ESTIMATED_SOURCES = ("households", "area")


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


def with_optional_columns(communities: pd.DataFrame) -> pd.DataFrame:
    """``communities`` with each absent column of :data:`OPTIONAL_FIELDS` added as missing values.

    The added columns have the schema's nullable dtype (:func:`geo.data.schema.layer_dtypes`), so a
    city without an open-space or built-year column reads as one whose every cell is empty. A frame
    that has them all is returned as it is (not copied).
    """
    absent = [column for column in OPTIONAL_FIELDS if column not in communities.columns]
    if not absent:
        return communities
    dtypes = layer_dtypes("communities")
    return communities.assign(**{column: pd.Series(index=communities.index, dtype=dtypes[column]) for column in absent})


def assess_eligibility(covered: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Add ``eligible``, ``reasons``, ``missing_fields``, ``needs_land_solution`` and ``needs_site_check``.

    Parameters
    ----------
    covered : DataFrame
        Output of :func:`geo.analysis.coverage.community_coverage` (``served_inside``,
        ``served_within_radius``), with ``population`` and optionally ``open_space_m2`` (m²),
        ``public_space_used_for_parking``, ``residential``, ``application_date``/``applied``.
    config : Config
        ``min_open_space_m2`` (m²), ``standard`` (``"inside"`` or ``"walk"``) and ``unknown_open_space``
        (``"survey_first"`` or ``"assume_room"``).

    Returns
    -------
    DataFrame
        A copy with the absent :data:`OPTIONAL_FIELDS` added as missing values, ``served`` (bool:
        served under ``config.standard``), ``eligible``
        (bool), ``reasons`` (reason codes joined by ``;``, empty when eligible),
        ``missing_fields`` (``;``-joined names), ``applied`` (bool), ``needs_land_solution``
        (bool: applied, unserved under the standard, not eligible, and a land reason applies) and
        ``needs_site_check`` (bool: open space unknown and no other reason applies).
    """
    result = covered if "applied" in covered.columns else mark_applications(covered)
    result = with_optional_columns(result).copy()
    n = len(result)
    open_space = pd.to_numeric(result["open_space_m2"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    no_space = open_space < config.min_open_space_m2  # NaN compares False: surveyed on site instead
    parking = _bool_column(result, "public_space_used_for_parking")
    residential = _bool_column(result, "residential", default=True)

    missing = np.zeros((n, len(NEEDED_FIELDS)), dtype=bool)
    for k, field in enumerate(NEEDED_FIELDS):
        missing[:, k] = result[field].isna().to_numpy() if field in result else True

    inside = result["served_inside"].to_numpy(dtype=bool)
    within = result["served_within_radius"].to_numpy(dtype=bool) | inside
    walk = config.standard == "walk"
    result["served"] = within if walk else inside
    flags = {
        "served_inside": inside,
        "served_within_radius": within & ~inside if walk else np.zeros(n, dtype=bool),
        "no_open_space": no_space,
        "parking_no_space": no_space & parking,
        "not_residential": ~residential,
        "missing_data": missing[:, NEEDED_FIELDS.index("population")],
    }
    excluded = np.logical_or.reduce(list(flags.values()))
    site_check = np.isnan(open_space) & ~excluded
    flags["to_survey"] = site_check if config.unknown_open_space == "survey_first" else np.zeros(n, dtype=bool)
    result["reasons"] = _join_flags(flags, REASONS)
    result["missing_fields"] = _join_flags({f: missing[:, k] for k, f in enumerate(NEEDED_FIELDS)}, NEEDED_FIELDS)
    result["eligible"] = ~np.logical_or.reduce([flags[r] for r in REASONS])
    land = flags["no_open_space"] | flags["parking_no_space"]
    # Only a community the standard counts as unserved needs land: one already served has its set.
    result["needs_land_solution"] = (
        result["applied"].to_numpy(dtype=bool) & ~result["eligible"].to_numpy() & land & ~result["served"].to_numpy()
    )
    result["needs_site_check"] = site_check
    return result


def has_reason(assessed: pd.DataFrame, code: str) -> np.ndarray:
    """Whether each row's ``reasons`` holds the reason ``code`` (bool array)."""
    padded = REASON_SEPARATOR + assessed["reasons"].fillna("").astype(str) + REASON_SEPARATOR
    return padded.str.contains(f"{REASON_SEPARATOR}{code}{REASON_SEPARATOR}", regex=False).to_numpy(dtype=bool)


def population_estimated(communities: pd.DataFrame) -> np.ndarray:
    """Whether each row's population is an estimate (``population_source`` households or area; bool array).

    A frame without ``population_source`` is all surveyed.
    """
    if "population_source" not in communities.columns:
        return np.zeros(len(communities), dtype=bool)
    source = communities["population_source"].astype("string")
    return source.isin(ESTIMATED_SOURCES).fillna(False).to_numpy(dtype=bool)


def reason_labels(reasons: pd.Series, lang: str = "zh", missing_fields: pd.Series | None = None) -> pd.Series:
    """Human-readable reasons: each ``;``-joined code list rendered in ``lang``.

    With ``missing_fields`` (the ``;``-joined field codes of :func:`assess_eligibility`, rows
    aligned with ``reasons``), ``missing_data`` names the missing fields: 数据缺失（人口） /
    "Missing data (population)".
    """
    from geo.i18n import reason_label, text

    separator = text("reason_separator", lang)
    missing = (
        pd.Series("", index=reasons.index)
        if missing_fields is None
        else pd.Series(missing_fields.astype("string").fillna("").to_numpy(dtype=object), index=reasons.index)
    )

    def label(code: str, fields: str) -> str:
        named = [text(f"missing_field_{f}", lang) for f in fields.split(REASON_SEPARATOR) if f in NEEDED_FIELDS]
        if code != "missing_data" or not named:
            return reason_label(code, lang)
        return text("missing_data_fields", lang, fields=text("missing_field_separator", lang).join(named))

    return pd.Series(
        [
            separator.join(label(code, fields) for code in codes.split(REASON_SEPARATOR) if code)
            for codes, fields in zip(reasons.fillna("").astype(str), missing)
        ],
        index=reasons.index,
        dtype=object,
    )


def population_source_labels(sources: pd.Series, lang: str = "zh") -> pd.Series:
    """Human-readable ``population_source`` values in ``lang`` (调查 / 由户数估算 / 由面积估算 …).

    A missing value is surveyed (as an absent column is); an unknown code stays as it is.
    """
    from geo.i18n import label

    words = {code: label("export", f"population_source_{code}", lang) for code in POPULATION_SOURCES}
    codes = sources.astype("string").fillna(POPULATION_SOURCES[0])
    return codes.map(lambda code: words.get(code, code)).astype(object)


def mark_estimates(shown: pd.Series, communities: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """``shown`` (each community's population as displayed text) with estimates marked "1,200（估算）".

    ``communities`` gives ``population_source`` (rows aligned with ``shown``); a missing value
    (``None``/NA) or a frame without the column is left as it is.
    """
    from geo.i18n import label

    estimated = population_estimated(communities) & shown.notna().to_numpy(dtype=bool)
    if not estimated.any():
        return shown
    marked = shown.astype(object).copy()
    marked[estimated] = [label("export", "estimated", lang, value=value) for value in shown[estimated]]
    return marked


def population_shown(communities: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """The population column for a table on screen: numbers, or "1,200（估算）" texts when any is estimated."""
    population = communities["population"]
    if not population_estimated(communities).any():
        return population
    numbers = pd.to_numeric(population, errors="coerce").astype(float)
    texts = numbers.map(lambda x: None if pd.isna(x) else f"{x:,.0f}")
    return mark_estimates(texts, communities, lang)


def built_year_shown(communities: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """The built-year column for a table on screen: years, or texts with 未知 / unknown when any is missing.

    A community without a built year is neither old nor new (see :mod:`geo.analysis.priority`).
    """
    from geo.i18n import label

    if "built_year" not in communities.columns:
        years = pd.Series(np.nan, index=communities.index)
    else:
        years = pd.to_numeric(communities["built_year"], errors="coerce")
        if not years.isna().any():
            return communities["built_year"]
    unknown = label("export", "unknown", lang)
    return years.astype(float).map(lambda year: unknown if pd.isna(year) else f"{year:.0f}").astype(object)


def eligibility_summary(assessed: pd.DataFrame) -> pd.DataFrame:
    """Per district: communities, eligible, applied, needing a land solution or a site check, each reason's count.

    ``needs_site_check`` (open space to be checked on site) is counted when ``assessed`` has it.
    """
    frame = pd.DataFrame(
        {
            "district_code": assessed["district_code"].astype(str).to_numpy(),
            "communities": 1,
            "eligible": assessed["eligible"].to_numpy(dtype=int),
            "applied": assessed["applied"].to_numpy(dtype=int),
            "needs_land_solution": assessed["needs_land_solution"].to_numpy(dtype=int),
        }
    )
    if "needs_site_check" in assessed:
        frame["needs_site_check"] = assessed["needs_site_check"].to_numpy(dtype=int)
    reasons = assessed["reasons"].fillna("").to_numpy(dtype=str)
    for code in REASONS:
        frame[f"reason_{code}"] = np.char.find(np.char.add(np.char.add(";", reasons), ";"), f";{code};") >= 0
    return frame.groupby("district_code", sort=True).sum().astype("int64").reset_index()


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column]`` as booleans (missing = False); all False when the column is absent."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].astype("boolean").fillna(False).to_numpy(dtype=bool)


def eligibility_counts(assessed: pd.DataFrame) -> dict[str, int]:
    """Communities, eligible, not eligible, applied and needing a land solution among ``assessed``.

    ``ineligible`` leaves out the communities that are not eligible only until their open space is
    surveyed on site (``needs_site_check``): ``eligible + ineligible + unserved_to_survey`` (when
    counted) is every community.

    ``assessed`` has the columns of :func:`assess_eligibility`. Its ``served`` column (served under
    the service standard in force; without it, ``served_within_radius``) adds ``served`` and
    ``unserved``, and splits the unserved into ``unserved_eligible``, ``unserved_ineligible`` and
    ``unserved_to_survey`` (can get a set / cannot / cannot until their open space is checked on
    site), which sum to ``unserved``; ``needs_site_check`` adds its count.
    """
    eligible = assessed["eligible"].to_numpy(dtype=bool)
    # Not eligible only until their open space is surveyed: counted apart, not as "cannot host a set".
    awaiting = _flag(assessed, "needs_site_check") & ~eligible
    counts = {
        "communities": int(len(assessed)),
        "eligible": int(eligible.sum()),
        "ineligible": int((~eligible & ~awaiting).sum()),
        "applied": int(assessed["applied"].to_numpy(dtype=bool).sum()) if "applied" in assessed else 0,
        "needs_land_solution": (
            int(assessed["needs_land_solution"].to_numpy(dtype=bool).sum()) if "needs_land_solution" in assessed else 0
        ),
    }
    if "needs_site_check" in assessed:
        counts["needs_site_check"] = int(assessed["needs_site_check"].to_numpy(dtype=bool).sum())
    served_column = "served" if "served" in assessed else "served_within_radius"
    if served_column in assessed:
        unserved = ~_flag(assessed, served_column)
        to_survey = _flag(assessed, "needs_site_check") & ~eligible
        counts["served"] = int((~unserved).sum())
        counts["unserved"] = int(unserved.sum())
        counts["unserved_eligible"] = int((unserved & eligible).sum())
        counts["unserved_ineligible"] = int((unserved & ~eligible & ~to_survey).sum())
        counts["unserved_to_survey"] = int((unserved & to_survey).sum())
    return counts


# The eligibility list's columns, in order, as exported (CLI and app); geometry follows.
# The OPTIONAL_COLUMNS among them are listed only where they say something (eligibility_columns).
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
    "needs_site_check",
    "open_space_m2",
    "public_space_used_for_parking",
    "served_inside",
    "nearest_set_m",
    "population",
    "population_source",
    "built_year",
)
# Columns of a list (eligibility, plan) shown only when present and, for a flag, set on some row:
# a city whose every field is known gets the list it always had.
OPTIONAL_COLUMNS = ("needs_site_check", "population_source")


def listed_columns(frame: pd.DataFrame, columns) -> list[str]:
    """``columns`` that ``frame`` has, without the :data:`OPTIONAL_COLUMNS` that say nothing.

    ``population_source`` is listed when ``frame`` has it; ``needs_site_check`` when some row is
    flagged (every open space known: no column of "no"); a public site's columns (``candidate_kind``,
    ``site_kind``, ``site_consent_unknown``) when some row is a site (a plan of communities only reads
    as it always did).
    """
    listed = []
    has_sites = "candidate_kind" in frame.columns and bool((frame["candidate_kind"] == "site").any())
    for column in columns:
        if column not in frame.columns:
            continue
        if column == "needs_site_check" and not frame[column].astype("boolean").fillna(False).any():
            continue
        if column in SITE_PICK_COLUMNS and not has_sites:
            continue
        listed.append(column)
    return listed


def eligibility_columns(assessed: pd.DataFrame) -> list[str]:
    """The :data:`ELIGIBILITY_COLUMNS` listed for ``assessed`` (see :func:`listed_columns`)."""
    return listed_columns(assessed, ELIGIBILITY_COLUMNS)


ELIGIBILITY_FILTERS = ("all", "eligible", "ineligible")


def filter_assessed(
    assessed: pd.DataFrame,
    status: str = "all",
    reasons=(),
    applied_only: bool = False,
    name_contains: str = "",
    site_check_only: bool = False,
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
    site_check_only : bool
        Keep only communities whose open space is to be checked on site (``needs_site_check``).

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
        keep &= np.logical_or.reduce([has_reason(assessed, code) for code in reasons])
    if applied_only:
        keep &= assessed["applied"].to_numpy(dtype=bool)
    if site_check_only:
        keep &= assessed["needs_site_check"].to_numpy(dtype=bool)
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
