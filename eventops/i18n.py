"""Russian first, English available: locale selection shared by the gateway and the services."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_babel import Babel

LANGUAGES = ("ru", "en")
DEFAULT_LOCALE = "ru"
TIMEZONE = "Europe/Moscow"


def gateway_locale() -> str:
    """A person's own choice, kept in their session; Russian until they choose, whatever the browser says
    (venue tablets often run an English system locale)."""
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT_LOCALE


def service_locale() -> str:
    """Services answer in the language the gateway asks for in Accept-Language."""
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LOCALE


def init_app(app: Flask, translations_dir: Path, *, gateway: bool = False) -> Babel:
    return Babel(
        app,
        locale_selector=gateway_locale if gateway else service_locale,
        default_locale=DEFAULT_LOCALE,
        default_timezone=TIMEZONE,
        default_translation_directories=str(translations_dir),
    )
