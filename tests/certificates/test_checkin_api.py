"""The check-in API on both databases: every outcome is stored, retries are replays, undo is logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.certificates.models import CheckIn
from tests.certificates.support import DAY, EVENT_ID, nonce, person, scan, staff_headers
from tests.conftest import auth_headers


@pytest.fixture
def certificates(app_factory, db_backend, scan_event):
    app = app_factory("certificates")
    app.config["REGISTRATION_URL"] = scan_event  # it asks registration for the event's days
    return app


def post_scan(client, body, event_id=EVENT_ID, **headers):
    return client.post(f"/api/v1/events/{event_id}/checkins", json=body, headers=staff_headers(**headers))


def rows(app) -> list[CheckIn]:
    with Session(app.extensions["db_engine"]) as session:
        return list(session.scalars(select(CheckIn).order_by(CheckIn.id)))


def test_checked_in_then_already_checked_in_with_when_and_by_whom(certificates):
    client = certificates.test_client()
    first = post_scan(client, scan(person()), staff="petrova (checkin)", device="tablet-3")
    assert first.status_code == 201, first.json
    body = first.json
    assert body["outcome"] == "checked_in" and body["replayed"] is False and body["previous"] is None
    assert (body["participant_id"], body["full_name"], body["staff"], body["device"]) == (
        7,
        "Ёлкин Пётр",
        "petrova (checkin)",
        "tablet-3",
    )
    assert body["received_at"].endswith("Z") and body["scanned_at"] == "2026-10-07T06:01:02Z"

    second = post_scan(client, scan(person()), staff="ivanov (checkin)")
    assert second.status_code == 201
    assert second.json["outcome"] == "already_checked_in"
    assert second.json["previous"]["id"] == body["id"]
    assert second.json["previous"]["received_at"] == body["received_at"]
    assert second.json["previous"]["staff"] == "petrova (checkin)"


@pytest.mark.parametrize(
    "participant, outcome",
    [
        (None, "unknown_code"),
        (person(status="cancelled"), "cancelled"),
        (person(event_id=EVENT_ID + 1), "not_on_list"),
    ],
)
def test_failed_scans_are_stored_with_their_reason(certificates, participant, outcome):
    client = certificates.test_client()
    response = post_scan(client, scan(participant, raw_code="ZZZ999"))
    assert response.status_code == 201, response.json
    assert response.json["outcome"] == outcome
    [stored] = rows(certificates)
    assert (stored.outcome.value, stored.raw_code, stored.staff, stored.device) == (
        outcome,
        "ZZZ999",
        "petrova (checkin)",
        "tablet-3",
    )
    assert stored.scanned_at is not None and stored.received_at is not None
    log = client.get(f"/api/v1/events/{EVENT_ID}/checkins?day={DAY}", headers=auth_headers()).json["items"]
    assert [item["outcome"] for item in log] == [outcome]
    # A failed scan does not count, nor does it block a later good one.
    counters = client.get(f"/api/v1/events/{EVENT_ID}/attendance/counters?day={DAY}", headers=auth_headers())
    assert counters.json == {"checked_in": 0}


def test_same_nonce_is_a_replay_of_the_original(certificates):
    client = certificates.test_client()
    body = scan(person())
    first = post_scan(client, body)
    again = post_scan(client, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["replayed"] is True
    assert {k: v for k, v in again.json.items() if k != "replayed"} == {
        k: v for k, v in first.json.items() if k != "replayed"
    }
    # Even a replay of a failed scan creates nothing.
    unknown = scan(None)
    assert post_scan(client, unknown).status_code == 201
    assert post_scan(client, unknown).json["replayed"] is True
    assert len(rows(certificates)) == 2


def test_door_and_days_are_counted_apart(certificates):
    client = certificates.test_client()
    assert post_scan(client, scan(person(1))).json["outcome"] == "checked_in"
    assert post_scan(client, scan(person(2))).json["outcome"] == "checked_in"
    assert post_scan(client, scan(person(1), day="2026-10-08")).json["outcome"] == "checked_in"
    assert post_scan(client, scan(None)).json["outcome"] == "unknown_code"

    def count(day):
        return client.get(
            f"/api/v1/events/{EVENT_ID}/attendance/counters?day={day}&session_id=", headers=auth_headers()
        ).json["checked_in"]

    assert (count("2026-10-07"), count("2026-10-08"), count("2026-10-09")) == (2, 1, 0)
    log = client.get(f"/api/v1/events/{EVENT_ID}/checkins?day=2026-10-07&limit=2", headers=auth_headers())
    assert [item["outcome"] for item in log.json["items"]] == ["unknown_code", "checked_in"]
    assert log.json["items"][1]["participant_id"] == 2


def test_undo_is_logged_idempotent_and_allows_a_new_check_in(certificates):
    client = certificates.test_client()
    checkin = post_scan(client, scan(person())).json
    undo_body = {"nonce": nonce(), "reason": "wrong person"}
    undo = client.post(
        f"/api/v1/checkins/{checkin['id']}/undo",
        json=undo_body,
        headers=staff_headers(staff="lead (organiser)"),
    )
    assert undo.status_code == 201, undo.json
    assert (undo.json["outcome"], undo.json["reverses_id"], undo.json["reason"]) == (
        "undo",
        checkin["id"],
        "wrong person",
    )
    again = client.post(f"/api/v1/checkins/{checkin['id']}/undo", json=undo_body, headers=staff_headers())
    assert (again.status_code, again.json["id"], again.json["replayed"]) == (200, undo.json["id"], True)

    twice = client.post(
        f"/api/v1/checkins/{checkin['id']}/undo", json={"nonce": nonce()}, headers=staff_headers()
    )
    assert twice.status_code == 409 and twice.mimetype == "application/problem+json"
    not_a_checkin = client.post(
        f"/api/v1/checkins/{undo.json['id']}/undo", json={"nonce": nonce()}, headers=staff_headers()
    )
    assert not_a_checkin.status_code == 409
    missing = client.post("/api/v1/checkins/99999/undo", json={"nonce": nonce()}, headers=staff_headers())
    assert missing.status_code == 404

    counters = f"/api/v1/events/{EVENT_ID}/attendance/counters?day={DAY}"
    assert client.get(counters, headers=auth_headers()).json == {"checked_in": 0}
    renewed = post_scan(client, scan(person()))
    assert renewed.json["outcome"] == "checked_in"
    assert client.get(counters, headers=auth_headers()).json == {"checked_in": 1}

    stored = {r.id: r for r in rows(certificates)}
    assert len(stored) == 3  # nothing deleted: original, undo, new check-in
    original = stored[checkin["id"]]
    assert original.reversed_at is not None and original.reversed_by == "lead (organiser)"
    log = client.get(f"/api/v1/events/{EVENT_ID}/checkins?day={DAY}", headers=auth_headers()).json["items"]
    assert [item["outcome"] for item in log] == ["checked_in", "undo", "checked_in"]
    assert log[2]["reversed_at"] is not None


def test_a_failed_scan_cannot_be_undone(certificates):
    client = certificates.test_client()
    failed = post_scan(client, scan(None)).json
    response = client.post(
        f"/api/v1/checkins/{failed['id']}/undo", json={"nonce": nonce()}, headers=staff_headers()
    )
    assert response.status_code == 409
    assert rows(certificates)[0].reversed_at is None


def test_bulk_marks_a_room_and_a_retry_is_safe(certificates):
    client = certificates.test_client()
    assert post_scan(client, scan(person(1))).json["outcome"] == "checked_in"
    people = [person(1), person(2), person(3), person(4, status="cancelled"), person(5, event_id=99)]
    body = {
        "nonce": nonce(),
        "day": DAY,
        "session_id": None,
        "participant_ids": [1, 2, 3, 4, 5, 6, 2],
        "participants": people,
    }
    url = f"/api/v1/events/{EVENT_ID}/attendance/bulk"
    first = client.post(url, json=body, headers=staff_headers(staff="lead (organiser)"))
    assert first.status_code == 200, first.json
    assert first.json == {"created": 2, "already": 1, "skipped": [4, 5, 6]}
    retry = client.post(url, json=body, headers=staff_headers())
    assert retry.json == {"created": 0, "already": 3, "skipped": [4, 5, 6]}
    assert client.get(
        f"/api/v1/events/{EVENT_ID}/attendance/counters?day={DAY}", headers=auth_headers()
    ).json == {"checked_in": 3}
    assert len(rows(certificates)) == 3
    assert {r.staff for r in rows(certificates)[1:]} == {"lead (organiser)"}


def test_a_day_outside_the_event_is_refused_and_nothing_is_stored(certificates):
    client = certificates.test_client()
    for day in ("2026-10-06", "2026-10-10", "1970-01-01", "9999-12-31"):
        response = post_scan(client, scan(person(), day=day))
        assert response.status_code == 422, response.json
        [error] = response.json["errors"]
        assert (error["field"], error["code"]) == ("day", "not_event_day")
        assert "не день мероприятия" in error["message"] and "7 окт. 2026" in error["message"]
    bulk = client.post(
        f"/api/v1/events/{EVENT_ID}/attendance/bulk",
        json={
            "day": "2026-11-01",
            "session_id": None,
            "participant_ids": [7],
            "participants": [person()],
            "nonce": nonce(),
        },
        headers=staff_headers(),
    )
    assert bulk.status_code == 422 and bulk.json["errors"][0]["code"] == "not_event_day"
    assert rows(certificates) == []
    assert post_scan(client, scan(person()), event_id=EVENT_ID + 5).status_code == 404
    assert post_scan(client, scan(person(), day="2026-10-09")).status_code == 201  # the last day is in


@pytest.mark.parametrize(
    "change",
    [
        {"nonce": "short"},
        {"nonce": "x" * 65},
        {"day": "07.10.2026"},
        {"scanned_at": None},
        {"session_id": 0},
        {"participant": {"id": 1, "event_id": 1, "status": "ghost", "full_name": "X"}},
    ],
)
def test_bad_input_is_a_problem_with_fields(app_factory, change):
    client = app_factory("certificates").test_client()
    response = post_scan(client, {**scan(person()), **change})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"]


def test_an_overlong_scanned_code_is_kept_shortened(certificates):
    response = post_scan(certificates.test_client(), scan(None, raw_code="https://x.example/" + "y" * 400))
    assert response.status_code == 201 and response.json["outcome"] == "unknown_code"
    assert len(response.json["raw_code"]) == 200


def test_no_service_token_no_check_in(app_factory):
    client = app_factory("certificates").test_client()
    response = client.post(f"/api/v1/events/{EVENT_ID}/checkins", json=scan(person()))
    assert response.status_code == 401
    assert client.get(f"/api/v1/events/{EVENT_ID}/attendance/counters?day={DAY}").status_code == 401


def test_contract_is_published(app_factory):
    paths = app_factory("certificates").test_client().get("/openapi.json").json["paths"]
    for path in (
        "/api/v1/events/{event_id}/checkins",
        "/api/v1/checkins/{checkin_id}/undo",
        "/api/v1/events/{event_id}/attendance/counters",
        "/api/v1/events/{event_id}/attendance/bulk",
        "/api/v1/events/{event_id}/attendance",
    ):
        assert path in paths
