"""Scans sent late by offline tablets, on both databases: stored as offline, one check-in when two tablets
admitted the same person, and the conflict reported with both tablets and both scan times."""

from __future__ import annotations

import pytest

from tests.certificates.support import DAY, EVENT_ID, person, scan, staff_headers
from tests.conftest import auth_headers


@pytest.fixture
def certificates(app_factory, db_backend, scan_event):
    app = app_factory("certificates")
    app.config["REGISTRATION_URL"] = scan_event
    return app


def post(client, body, device, staff="petrova (checkin)"):
    response = client.post(
        f"/api/v1/events/{EVENT_ID}/checkins", json=body, headers=staff_headers(staff=staff, device=device)
    )
    assert response.status_code in (200, 201), response.json
    return response.json


def scanned(at: str, offline: bool, participant=None, **kwargs) -> dict:
    return {**scan(participant or person(), **kwargs), "scanned_at": at, "offline": offline}


def report(client) -> dict:
    response = client.get(f"/api/v1/events/{EVENT_ID}/attendance/offline", headers=auth_headers())
    assert response.status_code == 200, response.json
    return response.json


def checked_in(client) -> int:
    counters = client.get(f"/api/v1/events/{EVENT_ID}/attendance/counters?day={DAY}", headers=auth_headers())
    return counters.json["checked_in"]


def test_two_offline_tablets_admit_one_person_once_and_the_conflict_is_reported(certificates):
    client = certificates.test_client()
    # Tablet B scanned later but came back first: it keeps the check-in (the first to arrive wins).
    b = post(client, scanned("2026-10-07T09:05:00+03:00", True), device="tab-B", staff="ivanov (checkin)")
    a = post(client, scanned("2026-10-07T09:01:00+03:00", True), device="tab-A")
    assert (b["outcome"], b["offline"]) == ("checked_in", True)
    assert a["outcome"] == "already_checked_in" and a["previous"]["id"] == b["id"]
    assert a["previous"]["device"] == "tab-B" and a["previous"]["offline"] is True
    assert checked_in(client) == 1

    body = report(client)
    assert body["total"] == 2
    assert [(i["device"], i["outcome"]) for i in body["items"]] == [
        ("tab-A", "already_checked_in"),  # the newest arrival first
        ("tab-B", "checked_in"),
    ]
    [conflict] = body["conflicts"]
    assert (conflict["participant_id"], conflict["full_name"], conflict["day"], conflict["session_id"]) == (
        7,
        "Ёлкин Пётр",
        DAY,
        None,
    )
    assert conflict["kept"]["id"] == b["id"] and conflict["kept"]["staff"] == "ivanov (checkin)"
    assert conflict["duplicate"]["id"] == a["id"] and conflict["duplicate"]["device"] == "tab-A"
    assert conflict["duplicate"]["scanned_at"] == "2026-10-07T06:01:00Z"
    assert conflict["kept"]["scanned_at"] == "2026-10-07T06:05:00Z"


def test_a_resent_offline_scan_is_a_replay_not_a_conflict(certificates):
    client = certificates.test_client()
    body = scanned("2026-10-07T09:01:00+03:00", True)
    first = post(client, body, device="tab-A")
    again = post(client, body, device="tab-A")
    assert again["replayed"] is True and again["id"] == first["id"]
    assert report(client)["conflicts"] == [] and report(client)["total"] == 1


@pytest.mark.parametrize(
    "later, offline, device, conflict",
    [
        # Another tablet, online, an hour later: it was told «already checked in» at once.
        ("2026-10-07T10:01:00+03:00", False, "tab-B", False),
        # Another tablet, online, within the window: both people at the door let the participant in.
        ("2026-10-07T09:02:00+03:00", False, "tab-B", True),
        # Another tablet, offline, hours later: it showed «checked in (offline)» and the server disagreed.
        ("2026-10-07T15:00:00+03:00", True, "tab-B", True),
        # The same tablet, offline: it knew from its own queue.
        ("2026-10-07T09:02:00+03:00", True, "tab-A", False),
    ],
)
def test_what_counts_as_a_conflict(certificates, later, offline, device, conflict):
    client = certificates.test_client()
    post(client, scanned("2026-10-07T09:01:00+03:00", False), device="tab-A")
    duplicate = post(client, scanned(later, offline), device=device)
    assert duplicate["outcome"] == "already_checked_in"
    assert [c["duplicate"]["id"] for c in report(client)["conflicts"]] == (
        [duplicate["id"]] if conflict else []
    )
    assert checked_in(client) == 1


def test_online_scans_are_not_listed_and_other_events_are_not_mixed_in(certificates):
    client = certificates.test_client()
    post(client, scanned("2026-10-07T09:01:00+03:00", False), device="tab-A")
    post(
        client, scanned("2026-10-07T09:01:30+03:00", True, person(pid=8, name="Иванова Анна")), device="tab-B"
    )
    body = report(client)
    assert [i["full_name"] for i in body["items"]] == ["Иванова Анна"] and body["total"] == 1
    other = client.get(f"/api/v1/events/{EVENT_ID + 1}/attendance/offline", headers=auth_headers())
    assert other.json == {"items": [], "total": 0, "conflicts": []}


def test_offline_defaults_to_false_for_a_client_that_does_not_say(certificates):
    client = certificates.test_client()
    record = post(client, scan(person()), device="tab-A")
    assert record["offline"] is False
