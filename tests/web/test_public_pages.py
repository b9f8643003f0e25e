"""Public pages of the gateway: registration for an event and the participant's personal page."""

from __future__ import annotations

import re

import requests

from tests.web.support import add_old_participant, add_participant, api, csrf_token, make_event

#: a signed CSRF token, as itsdangerous writes it (payload.timestamp.signature)
CSRF_TOKEN = re.compile(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}")

PERSON = {
    "surname": "Ёлкина",
    "first_name": "Анна",
    "patronymic": "Сергеевна",
    "email": "anna@example.ru",
    "phone": "+7 900 000-00-00",
    "region_code": "",
    "organisation": "МФЦ Сочи",
    "position": "специалист",
    "consent": "y",
}


def register(web_url: str, event_id: int, data: dict, browser: requests.Session | None = None):
    browser = browser or requests.Session()
    page = browser.get(f"{web_url}/events/{event_id}/register")
    assert page.status_code == 200
    return browser.post(
        f"{web_url}/events/{event_id}/register",
        data={**data, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
    )


def test_public_registration_when_open(live_system, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system, registration_open=True)
    browser = requests.Session()
    form = browser.get(f"{web}/events/{event_id}/register")
    assert "Согласен на обработку персональных данных" in form.text
    assert "Республика Татарстан" in form.text, "regions come from the reference list"

    response = register(web, event_id, PERSON, browser)
    assert response.status_code == 303, response.text[-3000:]
    assert response.headers["Location"] == f"/events/{event_id}/register/done"
    page = browser.get(web + response.headers["Location"])
    assert "Спасибо, заявка принята" in page.text
    assert "придёт на указанный адрес электронной почты" in page.text

    participants = api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["items"]
    assert [(p["full_name"], p["organisation"]) for p in participants] == [
        ("Ёлкина Анна Сергеевна", "МФЦ Сочи")
    ]


def test_public_registration_needs_consent_and_a_valid_email(live_system):
    web = live_system.web_url
    event_id = make_event(live_system, registration_open=True)
    response = register(web, event_id, {**PERSON, "consent": "", "email": "not-an-email"})
    assert response.status_code == 422
    assert "Без вашего согласия мы не можем вас зарегистрировать" in response.text
    assert "Неверный адрес электронной почты" in response.text
    assert 'value="МФЦ Сочи"' in response.text
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["total"] == 0


def test_public_registration_follows_registrations_field_rules(live_system):
    web = live_system.web_url
    event_id = make_event(live_system, registration_open=True)
    refused = register(web, event_id, {**PERSON, "surname": "<script>alert(1)</script>", "phone": "=1+2"})
    assert refused.status_code == 422
    assert re.search(r'id="surname-error">[^<]*которых не бывает в именах', refused.text), refused.text[-999:]
    assert re.search(r'id="phone-error">[^<]*не номер телефона', refused.text)
    control = register(web, event_id, {**PERSON, "organisation": "ООО\x01Ромашка"})
    assert control.status_code == 422
    assert re.search(r'id="organisation-error">[^<]*управляющий символ', control.text), control.text[-3000:]
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["total"] == 0


def test_the_form_does_not_tell_whether_an_email_is_registered(live_system, db_backend):
    """A known e-mail gets exactly the answer a new one gets; nothing is created, nothing is changed."""
    web = live_system.web_url
    event_id = make_event(live_system, registration_open=True)
    first = register(web, event_id, PERSON)
    before = api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["items"]
    again = register(web, event_id, {**PERSON, "surname": "Другая", "email": " ANNA@example.ru "})
    new = register(web, event_id, {**PERSON, "email": "someone.else@example.ru"})
    for answer in (again, new):
        assert (answer.status_code, answer.headers["Location"], answer.text) == (
            first.status_code,
            first.headers["Location"],
            first.text,
        )
        assert set(answer.headers) == set(first.headers)
        assert "session" not in answer.cookies and "token" not in answer.text
    done = {
        CSRF_TOKEN.sub("csrf", requests.get(web + answer.headers["Location"]).text)
        for answer in (first, again, new)
    }
    assert len(done) == 1, "the page after it is the same too (but for each browser's CSRF token)"
    after = api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["items"]
    assert len(after) == 2
    kept = next(p for p in after if p["id"] == before[0]["id"])
    assert kept == before[0], "the registered participant's data stays as it was"


def test_public_registration_when_closed(live_system, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)  # closed by default
    page = requests.get(f"{web}/events/{event_id}/register")
    assert page.status_code == 200
    assert "Регистрация на это мероприятие сейчас закрыта" in page.text
    assert '<form method="post" novalidate>' not in page.text

    # Closed between opening the form and sending it: the service refuses, the person gets the polite page.
    api(live_system, "PATCH", f"/api/v1/events/{event_id}", json={"registration_open": True})
    browser = requests.Session()
    token = csrf_token(browser.get(f"{web}/events/{event_id}/register").text)
    api(live_system, "PATCH", f"/api/v1/events/{event_id}", json={"registration_open": False})
    late = browser.post(f"{web}/events/{event_id}/register", data={**PERSON, "csrf_token": token})
    assert "Регистрация на это мероприятие сейчас закрыта" in late.text
    assert api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["total"] == 0

    assert requests.get(f"{web}/events/999999/register").status_code == 404


def test_public_registration_is_rate_limited(live_system):
    web = live_system.web_url
    event_id = make_event(live_system, registration_open=True)
    browser = requests.Session()
    token = csrf_token(browser.get(f"{web}/events/{event_id}/register").text)
    statuses = [
        browser.post(
            f"{web}/events/{event_id}/register", data={**PERSON, "consent": "", "csrf_token": token}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429, statuses


def test_personal_page_shows_only_its_own_participant(live_system, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    api(
        live_system,
        "POST",
        f"/api/v1/events/{event_id}/sessions",
        json={
            "day": "2026-10-08",
            "starts_at": "10:00",
            "ends_at": "11:30",
            "title": "Госпаблики",
            "kind": "lecture",
            "speakers": "Иванова А. А.",
            "academic_hours": 2,
        },
    )
    first = add_participant(live_system, event_id, "Ёлкин", "elkin@example.ru")
    second = add_participant(live_system, event_id, "Смирнова", "smirnova@example.ru")

    for me, other in ((first, second), (second, first)):
        page = requests.get(f"{web}/p/{me['token']}")
        assert page.status_code == 200
        assert me["full_name"] in page.text and other["full_name"] not in page.text
        assert other["token"] not in page.text and other["email"] not in page.text
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "no-store" in page.headers["Cache-Control"] and "private" in page.headers["Cache-Control"]
        assert "<svg" in page.text, "QR of the personal link"
        assert "Госпаблики" in page.text and "8 октября 2026 г." in page.text
        assert "Цифровые коммуникации МФЦ" in page.text


def test_unknown_token_is_a_404_page(live_system):
    web = live_system.web_url
    make_event(live_system)
    page = requests.get(f"{web}/p/not-a-real-token-{'x' * 30}")
    assert page.status_code == 404
    assert "Не найдено" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(f"{web}/p/{'a' * 300}").status_code == 404


def test_cancelled_participant_sees_their_status(live_system):
    web = live_system.web_url
    event_id = make_event(live_system)
    participant = add_participant(live_system, event_id, "Петров", "p@example.ru")
    api(live_system, "POST", f"/api/v1/events/{event_id}/participants/{participant['id']}/cancel")
    assert "отменена" in requests.get(f"{web}/p/{participant['token']}").text


def test_html_in_a_name_is_shown_as_text_on_the_personal_page(live_system):
    web = live_system.web_url
    event_id = make_event(live_system, title="<b>Курс</b>", registration_open=True)
    evil = "<script>alert(1)</script>"
    # Refused on the way in today; a record saved before the rule must still be shown as text.
    participant = add_old_participant(live_system, event_id, evil, "evil@example.ru", organisation=evil)
    page = requests.get(f"{web}/p/{participant['token']}").text
    assert evil not in page and "<b>Курс</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    form = requests.get(f"{web}/events/{event_id}/register").text
    assert "<b>Курс</b>" not in form and "&lt;b&gt;Курс&lt;/b&gt;" in form
