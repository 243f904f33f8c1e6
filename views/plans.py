"""已保存的方案 · Saved plans — list the plans saved from the priority page, open one, compare two, approve.

Administrators, planners and analysts open it (:data:`views.shared.PAGE_ROLES`; a district office is
refused here as in the navigation). Rows are read through :mod:`geo.store.plans` with
:func:`views.shared.actor`, which would give a district office only the picks of its districts and
figures summed from them (the store filters, not this page); approving is the store's decision too
(administrators only), the button merely is not offered to others.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.data.cells import csv_bytes
from geo.i18n import column_label, label
from geo.render.times import with_local_times
from geo.store.plans import approve_plan, compare_plans, get_plan, list_plans, saved_distance
from views import shared
from views.shared import plain, t

FLASH = "plans_flash"
LIST_COLUMNS = [
    "id",
    "name",
    "status",
    "distance",
    "created_by",
    "created_at",
    "approved_by",
    "data_name",
    "sets",
    "spent_cny",
]
PICK_COLUMNS = [
    "program_name",
    "rank",
    "community_id",
    "name",
    "district_name",
    "cost_cny",
    "population_newly_served",
    "lon",
    "lat",
]
FIGURE_COLUMNS = [
    "program_name",
    "budget_cny",
    "sets",
    "spent_cny",
    "unspent_cny",
    "population_newly_served",
    "communities_newly_within_radius",
    "stop_reason",
]


def program_names(plan: dict) -> dict[str, str]:
    """Programme key → its name in the page's language, as saved with the plan."""
    key = "name_en" if shared.lang() == "en" else "name_zh"
    return {p["key"]: p[key] or p["key"] for p in plan["parameters"]["programs"]} | {"": t("total_row")}


def status_word(status: str) -> str:
    return t(f"plans_status_{status}")


def plans_table(plans: pd.DataFrame) -> pd.DataFrame:
    """The saved plans as listed: statuses in words, times in the city's zone (the header says it)."""
    table = plans[LIST_COLUMNS].copy()
    table["status"] = table["status"].map(status_word)
    table["distance"] = table["distance"].map(lambda d: t(f"distance_option_{d}"))  # 直线距离 / 步行距离（沿道路）
    return with_local_times(table, ["created_at"], shared.base_config().timezone, shared.lang())


def picks_csv(table: pd.DataFrame) -> bytes:
    """The picks as their CSV download (UTF-8 with BOM, headers in the page's language), coordinates in degrees
    to 6 decimals (0.1 m), as the table shows them."""
    return csv_bytes(shared.humanised(table.round({"lon": 6, "lat": 6})))


def money_table(money: pd.DataFrame, program_name: dict, heads: dict, language: str) -> pd.DataFrame:
    """The compared money (:func:`geo.store.plans.compare_plans`' ``money``) one row per programme and figure;
    a figure one plan lacks (its programme is not in it) is missing, and so is the difference: shown as —,
    never 0."""
    rows = []
    for row in money.to_dict(orient="records"):
        for figure in ("budget_cny", "spent_cny", "unspent_cny"):
            a, b = pd.to_numeric(row[f"{figure}_a"]), pd.to_numeric(row[f"{figure}_b"])
            rows.append(
                {
                    column_label("program_name", language): program_name[row["program"]],
                    t("plans_figure"): column_label(figure, language),
                    heads["a"]: a,
                    heads["b"]: b,
                    t("difference"): b - a if pd.notna(a) and pd.notna(b) else None,
                }
            )
    shown = pd.DataFrame(rows)
    for column in (heads["a"], heads["b"], t("difference")):
        shown[column] = pd.to_numeric(shown[column]).round().astype("Int64")
    return shown


def figures_table(plan: dict) -> pd.DataFrame:
    """The saved figures, one row per figure (its name in the page's language) and one column per programme
    and the total (money in CNY, numbers with thousands separators, why a programme stopped in words): a
    figure's long name or a long reason is a row, never a column cut off at the page's edge."""
    names = program_names(plan)
    language = shared.lang()
    rows = [*plan["metrics"]["programs"], {"program": "", **plan["metrics"]["total"]}]
    figures = [c for c in FIGURE_COLUMNS[1:] if any(c in row for row in rows)]

    def shown(figure: str, value) -> str:
        if figure == "stop_reason":
            return label("export", f"stop_reason_{value}", language) if isinstance(value, str) else ""
        return shared.cell_text(value, language=language)

    table = pd.DataFrame({t("plans_figure"): [column_label(figure, language) for figure in figures]})
    for row in rows:
        table[names.get(row["program"], row["program"])] = [shown(figure, row.get(figure)) for figure in figures]
    return table


def picks_table(plan: dict, picks: pd.DataFrame) -> pd.DataFrame:
    """The picks with programme, community and district names in the page's language."""
    details = pd.DataFrame(list(picks["details"]), index=picks.index)
    table = picks.drop(columns=["details"]).assign(
        program_name=picks["program"].map(program_names(plan)),
        name=details.get("name"),
        population_newly_served=details.get("population_newly_served"),
        district_name=picks["district_code"],
    )
    table = shared.with_district_names(table)
    return table[PICK_COLUMNS]


