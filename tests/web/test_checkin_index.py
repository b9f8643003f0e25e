"""The gateway's side of the offline check-in screen: the participant index (compressed, with an ETag that
answers 304), a fresh CSRF token for a page open all day, the service worker's script, and a session that
lasts a whole day of check-in."""

from __future__ import annotations

import gzip
import json
import time

import itsdangerous
import pytest
import requests

from tests.conftest import auth_headers
from tests.web.support import Tablet, as_role, make_course


def test_the_index_is_compressed_and_answers_304_until_someone_changes(
    live_system, staff_factory, db_backend
):
    course = make_course(live_system)
    tablet = Tablet(live_system.web_url, *staff_factory("checkin"), course)
    url = f"{live_system.web_url}/events/{course.id}/checkin/index.json"
    raw = tablet.http.get(url, headers={"Accept-Encoding": "gzip"}, stream=True)
    assert raw.status_code == 200
    assert raw.headers["Content-Encoding"] == "gzip"
    assert raw.headers["Cache-Control"] == "private, no-cache"
    body = json.loads(gzip.decompress(raw.raw.read()))
    names = {item[1] for item in body["items"]}
    assert names == {"Ёлкин Пётр", "Иванова Анна", "Сидоров Олег"}
    etag = raw.headers["ETag"]
    assert tablet.http.get(url, headers={"If-None-Match": etag}).status_code == 304

    requests.patch(
        f"{live_system.urls['registration']}/api/v1/events/{course.id}/participants/{course.people['elkin']['id']}",
        json={"organisation": "МФЦ Адлера"},
        headers=auth_headers(),
    ).raise_for_status()
    changed = tablet.http.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "МФЦ Адлера" in changed.text
    # Without Accept-Encoding: plain JSON
    plain = tablet.http.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.json()["version"]


def test_the_index_is_for_check_in_staff_only(live_system, staff_factory):
    course = make_course(live_system)
    anonymous = requests.get(
        f"{live_system.web_url}/events/{course.id}/checkin/index.json", allow_redirects=False
    )
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_fresh_csrf_token_posts_where_a_stale_one_is_refused(live_system, staff_factory):
    course = make_course(live_system)
    tablet = Tablet(live_system.web_url, *staff_factory("checkin"), course)
    tablet.token = "stale-" + tablet.token
    assert tablet.scan(code=course.people["elkin"]["code"]).status_code == 400
    fresh = tablet.http.get(f"{live_system.web_url}/events/{course.id}/checkin/token")
    assert fresh.headers["Cache-Control"] == "no-store"
    tablet.token = fresh.json()["csrf_token"]
    assert tablet.scan(code=course.people["elkin"]["code"]).status_code == 201


def test_the_service_worker_may_serve_the_screen_of_any_event(live_system, staff_factory):
    course = make_course(live_system)
    tablet = Tablet(live_system.web_url, *staff_factory("checkin"), course)
    script = tablet.http.get(f"{live_system.web_url}/checkin/sw.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith(("application/javascript", "text/javascript"))
    assert script.headers["Service-Worker-Allowed"] == "/events/"
    assert 'addEventListener("fetch"' in script.text
    screen = tablet.screen.text
    assert f'data-service-worker-scope="/events/{course.id}/checkin"' in screen
    assert f'data-index-url="/events/{course.id}/checkin/index.json"' in screen


@pytest.mark.parametrize(("hours_ago", "posts"), [(10, True), (19, False)])
def test_a_tablet_opened_at_eight_still_posts_at_six_in_the_evening(gateway, monkeypatch, hours_ago, posts):
    """The session cookie and the CSRF token signed `hours_ago` (the screen opened in the morning) still
    pass ten hours later; a day and a night later the session has ended."""
    with monkeypatch.context() as past:
        signed_at = int(time.time()) - hours_ago * 3600
        past.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: signed_at)
        browser, token = as_role(gateway, "checkin")
        with browser.session_transaction() as session:
            session.permanent = True
    answer = browser.post(
        "/events/1/checkin/scan",
        json={
            "code": "K7M2QX",
            "day": "2026-10-07",
            "nonce": "n-1",
            "scanned_at": "2026-10-07T18:00:00+03:00",
        },
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    if posts:  # past the session and CSRF checks: the services are away in this test, so 503
        assert answer.status_code == 503, answer.get_data(as_text=True)[:300]
    else:
        assert answer.status_code in (302, 400, 401)
