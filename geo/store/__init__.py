"""The bureau's system of record: accounts, applications and their status, the audit trail.

One data-access layer (SQLAlchemy 2) over two databases: a SQLite file beside the city data by
default (nothing to install; WAL mode, a busy timeout), or PostgreSQL with PostGIS when
``PLANNER_DB_URL`` is set. The schema is made and upgraded by Alembic migrations
(``geo/store/migrations``) when a store is opened.

Modules, in the order a write goes through them: :mod:`~geo.store.db` (engine, migrations),
:mod:`~geo.store.schema` (tables), :mod:`~geo.store.actors` (who acts, with which districts),
:mod:`~geo.store.accounts` (users, passwords, lock-out), :mod:`~geo.store.applications` (the
status machine), :mod:`~geo.store.audit` (the append-only log every write adds to, in the same
transaction) and :mod:`~geo.store.backup` (a portable copy of every table).
"""
