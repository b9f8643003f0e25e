"""What the certificates service and its worker count, and the request id of the call that queued a render
in the job's meta and in every line the worker logs for it, with the real worker process."""

from __future__ import annotations

import json
import socket

import pytest
import requests
from rq import Queue

from eventops import logs
from eventops.queue import REQUEST_ID_META
from services.certificates.tasks import QUEUE_NAME, enqueue_rendering
from tests.certificates.support import (
    EVENT_ID,
    add_certificates,
    count_by_status,
    nonce,
    person,
    scan,
    staff_headers,
    subprocess_env,
)
from tests.certificates.test_worker import start_worker, wait_for
from tests.eventops.support import sample


@pytest.fixture
def certificates(app_factory, db_backend, scan_event, redis_connection):
    app = app_factory("certificates")
    app.config["REGISTRATION_URL"] = scan_event
    return app


def test_a_checkin_increments_the_counter_by_its_outcome_and_a_retry_does_not(certificates):
    client = certificates.test_client()

    def recorded(outcome: str) -> float:
        return sample(client.get("/metrics").text, "eventops_checkins_recorded_total", outcome=outcome) or 0.0

    def post(body):
        return client.post(f"/api/v1/events/{EVENT_ID}/checkins", json=body, headers=staff_headers())

    before, already_before = recorded("checked_in"), recorded("already_checked_in")
    first = scan(person(), key=nonce())
    assert post(first).status_code == 201
    assert post(first).status_code == 200  # a retry: the same record, nothing new
    assert post(scan(person())).status_code == 201
    assert recorded("checked_in") == before + 1
    assert recorded("already_checked_in") == already_before + 1


def test_queue_length_is_read_from_redis_at_each_scrape(certificates, redis_connection):
    client = certificates.test_client()
    assert sample(client.get("/metrics").text, "eventops_queue_length", queue=QUEUE_NAME) == 0
    enqueue_rendering(Queue(QUEUE_NAME, connection=redis_connection), range(1, 81), batch_size=40)
    assert sample(client.get("/metrics").text, "eventops_queue_length", queue=QUEUE_NAME) == 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_worker_logs_a_render_under_the_request_id_and_counts_it(
    database_url, redis_connection, tmp_path, processes
):
    request_id = "4f9c2a7e1b3d4c5a8e6f7a8b9c0d1e2f"
    ids = add_certificates(database_url, 3)
    with logs.bound(request_id=request_id):  # as while serving the «Выдать» call
        [job_id] = enqueue_rendering(Queue(QUEUE_NAME, connection=redis_connection), ids)
    assert (
        Queue(QUEUE_NAME, connection=redis_connection).fetch_job(job_id).meta[REQUEST_ID_META] == request_id
    )

    port, log_path = free_port(), tmp_path / "worker.log"
    env = {**subprocess_env(database_url, tmp_path / "storage"), "METRICS_PORT": str(port)}
    worker = start_worker(processes, env, log_path)
    wait_for(lambda: count_by_status(database_url).get("rendered") == 3, 120, "three renders", worker)

    def scraped() -> str:
        try:
            return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except requests.ConnectionError:
            return ""

    # The worker's own process counts after the horse has ended: wait for it to have done so.
    wait_for(lambda: sample(scraped(), "eventops_certificates_rendered_total") == 3, 30, "the count", worker)
    body = scraped()
    assert (
        sample(
            body,
            "eventops_job_duration_seconds_count",
            queue=QUEUE_NAME,
            job="render_certificates",
            status="finished",
        )
        == 1
    )
    assert sample(body, "eventops_queue_length", queue=QUEUE_NAME) == 0

    rendered = [
        json.loads(line)
        for line in log_path.read_text().splitlines()
        if line.startswith("{") and '"certificate rendered"' in line
    ]
    assert len(rendered) == 3
    assert {(line["request_id"], line["job_id"]) for line in rendered} == {(request_id, job_id)}
