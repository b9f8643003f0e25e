"""The check-in screen's gateway routes against the real services over HTTP: outcomes, undo, counters,
roles, and what happens when a service is down."""
from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import requests
from openpyxl import load_workbook

from tests.conftest import auth_headers
from tests.web.support import csrf_token, logged_in_session

TODAY = date.today()


@dataclass
class Course:
    """An event of two days with one session, and participants by a short name."""

    id: int
    session_id: int
    day: str
    people: dict[str, dict]


def make_course(system) -> Course:
    """Creates the course through registration's API (as the import would)."""
    registration_url = system.urls["registration"]
    # Certificates asks registration for the programme; point it at this test's registration server.
    system.apps["certificates"].config.setdefault("REGISTRATION_URL", registration_url)
    api = requests.Session()
    api.headers.update(auth_headers())
    slug = "checkin-" + uuid.uuid4().hex[:8]
    event = api.post(f"{registration_url}/api/v1/events", json={
        "slug": slug, "title": "Цифровые коммуникации", "organiser": "ЮРИУ РАНХиГС", "place": "Сочи",
        "starts_on": TODAY.isoformat(), "ends_on": (TODAY + timedelta(days=1)).isoformat()})
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    session = api.post(f"{registration_url}/api/v1/events/{event_id}/sessions", json={
        "day": TODAY.isoformat(), "starts_at": "10:00", "ends_at": "11:30", "title": "Госпаблики",
        "kind": "lecture", "academic_hours": 2})
    assert session.status_code == 201, session.text
    people = {}
    for key, fields in {
        "elkin": {"surname": "Ёлкин", "first_name": "Пётр", "organisation": "МФЦ Сочи", "gender": "male"},
        "ivanova": {"surname": "Иванова", "first_name": "Анна", "organisation": "=HYPERLINK(\"http://x\")",
                    "gender": "female"},
        "sidorov": {"surname": "Сидоров", "first_name": "Олег", "status": "cancelled"},
    }.items():
        created = api.post(f"{registration_url}/api/v1/events/{event_id}/participants",
                           json={"email": f"{key}@example.ru", **fields})
        assert created.status_code == 201, created.text
        people[key] = created.json()
    return Course(id=event_id, session_id=session.json()["id"], day=TODAY.isoformat(), people=people)


class Tablet:
    """A logged-in check-in tablet talking to the gateway as checkin.js does."""

    def __init__(self, web_url: str, username: str, password: str, course: Course, session_id=None):
        self.web_url, self.course, self.session_id = web_url, course, session_id
        self.http = logged_in_session(web_url, username, password)
        self.screen = self.http.get(self.screen_url)
        self.token = csrf_token(self.screen.text) if self.screen.status_code == 200 else ""

    @property
    def screen_url(self) -> str:
        extra = f"&session_id={self.session_id}" if self.session_id else ""
        return f"{self.web_url}/events/{self.course.id}/checkin?day={self.course.day}{extra}"

    def scan(self, nonce: str | None = None, **what) -> requests.Response:
        return self.http.post(f"{self.web_url}/events/{self.course.id}/checkin/scan", headers={
            "X-CSRFToken": self.token, "HX-Request": "true"}, json={
            "nonce": nonce or str(uuid.uuid4()), "day": self.course.day, "session_id": self.session_id,
            "scanned_at": datetime.now(timezone.utc).isoformat(), **what})

    def fragment(self, name: str) -> str:
        extra = f"&session_id={self.session_id}" if self.session_id else ""
        response = self.http.get(f"{self.web_url}/events/{self.course.id}/checkin/{name}?day={self.course.day}{extra}",
                                 headers={"HX-Request": "true"})
        assert response.status_code == 200, response.text
        return response.text


def counters(html: str) -> tuple[str, str]:
    checked = re.search(r'id="count-checked-in">([^<]+)<', html).group(1)
    expected = re.search(r'id="count-expected">([^<]+)<', html).group(1)
    return checked, expected


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
    records = requests.get(f"{live_system.urls['certificates']}/api/v1/events/{course.id}/checkins",
                           params={"day": course.day}, headers=auth_headers()).json()["items"]
    assert [r["outcome"] for r in records] == ["already_checked_in", "checked_in"]
    assert {(r["staff"], r["device"]) for r in records} == {(username, device)}


