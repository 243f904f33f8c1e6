"""健身路径规划 — the Streamlit app: navigation and the sidebar every page shares (no analysis here)."""

from __future__ import annotations

import streamlit as st

from geo.config import MAX_WALK_RADIUS_M, ConfigError, config_error_text
from geo.i18n import text
from geo.intake.uploads import HEARTBEAT_SECONDS, start_sweeper
from views import shared

st.set_page_config(page_title=text("browser_title", "zh"), page_icon="🏃", layout="wide")

if not shared.host_allowed(st.context.headers.get("Host"), shared.allowed_hosts()):
    st.error(text("error_host", shared.lang()))  # a page of another site pointed at this server
    st.stop()

try:
    shared.base_config()
except ConfigError as error:  # a broken config.toml: the same one line as the CLI prints, then nothing else
    st.error(shared.plain(config_error_text(error, shared.lang())))
    st.stop()
except Exception as error:  # the store (whose records are part of the data's version) cannot be reached
    shared.fail_gently(error)
    st.stop()

# Uploaded data of closed pages is deleted by a sweeper thread; an open page keeps its own alive.
start_sweeper(shared.base_config().upload_max_age_hours)


@st.fragment(run_every=HEARTBEAT_SECONDS)
def keep_upload_alive() -> None:
    """Touch this session's upload folder while its page is open (a fragment rerun, not the page's)."""
    folder = st.session_state.get("upload_folder")
    if folder is not None:
        folder.touch()


choice = st.sidebar.radio(
    text("language", "zh"),
    [text("language_name", "zh"), text("language_name", "en")],
    horizontal=True,
    index=0 if shared.lang() == "zh" else 1,
    key="language_choice",
)
st.session_state["lang"] = "en" if choice == text("language_name", "en") else "zh"
# Streamlit's own English (the file uploader's button and limit, "Select all" …) in the page's language.
st.html(f"<style>{shared.ui_stylesheet(shared.lang(), shared.base_config().max_upload_mb)}</style>")

# Who acts. A store with accounts: a session that has not logged in (or whose login just ended: idle too
# long, account disabled) gets the login page and nothing else. Without any account: the local single user.
try:
    ended = not shared.session_still_valid()
    if ended and shared.sso_configured() and st.user.is_logged_in:
        st.logout()  # else the identity provider's cookie would log the session straight back in
    if shared.login_needed():
        # The login page answers at every page's address too: a link to a page opens the login, then that page.
        st.navigation(
            [
                st.Page("views/login.py", title=shared.t("page_login"), url_path=path, default=path == "login")
                for path in ("login", *shared.PAGE_ROLES)
            ],
            position="hidden",
        ).run()
        st.stop()
    actor = shared.actor()
    shared.records_key(fresh=True)  # the store's installations and applications, read once this run
except Exception as error:  # a store that cannot be opened: a plain message, nothing of the pages
    shared.fail_gently(error)
    st.stop()

pages = [
    st.Page(
        "views/coverage_map.py",
        title=shared.t("page_coverage"),
        icon=":material/map:",
        url_path="coverage",
        default=True,
    ),
    st.Page(
        "views/eligibility.py", title=shared.t("page_eligibility"), icon=":material/fact_check:", url_path="eligibility"
    ),
    st.Page(
        "views/priority_budget.py", title=shared.t("page_priority"), icon=":material/leaderboard:", url_path="priority"
    ),
    st.Page("views/publish.py", title=shared.t("page_publish"), icon=":material/campaign:", url_path="publish"),
    st.Page("views/intake.py", title=shared.t("page_intake"), icon=":material/upload_file:", url_path="intake"),
    st.Page(
        "views/new_city.py", title=shared.t("page_new_city"), icon=":material/add_location_alt:", url_path="new-city"
    ),
    st.Page(
        "views/applications.py", title=shared.t("page_applications"), icon=":material/inbox:", url_path="applications"
    ),
    st.Page("views/plans.py", title=shared.t("page_plans"), icon=":material/bookmarks:", url_path="plans"),
    st.Page(
        "views/installations.py",
        title=shared.t("page_installations"),
        icon=":material/construction:",
        url_path="installations",
    ),
    st.Page("views/audit.py", title=shared.t("page_audit"), icon=":material/history:", url_path="audit"),
]
# Only the pages of the actor's role (shared.PAGE_ROLES): another page opened by its URL is not found
# and the default page runs instead; each page checks again on its own.
navigation = st.navigation(shared.pages_for(actor, pages))

with st.sidebar:
    keep_upload_alive()
    if shared.ACTOR_KEY in st.session_state:  # 用户 · 角色 · 区县, and the way out
        names = shared.district_names()
        separator = shared.t("newcity_list_separator")
        districts = separator.join(names.get(d, d) for d in actor.districts) if not actor.all_districts else None
        st.caption(
            shared.t(
                "sidebar_user",
                user=shared.plain(actor.username),
                role=shared.t(f"role_{actor.role}"),
                districts=shared.plain(districts) if districts else shared.t("all_districts"),
            )
        )
        if st.button(shared.t("logout"), key="logout"):
            shared.log_out("logged_out")
            if shared.sso_configured() and st.user.is_logged_in:
                st.logout()
            st.rerun()
    else:
        st.caption(shared.t("local_session"))
shared.keep_widget(
    st.sidebar.number_input,
    shared.t("walk_radius_input"),
    "walk_radius_m",
    int(shared.base_config().walk_radius_m),
    min_value=1,
    max_value=MAX_WALK_RADIUS_M,
    step=50,  # the bounds of geo.config.WALK_RADIUS_RULE
)
shared.distance_widget(st.sidebar)  # straight line / on foot along the roads (greyed out without roads)
identity = shared.city_identity()
shown_name = (identity.name_en if shared.lang() == "en" else "") or identity.name_zh or shared.data_name()
st.sidebar.caption(f"{shared.t('data_source')}: {shared.plain(shown_name)}")
if shared.using_upload():
    st.sidebar.button(shared.t("back_to_sample"), on_click=shared.use_sample)
if shared.city_identity().synthetic:  # the file says so (the bundled sample does)
    st.sidebar.caption(shared.t("synthetic_notice"))

try:
    navigation.run()
except Exception as error:  # the page shows a plain message, never a traceback
    shared.fail_gently(error)
