"""What certificates asks registration over HTTP: the programme (sessions, their days and academic hours)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date

import requests
from flask import current_app

from eventops.config import service_url
from eventops.service_auth import bearer

TIMEOUT_SECONDS = 3
#: how long a check-in trusts a fetched programme; a session id not in it triggers a fresh fetch anyway
PROGRAMME_TTL_SECONDS = 60


class RegistrationUnavailable(Exception):
    """Registration did not answer (in time, or sensibly)."""


class EventNotFound(Exception):
    pass


@dataclass(frozen=True)
class ProgrammeSession:
    id: int
    day: date
    title: str
    academic_hours: int


def registration_url() -> str:
    # Read on every call: tests and operators point it elsewhere through the environment.
    return current_app.config.get("REGISTRATION_URL") or service_url("registration")


def fetch_sessions(event_id: int) -> dict[int, ProgrammeSession]:
    """The event's programme, fresh from registration, by session id."""
    url = f"{registration_url()}/api/v1/events/{event_id}/sessions"
    token = current_app.config["SETTINGS"].service_token
    try:
        response = requests.get(url, headers=bearer(token), timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise RegistrationUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 404:
        raise EventNotFound(event_id)
    if response.status_code != 200:
        raise RegistrationUnavailable(f"registration answered {response.status_code}")
    try:
        return {item["id"]: ProgrammeSession(id=item["id"], day=date.fromisoformat(item["day"]),
                                             title=item["title"], academic_hours=item["academic_hours"])
                for item in response.json()["items"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistrationUnavailable(f"unexpected answer from registration: {exc}") from exc


_cache: dict[tuple[str, int], tuple[float, dict[int, ProgrammeSession]]] = {}
_cache_lock = threading.Lock()


def find_session(event_id: int, session_id: int) -> ProgrammeSession | None:
    """The event's session with this id, or None if it is not in the event's programme.

    A busy door must not ask registration on every scan, so the programme is kept for a minute;
    an id missing from the kept copy is looked up afresh (the organiser may have just added it).
    """
    key = (registration_url(), event_id)
    with _cache_lock:
        cached = _cache.get(key)
    if cached and time.monotonic() - cached[0] < PROGRAMME_TTL_SECONDS and session_id in cached[1]:
        return cached[1][session_id]
    try:
        sessions = fetch_sessions(event_id)
    except EventNotFound:
        sessions = {}
    with _cache_lock:
        _cache[key] = (time.monotonic(), sessions)
    return sessions.get(session_id)
