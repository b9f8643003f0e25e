"""Fixtures of the cross-service tests: one service's real app on the test database."""

from __future__ import annotations

import pytest

from tests.conftest import LiveServer


@pytest.fixture
def service_app(app_factory, service, request):
    """The app of `service` (a test parameter) on the test database. Certificates asks registration for
    events and their programme over HTTP, so a real registration serves it on loopback."""
    app = app_factory(service)
    servers = []
    if service == "certificates":
        request.getfixturevalue("redis_connection")  # its queue; flushed before and after
        servers.append(LiveServer(app_factory("registration")))
        app.config["REGISTRATION_URL"] = servers[0].url
    yield app
    for server in servers:
        server.stop()
