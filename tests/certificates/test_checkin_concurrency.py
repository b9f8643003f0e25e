"""Concurrent duplicates through a real HTTP server: the database's unique constraints decide every race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.certificates.models import CheckIn, CheckInOutcome
from tests.certificates.support import EVENT_ID, nonce, person, scan, staff_headers
from tests.conftest import LiveServer, create_service_app, make_settings

THREADS = 8


@pytest.fixture
def certificates_server(database_url, tmp_path, scan_event):
    app = create_service_app(
        "certificates", make_settings("certificates", database_url, tmp_path / "storage")
    )
    app.config["REGISTRATION_URL"] = scan_event
    server = LiveServer(app)
    yield app, server.url
    server.stop()
    app.extensions["db_engine"].dispose()


def all_at_once(send, bodies: list[dict]) -> list[requests.Response]:
    barrier = Barrier(len(bodies))

    def one(body):
        with requests.Session() as http:
            barrier.wait()
            return send(http, body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def count(app, *where) -> int:
    with Session(app.extensions["db_engine"]) as session:
        return session.scalar(select(func.count()).select_from(CheckIn).where(*where))


def post_checkin(url):
    return lambda http, body: http.post(
        f"{url}/api/v1/events/{EVENT_ID}/checkins", json=body, headers=staff_headers(), timeout=30
    )


@pytest.mark.parametrize("repeat", range(3))
def test_concurrent_retries_with_one_nonce_store_one_record(certificates_server, db_backend, repeat):
    app, url = certificates_server
    body = scan(person())
    responses = all_at_once(post_checkin(url), [body] * THREADS)
    assert sorted(r.status_code for r in responses) == [200] * (THREADS - 1) + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert {r.json()["outcome"] for r in responses} == {"checked_in"}
    assert count(app, CheckIn.nonce == body["nonce"]) == 1
    assert count(app) == 1


@pytest.mark.parametrize("repeat", range(3))
def test_concurrent_scans_of_one_person_leave_one_active_check_in(certificates_server, db_backend, repeat):
    app, url = certificates_server
    responses = all_at_once(post_checkin(url), [scan(person()) for _ in range(THREADS)])
    assert [r.status_code for r in responses] == [201] * THREADS
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["already_checked_in"] * (THREADS - 1) + ["checked_in"]
    winner = next(r.json() for r in responses if r.json()["outcome"] == "checked_in")
    assert {r.json()["previous"]["id"] for r in responses if r.json()["previous"]} == {winner["id"]}
    assert count(app, CheckIn.outcome == CheckInOutcome.checked_in) == 1
    assert count(app) == THREADS  # every scan is recorded


def test_concurrent_undos_reverse_once(certificates_server, db_backend):
    app, url = certificates_server
    checkin = requests.post(
        f"{url}/api/v1/events/{EVENT_ID}/checkins", json=scan(person()), headers=staff_headers(), timeout=10
    ).json()

    def undo(http, body):
        return http.post(
            f"{url}/api/v1/checkins/{checkin['id']}/undo", json=body, headers=staff_headers(), timeout=30
        )

    same = {"nonce": nonce(), "reason": "double tap"}
    responses = all_at_once(undo, [same] * THREADS)
    assert sorted(r.status_code for r in responses) == [200] * (THREADS - 1) + [201]
    others = all_at_once(undo, [{"nonce": nonce()} for _ in range(THREADS)])
    assert {r.status_code for r in others} == {409}
    assert count(app, CheckIn.outcome == CheckInOutcome.undo) == 1
    assert count(app, CheckIn.reversed_at.is_not(None)) == 1
