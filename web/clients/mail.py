"""Calls to the registration service's mail API (/api/v1/.../mail): the outbox, resending, organisers'
letters and a participant's bulk-mail opt-out. Registration owns participants' addresses, so it owns mail;
this module is kept apart from registration.py because it is one area with its own pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from web.clients.base import client

#: {"items": [letter, ...], "counts": {status: n}, "sending_enabled": bool}
Outbox = dict[str, Any]
#: {"messages": n written or queued again, "skipped": n, "campaign_id": id or None}
Queued = dict[str, Any]


def _api():
    return client("registration")


def outbox(event_id: int, status: str | None = None, limit: int = 200) -> Outbox:
    params = {"limit": limit, **({"status": status} if status else {})}
    return _api().get(f"/api/v1/events/{event_id}/mail/messages", **params)


def message(event_id: int, message_id: int) -> dict[str, Any]:
    """One letter with its text and HTML parts."""
    return _api().get(f"/api/v1/events/{event_id}/mail/messages/{message_id}")


def resend_message(event_id: int, message_id: int) -> Queued:
    return _api().post(f"/api/v1/events/{event_id}/mail/messages/{message_id}/resend")


def resend_failed(event_id: int) -> Queued:
    return _api().post(f"/api/v1/events/{event_id}/mail/resend", json={})


def send_campaign(event_id: int, letter: dict) -> Queued:
    """An organiser's letter: subject, body and the filters (region_code, organisation, status,
    participant_ids / excluded_ids, audience in words, created_by)."""
    return _api().post(f"/api/v1/events/{event_id}/mail/campaigns", json=letter)


def certificates_ready(event_id: int, certificates: list[dict]) -> Queued:
    """«Ваше удостоверение готово» for [{participant_id, number}], once per certificate number."""
    return _api().post(
        f"/api/v1/events/{event_id}/mail/certificates-ready", json={"certificates": certificates}
    )


def survey_invitations(
    event_id: int,
    survey_key: str,
    title: str,
    participant_ids: list[int],
    *,
    reminder: bool = False,
    anonymous: bool = False,
) -> Queued:
    """A survey's invitation, or its one reminder, to these participants; once each per survey key."""
    body = {
        "survey_key": survey_key,
        "title": title,
        "participant_ids": participant_ids,
        "reminder": reminder,
        "anonymous": anonymous,
    }
    return _api().post(f"/api/v1/events/{event_id}/mail/survey-invitations", json=body)


def opted_out(token: str) -> bool:
    return _api().get(f"/api/v1/participants/by-token/{quote(token, safe='')}/mail")["opted_out"]


def set_opted_out(token: str, value: bool) -> bool:
    path = f"/api/v1/participants/by-token/{quote(token, safe='')}/mail"
    return _api().post(path, json={"opted_out": value})["opted_out"]
