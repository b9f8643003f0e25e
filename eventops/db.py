"""Database engine and per-request sessions (SQLAlchemy 2.x), SQLite or PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from eventops.files import private_file

# Stable constraint names, so that Alembic migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timestamps are stored with their time zone, always UTC."""
    return datetime.now(UTC)


def new_metadata() -> MetaData:
    """Each service's models get their own metadata: a service owns its tables and nothing else."""
    return MetaData(naming_convention=NAMING_CONVENTION)


#: SQLite's `synchronous` per service. In WAL mode NORMAL can lose the last commits to a power cut (never
#: corrupting the file); FULL syncs the journal on every commit, so a check-in the tablet was told is saved
#: survives one. Services not named here keep NORMAL. (PostgreSQL commits durably in any case.)
SQLITE_SYNCHRONOUS = {"certificates": "FULL"}
_SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


def sqlite_synchronous(service: str | None) -> str:
    return SQLITE_SYNCHRONOUS.get(service or "", "NORMAL")


def make_engine(url: str, *, synchronous: str = "NORMAL", pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        if synchronous not in _SYNCHRONOUS_LEVELS:
            raise ValueError(
                f"PRAGMA synchronous={synchronous!r}: not one of {', '.join(_SYNCHRONOUS_LEVELS)}"
            )
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", partial(_tune_sqlite, synchronous=synchronous))
        return engine
    # pool_size connections stay open once used; up to 20 more are opened for a burst and closed after it.
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=20)


def _private_sqlite_file(url: str) -> None:
    """The database file exists 0600 before SQLite opens it: SQLite gives its -wal and -shm files the
    database file's mode, so the journals (which hold the latest writes) are private too."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir():  # a missing folder is left to fail on connect, where health checks report it
        private_file(path)


def _tune_sqlite(dbapi_connection, _record, *, synchronous: str) -> None:
    # WAL lets readers work while one writer writes; foreign keys are off in SQLite unless asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app: Flask, url: str, *, service: str | None = None, pool_size: int = 10) -> None:
    """`service` chooses the SQLite durability (SQLITE_SYNCHRONOUS); `pool_size` how many PostgreSQL
    connections the process keeps open (DATABASE_POOL_SIZE)."""
    engine = make_engine(url, synchronous=sqlite_synchronous(service), pool_size=pool_size)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The session of the current request, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def _close_session(_exc) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
