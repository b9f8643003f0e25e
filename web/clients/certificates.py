"""Calls to the certificates service's API (/api/v1), one function each; views use these, never paths."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import requests

from web.clients.base import ServiceError, client

#: one scan or undo as recorded: outcome, participant, staff, device, time; "replayed" for a resent nonce
CheckIn = dict[str, Any]


def _api():
    return client("certificates")


def _place(day: str, session_id: int | None) -> dict[str, Any]:
    """The door of a day (no session) or one session's room, as the API's query takes it."""
    return {"day": day, **({"session_id": session_id} if session_id is not None else {})}


# --- attendance ----------------------------------------------------------------------------------


def record_scan(
    event_id: int,
    *,
    nonce: str,
    day: str,
    session_id: int | None,
    scanned_at: str,
    raw_code: str,
    participant: dict | None,
    offline: bool = False,
) -> CheckIn:
    """Records a check-in at the door or in a session. `participant` is what registration said of the
    code ({"id", "event_id", "status", "full_name"}), or None for a code nobody has; `offline` when the
    tablet made the scan without a connection and sends it now. Resending the same nonce answers the first
    record again (replayed), never a second check-in."""
    return _api().post(
        f"/api/v1/events/{event_id}/checkins",
        json={
            "nonce": nonce,
            "day": day,
            "session_id": session_id,
            "scanned_at": scanned_at,
            "raw_code": raw_code,
            "participant": participant,
            "offline": offline,
        },
    )


def offline_scans(event_id: int) -> dict[str, Any]:
    """What offline tablets sent late: {"items": [check-ins, newest arrival first], "total",
    "conflicts": [{participant_id, full_name, day, session_id, kept, duplicate}]}, where `kept` holds the
    check-in and `duplicate` is the other tablet's scan of the same person."""
    return _api().get(f"/api/v1/events/{event_id}/attendance/offline")


def undo(checkin_id: int, *, nonce: str, reason: str) -> CheckIn:
    """Reverses a check-in; 404 for an unknown one, 409 if it cannot be undone (already, or an undo)."""
    return _api().post(f"/api/v1/checkins/{checkin_id}/undo", json={"nonce": nonce, "reason": reason})


def counters(event_id: int, day: str, session_id: int | None = None) -> int:
    """How many people are checked in at the door of `day`, or in the session."""
    return _api().get(f"/api/v1/events/{event_id}/attendance/counters", **_place(day, session_id))[
        "checked_in"
    ]


def checkin_log(event_id: int, day: str, session_id: int | None = None, limit: int = 20) -> list[CheckIn]:
    """The latest scans and undos at this place, newest first."""
    return _api().get(f"/api/v1/events/{event_id}/checkins", **_place(day, session_id), limit=limit)["items"]


def attendance(event_id: int) -> dict[str, Any]:
    """The event's attendance: {"sessions": [{id, checked_in, ...}], "days": [...],
    "participants": [{participant_id, days, session_ids, academic_hours}]}."""
    return _api().get(f"/api/v1/events/{event_id}/attendance")


def mark_present(
    event_id: int,
    *,
    nonce: str,
    day: str,
    session_id: int | None,
    participant_ids: list[int],
    participants: list[dict],
) -> dict[str, Any]:
    """Marks the chosen participants present (the organiser's bulk marking). `participants` is what
    registration says of them; chosen ids it does not know, and cancelled registrations, come back in
    "skipped". Answers {"created", "already", "skipped"}; the same nonce again creates nothing."""
    return _api().post(
        f"/api/v1/events/{event_id}/attendance/bulk",
        json={
            "nonce": nonce,
            "day": day,
            "session_id": session_id,
            "participant_ids": participant_ids,
            "participants": participants,
        },
    )


# --- certificates --------------------------------------------------------------------------------
# The organiser's certificate pages, the participant's personal page and public verification.
# Files (PDF, ZIP, XLSX) come back as open streamed responses: the caller passes them through and
# closes them, so a ZIP of a thousand PDFs never sits in the gateway's memory.


def policy(event_id: int) -> dict | None:
    """The event's certificate policy, or None while the organiser has not set one."""
    try:
        return _api().get(f"/api/v1/events/{event_id}/policy")
    except ServiceError as exc:
        if exc.status == 404:
            return None
        raise


def save_policy(event_id: int, policy: dict) -> dict:
    """Replaces the whole policy; a refusal is a ServiceError with per-field errors."""
    return _api().request("PUT", f"/api/v1/events/{event_id}/policy", json=policy).json()


