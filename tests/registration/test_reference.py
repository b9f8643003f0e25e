"""Reference data for the gateway's forms, and the API refusing what a form would offer wrongly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import services.registration.regions as regions_module
from tests.registration.support import ANNA, EVENT, LECTURE, VALID_SNILS, registration_api

REGIONS_JSON = Path(regions_module.__file__).with_name("data") / "regions.json"


@pytest.fixture
def api(app_factory):
    return registration_api(app_factory)


def test_regions_are_the_reference_list_in_its_own_order(api):
    response = api.get("/regions")
    assert response.status_code == 200
    expected = [{"code": item["code"], "name": item["name"]} for item in json.loads(REGIONS_JSON.read_text())]
    assert response.json == {"items": expected}
    assert len(expected) == 89
    assert {"code": "16", "name": "Республика Татарстан"} in response.json["items"]
    assert "max-age" in response.headers["Cache-Control"]


def test_reference_data_needs_the_service_token(api):
    assert api.client.get("/api/v1/regions").status_code == 401
    assert api.client.get("/api/v1/reference").status_code == 401


def test_the_reference_lists_every_value_a_form_may_offer(api):
    reference = api.get("/reference").json
    assert reference["regions"] == api.get("/regions").json["items"]
    assert reference["genders"] == ["male", "female"]
    assert reference["participant_statuses"] == ["registered", "confirmed", "cancelled"]
    assert reference["session_kinds"][0] == "lecture" and "other" in reference["session_kinds"]
    assert reference["education_levels"] == ["ВО", "СПО"]
    assert reference["programme_kinds"] == ["ПК", "ПП"]


def test_openapi_publishes_the_allowed_values(api):
    document = api.client.get("/openapi.json").json
    assert {"/api/v1/regions", "/api/v1/reference"} <= set(document["paths"])
    text = json.dumps(document, ensure_ascii=False)
    for values in (["male", "female"], ["ВО", "СПО"], ["ПК", "ПП"]):
        assert json.dumps(values, ensure_ascii=False) in text, values


def test_every_listed_value_is_accepted(api):
    reference = api.get("/reference").json
    for number, kind in enumerate(reference["programme_kinds"]):
        api.event(slug=f"kind-{number}", programme_kind=kind)
    event_id = api.event()
    for kind in reference["session_kinds"]:
        assert api.post(f"/events/{event_id}/sessions", {**LECTURE, "kind": kind}).status_code == 201, kind
    genders, levels = reference["genders"], reference["education_levels"]
    for number, status in enumerate(reference["participant_statuses"]):
        gender, level = genders[number % len(genders)], levels[number % len(levels)]
        person = api.participant(
            event_id,
            **{**ANNA, "email": f"p{number}@x.example.ru"},
            gender=gender,
            education_level=level,
            status=status,
            region_code=reference["regions"][number]["code"],
        )
        assert (person["gender"], person["education_level"], person["status"]) == (gender, level, status)


# What the gateway's forms checked themselves until now: the service refuses it with a message per field.
REFUSED = [
    ("participant", {"gender": "м"}, "gender", "enum", "Недопустимое значение"),
    ("participant", {"status": "invited"}, "status", "enum", "Недопустимое значение"),
    ("participant", {"education_level": "бакалавр"}, "education_level", "enum", "ВО"),
    ("participant", {"snils": "112-233-445 94"}, "snils", "snils_checksum", "Контрольное число СНИЛС"),
    ("participant", {"snils": "112-233"}, "snils", "snils_format", "11 цифр"),
    ("participant", {"citizenship": "RU"}, "citizenship", "citizenship_format", "ОКСМ"),
    ("participant", {"region_code": "99"}, "region_code", "unknown_region", "«99»"),
    ("participant", {"email": "anna@"}, "email", "invalid_email", "name@example.ru"),
    ("session", {"kind": "party"}, "kind", "enum", "Недопустимое значение"),
    ("session", {"academic_hours": 25}, "academic_hours", "less_than_equal", "24"),
    ("session", {"ends_at": "09:00"}, "ends_at", "times_in_order", "позже"),
    ("event", {"programme_kind": "ДПО"}, "programme_kind", "literal_error", "ПК"),
    ("event", {"slug": "Курс 2026"}, "slug", "slug_format", "латинские"),
    ("event", {"ends_on": "2026-10-01"}, "ends_on", "dates_in_order", "раньше"),
]


@pytest.mark.parametrize(
    ("what", "change", "field", "code", "words"), REFUSED, ids=[r[3] + "-" + r[2] for r in REFUSED]
)
def test_a_wrong_value_is_refused_with_a_russian_message_on_its_field(api, what, change, field, code, words):
    if what == "event":
        response = api.post("/events", {**EVENT, **change})
    elif what == "session":
        response = api.post(f"/events/{api.event()}/sessions", {**LECTURE, **change})
    else:
        response = api.post(f"/events/{api.event()}/participants", {**ANNA, "snils": VALID_SNILS, **change})
    assert response.status_code == 422, response.json
    [error] = response.json["errors"]
    assert (error["field"], error["code"]) == (field, code)
    assert words in error["message"], error["message"]
