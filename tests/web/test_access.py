"""Who may open what: every page of the gateway against every role, the 403s included.

The matrix runs in-process against a gateway whose services are unreachable: a page the role may open gets
past the policy and fails on the missing service (503), a page it may not open is refused before any service
is asked (403). The expected roles are written out here, not read from web.auth, so a changed policy fails.
"""

from __future__ import annotations

import shutil
import time

import pytest

from tests.conftest import make_settings
from tests.web.support import csrf_token
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
#: pages under their token, anonymous surveys' links, certificate verification, health and static files
PUBLIC_RULES = {"/login", "/logout", "/language", "/events/<int:event_id>/register", "/healthz"}
PUBLIC_PREFIXES = ("/p/", "/s/", "/verify", "/static/")

#: where no service answers (the discard port): allowed pages end in a clear 503
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def gateway(sqlite_template, tmp_path):
    from web.app import create_app

    path = tmp_path / "web.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings("web", f"sqlite:///{path}", tmp_path / "storage", redis_url=None)
    app = create_app(
        settings, service_urls=dict.fromkeys(("registration", "certificates", "feedback"), NOWHERE)
    )
    from web.limits import limiter

    with app.app_context():
        limiter.reset()
    return app


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
