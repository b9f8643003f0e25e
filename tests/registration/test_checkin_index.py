"""The compact list a check-in tablet keeps for offline search and scans: what it holds, what it leaves
out, and its version, which answers 304 until a participant changes."""

from __future__ import annotations

import hashlib

import pytest

from services.registration.text import fold_for_search
from tests.registration.support import registration_api


@pytest.fixture
def course(app_factory, db_backend):
    api = registration_api(app_factory)
    event_id = api.event()
    fyodorova = api.participant(
        event_id,
        surname="Фёдорова",
        first_name="Анна",
        patronymic="Сергеевна",
        email="fyodorova@mfc.example.ru",
        phone="+7 900 000-00-00",
        organisation="МФЦ «Мои документы»",
        region_code="61",
        gender="female",
    )
    cancelled = api.participant(event_id, surname="Абрамов", first_name="Олег", email="a@example.ru")
    api.post(f"/events/{event_id}/participants/{cancelled['id']}/cancel")
    return api, event_id, fyodorova, cancelled


def index(api, event_id, etag=None):
    return api.get(
        f"/events/{event_id}/participants/checkin-index", headers={"If-None-Match": etag} if etag else None
    )


def test_the_index_holds_what_the_screen_shows_and_no_contact_data(course):
    api, event_id, fyodorova, _ = course
    answer = index(api, event_id)
    assert answer.status_code == 200
    body = answer.json
    assert body["fields"] == ["id", "name", "search", "code", "token_hash", "status", "gender", "meta"]
    rows = [dict(zip(body["fields"], item, strict=True)) for item in body["items"]]
    assert [r["name"] for r in rows] == ["Абрамов Олег", "Фёдорова Анна Сергеевна"]  # the list's order
    abramov, anna = rows
    assert abramov["status"] == "cancelled"
    assert anna == {
        "id": fyodorova["id"],
        "name": "Фёдорова Анна Сергеевна",
        "search": " "
        + fold_for_search(
            f"Фёдорова Анна Сергеевна МФЦ «Мои документы» Ростовская область {fyodorova['code']}"
        ),
        "code": fyodorova["code"],
        "token_hash": hashlib.sha256(fyodorova["token"].encode()).hexdigest()[:16],
        "status": "registered",
        "gender": "female",
        "meta": "МФЦ «Мои документы» · Ростовская область",
    }
    assert anna["search"].startswith(" федорова анна сергеевна мфц мои документы")
    text = answer.get_data(as_text=True)
    for private in ("fyodorova@", "900", fyodorova["token"]):
        assert private not in text


def test_the_version_answers_304_until_a_participant_changes(course):
    api, event_id, fyodorova, _ = course
    first = index(api, event_id)
    etag = first.headers["ETag"]
    assert etag == f'"{first.json["version"]}"'
    assert index(api, event_id, etag).status_code == 304
    assert index(api, event_id, "W/" + etag).status_code == 304  # a compressing proxy weakens it
    api.patch(f"/events/{event_id}/participants/{fyodorova['id']}", {"organisation": "МФЦ Ростова"})
    changed = index(api, event_id, etag)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    api.participant(event_id, surname="Петров", first_name="Пётр", email="p@example.ru")
    assert index(api, event_id, changed.headers["ETag"]).status_code == 200


def test_an_unknown_event_has_no_index(app_factory, db_backend):
    assert index(registration_api(app_factory), 999_999).status_code == 404
