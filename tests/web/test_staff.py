"""Administrators manage staff accounts; nobody else can."""

import time

import pytest

from tests.web.support import csrf_token, logged_in_session


@pytest.mark.parametrize("role", ["checkin", "organiser"])
def test_only_admins_open_the_staff_page(live_system, staff_factory, role):
    username, password = staff_factory(role)
    session = logged_in_session(live_system.web_url, username, password)
    assert session.get(f"{live_system.web_url}/staff/").status_code == 403
    page = session.get(f"{live_system.web_url}/")
    assert (
        session.post(
            f"{live_system.web_url}/staff/",
            data={
                "csrf_token": csrf_token(page.text),
                "username": "intruder",
                "full_name": "X",
                "role": "admin",
                "password": "long enough password",
            },
        ).status_code
        == 403
    )


def test_admin_creates_an_account_that_can_log_in_then_deactivates_it(live_system, staff_factory, db_backend):
    # The gateway trusts its signed session for a few seconds before asking its database again (see
    # web.auth.STAFF_RECHECK_SECONDS); one second here keeps the test short.
    live_system.apps["web"].config["STAFF_RECHECK_SECONDS"] = 1
    admin, password = staff_factory("admin")
    session = logged_in_session(live_system.web_url, admin, password)
    page = session.get(f"{live_system.web_url}/staff/")
    assert page.status_code == 200

    created = session.post(
        f"{live_system.web_url}/staff/",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "Door-1",
            "full_name": "Вера <b>Входная</b>",
            "role": "checkin",
            "password": "door one password",
        },
    )
    assert created.status_code == 200 and "Учётная запись door-1 создана" in created.text
    assert "Вера &lt;b&gt;Входная&lt;/b&gt;" in created.text
    door = logged_in_session(live_system.web_url, "door-1", "door one password")
    assert door.get(f"{live_system.web_url}/staff/").status_code == 403

    account_id = _account_id(created.text, "door-1")
    session.post(
        f"{live_system.web_url}/staff/{account_id}/active", data={"csrf_token": csrf_token(created.text)}
    )
    # A deactivated account is logged out once the session is checked again, and cannot log in again.
    time.sleep(1.1)
    assert door.get(f"{live_system.web_url}/", allow_redirects=False).status_code == 302
    login_page = door.get(f"{live_system.web_url}/login")
    refused = door.post(
        f"{live_system.web_url}/login",
        data={
            "csrf_token": csrf_token(login_page.text),
            "username": "door-1",
            "password": "door one password",
        },
    )
    assert refused.status_code == 401


def test_bad_input_is_explained_and_nothing_is_created(live_system, staff_factory):
    admin, password = staff_factory("admin")
    session = logged_in_session(live_system.web_url, admin, password)
    page = session.get(f"{live_system.web_url}/staff/")
    response = session.post(
        f"{live_system.web_url}/staff/",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "пётр",
            "full_name": "",
            "role": "checkin",
            "password": "short",
        },
    )
    assert response.status_code == 422
    assert "Только латинские буквы" in response.text
    assert response.text.count('class="field-error"') == 3
    duplicate = session.post(
        f"{live_system.web_url}/staff/",
        data={
            "csrf_token": csrf_token(page.text),
            "username": admin,
            "full_name": "Двойник",
            "role": "checkin",
            "password": "long enough password",
        },
    )
    assert duplicate.status_code == 409 and "Этот логин уже занят" in duplicate.text


def _account_id(html: str, username: str) -> int:
    import re

    rows = re.findall(r"<tr[^>]*>\s*<td>([^<]+)</td>.*?/staff/(\d+)/password", html, re.S)
    return int(dict(rows)[username])


def test_the_session_is_trusted_only_for_a_few_seconds(live_system, staff_factory, database_url):
    """Between checks the gateway does not ask its database who is logged in; after the window it does."""
    from sqlalchemy import create_engine, text

    live_system.apps["web"].config["STAFF_RECHECK_SECONDS"] = 1
    username, password = staff_factory("organiser")
    session = logged_in_session(live_system.web_url, username, password)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE staff_accounts SET role = 'checkin' WHERE username = :u"), {"u": username}
        )
    assert session.get(f"{live_system.web_url}/events/new").status_code == 200  # still the organiser
    time.sleep(1.1)
    assert session.get(f"{live_system.web_url}/events/new").status_code == 403  # the new role applies
    engine.dispose()
