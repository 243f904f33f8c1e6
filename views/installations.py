"""安装与检查 · Installations — record the sets installed against an approved plan and their inspections.

Rows are read and written through :mod:`geo.store.installations` with :func:`views.shared.actor`: the
store keeps a district office to its districts and lets only planners and administrators write (an
analyst reads; the forms are not offered, and the store would refuse anyway). The district filter
narrows what the store returned; a district outside the actor's own is refused, not hidden.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from geo.store.installations import (
    CONDITIONS,
    MAX_PHOTO_BYTES,
    add_inspection,
    add_installation,
    approved_plans,
    attachment,
    list_inspections,
    list_installations,
    plan_progress,
)
from views import shared
from views.shared import plain, t

FLASH = "installations_flash"
WRITERS = ("admin", "planner")
ALL = ""
PHOTOS_KEY = "inspections_photos"


def condition_word(condition) -> str:
    return t(f"condition_{condition}") if isinstance(condition, str) and condition else ""


def photo_count(count: int) -> str:
    """How many photos, in words: 照片 2 张 / "1 photo", "2 photos"."""
    return t("photo_count_one" if count == 1 else "photo_count_many", count=int(count))


def community_names() -> dict[str, str]:
    communities = shared.city().communities
    return dict(zip(communities["community_id"].astype(str), communities["name"].astype(str), strict=True))


def progress_table(progress: pd.DataFrame, names: dict[str, str], installations: pd.DataFrame) -> pd.DataFrame:
    """The plan's picks as the page shows them: community, district, planned cost, installed or not yet, and
    what was recorded of an installation (date, actual cost, pieces, supplier, site; blank before; pieces
    not told, stored as 0, blank too). ``installations``: rows of :func:`geo.store.installations.list_installations`."""
    recorded = installations.set_index("id")
    done = progress["installation_id"]

    def told(column: str) -> pd.Series:
        return done.map(recorded[column]) if len(recorded) else pd.Series(None, index=progress.index, dtype=object)

    pieces = pd.to_numeric(told("pieces"), errors="coerce")
    table = pd.DataFrame(
        {
            "rank": progress["rank"],
            "community_id": progress["community_id"],
            "name": progress["community_id"].map(names),
            "district_name": progress["district_code"].astype(str),
            "planned_cost_cny": progress["cost_cny"],
            t("installations_state"): progress["installed"].map(
                {True: t("installations_done"), False: t("installations_not_yet")}
            ),
            t("installations_date"): progress["installed_on"],
            "installed_cost_cny": pd.to_numeric(progress["installed_cost_cny"], errors="coerce").astype("Int64"),
            "installed_pieces": pieces.where(pieces > 0).astype("Int64"),
            "installed_supplier": told("supplier").fillna(""),
            "installed_site": told("site").fillna(""),
        }
    )
    return shared.with_district_names(table.assign(district_code=table["district_name"])).drop(
        columns=["district_code"]
    )


def district_choice(codes: list[str]) -> str:
    """The district filter: every district the actor may see, or one of them (checked against the actor)."""
    names = shared.district_names()
    choice = st.selectbox(
        t("installations_district"),
        [ALL, *codes],
        format_func=lambda code: t("installations_all_districts") if code == ALL else names.get(code, code),
        key="installations_district",
    )
    if choice != ALL:
        shared.check_district(choice)
    return choice


def planned_cost_cny(picks: pd.DataFrame, community: str) -> int:
    """The planned cost (CNY) of ``community``'s pick among ``picks`` (the first, should it be picked twice)."""
    costs = picks.loc[picks["community_id"].astype(str) == str(community), "cost_cny"]
    return int(costs.iloc[0]) if len(costs) and pd.notna(costs.iloc[0]) else 0


def installation_form(plan_id: int, progress: pd.DataFrame, names: dict[str, str], actor) -> None:
    st.subheader(t("installations_add"))
    waiting = progress[~progress["installed"]]
    if not len(waiting):
        st.info(t("installations_none_left"))
        return
    # The community is chosen outside the form, so that the cost offered is its pick's planned cost.
    community = st.selectbox(
        t("installations_community"),
        list(dict.fromkeys(waiting["community_id"])),
        format_func=lambda c: f"{c} · {names.get(c, '')}",
        key="installations_community",
    )
    planned_cost = planned_cost_cny(waiting, community)
    with st.form("installations_add_form", clear_on_submit=True):
        installed_on = st.date_input(t("installations_date"), value=date.today(), format="YYYY-MM-DD")
        site = st.text_input(t("installations_site"))
        left, right = st.columns(2)
        lon = left.number_input(t("installations_lon"), value=None, format="%.6f", help=t("installations_site_help"))
        lat = right.number_input(t("installations_lat"), value=None, format="%.6f")
        left, right = st.columns(2)
        pieces = left.number_input(  # blank: not known (stored as 0, shown as unknown), never a made-up count
            t("installations_pieces"), min_value=0, value=None, step=1, help=t("installations_pieces_help")
        )
        cost = right.number_input(  # keyed per community: its own default, the pick's planned cost
            t("installations_cost"),
            min_value=0,
            value=planned_cost,
            step=1_000,
            help=t("installations_cost_help", planned=f"{planned_cost:,}"),
            key=f"installations_cost_{community}",
        )
        supplier = st.text_input(t("installations_supplier"))
        notes = st.text_area(t("installations_notes"))
        if st.form_submit_button(t("installations_submit"), type="primary"):
            row = add_installation(
                shared.store(),
                actor,
                plan_id,
                community,
                installed_on,
                site=site,
                lon=lon,
                lat=lat,
                pieces=int(pieces or 0),
                supplier=supplier,
                cost_cny=int(cost or 0),
                notes=notes,
            )
            st.session_state[FLASH] = t("installations_added", id=row["id"], community=plain(row["community_id"]))
            st.rerun()


