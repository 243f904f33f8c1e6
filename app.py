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
]
navigation = st.navigation(pages)

with st.sidebar:
    keep_upload_alive()
shared.keep_widget(
    st.sidebar.number_input,
    shared.t("walk_radius_input"),
    "walk_radius_m",
    int(shared.base_config().walk_radius_m),
    min_value=1,
    max_value=MAX_WALK_RADIUS_M,
    step=50,  # the bounds of geo.config.WALK_RADIUS_RULE
)
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
