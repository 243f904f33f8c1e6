"""Alembic's environment for the store: migrations run on the connection geo.store.db gives."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from geo.store.schema import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic` run by hand with sqlalchemy.url set
        with create_engine(config.get_main_option("sqlalchemy.url")).begin() as own:
            context.configure(connection=own, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    context.run_migrations()


run()
