"""The registration service: events, programme, participants."""

from __future__ import annotations

from flask import Flask

from eventops import health
from eventops.config import Settings
from eventops.service import create_service_app
from services.registration import api
from services.registration.tasks import QUEUE_NAME


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("registration")
    # Letters are queued in Redis; without it registration still works, so only readiness asks for it.
    app = create_service_app(
        settings,
        api.spec,
        api.blueprints,
        queues=(QUEUE_NAME,),
        readiness={"redis": health.redis_check(settings.redis_url)},
    )
    api.init_app(app)
    return app
