"""Shared bits of the attendance tests."""
from __future__ import annotations

import uuid

from tests.conftest import auth_headers

DAY = "2026-10-07"
EVENT_ID = 1


def nonce() -> str:
    return str(uuid.uuid4())


def person(pid: int = 7, event_id: int = EVENT_ID, status: str = "confirmed", name: str = "Ёлкин Пётр") -> dict:
    return {"id": pid, "event_id": event_id, "status": status, "full_name": name}


def scan(participant: dict | None = None, *, day: str = DAY, session_id: int | None = None,
         raw_code: str | None = "K7M2QX", key: str | None = None) -> dict:
    return {"nonce": key or nonce(), "day": day, "session_id": session_id,
            "scanned_at": "2026-10-07T09:01:02+03:00", "raw_code": raw_code, "participant": participant}


def staff_headers(staff: str = "petrova (checkin)", device: str = "tablet-3") -> dict:
    return {**auth_headers(), "X-Staff-User": staff, "X-Device": device}
