"""登录 · Log in — the only page of a session that has not logged in to a store with accounts."""

from __future__ import annotations

import streamlit as st

from geo.errors import DataError
from geo.store.accounts import log_in
from geo.store.sso import sso_actor
from views import shared
from views.shared import t


def single_sign_on() -> None:
    """With Streamlit's OIDC login configured: map a signed-on user to their account, or offer to sign on."""
    if st.user.is_logged_in:  # back from the identity provider: only an existing, enabled account gets in
        try:
            user = sso_actor(shared.store(), st.user.to_dict(), shared.base_config().sso_email_domain)
        except DataError as error:
            st.error(shared.plain(shared.message_text(error)))
            st.button(t("logout"), on_click=st.logout, key="sso-logout")
            return
        shared.log_in_as(user)
        st.rerun()
    st.button(t("login_sso"), help=t("login_sso_help"), on_click=st.login, key="sso-login")


def render() -> None:
    st.title(t("page_login"))
    flash = st.session_state.pop(shared.FLASH_KEY, None)
    if flash:
        st.info(t(flash, minutes=shared.base_config().session_idle_minutes))
    st.caption(t("login_intro"))
    with st.form("login", clear_on_submit=True):  # the password is not kept in the session's state
        username = st.text_input(t("login_username"))
        password = st.text_input(t("login_password"), type="password")
        submitted = st.form_submit_button(t("login_submit"), type="primary")
    if submitted:
        try:
            user = log_in(shared.store(), username.strip(), password)
        except DataError as error:  # wrong password (the same words for an unknown name), disabled, locked
            st.error(shared.plain(shared.message_text(error)))
        else:
            shared.log_in_as(user)
            st.rerun()
    if shared.sso_configured():
        single_sign_on()
    # While the user types: the first page's data, built once for everyone (nothing of it shown here).
    shared.prebuild_first_page()


shared.guarded(render)
