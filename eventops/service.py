"""The common frame of a service process; each service adds its own blueprints and checks."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from spectree import SpecTree

from eventops import db, health, i18n, input_guard, logs, metrics, openapi, problems, queue, service_auth
from eventops.config import Settings


def create_service_app(
    settings: Settings,
    spec: SpecTree,
    blueprints: list,
    checks: dict[str, health.Check] | None = None,
    queues: tuple[str, ...] = (),
    readiness: dict[str, health.Check] | None = None,
) -> Flask:
    """`checks`: what /healthz (and /readyz) ask besides the database; `readiness`: what only /readyz asks
    besides the schema; `queues`: the RQ queues this service fills, whose lengths /metrics reports."""
    app = Flask(settings.service)
    app.config.update(
        SETTINGS=settings,
        SERVICE_TOKEN=settings.service_token,
        TESTING=settings.testing,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
    )
    logs.configure(settings.service)
    logs.log_requests(app)
    metrics.init_app(
        app,
        settings.service,
        metrics.QueueLengths(lambda: queue.connect(settings.redis_url), queues) if queues else None,
    )
    problems.register(app)
    db.init_app(app, settings.database_url, service=settings.service, pool_size=settings.database_pool_size)
    service_auth.protect_api(app)
    input_guard.register(app, spec)  # after the token check: a stranger learns nothing of the rules
    health.register(
        app,
        {"database": health.database_check, **(checks or {})},
        readiness={"schema": health.schema_check(settings.service), **(readiness or {})},
    )
    i18n.init_app(app, Path(__file__).parent / "translations")
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    openapi.register(app, spec)
    return app
