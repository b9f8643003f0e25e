"""Calls to the registration service's API (/api/v1), one function each; views use these, never paths."""

from __future__ import annotations

from urllib.parse import quote

from web.clients.base import ServiceError, client


def _api():
    return client("registration")


# --- personal page -----------------------------------------------------------------------------


def participant_by_token(token: str) -> dict | None:
    """`{"participant", "event"}` for a personal token, or None when no participant has it."""
    try:
        return _api().get(f"/api/v1/participants/by-token/{quote(token, safe='')}")
    except ServiceError as exc:
        if exc.status == 404:
            return None
        raise


def programme(event_id: int) -> list[dict]:
    """The event's sessions in programme order (day, start time)."""
    return _api().get(f"/api/v1/events/{event_id}/sessions")["items"]


def event(event_id: int) -> dict:
    return _api().get(f"/api/v1/events/{event_id}")
