"""Fixtures of the gateway's tests."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import make_settings

#: where no service answers (the discard port): allowed pages end in a clear 503
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def gateway(sqlite_template, tmp_path):
    """The gateway alone, in-process, its services nowhere: for what it decides before asking one."""
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
