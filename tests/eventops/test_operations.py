"""Operations: /metrics of every HTTP process (who may read it, what it counts), the request id's bounds
and its way into RQ jobs, and readiness that fails with a real dependency down."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests
from rq import Queue
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from eventops import logs
from eventops.config import REPO_ROOT
from eventops.queue import REQUEST_ID_META, job_meta
from services.certificates.tasks import QUEUE_NAME, enqueue_rendering
from tests.conftest import POSTGRES_ADMIN_URL, SERVICE_TOKEN, auth_headers, create_service_app, make_settings
from tests.eventops.support import sample

SERVICES = ["web", "registration", "certificates", "feedback"]
#: an address that is not loopback, as a client across the network has
OUTSIDE = {"REMOTE_ADDR": "192.0.2.10"}


# --- who may read /metrics --------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_metrics_answer_loopback_and_the_service_token_only(app_factory, db_backend, service):
    client = app_factory(service).test_client()
    direct = client.get("/metrics")  # the test client comes from 127.0.0.1, as Prometheus on the host
    assert direct.status_code == 200 and direct.mimetype == "text/plain"
    assert "eventops_http_request_duration_seconds" in direct.text
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    # Through a proxy on the same host (nginx): loopback as seen, but not a direct client.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 404
    wrong = {"Authorization": "Bearer " + "x" * 40}
    assert client.get("/metrics", environ_base=OUTSIDE, headers=wrong).status_code == 404
    with_token = client.get("/metrics", environ_base=OUTSIDE, headers=auth_headers())
    assert with_token.status_code == 200


def test_latency_is_labelled_by_route_never_by_the_path(app_factory, db_backend):
    app = app_factory("web")
    client = app.test_client()
    token = "Zq3vR7-personal_token-" + uuid.uuid4().hex
    client.get(f"/p/{token}")  # a participant's page (its service is not there: the status does not matter)
    client.get(f"/no-such-page/{token}")
    body = client.get("/metrics").text
    assert token not in body
    assert sample(body, "eventops_http_request_duration_seconds_count", service="web", route="/p/<token>")
    assert sample(body, "eventops_http_request_duration_seconds_count", service="web", route="(unmatched)")


# --- the request id ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, kept",
    [
        ("4f9c2a7e1b3d4c5a8e6f7a8b9c0d1e2f", True),  # nginx's $request_id
        ("req-2026.12.08:tablet_3", True),
        ("short", False),
        ("x" * 129, False),
        ('abc123456 {"level": "error"}', False),
        ("", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_if_it_is_a_sane_token(app_factory, db_backend, given, kept):
    client = app_factory("feedback").test_client()
    answered = client.get("/healthz", headers={"X-Request-Id": given}).headers["X-Request-Id"]
    if kept:
        assert answered == given
    else:
        assert answered != given and re.fullmatch(r"[0-9a-f]{32}", answered)


def test_a_job_queued_while_serving_a_request_carries_its_id(redis_connection):
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    assert job_meta() == {}  # outside any request: nothing to carry
    with logs.bound(request_id="4f9c2a7e1b3d4c5a8e6f7a8b9c0d1e2f"):
        [job_id] = enqueue_rendering(queue, [1, 2, 3])
    assert queue.fetch_job(job_id).meta[REQUEST_ID_META] == "4f9c2a7e1b3d4c5a8e6f7a8b9c0d1e2f"
    assert logs.current_request_id() is None  # the binding ends with its block


def test_the_request_id_is_bound_for_the_request_only(app_factory, db_backend):
    app = app_factory("feedback")
    seen = {}

    @app.get("/probe-request-id")
    def probe():
        seen["inside"] = logs.current_request_id()
        return "ok"

    app.test_client().get("/probe-request-id", headers={"X-Request-Id": "req-0123456789"})
    assert seen["inside"] == "req-0123456789"
    assert logs.current_request_id() is None  # not left behind in the thread for its next request


# --- readiness --------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_ready_when_every_dependency_is_there(app_factory, db_backend, service):
    response = app_factory(service).test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ok" and response.json["checks"]["schema"] == "ok"


@pytest.mark.parametrize("service", ["web", "registration", "certificates"])
def test_not_ready_when_redis_is_down(app_factory, db_backend, service):
    """Redis at a port where nothing listens: the services that queue jobs, and the gateway's rate limits."""
    app = app_factory(service, redis_url="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("down: ConnectionError")
    assert response.json["checks"]["database"] == "ok"
    # Registration and the gateway work on without Redis (letters wait in the outbox): alive, not ready.
    assert app.test_client().get("/healthz").status_code == (503 if service == "certificates" else 200)


@pytest.mark.parametrize("service", SERVICES)
def test_not_ready_nor_healthy_when_the_database_is_missing(tmp_path, service):
    missing = make_url(POSTGRES_ADMIN_URL).set(database=f"eventops_missing_{uuid.uuid4().hex[:8]}")
    url = missing.render_as_string(hide_password=False)
    app = create_service_app(service, make_settings(service, url, tmp_path / "storage"))
    for probe in ("/healthz", "/readyz"):
        response = app.test_client().get(probe)
        assert response.status_code == 503, response.json
        assert response.json["checks"]["database"].startswith("down: OperationalError")


def test_not_ready_before_the_migrations_ran(tmp_path):
    """Migrations are a step of their own: a process started on an unmigrated database is not ready."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    create_engine(url).connect().close()
    app = create_service_app("registration", make_settings("registration", url, tmp_path / "storage"))
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["schema"].startswith("down:")
    with create_engine(url).begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version_registration (version_num VARCHAR(32))"))
        connection.execute(text("INSERT INTO alembic_version_registration VALUES ('5fd96df3695e')"))
    behind = app.test_client().get("/readyz").json["checks"]["schema"]
    assert behind.startswith("down: SchemaBehind: the database is at ['5fd96df3695e']")


def test_a_mail_job_carries_the_request_id_too(redis_connection):
    from services.registration.tasks import QUEUE_NAME as MAIL_QUEUE
    from services.registration.tasks import enqueue_sending

    queue = Queue(MAIL_QUEUE, connection=redis_connection)
    with logs.bound(request_id="req-mail-0123456789"):
        [job_id] = enqueue_sending(queue, [1, 2])
    assert queue.fetch_job(job_id).meta == {REQUEST_ID_META: "req-mail-0123456789"}


# --- under gunicorn -----------------------------------------------------------------------------------


def test_metrics_add_up_every_gunicorn_worker(tmp_path, sqlite_template, processes):
    """Two gunicorn workers in multiprocess mode: /metrics, answered by either, counts every request."""
    database = tmp_path / "feedback.db"
    shutil.copy(sqlite_template, database)
    folder = tmp_path / "metrics"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # what an earlier run of this gunicorn left: it must not be summed in
    (folder / f"gunicorn-{port}").mkdir(parents=True)
    (folder / f"gunicorn-{port}" / "histogram_4242.db").write_bytes(b"left from an earlier run")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "FEEDBACK_DATABASE_URL": f"sqlite:///{database}",
        "SERVICE_TOKEN": SERVICE_TOKEN,
        "SECRET_KEY": "gunicorn-test-secret-" + uuid.uuid4().hex,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "1",
    }
    with open(tmp_path / "gunicorn.log", "wb") as log:
        server = processes(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "services.feedback.app:create_app()",
            ],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    sent, deadline = 0, time.monotonic() + 60
    while True:  # until it answers (each try that reached a worker is a request it counts)
        assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-2000:]
        try:
            sent += 1
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                break
        except requests.ConnectionError:
            sent -= 1
        assert time.monotonic() < deadline, "gunicorn did not start"
        time.sleep(0.2)
    for _ in range(30):
        with requests.Session() as fresh:  # a new connection each time: either worker may take it
            assert fresh.get(f"{url}/healthz", timeout=5).status_code == 200
        sent += 1
    for _ in range(3):  # whichever worker answers the scrape adds up both
        body = requests.get(f"{url}/metrics", timeout=5).text
        counted = sample(
            body, "eventops_http_request_duration_seconds_count", service="feedback", route="/healthz"
        )
        assert counted == sent, body[:3000]
    # The values live in files, one per worker process, in this gunicorn's own subfolder, emptied at start.
    assert list((folder / f"gunicorn-{port}").glob("histogram_*.db"))
    assert not (folder / f"gunicorn-{port}" / "histogram_4242.db").exists()
