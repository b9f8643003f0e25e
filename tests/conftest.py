"""Test fixtures: real SQLite and PostgreSQL databases, a real Redis, live service processes on threads.

Every test that takes `db_backend` runs twice, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

# Nothing a test does may touch the developer's own var/ folder.
os.environ["EVENTOPS_VAR_DIR"] = tempfile.mkdtemp(prefix="eventops-test-var-")
os.environ.setdefault("RATELIMIT_ENABLED", "true")

from eventops.config import Settings
from eventops.migrate import upgrade

SERVICE_TOKEN = "test-service-token-" + uuid.uuid4().hex
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Under pytest-xdist every worker gets its own Redis database (15, 14, ...): tests flush theirs.
_WORKER_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_BASE_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
_base, _, _db = _BASE_REDIS_URL.rpartition("/")
REDIS_URL = f"{_base}/{int(_db) - _WORKER_INDEX}" if _db.isdigit() else _BASE_REDIS_URL
SERVICES = ("registration", "certificates", "feedback", "web")


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes():
    """Staff passwords hashed with argon2id at its lowest cost, in the test process only.

    At web.auth's parameters a hash or a check costs about 250 ms of CPU, and the gateway and browser tests
    create and log in a few hundred staff accounts: minutes of a CI run spent on nothing a test asserts.
    The code path is the same (web.auth's hasher, verify, the dummy hash for unknown names); production
    keeps its parameters, which no test relaxes outside this process.
    """
    from argon2 import PasswordHasher

    from web import auth

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "hasher", cheap)
        patch.setattr(auth, "_DUMMY_HASH", cheap.hash("not a real password"))
        yield


def pytest_collection_modifyitems(items):
    # Under pytest-xdist (`make test`, --dist loadgroup) the browser tests run one after another on one
    # worker with one Chromium, instead of several Chromiums competing for two cores with live servers.
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


def make_settings(service: str, database_url: str, storage_dir: Path, **overrides) -> Settings:
    values = dict(
        service=service,
        database_url=database_url,
        redis_url=REDIS_URL,
        service_token=SERVICE_TOKEN,
        secret_key="test-secret-" + uuid.uuid4().hex,
        storage_dir=storage_dir,
        testing=True,
        # Four test processes, each with live servers and apps of its own, share one PostgreSQL of 100
        # connections: an app keeps two open, not ten (a burst still opens more for its duration).
        database_pool_size=2,
    )
    return Settings(**{**values, **overrides})


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One throwaway PostgreSQL database for the test session, migrated for every service."""
    name = f"eventops_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL is needed at {POSTGRES_ADMIN_URL} (set TEST_POSTGRES_URL): {exc}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    for service in SERVICES:
        upgrade(service, url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file migrated once for every service; each test gets a copy (migrations are slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    for service in SERVICES:
        upgrade(service, f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request) -> str:
    return request.param


def _service_metadata(service: str):
    import importlib

    module = importlib.import_module("web.models" if service == "web" else f"services.{service}.models")
    return module.Base.metadata


@pytest.fixture
def database_url(db_backend, request, tmp_path) -> Iterator[str]:
    """A clean, migrated database of the chosen backend, holding every service's tables."""
    if db_backend == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(_emptying_statements())
    engine.dispose()


@functools.cache
def _emptying_statements() -> str:
    """Every row of every service's tables deleted (children first) and every id sequence back at its start.

    What TRUNCATE ... RESTART IDENTITY did, at a tenth of its cost: TRUNCATE gives each table new files and
    commits them to disk, some 0.1-0.6 s a test on tables that hold a few rows; hundreds of tests run on
    PostgreSQL.
    """
    tables = [t.name for service in SERVICES for t in _service_metadata(service).sorted_tables]
    deletes = [f'DELETE FROM "{name}"' for name in reversed(tables)]
    restart = (
        "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), start_value, false) "
        "FROM pg_sequences WHERE schemaname = current_schema()"
    )
    return "; ".join([*deletes, restart])


# --- Redis -----------------------------------------------------------------------------------

#: the commands an RQ worker waits for jobs with
_WAITING_FOR_JOBS = {"blpop", "brpop", "blmove", "brpoplpush"}


@pytest.fixture
def redis_connection():
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is needed at {REDIS_URL} (set TEST_REDIS_URL): {exc}")
    # Every worker a test starts is gone by the end of its test (see `processes`): one still waiting for
    # jobs on this database belongs to someone else and would take this test's jobs, so say so instead of
    # failing later with a batch that never finishes.
    db = connection.connection_pool.connection_kwargs.get("db", 0)
    deadline = time.monotonic() + 3  # Redis may not yet have seen the last test's worker hang up
    while strays := [
        client
        for client in connection.client_list()
        if int(client.get("db", -1)) == db and client.get("cmd") in _WAITING_FOR_JOBS
    ]:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if strays:
        pytest.fail(
            f"{len(strays)} client(s) not started by this test wait for jobs on {REDIS_URL} "
            f"(a stray `services.certificates.worker`? {', '.join(c['addr'] for c in strays)}): "
            "stop them or set TEST_REDIS_URL to a database of your own"
        )
    connection.flushdb()
    yield connection
    connection.flushdb()


# --- processes a test starts -----------------------------------------------------------------

_started: list[subprocess.Popen] = []


def kill_process_group(process: subprocess.Popen) -> None:
    """SIGKILL to the process and everything in its group (an RQ worker's horse and scheduler), then reap."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


@atexit.register
def _kill_what_tests_left() -> None:
    # The last line of defence (an interrupted run): no worker outlives the test process to eat the
    # jobs of the next run on the same Redis database.
    for process in _started:
        kill_process_group(process)


@pytest.fixture
def processes():
    """start(args, **popen) -> Popen: a child process in a process group of its own; at the end of the
    test it is killed with its whole group, however the test ended."""
    mine: list[subprocess.Popen] = []

    def start(args, **popen) -> subprocess.Popen:
        process = subprocess.Popen(args, start_new_session=True, **popen)
        mine.append(process)
        _started.append(process)
        return process

    yield start
    for process in mine:
        kill_process_group(process)
        _started.remove(process)


# --- apps and live servers -------------------------------------------------------------------


def create_service_app(service: str, settings: Settings):
    if service == "web":
        from web.app import create_app

        return create_app(settings)
    import importlib

    return importlib.import_module(f"services.{service}.app").create_app(settings)


@pytest.fixture
def app_factory(database_url, tmp_path):
    """Builds one service's Flask app on the test database."""

    built = []

    def build(service: str, **overrides):
        app = create_service_app(
            service, make_settings(service, database_url, tmp_path / "storage", **overrides)
        )
        built.append(app)
        return app

    yield build
    for app in built:
        dispose_engine(app)


def dispose_engine(app) -> None:
    """Close the app's idle database connections now, not when the app is garbage collected."""
    engine = app.extensions.get("db_engine")
    if engine is not None:
        engine.dispose()


def auth_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {SERVICE_TOKEN}"}


class LiveServer:
    """A real HTTP server on a free port of 127.0.0.1, in a thread of the test process."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class LiveSystem:
    urls: dict[str, str]
    servers: dict[str, LiveServer] = field(default_factory=dict)
    apps: dict = field(default_factory=dict)

    @property
    def web_url(self) -> str:
        return self.urls["web"]

    def stop(self, service: str) -> None:
        self.servers.pop(service).stop()


@pytest.fixture
def live_system(database_url, tmp_path) -> Iterator[LiveSystem]:
    """All three services and the gateway, served over real HTTP on loopback."""
    system = LiveSystem(urls={})
    storage = tmp_path / "storage"
    for service in ("registration", "certificates", "feedback"):
        app = create_service_app(service, make_settings(service, database_url, storage))
        if service == "certificates":  # it asks registration for the programme
            app.config["REGISTRATION_URL"] = system.urls["registration"]
        system.apps[service] = app
        system.servers[service] = LiveServer(app)
        system.urls[service] = system.servers[service].url
    from web.app import create_app as create_web_app

    # Rate-limit counters in memory: other test runs on this machine flush the shared test Redis.
    web_app = create_web_app(
        make_settings("web", database_url, storage, redis_url=None),
        service_urls=dict(system.urls),
    )
    system.apps["web"] = web_app
    from web.limits import limiter

    with web_app.app_context():
        limiter.reset()  # rate-limit counters must not leak from one test into the next
    system.servers["web"] = LiveServer(web_app)
    system.urls["web"] = system.servers["web"].url
    yield system
    for server in system.servers.values():
        server.stop()
    for app in system.apps.values():
        dispose_engine(app)


@pytest.fixture
def staff_factory(database_url):
    """Creates a staff account directly in the gateway's database; returns (username, password)."""
    from sqlalchemy.orm import Session

    from eventops.db import make_engine
    from web.auth import hash_password
    from web.models import Role, StaffAccount

    engine = make_engine(database_url)

    def create(role: str = "organiser", username: str | None = None, password: str = "correct horse 42"):
        username = username or f"{role}-{uuid.uuid4().hex[:6]}"
        with Session(engine) as session:
            session.add(
                StaffAccount(
                    username=username,
                    full_name=f"Тест {role}",
                    role=Role(role),
                    password_hash=hash_password(password),
                )
            )
            session.commit()
        return username, password

    yield create
    engine.dispose()
