"""The bureau's system of record: accounts, applications and their status, saved and approved plans,
installations and inspections, the audit trail.

One data-access layer (SQLAlchemy 2) over two databases: a SQLite file beside the city data by
default (nothing to install; WAL mode, a busy timeout), or PostgreSQL when ``PLANNER_DB_URL`` is
set. The schema is made and upgraded by Alembic migrations (``geo/store/migrations``) when a store
is opened.

Modules, in the order a write goes through them: :mod:`~geo.store.db` (engine, migrations),
:mod:`~geo.store.schema` (tables), :mod:`~geo.store.actors` (who acts, with which districts),
:mod:`~geo.store.checks` (ids, texts and amounts checked before they reach a database),
:mod:`~geo.store.locking` (row and key locks for writes that read first),
:mod:`~geo.store.accounts` (users, passwords, lock-out) and :mod:`~geo.store.sso` (single sign-on
to an existing account), :mod:`~geo.store.applications` (the status machine) and
:mod:`~geo.store.application_upload` (many at once), :mod:`~geo.store.plans` (saved, compared,
approved and re-run plans), :mod:`~geo.store.installations` (installations, inspections and photos;
the city with the store's records), :mod:`~geo.store.audit` (the append-only log every write adds
to, in the same transaction), :mod:`~geo.store.backup` (a portable copy of every table) and
:mod:`~geo.store.export` (everything as one GeoPackage).
"""
