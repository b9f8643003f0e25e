"""The registration service: events, programme, participants."""

from __future__ import annotations

from flask import Flask

from eventops.config import Settings
from eventops.service import create_service_app
from services.registration.api import api, spec
from services.registration.import_api import imports


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("registration")
    return create_service_app(settings, spec, [api, imports])
