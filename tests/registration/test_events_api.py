"""Editing an event and its programme; every endpoint is published in the OpenAPI document."""

from __future__ import annotations

import pytest

from tests.conftest import auth_headers
from tests.registration.support import registration_api

LECTURE = {
    "day": "2026-10-08",
    "starts_at": "10:00",
    "ends_at": "11:30",
    "title": "Госпаблики",
    "kind": "lecture",
    "academic_hours": 2,
}


@pytest.fixture
def api(app_factory, db_backend):
    return registration_api(app_factory)


def test_event_with_programme_and_participants(api):
    event_id = api.event()
    session = api.post(f"/events/{event_id}/sessions", {**LECTURE, "day": "2026-10-07"})
    assert session.status_code == 201, session.json
    participant = api.participant(
        event_id, surname="Ёлкин", first_name="Пётр", email=" Elkin@MFC.example.ru "
    )
    assert len(participant["token"]) >= 43  # 256 bits, URL-safe
    read = api.get(f"/events/{event_id}").json
    assert (read["participants_count"], read["academic_hours"]) == (1, 2)


def test_event_counts_who_is_expected(api):
    event_id = api.event()
    ids = [
        api.participant(event_id, surname="Петров", first_name="Иван", email=f"p{n}@x.example.ru")["id"]
        for n in range(3)
    ]
    assert api.post(f"/events/{event_id}/participants/{ids[0]}/cancel").status_code == 200
    event = api.get(f"/events/{event_id}").json
    assert (event["participants_count"], event["active_participants_count"]) == (3, 2)


def test_a_session_outside_the_event_dates_is_refused(api):
    event_id = api.event()
    response = api.post(f"/events/{event_id}/sessions", {**LECTURE, "day": "2026-10-10"})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "day"


def test_partial_update_of_an_event(api):
    event_id = api.event()
    updated = api.patch(f"/events/{event_id}", {"registration_open": True, "place": " Сочи, Курортный пр. "})
    assert updated.status_code == 200, updated.json
    assert (updated.json["registration_open"], updated.json["place"]) == (True, "Сочи, Курортный пр.")
    assert updated.json["title"] == "Цифровые коммуникации"  # untouched
    assert api.get(f"/events/{event_id}").json["registration_open"] is True


def test_event_dates_must_stay_in_order_and_hold_the_programme(api):
    event_id = api.event()
    wrong = api.patch(f"/events/{event_id}", {"ends_on": "2026-10-06"})
    assert wrong.status_code == 422
    assert (wrong.json["errors"][0]["field"], wrong.json["errors"][0]["code"]) == (
        "ends_on",
        "dates_in_order",
    )
    assert api.post(f"/events/{event_id}/sessions", LECTURE).status_code == 201
    shrunk = api.patch(f"/events/{event_id}", {"ends_on": "2026-10-07"})
    assert shrunk.status_code == 422
    assert shrunk.json["errors"][0]["code"] == "sessions_outside"
    assert api.patch(f"/events/{event_id}", {"starts_on": "2026-10-08"}).status_code == 200


def test_event_fields_cannot_be_nulled_and_slugs_stay_unique(api):
    event_id = api.event()
    api.event(slug="taken")
    assert api.patch(f"/events/{event_id}", {"title": None}).status_code == 422
    conflict = api.patch(f"/events/{event_id}", {"slug": "taken"})
    assert conflict.status_code == 409 and conflict.json["errors"][0]["field"] == "slug"
    assert api.patch("/events/999", {"title": "Нет такого"}).status_code == 404


def test_edit_and_delete_a_session(api):
    event_id = api.event()
    session_id = api.post(f"/events/{event_id}/sessions", LECTURE).json["id"]
    edited = api.patch(f"/events/{event_id}/sessions/{session_id}", {"room": "Зал 2", "ends_at": "12:00"})
    assert edited.status_code == 200, edited.json
    assert (edited.json["room"], edited.json["ends_at"]) == ("Зал 2", "12:00:00")
    assert edited.json["title"] == "Госпаблики"  # untouched
    assert api.delete(f"/events/{event_id}/sessions/{session_id}").status_code == 204
    assert api.get(f"/events/{event_id}/sessions").json["items"] == []
    assert api.delete(f"/events/{event_id}/sessions/{session_id}").status_code == 404


def test_an_edited_session_stays_within_the_event_and_ends_after_it_starts(api):
    event_id = api.event()
    session_id = api.post(f"/events/{event_id}/sessions", LECTURE).json["id"]
    outside = api.patch(f"/events/{event_id}/sessions/{session_id}", {"day": "2026-10-10"})
    assert outside.status_code == 422 and outside.json["errors"][0]["field"] == "day"
    backwards = api.patch(f"/events/{event_id}/sessions/{session_id}", {"starts_at": "12:00"})
    assert backwards.status_code == 422
    assert backwards.json["errors"][0]["code"] == "times_in_order"
    both = api.patch(f"/events/{event_id}/sessions/{session_id}", {"starts_at": "11:00", "ends_at": "10:00"})
    assert both.status_code == 422
    assert api.get(f"/events/{event_id}/sessions").json["items"][0]["starts_at"] == "10:00:00"  # unchanged


def test_a_session_of_another_event_is_not_found(api):
    first, second = api.event(), api.event(slug="other")
    session_id = api.post(f"/events/{first}/sessions", LECTURE).json["id"]
    assert api.patch(f"/events/{second}/sessions/{session_id}", {"room": "Зал 3"}).status_code == 404
    assert api.delete(f"/events/{second}/sessions/{session_id}").status_code == 404


def test_every_endpoint_is_in_the_openapi_document(app_factory):
    paths = app_factory("registration").test_client().get("/openapi.json").json["paths"]
    expected = {
        "/api/v1/events": {"get", "post"},
        "/api/v1/events/{event_id}": {"get", "patch"},
        "/api/v1/events/{event_id}/sessions": {"get", "post"},
        "/api/v1/events/{event_id}/sessions/{session_id}": {"patch", "delete"},
        "/api/v1/events/{event_id}/participants": {"get", "post"},
        "/api/v1/events/{event_id}/participants/{participant_id}": {"get", "patch"},
        "/api/v1/events/{event_id}/participants/{participant_id}/cancel": {"post"},
        "/api/v1/events/{event_id}/participants/{participant_id}/restore": {"post"},
        "/api/v1/events/{event_id}/participants/search": {"get"},
        "/api/v1/events/{event_id}/participants/lookup": {"get"},
        "/api/v1/events/{event_id}/participants/export": {"get"},
        "/api/v1/events/{event_id}/registrations": {"post"},
        "/api/v1/events/{event_id}/badges.pdf": {"get"},
        "/api/v1/participants/by-token/{token}": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths.get(path, {})), path


def test_the_api_refuses_calls_without_the_service_token(app_factory):
    client = app_factory("registration").test_client()
    assert client.get("/api/v1/events/1/participants/search?q=x").status_code == 401
    assert client.get("/api/v1/participants/by-token/whatever").status_code == 401
    assert client.get("/api/v1/events", headers=auth_headers()).status_code == 200
