"""Liveness and readiness of every process.

- `GET /healthz` (the contract every part keeps): {"status": "ok", ...}, or 503 when a dependency the
  process cannot work without is down: its database, and what the service names besides (certificates:
  the Redis its renders are queued in). nginx and `make run-prod` look at it.
- `GET /readyz`: whether the process should be given traffic now. Everything /healthz asks, plus what it
  needs for part of its work (registration: the Redis of the mail queue; the gateway: the Redis of its rate
  limits) and that its database schema is the one its code expects (migrations are a step of their own,
  before the processes start: a process started before them is up but not ready). The gateway's readiness
  does not ask the services it calls: one service down would take every gateway out of rotation, while its
  pages already say which service is not answering and the others go on working.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache

import redis
from flask import Flask, jsonify
from sqlalchemy import text

from eventops import db

Check = Callable[[], None]
#: seconds a readiness probe waits for Redis: a probe that hangs is as bad as a dependency that is down
REDIS_TIMEOUT_S = 2


class SchemaBehind(RuntimeError):
    """The database is not at the migrations' head: run `make migrate` (or the deploy's migrate step)."""


def database_check() -> None:
    with db.engine().connect() as connection:
        connection.execute(text("SELECT 1"))


@cache
def _probe_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(
        redis_url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )


def redis_check(redis_url: str | None) -> Check:
    """PING the Redis at `redis_url` with short timeouts; None: the embedded one, as the queue finds it."""
    if redis_url:
        return lambda: _probe_client(redis_url).ping()
    from eventops.queue import connect

    return lambda: connect(None).ping()


@cache
def _migration_heads(service: str) -> frozenset[str]:
    from alembic.script import ScriptDirectory

    from eventops.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config(service, "")).get_heads())


def schema_check(service: str) -> Check:
    """The service's tables are at its newest migration."""

    def check() -> None:
        with db.engine().connect() as connection:
            versions = set(
                connection.execute(text(f"SELECT version_num FROM alembic_version_{service}")).scalars()
            )
        heads = _migration_heads(service)
        if versions != heads:
            raise SchemaBehind(
                f"the database is at {sorted(versions) or 'no migration'}, the code expects {sorted(heads)}"
            )

    return check


def _run(checks: dict[str, Check]) -> tuple[dict[str, str], bool]:
    results, healthy = {}, True
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure of a dependency means "down", with the reason
            healthy = False
            results[name] = f"down: {type(exc).__name__}: {exc}"[:300]
    return results, healthy


def register(app: Flask, checks: dict[str, Check], readiness: dict[str, Check] | None = None) -> None:
    """/healthz asks `checks`; /readyz asks them and `readiness`."""
    started = time.time()

    def answer(all_checks: dict[str, Check]):
        results, healthy = _run(all_checks)
        body = {
            "status": "ok" if healthy else "down",
            "service": app.name,
            "checks": results,
            "uptime_s": round(time.time() - started),
        }
        return jsonify(body), 200 if healthy else 503

    @app.get("/healthz")
    def healthz():
        return answer(checks)

    @app.get("/readyz")
    def readyz():
        return answer({**checks, **(readiness or {})})
