"""The public registration form, relayed by the gateway: open or closed, consent, duplicates."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from services.registration.models import Participant
from tests.registration.support import registration_api

FORM = {
    "surname": " Ёлкина ",
    "first_name": "Анна",
    "patronymic": "Сергеевна",
    "email": "Anna@MFC.example.ru",
    "phone": "+7 900 000-00-00",
    "region_code": "16",
    "organisation": "МФЦ",
    "position": "специалист",
    "consent": True,
}


@pytest.fixture
def api(app_factory, db_backend):
    return registration_api(app_factory)


def test_closed_registration_is_forbidden(api):
    event_id = api.event()
    refused = api.post(f"/events/{event_id}/registrations", FORM)
    assert refused.status_code == 403
    assert refused.json["detail"] == "Регистрация на это мероприятие закрыта."
    assert api.get(f"/events/{event_id}").json["participants_count"] == 0


def test_open_registration_answers_with_the_personal_token(api, database_url):
    event_id = api.event(registration_open=True)
    created = api.post(f"/events/{event_id}/registrations", FORM)
    assert created.status_code == 201, created.json
    assert (created.json["surname"], created.json["status"]) == ("Ёлкина", "registered")
    assert len(created.json["token"]) >= 43
    engine = create_engine(database_url)
    with engine.connect() as connection:  # the consent is recorded with its time
        consented = connection.scalar(
            select(Participant.consent_given_at).where(Participant.id == created.json["id"])
        )
    engine.dispose()
    assert consented is not None


@pytest.mark.parametrize("consent", [False, None, "missing"])
def test_consent_is_required(api, consent):
    event_id = api.event(registration_open=True)
    form = {key: value for key, value in FORM.items() if key != "consent"}
    if consent != "missing":
        form["consent"] = consent
    refused = api.post(f"/events/{event_id}/registrations", form)
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "consent"


def test_registering_twice_is_a_conflict(api):
    event_id = api.event(registration_open=True)
    assert api.post(f"/events/{event_id}/registrations", FORM).status_code == 201
    again = api.post(f"/events/{event_id}/registrations", dict(FORM, email=" anna@mfc.example.ru"))
    assert again.status_code == 409
    assert again.json["errors"][0]["field"] == "email"


def test_the_form_is_validated_like_any_participant(api):
    event_id = api.event(registration_open=True)
    refused = api.post(f"/events/{event_id}/registrations", dict(FORM, region_code="00", status="confirmed"))
    assert refused.status_code == 422
    assert refused.json["errors"][0]["code"] == "unknown_region"
    created = api.post(f"/events/{event_id}/registrations", dict(FORM, status="confirmed"))
    assert created.json["status"] == "registered"  # a person cannot confirm themselves
    assert api.post("/events/999/registrations", FORM).status_code == 404
