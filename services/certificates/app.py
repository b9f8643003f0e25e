"""The certificates service: attendance, certificate policies, eligibility, documents and their PDFs."""

from __future__ import annotations

from flask import Flask, current_app

from eventops.config import Settings
from eventops.queue import connect
from eventops.service import create_service_app
from services.certificates.api import BLUEPRINTS, spec


def redis_check() -> None:
    connect(current_app.config["SETTINGS"].redis_url).ping()


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("certificates")
    return create_service_app(settings, spec, BLUEPRINTS, checks={"redis": redis_check})
