"""One voice: every refusal the service answers is worded from the one catalog, in Russian unless the
gateway asks for English."""

from __future__ import annotations

import io
import re

import pytest

from tests.registration.support import ANNA, EVENT, csv_bytes, registration_api

CYRILLIC = re.compile("[А-Яа-яЁё]")


def _import(api, event_id, data: bytes, **fields):
    form = {"file": (io.BytesIO(data), "participants.csv"), **fields}
    return api.post(f"/events/{event_id}/imports/commit", data=form, content_type="multipart/form-data")


ONE_ROW = csv_bytes([["Фамилия", "Имя", "E-mail"], ["Ким", "Ли", "kim@x.example.ru"]])

#: (what is asked, how, status, the English detail)
REFUSALS = [
    ("unknown event", lambda api, e: api.get("/events/999"), 404, "Event not found."),
    (
        "participant of no event",
        lambda api, e: api.get(f"/events/{e}/participants/999"),
        404,
        "No such participant in this event.",
    ),
    (
        "unknown session",
        lambda api, e: api.patch(f"/events/{e}/sessions/999", {"room": "2"}),
        404,
        "No such session in this event's programme.",
    ),
    (
        "slug taken",
        lambda api, e: api.post("/events", EVENT),
        409,
        "This slug is already used by another event.",
    ),
    (
        "registration closed",
        lambda api, e: api.post(f"/events/{e}/registrations", {**ANNA, "consent": True}),
        403,
        "Registration for this event is closed.",
    ),
    (
        "e-mail registered",
        lambda api, e: api.post(f"/events/{e}/participants", {**ANNA, "email": "PETROV@x.example.ru"}),
        409,
        "A participant with this e-mail is already registered for this event.",
    ),
    (
        "bad fields",
        lambda api, e: api.post(f"/events/{e}/participants", {**ANNA, "surname": " ", "snils": "1"}),
        422,
        "The request has errors: correct the marked fields.",
    ),
    (
        "unknown code",
        lambda api, e: api.get(f"/events/{e}/participants/lookup", query_string={"code": "ZZZZZZ"}),
        404,
        "No participant has this code.",
    ),
    ("unknown token", lambda api, e: api.get("/participants/by-token/nope"), 404, "This link is not valid."),
    (
        "nobody for badges",
        lambda api, e: api.get(f"/events/{e}/badges.pdf", query_string={"ids": "999"}),
        404,
        "There is nobody to print badges for.",
    ),
    ("empty file", lambda api, e: _import(api, e, b""), 422, "The file is empty."),
    (
        "unknown row",
        lambda api, e: _import(api, e, ONE_ROW, accepted_rows="[7]"),
        422,
        "Rows 7 hold no participant in this file.",
    ),
    (
        "bad mapping",
        lambda api, e: _import(api, e, ONE_ROW, mapping="[1, 2]"),
        422,
        "The request has errors: correct the marked fields.",
    ),
]


@pytest.fixture
def api_with_event(app_factory, db_backend):
    api = registration_api(app_factory)
    event_id = api.event()
    api.participant(event_id, **{**ANNA, "email": "petrov@x.example.ru"})
    return api, event_id


@pytest.mark.parametrize(("what", "ask", "status", "english"), REFUSALS, ids=[case[0] for case in REFUSALS])
def test_refusals_are_in_russian_by_default_and_in_english_when_asked(
    api_with_event, what, ask, status, english
):
    api, event_id = api_with_event

    russian = ask(api, event_id)
    assert russian.status_code == status, russian.json
    assert russian.mimetype == "application/problem+json"
    assert CYRILLIC.search(russian.json["detail"]), russian.json
    for error in russian.json.get("errors", []):
        assert CYRILLIC.search(error["message"]), error

    answer = ask(api.in_language("en"), event_id)
    assert answer.status_code == status
    assert answer.json["detail"] == english
    assert answer.json["detail"] != russian.json["detail"]
