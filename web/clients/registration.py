"""Calls to the registration service's API (/api/v1), one function each; views use these, never paths.

Answers are the service's JSON as dicts (shapes in the service's /openapi.json); the aliases below only say
which shape a function returns. Errors raise ServiceError (with the service's field errors) or
ServiceUnavailable, as every client does.
"""

from __future__ import annotations

import json
from concurrent.futures import Future
from typing import Any
from urllib.parse import quote

import requests
from flask_babel import get_locale

from web.clients.base import ServiceError, client

Event = dict[str, Any]
ProgrammeSession = dict[str, Any]
Participant = dict[str, Any]
#: {"items": [participant, ...], "total": how many match in all}
Found = dict[str, Any]
#: the service's report of an import: headers, mapping, sample rows and the per-row report
ImportResult = dict[str, Any]

#: closed lists (regions, kinds of session...) change with a release, not during a day
REFERENCE_TTL_S = 10 * 60


def _api():
    return client("registration")


# --- personal page -----------------------------------------------------------------------------


#: how long a process may answer a personal token from its copy (fresh=False): a phone saves at every
#: change of an answer, and a token never moves to another participant; a changed region or organisation
#: reaches those saves within this time
TOKEN_TTL_S = 60


def participant_by_token(token: str, *, fresh: bool = True) -> dict | None:
    """`{"participant", "event"}` for a personal token, or None when no participant has it. `fresh=False`
    may answer a copy up to TOKEN_TTL_S old (a token nobody has is asked again every time)."""
    if not fresh:
        return _api().kept(("by-token", token), TOKEN_TTL_S, lambda: participant_by_token(token))
    try:
        return _api().get(f"/api/v1/participants/by-token/{quote(token, safe='')}")
    except ServiceError as exc:
        if exc.status == 404:
            return None
        raise


def programme(event_id: int) -> list[dict]:
    """The event's sessions in programme order (day, start time)."""
    return _api().get(f"/api/v1/events/{event_id}/sessions")["items"]


# --- events --------------------------------------------------------------------------------------


def events() -> list[Event]:
    return _api().get("/api/v1/events")["items"]


#: how old an event may be where a page only names it (fresh=False): its title in a heading
EVENT_TTL_S = 10


def event(event_id: int, *, fresh: bool = True) -> Event:
    """The event with its figures; `fresh=False` may answer a copy up to EVENT_TTL_S old."""
    if not fresh:
        return _api().kept(("event", event_id), EVENT_TTL_S, lambda: event(event_id))
    return _api().get(f"/api/v1/events/{event_id}")


def event_soon(event_id: int) -> Future[Event]:
    """`event`, asked now and answered by `.result()`, for a page that asks other services meanwhile."""
    return _api().get_soon(f"/api/v1/events/{event_id}")


def create_event(data: dict) -> Event:
    return _api().post("/api/v1/events", json=data)


def update_event(event_id: int, changes: dict) -> Event:
    return _api().patch(f"/api/v1/events/{event_id}", json=changes)


# --- programme (the list itself: programme() above) -------------------------------------------


def create_session(event_id: int, data: dict) -> ProgrammeSession:
    return _api().post(f"/api/v1/events/{event_id}/sessions", json=data)


def update_session(event_id: int, session_id: int, changes: dict) -> ProgrammeSession:
    return _api().patch(f"/api/v1/events/{event_id}/sessions/{session_id}", json=changes)


def delete_session(event_id: int, session_id: int) -> None:
    _api().delete(f"/api/v1/events/{event_id}/sessions/{session_id}")


# --- participants --------------------------------------------------------------------------------


def participants(event_id: int) -> list[Participant]:
    """Every participant of the event, cancelled ones too, sorted by name."""
    return _api().get(f"/api/v1/events/{event_id}/participants")["items"]


def participant(event_id: int, participant_id: int) -> Participant:
    """One participant with every field (personal data); 404 if they belong to another event."""
    return _api().get(f"/api/v1/events/{event_id}/participants/{participant_id}")


def create_participant(event_id: int, data: dict) -> Participant:
    return _api().post(f"/api/v1/events/{event_id}/participants", json=data)


