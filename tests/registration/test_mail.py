"""Letters to participants through a real SMTP server on loopback and the real mail worker (RQ, Redis):
every kind read back, refusals and dropped connections, the outbox, opt-out, no server at all."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, update

from eventops.db import utcnow
from services.registration.models import MailMessage, MessageStatus
from services.registration.tasks import Throttle
from tests.registration.mail_support import PUBLIC_URL, SmtpServer, parts, run_worker
from tests.registration.support import registration_api

FORM = {
    "surname": "Ёлкина",
    "first_name": "Анна",
    "patronymic": "Сергеевна",
    "email": "anna@mfc.example.ru",
    "region_code": "16",
    "organisation": "МФЦ Казани",
    "consent": True,
}
LINK = re.compile(re.escape(PUBLIC_URL) + r"/p/([A-Za-z0-9_-]{43})")


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def api(app_factory, db_backend, smtp, redis_connection):
    return registration_api(app_factory, smtp=smtp.settings, public_url=PUBLIC_URL)


def statuses(database_url: str) -> dict[int, tuple[str, str]]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(MailMessage.id, MailMessage.status, MailMessage.server_answer).order_by(MailMessage.id)
        ).all()
    engine.dispose()
    return {row.id: (MessageStatus(row.status).value, row.server_answer) for row in rows}


def change(database_url: str, **values) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(update(MailMessage).values(**values))
    engine.dispose()


def the_link_opens_only_their_page(api, text: str, html: str, participant_id: int) -> None:
    tokens = set(LINK.findall(text)) | set(LINK.findall(html))
    assert len(tokens) == 1, tokens
    opened = api.get(f"/participants/by-token/{tokens.pop()}")
    assert opened.status_code == 200
    assert opened.json["participant"]["id"] == participant_id


def test_registration_mails_the_personal_link_and_a_repeat_gets_it_again(api, smtp, database_url, tmp_path):
    event_id = api.event(registration_open=True, title="Цифровые коммуникации")
    created = api.post(f"/events/{event_id}/registrations", FORM)
    assert created.status_code == 201
    run_worker(database_url, smtp, tmp_path)

    [letter] = smtp.inbox.received
    assert letter["To"].addresses[0].addr_spec == "anna@mfc.example.ru"
    assert letter["To"].addresses[0].display_name == "Ёлкина Анна Сергеевна"
    assert letter["Subject"] == "Регистрация: Цифровые коммуникации"
    assert letter["Auto-Submitted"] == "auto-generated"
    assert letter["Message-ID"].endswith("@uriu.example.ru>")
    assert letter["Date"] and letter["List-Unsubscribe"] is None  # transactional: no unsubscribe
    text, html = parts(letter)
    assert "Здравствуйте, Анна Сергеевна!" in text and "Здравствуйте, Анна Сергеевна!" in html
    assert "Цифровые коммуникации" in text and "7–9 октября 2026 г." in text
    assert "<img" not in html  # no tracking pixel, no remote image of any kind
    assert set(re.findall(r'href="([^"]+)"', html)) == {f"{PUBLIC_URL}/p/{created.json['token']}"}
    the_link_opens_only_their_page(api, text, html, created.json["id"])

    # The same e-mail again, at once: the form answers the same (409 to the gateway), nothing floods.
    again = api.post(f"/events/{event_id}/registrations", {**FORM, "email": " ANNA@mfc.example.ru"})
    assert again.status_code == 409
    run_worker(database_url, smtp, tmp_path)
    assert len(smtp.inbox.received) == 1
    # Later, the same letter again, with the same link.
    change(database_url, created_at=utcnow() - timedelta(hours=1))
    assert api.post(f"/events/{event_id}/registrations", FORM).status_code == 409
    run_worker(database_url, smtp, tmp_path)
    first, second = smtp.inbox.received
    assert parts(second)[0] == parts(first)[0]
    assert second["Message-ID"] != first["Message-ID"]


def test_every_kind_of_letter_and_the_bulk_opt_out(api, smtp, database_url, tmp_path):
    event_id = api.event()
    anna = api.participant(
        event_id, surname="Иванова", first_name="Анна", email="anna@a.example.ru", region_code="16"
    )
    boris = api.participant(
        event_id,
        surname="Петров",
        first_name="Борис",
        email="boris@b.example.ru",
        region_code="16",
        organisation="МФЦ Казани",
    )
    vera = api.participant(
        event_id, surname="Орлова", first_name="Вера", email="vera@c.example.ru", region_code="23"
    )
    opted = api.post(f"/participants/by-token/{anna['token']}/mail", {"opted_out": True})
    assert opted.status_code == 200

    # An organiser writes to the region-16 group: Anna opted out, Vera is from another region.
    sent = api.post(
        f"/events/{event_id}/mail/campaigns",
        {
            "subject": "Трансфер в аэропорт",
            "body": "Автобус в 18:00.\n\nСбор у входа <b>А</b>.",
            "region_code": "16",
            "audience": "регион 16",
            "created_by": "organiser",
        },
    )
    assert sent.status_code == 201, sent.json
    assert (sent.json["messages"], sent.json["skipped"]) == (1, 1)
    ready = api.post(
        f"/events/{event_id}/mail/certificates-ready",
        {"certificates": [{"participant_id": anna["id"], "number": "ПК-0001"}]},
    )
    assert ready.json["messages"] == 1  # transactional: opting out of bulk mail does not stop it
    invited = api.post(
        f"/events/{event_id}/mail/survey-invitations",
        {"survey_key": "expert", "title": "Экспертный опрос", "participant_ids": [anna["id"], vera["id"]]},
    )
    assert invited.json["messages"] == 2
    reminded = api.post(
        f"/events/{event_id}/mail/survey-invitations",
        {
            "survey_key": "expert",
            "title": "Экспертный опрос",
            "participant_ids": [vera["id"]],
            "reminder": True,
        },
    )
    assert reminded.json["messages"] == 1
    # Asked twice, nothing is written twice.
    twice = api.post(
        f"/events/{event_id}/mail/survey-invitations",
        {"survey_key": "expert", "title": "Экспертный опрос", "participant_ids": [vera["id"]]},
    )
    assert (twice.json["messages"], twice.json["skipped"]) == (0, 1)
    run_worker(database_url, smtp, tmp_path)

    inbox = smtp.inbox
    assert len(inbox.received) == 5
    [bulk] = inbox.by_subject("Трансфер")
    assert bulk["To"].addresses[0].addr_spec == "boris@b.example.ru"
    # (folded onto its own line, being long: the leading space is the fold's)
    assert bulk["List-Unsubscribe"].strip() == f"<{PUBLIC_URL}/p/{boris['token']}/mail/unsubscribe>"
    assert bulk["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(bulk)
    assert "Автобус в 18:00." in text and "Сбор у входа <b>А</b>." in text
    assert "Сбор у входа &lt;b&gt;А&lt;/b&gt;." in html  # what the organiser typed is text, not markup
    the_link_opens_only_their_page(
        api, text.split("Не получать")[0], html.split("Не получать")[0], boris["id"]
    )
    [certificate] = inbox.by_subject("Ваше удостоверение готово")
    text, html = parts(certificate)
    assert "№ ПК-0001" in text and certificate["List-Unsubscribe"] is None
    the_link_opens_only_their_page(api, text, html, anna["id"])
    invitations = inbox.by_subject("Опрос: Экспертный опрос")
    assert sorted(m["To"].addresses[0].addr_spec for m in invitations) == [
        "anna@a.example.ru",
        "vera@c.example.ru",
    ]
    [reminder] = inbox.by_subject("Напоминание")
    text, html = parts(reminder)
    assert "ещё не ответили" in text
    the_link_opens_only_their_page(api, text, html, vera["id"])

    outbox = api.get(f"/events/{event_id}/mail/messages").json
    assert outbox["counts"]["sent"] == 5 and outbox["sending_enabled"] is True
    assert {item["kind"] for item in outbox["items"]} == {
        "organiser",
        "certificate_ready",
        "survey_invitation",
        "survey_reminder",
    }


@pytest.mark.parametrize("mode", ["refuse", "drop"])
def test_a_refusing_or_hanging_up_server_leaves_letters_failed_and_resendable(
    api, smtp, database_url, tmp_path, mode
):
    event_id = api.event()
    people = [
        api.participant(
            event_id, surname=f"Тестов{'абвгд'[i]}", first_name="Иван", email=f"p{i}@x.example.ru"
        )
        for i in range(3)
    ]
    smtp.inbox.mode = mode
    api.post(f"/events/{event_id}/mail/campaigns", {"subject": "Новости", "body": "Текст"})
    run_worker(database_url, smtp, tmp_path)
    assert smtp.inbox.received == []
    failed = statuses(database_url)
    assert [status for status, _answer in failed.values()] == ["failed"] * 3
    answer = next(iter(failed.values()))[1]
    if mode == "refuse":
        assert answer == "554 5.7.1 Message rejected: spam policy"
    else:
        assert "closed the connection" in answer
    outbox = api.get(f"/events/{event_id}/mail/messages?status=failed").json
    assert outbox["counts"]["failed"] == 3 and outbox["items"][0]["server_answer"] == answer

    # Running the worker again sends nothing by itself; the organiser resends one, then all failed.
    run_worker(database_url, smtp, tmp_path)
    smtp.inbox.mode = None
    first = min(failed)
    assert api.post(f"/events/{event_id}/mail/messages/{first}/resend").json["messages"] == 1
    run_worker(database_url, smtp, tmp_path)
    assert len(smtp.inbox.received) == 1
    assert api.post(f"/events/{event_id}/mail/resend", {}).json["messages"] == 2
    assert api.post(f"/events/{event_id}/mail/resend", {}).json["messages"] == 0  # pressed twice
    run_worker(database_url, smtp, tmp_path)
    run_worker(database_url, smtp, tmp_path)  # a retried job sends nothing again
    received = sorted(m["To"].addresses[0].addr_spec for m in smtp.inbox.received)
    assert received == sorted(p["email"] for p in people)
    assert {status for status, _ in statuses(database_url).values()} == {"sent"}
    # A sent letter is not resent either.
    assert api.post(f"/events/{event_id}/mail/messages/{first}/resend").json["messages"] == 0


def test_a_refused_recipient_bounces_and_the_rest_go(api, smtp, database_url, tmp_path):
    event_id = api.event()
    api.participant(event_id, surname="Нет", first_name="Адреса", email="gone@x.example.ru")
    api.participant(event_id, surname="Есть", first_name="Адрес", email="here@x.example.ru")
    smtp.inbox.unknown_recipients = {"gone@x.example.ru"}
    api.post(f"/events/{event_id}/mail/campaigns", {"subject": "Новости", "body": "Текст"})
    run_worker(database_url, smtp, tmp_path)
    assert [m["To"].addresses[0].addr_spec for m in smtp.inbox.received] == ["here@x.example.ru"]
    bounced, sent = statuses(database_url).values()
    assert bounced == ("bounced", "550 5.1.1 <gone@x.example.ru>: Recipient address rejected: User unknown")
    assert sent == ("sent", "")


def test_an_attempt_that_died_mid_send_is_reconciled_as_failed_not_resent(api, smtp, database_url, tmp_path):
    event_id = api.event()
    api.participant(event_id, surname="Иванова", first_name="Анна", email="anna@a.example.ru")
    api.post(f"/events/{event_id}/mail/campaigns", {"subject": "Новости", "body": "Текст"})
    # What a worker killed inside the SMTP transaction leaves behind.
    change(database_url, status=MessageStatus.sending.value, sending_at=utcnow() - timedelta(minutes=5))
    run_worker(database_url, smtp, tmp_path)
    [(status, answer)] = statuses(database_url).values()
    assert status == "failed" and answer.startswith("interrupted during sending")
    assert smtp.inbox.received == []


def test_without_an_smtp_server_letters_are_held_for_organisers_to_read(
    app_factory, db_backend, database_url, redis_connection, tmp_path
):
    api = registration_api(app_factory, public_url=PUBLIC_URL)
    event_id = api.event(registration_open=True)
    created = api.post(f"/events/{event_id}/registrations", FORM).json
    outbox = api.get(f"/events/{event_id}/mail/messages").json
    assert outbox["sending_enabled"] is False
    [held] = outbox["items"]
    assert held["status"] == "held" and "SMTP_HOST" in held["server_answer"]
    letter = api.get(f"/events/{event_id}/mail/messages/{held['id']}").json
    assert f"{PUBLIC_URL}/p/{created['token']}" in letter["text_body"]
    assert api.post(f"/events/{event_id}/mail/messages/{held['id']}/resend").json["messages"] == 0
    assert redis_connection.llen("rq:queue:mail") == 0
    run_worker(database_url, None, tmp_path)
    assert statuses(database_url)[held["id"]][0] == "held"


def test_the_throttle_spaces_letters_across_callers(redis_connection):
    first, second = (
        Throttle(redis_connection, 20.0, key="test:mail:rate"),
        Throttle(redis_connection, 20.0, key="test:mail:rate"),
    )
    started = time.perf_counter()
    for _ in range(3):
        first.wait()
        second.wait()
    # six slots 50 ms apart: the last starts 250 ms after the first
    assert 0.24 <= time.perf_counter() - started < 0.6


def test_an_anonymous_surveys_reminder_does_not_claim_to_know_who_answered():
    from datetime import date

    from services.registration.mail import survey_letter
    from services.registration.models import Event, Participant

    event = Event(title="Курс", starts_on=date(2026, 10, 7), ends_on=date(2026, 10, 9))
    person = Participant(first_name="Анна", patronymic=None)
    named = survey_letter(event, person, "Анкета", reminder=True)
    anonymous = survey_letter(event, person, "Анкета", reminder=True, anonymous=True)
    assert "вы ещё не ответили" in named.paragraphs[1] and not named.paragraphs[1].startswith("Если")
    assert anonymous.paragraphs[1].startswith("Если вы ещё не ответили на анонимный опрос «Анкета»")
