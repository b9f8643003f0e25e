"""Participant search: folding (case, ё, Latin look-alikes), what it searches in, and the ranking."""

from __future__ import annotations

import itertools

import pytest

from services.registration.text import fold, fold_code
from tests.registration.support import registration_api


def test_fold_makes_typed_text_match_written_text():
    assert fold("  ЁЛКИН  Пётр ") == "елкин петр"
    assert fold("eлкин") == "елкин"  # Latin «e» inside a Cyrillic word
    assert fold("Elkin@MFC.ru") == "elkin@mfc.ru"  # Latin words stay Latin


def test_fold_code_reads_cyrillic_look_alikes_as_latin():
    assert fold_code(" kat 234 ") == "KAT234"
    assert fold_code("кат234") == "KAT234"  # typed on a Russian keyboard


def names(found) -> list[str]:
    return [item["full_name"] for item in found["items"]]


@pytest.fixture
def people(app_factory, db_backend):
    api = registration_api(app_factory)
    event_id = api.event()
    for person in [
        dict(surname="Белкина", first_name="Мария", email="belkina@mfc.example.ru", region_code="61"),
        dict(
            surname="Ёлкин",
            first_name="Пётр",
            patronymic="Ильич",
            email="elkin@mfc.example.ru",
            region_code="16",
            organisation="МФЦ Республики Татарстан",
        ),
        dict(surname="Яковлев", first_name="Олег", email="oleg@example.org", organisation="ООО «Ёлки-палки»"),
        dict(surname="Андреев", first_name="Олег", email="andreev@example.org", region_code="77"),
        dict(surname="Иванова", first_name="Анна", email="anna@example.org", organisation="ГАУ «МФЦ»"),
        dict(surname="Смирнов", first_name="Олег", patronymic="Анатольевич", email="smirnov@example.org"),
        dict(surname="Богданов", first_name="Пётр", email="bogdanov@example.org"),
        dict(
            surname="Сидоpов", first_name="Иван", email="sidorov@example.org"
        ),  # a Latin «p» from copy-paste
    ]:
        api.participant(event_id, **person)
    return api, event_id


