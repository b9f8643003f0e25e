"""What certificates asks registration over HTTP: an event, its programme (sessions, their days and
academic hours) and its participants (names as printed, gender, and the optional data ФИС ФРДО needs)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from datetime import time as clock_time
from typing import TypeVar

import requests
from flask import current_app

from eventops.service_auth import bearer

TIMEOUT_SECONDS = 5
T = TypeVar("T")
#: how long a check-in trusts a fetched programme; a session id not in it triggers a fresh fetch anyway
PROGRAMME_TTL_SECONDS = 60


class RegistrationUnavailable(Exception):
    """Registration did not answer (in time, or sensibly)."""


class EventNotFound(Exception):
    pass


class ParticipantNotFound(Exception):
    pass


@dataclass(frozen=True)
class ProgrammeSession:
    id: int
    day: date
    title: str
    academic_hours: int
    starts_at: clock_time | None = None
    ends_at: clock_time | None = None


@dataclass(frozen=True)
class Event:
    id: int
    title: str
    organiser: str
    place: str
    starts_on: date
    ends_on: date
    programme_kind: str


@dataclass(frozen=True)
class Participant:
    """A participant as certificates needs them: the printed name, and what ФИС ФРДО asks for."""

    id: int
    event_id: int
    surname: str
    first_name: str
    patronymic: str | None
    full_name: str
    #: registered, confirmed or cancelled
    status: str
    gender: str | None = None
    birth_date: date | None = None
    snils: str | None = None
    citizenship: str | None = None
    education_level: str | None = None
    diploma_surname: str | None = None
    diploma_series: str | None = None
    diploma_number: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


def registration_url() -> str:
    # Read on every call: tests point a running app at another registration through its config.
    override = current_app.config.get("REGISTRATION_URL")
    return (override or current_app.config["SETTINGS"].service_urls["registration"]).rstrip("/")


_local = threading.local()


def _http() -> requests.Session:
    # One keep-alive connection per thread: the eligibility page asks twice per view, quickly.
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def _get(path: str, not_found: type[Exception], *not_found_args) -> dict:
    url = f"{registration_url()}/api/v1{path}"
    token = current_app.config["SETTINGS"].service_token
    try:
        response = _http().get(url, headers=bearer(token), timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise RegistrationUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 404:
        raise not_found(*not_found_args)
    if response.status_code != 200:
        raise RegistrationUnavailable(f"registration answered {response.status_code} to {path}")
    try:
        return response.json()
    except ValueError as exc:
        raise RegistrationUnavailable(f"registration answered no JSON to {path}") from exc


def _optional_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _optional_time(value: str | None) -> clock_time | None:
    return clock_time.fromisoformat(value) if value else None


def fetch_sessions(event_id: int) -> dict[int, ProgrammeSession]:
    """The event's programme, fresh from registration, by session id."""
    body = _get(f"/events/{event_id}/sessions", EventNotFound, event_id)
    try:
        return {
            item["id"]: ProgrammeSession(
                id=item["id"],
                day=date.fromisoformat(item["day"]),
                title=item["title"],
                academic_hours=item["academic_hours"],
                starts_at=_optional_time(item.get("starts_at")),
                ends_at=_optional_time(item.get("ends_at")),
            )
            for item in body["items"]
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistrationUnavailable(f"unexpected answer from registration: {exc}") from exc


def fetch_event(event_id: int) -> Event:
    body = _get(f"/events/{event_id}", EventNotFound, event_id)
    try:
        return Event(
            id=body["id"],
            title=body["title"],
            organiser=body.get("organiser") or "",
            place=body.get("place") or "",
            starts_on=date.fromisoformat(body["starts_on"]),
            ends_on=date.fromisoformat(body["ends_on"]),
            programme_kind=body.get("programme_kind") or "ПК",
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistrationUnavailable(f"unexpected answer from registration: {exc}") from exc


def _participant(item: dict, event_id: int | None = None) -> Participant:
    # A roster entry leaves out what its path says (the event) and what its caller did not ask for.
    return Participant(
        id=item["id"],
        event_id=item["event_id"] if event_id is None else event_id,
        surname=item["surname"],
        first_name=item["first_name"],
        patronymic=item.get("patronymic") or None,
        full_name=item.get("full_name")
        or " ".join(p for p in (item["surname"], item["first_name"], item.get("patronymic")) if p),
        status=item["status"],
        gender=item.get("gender") or None,
        birth_date=_optional_date(item.get("birth_date")),
        snils=item.get("snils") or None,
        citizenship=item.get("citizenship") or None,
        education_level=item.get("education_level") or None,
        diploma_surname=item.get("diploma_surname") or None,
        diploma_series=item.get("diploma_series") or None,
        diploma_number=item.get("diploma_number") or None,
    )


def _roster(event_id: int, path: str) -> dict[int, Participant]:
    body = _get(f"/events/{event_id}/participants/{path}", EventNotFound, event_id)
    try:
        return {item["id"]: _participant(item, event_id) for item in body["items"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistrationUnavailable(f"unexpected answer from registration: {exc}") from exc


def fetch_participants(event_id: int) -> dict[int, Participant]:
    """Every participant of the event (cancelled ones too), by id, in registration's order: names,
    gender and status, what eligibility and issuing need (registration's lean roster, no contact data)."""
    return _roster(event_id, "roster")


def fetch_frdo_participants(event_id: int) -> dict[int, Participant]:
    """`fetch_participants` with the optional data ФИС ФРДО asks for (birth date, СНИЛС, diploma...)."""
    return _roster(event_id, "frdo")


def fetch_participant(event_id: int, participant_id: int) -> Participant:
    """One participant of the event; ParticipantNotFound if the id is not of this event."""
    body = _get(f"/events/{event_id}/participants/{participant_id}", ParticipantNotFound, participant_id)
    try:
        participant = _participant(body)
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistrationUnavailable(f"unexpected answer from registration: {exc}") from exc
    if participant.event_id != event_id:
        raise ParticipantNotFound(participant_id)
    return participant


_background = ThreadPoolExecutor(max_workers=4, thread_name_prefix="registration")


def in_background(call: Callable[..., T], *args) -> Future[T]:
    """Run one of these calls on a helper thread (with this app), so that the caller's own database work
    overlaps registration's answer."""
    app = current_app._get_current_object()

    def run():
        with app.app_context():
            return call(*args)

    return _background.submit(run)


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


_dates: dict[tuple[str, int], tuple[float, date, date]] = {}


def day_in_event(event_id: int, day: date) -> bool:
    """Whether `day` is one of the event's days; EventNotFound, RegistrationUnavailable.

    Kept for a minute like the programme; a day outside the kept dates is asked afresh (the organiser may
    have just moved the event), so only a day that really is not the event's is refused.
    """
    key = (registration_url(), event_id)
    with _cache_lock:
        cached = _dates.get(key)
    if cached and time.monotonic() - cached[0] < PROGRAMME_TTL_SECONDS and cached[1] <= day <= cached[2]:
        return True
    event = fetch_event(event_id)
    with _cache_lock:
        _dates[key] = (time.monotonic(), event.starts_on, event.ends_on)
    return event.starts_on <= day <= event.ends_on
