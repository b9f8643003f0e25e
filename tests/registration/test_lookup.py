"""What a scanner or a person types at the door (code, token, personal-page URL) and the personal link."""

from __future__ import annotations

import pytest

from services.registration.search import token_in
from tests.registration.support import registration_api


@pytest.fixture
def anna(app_factory, db_backend):
    api = registration_api(app_factory)
    event_id = api.event()
    person = api.participant(
        event_id, surname="Иванова", first_name="Анна", email="anna@mfc.example.ru", region_code="61"
    )
    return api, event_id, person


def lookup(api, event_id, code):
    return api.get(f"/events/{event_id}/participants/lookup", query_string={"code": code})


def test_found_by_code_in_any_case(anna):
    api, event_id, person = anna
    for typed in (person["code"], person["code"].lower(), f"  {person['code']} "):
        found = lookup(api, event_id, typed)
        assert found.status_code == 200, typed
        assert (found.json["id"], found.json["event_id"]) == (person["id"], event_id)
        assert found.json["status"] == "registered"
        assert found.json["region_name"] == "Ростовская область"


def test_found_by_token_and_by_the_personal_page_url_on_the_badge(anna):
    api, event_id, person = anna
    token = person["token"]
    for typed in (
        token,
        f"http://127.0.0.1:8000/p/{token}",
        f"https://courses.example.ru/p/{token}/",
        f"https://courses.example.ru/p/{token}?utm_source=badge",
    ):
        found = lookup(api, event_id, typed)
        assert found.status_code == 200, typed
        assert found.json["id"] == person["id"]
        assert "token" not in found.json  # the check-in screen has no use for the key to the personal page


def test_unknown_codes_and_other_events_are_not_found(anna):
    api, event_id, person = anna
    other = api.event(slug="other")
    for typed in ("ZZZZZZ", "http://127.0.0.1:8000/p/not-a-token", person["token"][:-1], "%"):
        assert lookup(api, event_id, typed).status_code == 404, typed
    assert lookup(api, other, person["code"]).status_code == 404
    assert lookup(api, other, person["token"]).status_code == 404
    assert lookup(api, event_id, "").status_code == 422


def test_a_cancelled_participant_is_recognised_as_cancelled(anna):
    api, event_id, person = anna
    api.post(f"/events/{event_id}/participants/{person['id']}/cancel")
    found = lookup(api, event_id, person["code"])
    assert found.status_code == 200 and found.json["status"] == "cancelled"


def test_the_personal_token_opens_the_participant_and_their_event(anna):
    api, event_id, person = anna
    found = api.get(f"/participants/by-token/{person['token']}")
    assert found.status_code == 200
    assert found.json["participant"]["id"] == person["id"]
    assert found.json["event"]["id"] == event_id
    assert found.json["event"]["title"] == "Цифровые коммуникации"


def test_a_wrong_token_says_nothing_about_why(anna):
    api, _event_id, person = anna
    answers = [
        api.get(f"/participants/by-token/{token}")
        for token in (
            person["token"][:-1] + ("A" if person["token"][-1] != "A" else "B"),
            "x",
            person["code"],
        )
    ]
    assert {answer.status_code for answer in answers} == {404}
    assert len({answer.json["detail"] for answer in answers}) == 1


@pytest.mark.parametrize(
    ("typed", "token"),
    [
        ("http://127.0.0.1:8000/p/abc_DEF-123", "abc_DEF-123"),
        ("https://x.example/p/abc/", "abc"),
        ("https://x.example/p/abc#top", "abc"),
        ("ABC234", None),
        ("https://x.example/q/abc", None),
    ],
)
def test_token_in_a_url(typed, token):
    assert token_in(typed) == token
