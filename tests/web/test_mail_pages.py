"""The gateway's mail pages: who may open the outbox, the public form's letter for a new and a known e-mail
(held without a mail server, readable by organisers), the attendance filter, and the opt-out page."""

from __future__ import annotations

import re
import uuid

import requests

from tests.conftest import auth_headers
from tests.web.support import add_participant, api, csrf_token, make_event, post_form, staff_session
from tests.web.test_public_pages import PERSON, register

LINK = re.compile(r"/p/([A-Za-z0-9_-]{43})")


def outbox(system, event_id: int) -> dict:
    return api(system, "GET", f"/api/v1/events/{event_id}/mail/messages")


def test_only_organisers_open_the_outbox(live_system, staff_factory):
    event_id = make_event(live_system)
    path = f"{live_system.web_url}/events/{event_id}/mail"
    assert requests.get(path, allow_redirects=False).status_code == 302  # to the login page
    assert staff_session(live_system, staff_factory, "checkin").get(path).status_code == 403
    assert staff_session(live_system, staff_factory, "organiser").get(path).status_code == 200


def test_the_public_form_writes_the_same_letter_for_a_new_and_a_known_email(
    live_system, staff_factory, db_backend
):
    web = live_system.web_url
    event_id = make_event(live_system, registration_open=True)
    first = register(web, event_id, PERSON)
    again = register(web, event_id, {**PERSON, "surname": "Другая", "email": "ANNA@example.ru "})
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    [participant] = api(live_system, "GET", f"/api/v1/events/{event_id}/participants")["items"]
    assert participant["surname"] == "Ёлкина"  # the known one is not changed

    # No mail server in tests: the letter is held, and the organiser reads it in the outbox.
    [letter] = outbox(live_system, event_id)["items"]
    assert (letter["status"], letter["kind"], letter["to_address"]) == (
        "held",
        "confirmation",
        "anna@example.ru",
    )
    organiser = staff_session(live_system, staff_factory)
    page = organiser.get(f"{web}/events/{event_id}/mail")
    assert "Почтовый сервер не настроен" in page.text and "не отправлено (нет почтового сервера)" in page.text
    read = organiser.get(f"{web}/events/{event_id}/mail/messages/{letter['id']}")
    assert read.status_code == 200
    [token] = set(LINK.findall(read.text))
    own = requests.get(f"{web}/p/{token}")
    assert own.status_code == 200 and "Ёлкина" in own.text


def test_a_letter_to_those_who_never_came(live_system, staff_factory):
    web = live_system.web_url
    event_id = make_event(live_system)
    came = add_participant(live_system, event_id, "Пришедший", "came@example.ru")
    add_participant(live_system, event_id, "Непришедший", "away@example.ru")
    scan = requests.post(
        live_system.urls["certificates"] + f"/api/v1/events/{event_id}/checkins",
        json={
            "nonce": str(uuid.uuid4()),
            "day": "2026-10-07",
            "scanned_at": "2026-10-07T09:01:02+03:00",
            "raw_code": came["code"],
            "participant": {
                "id": came["id"],
                "event_id": event_id,
                "status": came["status"],
                "full_name": came["full_name"],
            },
        },
        headers={**auth_headers(), "X-Staff-User": "petrova (checkin)", "X-Device": "tablet-3"},
        timeout=10,
    )
    assert scan.status_code < 300, scan.text
    organiser = staff_session(live_system, staff_factory)
    sent = post_form(
        organiser,
        f"{web}/events/{event_id}/mail/new",
        {"subject": "Материалы", "body": "Материалы курса на личной странице.", "checked_in": "no"},
    )
    assert sent.status_code == 303, sent.text[:2000]
    [letter] = outbox(live_system, event_id)["items"]
    assert letter["to_address"] == "away@example.ru"


