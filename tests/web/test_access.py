"""Who may open what: every page of the gateway against every role, the 403s included.

The matrix runs in-process against a gateway whose services are unreachable: a page the role may open gets
past the policy and fails on the missing service (503), a page it may not open is refused before any service
is asked (403). The expected roles are written out here, not read from web.auth, so a changed policy fails.
"""

from __future__ import annotations

import pytest

from tests.web.support import (
    add_participant,
    api,
    as_role,
    csrf_token,
    logged_in_session,
    make_course,
    make_event,
    open_page,
    staff_session,
)
from web.models import Role

ORGANISERS = {"organiser", "admin"}
CHECKIN = {"checkin", "organiser", "admin"}
ADMINS = {"admin"}
ROLES = [role.value for role in Role]

#: (method, path, roles that may open it); ids in paths need not exist: the policy answers first
PAGES = [
    ("GET", "/", CHECKIN),
    ("GET", "/events/1", CHECKIN),
    ("GET", "/checkin", CHECKIN),
    ("GET", "/events/1/checkin", CHECKIN),
    ("GET", "/events/1/checkin/search?q=ив", CHECKIN),
    ("POST", "/events/1/checkin/scan", CHECKIN),
    ("POST", "/events/1/checkin/undo/1", CHECKIN),
    ("GET", "/events/1/checkin/counters?day=2026-10-07", CHECKIN),
    ("GET", "/events/1/checkin/log?day=2026-10-07", CHECKIN),
    ("GET", "/events/1/checkin/index.json", CHECKIN),
    ("GET", "/events/1/checkin/token", CHECKIN),
    ("GET", "/checkin/sw.js", CHECKIN),
    ("GET", "/status", ORGANISERS),
    ("GET", "/surveys/1/results", ORGANISERS),
    ("GET", "/events/new", ORGANISERS),
    ("POST", "/events/new", ORGANISERS),
    ("GET", "/events/1/edit", ORGANISERS),
    ("POST", "/events/1/edit", ORGANISERS),
    ("POST", "/events/1/registration-open", ORGANISERS),
    ("POST", "/events/1/sessions", ORGANISERS),
    ("GET", "/events/1/sessions/1/edit", ORGANISERS),
    ("POST", "/events/1/sessions/1/edit", ORGANISERS),
    ("POST", "/events/1/sessions/1/delete", ORGANISERS),
    ("GET", "/events/1/participants", ORGANISERS),
    ("GET", "/events/1/participants/new", ORGANISERS),
    ("POST", "/events/1/participants/new", ORGANISERS),
    ("GET", "/events/1/participants/1/edit", ORGANISERS),
    ("POST", "/events/1/participants/1/edit", ORGANISERS),
    ("POST", "/events/1/participants/1/cancel", ORGANISERS),
    ("POST", "/events/1/participants/1/restore", ORGANISERS),
    ("GET", "/events/1/participants/export?format=xlsx", ORGANISERS),
    ("GET", "/events/1/badges.pdf", ORGANISERS),
    ("GET", "/events/1/import", ORGANISERS),
    ("POST", "/events/1/import", ORGANISERS),
    ("GET", "/events/1/import/" + "t" * 32, ORGANISERS),
    ("POST", "/events/1/import/" + "t" * 32 + "/preview", ORGANISERS),
    ("POST", "/events/1/import/" + "t" * 32 + "/commit", ORGANISERS),
    ("GET", "/events/1/import/done", ORGANISERS),
    ("GET", "/events/1/attendance", ORGANISERS),
    ("POST", "/events/1/attendance/bulk", ORGANISERS),
    ("GET", "/events/1/attendance.xlsx", ORGANISERS),
    ("GET", "/staff/", ADMINS),
    ("POST", "/staff/", ADMINS),
    ("POST", "/staff/1/active", ADMINS),
    ("GET", "/staff/1/password", ADMINS),
    ("POST", "/staff/1/password", ADMINS),
]

#: pages anyone may open: logging in, the language switch, public registration, the participant's own
#: pages under their token, anonymous surveys' links, certificate verification, health, readiness and
#: static files; and /metrics, which needs no login but answers only loopback or the service token
PUBLIC_RULES = {
    "/login",
    "/logout",
    "/language",
    "/events/<int:event_id>/register",
    "/events/<int:event_id>/register/done",
    "/healthz",
    "/readyz",
    "/metrics",
    "/favicon.ico",
}
PUBLIC_PREFIXES = ("/p/", "/s/", "/verify", "/static/")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "allowed"), PAGES, ids=[f"{m} {p}" for m, p, _ in PAGES])
def test_each_role_opens_only_its_pages(gateway, role, method, path, allowed):
    browser, token = as_role(gateway, role)
    response = open_page(browser, token, method, path)
    if role in allowed:
        assert response.status_code not in (302, 403), response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == 403
        assert "нет доступа к этой странице" in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path", "allowed"), PAGES, ids=[f"{m} {p}" for m, p, _ in PAGES])
