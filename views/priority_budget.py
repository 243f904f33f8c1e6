"""优先排序与预算 · Priority & budget — for analysts: rank unserved communities and fit them to the budgets."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.analysis.eligibility import built_year_shown, listed_columns, population_shown, population_source_labels
from geo.analysis.priority import COMPONENTS
from geo.config import UNKNOWN_OPEN_SPACE
from geo.errors import DataError
from geo.plan import gain_curve
from geo.render.export import location_words, pick_explanations, plan_community_names
from geo.store.plans import data_sha256, save_plan
from views import shared
from views.shared import message_text, plain, t

# needs_site_check and population_source are listed only when they say something (listed_columns).
LIST_COLUMNS = [
    "program_name",
    "rank",
    "candidate_kind",
    "community_id",
    "name",
    "pick_explanation",
    "district_name",
    "priority_score",
    *[f"c_{c}" for c in COMPONENTS],
    "built_year",
    "needs_site_check",
    "population",
    "population_source",
    "cost_cny",
    "cumulative_cost_cny",
    "money_left_cny",
    "population_newly_served",
    "landless_population_newly_served",
]


def left_out_list(plan) -> None:
    """The eligible candidates no programme picked, and why (money spent, no gain, district limit).

    The last programme's candidates are the communities still eligible after every earlier pick, so
    its left-out list is the plan's, each community once with the reason that held at the end.
    """
    table = plan.outcomes[-1].left_out()
    if not len(table):
        return
    with st.expander(t("left_out_title", count=f"{len(table):,}"), expanded=False):
        table["left_out_reason"] = table["left_out_reason"].map(lambda code: t(f"left_out_{code}"))
        table = shared.with_district_names(table)
        columns = ["priority_rank", "community_id", "name", "district_name", "priority_score"]
        if uses_sites(plan):  # communities and public sites compete: say which each is
            table["candidate_kind"] = location_words(table, shared.lang()).to_numpy()
            columns.insert(1, "candidate_kind")
        columns += ["population", "left_out_reason"]
        shown = table[[c for c in columns if c in table.columns]].round({"priority_score": 1})
        shared.show_table(shown, height=320)


def comparison(plans: dict) -> None:
    """Rank against optimal: a table with totals, the marginal-gain curve of each, and why they differ."""
    names = [o.program.name(shared.lang()) for o in plans["rank"].outcomes]
    gains = {mode: [s["population_newly_served"] for s in plans[mode].summaries()] for mode in ("rank", "optimal")}
    table = pd.DataFrame({t("mode_rank"): gains["rank"], t("mode_optimal"): gains["optimal"]})
    table[t("difference")] = table[t("mode_optimal")] - table[t("mode_rank")]
    if len(table) > 1:
        table.loc[len(table)] = table.sum()
        names.append(t("total_row"))
    table.insert(0, t("program_column"), names)
    numbers = {column: st.column_config.NumberColumn(format="localized") for column in table.columns[1:]}
    st.dataframe(table, hide_index=True, width="stretch", placeholder="", column_config=numbers)
    config = plans["rank"].config
    radius = f"{config.walk_radius_m:,.0f}"
    sentences = [t("compare_why", radius=radius)]
    total_rank, total_optimal = sum(gains["rank"]), sum(gains["optimal"])
    sentences.append(
        t(
            "compare_total",
            optimal=f"{total_optimal:,}",
            rank=f"{total_rank:,}",
            difference=f"{total_optimal - total_rank:,}",
        )
    )
    for name, rank_gain, optimal_gain in zip(names[1:], gains["rank"][1:], gains["optimal"][1:]):
        if optimal_gain < rank_gain:
            sentences.append(t("compare_sequence", program=name))
    sets = [sum(s["sets"] for s in plans[mode].summaries()) for mode in ("rank", "optimal")]
    if config.standard == "inside" and sets[0] == sets[1] > 0:
        sentences.append(t("compare_inside_same", sets=f"{sets[0]:,}"))
    for sentence in sentences:
        st.markdown(plain(sentence))
    sites_comparison(plans)

    if max(sets) == 0:
        return  # nothing bought in either mode: no curve to draw
    st.markdown(f"**{plain(t('chart_gain_title'))}**")
    curves = pd.concat(
        [gain_curve(plans[mode]).assign(mode=t(f"mode_{mode}")) for mode in ("rank", "optimal")], ignore_index=True
    )
    curves = curves.rename(
        columns={"spent_cny": t("chart_gain_x"), "population_newly_served": t("chart_gain_y"), "mode": t("mode_choice")}
    )
    st.line_chart(curves, x=t("chart_gain_x"), y=t("chart_gain_y"), color=t("mode_choice"), height=320)
    st.caption(t("chart_gain_caption"))


def uses_sites(plan) -> bool:
    """Whether public sites were candidates of ``plan`` (the city has sites and the user kept them on)."""
    return any(o.sites is not None for o in plan.outcomes)


def sites_comparison(plans: dict) -> None:
    """Rank against optimal on public sites: sets put on sites, land-less communities and residents newly served."""
    if not any(uses_sites(plan) for plan in plans.values()):
        if shared.city_has_public_sites():
            st.caption(t("compare_sites_off"))
        return
    figures = {}
    for mode in ("rank", "optimal"):
        summaries = plans[mode].summaries()
        figures[mode] = [
            sum(s["sets_on_public_sites"] for s in summaries),
            sum(s["landless_communities_newly_served"] for s in summaries),
            sum(s["landless_population_newly_served"] for s in summaries),
        ]
    rows = [t("compare_sites_sets"), t("compare_landless_communities"), t("compare_landless_residents")]
    table = pd.DataFrame({"": rows, t("mode_rank"): figures["rank"], t("mode_optimal"): figures["optimal"]})
    table[t("difference")] = table[t("mode_optimal")] - table[t("mode_rank")]
    st.markdown(f"**{plain(t('compare_sites_title'))}**")
    numbers = {column: st.column_config.NumberColumn(format="localized") for column in table.columns[1:]}
    st.dataframe(table, hide_index=True, width="stretch", placeholder="", column_config=numbers)
    st.markdown(
        plain(
            t(
                "compare_sites_sentence",
                rank_sets=f"{figures['rank'][0]:,}",
                rank=f"{figures['rank'][2]:,}",
                optimal_sets=f"{figures['optimal'][0]:,}",
                optimal=f"{figures['optimal'][2]:,}",
            )
        )
    )


def pick_table(plan) -> pd.DataFrame:
    """The plan's picks as the page lists them: location type and what each serves in words."""
    selected = plan.selected
    language = shared.lang()
    shown = shared.with_district_names(shared.in_language(selected, plan, language))
    shown = shown.assign(
        candidate_kind=location_words(selected, language).to_numpy(),
        pick_explanation=pick_explanations(selected, plan_community_names(plan), language).to_numpy(),
    )
    listed = set(listed_columns(selected, LIST_COLUMNS)) | {"pick_explanation"}
    if uses_sites(plan):  # every row's location type, even when no pick is a site
        listed.add("candidate_kind")
    else:
        listed.discard("landless_population_newly_served")
    table = pd.DataFrame(shown[[c for c in LIST_COLUMNS if c in listed and c in shown.columns]])
    return table.round({"priority_score": 1, **{f"c_{c}": 2 for c in COMPONENTS}})


