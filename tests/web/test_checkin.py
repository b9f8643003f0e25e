"""The check-in screen's gateway routes against the real services over HTTP: outcomes, undo, counters,
and what happens when a service is down."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from tests.conftest import auth_headers
from tests.web.support import Tablet, counters, csrf_token, make_course


def test_checkin_by_code_records_the_outcome_with_staff_and_device(live_system, staff_factory, db_backend):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course)
    assert tablet.screen.status_code == 200
    assert 'inputmode="text"' in tablet.screen.text and 'autocomplete="off"' in tablet.screen.text
    device = tablet.http.cookies.get("device")
    assert device, "the screen gives the tablet a device id"
    assert counters(tablet.fragment("counters")) == ("0", "2")  # the cancelled one is not expected

    elkin = course.people["elkin"]
    nonce = str(uuid.uuid4())
    first = tablet.scan(nonce, code=elkin["code"])
    assert first.status_code == 201, first.text
    assert first.headers["X-Checkin-Outcome"] == "checked_in"
    assert first.headers["HX-Trigger"] == "checkin-recorded"
    assert "Отмечен" in first.text and "Ёлкин Пётр" in first.text

    retry = tablet.scan(nonce, code=elkin["code"])  # the same nonce: a resend, not a second check-in
    assert retry.status_code == 200 and retry.headers["X-Checkin-Outcome"] == "checked_in"

    again = tablet.scan(code=elkin["code"].lower())  # a new scan of the same badge
    assert again.headers["X-Checkin-Outcome"] == "already_checked_in"
    assert "Уже отмечен" in again.text and "Тест checkin" in again.text  # by whom, by name

    assert counters(tablet.fragment("counters"))[0] == "1"
    records = requests.get(
        f"{live_system.urls['certificates']}/api/v1/events/{course.id}/checkins",
        params={"day": course.day},
        headers=auth_headers(),
    ).json()["items"]
    assert [r["outcome"] for r in records] == ["already_checked_in", "checked_in"]
    assert {(r["staff"], r["device"]) for r in records} == {(username, device)}


def test_unknown_cancelled_and_not_on_list_are_told_apart_and_recorded(
    live_system, staff_factory, db_backend
):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course)

    unknown = tablet.scan(code="NOSUCHCODE")
    assert unknown.status_code == 201 and unknown.headers["X-Checkin-Outcome"] == "unknown_code"
    assert "Неизвестный код" in unknown.text

    cancelled = tablet.scan(participant_id=course.people["sidorov"]["id"])
    assert cancelled.headers["X-Checkin-Outcome"] == "cancelled"
    assert "Регистрация отменена" in cancelled.text and "Сидоров" in cancelled.text

    elsewhere = Tablet(live_system.web_url, username, password, course)
    elsewhere.session_id = 999999  # a session that is not in this event's programme
    not_on_list = elsewhere.scan(participant_id=course.people["elkin"]["id"])
    assert not_on_list.headers["X-Checkin-Outcome"] == "not_on_list", not_on_list.text
    assert "Нет в списке" in not_on_list.text

    log = tablet.fragment("log")  # failed scans are in the log too
    assert "NOSUCHCODE" in log and "Сидоров" in log and "Отменить" not in log


def test_personal_link_from_the_badge_qr_checks_in_for_a_session(live_system, staff_factory, db_backend):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course, session_id=course.session_id)
    assert tablet.screen.status_code == 200 and "Госпаблики" in tablet.screen.text
    qr = f"{live_system.web_url}/p/{course.people['ivanova']['token']}"
    response = tablet.scan(code=qr)
    assert response.headers["X-Checkin-Outcome"] == "checked_in", response.text
    assert counters(tablet.fragment("counters"))[0] == "1"
    # the door of the same day counts separately from the session
    door = Tablet(live_system.web_url, username, password, course)
    assert counters(door.fragment("counters"))[0] == "0"


def test_search_finds_elkin_by_elk(live_system, staff_factory, db_backend):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course)
    rows = tablet.http.get(
        f"{live_system.web_url}/events/{course.id}/checkin/search",
        params={"q": "елк", "day": course.day},
        headers={"HX-Request": "true"},
    )
    assert rows.status_code == 200, rows.text[:500]
    assert "Ёлкин Пётр" in rows.text and f'data-participant-id="{course.people["elkin"]["id"]}"' in rows.text


def test_undo_is_logged_and_happens_once(live_system, staff_factory, db_backend):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course)
    tablet.scan(participant_id=course.people["elkin"]["id"])
    log = tablet.fragment("log")
    undo_url = re.search(r'data-undo-url="([^"]+)"', log).group(1)

    headers = {"X-CSRFToken": tablet.token, "HX-Request": "true"}
    undone = tablet.http.post(
        live_system.web_url + undo_url,
        headers=headers,
        json={"nonce": str(uuid.uuid4()), "reason": "mistake"},
    )
    assert undone.status_code == 201 and undone.headers["X-Checkin-Outcome"] == "undo"
    assert "Отметка отменена" in undone.text
    assert counters(tablet.fragment("counters"))[0] == "0"
    assert "Отменить" not in tablet.fragment("log")

    twice = tablet.http.post(
        live_system.web_url + undo_url,
        headers=headers,
        json={"nonce": str(uuid.uuid4()), "reason": "mistake"},
    )
    assert twice.status_code == 409 and "нельзя отменить" in twice.text


def test_scan_without_csrf_token_is_refused_with_400(live_system, staff_factory):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course)
    tablet.token = "stale"
    assert (
        tablet.scan(code=course.people["elkin"]["code"]).status_code == 400
    )  # checkin.js: «Обновите страницу»


def test_certificates_down_answers_503_in_russian_and_the_screen_still_opens(
    live_system, staff_factory, db_backend
):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    live_system.stop("certificates")
    tablet = Tablet(live_system.web_url, username, password, course)
    assert tablet.screen.status_code == 200
    response = tablet.scan(code=course.people["elkin"]["code"])
    assert response.status_code == 503
    assert response.headers["X-Checkin-Outcome"] == "unavailable"
    assert "Нет связи с сервисом сертификатов" in response.text and "сохранена на планшете" in response.text
    assert counters(tablet.fragment("counters")) == ("—", "2")


def test_registration_down_answers_503(live_system, staff_factory):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course)
    live_system.stop("registration")
    response = tablet.scan(code=course.people["elkin"]["code"])
    assert response.status_code == 503 and "Нет связи с сервисом регистрации" in response.text


def test_feedback_down_changes_nothing(live_system, staff_factory, db_backend):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    live_system.stop("feedback")
    tablet = Tablet(live_system.web_url, username, password, course)
    assert tablet.screen.status_code == 200
    response = tablet.scan(code=course.people["elkin"]["code"])
    assert response.status_code == 201 and response.headers["X-Checkin-Outcome"] == "checked_in"


def test_without_javascript_a_tapped_row_posts_and_the_screen_shows_the_outcome(live_system, staff_factory):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course)
    found = tablet.http.get(tablet.screen_url + "&q=елк")  # the search form reloads the page
    assert "Ёлкин Пётр" in found.text
    response = tablet.http.post(
        f"{live_system.web_url}/events/{course.id}/checkin/scan",
        data={
            "csrf_token": csrf_token(found.text),
            "participant_id": course.people["elkin"]["id"],
            "day": course.day,
            "session_id": "",
        },
    )
    assert response.status_code == 201 and "<html" in response.text
    assert re.search(r'banner-title">\s*Отмечен\s*</strong>', response.text)  # the verb agrees: he is male


def test_without_javascript_an_outage_says_nothing_was_recorded(live_system, staff_factory):
    course = make_course(live_system)
    tablet = Tablet(live_system.web_url, *staff_factory("checkin"), course)
    live_system.stop("certificates")
    response = tablet.http.post(
        f"{live_system.web_url}/events/{course.id}/checkin/scan",
        data={
            "csrf_token": tablet.token,
            "participant_id": course.people["elkin"]["id"],
            "day": course.day,
            "session_id": "",
        },
    )
    assert response.status_code == 503 and "<html" in response.text
    banner = re.search(r'<div id="banner".*?</div>\s*</div>', response.text, re.S).group(0)
    assert "не записана" in banner and "планшет" not in banner  # nothing keeps a plain form


@pytest.mark.parametrize(
    "body",
    [
        {"code": "K7M2\x00QX"},  # a crafted QR: a NUL
        {"code": "https://x.example/p/\x1b[2J"},  # an escape sequence
        {"code": "\x7fK7M2QX\x01"},
    ],
)
def test_a_crafted_code_is_refused_for_good_not_kept_for_resending(live_system, staff_factory, body):
    course = make_course(live_system)
    tablet = Tablet(live_system.web_url, *staff_factory("checkin"), course)
    response = tablet.scan(**body)
    # A 4xx: checkin.js shows it and drops the scan; only 502-504 (and no network) are sent again.
    assert response.status_code == 422 and response.headers["X-Checkin-Outcome"] == "error"
    assert "повреждён или подделан" in response.text
    assert counters(tablet.fragment("counters"))[0] == "0"


def test_a_lone_surrogate_in_the_json_is_an_error_not_a_500(live_system, staff_factory):
    course = make_course(live_system)
    tablet = Tablet(live_system.web_url, *staff_factory("checkin"), course)
    raw = '{"nonce": "n-1", "day": "' + course.day + '", "code": "\\ud800K7"}'  # not encodable as UTF-8
    response = tablet.http.post(
        f"{live_system.web_url}/events/{course.id}/checkin/scan",
        data=raw.encode(),
        headers={"X-CSRFToken": tablet.token, "HX-Request": "true", "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.headers["X-Checkin-Outcome"] == "error"


def test_a_service_failing_on_a_scan_is_told_from_one_that_is_down(live_system, staff_factory):
    from flask import Flask

    from tests.conftest import LiveServer

    failing = Flask("failing")
    failing.add_url_rule("/<path:anything>", "fail", lambda anything: ("boom", 500), methods=["GET", "POST"])
    server = LiveServer(failing)
    course = make_course(live_system)
    tablet = Tablet(live_system.web_url, *staff_factory("checkin"), course)
    live_system.apps["web"].extensions["service_clients"]["certificates"].base_url = server.url
    try:
        failed = tablet.scan(code=course.people["elkin"]["code"])
    finally:
        server.stop()
    assert failed.status_code == 422 and failed.headers["X-Checkin-Outcome"] == "error"  # dropped, not kept
    assert "Не отмечено" in failed.text and "найдите человека по имени" in failed.text
    down = tablet.scan(code=course.people["elkin"]["code"])  # nobody answers at that address now
    assert down.status_code == 503 and down.headers["X-Checkin-Outcome"] == "unavailable"


@pytest.mark.parametrize(
    ("registered", "words"),
    [
        (1, "из 1 зарегистрированного"),
        (3, "из 3 зарегистрированных"),
        (21, "из 21 зарегистрированного"),
        (45, "из 45 зарегистрированных"),
        (None, "из — зарегистрированных"),
    ],
)
def test_the_second_counter_says_what_it_counts(gateway, registered, words):
    from flask import render_template

    with gateway.test_request_context():
        html = render_template("checkin/_counters.html", checked_in=3, expected=registered)
    assert words in re.sub(r"<[^>]+>", "", " ".join(html.split())).replace("\xa0", " ")
    assert "ожидается" not in html
    assert counters(html)[1] == ("—" if registered is None else str(registered))


def test_badges_for_the_ticked_rows_say_selected(gateway):
    with gateway.test_request_context():
        from flask_babel import gettext

        assert gettext("Badges for the selected (PDF)") == "Бейджи для выбранных (PDF)"
