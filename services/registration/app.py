"""The registration service: events, programme, participants."""

from __future__ import annotations

from flask import Flask

from eventops.config import Settings
from eventops.service import create_service_app
from services.registration import api


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("registration")
    app = create_service_app(settings, api.spec, api.blueprints)
    api.init_app(app)
    return app
