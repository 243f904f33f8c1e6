"""What every page shares: the user's choices (session state), cached calls into geo/, small widgets.

No analysis here: each cached function is one call into the geo pipeline. Session state holds
only what the user chose (language, walk radius, weights, programme, mode, …) and, after an
upload, that user's data. The frames of the server's own data (the sample, ``$PLANNER_DATA``)
are cached with ``st.cache_resource`` (shared, never copied or pickled — the pipeline never
mutates its inputs), because unpickling a plan's frames on every rerun would cost more than the
rerun. The frames of a user's upload never enter those shared caches: :func:`per_data` keeps
them in that user's session, where they end with it.

Downloads are built lazily by Streamlit outside the user's script run, where session state is
out of reach; so every value a download needs is read during the run and captured in its
callable (:func:`download_buttons`), never looked up when the button is pressed.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gc
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import sqlalchemy.exc
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from geo import i18n
from geo.analysis.coverage import PairLimitError, city_total, community_coverage, coverage_summary
from geo.analysis.eligibility import reason_labels
from geo.analysis.priority import COMPONENTS, landless, weighted_priority
from geo.analysis.sites import assess_sites, check_site_ids, site_districts, site_points
from geo.analysis.walk_compare import straight_vs_foot, walking_routes
from geo.config import DEFAULT_CONFIG_PATH, DEFAULT_DATA_PATH, DISTANCES, Config, Program, load_config, with_overrides
from geo.data.crs import metric_crs_for
from geo.data.identity import CityIdentity, config_for_city, identity_of
from geo.errors import DataError, data_error, said
from geo.i18n import label, text
from geo.intake.uploads import UploadFolder
from geo.intake.worker import run_bounded
from geo.pipeline import CityData, load_city, walk_network
from geo.plan import Plan, PlanBasis, plan_basis, plan_relation, plan_sheets, run_plan, with_public_sites
from geo.render.export import check_shapefile_text, explained_plan_sheets, export
from geo.render.export import download_stem as export_stem
from geo.render.maps import coverage_map, standalone_html
from geo.render.provenance import file_sha256, plan_parameters
from geo.render.walk_map import walk_comparison_map
from geo.store.accounts import has_accounts
from geo.store.actors import Actor
from geo.store.audit import record_upload
from geo.store.db import Store, open_store, store_url
from geo.store.installations import city_with_records, records_version
from geo.store.sso import enabled_actor

log = logging.getLogger("fitness-path-planner")

TABLE_COLUMNS = [
    "district_name",
    "communities",
    "served_inside",
    "share_served_inside",
    "served_within_radius",
    "share_served_within_radius",
    "population",
    "population_served_within_radius",
]
MODES = ("rank", "optimal")


# --------------------------------------------------------------------------- user's choices


def lang() -> str:
    return st.session_state.get("lang", "zh")


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GFM turns "http://…", "www.…", "mailto:…" and "a@b.c" into links after escapes are resolved, so
# a word joiner (U+2060, invisible) goes before the ":" of "://", "mailto:" and "xmpp:", before
# each "@", and after "www"; other colons stay as they are.
_AUTOLINK_BREAK = re.compile(
    r"(?=\\:\\/\\/)|(?<=mailto)(?=\\:)|(?<=xmpp)(?=\\:)|(?=\\@)|(?<=www)(?=\\\.)", re.IGNORECASE
)


def plain(text) -> str:
    """``text`` for a Streamlit element that renders Markdown, shown literally.

    Every ASCII punctuation character is backslash-escaped (CommonMark lets any of them be), so
    a file name or a message holding ``![t](http://…)``, ``**``, ``:red[…]``, ``$…$`` or
    ``<b>`` is shown as typed: no image is fetched, no markup or colour made. GitHub-flavoured
    Markdown would still make a link of an address, so an invisible word joiner (U+2060) is put
    inside ``://``, ``mailto:``, ``xmpp:`` and before ``@``, and after ``www``. Line breaks become
    spaces: a message is one line.
    """
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", re.sub(r"[\r\n\u2028\u2029]+", " ", str(text)))
    return _AUTOLINK_BREAK.sub("\u2060", escaped)


def t(key: str, **values) -> str:
    """UI text in the current language, with ``{name}`` placeholders filled.

    ``{city}`` and ``{bureau}`` come from the city file or config.toml; a city file is the user's, so
    its names are shown literally (:func:`plain`), never as Markdown."""
    names = {name: plain(value) for name, value in i18n.place_names(base_config(), lang()).items()}
    return text(key, lang(), **names, **values)


def place_names(language: str | None = None) -> dict[str, str]:
    """The city's and the bureau's names in ``language`` (default: the page's), from config.toml."""
    return i18n.place_names(base_config(), language or lang())


def standard_words(standard: str) -> str:
    """The service standard (``inside`` / ``walk``) in the page's language."""
    return label("export", f"standard_{standard}", lang())


def program_choices() -> tuple[str, ...]:
    """The budget choices of config.toml's programmes (see :func:`geo.i18n.program_choices`)."""
    return i18n.program_choices(base_config())


def program_choice_label(choice: str) -> str:
    return i18n.program_choice_label(choice, base_config(), lang())


CONFIG_ENV = "PLANNER_CONFIG"


def base_config() -> Config:
    """The server's ``config.toml`` (``$PLANNER_CONFIG``, else the repository's), read again when edited,
    with the city's and the bureau's names of the city file in use (:mod:`geo.data.identity`)."""
    try:
        path = data_path()
        return _named_config(str(path), data_version(path))
    except (DataError, OSError):  # no readable city: config.toml's names (the page that reads it says why)
        return _config_at(*config_version())  # a missing config.toml: load_config says what is wrong


def city_identity() -> CityIdentity:
    """The identity (names, synthetic or not) of the city file in use; empty if it cannot be read
    (the page that reads the city then says why)."""
    try:
        return identity_of(city().other_layers)
    except (DataError, OSError):
        return CityIdentity()


@st.cache_resource(show_spinner=False, max_entries=4)
def _config_at(path: str, version: float | None) -> Config:
    return load_config(path)


def kept(name: str, default):
    """A user choice that survives page switches (widget keys are dropped with their page)."""
    store = f"keep_{name}"
    if store not in st.session_state:
        st.session_state[store] = default
    return st.session_state[store]


def keep_widget(widget, label: str, name: str, default, **kwargs):
    """Draw ``widget`` bound to the kept choice ``name`` and return its value."""
    store, key = f"keep_{name}", f"widget_{name}"
    kept(name, default)
    st.session_state[key] = st.session_state[store]

    def sync():
        st.session_state[store] = st.session_state[key]

    return widget(label, key=key, on_change=sync, **kwargs)


def walk_radius_m() -> float:
    return float(kept("walk_radius_m", int(base_config().walk_radius_m)))


def chosen_distance() -> str:
    """The distance the user chose (``straight`` / ``network``, :data:`geo.config.DISTANCES`); default
    config.toml's ``[coverage] distance``. See :func:`distance` for the one in force."""
    chosen = kept("distance", base_config().distance)
    return chosen if chosen in DISTANCES else DISTANCES[0]


def distance() -> str:
    """The distance in force: the user's choice, except straight lines when the city has no roads layer
    (on foot cannot be measured; the sidebar says why, :func:`distance_widget`)."""
    chosen = chosen_distance()
    return chosen if chosen == "straight" or city_has_roads() else "straight"


def distance_words(distance_in_force: str | None = None) -> str:
    """``distance_in_force`` (default: :func:`distance`) in the page's language: 直线距离 / 步行距离（沿道路）."""
    return t(f"distance_words_{distance_in_force or distance()}")


def distance_caption(distance_in_force: str | None = None, radius_m: float | None = None) -> None:
    """One caption saying which distance measures "within the walk radius" (default: the session's)."""
    distance_in_force = distance_in_force or distance()
    radius = f"{walk_radius_m() if radius_m is None else radius_m:,.0f}"
    st.caption(t(f"distance_caption_{distance_in_force}", radius=radius))


def city_has_roads() -> bool:
    """Whether the city in use has a roads layer with at least one line (distance on foot can be measured);
    False when the city cannot be read (the page that reads it says why)."""
    try:
        roads = city().roads
    except (DataError, OSError):
        return False
    return roads is not None and len(roads) > 0


def distance_widget(where=st.sidebar) -> str:
    """The choice of distance (straight line / on foot along the roads), kept for the session like the walk
    radius. A city without a roads layer gets the choice greyed out at straight lines and a caption saying
    why; the user's choice is kept for a city that has roads. Returns the distance in force."""
    language = lang()  # the options' words in the page's language, fixed now (not when Streamlit formats them)

    def words(choice: str) -> str:
        return text(f"distance_option_{choice}", language)

    if city_has_roads():
        keep_widget(
            where.radio,
            t("distance_input"),
            "distance",
            chosen_distance(),
            options=list(DISTANCES),
            format_func=words,
            help=t("distance_help"),
        )
    else:
        where.radio(
            t("distance_input"), list(DISTANCES), index=0, format_func=words, disabled=True, key="distance_unavailable"
        )
        where.caption(t("distance_no_roads"))
    return distance()


def weights() -> dict[str, float]:
    defaults = base_config().priority_weights
    return {name: float(kept(f"weight_{name}", defaults.get(name, 0.0))) for name in COMPONENTS}


def plan_settings() -> dict:
    """The current plan choices as plain values (hashable pieces for caching)."""
    return {
        "program_choice": kept("program_choice", ",".join(p.key for p in base_config().programs)),
        "custom_budget_cny": int(kept("custom_budget_cny", 1_000_000)),
        "mode": kept("mode", "rank"),
        "use_sites": bool(kept("use_sites", True)),
    }


# --------------------------------------------------------------------------- who may use the page

HOSTS_ENV = "PLANNER_ALLOWED_HOSTS"
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def allowed_hosts() -> set[str]:
    """Host names the app answers to.

    This machine, Streamlit's server and browser addresses, and ``$PLANNER_ALLOWED_HOSTS``.

    Binding to 127.0.0.1 stops other computers, not a web page in the user's own browser that
    re-points its domain to 127.0.0.1 ("DNS rebinding"): such a page reaches the app with its own
    name in the Host header, which is refused. To serve a network, list the names and addresses
    users type (comma-separated) in ``$PLANNER_ALLOWED_HOSTS``.
    """
    names = {
        *_LOCAL_HOSTS,
        str(st.get_option("server.address") or ""),
        str(st.get_option("browser.serverAddress") or ""),
    }
    names |= {name.strip() for name in os.environ.get(HOSTS_ENV, "").split(",")}
    return {name.lower() for name in names if name and name not in ("0.0.0.0", "::")}


def host_allowed(host_header: str | None, allowed: set[str]) -> bool:
    """Whether a request's Host header (``name``, ``name:port``, ``[v6]:port``) names an allowed host.

    No header at all means no HTTP request (Streamlit's test harness): allowed. A browser always sends one.
    """
    if host_header is None:
        return True
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return bool(host) and host in allowed


# --------------------------------------------------------------------------- data and caches

DATA_ENV = "PLANNER_DATA"
_SESSION_MEMO = "_session_memo"
SESSION_MEMO_ENTRIES = 24
"""Results kept per session for an uploaded city (the shared caches keep up to ~90 for the server's data)."""


def data_path() -> Path:
    """The city GeoPackage: the user's upload in this session, else ``$PLANNER_DATA``, else the sample."""
    return Path(st.session_state.get("uploaded_data") or os.environ.get(DATA_ENV) or DEFAULT_DATA_PATH)


def using_upload() -> bool:
    return bool(st.session_state.get("uploaded_data"))


def upload_folder() -> UploadFolder:
    """This session's folder for uploads, created on first use; removed when the session ends."""
    folder = st.session_state.get("upload_folder")
    if folder is None or not folder.path.exists():
        folder = st.session_state["upload_folder"] = UploadFolder()
    return folder


def use_data(path: Path, name: str) -> None:
    """Analyse ``path`` on every page from now on (this session only); ``name`` is the user's file name.

    The store's audit log records it first (:func:`audit_upload`): if that fails, the data is not used.
    """
    audit_upload(Path(path), name)
    st.session_state["uploaded_data"] = str(path)
    st.session_state["uploaded_name"] = str(name)
    st.session_state.pop(_SESSION_MEMO, None)


def layer_rows(path: Path) -> dict[str, int]:
    """Layer (and attribute table) name → number of rows of the GeoPackage at ``path``."""
    return {str(layer): int(pyogrio.read_info(path, layer=layer)["features"]) for layer, _ in pyogrio.list_layers(path)}


def audit_upload(path: Path, name: str) -> None:
    """Append a ``data_upload`` row to the store's audit log: who loaded the file the user called
    ``name`` (kept as data), its SHA-256 and its layers' row counts."""
    record_upload(store(), actor().username, str(name), file_sha256(path), layer_rows(path))


def use_sample() -> None:
    for key in ("uploaded_data", "uploaded_name", _SESSION_MEMO):
        st.session_state.pop(key, None)


def data_name() -> str:
    """The data's name for people and files: the user's upload as they named it, else the file's name.

    Never a server path: downloads and pages record this, not where the server keeps the file.
    """
    return st.session_state.get("uploaded_name") or data_path().name


def data_version(path: Path) -> tuple:
    """Changes when the data file, the server's ``config.toml`` or the store's records do, so edited
    files are read again and a recorded installation or application counts at once.

    Every cached result is keyed on it: a result computed under the old configuration (its
    priority rules, limits, budgets) is never served after the administrator edits it. The server's
    data adds the store's :func:`geo.store.installations.records_version` (read once a script run,
    :func:`records_key`); an upload is the user's what-if and never meets the store.
    """
    if not path.exists():
        if using_upload():
            raise DataError(text("error_upload_gone", lang()))
        raise data_error("data_file_not_found", file=path.name)
    if using_upload() and "upload_folder" in st.session_state:
        st.session_state["upload_folder"].touch()
        return path.stat().st_mtime, config_version()
    return path.stat().st_mtime, config_version(), records_key()


RECORDS_KEY = "_records_version"


def records_key(fresh: bool = False) -> tuple:
    """The store's records version for this script run: read by app.py once a run (``fresh``), then
    reused by every cached call of the run (four aggregate queries, not four per ``t()``)."""
    if fresh or RECORDS_KEY not in st.session_state:
        st.session_state[RECORDS_KEY] = records_version(store())
    return st.session_state[RECORDS_KEY]


def config_version() -> tuple:
    """The server configuration's file and modification time (None when it cannot be read)."""
    config_path = Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    try:
        return str(config_path), config_path.stat().st_mtime
    except OSError:
        return str(config_path), None


# --------------------------------------------------------------------------- the store and who acts


@st.cache_resource(show_spinner=False, max_entries=4)
def _open_store(url: str) -> Store:
    """The store at ``url`` (an engine and its connection pool: the same for every session, no user data)."""
    return open_store(url)


def server_data_path() -> Path:
    """The server's city data (``$PLANNER_DATA``, else the sample): the city the store belongs to."""
    return Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_PATH)


def store() -> Store:
    """The bureau's store: ``PLANNER_DB_URL``, else the SQLite file beside the server's data.

    Never beside a session's upload: an upload is that user's what-if, not the bureau's record.
    """
    return _open_store(store_url(server_data_path()))


def actor() -> Actor:
    """Who acts in this session: the logged-in user, or the local single user of a store without accounts.

    A store with accounts and nobody logged in in this session is refused (DataError ``login_required``).
    """
    user = st.session_state.get(ACTOR_KEY)
    if user is not None:
        return user
    if not has_accounts(store()):
        return Actor.local()
    raise data_error("login_required")


ACTOR_KEY = "actor"
LAST_ACTIVE_KEY = "_last_active"
FLASH_KEY = "_account_flash"
# What survives a logout in the browser's session: the language, nothing of the user's.
KEPT_AT_LOGOUT = ("lang", "language_choice")


def log_in_as(user: Actor, now: float | None = None) -> None:
    """``user`` acts in this session from now on (after a right password or a single sign-on)."""
    st.session_state[ACTOR_KEY] = user
    st.session_state[LAST_ACTIVE_KEY] = time.time() if now is None else now


def log_out(flash: str | None = None) -> None:
    """End this session's login and forget everything its user chose or uploaded (the next user of
    this browser starts afresh, and the upload's folder is deleted now, not when swept); ``flash``: a
    catalogue key said on the login page."""
    folder = st.session_state.get("upload_folder")
    if folder is not None:
        folder.remove()
    for key in list(st.session_state):
        if key not in KEPT_AT_LOGOUT:
            del st.session_state[key]
    if flash:
        st.session_state[FLASH_KEY] = flash


def session_still_valid(now: float | None = None) -> bool:
    """Keep this session's login up to date at the start of a run; False when it just ended.

    Ended when idle longer than ``[accounts] session_idle_minutes`` (message ``login_expired``) or
    when the account has been disabled or removed since; a changed role or district list applies at
    once. A logged-in run counts as activity. True when nobody is logged in (nothing to end).
    """
    user = st.session_state.get(ACTOR_KEY)
    if user is None:
        return True
    now = time.time() if now is None else now
    last = st.session_state.get(LAST_ACTIVE_KEY, now)
    if now - last > base_config().session_idle_minutes * 60:
        log_out("login_expired")
        return False
    current = enabled_actor(store(), user.username)
    if current is None:
        log_out("logged_out")
        return False
    log_in_as(current, now)
    return True


def sso_configured() -> bool:
    """Whether Streamlit's OIDC single sign-on is configured (``[auth]`` in ``.streamlit/secrets.toml``)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file, or one that cannot be read: no single sign-on
        return False


def login_needed() -> bool:
    """Whether this session must log in first: the store has accounts and nobody is logged in."""
    return st.session_state.get(ACTOR_KEY) is None and has_accounts(store())


# --------------------------------------------------------------------------- who may open which page

EVERY_ROLE = ("admin", "planner", "analyst", "district")
READERS = ("admin", "planner", "analyst")
# A page's url_path -> the roles that may open it (issue 14). app.py builds the navigation from it, so
# a page a role may not open is not a page of that session at all: opened by its URL, the default page
# runs instead. A page not listed here is the administrator's alone until it is listed.
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "coverage": EVERY_ROLE,
    "eligibility": EVERY_ROLE,
    "applications": EVERY_ROLE,
    "priority": READERS,
    "publish": READERS,
    "plans": READERS,
    "installations": READERS,
    "intake": READERS,
    "new-city": READERS,
    "audit": ("admin",),
}


def may_open(user: Actor, url_path: str) -> bool:
    """Whether ``user`` may open the page at ``url_path`` (:data:`PAGE_ROLES`; unlisted: admin only)."""
    return user.role in PAGE_ROLES.get(url_path, ("admin",))


def declared_path(page) -> str:
    """The ``url_path`` a ``st.Page`` was declared with (Streamlit says ``""`` for the default page)."""
    return getattr(page, "_url_path", None) or page.url_path


def pages_for(user: Actor, pages: list) -> list:
    """The ``st.Page`` entries of ``pages`` that ``user`` may open, in their order."""
    return [page for page in pages if may_open(user, declared_path(page))]


def require_role(*roles: str) -> None:
    """A page's own check (besides the navigation): refused (DataError) unless the actor has one of ``roles``."""
    actor().check_role(*roles)


def require_page(url_path: str) -> None:
    """A page's own check of :data:`PAGE_ROLES` (besides the navigation, which may be bypassed by running
    the page's file alone): refused (DataError ``role_not_allowed``) unless the actor's role may open
    the page at ``url_path`` (unlisted: administrators only)."""
    require_role(*PAGE_ROLES.get(url_path, ("admin",)))


# --------------------------------------------------------------------------- a district office's view


def visible(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (with a ``district_code`` column) that the actor may see.

    A district office sees its own districts' rows only; every other role sees every row (the same
    frame, not a copy). Every page reads communities, summaries and totals through this, on the
    server: nothing of another district reaches a district office's page, map or download.
    """
    user = actor()
    if user.all_districts:
        return frame
    return frame[frame["district_code"].astype(str).isin(user.districts)]


def actor_districts() -> tuple[str, ...] | None:
    """The district codes the actor is confined to; None for a role that sees every district."""
    user = actor()
    return None if user.all_districts else tuple(sorted(user.districts))


def check_district(district_code) -> None:
    """Refuse (DataError ``not_your_district``) a district code the actor may not see, wherever it came
    from (a widget's kept state, a link's query parameter)."""
    actor().check_district(str(district_code))


def kept_district(name: str, names: dict[str, str]) -> None:
    """Check the district a page keeps under ``name`` (:func:`kept`) before its selectbox is drawn.

    ``names``: the districts the actor may see. A link's ``?district=`` is taken when the actor may
    see it and refused (``not_your_district``) when not; a kept code that is not one of ``names``
    (kept before a logout, or typed into the state) is replaced by the first of them, and refused when
    it is another district's. A district office none of whose districts is in this city is told so.
    """
    if not names:
        user = actor()
        raise data_error("no_districts_visible", user=user.username, districts=", ".join(user.districts))
    key = f"keep_{name}"
    asked = st.query_params.get("district")
    if asked is not None:
        check_district(asked)
        if asked in names:
            st.session_state[key] = asked
    held = st.session_state.get(key)
    if held is not None and held not in names:
        st.session_state[key] = next(iter(names))
        check_district(held)


def confined_city(city: CityData, districts: tuple[str, ...] | None) -> CityData:
    """``city`` as a district office of ``districts`` sees it (None: the whole city, unchanged).

    Its districts, their communities, the applications of those communities, and the fitness paths
    that lie in those districts. Coverage is never computed on this (a set across the border serves
    too): it is for listing and drawing only.
    """
    if districts is None:
        return city
    keep = set(districts)
    own = city.districts[city.districts["district_code"].astype(str).isin(keep)]
    communities = city.communities[city.communities["district_code"].astype(str).isin(keep)]
    paths = city.fitness_paths
    if len(paths) and len(own):
        inside = paths.geometry.intersects(own.to_crs(paths.crs).union_all()) if paths.crs else paths.index >= 0
        paths = paths[inside]
    else:
        paths = paths.iloc[0:0]
    applications = city.applications
    if applications is not None:
        ids = set(communities["community_id"].astype(str))
        applications = applications[applications["community_id"].astype(str).isin(ids)]
    return replace(city, districts=own, communities=communities, fitness_paths=paths, applications=applications)


def _is_private(path: str, *args) -> bool:
    """True for this session's upload: its results stay in the session, out of the shared caches."""
    return path == st.session_state.get("uploaded_data")


def per_data(shared_cache):
    """Cache a function of ``(path, version, …)``: shared for the server's data, per session for an upload.

    ``shared_cache`` is ``st.cache_resource(...)`` or ``st.cache_data(...)``; it is only ever
    given the server's own data (the sample or ``$PLANNER_DATA``), which every user may see. A
    call on the session's upload is memoised in that session's state instead (least recently
    used first out, :data:`SESSION_MEMO_ENTRIES`), so no other session can reach it and it is
    freed with the session.
    """

    def decorate(function):
        cached = shared_cache(function)

        @functools.wraps(function)
        def call(*args):
            if not _is_private(*args):
                return cached(*args)
            memo = st.session_state.setdefault(_SESSION_MEMO, collections.OrderedDict())
            key = (function.__name__, *args)
            if key in memo:
                memo.move_to_end(key)
                return memo[key]
            value = memo[key] = function(*args)
            while len(memo) > SESSION_MEMO_ENTRIES:
                memo.popitem(last=False)
            return value

        return call

    return decorate


_COLLECTOR = threading.Lock()
_BUILDING = {"count": 0, "paused": False}


@contextlib.contextmanager
def _collector_paused():
    """Python's cyclic garbage collector paused while a long-lived result is built.

    A 100,000-community city is millions of objects (geometries, strings): each full collection during its
    load, coverage or plan basis scanned them all again (0.1–0.3 s each, about 1.5 s of the 100k city's
    first page). Everything the build made is still in the youngest generation when it ends: its cyclic
    garbage is collected there (a scan of the new objects only) before the collector resumes. Not frozen
    out of later scans (:func:`gc.freeze` was measured too): a freeze pins every object alive at that
    moment, other sessions' included, and whatever of it later became cyclic garbage would never be
    freed while the server runs. Several builds at once (sessions in threads) pause it once; it resumes
    when the last ends, and only if it ran before.
    """
    with _COLLECTOR:
        if _BUILDING["count"] == 0:
            _BUILDING["paused"] = gc.isenabled()
            gc.disable()
        _BUILDING["count"] += 1
    try:
        yield
    finally:
        with _COLLECTOR:
            _BUILDING["count"] -= 1
            if _BUILDING["count"] == 0 and _BUILDING["paused"]:
                gc.collect(0)  # the build's own cyclic garbage, all in the youngest generation
                gc.enable()


def long_lived(function):
    """Build ``function``'s (cached) result with the collector paused (:func:`_collector_paused`)."""

    @functools.wraps(function)
    def build(*args):
        with _collector_paused():
            return function(*args)

    return build


@per_data(st.cache_resource(show_spinner=False, max_entries=4))
@long_lived
def _file_city(path: str, file_version: tuple) -> CityData:
    """The city file at ``path`` as read (``file_version``: its modification time and config.toml's)."""
    return load_city(path)


@per_data(st.cache_resource(show_spinner=False, max_entries=4))
@long_lived
def cached_city(path: str, version: tuple) -> CityData:
    """The city at ``path``: for the server's data, with the store's installed sets (as fitness paths)
    and applications (:func:`geo.store.installations.city_with_records`), so every session's coverage
    and priority count them; an upload as its file has it."""
    city = _file_city(path, version[:2])
    return city if _is_private(path) else city_with_records(city, store())


@per_data(st.cache_resource(show_spinner=False, max_entries=8))
def _named_config(path: str, version: tuple) -> Config:
    """config.toml (as of ``version``'s config part) with the names of the city file at ``path``.

    Cached: every ``t()`` of a page asks for it, and the city file and config.toml change rarely.
    """
    config = _config_at(*version[1])
    return config_for_city(config, identity_of(cached_city(path, version).other_layers))


@per_data(st.cache_resource(show_spinner=False, max_entries=4))
@long_lived
def cached_network(path: str, file_version: tuple):
    """The walk graph of the roads layer of the city file at ``path`` (:func:`geo.pipeline.walk_network`, a
    :class:`geo.analysis.network.WalkNetwork` in the communities' UTM zone); ``file_version``: the file's and
    config.toml's modification times, so a store record (an installed set) does not rebuild it. Shared for
    the server's data; an upload's stays in its session (:func:`per_data`). DataError ``network_needs_roads``
    when the file has no roads layer."""
    return walk_network(_file_city(path, file_version), _config_at(*file_version[1]))


@per_data(st.cache_resource(show_spinner=False, max_entries=8))
def cached_network_problems(path: str, version: tuple, districts: tuple[str, ...] | None):
    """What is wrong with the city's walk network (:func:`geo.analysis.network.network_problems`) for the
    communities of ``districts`` (None: every one): only those are named, so a district office sees its own."""
    from geo.analysis.network import network_problems

    network = cached_network(path, version[:2])
    communities = cached_confined_city(path, version, districts).communities
    polygons = np.asarray(communities.geometry.to_crs(network.metric_crs).values)
    return network_problems(network, polygons, communities["community_id"])


def network_problems_of(district: str | None = None):
    """:func:`cached_network_problems` of the communities the actor may see, of ``district`` when given."""
    path = data_path()
    districts = (district,) if district is not None else actor_districts()
    if district is not None:
        check_district(district)
    return cached_network_problems(str(path), data_version(path), districts)


def network_of(path: str, version: tuple, distance: str):
    """The walk graph when ``distance`` is ``network``, else None (straight lines)."""
    return cached_network(path, version[:2]) if distance == "network" else None


@per_data(st.cache_resource(show_spinner=False, max_entries=8))
@long_lived
def cached_coverage(path: str, version: tuple, walk_radius_m: float, distance: str = "straight") -> gpd.GeoDataFrame:
    """Coverage of every community: within ``walk_radius_m`` in a straight line, or on foot along the roads
    (``distance`` = ``network``)."""
    city = cached_city(path, version)
    network = network_of(path, version, distance)
    return community_coverage(city.communities, city.fitness_paths, walk_radius_m, network=network)


@per_data(st.cache_resource(show_spinner=False, max_entries=8))
@long_lived
def cached_relation(path: str, version: tuple, walk_radius_m: float, distance: str = "straight"):
    """The plan's coverage relation on cached coverage (:func:`geo.plan.plan_relation`): it depends on the
    coverage, the radius and the distance only, so a weight, budget or programme change reuses it (on foot it
    is most of a plan's time)."""
    config = replace(with_overrides(base_config(), walk_radius_m=walk_radius_m), distance=distance)
    covered = cached_coverage(path, version, walk_radius_m, distance)
    return plan_relation(covered, config, network_of(path, version, distance))


@per_data(st.cache_data(show_spinner=False, max_entries=8))
def cached_summary(
    path: str, version: tuple, walk_radius_m: float, distance: str = "straight"
) -> tuple[pd.DataFrame, dict]:
    city = cached_city(path, version)
    by_district = coverage_summary(cached_coverage(path, version, walk_radius_m, distance), city.districts)
    return by_district, city_total(by_district)


def config_for(
    walk_radius_m: float,
    weights_items: tuple,
    custom_budget_cny: int,
    open_space_rule: str = "",
    distance: str = "straight",
) -> Config:
    """The configuration of the user's choices; ``open_space_rule`` ("" = config.toml's) is
    ``[eligibility] unknown_open_space`` as chosen on the priority page; ``distance`` the distance in force."""
    config = with_overrides(base_config(), walk_radius_m=walk_radius_m, weights=dict(weights_items))
    custom = Program("custom", text("program_custom", "zh"), text("program_custom", "en"), int(custom_budget_cny))
    config = replace(config, programs=config.programs + (custom,), distance=distance)
    return replace(config, unknown_open_space=open_space_rule) if open_space_rule else config


def city_has_unknown_open_space() -> bool:
    """Whether some community of the city in use has no open-space value (to be surveyed on site)."""
    communities = city().communities
    return "open_space_m2" not in communities.columns or bool(communities["open_space_m2"].isna().any())


def city_has_public_sites() -> bool:
    """Whether the city in use has a public-sites layer with at least one site (candidates of a plan)."""
    sites = city().public_sites
    return sites is not None and len(sites) > 0


def open_space_rule() -> str:
    """How this session treats communities whose open space is unknown (survey_first / assume_room)."""
    return kept("unknown_open_space", base_config().unknown_open_space)


@per_data(st.cache_resource(show_spinner=False, max_entries=8))
@long_lived
def cached_basis(
    path: str, version: tuple, walk_radius_m: float, open_space: str = "", distance: str = "straight", use_sites=True
) -> PlanBasis:
    """What a plan computes before its weights (:func:`geo.plan.plan_basis`: eligibility, priority components,
    the public sites' assessment and reach) on cached coverage and relation. It depends on the data, the radius,
    the open-space rule, the distance and whether sites are candidates, never on weights, budgets or
    programmes: a weight change reuses it. Shared read-only (the pipeline copies before adding columns)."""
    city = cached_city(path, version)
    if use_sites and city.public_sites is not None and len(city.public_sites):  # the communities' part shared
        check_site_ids(city.public_sites, city.communities)
        basis = cached_basis(path, version, walk_radius_m, open_space, distance, False)
        return with_public_sites(basis, city.public_sites, network_of(path, version, distance))
    config = config_for(walk_radius_m, tuple(sorted(base_config().priority_weights.items())), 0, open_space, distance)
    return plan_basis(
        city.communities,
        city.fitness_paths,
        config,
        city.applications,
        covered=cached_coverage(path, version, walk_radius_m, distance),
        network=network_of(path, version, distance),
        relation=cached_relation(path, version, walk_radius_m, distance),
    )


@per_data(st.cache_resource(show_spinner=False, max_entries=16))
def cached_scored(
    path: str,
    version: tuple,
    walk_radius_m: float,
    weights_items: tuple,
    open_space: str = "",
    distance: str = "straight",
) -> gpd.GeoDataFrame:
    """Eligibility and priority on cached coverage: a weight change only weighs the cached components
    (:func:`cached_basis`)."""
    basis = cached_basis(path, version, walk_radius_m, open_space, distance, False)
    return weighted_priority(basis.components, dict(weights_items))


@per_data(st.cache_resource(show_spinner=False, max_entries=32))
def cached_plan(
    path: str,
    version: tuple,
    walk_radius_m: float,
    weights_items: tuple,
    program_choice: str,
    custom_budget_cny: int,
    mode: str,
    use_sites: bool = True,
    open_space: str = "",
    distance: str = "straight",
) -> Plan:
    """The plan for these choices; ``use_sites``: the city's public sites are candidates too (when it has any);
    ``distance``: coverage measured in straight lines or on foot along the roads (``network``)."""
    city = cached_city(path, version)
    config = config_for(walk_radius_m, weights_items, custom_budget_cny, open_space, distance)
    return run_plan(
        city.communities,
        city.fitness_paths,
        config,
        program_choice.split(","),
        mode,
        city.applications,
        covered=cached_coverage(path, version, walk_radius_m, distance),
        public_sites=city.public_sites if use_sites else None,
        network=network_of(path, version, distance),
        relation=cached_relation(path, version, walk_radius_m, distance),
        basis=cached_basis(path, version, walk_radius_m, open_space, distance, use_sites),
    )


def current_plan(mode: str | None = None) -> Plan:
    """The plan for the user's current choices (``mode`` overrides the chosen mode)."""
    settings = plan_settings()
    path = data_path()
    return cached_plan(
        str(path),
        data_version(path),
        walk_radius_m(),
        tuple(sorted(weights().items())),
        settings["program_choice"],
        settings["custom_budget_cny"],
        mode or settings["mode"],
        settings["use_sites"],
        open_space_rule(),
        distance(),
    )


def current_config() -> Config:
    """The configuration of the user's current choices (walk radius, weights, budget, open-space rule, distance)."""
    settings = plan_settings()
    return config_for(
        walk_radius_m(), tuple(sorted(weights().items())), settings["custom_budget_cny"], open_space_rule(), distance()
    )


def city() -> CityData:
    """The city in use as the actor may see it (a district office: its districts, :func:`confined_city`)."""
    path = data_path()
    return cached_confined_city(str(path), data_version(path), actor_districts())


@per_data(st.cache_resource(show_spinner=False, max_entries=16))
def cached_confined_city(path: str, version: tuple, districts: tuple[str, ...] | None) -> CityData:
    return confined_city(cached_city(path, version), districts)


def scored() -> gpd.GeoDataFrame:
    """Coverage, eligibility and priority of the communities the actor may see (computed on the whole city)."""
    path = data_path()
    weights_items = tuple(sorted(weights().items()))
    return visible(
        cached_scored(str(path), data_version(path), walk_radius_m(), weights_items, open_space_rule(), distance())
    )


def coverage_by_district() -> pd.DataFrame:
    """The coverage summary, one row per district the actor may see (computed on the whole city)."""
    path = data_path()
    by_district, _ = cached_summary(str(path), data_version(path), walk_radius_m(), distance())
    return visible(by_district)


def with_reason_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(reason_text=reason_labels(frame["reasons"], lang(), frame.get("missing_fields")))


def in_language(selected: pd.DataFrame, plan: Plan, language: str | None = None) -> pd.DataFrame:
    """A plan's selected rows with programme names in ``language`` (default: the page's)."""
    return i18n.with_program_names(selected, [o.program for o in plan.outcomes], language or lang())


def with_district_names(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its district names in the page's language."""
    return i18n.with_district_names(frame, district_names())


def humanised(frame: pd.DataFrame) -> pd.DataFrame:
    """Headers and yes/no in the current language."""
    return i18n.humanised(frame, lang())


# Numeric columns shown as they are, without a thousands separator: years and numbers that name a row.
PLAIN_NUMBER_COLUMNS = ("built_year", "row", "sheet_row", "rank")


def number_formats(frame: pd.DataFrame, language: str | None = None) -> dict:
    """``column_config`` for ``st.dataframe(humanised(frame))``: numbers with thousands separators.

    Every numeric column (not yes/no) is ``"localized"`` (the reader's locale: 1,234,567.5), except
    years and row numbers (:data:`PLAIN_NUMBER_COLUMNS`, ``*_year``), shown plain, and shares
    (``share_*``, per cent on the pages) with one decimal. Keys are the headers in ``language``
    (default: the page's).
    """
    language = language or lang()
    formats = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            continue
        plain_number = column in PLAIN_NUMBER_COLUMNS or str(column).endswith("_year")
        share = str(column).startswith("share_")  # per cent on the pages, one decimal: 92.0, not 92
        formats[i18n.column_label(column, language)] = st.column_config.NumberColumn(
            format="%.1f" if share else "plain" if plain_number else "localized"
        )
    return formats


def show_table(frame: pd.DataFrame, **kwargs) -> None:
    """``frame`` as a table: headers and yes/no in the page's language (:func:`humanised`), dates as
    dates, numbers with thousands separators (:func:`number_formats`), empty cells empty (not "None")."""
    options = {"hide_index": True, "width": "stretch", **kwargs}
    st.dataframe(humanised(frame), column_config=number_formats(frame), placeholder="", **options)


def cell_text(value, plain_numbers: bool = False, language: str | None = None) -> str:
    """One value of a mixed column (a merge's conflicting values) as people read it: missing empty,
    a date without its midnight, yes/no in ``language`` (default: the page's), numbers with
    thousands separators (none when ``plain_numbers``: years, row numbers), a list one value after another."""
    if isinstance(value, (list, tuple)):
        return "; ".join(cell_text(item, plain_numbers, language) for item in value)
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool | np.bool_):
        return i18n.yes_no(language or lang())[0 if value else 1]
    if isinstance(value, int | np.integer):
        return str(value) if plain_numbers else f"{value:,}"
    if isinstance(value, float | np.floating):
        if float(value).is_integer():
            return f"{value:.0f}" if plain_numbers else f"{value:,.0f}"
        return f"{value:,.2f}".rstrip("0")
    return str(value)


def with_total_row(
    table: pd.DataFrame, label: str, label_column: str, sums: list[str], shares: dict | None = None, scale: float = 1.0
) -> pd.DataFrame:
    """``table`` with a last row of totals: ``label`` in ``label_column``, the sum of each ``sums`` column.

    ``shares`` maps a share column to its (numerator, denominator) columns: its total is recomputed
    from the summed columns (``scale`` × numerator / denominator, 1 decimal when ``scale`` is 100;
    empty when the denominator is 0), never summed. Other columns are left empty.
    """
    total = {column: table[column].sum() for column in sums}
    for column, (numerator, denominator) in (shares or {}).items():
        whole = table[denominator].sum()
        total[column] = round(scale * table[numerator].sum() / whole, 1) if whole else None
    row = pd.DataFrame([{label_column: label, **total}], columns=table.columns)
    row = row.astype({column: table[column].dtype for column in sums})
    return pd.concat([table, row], ignore_index=True)


def css_string(value) -> str:
    """``value`` as a CSS string literal: every character but ASCII letters and digits as a six-digit
    hex escape, so that no quote, backslash, ``<``, ``}`` or line break of a text can end the string
    (or the ``<style>`` element holding it). Spaces too: CSS takes a space after an escape as its end."""
    return '"' + "".join(c if c.isascii() and c.isalnum() else f"\\{ord(c):06x}" for c in str(value)) + '"'


# Streamlit's own English in its widgets, and where it sits (Streamlit 1.67 has no API for these): the
# text is hidden and the catalogue's said instead, as CSS generated content.
_REPLACED_TEXT = (
    # the file uploader's button and its "200MB per file" line
    ('[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]', "> p", "uploader_button"),
    ('[data-testid="stFileUploaderDropzoneInstructions"] > div', "> span", "uploader_limit"),
    # a multiselect's "Select all" and "No results"
    ('[role="option"][data-key="__select_all__"] > div', "", "select_all"),
    ('div[role="option"][style*="contents"]', "> span", "no_results"),
    # the link a keyboard user meets first
    ('a[data-testid="stSkipToContent"]', "", "skip_to_content"),
    # the main menu (⋮): its theme choices, print and record
    ('button[data-testid="stMainMenuItem-theme-System"]', "", "menu_theme_system"),
    ('button[data-testid="stMainMenuItem-theme-Light"]', "", "menu_theme_light"),
    ('button[data-testid="stMainMenuItem-theme-Dark"]', "", "menu_theme_dark"),
    ('[data-testid="stMainMenuItem-print"] > span', "> span", "menu_print"),
    ('[data-testid="stMainMenuItem-recordScreencast"] > span', "> span", "menu_record"),
)


# The English tooltips of Streamlit's table and chart toolbars (by their buttons' labels) → catalogue keys.
_TOOLBAR_TOOLTIPS = {
    "Show/hide columns": "tooltip_show_hide_columns",
    "Download as CSV": "tooltip_download_csv",
    "Search": "tooltip_search",
    "Fullscreen": "tooltip_fullscreen",
    "Close fullscreen": "tooltip_close_fullscreen",
    "Show data": "tooltip_show_data",
    "Download as PNG": "tooltip_download_png",
    "Copy Vega-Lite spec": "tooltip_copy_spec",
}


def ui_stylesheet(language: str, max_upload_mb: float) -> str:
    """The app's stylesheet: Streamlit's English fragments said in ``language`` (text from the catalogue,
    the upload limit ``max_upload_mb`` MB of config.toml [intake]); English placeholders left
    anywhere are not shown."""
    rules = []
    for where, inner, key in _REPLACED_TEXT:
        said_text = css_string(text(key, language, limit=f"{max_upload_mb:g}"))
        if inner:
            rules.append(f"{where} {inner} {{ display: none; }}")
        else:
            rules.append(f"{where} {{ font-size: 0 !important; }}")
        rules.append(f"{where}::after {{ content: {said_text}; font-size: 0.875rem; white-space: nowrap; }}")
    rules.append(
        'input[placeholder="Choose an option"]::placeholder, input[placeholder="Choose options"]::placeholder '
        "{ color: transparent; }"
    )
    rules.append('[data-testid="stMainMenuList"] + div { display: none; }')  # "Made with Streamlit v…"
    # The tooltip of a table's or a chart's toolbar button, while the pointer is on that button.
    tip = '[data-testid="stTooltipContent"] [data-testid="stMarkdownContainer"]'
    for button, key in _TOOLBAR_TOOLTIPS.items():
        hovered = f'body:has(button[aria-label="{button}"]:hover)'
        rules.append(f"{hovered} {tip} > p {{ display: none; }}")
        rules.append(f"{hovered} {tip}::after {{ content: {css_string(text(key, language))}; }}")
    return "\n".join(rules)


_UPLOADER_KEY = re.compile(r"[A-Za-z0-9_-]+")


def uploader_limit_css(key_prefix: str, language: str, max_mb: float) -> str:
    """A rule saying ``max_mb`` MB a file under the file uploaders whose key begins with ``key_prefix``
    (Streamlit gives a keyed widget's container the class ``st-key-<key>``), instead of config.toml's
    limit that :func:`ui_stylesheet` says under every uploader (the more specific rule wins)."""
    if not _UPLOADER_KEY.fullmatch(key_prefix):
        raise ValueError(f"an uploader's key for CSS must be letters, digits, _ and -: {key_prefix!r}")
    where = f'[class*="st-key-{key_prefix}"] [data-testid="stFileUploaderDropzoneInstructions"] > div::after'
    return f"{where} {{ content: {css_string(text('uploader_limit', language, limit=f'{max_mb:g}'))}; }}"


def uploader_limit(key_prefix: str, max_mb: float) -> None:
    """Say ``max_mb`` MB (the limit the page applies) under the uploaders keyed ``key_prefix…``
    (:func:`uploader_limit_css`); a style element only, it takes no room on the page."""
    st.html(f"<style>{uploader_limit_css(key_prefix, lang(), max_mb)}</style>")


def district_names() -> dict[str, str]:
    """District code -> name in the page's language (a district without an English name keeps its Chinese one)."""
    return i18n.district_names(city().districts, lang())


def _map_html(
    path: str,
    version: tuple,
    walk_radius_m: float,
    weights_items: tuple,
    open_space: str,
    lang: str,
    district: str | None,
    focus_id: str | None,
    base_layer: str | None,
    tianditu_key: str | None,
    plan_key: tuple | None,
    ids: tuple | None = None,
    confined_to: tuple | None = None,
    distance: str = "straight",
    shapes: tuple[int, int] | None = None,
) -> str:
    """The rendered map for these choices; ``plan_key`` = (programmes, custom budget, mode) to show picks;
    ``ids`` = the ``community_id`` of the only communities drawn (and counted in the legend);
    ``confined_to`` = a district office's districts (:func:`confined_city`): nothing else is drawn;
    ``distance``: served within the walk radius in a straight line or on foot (``network``); ``shapes`` =
    ([map] shapes_at_once, shapes_min_zoom): a larger city opens on grid cells (None: every shape at once)."""
    city = cached_confined_city(path, version, confined_to)
    communities = cached_scored(path, version, walk_radius_m, weights_items, open_space, distance)
    if confined_to is not None:
        communities = communities[communities["district_code"].astype(str).isin(confined_to)]
    districts = city.districts
    if district is not None:
        communities = communities[communities["district_code"] == district]
        districts = districts[districts["district_code"] == district]
    if ids is not None:
        communities = communities[communities["community_id"].astype(str).isin(ids)]
    selected = programs = picks = None
    sites = _map_sites(path, version, communities) if ids is None else None
    if plan_key is not None:
        plan = cached_plan(path, version, walk_radius_m, weights_items, *plan_key, open_space, distance)
        in_view = plan.selected["community_id"].isin(communities["community_id"])
        if sites is not None and "candidate_kind" in plan.selected.columns:  # its picks on the sites drawn
            on_site = (plan.selected["candidate_kind"] == "site").fillna(False)
            in_view |= on_site & plan.selected["community_id"].isin(sites["site_id"])
        picks = plan.selected[in_view.to_numpy(bool)]
        selected = picks["community_id"].tolist()
        programs = dict(zip(picks["community_id"], in_language(picks, plan, lang)["program_name"]))
    m = coverage_map(
        districts,
        communities,
        city.fitness_paths,
        lang=lang,
        selected_ids=selected,
        selected_program=programs,
        base_layer=base_layer,
        tianditu_key=tianditu_key,
        focus_id=focus_id,
        public_sites=sites,
        landless_ids=communities.loc[landless(communities), "community_id"].astype(str).tolist(),
        picks=picks,
        distance=distance,  # the legend's title says the radius and how it was measured
        walk_radius_m=walk_radius_m,
        **({} if shapes is None else {"shapes_at_once": shapes[0], "shapes_min_zoom": shapes[1]}),
    )
    # Leaflet's scripts and styles inlined: the frame needs nothing more from a server still busy with the rest
    # of the page (the sample's cold start: 0.77 -> 0.39 s from the frame's creation to its map drawn).
    return standalone_html(m)


def _map_sites(path: str, version: tuple, communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The public sites the map draws beside ``communities`` (the rows it draws): each site belongs to the
    district of its nearest community (:func:`geo.analysis.sites.site_districts`), so a district's map (or a
    district office's) shows the sites of that district only. None when the city has no sites layer."""
    sites = cached_sites(path, version)
    if sites is None:
        return None
    codes = set(communities["district_code"].astype(str))
    return sites[sites["district_code"].astype(str).isin(codes)]


@per_data(st.cache_resource(show_spinner=False, max_entries=4))
def cached_sites(path: str, version: tuple) -> gpd.GeoDataFrame | None:
    """The city's public sites assessed (:func:`geo.analysis.sites.assess_sites`: eligible, reasons) with the
    ``district_code`` of the nearest community; None when the city has no sites layer. For the maps, and for
    the land-less list when no plan has judged the sites."""
    city = cached_city(path, version)
    if city.public_sites is None:
        return None
    sites = assess_sites(city.public_sites, city.fitness_paths, base_config())
    if not len(sites) or not len(city.communities):
        return sites.assign(district_code=pd.array([None] * len(sites), dtype="string"))
    metric = metric_crs_for(city.communities)
    points = site_points(np.asarray(sites.geometry.to_crs(metric).values))
    polygons = np.asarray(city.communities.geometry.to_crs(metric).values)
    codes = site_districts(points, polygons, city.communities["district_code"].astype(str).to_numpy())
    return sites.assign(district_code=pd.array(codes, dtype="string"))


cached_map_html = per_data(st.cache_data(show_spinner=False, max_entries=24))(_map_html)


# --------------------------------------------------------------------------- straight line against on foot (issue 16)


@per_data(st.cache_resource(show_spinner=False, max_entries=4))
def cached_comparison(path: str, version: tuple, walk_radius_m: float) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Every community in a straight line and on foot (:func:`geo.analysis.walk_compare.straight_vs_foot`) and the
    walk of each one lost on foot to its nearest set (:func:`geo.analysis.walk_compare.walking_routes`, EPSG:4326),
    computed on the whole city with the store's installed sets; DataError ``network_needs_roads`` without roads."""
    city = cached_city(path, version)
    network = cached_network(path, version[:2])
    table = straight_vs_foot(city.communities, city.fitness_paths, network, walk_radius_m)
    routes = walking_routes(table[table["lost_on_foot"].to_numpy(dtype=bool)], city.fitness_paths, network)
    return table, routes


def comparison(district: str | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """:func:`cached_comparison` of the communities the actor may see (of ``district`` when given) and their routes."""
    path = data_path()
    table, routes = cached_comparison(str(path), data_version(path), walk_radius_m())
    table = visible(table)
    if district is not None:
        table = table[table["district_code"] == district]
    return table, routes[routes["community_id"].astype(str).isin(table["community_id"].astype(str))]


def _comparison_html(
    path: str,
    version: tuple,
    walk_radius_m: float,
    lang: str,
    district: str | None,
    confined_to: tuple | None,
    base_layer: str | None = None,
) -> str:
    """The comparison map (:func:`geo.render.walk_map.walk_comparison_map`) of the communities a district office of
    ``confined_to`` may see (None: all), of ``district`` when given, with their walks over the streets."""
    city = cached_confined_city(path, version, confined_to)
    table, routes = cached_comparison(path, version, walk_radius_m)
    districts = city.districts
    if confined_to is not None:
        table = table[table["district_code"].astype(str).isin(confined_to)]
    if district is not None:
        table = table[table["district_code"] == district]
        districts = districts[districts["district_code"] == district]
    routes = routes[routes["community_id"].astype(str).isin(table["community_id"].astype(str))]
    roads = city.roads
    if roads is not None and (district is not None or confined_to is not None) and len(districts):
        min_x, min_y, max_x, max_y = districts.total_bounds  # the streets around the districts drawn, not the city's
        roads = roads.cx[min_x:max_x, min_y:max_y]
    m = walk_comparison_map(
        districts, table, routes, city.fitness_paths, walk_radius_m, lang, base_layer=base_layer, roads=roads
    )
    return m.get_root().render()


cached_comparison_html = per_data(st.cache_data(show_spinner=False, max_entries=8))(_comparison_html)


def show_comparison_map(height: int = 560, district: str | None = None, base_layer: str | None = None) -> None:
    """The comparison map for the user's choices as a static iframe, as :func:`show_map` draws the coverage map
    (above ``[map] max_communities`` or ``shapes_at_once`` communities the page asks for a district instead: it
    draws every shape at once)."""
    table, _ = comparison(district)
    config = base_config()
    limits = {"max_communities": config.map_max_communities, "shapes_at_once": config.map_shapes_at_once}
    setting = min(limits, key=limits.get)
    limit = limits[setting]
    if len(table) > limit:  # the setting named is the one that limits this map
        st.info(t("map_too_many", count=len(table), limit=limit, setting=setting))
        return
    path = data_path()
    arguments = (str(path), data_version(path), walk_radius_m(), lang(), district, actor_districts(), base_layer)
    st.iframe(cached_comparison_html(*arguments), height=height)


def show_map(
    height: int = 600,
    district: str | None = None,
    focus_id: str | None = None,
    base_layer: str | None = None,
    tianditu_key: str | None = None,
    with_plan: bool = False,
    ids=None,
) -> None:
    """Show the coverage map for the user's choices as a static iframe (Leaflet inlined from static/vendor).

    ``ids`` (``community_id`` values, e.g. the rows a page's filters show): only those communities
    are drawn and counted in the legend, and the map opens at their extent; None draws them all.

    ``st.iframe`` with the map's HTML (``st.components.v1.html`` is deprecated) rather than
    ``streamlit_folium.st_folium``: the pages never read clicks back from the map, and the static
    iframe draws the sample's map about 1 s sooner. The HTML is
    cached, so switching pages or languages back and forth does not rebuild it; a map with the
    user's 天地图 key in it is built for that user alone and never cached. Above
    ``[map] max_communities`` communities the page asks for a district instead of drawing.
    """
    communities = scored()
    if ids is not None:
        ids = tuple(sorted({str(i) for i in ids}))  # hashable and order-free: one cache entry per set
    count = len(communities) if district is None else int((communities["district_code"] == district).sum())
    count = count if ids is None else min(count, len(ids))
    limit = base_config().map_max_communities
    if count > limit:  # the page would be tens of MB and take the browser minutes
        st.info(t("map_too_many", count=count, limit=limit, setting="max_communities"))
        return
    arguments = map_arguments(district, focus_id, base_layer, tianditu_key, with_plan, ids, actor_districts())
    html = _map_html(*arguments) if tianditu_key else cached_map_html(*arguments)
    st.iframe(html, height=height)


def map_arguments(
    district: str | None,
    focus_id: str | None,
    base_layer: str | None,
    tianditu_key: str | None,
    with_plan: bool,
    ids: tuple | None,
    confined_to: tuple | None,
) -> tuple:
    """The arguments of :func:`_map_html` for these and the user's current choices (data, radius, weights, …)."""
    path = data_path()
    settings = plan_settings()
    plan_key = (
        (settings["program_choice"], settings["custom_budget_cny"], settings["mode"], settings["use_sites"])
        if with_plan
        else None
    )
    return (
        str(path),
        data_version(path),
        walk_radius_m(),
        tuple(sorted(weights().items())),
        open_space_rule(),
        lang(),
        district,
        focus_id,
        base_layer,
        tianditu_key,
        plan_key,
        ids,
        confined_to,
        distance(),
        (base_config().map_shapes_at_once, base_config().map_shapes_min_zoom),
    )


def prebuild_first_page() -> None:
    """Build what the first page after a login shows a planner, for nobody yet: the server's city, its
    coverage and scores, the districts' summary and the whole city's map at the default choices in the
    page's language, so that page finds them in the shared caches.

    The login page calls it once its form is drawn: a store with accounts otherwise built nothing before
    the first login (``make run``'s warm-up visit only reaches the login page), and the first planner
    waited for every build (at 100,000 communities, seconds). Nothing is shown: a session that has not
    logged in sees nothing of the data. An upload is never prebuilt (it belongs to its session).
    """
    if using_upload():
        return
    before = set(st.session_state.keys())
    try:
        path = data_path()
        version = data_version(path)
        cached_summary(str(path), version, walk_radius_m(), distance())
        weights_items = tuple(sorted(weights().items()))
        communities = cached_scored(str(path), version, walk_radius_m(), weights_items, open_space_rule(), distance())
        if len(communities) <= base_config().map_max_communities:
            cached_map_html(*map_arguments(None, None, None, None, False, None, None))
    except Exception:  # the data's problems are said on the pages, to those who may see them: not on the login
        log.exception("prebuilding the first page failed")
    finally:  # the defaults read for it are not this session's choices: it starts with none after a logout
        for key in set(st.session_state.keys()) - before:
            del st.session_state[key]


# --------------------------------------------------------------------------- downloads


def export_bytes(
    tables, suffix: str, parameters: dict | None, language: str, crs: str = "EPSG:4326", encoding: str = "utf-8"
) -> bytes:
    """The bytes of an export (CSV, XLSX, GeoJSON, GPKG, zipped Shapefile) of ``tables``, headers in
    ``language``; ``crs`` and ``encoding`` for the GIS formats (see :func:`geo.render.export.export`)."""
    if suffix == ".xlsx" and not isinstance(tables, dict):  # a sheet named in the page's language, not "export"
        tables = {text("sheet_list", language): tables}
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"export{suffix}"
        parameters = parameters if parameters is not None else {}
        export(tables, target, lang=language, parameters=parameters, crs=crs, encoding=encoding)
        return target.read_bytes()


MIME = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".geojson": "application/geo+json",
    ".gpkg": "application/geopackage+sqlite3",
    ".zip": "application/zip",
}
GIS_CRS = {"EPSG:4326": "gis_crs_wgs84", "EPSG:4490": "gis_crs_cgcs2000"}
GIS_ENCODINGS = {"utf-8": "gis_encoding_utf8", "gbk": "gis_encoding_gbk"}


def download_buttons(
    tables,
    stem: str | DownloadName,
    parameters: dict | None = None,
    suffixes=(".xlsx", ".csv", ".geojson", ".gpkg"),
    gis=None,
):
    """One download button per format; each file is built only when its button is pressed.

    Everything the file depends on (the tables, the parameters, the language) is read now and
    captured: the callable runs later, outside this session's script run. ``stem`` names the files
    (:func:`download_stem`: programmes, mode, district); its widgets are keyed by ``stem.key``.
    """
    stem, key = (stem.stem, stem.key) if isinstance(stem, DownloadName) else (stem, stem)
    labels = {
        ".xlsx": "download_excel",
        ".csv": "download_csv",
        ".geojson": "download_geojson",
        ".gpkg": "download_gpkg",
    }
    language = lang()
    columns = st.columns(len(suffixes))
    for column, suffix in zip(columns, suffixes):
        column.download_button(
            t(labels[suffix]),
            data=functools.partial(export_bytes, tables, suffix, parameters, language),
            file_name=f"{stem}{suffix}",
            mime=MIME[suffix],
            key=f"download-{key}-{suffix}",
            on_click="ignore",
        )
    if gis or (gis is None and ".gpkg" in suffixes):  # the GIS formats, with their options
        gis_downloads(tables, stem, parameters, language, key)


def gis_downloads(tables, stem: str, parameters: dict | None, language: str, key: str | None = None) -> None:
    """For GIS offices (ArcGIS, SuperMap, QGIS): a zipped Shapefile and a GeoPackage, in WGS84 or
    CGCS2000 (EPSG:4490), the Shapefile in UTF-8 or GBK for older software; widgets keyed by ``key``
    (default: ``stem``)."""
    key = stem if key is None else key
    with st.expander(t("gis_export")):
        choices = st.columns(2)
        crs = choices[0].radio(
            t("gis_crs"), list(GIS_CRS), format_func=lambda c: t(GIS_CRS[c]), horizontal=True, key=f"gis-crs-{key}"
        )
        encoding = choices[1].radio(
            t("gis_encoding"),
            list(GIS_ENCODINGS),
            format_func=lambda e: t(GIS_ENCODINGS[e]),
            horizontal=True,
            key=f"gis-encoding-{key}",
        )
        try:  # a character GBK lacks, or a text too long for a .dbf: said now, not when the button is pressed
            check_shapefile_text(tables, language, encoding)
            refused = None
        except DataError as error:
            refused = error
            st.warning(plain(message_text(error)))
        buttons = st.columns(2)
        for column, suffix, label in (
            (buttons[0], ".zip", "download_shapefile"),
            (buttons[1], ".gpkg", "download_gpkg_crs"),
        ):
            column.download_button(
                t(label),
                disabled=suffix == ".zip" and refused is not None,
                data=functools.partial(
                    export_bytes, tables, suffix, parameters, language, crs, encoding if suffix == ".zip" else "utf-8"
                ),
                file_name=f"{stem}{'_cgcs2000' if crs == 'EPSG:4490' else ''}"
                f"{'_gbk' if suffix == '.zip' and encoding == 'gbk' else ''}{suffix}",
                mime=MIME[suffix],
                key=f"download-gis-{key}-{suffix}",
                on_click="ignore",
            )
        st.caption(t("gis_export_note"))


def plan_export(plan: Plan):
    """Sheets and parameters for exporting ``plan`` (the plan's own settings, this session's data)."""
    parameters = plan_parameters(plan, data_path=data_path(), data_name=data_name())
    return explained_plan_sheets(plan_sheets(plan, lang(), city().districts), plan, lang()), parameters


@dataclass(frozen=True)
class DownloadName:
    """A download's file name stem in the page's language, and the key of its widgets (the same in
    every language, so a choice made in the GIS options survives a change of language)."""

    stem: str
    key: str


def download_stem(kind: str, plan: Plan | None = None, district: str | None = None) -> DownloadName:
    """The name of a download (:func:`geo.render.export.download_stem`) in the page's language:
    ``plan``'s programmes and mode, and ``district`` (a district code; None: the whole city) by name."""
    names = district_names()
    stem = export_stem(
        kind,
        lang(),
        programs=[o.program.name(lang()) for o in plan.outcomes] if plan is not None else (),
        mode=plan.mode if plan is not None else None,
        district=None if district is None else names.get(district, district),
    )
    key = "_".join([kind, *([plan.mode] if plan is not None else []), *([district] if district is not None else [])])
    return DownloadName(stem, key)


def bounded(function, args: tuple, kwargs: dict | None = None, what: str = "the work"):
    """``function(*args, **kwargs)`` in a child process within the [intake] limits, showing the time spent."""
    config = base_config()
    progress = st.empty()

    def heartbeat(elapsed: float) -> None:
        # Drawing lets Streamlit stop this run (and so kill the child) when the session ends.
        progress.caption(t("intake_elapsed", seconds=f"{elapsed:.0f}", limit=f"{config.max_import_seconds:g}"))
        upload_folder().touch()  # the page is open: its upload stays

    def waiting(elapsed: float) -> None:
        progress.caption(t("intake_waiting", seconds=f"{elapsed:.0f}"))
        upload_folder().touch()

    try:
        return run_bounded(
            function,
            args,
            kwargs,
            seconds=config.max_import_seconds,
            memory_mb=config.max_import_memory_mb,
            heartbeat=heartbeat,
            what=what,
            max_children=config.max_concurrent_imports,
            waiting=waiting,
        )
    finally:
        progress.empty()


def fragment_rerun() -> bool:
    """Whether this run reruns fragments only (a widget inside an ``st.fragment`` changed), not the page."""
    context = get_script_run_ctx()
    return bool(context is not None and context.fragment_ids_this_run)


def page_fragment(body, url_path: str):
    """``body`` (a part of the page at ``url_path``) as a Streamlit fragment: a change of a widget inside it
    reruns only it.

    The part of a page whose widgets change often (the priority page's weights) answers without the rest
    of the page and the app's navigation and sidebar. What app.py does at the start of every run is done
    here on a fragment's own rerun: a login that has ended (idle, account disabled), or a role that may no
    longer open the page, reruns the whole app (the login page, or the pages of the new role), and the
    store's records are read afresh. A failure shows a plain message.
    """

    @st.fragment
    @functools.wraps(body)
    def part() -> None:
        if fragment_rerun():
            if not session_still_valid() or login_needed() or not may_open(actor(), url_path):
                st.rerun(scope="app")
            records_key(fresh=True)
        guarded(body)

    return part


def guarded(render) -> None:
    """Run a page's ``render`` so that a failure shows a plain message, never a traceback.

    app.py guards navigation too; this also covers a page run on its own (tests, old-style links).
    """
    try:
        render()
    except Exception as error:  # shown to the user as a message; the server log keeps the traceback
        fail_gently(error)


def message_text(message) -> str:
    """A message of the data's (a warning, a note, or an error's) in the page's language.

    A :class:`geo.errors.Message` (or an error carrying one) is said in the page's language; any
    other text or error is shown as it is.
    """
    return str(said(message, lang()))


def fail_gently(error: BaseException) -> None:
    """Show a plain message instead of a traceback; log the details on the server.

    A :class:`geo.errors.DataError` is the data's or the settings' fault and says what to do:
    shown as it is, as text. An ``OSError`` names server paths and errno text, which are the
    administrator's business: logged, and the user gets a fixed message; so does a store that cannot
    be reached (SQLAlchemy's ``OperationalError``: its text names the server). Anything else, a plain
    ``ValueError`` included, is a bug: logged with its traceback under a short random reference,
    which the page shows so that the administrator can find that entry in the log.
    """
    if isinstance(error, PairLimitError):
        st.error(text("error_pairs", lang()).format(radius=error.walk_radius_m, limit=error.max_pairs))
    elif isinstance(error, DataError):
        st.error(text("error_data", lang()) + plain(message_text(error)))
    elif isinstance(error, OSError):
        log.warning("file error in the app: %s", error)
        st.error(text("error_file", lang()))
    elif isinstance(error, sqlalchemy.exc.OperationalError):  # the store's server is down or unreachable
        log.warning("the store cannot be reached: %s", error)
        st.error(text("error_store", lang()))
    else:
        reference = secrets.token_hex(4)
        log.error("internal error, reference %s", reference, exc_info=error)
        st.error(text("error_internal", lang(), reference=reference))


# --------------------------------------------------------------------------- the plan of the land-less list (issue 15)


@dataclass(frozen=True)
class PlanInUse:
    """A plan a page reports on, and which one it is: ``said`` is the catalogue key of the sentence that
    says so (``landless_plan_approved`` / ``_current`` / ``_changed`` / ``_upload``), ``approval`` the
    approved plan's ``id``, ``name``, ``by`` and ``date`` (text, the city's calendar) when it is one."""

    plan: Plan
    said: str
    approval: dict | None = None


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_approved_plan(path: str, version: tuple, digest: str, plan_id: int) -> Plan:
    """Approved plan ``plan_id`` run again on the server's data file at ``path`` (SHA-256 ``digest``) as it
    was approved (:func:`geo.store.plans.rerun_saved`). Shared: the server's data only, and an approved
    plan is frozen. DataError ``plan_data_changed`` when the file is not the plan's."""
    from geo.store.plans import rerun_saved

    return rerun_saved(store(), plan_id, _file_city(path, version[:2]), digest)


def plan_in_use() -> PlanInUse:
    """The plan whose picks the eligibility page says serve each land-less community.

    The newest approved plan of the store, run again as approved, when there is one: it is the plan the
    bureau will build and the one the notice publishes, so a district office is told what will be
    built, not what one user's settings would buy. Otherwise the plan of the current settings
    (:func:`current_plan`): no approved plan yet, a session's upload (plans belong to the server's
    data), or a data file changed since the approval (the plan cannot be reproduced on it).
    """
    from geo.store.installations import approved_plans

    if using_upload():
        return PlanInUse(current_plan(), "landless_plan_upload")
    plans = approved_plans(store())
    if not len(plans):
        return PlanInUse(current_plan(), "landless_plan_current")
    order = pd.to_datetime(plans["approved_at"], utc=True)
    newest = plans.assign(_order=order).sort_values(["_order", "id"], ascending=False).iloc[0]
    path = data_path()
    try:
        plan = cached_approved_plan(str(path), data_version(path), file_sha256(path), int(newest["id"]))
    except DataError as error:
        said_error = error.args[0] if error.args else None
        if getattr(said_error, "key", None) != "plan_data_changed":
            raise
        return PlanInUse(current_plan(), "landless_plan_changed", {"id": int(newest["id"])})
    zone = base_config().timezone
    day = pd.Timestamp(newest["approved_at"])
    day = (day.tz_localize("UTC") if day.tzinfo is None else day).tz_convert(zone).date()
    approval = {"id": int(newest["id"]), "name": str(newest["name"]), "by": str(newest["approved_by"] or "")}
    return PlanInUse(plan, "landless_plan_approved", {**approval, "date": day.isoformat()})


def landless_of(communities: gpd.GeoDataFrame, in_use: PlanInUse) -> pd.DataFrame:
    """:func:`geo.plan.landless_table` of ``communities`` (scored rows the actor may see) with ``in_use``'s
    picks, and the public sites as its first programme saw them (else as assessed on the city); the sites'
    distances measured as the plan measured (on foot along the roads when its distance is ``network``)."""
    from geo.plan import landless_table

    path = data_path()
    sites = in_use.plan.outcomes[0].sites if in_use.plan.outcomes else None
    if sites is None:
        sites = cached_sites(str(path), data_version(path))
    distance_of_plan = getattr(in_use.plan.config, "distance", "straight")
    network = network_of(str(path), data_version(path), distance_of_plan)
    return landless_table(in_use.plan, communities, sites, network=network)
