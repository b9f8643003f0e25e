"""Organisers' registration pages in the gateway, against the real services over HTTP."""
from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import auth_headers
from tests.web.support import csrf_token, logged_in_session

EVENT = {"slug": "mfc-2026", "title": "Цифровые коммуникации МФЦ", "organiser": "ЮРИУ РАНХиГС",
         "place": "Сочи", "starts_on": "2026-10-07", "ends_on": "2026-10-09"}


def api(system, method: str, path: str, **kwargs):
    response = requests.request(method, system.urls["registration"] + path, headers=auth_headers(),
                                timeout=10, **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


def make_event(system, **fields) -> int:
    return api(system, "POST", "/api/v1/events", json={**EVENT, **fields})["id"]


def add_participant(system, event_id: int, surname: str, email: str, **fields) -> dict:
    return api(system, "POST", f"/api/v1/events/{event_id}/participants",
               json={"surname": surname, "first_name": "Пётр", "email": email, **fields})


def organiser(system, staff_factory, role: str = "organiser") -> requests.Session:
    return logged_in_session(system.web_url, *staff_factory(role))


def post_form(browser: requests.Session, url: str, data: dict, page_url: str | None = None):
    """Opens the page the form is on (for its CSRF token), then sends the form as a browser would."""
    token = csrf_token(browser.get(page_url or url).text)
    return browser.post(url, data={**data, "csrf_token": token}, allow_redirects=False)


def test_organiser_creates_an_event_and_a_session_through_the_pages(live_system, staff_factory, db_backend):
    web = live_system.web_url
    browser = organiser(live_system, staff_factory)
    assert "Новое мероприятие" in browser.get(f"{web}/").text

    created = post_form(browser, f"{web}/events/new", {
        "title": "Цифровые коммуникации", "slug": "digital-2026", "organiser": "ЮРИУ РАНХиГС", "place": "Сочи",
        "starts_on": "2026-10-07", "ends_on": "2026-10-09", "programme_kind": "ПК"})
    assert created.status_code == 303, created.text[:2000]
    event_url = web + created.headers["Location"]
    event_id = int(re.search(r"/events/(\d+)$", event_url).group(1))
    page = browser.get(event_url).text
    assert "Цифровые коммуникации" in page and "Мероприятие создано" in page
    # The day select offers only the event's days.
    assert page.count('<option value="2026-10-') == 3

    session = post_form(browser, f"{web}/events/{event_id}/sessions", {
        "day": "2026-10-08", "starts_at": "10:00", "ends_at": "11:30", "title": "Госпаблики и соцсети",
        "kind": "training", "speakers": "Иванова А. А.", "room": "Зал 2", "academic_hours": "2"},
        page_url=event_url)
    assert session.status_code == 303, session.text[:2000]
    page = browser.get(event_url).text
    assert "Госпаблики и соцсети" in page and "Иванова А. А." in page and "тренинг" in page
    sessions = api(live_system, "GET", f"/api/v1/events/{event_id}/sessions")["items"]
    assert [(s["day"], s["academic_hours"]) for s in sessions] == [("2026-10-08", 2)]


def test_organiser_edits_the_event_and_opens_registration(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    browser = organiser(live_system, staff_factory)
    form = browser.get(f"{web}/events/{event_id}/edit").text
    assert 'value="Цифровые коммуникации МФЦ"' in form

    saved = post_form(browser, f"{web}/events/{event_id}/edit", {
        **EVENT, "title": "Цифровые коммуникации — 2026", "programme_kind": "ПК"})
    assert saved.status_code == 303, saved.text[:2000]
    assert api(live_system, "GET", f"/api/v1/events/{event_id}")["title"] == "Цифровые коммуникации — 2026"

    opened = post_form(browser, f"{web}/events/{event_id}/registration-open", {"open": "1"},
                       page_url=f"{web}/events/{event_id}")
    assert opened.status_code == 303
    assert api(live_system, "GET", f"/api/v1/events/{event_id}")["registration_open"] is True
    assert f"/events/{event_id}/register" in browser.get(f"{web}/events/{event_id}").text


def test_field_errors_are_shown_in_russian_next_to_the_fields(live_system, staff_factory, db_backend):
    web = live_system.web_url
    browser = organiser(live_system, staff_factory)
    refused = post_form(browser, f"{web}/events/new", {
        "title": "", "slug": "Плохой слаг", "place": "Казань", "starts_on": "2026-10-09", "ends_on": "2026-10-07",
        "programme_kind": "ПК"})
    assert refused.status_code == 422
    assert "Обязательное поле" in refused.text
    assert "Последний день не может быть раньше первого" in refused.text
    assert "Только латинские буквы, цифры и дефис" in refused.text
    assert 'value="Казань"' in refused.text, "the form keeps what was typed"

    # What only the service can know (the short name is taken) comes back next to its field too.
    make_event(live_system)
    taken = post_form(browser, f"{web}/events/new", {**EVENT, "programme_kind": "ПК"})
    assert taken.status_code == 422
    assert re.search(r'id="slug-error">[^<]*уже занят другим мероприятием', taken.text), taken.text[-3000:]

    event_id = make_event(live_system, slug="other")
    bad_session = post_form(browser, f"{web}/events/{event_id}/sessions", {
        "day": "2026-10-07", "starts_at": "12:00", "ends_at": "11:00", "title": "Лекция о главном",
        "kind": "lecture", "academic_hours": "30"}, page_url=f"{web}/events/{event_id}")
    assert bad_session.status_code == 422
    assert "Занятие должно заканчиваться позже, чем начинается" in bad_session.text
    assert "Значение должно быть между 0 и 24" in bad_session.text
    assert 'value="Лекция о главном"' in bad_session.text
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/sessions")["items"] == []


def test_organiser_adds_and_edits_a_participant_with_frdo_data(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    browser = organiser(live_system, staff_factory)
    person = {"surname": "Ёлкин", "first_name": "Пётр", "patronymic": "", "email": "elkin@example.ru",
              "phone": "", "region_code": "", "organisation": "МФЦ", "position": "", "status": "registered",
              "birth_date": "", "gender": "", "snils": "112-233-445 00", "citizenship": "", "education_level": "",
              "diploma_surname": "", "diploma_series": "", "diploma_number": ""}
    bad = post_form(browser, f"{web}/events/{event_id}/participants/new", person)
    # The checksum is registration's to check; its refusal lands next to the field.
    assert bad.status_code == 422 and re.search(r'id="snils-error">[^<]*СНИЛС', bad.text), bad.text[-3000:]
    assert "<details class=\"frdo\" open>" in bad.text, "the section with the error is open"

    added = post_form(browser, f"{web}/events/{event_id}/participants/new", {
        **person, "snils": "112-233-445 95", "gender": "male", "birth_date": "1990-05-01", "citizenship": "643"})
    assert added.status_code == 303, added.text[-3000:]
    participant = api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["items"][0]
    assert (participant["snils"], participant["gender"], participant["birth_date"]) == (
        "112-233-445 95", "male", "1990-05-01")

    again = post_form(browser, f"{web}/events/{event_id}/participants/new",
                      {**person, "snils": "", "email": " ELKIN@example.ru "})
    assert again.status_code == 422
    assert "Участник с таким e-mail уже зарегистрирован" in again.text

    edit_url = f"{web}/events/{event_id}/participants/{participant['id']}/edit"
    assert 'value="112-233-445 95"' in browser.get(edit_url).text
    edited = post_form(browser, edit_url, {**person, "snils": "112-233-445 95", "organisation": "МФЦ Ростова"})
    assert edited.status_code == 303, edited.text[-3000:]
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/participants/{participant['id']}")[
        "organisation"] == "МФЦ Ростова"


def test_active_search_answers_htmx_with_the_results_only(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    add_participant(live_system, event_id, "Ёлкин", "elkin@example.ru")
    add_participant(live_system, event_id, "Иванова", "ivanova@example.ru")
    browser = organiser(live_system, staff_factory)

    full = browser.get(f"{web}/events/{event_id}/participants", params={"q": "елк"})
    assert full.status_code == 200 and "<html" in full.text
    assert "hx-trigger=\"input changed delay:200ms, keyup[key==&#39;Enter&#39;]\"" in full.text \
        or "keyup[key=='Enter']" in full.text

    fragment = browser.get(f"{web}/events/{event_id}/participants", params={"q": "елк"},
                           headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<table" in fragment.text
    assert "Ёлкин" in fragment.text and "Иванова" not in fragment.text
    assert "Найдено: 1" in fragment.text

    everyone = browser.get(f"{web}/events/{event_id}/participants", headers={"HX-Request": "true"})
    assert "Ёлкин" in everyone.text and "Иванова" in everyone.text


def test_cancel_and_restore_keep_the_participant(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    pid = add_participant(live_system, event_id, "Петров", "petrov@example.ru")["id"]
    browser = organiser(live_system, staff_factory)
    list_url = f"{web}/events/{event_id}/participants"

    cancelled = post_form(browser, f"{list_url}/{pid}/cancel", {}, page_url=list_url)
    assert cancelled.status_code == 303
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/participants/{pid}")["status"] == "cancelled"
    # Editing a cancelled participant keeps the registration cancelled: only the restore button restores it.
    edit_url = f"{list_url}/{pid}/edit"
    assert 'name="status"' not in browser.get(edit_url).text
    edited = post_form(browser, edit_url, {"surname": "Петров", "first_name": "Пётр", "email": "petrov@example.ru",
                                           "organisation": "МФЦ", "status": "confirmed"})
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
    add_participant(live_system, event_id, "Ёлкин", "elkin@example.ru", organisation="=HYPERLINK(1)")
    browser = organiser(live_system, staff_factory)

    csv = browser.get(f"{web}/events/{event_id}/participants/export", params={"format": "csv"})
    assert csv.status_code == 200, csv.text[:500]
    assert csv.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in csv.headers["Cache-Control"]
    assert "Ёлкин" in csv.content.decode("utf-8-sig")

    xlsx = browser.get(f"{web}/events/{event_id}/participants/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert ".xlsx" in xlsx.headers["Content-Disposition"]

    badges = browser.get(f"{web}/events/{event_id}/badges.pdf")
    assert badges.status_code == 200 and badges.content[:5] == b"%PDF-"
    assert badges.headers["Content-Disposition"].startswith("attachment")
    pid = api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["items"][0]["id"]
    selected = browser.get(f"{web}/events/{event_id}/badges.pdf", params={"selected": "1", "ids": [str(pid)]})
    assert selected.status_code == 200 and selected.content[:5] == b"%PDF-"
    none_ticked = browser.get(f"{web}/events/{event_id}/badges.pdf", params={"selected": "1"},
                              allow_redirects=False)
    assert none_ticked.status_code == 303


def test_checkin_staff_get_403_on_every_organiser_page(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    pid = add_participant(live_system, event_id, "Ёлкин", "elkin@example.ru")["id"]
    sid = api(live_system, "POST", f"/api/v1/events/{event_id}/sessions", json={
        "day": "2026-10-07", "starts_at": "10:00", "ends_at": "11:00", "title": "Лекция", "kind": "lecture"})["id"]
    browser = organiser(live_system, staff_factory, role="checkin")
    event_page = browser.get(f"{web}/events/{event_id}")
    assert event_page.status_code == 200
    assert "Изменить мероприятие" not in event_page.text and "Добавить занятие" not in event_page.text
    token = csrf_token(event_page.text)

    pages = ["/events/new", f"/events/{event_id}/edit", f"/events/{event_id}/sessions/{sid}/edit",
             f"/events/{event_id}/participants", f"/events/{event_id}/participants?q=елк",
             f"/events/{event_id}/participants/new", f"/events/{event_id}/participants/{pid}/edit",
             f"/events/{event_id}/participants/export?format=xlsx",
             f"/events/{event_id}/participants/export?format=csv", f"/events/{event_id}/badges.pdf"]
    for page in pages:
        response = browser.get(web + page, allow_redirects=False)
        assert response.status_code == 403, page
        assert "Ёлкин" not in response.text
    actions = ["/events/new", f"/events/{event_id}/edit", f"/events/{event_id}/registration-open",
               f"/events/{event_id}/sessions", f"/events/{event_id}/sessions/{sid}/edit",
               f"/events/{event_id}/sessions/{sid}/delete", f"/events/{event_id}/participants/new",
               f"/events/{event_id}/participants/{pid}/edit", f"/events/{event_id}/participants/{pid}/cancel",
               f"/events/{event_id}/participants/{pid}/restore"]
    for action in actions:
        response = browser.post(web + action, data={"csrf_token": token, "open": "1", "title": "x"},
                                allow_redirects=False)
        assert response.status_code == 403, action
    assert len(api(live_system, "GET", f"/api/v1/events/{event_id}/sessions")["items"]) == 1
    assert api(live_system, "GET", f"/api/v1/events/{event_id}")["registration_open"] is False


def test_organiser_deletes_a_session(live_system, staff_factory):
    web = live_system.web_url
    event_id = make_event(live_system)
    sid = api(live_system, "POST", f"/api/v1/events/{event_id}/sessions", json={
        "day": "2026-10-07", "starts_at": "10:00", "ends_at": "11:00", "title": "Лишняя лекция",
        "kind": "lecture"})["id"]
    browser = organiser(live_system, staff_factory)
    edit_url = f"{web}/events/{event_id}/sessions/{sid}/edit"
    assert 'value="Лишняя лекция"' in browser.get(edit_url).text
    edited = post_form(browser, edit_url, {"day": "2026-10-09", "starts_at": "09:00", "ends_at": "10:30",
                                           "title": "Нужная лекция", "kind": "lecture", "academic_hours": "2"})
    assert edited.status_code == 303, edited.text[-2000:]
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/sessions")["items"][0]["title"] == "Нужная лекция"
    deleted = post_form(browser, f"{web}/events/{event_id}/sessions/{sid}/delete", {},
                        page_url=f"{web}/events/{event_id}")
    assert deleted.status_code == 303
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/sessions")["items"] == []


@pytest.mark.parametrize("field", ["surname", "organisation"])
def test_html_in_a_field_is_shown_as_text(live_system, staff_factory, field):
    web = live_system.web_url
    event_id = make_event(live_system)
    evil = "<script>alert(1)</script>"
    add_participant(live_system, event_id, email="evil@example.ru", **{"surname": "Петров", field: evil})
    api(live_system, "POST", f"/api/v1/events/{event_id}/sessions", json={
        "day": "2026-10-07", "starts_at": "10:00", "ends_at": "11:00", "title": evil, "kind": "lecture",
        "speakers": evil})
    browser = organiser(live_system, staff_factory)
    for url in (f"{web}/events/{event_id}/participants", f"{web}/events/{event_id}"):
        for headers in ({}, {"HX-Request": "true"}):
            page = browser.get(url, headers=headers).text
            assert evil not in page
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
