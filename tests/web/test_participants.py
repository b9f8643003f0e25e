"""The organisers' participants pages: the list and its active search, add and edit, cancel and restore, the
export and the badges, against the real services over HTTP."""

from __future__ import annotations

import re

from tests.web.support import (
    add_old_participant,
    add_participant,
    api,
    csrf_token,
    make_event,
    post_form,
    staff_session,
)


def test_organiser_adds_and_edits_a_participant_with_frdo_data(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    browser = staff_session(live_system, staff_factory)
    person = {
        "surname": "Ёлкин",
        "first_name": "Пётр",
        "patronymic": "",
        "email": "elkin@example.ru",
        "phone": "",
        "region_code": "",
        "organisation": "МФЦ",
        "position": "",
        "status": "registered",
        "birth_date": "",
        "gender": "",
        "snils": "112-233-445 00",
        "citizenship": "",
        "education_level": "",
        "diploma_surname": "",
        "diploma_series": "",
        "diploma_number": "",
    }
    marked = post_form(
        browser,
        f"{web}/events/{event_id}/participants/new",
        {**person, "snils": "", "surname": "<b>Ёлкин</b>", "phone": "=1+2", "position": "<i>глава</i>"},
    )
    # registration's field rules, the same as the public form's and the import's, land next to the fields
    assert marked.status_code == 422
    assert re.search(r'id="surname-error">[^<]*которых не бывает в именах', marked.text), marked.text[-3000:]
    assert re.search(r'id="phone-error">[^<]*не номер телефона', marked.text)
    assert re.search(r'id="position-error">[^<]*разметку', marked.text)
    bad = post_form(browser, f"{web}/events/{event_id}/participants/new", person)
    # The checksum is registration's to check; its refusal lands next to the field.
    assert bad.status_code == 422 and re.search(r'id="snils-error">[^<]*СНИЛС', bad.text), bad.text[-3000:]
    assert '<details class="frdo" open>' in bad.text, "the section with the error is open"

    added = post_form(
        browser,
        f"{web}/events/{event_id}/participants/new",
        {
            **person,
            "snils": "112-233-445 95",
            "gender": "male",
            "birth_date": "1990-05-01",
            "citizenship": "643",
        },
    )
    assert added.status_code == 303, added.text[-3000:]
    participant = api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["items"][0]
    assert (participant["snils"], participant["gender"], participant["birth_date"]) == (
        "112-233-445 95",
        "male",
        "1990-05-01",
    )

    again = post_form(
        browser,
        f"{web}/events/{event_id}/participants/new",
        {**person, "snils": "", "email": " ELKIN@example.ru "},
    )
    assert again.status_code == 422
    assert "Участник с таким e-mail уже зарегистрирован" in again.text

    edit_url = f"{web}/events/{event_id}/participants/{participant['id']}/edit"
    assert 'value="112-233-445 95"' in browser.get(edit_url).text
    edited = post_form(
        browser, edit_url, {**person, "snils": "112-233-445 95", "organisation": "МФЦ Ростова"}
    )
    assert edited.status_code == 303, edited.text[-3000:]
    assert (
        api(live_system, "GET", f"/api/v1/events/{event_id}/participants/{participant['id']}")["organisation"]
        == "МФЦ Ростова"
    )


def test_active_search_answers_htmx_with_the_results_only(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    add_participant(live_system, event_id, "Ёлкин", "elkin@example.ru")
    add_participant(live_system, event_id, "Иванова", "ivanova@example.ru")
    browser = staff_session(live_system, staff_factory)

    full = browser.get(f"{web}/events/{event_id}/participants", params={"q": "елк"})
    assert full.status_code == 200 and "<html" in full.text
    # Typing searches; so does Enter (the "search" event), without a filter htmx would have to eval.
    assert 'hx-trigger="input changed delay:200ms, search"' in full.text

    fragment = browser.get(
        f"{web}/events/{event_id}/participants", params={"q": "елк"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<table" in fragment.text
    assert "Ёлкин" in fragment.text and "Иванова" not in fragment.text
    assert "Найдено: 1" in fragment.text

    everyone = browser.get(f"{web}/events/{event_id}/participants", headers={"HX-Request": "true"})
    assert "Ёлкин" in everyone.text and "Иванова" in everyone.text


def test_a_long_list_pages_and_the_pages_keep_the_search(live_system, staff_factory):
    web = live_system.web_url
    event_id = make_event(live_system)
    letters = "абвгдежзиклмнопрстуфхцчш"
    for n in range(120):  # 90 «Петров…» and 30 «Сидоров…»: names by letters, as names have no digits
        surname = ("Петров" if n < 90 else "Сидоров") + letters[n // 24] + letters[n % 24]
        add_participant(live_system, event_id, surname, f"p{n}@example.ru")
    browser = staff_session(live_system, staff_factory)
    url = f"{web}/events/{event_id}/participants"

    first = browser.get(url)
    assert first.text.count('name="ids"') == 50
    assert "120 участников" in first.text and "показаны 1–50" in first.text
    assert "страница 1 из 3" in first.text
    assert f'href="/events/{event_id}/participants?page=2"' in first.text and 'rel="prev"' not in first.text

    last = browser.get(url, params={"page": 3}, headers={"HX-Request": "true"})
    assert "<html" not in last.text and last.text.count('name="ids"') == 20
    assert "показаны 101–120" in last.text and 'rel="next"' not in last.text

    # The active search stays on every page: its links carry q, and htmx swaps the results only.
    found = browser.get(url, params={"q": "петров", "page": 2}, headers={"HX-Request": "true"})
    assert "Найдено: 90" in found.text and "показаны 51–90" in found.text
    assert found.text.count('name="ids"') == 40 and "Сидоров" not in found.text
    assert f'hx-get="/events/{event_id}/participants?q=%D0%BF%D0%B5%D1%82%D1%80%D0%BE%D0%B2&amp;page=1"' in (
        found.text
    )
    assert 'hx-target="#search-results" hx-push-url="true"' in found.text

    beyond = browser.get(url, params={"q": "петров", "page": 99})  # past the end: the last page
    assert "страница 2 из 2" in beyond.text and beyond.text.count('name="ids"') == 40
    assert browser.get(url, params={"page": "x"}).status_code == 200
    assert browser.get(url, params={"page": "-5"}).status_code == 200


def test_cancel_and_restore_keep_the_participant(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    pid = add_participant(live_system, event_id, "Петров", "petrov@example.ru")["id"]
    browser = staff_session(live_system, staff_factory)
    list_url = f"{web}/events/{event_id}/participants"

    cancelled = post_form(browser, f"{list_url}/{pid}/cancel", {}, page_url=list_url)
    assert cancelled.status_code == 303
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/participants/{pid}")["status"] == "cancelled"
    # Editing a cancelled participant keeps the registration cancelled: only the restore button restores it.
    edit_url = f"{list_url}/{pid}/edit"
    assert 'name="status"' not in browser.get(edit_url).text
    edited = post_form(
        browser,
        edit_url,
        {
            "surname": "Петров",
            "first_name": "Пётр",
            "email": "petrov@example.ru",
            "organisation": "МФЦ",
            "status": "confirmed",
        },
    )
    assert edited.status_code == 303, edited.text[-2000:]
    after_edit = api(live_system, "GET", f"/api/v1/events/{event_id}/participants/{pid}")
    assert (after_edit["status"], after_edit["organisation"]) == ("cancelled", "МФЦ")

    token = csrf_token(browser.get(list_url).text)
    restored = browser.post(f"{list_url}/{pid}/restore", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert restored.status_code == 200
    assert restored.text.lstrip().startswith(f'<tr id="participant-{pid}"')
    assert "Отменить регистрацию" in restored.text
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/participants/{pid}")["status"] != "cancelled"


def test_export_downloads_the_service_file(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    add_participant(live_system, event_id, "Ёлкин", "elkin@example.ru")
    # Saved before the rules: a formula and a control character, which once made the XLSX answer 503.
    add_old_participant(live_system, event_id, "Ромашкина", "r@example.ru", organisation="ООО\x01Ромашка")
    add_old_participant(live_system, event_id, "Формулин", "f@example.ru", organisation="=HYPERLINK(1)")
    browser = staff_session(live_system, staff_factory)

    csv = browser.get(f"{web}/events/{event_id}/participants/export", params={"format": "csv"})
    assert csv.status_code == 200, csv.text[:500]
    assert csv.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in csv.headers["Cache-Control"]
    assert "Ёлкин" in csv.content.decode("utf-8-sig")

    xlsx = browser.get(f"{web}/events/{event_id}/participants/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK", xlsx.text[:500]
    assert ".xlsx" in xlsx.headers["Content-Disposition"]

    badges = browser.get(f"{web}/events/{event_id}/badges.pdf")
    assert badges.status_code == 200 and badges.content[:5] == b"%PDF-"
    assert badges.headers["Content-Disposition"].startswith("attachment")
    pid = api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["items"][0]["id"]
    selected = browser.get(f"{web}/events/{event_id}/badges.pdf", params={"selected": "1", "ids": [str(pid)]})
    assert selected.status_code == 200 and selected.content[:5] == b"%PDF-"
    none_ticked = browser.get(
        f"{web}/events/{event_id}/badges.pdf", params={"selected": "1"}, allow_redirects=False
    )
    assert none_ticked.status_code == 303


def test_the_region_select_lists_registrations_regions(live_system, staff_factory):
    web = live_system.web_url
    event_id = make_event(live_system)
    page = staff_session(live_system, staff_factory).get(f"{web}/events/{event_id}/participants/new").text
    form = page[page.index('name="region_code"') : page.index("</select>", page.index('name="region_code"'))]
    offered = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)<', form)
    regions = api(live_system, "GET", "/api/v1/regions")["items"]
    assert offered[1:] == [(region["code"], region["name"]) for region in regions]
    assert offered[0][0] == "" and ("16", "Республика Татарстан") in offered


def test_an_unknown_region_is_refused_by_registration_next_to_the_field(
    live_system, staff_factory, db_backend
):
    web = live_system.web_url
    event_id = make_event(live_system)
    browser = staff_session(live_system, staff_factory)
    refused = post_form(
        browser,
        f"{web}/events/{event_id}/participants/new",
        {
            "surname": "Ёлкин",
            "first_name": "Пётр",
            "email": "elkin@example.ru",
            "region_code": "999",
            "status": "registered",
        },
    )
    assert refused.status_code == 422
    assert re.search(r'id="region_code-error">[^<]*[а-яё]', refused.text), refused.text[-3000:]
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["total"] == 0