def search(api, event_id, q, **params):
    response = api.get(f"/events/{event_id}/participants/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.json
    return response.json


def test_pages_of_the_list_by_offset_with_the_total_on_every_page(people):
    api, event_id = people
    everyone = names(search(api, event_id, "", limit=100))
    pages = [search(api, event_id, "", limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [name for page in pages for name in names(page)] == everyone and len(everyone) == 8
    assert [page["total"] for page in pages] == [8, 8, 8]
    past_the_end = search(api, event_id, "олег", limit=3, offset=30)
    assert past_the_end == {"items": [], "total": 3}
    refused = api.get(f"/events/{event_id}/participants/search", query_string={"offset": -1})
    assert refused.status_code == 422


def test_yo_is_found_by_ye_and_surname_prefix_comes_first(people):
    api, event_id = people
    found = search(api, event_id, "елк")
    assert names(found)[0] == "Ёлкин Пётр Ильич"
    # then the rest alphabetically: «белкина» holds «елк», the organisation «Ёлки-палки» too
    assert names(found) == ["Ёлкин Пётр Ильич", "Белкина Мария", "Яковлев Олег"]
    assert found["total"] == 3
    assert names(search(api, event_id, "ЁЛКИН")) == ["Ёлкин Пётр Ильич", "Белкина Мария"]


def test_ranking_surname_then_given_names_then_the_rest(people):
    api, event_id = people
    assert names(search(api, event_id, "ан")) == [
        "Андреев Олег",  # surname prefix
        "Иванова Анна",  # first-name prefix
        "Смирнов Олег Анатольевич",  # patronymic prefix
    ]
    assert names(search(api, event_id, "иван")) == [
        "Иванова Анна",  # surname prefix
        "Сидоpов Иван",  # first-name prefix
    ]


def test_short_words_match_word_starts_longer_ones_any_part(people):
    api, event_id = people
    assert search(api, event_id, "лк")["total"] == 0  # inside «Ёлкин», «Белкина»: too short to count
    assert names(search(api, event_id, "лки")) == ["Белкина Мария", "Ёлкин Пётр Ильич", "Яковлев Олег"]
    assert names(search(api, event_id, "ёл")) == ["Ёлкин Пётр Ильич", "Яковлев Олег"]  # «Ёлки-палки»
    assert names(search(api, event_id, "дан")) == ["Богданов Пётр"]


def test_latin_look_alikes_find_their_cyrillic_twins(people):
    api, event_id = people
    assert names(search(api, event_id, "eлкин п")) == ["Ёлкин Пётр Ильич"]  # a Latin «e» typed
    assert names(search(api, event_id, "сидоров")) == ["Сидоpов Иван"]  # a Latin «p» stored


def test_found_by_organisation_region_name_and_email(people):
    api, event_id = people
    assert names(search(api, event_id, "мфц")) == ["Ёлкин Пётр Ильич", "Иванова Анна"]
    assert names(search(api, event_id, "татарстан")) == ["Ёлкин Пётр Ильич"]
    assert names(search(api, event_id, "Ростовская")) == ["Белкина Мария"]
    assert names(search(api, event_id, "москва")) == ["Андреев Олег"]
    assert names(search(api, event_id, "mfc.example")) == ["Белкина Мария", "Ёлкин Пётр Ильич"]
    assert names(search(api, event_id, "ANNA@")) == ["Иванова Анна"]


def test_every_word_of_the_query_must_match(people):
    api, event_id = people
    assert names(search(api, event_id, "олег смир")) == ["Смирнов Олег Анатольевич"]
    assert names(search(api, event_id, "елкин петр")) == ["Ёлкин Пётр Ильич"]


def test_an_item_says_everything_the_check_in_screen_shows(people):
    api, event_id = people
    item = search(api, event_id, "ёлкин")["items"][0]
    assert item["region_name"] == "Республика Татарстан"
    assert set(item) >= {
        "id",
        "code",
        "surname",
        "first_name",
        "patronymic",
        "full_name",
        "organisation",
        "region_code",
        "region_name",
        "status",
        "email",
    }


def test_limit_and_total(people):
    api, event_id = people
    found = search(api, event_id, "олег", limit=2)
    assert len(found["items"]) == 2 and found["total"] == 3
    everyone = search(api, event_id, "")
    assert everyone["total"] == 8
    assert names(everyone)[:2] == ["Андреев Олег", "Белкина Мария"]  # empty query: alphabetical
    assert search(api, event_id, "нет-такого")["total"] == 0


def test_wildcards_in_the_query_are_plain_characters(people):
    api, event_id = people
    assert search(api, event_id, "%")["total"] == 0
    assert search(api, event_id, "_")["total"] == 0


def test_exact_code_comes_first_even_typed_in_cyrillic(app_factory, db_backend, monkeypatch):
    codes = itertools.chain(["KAT234", "MMM777"], itertools.repeat("ZZZ999"))
    monkeypatch.setattr("services.registration.participants.new_participant_code", lambda: next(codes))
    api = registration_api(app_factory)
    event_id = api.event()
    api.participant(event_id, surname="Зайцев", first_name="Олег", email="z@example.org")
    # Someone whose e-mail holds the code as well: an ordinary match, ranked below the owner of the code.
    api.participant(event_id, surname="Абрамов", first_name="Ян", email="kat234@example.org")
    assert names(search(api, event_id, "kat234")) == ["Зайцев Олег", "Абрамов Ян"]
    assert names(search(api, event_id, "КАТ234")) == ["Зайцев Олег", "Абрамов Ян"]  # Cyrillic К, А, Т


def test_cancelled_participants_are_found_with_their_status(people):
    api, event_id = people
    pid = search(api, event_id, "богданов")["items"][0]["id"]
    assert api.post(f"/events/{event_id}/participants/{pid}/cancel").status_code == 200
    assert search(api, event_id, "богданов")["items"][0]["status"] == "cancelled"


def test_other_events_are_not_searched(people):
    api, _event_id = people
    other = api.event(slug="other")
    assert search(api, other, "елк")["total"] == 0
    assert api.get("/events/999/participants/search", query_string={"q": "елк"}).status_code == 404


def test_query_is_validated(people):
    api, event_id = people
    response = api.get(f"/events/{event_id}/participants/search", query_string={"q": "x", "limit": 0})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "limit"


def test_punctuation_around_words_reads_as_space(app_factory, db_backend):
    api = registration_api(app_factory)
    event_id = api.event()
    api.participant(
        event_id,
        surname="Петрова-Водкина",
        first_name="Анна",
        email="pv@example.org",
        organisation="ГАУ «Мои документы» (филиал)",
    )
    for typed in ("во", "водкина", "петрова-водкина ан", "мо", "«мои документы»", "фи"):
        assert names(search(api, event_id, typed)) == ["Петрова-Водкина Анна"], typed
    assert search(api, event_id, "водкина")["items"][0]["full_name"] == "Петрова-Водкина Анна"
