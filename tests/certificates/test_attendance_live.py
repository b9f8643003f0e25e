"""Attendance against the real registration service: session checks, academic hours, registration down."""

from __future__ import annotations

import pytest
import requests

from tests.certificates.support import nonce, person, scan, staff_headers
from tests.conftest import auth_headers

EVENT = {
    "slug": "mfc-2026",
    "title": "Цифровые коммуникации",
    "organiser": "ЮРИУ РАНХиГС",
    "place": "Сочи",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-08",
}


def lecture(day: str, start: str, hours: int, title: str) -> dict:
    return {
        "day": day,
        "starts_at": start,
        "ends_at": f"{int(start[:2]) + 1}:30",
        "title": title,
        "kind": "lecture",
        "academic_hours": hours,
    }


@pytest.fixture
def programme(live_system, monkeypatch):
    """An event with three sessions (2 + 4 hours on day one, 3 on day two) and another event's session."""
    registration = live_system.urls["registration"]
    monkeypatch.setenv("REGISTRATION_URL", registration)

    def post(path, body):
        response = requests.post(
            f"{registration}/api/v1{path}", json=body, headers=auth_headers(), timeout=10
        )
        assert response.status_code == 201, response.text
        return response.json()

    event = post("/events", EVENT)
    other = post("/events", dict(EVENT, slug="other-2026"))
    sessions = [
        post(f"/events/{event['id']}/sessions", lecture(*args))
        for args in [
            ("2026-10-07", "10:00", 2, "Госпаблики"),
            ("2026-10-07", "12:00", 4, "Тренинг"),
            ("2026-10-08", "10:00", 3, "Экспертная сессия"),
        ]
    ]
    foreign = post(f"/events/{other['id']}/sessions", lecture("2026-10-07", "10:00", 8, "Чужая"))
    return {
        "event_id": event["id"],
        "sessions": [s["id"] for s in sessions],
        "foreign": foreign["id"],
        "certificates": live_system.urls["certificates"],
    }


def check_in(p, pid, day, session_id=None, status="confirmed"):
    body = scan(
        person(pid, event_id=p["event_id"], status=status, name=f"Участник {pid}"),
        day=day,
        session_id=session_id,
    )
    return requests.post(
        f"{p['certificates']}/api/v1/events/{p['event_id']}/checkins",
        json=body,
        headers=staff_headers(),
        timeout=10,
    )


def test_academic_hours_per_participant_from_the_programme(programme, db_backend):
    p = programme
    s1, s2, s3 = p["sessions"]
    for pid, day, session_id in [
        (1, "2026-10-07", None),
        (1, "2026-10-07", s1),
        (1, "2026-10-07", s2),
        (1, "2026-10-08", s3),
        (2, "2026-10-07", s1),
        (3, "2026-10-08", None),
    ]:
        assert check_in(p, pid, day, session_id).json()["outcome"] == "checked_in"
    assert check_in(p, 2, "2026-10-07", s1).json()["outcome"] == "already_checked_in"
    assert check_in(p, 4, "2026-10-07", s2, status="cancelled").json()["outcome"] == "cancelled"
    # Participant 2's check-in to session 2 is undone: it must not count.
    mistaken = check_in(p, 2, "2026-10-07", s2).json()
    undo = requests.post(
        f"{p['certificates']}/api/v1/checkins/{mistaken['id']}/undo",
        json={"nonce": nonce()},
        headers=staff_headers(),
        timeout=10,
    )
    assert undo.status_code == 201
    bulk = requests.post(
        f"{p['certificates']}/api/v1/events/{p['event_id']}/attendance/bulk",
        json={
            "nonce": nonce(),
            "day": "2026-10-08",
            "session_id": s3,
            "participant_ids": [1, 3],
            "participants": [
                person(1, p["event_id"], name="Участник 1"),
                person(3, p["event_id"], name="Участник 3"),
            ],
        },
        headers=staff_headers(),
        timeout=10,
    )
    assert bulk.json() == {"created": 1, "already": 1, "skipped": []}

    response = requests.get(
        f"{p['certificates']}/api/v1/events/{p['event_id']}/attendance", headers=auth_headers(), timeout=10
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(s["id"], s["academic_hours"], s["checked_in"]) for s in body["sessions"]] == [
        (s1, 2, 2),
        (s2, 4, 1),
        (s3, 3, 2),
    ]
    assert body["days"] == [{"day": "2026-10-07", "present": 2}, {"day": "2026-10-08", "present": 2}]
    by_id = {row["participant_id"]: row for row in body["participants"]}
    assert set(by_id) == {1, 2, 3}
    assert (by_id[1]["session_ids"], by_id[1]["days"], by_id[1]["academic_hours"]) == (
        [s1, s2, s3],
        ["2026-10-07", "2026-10-08"],
        9,
    )
    assert (by_id[2]["session_ids"], by_id[2]["academic_hours"]) == ([s1], 2)
    assert (by_id[3]["session_ids"], by_id[3]["days"], by_id[3]["academic_hours"]) == (
        [s3],
        ["2026-10-08"],
        3,
    )
    assert by_id[3]["full_name"] == "Участник 3"


def test_session_of_another_event_or_day(programme, db_backend):
    p = programme
    assert check_in(p, 1, "2026-10-07", p["foreign"]).json()["outcome"] == "not_on_list"
    assert check_in(p, 1, "2026-10-07", 987654).json()["outcome"] == "not_on_list"
    wrong_day = check_in(p, 1, "2026-10-08", p["sessions"][0])
    assert wrong_day.status_code == 422 and wrong_day.json()["errors"][0]["field"] == "day"
    bulk = requests.post(
        f"{p['certificates']}/api/v1/events/{p['event_id']}/attendance/bulk",
        json={
            "nonce": nonce(),
            "day": "2026-10-07",
            "session_id": p["foreign"],
            "participant_ids": [1],
            "participants": [person(1, p["event_id"])],
        },
        headers=staff_headers(),
        timeout=10,
    )
    assert bulk.status_code == 422


def test_registration_down(programme, live_system):
    p = programme
    s1, _s2, _ = p["sessions"]
    assert check_in(p, 1, "2026-10-07", s1).json()["outcome"] == "checked_in"  # programme now cached
    live_system.stop("registration")

    response = requests.get(
        f"{p['certificates']}/api/v1/events/{p['event_id']}/attendance", headers=auth_headers(), timeout=10
    )
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/problem+json")
    # The door and an already known session keep working; a session never seen cannot be checked.
    assert check_in(p, 2, "2026-10-07").json()["outcome"] == "checked_in"
    assert check_in(p, 2, "2026-10-07", s1).json()["outcome"] == "checked_in"
    assert check_in(p, 2, "2026-10-07", 987654).status_code == 503
    # A retry of a stored scan is answered without registration.
    body = scan(person(3, p["event_id"]), session_id=s1)
    first = requests.post(
        f"{p['certificates']}/api/v1/events/{p['event_id']}/checkins",
        json=body,
        headers=staff_headers(),
        timeout=10,
    )
    again = requests.post(
        f"{p['certificates']}/api/v1/events/{p['event_id']}/checkins",
        json=body,
        headers=staff_headers(),
        timeout=10,
    )
    assert (first.status_code, again.status_code, again.json()["replayed"]) == (201, 200, True)
