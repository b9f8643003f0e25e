"""GET /healthz: {"status": "ok", ...}, or 503 when a dependency the process cannot work without is down."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, jsonify
from sqlalchemy import text

from eventops import db

Check = Callable[[], None]


def database_check() -> None:
    with db.engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def register(app: Flask, checks: dict[str, Check]) -> None:
    started = time.time()

    @app.get("/healthz")
    def healthz():
        results, healthy = {}, True
        for name, check in checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # any failure of a dependency means "down", with the reason
                healthy = False
                results[name] = f"down: {type(exc).__name__}: {exc}"[:300]
        body = {
            "status": "ok" if healthy else "down",
            "service": app.name,
            "checks": results,
            "uptime_s": round(time.time() - started),
        }
        return jsonify(body), 200 if healthy else 503