SAVE_FLASH = "plans_save_flash"
SAVE_CLEAR = "plans_save_clear"


def save_form(plan) -> None:
    """保存方案 / Save this plan: planners and administrators keep the current plan in the store, with the
    server data's SHA-256. A session's upload is refused: plans belong to the server's data."""
    try:
        actor = shared.actor()
    except DataError:  # nobody logged in to a store with accounts: nothing to save as
        return
    if actor.role not in ("admin", "planner"):
        return
    # The flash stays while the plan shown is the one saved: a run cut short by a later rerun (a slow page
    # under load) must not swallow it, as popping it on the first run after the save did.
    flash, saved_key = st.session_state.get(SAVE_FLASH) or (None, None)
    if flash is not None and saved_key != _plan_key():
        st.session_state.pop(SAVE_FLASH, None)
        flash = None
    if st.session_state.pop(SAVE_CLEAR, False):  # saved on the last run: an empty form for the next plan
        # Set, not popped: a popped key gives the widget its default on the server, but the browser went on
        # showing the name just saved; a value set before the widget is made reaches the browser.
        st.session_state["plans_save_name"] = ""
        st.session_state["plans_save_notes"] = ""
    with st.expander(t("plans_save_title"), expanded=bool(flash)):
        if flash:
            st.success(flash)
        if shared.using_upload():
            st.info(t("plans_save_upload"))
            return
        with st.form("plans_save_form"):
            name = st.text_input(t("plans_save_name"), max_chars=200, key="plans_save_name")
            notes = st.text_area(t("plans_save_notes"), key="plans_save_notes")
            if not st.form_submit_button(t("plans_save_button")):
                return
        path = shared.data_path()
        city = shared.cached_city(str(path), shared.data_version(path))  # with the store's installed sets
        try:
            saved = save_plan(
                shared.store(), actor, plan, name, data_sha256(path), shared.data_name(), notes=notes, city=city
            )
        except DataError as error:
            st.error(plain(message_text(error)))
            return
        st.session_state[SAVE_FLASH] = (
            t("plans_saved_flash", id=saved["id"], name=plain(saved["name"])),
            _plan_key(),
        )
        st.session_state[SAVE_CLEAR] = True  # emptied on the next run (kept as typed on a refusal)
        st.rerun()