def test_a_participant_opts_out_on_their_page_or_with_one_click(live_system):
    web = live_system.web_url
    event_id = make_event(live_system)
    anna = add_participant(live_system, event_id, "Иванова", "anna@example.ru")
    boris = add_participant(live_system, event_id, "Петров", "boris@example.ru")
    page = requests.Session()
    shown = page.get(f"{web}/p/{anna['token']}/mail/unsubscribe")
    assert shown.status_code == 200 and 'data-opted-out="no"' in shown.text
    done = page.post(
        f"{web}/p/{anna['token']}/mail/unsubscribe",
        data={"opted_out": "1", "csrf_token": csrf_token(shown.text)},
    )
    assert 'data-opted-out="yes"' in done.text
    # RFC 8058: the mail client posts this body to the List-Unsubscribe address, with no cookie or token.
    one_click = requests.post(
        f"{web}/p/{boris['token']}/mail/unsubscribe", data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 200 and 'data-opted-out="yes"' in one_click.text
    assert requests.get(f"{web}/p/{'x' * 43}/mail/unsubscribe").status_code == 404
    # Both are left out of an organiser's letter.
    queued = api(
        live_system,
        "POST",
        f"/api/v1/events/{event_id}/mail/campaigns",
        json={"subject": "Тема", "body": "Текст"},
    )
    assert (queued["messages"], queued["skipped"]) == (0, 2)


def test_holders_of_ready_certificates_are_told_once(live_system, staff_factory, database_url):
    from services.certificates.models import CertificateStatus
    from tests.certificates.support import add_certificates, update

    web = live_system.web_url
    event_id = make_event(live_system)
    anna = add_participant(live_system, event_id, "Иванова", "anna@example.ru")
    boris = add_participant(live_system, event_id, "Петров", "boris@example.ru")
    ready, pending = add_certificates(database_url, 2, event_id=event_id)
    update(database_url, ready, participant_id=anna["id"], status=CertificateStatus.rendered)
    update(database_url, pending, participant_id=boris["id"])  # its PDF is not ready yet
    organiser = staff_session(live_system, staff_factory)
    page = f"{web}/events/{event_id}/mail"
    told = post_form(organiser, f"{web}/events/{event_id}/mail/certificates-ready", {}, page_url=page)
    assert told.status_code == 303
    [letter] = outbox(live_system, event_id)["items"]
    assert (letter["kind"], letter["to_address"]) == ("certificate_ready", "anna@example.ru")
    assert "Письмо о готовом удостоверении написано 1 участнику." in organiser.get(page).text
    post_form(organiser, f"{web}/events/{event_id}/mail/certificates-ready", {}, page_url=page)
    assert len(outbox(live_system, event_id)["items"]) == 1


def test_survey_invitations_and_one_reminder_to_those_who_have_not_answered(live_system, staff_factory):
    web, feedback = live_system.web_url, live_system.urls["feedback"] + "/api/v1"
    event_id = make_event(live_system)
    answered = add_participant(live_system, event_id, "Ответившая", "yes@example.ru")
    add_participant(live_system, event_id, "Молчащий", "no@example.ru")
    survey = requests.post(
        f"{feedback}/events/{event_id}/surveys",
        json={"title": "Оценка курса", "questions": [{"kind": "rating", "text": "Полезно?"}]},
        headers=auth_headers(),
        timeout=10,
    ).json()
    assert requests.post(f"{feedback}/surveys/{survey['id']}/open", headers=auth_headers(), timeout=10).ok
    submitted = requests.put(
        f"{feedback}/surveys/{survey['id']}/responses/by-participant/{answered['id']}",
        json={"answers": {}, "submit": True, "respondent": {}},
        headers=auth_headers(),
        timeout=10,
    )
    assert submitted.ok, submitted.text
    organiser = staff_session(live_system, staff_factory)
    page = f"{web}/events/{event_id}/mail"
    assert "Оценка курса" in organiser.get(page).text
    action = f"{web}/events/{event_id}/mail/surveys/{survey['id']}"
    for reminder in ("0", "1", "0", "1"):  # pressed twice each: nobody gets a second copy
        assert post_form(organiser, action, {"reminder": reminder}, page_url=page).status_code == 303
    letters = outbox(live_system, event_id)["items"]
    kinds = sorted((letter["kind"], letter["to_address"]) for letter in letters)
    assert kinds == [
        ("survey_invitation", "no@example.ru"),
        ("survey_invitation", "yes@example.ru"),
        ("survey_reminder", "no@example.ru"),
    ]
