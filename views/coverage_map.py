"""覆盖地图 · Coverage map — for planners: which communities are served, which are not."""

from __future__ import annotations

import streamlit as st

from geo.analysis.eligibility import eligibility_counts
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
    inside = int(communities["served_inside"].to_numpy(dtype=bool).sum())
    within = int(communities["served_within_radius"].to_numpy(dtype=bool).sum())
    served = {"inside": (t("metric_served_inside"), inside), "walk": (t("metric_served_within_radius"), within)}
    other = "walk" if standard == "inside" else "inside"
    shown = [served[standard], (t("metric_secondary", what=served[other][0]), served[other][1])]
    columns = st.columns(5)
    columns[0].metric(t("metric_communities"), f"{counts['communities']:,}")
    for column, (label, count) in zip(columns[1:3], shown):
        column.metric(label, f"{count:,}", f"{count / total:.1%}", delta_color="off", delta_arrow="off")
    columns[3].metric(t("metric_unserved_eligible"), f"{counts['unserved_eligible']:,}")
    columns[4].metric(t("metric_unserved_ineligible"), f"{counts['unserved_ineligible']:,}")
    if counts.get("unserved_to_survey"):  # a city without open-space data: the district offices' work list
        st.metric(t("metric_unserved_to_survey"), f"{counts['unserved_to_survey']:,}")


def render() -> None:
    st.title(t("page_coverage"))
    st.caption(t("app_caption"))

    by_district, _ = shared.cached_summary(
        str(shared.data_path()), shared.data_version(shared.data_path()), shared.walk_radius_m()
    )
    scored = shared.scored()
    names = shared.district_names()

    # The district chosen drives everything below: the headline, the map and its legend, the table.
    district = st.selectbox(t("districts_filter"), [None, *names], format_func=lambda c: names.get(c, t("whole_city")))
    if district is not None:
        by_district = by_district[by_district["district_code"] == district]
    in_district = scored if district is None else scored[scored["district_code"] == district]
    headline(in_district)

    controls = st.columns([1.6, 1, 1.4])  # room for the toggle's label in both languages
    options = community_labels(in_district, names, shared.lang())
    focus_id = controls[0].selectbox(
        t("search_community"), list(options), index=None, format_func=options.get, placeholder=t("search_placeholder")
    )
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
    chart = (
        by_district.assign(district=[names[c] for c in by_district["district_code"]]).set_index("district")[
            ["share_served_inside", "share_served_within_radius"]
        ]
        * 100
    )
    st.bar_chart(
        chart.rename(columns=lambda c: column_label(c, shared.lang())), horizontal=True, stack=False, height=360
    )
    table = by_district[shared.TABLE_COLUMNS].assign(
        district_name=[names[c] for c in by_district["district_code"]],
        share_served_within_radius=(by_district["share_served_within_radius"] * 100).round(1),
    )
    st.dataframe(shared.humanised(table), hide_index=True, width="stretch", placeholder="")


shared.guarded(render)