def _plan_key() -> str:
    """What the plan shown depends on (the user's choices), to tell whether it is still the one saved."""
    settings = (shared.plan_settings(), shared.weights(), shared.walk_radius_m(), shared.distance(), shared.lang())
    return repr(settings)


def reset_weights() -> None:
    for name, value in shared.base_config().priority_weights.items():
        st.session_state[f"keep_weight_{name}"] = value


def render() -> None:
    shared.require_page("priority")  # besides the navigation (shared.PAGE_ROLES)
    st.title(t("page_priority"))
    # A fragment: a weight, budget or mode changed reruns the choices and what follows them, not the app's
    # navigation and sidebar (issue 17: the new list in under 0.2 s).
    shared.page_fragment(choices_and_plan, "priority")()


def choices_and_plan() -> None:
    """The page below its title: the analyst's choices, then the plan they give, the comparison and the map."""
    settings = st.columns([2, 1, 1])
    choices = shared.program_choices()
    program_choice = shared.keep_widget(
        settings[0].radio,
        t("program_choice"),
        "program_choice",
        shared.plan_settings()["program_choice"],
        options=list(choices),
        format_func=shared.program_choice_label,
    )
    if program_choice == "custom":
        shared.keep_widget(
            settings[0].number_input, t("custom_budget"), "custom_budget_cny", 1_000_000, min_value=0, step=50_000
        )
    shared.keep_widget(
        settings[1].radio,
        t("mode_choice"),
        "mode",
        "rank",
        options=list(shared.MODES),
        format_func=lambda m: t(f"mode_{m}"),
    )
    with settings[2].expander(t("weights"), expanded=False):
        st.caption(t("weights_help"))
        if shared.kept("mode", "rank") == "optimal":
            st.info(t("weights_optimal_note"))
        for name in COMPONENTS:
            shared.keep_widget(
                st.slider,
                t(f"weight_{name}"),
                f"weight_{name}",
                float(shared.base_config().priority_weights.get(name, 0.0)),
                min_value=0.0,
                max_value=50.0,
                step=1.0,
            )
        st.button(t("weights_reset"), on_click=reset_weights)

    if shared.city_has_public_sites():  # hidden for a city without a public-sites layer
        shared.keep_widget(settings[0].checkbox, t("use_sites"), "use_sites", True, help=t("use_sites_help"))

    if sum(shared.weights().values()) <= 0:
        st.warning(t("weights_help"))
        st.stop()
    if shared.city_has_unknown_open_space():  # a city without open-space data: the analyst decides
        shared.keep_widget(
            settings[1].radio,
            t("open_space_rule"),
            "unknown_open_space",
            shared.open_space_rule(),
            options=list(UNKNOWN_OPEN_SPACE),
            format_func=lambda rule: t(f"open_space_rule_{rule}"),
            help=t("open_space_rule_help"),
        )

    plan = shared.current_plan()
    st.caption(
        t(
            "standard_plan_caption",
            standard=shared.standard_words(plan.config.standard),
            radius=f"{plan.walk_radius_m:,.0f}",
        )
    )
    shared.distance_caption(plan.config.distance, plan.walk_radius_m)
    for summary in plan.summaries(shared.lang()):
        name = next(o.program.name(shared.lang()) for o in plan.outcomes if o.program.key == summary["program"])
        columns = st.columns([1, 1.2, 1.6, 1.2])  # the labels whole in both languages
        columns[0].metric(plain(name), f"{summary['sets']} {t('sets_unit')}")
        columns[1].metric(
            t("spent"),
            f"¥{summary['spent_cny']:,.0f}",
            t("budget_of", budget=f"¥{summary['budget_cny']:,}"),
            delta_color="off",
            delta_arrow="off",
        )
        columns[2].metric(
            t("newly_within_reach"),
            t("residents_value", count=f"{summary['population_newly_served']:,}"),
            t("communities_value", count=f"{summary['communities_newly_within_radius']:,}"),
            delta_color="off",
            delta_arrow="off",
        )
        if summary["optimality_gap"] is not None:
            gap = summary["optimality_gap"]
            proven = gap <= 1e-6
            # The value a number (a sentence there is cut short in the column, "Proven opti…"); words below it.
            seconds = f"{summary['solve_seconds']:.2f}"
            columns[3].metric(
                t("gap_label"),
                "0" if proven else f"{gap:.2%}",
                t("gap_proven" if proven else "seconds_value", seconds=seconds),
                delta_color="off",
                delta_arrow="off",
            )
        if uses_sites(plan):
            # Every pick may reach land-less communities (a community's set too): the residents are the
            # programme's, of which the sets on sites are a part.
            st.metric(
                t("compare_landless_residents"),
                t("residents_value", count=f"{summary['landless_population_newly_served']:,}"),
                t("sites_sets_value", count=f"{summary['sets_on_public_sites']:,}"),
                delta_color="off",
                delta_arrow="off",
            )
        for message in summary["messages"]:
            st.warning(plain(message_text(message)))

    st.subheader(t("selected_list_sites" if uses_sites(plan) else "selected_list"))
    selected = plan.selected
    if len(selected) == 0:
        left_out = max((o.left_out_to_survey for o in plan.outcomes), default=0)
        st.info(t("no_selection_to_survey", count=f"{left_out:,}") if left_out else t("no_selection"))
    else:
        table = pick_table(plan)
        # An estimated population reads "1,200（估算）", an unknown built year 未知 (its component is 0.5).
        table["population"] = population_shown(selected, shared.lang())
        table["built_year"] = built_year_shown(selected, shared.lang())
        if "population_source" in table.columns:
            table["population_source"] = population_source_labels(selected["population_source"], shared.lang())
        st.caption(t(f"list_order_{plan.mode}"))
        shared.show_table(table, height=420)
        sheets, parameters = shared.plan_export(plan)
        shared.download_buttons(sheets, shared.download_stem("plan", plan), parameters)

    left_out_list(plan)
    save_form(plan)

    # The other mode is computed after the list is on screen, so a changed weight shows at once.
    st.subheader(t("rank_vs_optimal"))
    other = shared.current_plan("optimal" if plan.mode == "rank" else "rank")
    comparison({plan.mode: plan, other.mode: other})

    if len(selected):
        st.subheader(t("map"))
        shared.show_map(560, with_plan=True)


shared.guarded(render)