def test_unknown_cancelled_and_not_on_list_are_told_apart_and_recorded(live_system, staff_factory, db_backend):
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
    rows = tablet.http.get(f"{live_system.web_url}/events/{course.id}/checkin/search",
                           params={"q": "елк", "day": course.day}, headers={"HX-Request": "true"})
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
    undone = tablet.http.post(live_system.web_url + undo_url, headers=headers,
                              json={"nonce": str(uuid.uuid4()), "reason": "mistake"})
    assert undone.status_code == 201 and undone.headers["X-Checkin-Outcome"] == "undo"
    assert "Отметка отменена" in undone.text
    assert counters(tablet.fragment("counters"))[0] == "0"
    assert "Отменить" not in tablet.fragment("log")

    twice = tablet.http.post(live_system.web_url + undo_url, headers=headers,
                             json={"nonce": str(uuid.uuid4()), "reason": "mistake"})
    assert twice.status_code == 409 and "нельзя отменить" in twice.text


def test_scan_without_csrf_token_is_refused_with_400(live_system, staff_factory):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course)
    tablet.token = "stale"
    assert tablet.scan(code=course.people["elkin"]["code"]).status_code == 400  # checkin.js: «Обновите страницу»


def test_certificates_down_answers_503_in_russian_and_the_screen_still_opens(live_system, staff_factory,
                                                                               db_backend):
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


def test_checkin_staff_cannot_reach_organiser_pages(live_system, staff_factory, db_backend):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    http = logged_in_session(live_system.web_url, username, password)
    token = csrf_token(http.get(f"{live_system.web_url}/checkin").text)
    base = f"{live_system.web_url}/events/{course.id}"
    for path in ("/attendance", "/attendance.xlsx", "/participants", "/participants/new", "/edit",
                 "/participants/export"):
        assert http.get(base + path, allow_redirects=False).status_code == 403, path
    bulk = http.post(base + "/attendance/bulk", data={"csrf_token": token, "target": f"day:{course.day}",
                                                      "participant_ids": [course.people["elkin"]["id"]]})
    assert bulk.status_code == 403
    assert http.get(f"{live_system.web_url}/checkin").status_code == 200
    assert http.get(f"{live_system.web_url}/checkin?event_id={course.id}").status_code == 200


def test_organiser_sees_attendance_marks_in_bulk_and_exports_xlsx(live_system, staff_factory, db_backend):
    course = make_course(live_system)
    username, password = staff_factory("organiser")
    tablet = Tablet(live_system.web_url, username, password, course)  # organisers may check in too
    assert tablet.scan(participant_id=course.people["elkin"]["id"]).headers["X-Checkin-Outcome"] == "checked_in"

    page = tablet.http.get(f"{live_system.web_url}/events/{course.id}/attendance")
    assert page.status_code == 200, page.text[:500]
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": csrf_token(page.text), "nonce": nonce, "target": f"session:{course.session_id}",
            "participant_ids": [course.people["elkin"]["id"], course.people["ivanova"]["id"],
                                course.people["sidorov"]["id"]]}
    marked = tablet.http.post(f"{live_system.web_url}/events/{course.id}/attendance/bulk", data=form)
    assert marked.status_code == 200 and "Отмечено присутствие: 2" in marked.text, marked.text[:2000]
    resent = tablet.http.post(f"{live_system.web_url}/events/{course.id}/attendance/bulk", data=form)
    assert "Отмечено присутствие: 0; уже отмечены: 2" in resent.text  # the same nonce: nobody twice

    export = tablet.http.get(f"{live_system.web_url}/events/{course.id}/attendance.xlsx")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    rows = {r[0]: r for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert rows["Ёлкин Пётр"][5] == 2 and rows["Ёлкин Пётр"][4] == 1
    assert rows["Иванова Анна"][1] == "'=HYPERLINK(\"http://x\")"  # a formula is never run
    sessions = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert sessions[0][2] == "Госпаблики" and sessions[0][4] == 2


def test_without_javascript_a_tapped_row_posts_and_the_screen_shows_the_outcome(live_system, staff_factory):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, username, password, course)
    found = tablet.http.get(tablet.screen_url + "&q=елк")  # the search form reloads the page
    assert "Ёлкин Пётр" in found.text
    response = tablet.http.post(f"{live_system.web_url}/events/{course.id}/checkin/scan", data={
        "csrf_token": csrf_token(found.text), "participant_id": course.people["elkin"]["id"], "day": course.day,
        "session_id": ""})
    assert response.status_code == 201 and "<html" in response.text
    assert re.search(r'banner-title">\s*Отмечен\s*</strong>', response.text)  # the verb agrees: he is male