def test_someone_not_logged_in_is_sent_to_the_login_page(gateway, method, path, allowed):
    browser, token = as_role(gateway, None)
    response = open_page(browser, token, method, path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_check_in_staff_see_no_link_to_organisers_pages(gateway):
    browser, _ = as_role(gateway, "checkin")
    page = browser.get("/checkin").get_data(as_text=True)  # 503: its service is down, the menu is drawn
    assert 'href="/checkin"' in page
    assert 'href="/status"' not in page and 'href="/staff/"' not in page


def test_every_page_declares_who_may_open_it(gateway):
    """A new page is either public on purpose (listed above) or guarded by one of web.auth's policies."""
    from web import auth

    policies = {auth.staff, auth.checkin_staff, auth.organisers, auth.admins}
    for rule in gateway.url_map.iter_rules():
        if rule.rule in PUBLIC_RULES or rule.rule.startswith(PUBLIC_PREFIXES):
            continue
        policy = getattr(gateway.view_functions[rule.endpoint], "policy", None)
        assert policy in policies, f"{rule.rule} ({rule.endpoint}) names no policy of web.auth"


# --- with the real services: nothing of an organiser page reaches check-in staff -----------------


def test_checkin_staff_get_403_on_every_organiser_page(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    pid = add_participant(live_system, event_id, "Ёлкин", "elkin@example.ru")["id"]
    sid = api(
        live_system,
        "POST",
        f"/api/v1/events/{event_id}/sessions",
        json={
            "day": "2026-10-07",
            "starts_at": "10:00",
            "ends_at": "11:00",
            "title": "Лекция",
            "kind": "lecture",
        },
    )["id"]
    browser = staff_session(live_system, staff_factory, role="checkin")
    event_page = browser.get(f"{web}/events/{event_id}")
    assert event_page.status_code == 200
    assert "Изменить мероприятие" not in event_page.text and "Добавить занятие" not in event_page.text
    token = csrf_token(event_page.text)

    pages = [
        "/events/new",
        f"/events/{event_id}/edit",
        f"/events/{event_id}/sessions/{sid}/edit",
        f"/events/{event_id}/participants",
        f"/events/{event_id}/participants?q=елк",
        f"/events/{event_id}/participants/new",
        f"/events/{event_id}/participants/{pid}/edit",
        f"/events/{event_id}/participants/export?format=xlsx",
        f"/events/{event_id}/participants/export?format=csv",
        f"/events/{event_id}/badges.pdf",
    ]
    for page in pages:
        response = browser.get(web + page, allow_redirects=False)
        assert response.status_code == 403, page
        assert "Ёлкин" not in response.text
    actions = [
        "/events/new",
        f"/events/{event_id}/edit",
        f"/events/{event_id}/registration-open",
        f"/events/{event_id}/sessions",
        f"/events/{event_id}/sessions/{sid}/edit",
        f"/events/{event_id}/sessions/{sid}/delete",
        f"/events/{event_id}/participants/new",
        f"/events/{event_id}/participants/{pid}/edit",
        f"/events/{event_id}/participants/{pid}/cancel",
        f"/events/{event_id}/participants/{pid}/restore",
    ]
    for action in actions:
        response = browser.post(
            web + action, data={"csrf_token": token, "open": "1", "title": "x"}, allow_redirects=False
        )
        assert response.status_code == 403, action
    assert len(api(live_system, "GET", f"/api/v1/events/{event_id}/sessions")["items"]) == 1
    assert api(live_system, "GET", f"/api/v1/events/{event_id}")["registration_open"] is False


def test_checkin_staff_cannot_reach_organiser_pages(live_system, staff_factory, db_backend):
    course = make_course(live_system)
    username, password = staff_factory("checkin")
    http = logged_in_session(live_system.web_url, username, password)
    token = csrf_token(http.get(f"{live_system.web_url}/checkin").text)
    base = f"{live_system.web_url}/events/{course.id}"
    for path in (
        "/attendance",
        "/attendance.xlsx",
        "/participants",
        "/participants/new",
        "/edit",
        "/participants/export",
    ):
        assert http.get(base + path, allow_redirects=False).status_code == 403, path
    bulk = http.post(
        base + "/attendance/bulk",
        data={
            "csrf_token": token,
            "target": f"day:{course.day}",
            "participant_ids": [course.people["elkin"]["id"]],
        },
    )
    assert bulk.status_code == 403
    assert http.get(f"{live_system.web_url}/checkin").status_code == 200
    assert http.get(f"{live_system.web_url}/checkin?event_id={course.id}").status_code == 200