def update_participant(event_id: int, participant_id: int, changes: dict) -> Participant:
    return _api().patch(f"/api/v1/events/{event_id}/participants/{participant_id}", json=changes)


def cancel_participant(event_id: int, participant_id: int) -> Participant:
    return _api().post(f"/api/v1/events/{event_id}/participants/{participant_id}/cancel")


def restore_participant(event_id: int, participant_id: int) -> Participant:
    return _api().post(f"/api/v1/events/{event_id}/participants/{participant_id}/restore")


def search(event_id: int, q: str, limit: int, offset: int = 0) -> Found:
    """Participants matching what was typed (a name, its start, an e-mail, a code); an empty `q` lists
    everyone by name; `limit` of them after the first `offset`."""
    return _api().get(f"/api/v1/events/{event_id}/participants/search", q=q, limit=limit, offset=offset)


def lookup(event_id: int, code: str) -> Participant:
    """The participant a scanned code (badge code or personal-link token) names; 404 if nobody."""
    return _api().get(f"/api/v1/events/{event_id}/participants/lookup", code=code)


def checkin_index(event_id: int, etag: str | None = None) -> requests.Response:
    """The compact participant list a check-in tablet keeps (JSON bytes and its ETag), or a 304 when
    `etag` (the version the tablet has) is still current."""
    headers = {"If-None-Match": etag} if etag else {}
    return _api().request("GET", f"/api/v1/events/{event_id}/participants/checkin-index", headers=headers)


def register(event_id: int, data: dict) -> Participant:
    """The public registration form; the answer carries the participant's personal token."""
    return _api().post(f"/api/v1/events/{event_id}/registrations", json=data)


# --- documents -----------------------------------------------------------------------------------


def export(event_id: int, file_format: str) -> requests.Response:
    """Every participant with every column, as "xlsx" or "csv"."""
    return _api().download(f"/api/v1/events/{event_id}/participants/export", format=file_format)


def badges(event_id: int, participant_ids: list[int] | None = None) -> requests.Response:
    """A PDF of badges: of these participants, or of everyone whose registration stands."""
    params = {"ids": ",".join(map(str, participant_ids))} if participant_ids else {}
    return _api().download(f"/api/v1/events/{event_id}/badges.pdf", **params)


# --- import --------------------------------------------------------------------------------------


def preview_import(event_id: int, filename: str, data: bytes, mapping: dict[int, str] | None) -> ImportResult:
    """What importing the spreadsheet would do; writes nothing. Without a mapping the service guesses it."""
    return _import("preview", event_id, filename, data, mapping)


def commit_import(
    event_id: int, filename: str, data: bytes, mapping: dict[int, str] | None, rejected_rows: list[int]
) -> dict[str, Any]:
    """Imports every row without errors except `rejected_rows` (spreadsheet row numbers), all or nothing."""
    return _import("commit", event_id, filename, data, mapping, rejected_rows=rejected_rows)


def _import(kind: str, event_id: int, filename: str, data: bytes, mapping, **lists) -> dict[str, Any]:
    form = {"mapping": json.dumps(mapping)} if mapping is not None else {}
    form.update({name: json.dumps(rows) for name, rows in lists.items() if rows is not None})
    return _api().post(
        f"/api/v1/events/{event_id}/imports/{kind}",
        data=form,
        files={"file": (filename, data, "application/octet-stream")},
    )


# --- reference data ------------------------------------------------------------------------------
# Every participant form and every participants list needs these, and the list redraws at each keystroke of
# an active search: one copy per process and language, asked again after REFERENCE_TTL_S.


def regions() -> list[dict[str, str]]:
    """The subjects of the Russian Federation, [{"code", "name"}], in the order a form lists them."""
    return _kept("regions", lambda: _api().get("/api/v1/regions")["items"])


def region_names() -> dict[str, str]:
    return {region["code"]: region["name"] for region in regions()}


def reference() -> dict[str, list]:
    """The values each closed field accepts, in the order a form offers them: "regions", "genders",
    "participant_statuses", "session_kinds", "education_levels", "programme_kinds"."""
    return _kept("reference", lambda: _api().get("/api/v1/reference"))


def _kept(name: str, fetch):
    return _api().kept((name, str(get_locale() or "")), REFERENCE_TTL_S, fetch)
