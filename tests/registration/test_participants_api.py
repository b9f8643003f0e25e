"""Adding, editing, cancelling and restoring participants; what is refused and how it is said."""

from __future__ import annotations

import pytest

from tests.registration.support import ANNA, VALID_SNILS, registration_api


@pytest.fixture
def api(app_factory, db_backend):
    return registration_api(app_factory)


def test_names_are_trimmed_and_markup_is_refused(api):
    event_id = api.event()
    created = api.participant(
        event_id,
        surname="  Ёлкин ",
        first_name=" Пётр\t",
        patronymic="  ",
        email=" Elkin@MFC.example.ru ",
        organisation="ООО «Рога & копыта»",
    )
    assert (created["surname"], created["first_name"], created["patronymic"]) == ("Ёлкин", "Пётр", None)
    assert created["organisation"] == "ООО «Рога & копыта»"
    assert created["full_name"] == "Ёлкин Пётр"
    refused = api.post(
        f"/events/{event_id}/participants",
        dict(surname="<b>Ёлкин</b>", first_name="Пётр", email="e2@x.example.ru", organisation="<script>"),
    )
    assert {(e["field"], e["code"]) for e in refused.json["errors"]} == {
        ("surname", "name_characters"),
        ("organisation", "markup"),
    }


def test_snils_is_checked_and_normalised(api):
    event_id = api.event()
    created = api.participant(event_id, **ANNA, snils="11223344595")
    assert created["snils"] == VALID_SNILS
    refused = api.post(
        f"/events/{event_id}/participants", dict(ANNA, email="b@x.example.ru", snils="112-233-445 94")
    )
    assert refused.status_code == 422
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    [error] = refused.json["errors"]
    assert (error["field"], error["code"]) == ("snils", "snils_checksum")
    assert "СНИЛС" in error["message"]


def test_unknown_region_is_refused_with_a_russian_message(api):
    event_id = api.event()
    refused = api.post(f"/events/{event_id}/participants", dict(ANNA, region_code="99"))
    assert refused.status_code == 422
    [error] = refused.json["errors"]
    assert (error["field"], error["code"]) == ("region_code", "unknown_region")
    assert error["message"].startswith("Неизвестный код региона «99»")
    assert api.participant(event_id, **ANNA, region_code="16")["region_code"] == "16"


