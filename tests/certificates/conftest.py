"""Fixtures of the certificate tests: a real registration service on loopback, the certificates app
pointed at it, and a three-day course with participants and check-ins."""

from __future__ import annotations

import pytest
import requests

from tests.certificates.support import Course
from tests.conftest import LiveServer, create_service_app, make_settings


@pytest.fixture
def registration_server(database_url, tmp_path):
    server = LiveServer(
        create_service_app("registration", make_settings("registration", database_url, tmp_path))
    )
    yield server
    server.stop()


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
