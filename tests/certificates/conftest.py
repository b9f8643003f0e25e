"""Fixtures of the certificate tests: a real registration service on loopback, the certificates app
pointed at it, and a three-day course with participants and check-ins."""

from __future__ import annotations

import pytest
import requests

from tests.certificates.support import DAY, EVENT_ID, Course
from tests.conftest import LiveServer, auth_headers, create_service_app, make_settings


@pytest.fixture
def registration_server(database_url, tmp_path):
    server = LiveServer(
        create_service_app("registration", make_settings("registration", database_url, tmp_path))
    )
    yield server
    server.stop()


@pytest.fixture
def scan_event(registration_server) -> str:
    """Registration serving the event door scans are sent to (EVENT_ID, three days from DAY); its URL."""
    created = requests.post(
        f"{registration_server.url}/api/v1/events",
        json={"slug": "scans", "title": "Цифровые коммуникации", "starts_on": DAY, "ends_on": "2026-10-09"},
        headers=auth_headers(),
        timeout=10,
    )
    assert created.status_code == 201 and created.json()["id"] == EVENT_ID, created.text
    return registration_server.url


@pytest.fixture
def certificates_app(database_url, tmp_path, registration_server, redis_connection):
    app = create_service_app(
        "certificates", make_settings("certificates", database_url, tmp_path / "storage")
    )
    app.config["REGISTRATION_URL"] = registration_server.url
    return app


@pytest.fixture
def course(certificates_app, registration_server, db_backend) -> Course:
    """A three-day course (two 4-hour sessions a day, 24 hours) and its participants (none checked in)."""
    return Course.create(requests.Session(), registration_server.url, certificates_app)