def show_plan(plans: pd.DataFrame, actor) -> None:
    st.subheader(t("plans_open"))
    ids = list(plans["id"])
    names = dict(zip(plans["id"], plans["name"]))
    chosen = st.selectbox(t("plans_open"), ids, format_func=lambda i: f"{i} · {names[i]}", key="plans_open_id")
    plan, picks = get_plan(shared.store(), actor, chosen)
    parameters = plan["parameters"]
    st.caption(
        plain(
            t(
                "plans_parameters",
                status=status_word(plan["status"]),
                mode=t(f"mode_{plan['mode']}"),
                standard=shared.standard_words(parameters["standard"]),
                radius=f"{parameters['walk_radius_m']:,.0f}",
                data=plan["data_name"],
                sha=plan["data_sha256"][:12],
            )
        )
    )
    shared.distance_caption(saved_distance(parameters), parameters["walk_radius_m"])  # before issue 16: straight
    if plan["notes"]:
        st.caption(plain(plan["notes"]))
    if plan["scope"] == "districts":
        st.info(t("plans_scope_districts"))
    figures = figures_table(plan)
    st.dataframe(figures, hide_index=True, width="stretch", placeholder="")  # headers already in the page's language
    table = picks_table(plan, picks)
    sites = {column_label(c, shared.lang()): st.column_config.NumberColumn(format="%.6f") for c in ("lon", "lat")}
    formats = shared.number_formats(table) | sites  # a site to 0.1 m, not 100 m
    st.dataframe(
        shared.humanised(table), hide_index=True, width="stretch", placeholder="", height=360, column_config=formats
    )
    st.download_button(
        t("plans_download"),
        picks_csv(table),
        file_name=f"plan-{plan['id']}.csv",
        mime="text/csv",
        key="plans_download",
    )
    if actor.role == "admin" and plan["status"] == "proposed":
        st.caption(t("plans_approve_note"))
        if st.button(t("plans_approve"), key="plans_approve"):
            approved = approve_plan(shared.store(), actor, plan["id"])
            moved = approved["applications_in_plan"]
            st.session_state[FLASH] = t("plans_approved_flash", id=approved["id"], name=plain(approved["name"])) + (
                t("plans_approved_moved_flash", moved=moved) if moved else ""
            )
            st.rerun()


def compare(plans: pd.DataFrame, actor) -> None:
    st.subheader(t("plans_compare"))
    if len(plans) < 2:
        st.info(t("plans_need_two"))
        return
    ids = list(plans["id"])
    names = dict(zip(plans["id"], plans["name"]))
    columns = st.columns(2)
    a = columns[0].selectbox(
        t("plans_compare_a"), ids, index=1, format_func=lambda i: f"{i} · {names[i]}", key="plans_a"
    )
    b = columns[1].selectbox(
        t("plans_compare_b"), ids, index=0, format_func=lambda i: f"{i} · {names[i]}", key="plans_b"
    )
    compared = compare_plans(shared.store(), actor, a, b)
    if not compared["same_data"]:
        st.warning(
            t("plans_compare_other_data", a=compared["a"]["data_sha256"][:12], b=compared["b"]["data_sha256"][:12])
        )
    distances = [saved_distance(compared[side]["parameters"]) for side in ("a", "b")]
    if distances[0] != distances[1]:  # served within the radius measured two ways: the figures do not compare
        st.warning(
            t(
                "plans_compare_other_distance",
                a=shared.distance_words(distances[0]),
                b=shared.distance_words(distances[1]),
            )
        )
    program_name = program_names(compared["a"]) | program_names(compared["b"])
    heads = {"a": t("plans_compare_a"), "b": t("plans_compare_b")}

    st.markdown(f"**{plain(t('plans_compare_money'))}**")
    shown_money = money_table(compared["money"], program_name, heads, shared.lang())
    st.dataframe(shown_money, hide_index=True, width="stretch", placeholder="—", column_config=_numbers(shown_money))

    st.markdown(f"**{plain(t('plans_compare_metrics'))}**")
    metrics = compared["metrics"]
    metrics = metrics[metrics["metric"].isin(["sets", "population_newly_served", "communities_newly_within_radius"])]
    shown_metrics = pd.DataFrame(
        {
            column_label("program_name", shared.lang()): metrics["program"].map(program_name),
            t("plans_figure"): metrics["metric"].map(lambda m: column_label(m, shared.lang())),
            heads["a"]: metrics["a"].astype("Int64"),
            heads["b"]: metrics["b"].astype("Int64"),
            t("difference"): metrics["difference"].astype("Int64"),
        }
    )
    st.dataframe(shown_metrics, hide_index=True, width="stretch", placeholder="", column_config=_numbers(shown_metrics))

    picks = compared["picks"]
    counts = picks["change"].value_counts()
    added, removed, kept = (int(counts.get(change, 0)) for change in ("added", "removed", "kept"))
    st.markdown(f"**{plain(t('plans_compare_picks', added=added, removed=removed, kept=kept))}**")
    changed = picks[picks["change"] != "kept"].assign(
        change=lambda f: f["change"].map(lambda c: t(f"plans_change_{c}")),
        program=lambda f: f["program"].map(program_name),
        district_name=lambda f: f["district_code"],
    )
    if len(changed):
        changed = shared.with_district_names(changed).rename(columns={"program": "program_name"})
        shared.show_table(changed[["change", "program_name", "community_id", "district_name", "rank_a", "rank_b"]])


def _numbers(frame: pd.DataFrame) -> dict:
    return {
        column: st.column_config.NumberColumn(format="localized")
        for column in frame.columns
        if pd.api.types.is_numeric_dtype(frame[column])
    }


def render() -> None:
    st.title(t("page_plans"))
    shared.require_role(*shared.READERS)  # as the navigation (shared.PAGE_ROLES): not a district office's page
    st.caption(t("plans_intro"))
    actor = shared.actor()
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash)
    plans = list_plans(shared.store(), actor)
    if not len(plans):
        st.info(t("plans_none"))
        return
    shared.show_table(plans_table(plans))
    show_plan(plans, actor)
    compare(plans, actor)


shared.guarded(render)