def inspection_form(installations: pd.DataFrame, names: dict[str, str], actor) -> None:
    st.subheader(t("inspections_add"))
    if not len(installations):
        st.info(t("inspections_nothing_installed"))
        return
    labels = {
        i: f"{i} · {c} · {names.get(c, '')}"
        for i, c in zip(installations["id"], installations["community_id"], strict=True)
    }
    with st.form("inspections_add_form", clear_on_submit=True):
        installation_id = st.selectbox(t("inspections_installation"), list(labels), format_func=labels.get)
        inspected_on = st.date_input(t("inspections_date"), value=date.today(), format="YYYY-MM-DD")
        condition = st.selectbox(t("inspections_condition"), list(CONDITIONS), format_func=condition_word)
        findings = st.text_area(t("inspections_findings"))
        photo_mb = MAX_PHOTO_BYTES // (1024 * 1024)
        shared.uploader_limit(PHOTOS_KEY, photo_mb)  # the store's limit a photo, not config.toml's for data
        photos = st.file_uploader(
            t("inspections_photos", max_mb=photo_mb),
            type=["jpg", "jpeg", "png", "webp"],
            accept_multiple_files=True,
            key=PHOTOS_KEY,
        )
        if st.form_submit_button(t("inspections_submit"), type="primary"):
            row = add_inspection(
                shared.store(),
                actor,
                installation_id,
                inspected_on,
                condition,
                findings,
                [(photo.name, photo.getvalue()) for photo in photos or []],
            )
            st.session_state[FLASH] = t("inspections_added", id=row["id"], photos=photo_count(len(row["photos"])))
            st.rerun()


def inspection_record(inspections: pd.DataFrame, names: dict[str, str], actor) -> None:
    st.subheader(t("inspections_record"))
    if not len(inspections):
        st.info(t("inspections_none"))
        return
    for row in inspections.itertuples(index=False):
        line = t(
            "inspections_line",
            date=pd.Timestamp(row.inspected_on).strftime("%Y-%m-%d"),
            community=plain(f"{row.community_id} {names.get(row.community_id, '')}".strip()),
            condition=condition_word(row.condition),
            photos=photo_count(row.photos),
        )
        with st.container(border=True):
            st.markdown(line)
            if row.findings:
                st.caption(plain(row.findings))
            if row.attachment_ids:
                columns = st.columns(min(len(row.attachment_ids), 4))
                for k, attachment_id in enumerate(row.attachment_ids):
                    file_name, _media_type, content = attachment(shared.store(), actor, attachment_id)
                    show_photo(columns[k % len(columns)], file_name, content)


def show_photo(column, file_name: str, content: bytes) -> None:
    """A stored photo; one whose bytes begin like an image but do not decode is named, not shown."""
    try:
        column.image(content, caption=plain(file_name), width="stretch")  # a caption is Markdown
    except Exception:  # PIL cannot read it: the rest of the record still shows
        column.caption(t("inspections_photo_unreadable", file=plain(file_name)))


def render() -> None:
    shared.require_role(*shared.READERS)
    st.title(t("page_installations"))
    st.caption(t("installations_intro"))
    actor = shared.actor()
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash)
    store = shared.store()
    plans = approved_plans(store)
    if not len(plans):
        st.info(t("installations_no_plan"))
        return
    plan_names = dict(zip(plans["id"], plans["name"], strict=True))
    plan_id = st.selectbox(
        t("installations_plan"),
        list(plan_names),
        format_func=lambda i: f"{i} · {plan_names[i]}",
        key="installations_plan",
    )
    names = community_names()
    progress = plan_progress(store, actor, plan_id)
    district = district_choice(sorted(set(progress["district_code"].astype(str))))
    if district != ALL:
        progress = progress[progress["district_code"].astype(str) == district]
    done = int(progress["installed"].sum())
    st.markdown(f"**{plain(t('installations_progress', done=done, planned=len(progress)))}**")
    installations = list_installations(store, actor)
    installations = installations[installations["plan_id"] == plan_id]
    shared.show_table(progress_table(progress, names, installations))

    if district != ALL:
        installations = installations[installations["district_code"].astype(str) == district]
    if actor.role in WRITERS:
        installation_form(plan_id, progress, names, actor)
        inspection_form(installations, names, actor)
    inspections = list_inspections(store, actor)
    inspections = inspections[inspections["installation_id"].isin(set(installations["id"]))]
    inspection_record(inspections, names, actor)


shared.guarded(render)