def test_every_bad_field_is_reported_in_the_language_asked_for(api):
    event_id = api.event()
    bad = {"surname": " ", "first_name": "Анна", "email": "not-an-address", "citizenship": "RU"}
    russian = api.post(f"/events/{event_id}/participants", bad)
    assert russian.status_code == 422
    assert {e["field"]: e["code"] for e in russian.json["errors"]} == {
        "surname": "blank",
        "email": "invalid_email",
        "citizenship": "citizenship_format",
    }
    assert russian.json["errors"][0]["message"] == "Заполните поле."
    assert "ОКСМ" in russian.json["errors"][2]["message"]
    english = api.post(f"/events/{event_id}/participants", bad, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.json["errors"][0]["message"] == "Fill in this field."


def test_edit_changes_only_what_is_sent_and_search_follows(api):
    event_id = api.event()
    pid = api.participant(event_id, **ANNA, patronymic="Сергеевна", phone="+7 900 000-00-00")["id"]
    edited = api.patch(
        f"/events/{event_id}/participants/{pid}",
        {"surname": " Петрова ", "patronymic": None, "region_code": "16"},
    )
    assert edited.status_code == 200, edited.json
    assert (edited.json["surname"], edited.json["patronymic"], edited.json["phone"]) == (
        "Петрова",
        None,
        "+7 900 000-00-00",
    )
    found = api.get(f"/events/{event_id}/participants/search", query_string={"q": "петрова татарстан"}).json
    assert [item["id"] for item in found["items"]] == [pid]
    assert (
        api.get(f"/events/{event_id}/participants/search", query_string={"q": "иванова"}).json["total"] == 0
    )


def test_edit_refuses_null_for_a_required_field_and_a_bad_snils(api):
    event_id = api.event()
    pid = api.participant(event_id, **ANNA)["id"]
    assert api.patch(f"/events/{event_id}/participants/{pid}", {"surname": None}).status_code == 422
    refused = api.patch(f"/events/{event_id}/participants/{pid}", {"snils": "123"})
    assert refused.status_code == 422 and refused.json["errors"][0]["code"] == "snils_format"


def test_the_same_email_in_another_case_is_a_conflict(api):
    event_id = api.event()
    api.participant(event_id, **ANNA)
    again = api.post(f"/events/{event_id}/participants", dict(ANNA, email="ANNA@mfc.example.ru"))
    assert again.status_code == 409
    assert again.json["errors"][0]["field"] == "email"
    assert api.get(f"/events/{event_id}").json["participants_count"] == 1


def test_edit_to_another_participants_email_is_a_conflict(api):
    event_id = api.event()
    api.participant(event_id, **ANNA)
    pid = api.participant(event_id, surname="Петров", first_name="Иван", email="ivan@mfc.example.ru")["id"]
    conflict = api.patch(f"/events/{event_id}/participants/{pid}", {"email": " ANNA@mfc.example.ru "})
    assert conflict.status_code == 409
    assert conflict.json["errors"][0]["field"] == "email"
    assert conflict.json["errors"][0]["code"] == "duplicate"
    # one's own address in another case is no conflict
    same = api.patch(f"/events/{event_id}/participants/{pid}", {"email": "IVAN@mfc.example.ru"})
    assert same.status_code == 200, same.json


def test_cancel_keeps_the_record_and_restore_brings_it_back(api):
    event_id = api.event()
    pid = api.participant(event_id, **ANNA)["id"]
    cancelled = api.post(f"/events/{event_id}/participants/{pid}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled" and cancelled.json["cancelled_at"]
    assert (
        api.post(f"/events/{event_id}/participants/{pid}/cancel").json["cancelled_at"]
        == cancelled.json["cancelled_at"]
    )  # cancelling twice changes nothing
    assert api.get(f"/events/{event_id}").json["participants_count"] == 1
    assert api.get(f"/events/{event_id}/participants/{pid}").json["status"] == "cancelled"
    restored = api.post(f"/events/{event_id}/participants/{pid}/restore")
    assert (restored.json["status"], restored.json["cancelled_at"]) == ("registered", None)


def test_a_participant_of_another_event_is_not_found(api):
    first, second = api.event(), api.event(slug="other")
    pid = api.participant(first, **ANNA)["id"]
    assert api.get(f"/events/{second}/participants/{pid}").status_code == 404
    assert api.patch(f"/events/{second}/participants/{pid}", {"surname": "Чужая"}).status_code == 404
    assert api.post(f"/events/{second}/participants/{pid}/cancel").status_code == 404
    assert api.post(f"/events/{second}/participants/{pid}/restore").status_code == 404
    assert api.get(f"/events/{first}/participants/{pid}").json["surname"] == "Иванова"


def test_a_code_collision_is_retried_not_reported_as_a_duplicate(app_factory, db_backend, monkeypatch):
    codes = iter(["AAA222", "AAA222", "BBB333"])
    monkeypatch.setattr("services.registration.participants.new_participant_code", lambda: next(codes))
    api = registration_api(app_factory)
    event_id = api.event()
    assert api.participant(event_id, **ANNA)["code"] == "AAA222"
    second = api.post(
        f"/events/{event_id}/participants",
        {"surname": "Петров", "first_name": "Иван", "email": "ivan@mfc.example.ru"},
    )
    assert second.status_code == 201, second.json
    assert second.json["code"] == "BBB333"


def test_an_edit_that_cancels_notes_when(api):
    event_id = api.event()
    pid = api.participant(event_id, **ANNA)["id"]
    confirmed = api.patch(f"/events/{event_id}/participants/{pid}", {"status": "confirmed"}).json
    assert (confirmed["status"], confirmed["cancelled_at"]) == ("confirmed", None)
    cancelled = api.patch(f"/events/{event_id}/participants/{pid}", {"status": "cancelled"}).json
    assert cancelled["cancelled_at"] is not None
    restored = api.post(f"/events/{event_id}/participants/{pid}/restore").json
    assert (restored["status"], restored["cancelled_at"]) == ("registered", None)


# --- the roster other services decide from ----------------------------------------------------------

ROSTER_FIELDS = {"id", "surname", "first_name", "patronymic", "full_name", "status", "gender"}
FRDO_FIELDS = {
    "birth_date",
    "snils",
    "citizenship",
    "education_level",
    "diploma_surname",
    "diploma_series",
    "diploma_number",
}


def _roster_course(api) -> tuple[int, dict[str, int]]:
    event_id = api.event()
    ids = {
        "petr": api.participant(
            event_id,
            surname="Ёлкин",
            first_name="Пётр",
            patronymic="Ильич",
            email="elkin@mfc.example.ru",
            gender="male",
            phone="+7 900 000-00-00",
            birth_date="1980-05-01",
            snils="11223344595",
            citizenship="643",
            education_level="ВО",
            diploma_series="1077",
            diploma_number="123456",
        )["id"],
        "anna": api.participant(event_id, **ANNA, gender="female")["id"],
        "boris": api.participant(event_id, surname="Борисов", first_name="Борис", email="b@mfc.example.ru")[
            "id"
        ],
    }
    api.post(f"/events/{event_id}/participants/{ids['boris']}/cancel")
    other = api.event(slug="other-course")
    api.participant(other, surname="Чужой", first_name="Пётр", email="x@x.example.ru")
    return event_id, ids


def test_the_roster_lists_everyone_of_the_event_with_names_gender_and_status_only(api):
    event_id, ids = _roster_course(api)
    response = api.get(f"/events/{event_id}/participants/roster")
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 3
    # In the list's order (surname, then name; Ё sorts as Е), cancelled ones too; no one of another event.
    assert [item["id"] for item in body["items"]] == [ids["boris"], ids["petr"], ids["anna"]]
    assert all(set(item) == ROSTER_FIELDS for item in body["items"]), body["items"][0]
    petr = body["items"][1]
    assert petr == {
        "id": ids["petr"],
        "surname": "Ёлкин",
        "first_name": "Пётр",
        "patronymic": "Ильич",
        "full_name": "Ёлкин Пётр Ильич",
        "status": "registered",
        "gender": "male",
    }
    assert (body["items"][0]["status"], body["items"][0]["gender"]) == ("cancelled", None)
    # Nothing personal beyond that: no contacts, no personal token, no ФИС ФРДО data.
    text = response.get_data(as_text=True)
    for secret in ("elkin@mfc.example.ru", "+7 900", "112-233-445 95", "1980-05-01", "123456"):
        assert secret not in text


def test_the_frdo_roster_adds_what_the_register_asks_for(api):
    event_id, ids = _roster_course(api)
    body = api.get(f"/events/{event_id}/participants/frdo").json
    assert [item["id"] for item in body["items"]] == [ids["boris"], ids["petr"], ids["anna"]]
    assert all(set(item) == ROSTER_FIELDS | FRDO_FIELDS for item in body["items"])
    petr = body["items"][1]
    assert {key: petr[key] for key in FRDO_FIELDS} == {
        "birth_date": "1980-05-01",
        "snils": VALID_SNILS,
        "citizenship": "643",
        "education_level": "ВО",
        "diploma_surname": None,
        "diploma_series": "1077",
        "diploma_number": "123456",
    }
    text = api.get(f"/events/{event_id}/participants/frdo").get_data(as_text=True)
    assert "elkin@mfc.example.ru" not in text and "+7 900" not in text


@pytest.mark.parametrize("path", ["roster", "frdo"])
def test_a_roster_of_an_unknown_event_is_not_found(api, path):
    response = api.get(f"/events/999/participants/{path}")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", ["roster", "frdo"])
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic x"])
def test_a_roster_reveals_nothing_without_the_service_token(api, path, authorization):
    event_id, _ids = _roster_course(api)
    headers = {"Authorization": authorization} if authorization else {}
    response = api.client.get(f"/api/v1/events/{event_id}/participants/{path}", headers=headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")
    text = response.get_data(as_text=True)
    for name in ("Ёлкин", "Иванова", "Борисов", "elkin@mfc.example.ru"):
        assert name not in text
