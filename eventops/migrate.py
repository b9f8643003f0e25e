"""Alembic, driven from code: every service keeps its own migrations and its own version table,
so services can share one database server (or even one database) without stepping on each other."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from eventops.db import make_engine


def alembic_config(service: str, database_url: str) -> Config:
    import importlib

    package = importlib.import_module(f"services.{service}" if service != "web" else "web")
    config = Config()
    config.set_main_option("script_location", str(Path(package.__file__).parent / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["version_table"] = f"alembic_version_{service}"
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def run_env(target_metadata: MetaData, unmanaged: frozenset[str] = frozenset()) -> None:
    """Body of every service's migrations/env.py (online mode only: we always have a database).

    `unmanaged` names database objects that migrations create with hand-written SQL for one dialect
    (e.g. a PostgreSQL trigram index): autogenerate must neither drop nor re-create them.
    """
    attributes = context.config.attributes
    engine = make_engine(attributes["database_url"])

    def only_this_service(name, type_, _parent_names) -> bool:
        # Services may share one database: another service's tables are none of our business.
        if type_ == "table":
            return name in target_metadata.tables
        return name not in unmanaged

    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=attributes["version_table"],
            include_name=only_this_service,
            render_as_batch=True,  # SQLite can only alter tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()
