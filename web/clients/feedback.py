"""Calls to the feedback service's API (/api/v1), one function each; views use these, never paths."""

from __future__ import annotations

from web.clients.base import client


def _api():
    return client("feedback")


def surveys(event_id: int) -> list[dict]:
    """The event's surveys (the event page lists them, each linking to its results)."""
    return _api().get(f"/api/v1/events/{event_id}/surveys")["items"]
