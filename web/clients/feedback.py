"""Calls to the feedback service's API (/api/v1), one function each; views use these, never paths."""

from __future__ import annotations

from web.clients.base import client


def _api():
    return client("feedback")
