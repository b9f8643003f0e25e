"""Helpers of the gateway's tests: talking to it as a browser or a tablet would (a cookie jar, CSRF tokens
read from the page), and setting up what a test needs through the services' own APIs."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import requests

from tests.conftest import auth_headers

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def logged_in_session(web_url: str, username: str, password: str) -> requests.Session:
    browser = requests.Session()
    token = csrf_token(browser.get(f"{web_url}/login").text)
    response = browser.post(
        f"{web_url}/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    return browser


# --- registration: events and participants made through its API ------------------------------


EVENT = {
    "slug": "mfc-2026",
    "title": "Цифровые коммуникации МФЦ",
    "organiser": "ЮРИУ РАНХиГС",
    "place": "Сочи",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-09",
}


def api(system, method: str, path: str, **kwargs):
    response = requests.request(
        method, system.urls["registration"] + path, headers=auth_headers(), timeout=10, **kwargs
    )
    assert response.status_code < 400, response.text
    return response.json()


def make_event(system, **fields) -> int:
    return api(system, "POST", "/api/v1/events", json={**EVENT, **fields})["id"]


def add_participant(system, event_id: int, surname: str, email: str, **fields) -> dict:
    return api(
        system,
        "POST",
        f"/api/v1/events/{event_id}/participants",
        json={"surname": surname, "first_name": "Пётр", "email": email, **fields},
    )


def add_old_participant(system, event_id: int, surname: str, email: str, **fields) -> dict:
    """A participant whose record holds what registration refuses today (markup, formulas, control
    characters), as a record saved before the rule existed does: written straight to the table."""
    created = add_participant(system, event_id, "Старых", email)
    plant(system, created["id"], surname=surname, **fields)
    return {**created, "surname": surname, **fields}


def plant(system, participant_id: int, **fields) -> None:
    """Writes `fields` into a participant's row as they are, past the API's rules."""
    from services.registration.models import Participant

    with system.apps["registration"].extensions["db_engine"].begin() as connection:
        connection.execute(
            Participant.__table__.update().where(Participant.id == participant_id).values(**fields)
        )


def staff_session(system, staff_factory, role: str = "organiser") -> requests.Session:
    return logged_in_session(system.web_url, *staff_factory(role))


def post_form(browser: requests.Session, url: str, data: dict, page_url: str | None = None):
    """Opens the page the form is on (for its CSRF token), then sends the form as a browser would."""
    token = csrf_token(browser.get(page_url or url).text)
    return browser.post(url, data={**data, "csrf_token": token}, allow_redirects=False)


# --- check-in: a course and a tablet -----------------------------------------------------------


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
    event = api.post(
        f"{registration_url}/api/v1/events",
        json={
            "slug": slug,
            "title": "Цифровые коммуникации",
            "organiser": "ЮРИУ РАНХиГС",
            "place": "Сочи",
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + timedelta(days=1)).isoformat(),
        },
    )
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    session = api.post(
        f"{registration_url}/api/v1/events/{event_id}/sessions",
        json={
            "day": TODAY.isoformat(),
            "starts_at": "10:00",
            "ends_at": "11:30",
            "title": "Госпаблики",
            "kind": "lecture",
            "academic_hours": 2,
        },
    )
    assert session.status_code == 201, session.text
    people = {}
    for key, fields in {
        "elkin": {"surname": "Ёлкин", "first_name": "Пётр", "organisation": "МФЦ Сочи", "gender": "male"},
        "ivanova": {
            "surname": "Иванова",
            "first_name": "Анна",
            "organisation": "МФЦ",
            "gender": "female",
        },
        "sidorov": {"surname": "Сидоров", "first_name": "Олег", "status": "cancelled"},
    }.items():
        created = api.post(
            f"{registration_url}/api/v1/events/{event_id}/participants",
            json={"email": f"{key}@example.ru", **fields},
        )
        assert created.status_code == 201, created.text
        people[key] = created.json()
    # Saved before formulas were refused: exports must keep it text.
    plant(system, people["ivanova"]["id"], organisation='=HYPERLINK("http://x")')
    people["ivanova"]["organisation"] = '=HYPERLINK("http://x")'
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
        return self.http.post(
            f"{self.web_url}/events/{self.course.id}/checkin/scan",
            headers={"X-CSRFToken": self.token, "HX-Request": "true"},
            json={
                "nonce": nonce or str(uuid.uuid4()),
                "day": self.course.day,
                "session_id": self.session_id,
                "scanned_at": datetime.now(UTC).isoformat(),
                **what,
            },
        )

    def fragment(self, name: str) -> str:
        extra = f"&session_id={self.session_id}" if self.session_id else ""
        response = self.http.get(
            f"{self.web_url}/events/{self.course.id}/checkin/{name}?day={self.course.day}{extra}",
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200, response.text
        return response.text


def counters(html: str) -> tuple[str, str]:
    checked = re.search(r'id="count-checked-in">([^<]+)<', html).group(1)
    expected = re.search(r'id="count-expected">([^<]+)<', html).group(1)
    return checked, expected


# --- in-process: the gateway alone, as one role -------------------------------------------------


def as_role(app, role: str | None):
    browser = app.test_client()
    token = csrf_token(browser.get("/login").get_data(as_text=True))
    if role is not None:
        with browser.session_transaction() as session:
            # What a login leaves in the session; "checked" now, so the database is not asked again.
            session["staff"] = {
                "id": 1,
                "username": f"{role}-1",
                "full_name": "Тест",
                "role": role,
                "checked": time.time(),
            }
    return browser, token


def open_page(browser, token: str, method: str, path: str):
    if method == "GET":
        return browser.get(path)
    return browser.post(path, data={"csrf_token": token}, headers={"X-CSRFToken": token})