def policy_image(event_id: int, image: str) -> requests.Response:
    """The stored logo or signature (`image`), as the service keeps it."""
    return _api().request("GET", f"/api/v1/events/{event_id}/policy/images/{image}", stream=True)


def eligibility(event_id: int) -> dict:
    """`{"summary": {...}, "items": [...]}`: every participant, eligible or not and why."""
    return _api().get(f"/api/v1/events/{event_id}/eligibility")


def eligibility_soon(event_id: int) -> Future[dict]:
    """`eligibility`, asked now and answered by `.result()`: the list page waits for it while it asks
    for the policy and the event."""
    return _api().get_soon(f"/api/v1/events/{event_id}/eligibility")


def set_override(event_id: int, participant_id: int, decision: dict) -> dict:
    """Decides by hand, either way: `{"eligible": bool | None, "reason"}` (None goes back to what attendance
    says); who decided comes from the staff header."""
    path = f"/api/v1/events/{event_id}/eligibility/{participant_id}/override"
    return _api().request("PUT", path, json=decision).json()


def issue(event_id: int, statements: bool) -> dict:
    """Issues to everyone eligible without a valid certificate (справки to the rest if asked):
    `{"batch_id", "total"}`; the PDFs render in the background."""
    return _api().post(f"/api/v1/events/{event_id}/issue", json={"statements": statements})


def batch(batch_id: int) -> dict:
    """Progress of an issue: `{"total", "rendered", "failed", "pending", "done"}`."""
    return _api().get(f"/api/v1/batches/{batch_id}")


def event_certificates(event_id: int) -> list[dict[str, Any]]:
    """The certificates issued for the event (the event page lists them)."""
    return _api().get(f"/api/v1/events/{event_id}/certificates")["items"]


def certificate(certificate_id: int) -> dict:
    return _api().get(f"/api/v1/certificates/{certificate_id}")


def revoke(certificate_id: int, revocation: dict) -> dict:
    """`{"reason", "reason_public"}`: the document stays verifiable, as revoked."""
    return _api().post(f"/api/v1/certificates/{certificate_id}/revoke", json=revocation)


def reissue(certificate_id: int) -> dict:
    """A new version with fresh data from registration; the old one becomes superseded."""
    return _api().post(f"/api/v1/certificates/{certificate_id}/reissue")


def certificate_pdf(certificate_id: int) -> requests.Response:
    return _api().request("GET", f"/api/v1/certificates/{certificate_id}/pdf", stream=True)


def certificates_zip(event_id: int) -> requests.Response:
    return _api().request("GET", f"/api/v1/events/{event_id}/certificates.zip", stream=True)


def frdo_xlsx(event_id: int) -> requests.Response:
    return _api().request("GET", f"/api/v1/events/{event_id}/frdo.xlsx", stream=True)


def participant_record(event_id: int, participant_id: int) -> dict:
    """What the personal page shows: attendance, eligibility in words, the current certificate or None."""
    return _api().get(f"/api/v1/events/{event_id}/participants/{participant_id}/record")


def participant_certificate_pdf(event_id: int, participant_id: int) -> requests.Response:
    """The participant's current valid PDF; a ServiceError 404 when there is none."""
    path = f"/api/v1/events/{event_id}/participants/{participant_id}/certificate.pdf"
    return _api().request("GET", path, stream=True)


def verify(code: str) -> dict | None:
    """What anyone may learn from a verification code, or None if no certificate has it."""
    try:
        return _api().get(f"/api/v1/verify/{code}")
    except ServiceError as exc:
        if exc.status == 404:
            return None
        raise


# --- surveys -------------------------------------------------------------------------------------


#: how long a process keeps the number of participants checked in: a response rate may be a minute behind
POPULATION_TTL_S = 60


def checked_in_count(event_id: int, session_id: int | None = None) -> int:
    """How many participants could answer a survey: those checked in at the event at all (a course
    survey), or in the session (its feedback form) — on the session's day when its room scanned nobody,
    since many venues check people in only at the door. Asked again after POPULATION_TTL_S: the
    attendance lists every participant, too much to fetch at every view of the results."""
    summary = _api().kept(("attendance", event_id), POPULATION_TTL_S, lambda: attendance(event_id))
    if session_id is None:
        return len(summary["participants"])
    session = next((s for s in summary["sessions"] if s["id"] == session_id), None)
    if session is None:
        return 0
    if session["checked_in"]:
        return session["checked_in"]
    return next((d["present"] for d in summary["days"] if d["day"] == session["day"]), 0)
