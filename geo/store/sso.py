"""Single sign-on: the account an identity provider's user stands for (never a new one).

Streamlit's OIDC login (``st.login``, configured by ``[auth]`` in ``.streamlit/secrets.toml``) says
who signed in (``st.user``: ``preferred_username``, ``email`` …). That user acts as the *existing*
account of the same user name; a disabled account is refused, and nobody unknown gets in: no
account is ever made by signing on. An e-mail address maps by the part before ``@`` only when its
domain is the one ``[accounts] sso_email_domain`` trusts (an identity provider that anyone can
join, a public mail service, must never map ``admin@…`` to the administrator).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from geo.errors import data_error
from geo.store.accounts import USERNAME
from geo.store.actors import Actor
from geo.store.schema import User


def sso_usernames(claims: Mapping, email_domain: str = "") -> list[str]:
    """The user names ``claims`` (the provider's, e.g. ``st.user``) may stand for, most specific first.

    ``preferred_username`` as it is; the e-mail's part before ``@`` only when its domain is
    ``email_domain`` (case-insensitive) and the provider did not say it is unverified. Names that
    cannot be user names (:data:`geo.store.accounts.USERNAME`) are left out.
    """
    names = []
    preferred = claims.get("preferred_username")
    if isinstance(preferred, str):
        names.append(preferred.strip())
    email = claims.get("email")
    if email_domain and isinstance(email, str) and claims.get("email_verified") is not False:
        local, at, domain = email.strip().rpartition("@")
        if at and domain.lower() == email_domain.lower():
            names.append(local)
    return [name for name in dict.fromkeys(names) if USERNAME.match(name)]


def _actor(user: User) -> Actor:
    return Actor(user.username, user.role, tuple(d for d in user.districts.split(";") if d))


def enabled_actor(store, username: str) -> Actor | None:
    """The :class:`Actor` of account ``username`` as the store has it now (role and districts may have
    changed since login); None when the account is gone or disabled (its session must end)."""
    with store.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        return None if user is None or user.disabled else _actor(user)


def sso_actor(store, claims: Mapping, email_domain: str = "") -> Actor:
    """The :class:`Actor` of the existing, enabled account ``claims`` stands for (:func:`sso_usernames`).

    Refused with DataError ``sso_unknown_account`` when no account has such a name (never created)
    and ``login_disabled`` when the account is disabled.
    """
    with store.session() as session:
        for name in sso_usernames(claims, email_domain):
            user = session.scalar(select(User).where(User.username == name))
            if user is None:
                continue
            if user.disabled:
                raise data_error("login_disabled", username=name)
            return _actor(user)
    shown = claims.get("preferred_username") or claims.get("email") or "?"
    raise data_error("sso_unknown_account", identity=str(shown))
