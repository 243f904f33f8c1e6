"""Accounts: add, list and disable users; log in with Argon2id-hashed passwords and a lock-out.

No account exists until an administrator is made (``geo users add --role admin``): there is no
default password. A store without accounts is a local single-user store (:func:`has_accounts`).
After :data:`MAX_FAILED_LOGINS` wrong passwords in a row an account is locked for
:data:`LOCK_MINUTES` minutes; a right password resets the count. A disabled account is said to be
disabled only to whoever gives its password (anyone else hears "wrong user name or password"), and
the last enabled administrator cannot be disabled (no one could manage the accounts again).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from geo.errors import data_error
from geo.store.actors import ROLES, Actor
from geo.store.audit import record
from geo.store.locking import begin_writer
from geo.store.schema import User

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
USERNAME = re.compile(r"\A[A-Za-z0-9_.\-]{2,64}\Z")  # \Z: "$" would let a final newline through
DISTRICT_CODE = re.compile(r"\A[A-Za-z0-9_\-]+\Z")  # districts are stored ";"-joined
_HASHER = PasswordHasher()  # Argon2id with the library's maintained parameters


def has_accounts(store) -> bool:
    """Whether any account exists (else the app and the CLI act as the local single user)."""
    with store.session() as session:
        return bool(session.scalar(select(func.count()).select_from(User)))


def _public(user: User) -> dict:
    """What the audit log and listings show of an account (never the password hash)."""
    return {
        "username": user.username,
        "role": user.role,
        "districts": user.districts,
        "disabled": bool(user.disabled),
    }


def add_user(store, actor: Actor, username: str, password: str, role: str, districts=()) -> dict:
    """Create an account. The first account must be an administrator; later ones need an administrator.

    Refused (DataError) for a name that is not 2–64 letters, digits, ``_ . -``; a name in use; an
    unknown role; a district office without districts; a district code that is not letters, digits,
    ``_ -`` (:data:`DISTRICT_CODE`); a password shorter than :data:`MIN_PASSWORD_LENGTH` characters.
    """
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise data_error("username_invalid", username=repr(username))
    if role not in ROLES:
        raise data_error("role_unknown", role=repr(role), roles=", ".join(ROLES))
    districts = tuple(sorted({str(d).strip() for d in districts if str(d).strip()}))
    for code in districts:
        if not DISTRICT_CODE.fullmatch(code):
            raise data_error("district_code_invalid", code=repr(code))
    if role == "district" and not districts:
        raise data_error("district_role_needs_districts")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise data_error("password_too_short", minimum=MIN_PASSWORD_LENGTH)
    with store.session() as session, session.begin():
        first = not session.scalar(select(func.count()).select_from(User))
        if first and role != "admin":
            raise data_error("first_user_admin")
        if not first:
            actor.check_role("admin")
        if session.scalar(select(User).where(User.username == username)) is not None:
            raise data_error("username_taken", username=username)
        user = User(username=username, role=role, districts=";".join(districts), password_hash=_HASHER.hash(password))
        session.add(user)
        record(session, actor.username, "user_add", "user", username, None, _public(user))
        return _public(user)


def list_users(store) -> list[dict]:
    """Every account (name, role, districts, disabled), by name."""
    with store.session() as session:
        return [_public(u) for u in session.scalars(select(User).order_by(User.username))]


def disable_user(store, actor: Actor, username: str) -> dict:
    """Disable an account (it can no longer log in); administrators only. Kept, never deleted.

    Refused (DataError): an unknown name; the last enabled administrator (``last_admin``).
    """
    actor.check_role("admin")
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise data_error("username_unknown", username=repr(username))
    with store.session() as session, session.begin():
        begin_writer(session)  # SQLite: two administrators disabling each other take turns
        admins = session.scalars(
            select(User).where(User.role == "admin", User.disabled.is_(False)).with_for_update()
        ).all()  # PostgreSQL: the enabled administrators' rows held until the commit
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise data_error("username_unknown", username=username)
        if user.role == "admin" and not user.disabled and len(admins) <= 1:
            raise data_error("last_admin", username=username)
        before = _public(user)
        user.disabled = True
        record(session, actor.username, "user_disable", "user", username, before, _public(user))
        return _public(user)


def log_in(store, username: str, password: str, now: datetime | None = None) -> Actor:
    """The :class:`Actor` of a right name and password; else DataError ``login_failed`` (the same
    message whether the name or the password was wrong, and for a disabled account's name with a
    wrong password; ``login_failed_locked`` when this failure locks the account), ``login_locked`` or
    ``login_disabled`` (the right password of a disabled account)."""
    now = now or datetime.now(UTC)
    refusal = None
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        _HASHER.hash(password or "")  # no account can have this name: the same work, the same answer
        raise data_error("login_failed")
    with store.session() as session, session.begin():
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            _HASHER.hash(password or "")  # the same work as for a real account: no timing tell
            raise data_error("login_failed")
        if user.disabled:
            try:
                _HASHER.verify(user.password_hash, password or "")
            except (VerificationError, InvalidHashError):
                raise data_error("login_failed") from None
            raise data_error("login_disabled", username=username)
        locked = user.locked_until
        if locked is not None and _aware(locked) > now:
            raise data_error("login_locked", minutes=LOCK_MINUTES)
        try:
            _HASHER.verify(user.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            user.failed_logins += 1  # kept: the count commits with the refusal
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
                record(session, username, "user_locked", "user", username, None, {"minutes": LOCK_MINUTES})
                refusal = data_error("login_failed_locked", tries=MAX_FAILED_LOGINS, minutes=LOCK_MINUTES)
            else:
                refusal = data_error("login_failed")
        else:
            user.failed_logins, user.locked_until = 0, None
            if _HASHER.check_needs_rehash(user.password_hash):
                user.password_hash = _HASHER.hash(password)
            actor = Actor(user.username, user.role, tuple(d for d in user.districts.split(";") if d))
    if refusal is not None:
        raise refusal
    return actor


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC times; PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
