"""Fixtures of the gateway's tests."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import make_settings

#: where no service answers (the discard port): allowed pages end in a clear 503
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def _gateway_app(sqlite_template, tmp_path_factory):
    # One app per module: the tests that use it only read (pages against roles, workbooks), and building
    # the gateway costs more than most of them (the access matrix is a few hundred tests).
    from web.app import create_app

    folder = tmp_path_factory.mktemp("gateway")
    path = folder / "web.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings("web", f"sqlite:///{path}", folder / "storage", redis_url=None)
    return create_app(
        settings, service_urls=dict.fromkeys(("registration", "certificates", "feedback"), NOWHERE)
    )


@pytest.fixture
def gateway(_gateway_app):
    """The gateway alone, in-process, its services nowhere: for what it decides before asking one."""
    from web.limits import limiter

    with _gateway_app.app_context():
        limiter.reset()  # each test starts with no request counted against it
    return _gateway_app
