"""覆盖地图 · Coverage map — for planners: which communities are served, which are not."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from geo import i18n
from geo.analysis.eligibility import eligibility_counts
from geo.analysis.walk_compare import by_district as compared_by_district
from geo.i18n import column_label, community_labels
from views import shared
from views.shared import t

BASE_LAYERS = {None: "base_none", "osm": "base_osm", "amap": "base_amap", "tianditu": "base_tianditu"}


def headline(communities) -> None:
    """The headline figures of ``communities`` (the district shown), counted under the service standard.

    The standard's own "served" comes first; the other standard's figure follows, labelled secondary.
    """
    standard = shared.current_config().standard
    counts = eligibility_counts(communities)
    total = max(counts["communities"], 1)
    radius = f"{shared.walk_radius_m():,.0f}"
    st.caption(t("standard_caption", standard=shared.standard_words(standard), radius=radius))
    shared.distance_caption()  # straight line or on foot: which one counted "within the walk radius"
    inside = int(communities["served_inside"].to_numpy(dtype=bool).sum())
    within = int(communities["served_within_radius"].to_numpy(dtype=bool).sum())
    served = {"inside": (t("metric_served_inside"), inside), "walk": (t("metric_served_within_radius"), within)}
    other = "walk" if standard == "inside" else "inside"
    shown = [served[standard], (t("metric_secondary", what=served[other][0]), served[other][1])]
    columns = st.columns(5)
    columns[0].metric(t("metric_communities"), f"{counts['communities']:,}")
    for column, (label, count) in zip(columns[1:3], shown):
        column.metric(label, f"{count:,}", f"{count / total:.1%}", delta_color="off", delta_arrow="off")
    said = "_inside" if standard == "inside" else ""  # under the seed's standard "unserved" is "no set inside"
    columns[3].metric(t(f"metric_unserved_eligible{said}"), f"{counts['unserved_eligible']:,}")
    columns[4].metric(t(f"metric_unserved_ineligible{said}"), f"{counts['unserved_ineligible']:,}")
    if counts.get("unserved_to_survey"):  # a city without open-space data: the district offices' work list
        st.metric(t(f"metric_unserved_to_survey{said}"), f"{counts['unserved_to_survey']:,}")


def render() -> None:
    st.title(t("page_coverage"))
    st.caption(t("app_caption"))

    # A district office's districts only (coverage computed on the whole city, then filtered).
    by_district = shared.coverage_by_district()
    scored = shared.scored()
    names = shared.district_names()

    # The district chosen drives everything below: the headline, the map and its legend, the table.
    everything = t("whole_city") if shared.actor_districts() is None else t("my_districts")
    district = st.selectbox(t("districts_filter"), [None, *names], format_func=lambda c: names.get(c, everything))
    if district is not None:
        shared.check_district(district)
        by_district = by_district[by_district["district_code"] == district]
    in_district = scored if district is None else scored[scored["district_code"] == district]
    headline(in_district)

    controls = st.columns([1.6, 1, 1.4])  # room for the toggle's label in both languages
    focus_id = community_search(controls[0], community_labels(in_district, names, shared.lang()))
    base = controls[1].selectbox(t("base_map"), list(BASE_LAYERS), format_func=lambda b: t(BASE_LAYERS[b]))
    key = controls[1].text_input(t("tianditu_key"), type="password") if base == "tianditu" else None
    show_plan = controls[2].toggle(t("show_plan_on_map"), value=False)

    st.caption(t("map_caption"))
    if base == "tianditu" and not key:
        st.info(t("tianditu_key_missing"))
    else:
        shared.show_map(
            620, district=district, focus_id=focus_id, base_layer=base, tianditu_key=key, with_plan=show_plan
        )

    st.subheader(t("chart_by_district"))
    named = by_district.assign(district_name=[names[c] for c in by_district["district_code"]])
    st.altair_chart(district_chart(named, shared.lang()), width="stretch")
    table = named[shared.TABLE_COLUMNS].assign(
        share_served_inside=(named["share_served_inside"] * 100).round(1),
        share_served_within_radius=(named["share_served_within_radius"] * 100).round(1),
    )
    # A 合计 / Total row: the counts summed, the share recomputed from the sums (never summed).
    table = shared.with_total_row(
        table,
        t("total_row"),
        "district_name",
        ["communities", "served_inside", "served_within_radius", "population", "population_served_within_radius"],
        {
            "share_served_inside": ("served_inside", "communities"),
            "share_served_within_radius": ("served_within_radius", "communities"),
        },
        scale=100,
    )
    shared.show_table(table, height="content")  # every district and the total, no scrolling

    if shared.distance() == "network":  # on foot is only as good as the roads layer: what is wrong with it
        network_section(district)
    if shared.city_has_roads():  # straight line against on foot: what the river, railways and walls change
        comparison_section(district, None if base == "tianditu" else base)


def community_search(column, options: dict[str, str]) -> str | None:
    """The community to fly to: a list of every one, or above ``SEARCH_LIST_MAX`` a text box whose matches
    are listed (the first ``SEARCH_MATCHES_SHOWN``), so a 100,000-community city sends no list of names."""
    if len(options) <= i18n.SEARCH_LIST_MAX:
        return column.selectbox(
            t("search_community"),
            list(options),
            index=None,
            format_func=options.get,
            placeholder=t("search_placeholder"),
        )
    typed = column.text_input(t("search_by_text"), placeholder=t("search_by_text_placeholder"), max_chars=100)
    matches, count = i18n.matching_labels(options, typed)
    if not typed.strip():
        return None
    if not count:
        column.caption(t("search_no_match"))
        return None
    label = t("search_matches", count=count, shown=len(matches))
    return column.selectbox(label, list(matches), format_func=matches.get)


def network_section(district: str | None) -> None:
    """The street network's problems (:func:`geo.analysis.network.network_problems`), the communities named those
    of ``district`` (else every one the actor may see): pieces, communities cut off or far from a street."""
    problems = shared.network_problems_of(district)
    counts = problems.counts()
    st.subheader(t("network_check_title"))
    st.caption(t("network_check_intro"))
    if not (counts["islands"] or counts["cut_off"] or counts["without_street"]):
        st.success(t("network_check_ok"))
    shared.show_table(problems.table(shared.lang()), height="content")
    names = shared.district_names()
    scored = shared.scored()
    communities = scored.set_index(scored["community_id"].astype(str))
    for frame, said, values in (
        (problems.cut_off, "network_cut_off_list", {}),
        (problems.without_street, "network_without_street_list", {"access": f"{problems.access_m:,.0f}"}),
    ):
        if not len(frame):
            continue
        listed = frame.assign(
            name=communities["name"].reindex(frame["community_id"]).to_numpy(),
            district_name=[names.get(c, c) for c in communities["district_code"].reindex(frame["community_id"])],
        )
        with st.expander(t(said, count=f"{len(frame):,}", **values)):
            columns = ["community_id", "name", "district_name", *frame.columns[1:]]
            shared.show_table(listed[columns], height="content" if len(listed) <= 10 else 360)


# The page's coverage table already counts each district's communities and residents: not repeated here.
COMPARED = ["served_straight", "served_on_foot", "lost_on_foot", "population_lost_on_foot"]
LOST_COLUMNS = ["community_id", "name", "district_name", "straight_m", "on_foot_m"]


def comparison_section(district: str | None, base: str | None) -> None:
    """Communities served in a straight line but not on foot: counts, per district, a list and a map of their walks."""
    st.subheader(t("compare_title"))
    st.caption(t("compare_intro", radius=f"{shared.walk_radius_m():,.0f}"))
    table, _ = shared.comparison(district)
    names = shared.district_names()
    districts = shared.city().districts
    if district is not None:
        districts = districts[districts["district_code"] == district]
    summary = compared_by_district(table, districts).assign(
        district_name=lambda frame: [names.get(code, code) for code in frame["district_code"]]
    )
    columns = st.columns(4)
    for column, key in zip(columns, ("served_straight", "served_on_foot", "lost_on_foot", "population_lost_on_foot")):
        column.metric(t(f"metric_{key}"), f"{int(summary[key].sum()):,}")
    st.caption(t("compare_by_district"))
    compared = shared.with_total_row(summary[["district_name", *COMPARED]], t("total_row"), "district_name", COMPARED)
    # A shorter header than the catalogue's column label, so the table fits the page in both languages.
    shared.show_table(
        compared.rename(columns={"population_lost_on_foot": t("compare_residents_lost")}), height="content"
    )
    lost = table[table["lost_on_foot"].to_numpy(dtype=bool)]
    if not len(lost):
        st.info(t("compare_none"))
        return
    with st.expander(t("compare_lost_list", count=f"{len(lost):,}")):
        listed = lost.assign(
            district_name=[names.get(code, code) for code in lost["district_code"]],
            straight_m=lost["straight_m"].round(0),
            on_foot_m=lost["on_foot_m"].round(1),  # beyond the radius: 500.4, not a rounded 500
        )
        farthest_first = listed[LOST_COLUMNS].sort_values("on_foot_m", ascending=False, na_position="first")
        shared.show_table(farthest_first, height=360)  # unreachable on foot (another piece) first
    # On demand: the walks' map carries the streets and every route (2.7 MB for the sample), and drawn with the
    # page it held the coverage map back at every opening (issue 17: the map that appears at once).
    if st.toggle(t("compare_map_toggle"), value=False, key="compare_map_shown"):
        shared.show_comparison_map(560, district=district, base_layer=base)


SHARES = ("share_served_inside", "share_served_within_radius")


def district_chart(by_district: pd.DataFrame, lang: str) -> alt.Chart:
    """Both shares of each district (per cent) as bars, in the table's order, every name in full."""
    measures = [column_label(c, lang) for c in SHARES]
    long = pd.DataFrame(
        {
            "district": np.repeat(by_district["district_name"].to_numpy(object), len(SHARES)),
            "measure": measures * len(by_district),
            "value": (by_district[list(SHARES)].to_numpy(float) * 100).round(1).ravel(),
        }
    )
    district = column_label("district_name", lang)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("district:N", sort=list(by_district["district_name"]), title=None, axis=alt.Axis(labelLimit=0)),
            yOffset=alt.YOffset("measure:N", sort=measures),
            x=alt.X("value:Q", title="%", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("measure:N", sort=measures, title=None, legend=alt.Legend(orient="top", labelLimit=0)),
            tooltip=[
                alt.Tooltip("district:N", title=district),
                alt.Tooltip("measure:N", title=" "),
                alt.Tooltip("value:Q", title="%", format=".1f"),
            ],
        )
        .properties(height=max(140, 40 * len(by_district) + 40))  # one district still shows its bars
    )


shared.guarded(render)
