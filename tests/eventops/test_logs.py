"""Request logs: one JSON object per request, and no personal token in them."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest
from flask import Flask

from eventops import i18n, logs, problems
from eventops.config import REPO_ROOT
from tests.conftest import auth_headers

TOKEN = "Zq3vR7-personal_token-9xKfL2mW8pQ4sT6uY1aB"


@pytest.fixture
def log_lines():
    """What the JSON handler writes, one parsed object per line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter("test"))
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous_level)


@pytest.fixture
def app():
    """A bare app with the shared request log and error handlers, and the gateway's personal paths."""
    app = Flask("logs-test")
    logs.log_requests(app)
    problems.register(app)
    i18n.init_app(app, Path(i18n.__file__).parent / "translations")
    app.add_url_rule("/p/<token>", "page", lambda token: "page")
    app.add_url_rule("/p/<token>/certificate.pdf", "pdf", lambda token: "pdf")
    app.add_url_rule("/s/<token>", "survey", lambda token: "survey")
    app.add_url_rule("/verify/<code>", "verify", lambda code: "verify")

    @app.get("/fails/p/<token>")
    def fails(token):
        raise RuntimeError(f"could not reach http://registration/api/v1/participants/by-token/{token}")

    return app


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/p/{TOKEN}", "/p/[redacted]"),
        (f"/p/{TOKEN}/certificate.pdf", "/p/[redacted]/certificate.pdf"),
        (f"/s/{TOKEN}", "/s/[redacted]"),
        ("/verify/K7M2-QX9P", "/verify/K7M2-QX9P"),  # a verification code is printed on paper: it stays
    ],
)
def test_personal_tokens_are_redacted_in_the_logged_path(app, log_lines, path, logged):
    assert app.test_client().get(path).status_code == 200
    [entry] = [line for line in log_lines() if line["message"] == "request"]
    assert entry["path"] == logged
    assert TOKEN not in json.dumps(log_lines())


def test_a_token_in_an_error_message_and_its_traceback_is_redacted(app, log_lines):
    assert app.test_client().get(f"/fails/p/{TOKEN}").status_code == 500
    written = json.dumps(log_lines())
    assert "unhandled error on GET /fails/p/[redacted]" in written
    assert "by-token/[redacted]" in written and "Traceback" in written
    assert TOKEN not in written


def test_the_service_api_by_token_path_is_redacted(app_factory, log_lines):
    client = app_factory("registration").test_client()
    response = client.get(f"/api/v1/participants/by-token/{TOKEN}", headers=auth_headers())
    assert response.status_code == 404
    paths = [line["path"] for line in log_lines() if line["message"] == "request"]
    assert paths == ["/api/v1/participants/by-token/[redacted]"]
    assert TOKEN not in json.dumps(log_lines())


# --- the production front: gunicorn and nginx write no token either ----------------------------------------


def test_gunicorn_writes_no_access_log_of_its_own():
    namespace = {}
    exec((REPO_ROOT / "deploy" / "gunicorn.conf.py").read_text(), namespace)
    assert namespace["accesslog"] is None


def _nginx_redactions() -> dict[str, tuple[re.Pattern, str]]:
    """nginx.conf's redacting maps (to $loggable_*; the others key rate limits), as Python regular
    expressions: variable -> (pattern, replacement)."""
    conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    maps = {}
    blocks = re.findall(r"^map (\$\w+) (\$loggable_\w+) \{\n(.*?)\n\}", conf, re.DOTALL | re.MULTILINE)
    for source, target, body in blocks:
        pattern, replacement = re.search(r'"~(.+?)"\s+"(.+?)";', body).groups()
        python_pattern = pattern.replace("(?<", "(?P<")
        python_replacement = re.sub(r"\$\{(\w+)\}", r"\\g<\1>", replacement)
        maps[target] = (source, re.compile(python_pattern), python_replacement)
    return maps


@pytest.mark.parametrize(
    ("uri", "logged"),
    [
        (f"/p/{TOKEN}", "/p/[redacted]"),
        (f"/p/{TOKEN}/certificate.pdf?download=1", "/p/[redacted]/certificate.pdf?download=1"),
        (f"https://events.example.org/s/{TOKEN}", "https://events.example.org/s/[redacted]"),
        ("/verify/K7M2-QX9P", "/verify/K7M2-QX9P"),
        ("/events/3/participants?q=petrov", "/events/3/participants?q=petrov"),
    ],
)
def test_nginx_logs_paths_and_referers_without_personal_tokens(uri, logged):
    maps = _nginx_redactions()
    assert {source for source, _, _ in maps.values()} == {"$request_uri", "$http_referer"}
    for _source, pattern, replacement in maps.values():
        assert pattern.sub(replacement, uri) == logged
    conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    log_format = re.search(r"log_format eventops (.*?);", conf, re.DOTALL).group(1)
    assert "$loggable_request_uri" in log_format and "$loggable_referer" in log_format
    assert (
        "$request_uri" not in log_format
        and "$http_referer" not in log_format
        and "$request " not in log_format
    )
    access_logs = re.findall(r"^\s*access_log\s+([^;]+);", conf, re.MULTILINE)
    assert access_logs and all(line.split()[-1] == "eventops" for line in access_logs)
    assert conf.count("server {") == len(access_logs)
