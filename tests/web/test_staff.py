"""Administrators manage staff accounts; nobody else can."""

import time

import pytest
import requests

from tests.web.support import Tablet, csrf_token, logged_in_session, make_course


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


# --- every way an account's sessions end: a copied cookie stops working too ------------------------


def _copy_of(session: requests.Session) -> requests.Session:
    """Another browser holding the same cookie, as after a cookie was copied off a tablet."""
    copy = requests.Session()
    copy.cookies.update(session.cookies)
    return copy


def _still_logged_in(session: requests.Session, web_url: str) -> bool:
    return session.get(f"{web_url}/", allow_redirects=False).status_code == 200


def test_a_logout_ends_every_copy_of_the_session(live_system, staff_factory, db_backend):
    live_system.apps["web"].config["STAFF_RECHECK_SECONDS"] = 1
    username, password = staff_factory("organiser")
    session = logged_in_session(live_system.web_url, username, password)
    copy = _copy_of(session)
    home = session.get(f"{live_system.web_url}/")
    session.post(f"{live_system.web_url}/logout", data={"csrf_token": csrf_token(home.text)})
    time.sleep(1.1)
    assert not _still_logged_in(copy, live_system.web_url)
    # A new login works, and makes a session of the new version.
    assert _still_logged_in(logged_in_session(live_system.web_url, username, password), live_system.web_url)


def test_a_new_password_ends_the_accounts_sessions_but_not_the_admins(live_system, staff_factory):
    live_system.apps["web"].config["STAFF_RECHECK_SECONDS"] = 1
    admin = logged_in_session(live_system.web_url, *staff_factory("admin"))
    door_name, door_password = staff_factory("checkin")
    door = logged_in_session(live_system.web_url, door_name, door_password)
    page = admin.get(f"{live_system.web_url}/staff/")
    account_id = _account_id(page.text, door_name)
    answer = admin.post(
        f"{live_system.web_url}/staff/{account_id}/password",
        data={"csrf_token": csrf_token(page.text), "password": "a brand new password"},
        allow_redirects=False,
    )
    assert answer.status_code == 303
    time.sleep(1.1)
    assert not _still_logged_in(door, live_system.web_url)
    assert _still_logged_in(admin, live_system.web_url)
    assert _still_logged_in(
        logged_in_session(live_system.web_url, door_name, "a brand new password"), live_system.web_url
    )


def test_an_admin_setting_their_own_password_stays_logged_in_here_only(live_system, staff_factory):
    live_system.apps["web"].config["STAFF_RECHECK_SECONDS"] = 1
    admin_name, admin_password = staff_factory("admin")
    admin = logged_in_session(live_system.web_url, admin_name, admin_password)
    elsewhere = logged_in_session(live_system.web_url, admin_name, admin_password)
    page = admin.get(f"{live_system.web_url}/staff/")
    admin.post(
        f"{live_system.web_url}/staff/{_account_id(page.text, admin_name)}/password",
        data={"csrf_token": csrf_token(page.text), "password": "a brand new password"},
    )
    time.sleep(1.1)
    assert _still_logged_in(admin, live_system.web_url)
    assert not _still_logged_in(elsewhere, live_system.web_url)


def test_a_deactivated_accounts_open_tablet_is_refused_a_check_in(live_system, staff_factory, db_backend):
    live_system.apps["web"].config["STAFF_RECHECK_SECONDS"] = 1
    course = make_course(live_system)
    admin = logged_in_session(live_system.web_url, *staff_factory("admin"))
    door_name, door_password = staff_factory("checkin")
    tablet = Tablet(live_system.web_url, door_name, door_password, course)
    assert tablet.scan(code=course.people["elkin"]["code"]).status_code == 201
    page = admin.get(f"{live_system.web_url}/staff/")
    admin.post(
        f"{live_system.web_url}/staff/{_account_id(page.text, door_name)}/active",
        data={"csrf_token": csrf_token(page.text)},
    )
    time.sleep(1.1)
    refused = tablet.scan(code=course.people["ivanova"]["code"])
    assert refused.status_code == 401, refused.text[:300]
    assert "Войдите снова" in refused.text
    # The counters' htmx refresh is told the same, not handed the login page to show.
    counters = tablet.http.get(
        f"{live_system.web_url}/events/{course.id}/checkin/counters?day={course.day}",
        headers={"HX-Request": "true"},
        allow_redirects=False,
    )
    assert counters.status_code == 401
