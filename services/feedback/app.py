"""The feedback service: surveys during and after the course, answers, and their results."""

from __future__ import annotations

from flask import Flask

from eventops.config import Settings
from eventops.service import create_service_app
from services.feedback.api import blueprints, spec
from services.feedback.results import Figures


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("feedback")
    app = create_service_app(settings, spec, blueprints)
    app.extensions["feedback_figures"] = Figures()
    return app
