"""The certificates service: attendance, certificate policies, eligibility, documents and their PDFs."""

from __future__ import annotations

from flask import Flask

from eventops import health
from eventops.config import Settings
from eventops.service import create_service_app
from services.certificates.api import BLUEPRINTS, spec
from services.certificates.tasks import QUEUE_NAME


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("certificates")
    # Without Redis nothing can be issued: the renders are queued there.
    return create_service_app(
        settings,
        spec,
        BLUEPRINTS,
        checks={"redis": health.redis_check(settings.redis_url)},
        queues=(QUEUE_NAME,),
    )
