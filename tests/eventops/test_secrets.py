"""The shared secrets: kept whole in var/, never empty or short, never matching nothing."""

from __future__ import annotations

import threading
import time

import pytest

from eventops import config
from eventops.config import Settings
from tests.conftest import SERVICE_TOKEN, create_service_app, make_settings


def test_a_process_starting_while_another_writes_the_secret_reads_the_same_whole_secret(
    tmp_path, monkeypatch
):
    make_token = config.secrets.token_urlsafe

    def slow_token(n):  # the first process is slow to produce its secret
        time.sleep(0.3)
        return make_token(n)

    monkeypatch.setattr(config.secrets, "token_urlsafe", slow_token)
    env = {"EVENTOPS_VAR_DIR": str(tmp_path)}
    read: dict[str, str] = {}

    def start(name):
        read[name] = config.secret_from_file("service_token", env)

    first = threading.Thread(target=start, args=("first",))
    first.start()
    time.sleep(0.1)  # the second process starts while the first is still at it
    start("second")
    first.join()
    assert len(read["first"]) >= config.MIN_SECRET_LENGTH
    assert read["second"] == read["first"] == (tmp_path / "service_token").read_text().strip()
    assert [p.name for p in tmp_path.iterdir()] == ["service_token"], "a temporary file was left behind"


def test_the_secret_file_is_kept_and_reused(tmp_path):
    env = {"EVENTOPS_VAR_DIR": str(tmp_path)}
    secret = config.secret_from_file("secret_key", env)
    assert config.secret_from_file("secret_key", env) == secret
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("content", ["", "\n", "too-short-" + "x" * 21])
def test_an_empty_or_short_secret_file_is_refused_at_start(tmp_path, content):
    (tmp_path / "service_token").write_text(content)
    with pytest.raises(config.InsecureSecret, match="service_token"):
        Settings.from_env("registration", {"EVENTOPS_VAR_DIR": str(tmp_path)})


@pytest.mark.parametrize("variable", ["SERVICE_TOKEN", "SECRET_KEY"])
def test_a_short_secret_in_the_environment_is_refused_at_start(tmp_path, variable):
    with pytest.raises(config.InsecureSecret, match=variable):
        Settings.from_env("web", {"EVENTOPS_VAR_DIR": str(tmp_path), variable: "x" * 31})


@pytest.mark.parametrize("field", ["service_token", "secret_key"])
def test_settings_with_an_empty_secret_cannot_be_made(tmp_path, field):
    with pytest.raises(config.InsecureSecret):
        make_settings("feedback", f"sqlite:///{tmp_path}/f.db", tmp_path, **{field: ""})


@pytest.mark.parametrize("configured", ["", "short"])
@pytest.mark.parametrize(
    "authorization",
    ["Bearer ", "Bearer", "Bearer short", f"Bearer {SERVICE_TOKEN}"],
    ids=["empty", "no token", "short", "the real token"],  # the token is random: ids must be stable
)
def test_a_service_with_an_unusable_token_accepts_no_call(tmp_path, configured, authorization):
    """Even if its configured token is somehow empty or short, a service never matches a caller's token."""
    app = create_service_app("feedback", make_settings("feedback", f"sqlite:///{tmp_path}/f.db", tmp_path))
    app.config["SERVICE_TOKEN"] = configured
    response = app.test_client().get("/api/v1/surveys/1", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
