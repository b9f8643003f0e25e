"""The real worker process: `python -m services.certificates.worker` on real Redis, RQ and the database.

It is killed with SIGKILL in the middle of a batch and restarted (every certificate ends up rendered exactly
once), and a render that fails is brought back by the RQ scheduler after its retry interval.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rq import Queue
from rq.registry import StartedJobRegistry

from services.certificates import storage
from services.certificates.models import CertificateStatus
from services.certificates.tasks import QUEUE_NAME, enqueue_rendering
from services.certificates.worker import requeue_abandoned, worker_is_alive
from tests.certificates.support import (
    add_certificates,
    certificates,
    count_by_status,
    subprocess_env,
)


def start_worker(processes, env: dict, log_path, *args: str) -> subprocess.Popen:
    # A process group of its own (`processes`), so that SIGKILL reaches the worker, its work horse and its
    # scheduler at once, as when the machine or the container goes away; and nothing of it outlives the test.
    with open(log_path, "ab") as log:
        return processes(
            [sys.executable, "-m", "services.certificates.worker", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def stop_worker(process: subprocess.Popen) -> None:
    """A warm shutdown, then nothing of its process group left behind (horse, scheduler)."""
    process.terminate()
    try:
        process.wait(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the worker quit (code {process.returncode}) before {what}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def logged(log_path, message: str) -> Counter:
    """How many times the worker's JSON log says `message` of each certificate."""
    counts: Counter = Counter()
    for line in log_path.read_text().splitlines():
        if line.startswith("{") and f'"{message}"' in line:
            counts[json.loads(line)["certificate_id"]] += 1
    return counts


def test_burst_worker_warms_up_and_renders(database_url, redis_connection, tmp_path, processes):
    ids = add_certificates(database_url, 3)
    enqueue_rendering(Queue(QUEUE_NAME, connection=redis_connection), ids)
    log = tmp_path / "worker.log"
    worker = start_worker(processes, subprocess_env(database_url, tmp_path / "storage"), log, "--burst")
    assert worker.wait(timeout=180) == 0, log.read_text()[-3000:]
    warmed = [json.loads(line) for line in log.read_text().splitlines() if "weasyprint warmed up" in line]
    assert warmed and warmed[0]["harfbuzz_subset"] is True
    assert count_by_status(database_url) == {CertificateStatus.rendered: 3}


def test_sigkill_mid_batch_loses_nothing_and_renders_each_once(
    database_url, redis_connection, tmp_path, db_backend, processes
):
    total = 60
    ids = add_certificates(database_url, total)
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    enqueue_rendering(queue, ids, batch_size=20)
    env = subprocess_env(database_url, tmp_path / "storage")
    log = tmp_path / "worker.log"

    worker = start_worker(processes, env, log)
    # A batch commits its certificates together, so the first ones show the moment a job ends: the kill
    # waits until the next job has started too, so that it lands in the middle of a batch.
    wait_for(
        lambda: (
            count_by_status(database_url).get(CertificateStatus.rendered, 0) >= 5
            and len(StartedJobRegistry(queue=queue)) == 1
        ),
        180,
        "the first certificates",
        worker,
    )
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    done_before = count_by_status(database_url).get(CertificateStatus.rendered, 0)
    assert done_before < total, "the worker finished before it could be killed; make the batch bigger"
    assert len(StartedJobRegistry(queue=queue)) == 1  # the batch it was working on, abandoned

    started = time.monotonic()
    restarted = start_worker(processes, env, log)
    try:
        wait_for(
            lambda: count_by_status(database_url) == {CertificateStatus.rendered: total},
            240,
            "every certificate rendered after the restart",
            restarted,
        )
        recovery_s = time.monotonic() - started
    finally:
        stop_worker(restarted)

    rendered, taken = logged(log, "certificate rendered"), logged(log, "certificate taken")
    # Rendered once each. The one whose PDF was stored when the kill came but whose row was not yet
    # committed is taken as stored after the restart, not rendered a second time.
    assert all(count == 1 for count in rendered.values()), rendered.most_common(3)
    assert set(rendered) | set(taken) == set(ids)
    assert sum(taken.values()) <= 1
    for certificate_id, row in certificates(database_url).items():
        assert storage.exists(tmp_path / "storage", row.pdf_path), certificate_id
    assert "requeued abandoned job" in log.read_text()
    assert recovery_s < 120  # not RQ's ten-minute cleanup


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def test_horse_and_scheduler_die_with_their_worker(database_url, redis_connection, tmp_path, processes):
    ids = add_certificates(database_url, 80)
    enqueue_rendering(Queue(QUEUE_NAME, connection=redis_connection), ids, batch_size=80)
    worker = start_worker(
        processes, subprocess_env(database_url, tmp_path / "storage"), tmp_path / "worker.log"
    )
    # rendering under way: the worker has two children, its scheduler and its work horse
    wait_for(lambda: len(children(worker.pid)) >= 2, 120, "the horse and the scheduler", worker)
    forked = children(worker.pid)
    os.kill(worker.pid, signal.SIGKILL)  # the worker alone, not its group
    worker.wait(timeout=10)
    wait_for(lambda: not any(running(pid) for pid in forked), 10, "the horse and the scheduler to die too")


def test_a_failed_render_is_retried_by_the_scheduler(database_url, redis_connection, tmp_path, processes):
    [certificate_id] = add_certificates(database_url, 1, event_id=7)
    storage_dir = tmp_path / "storage"
    # The event's folder is taken by a file: storing the PDF fails until someone clears it.
    (storage_dir / "certificates").mkdir(parents=True)
    blocker = storage_dir / "certificates" / "7"
    blocker.write_text("not a folder")
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    [job_id] = enqueue_rendering(queue, [certificate_id], retry_intervals=(2, 2))
    log = tmp_path / "worker.log"
    worker = start_worker(processes, subprocess_env(database_url, storage_dir), log)
    try:
        wait_for(
            lambda: certificates(database_url)[certificate_id].error is not None,
            120,
            "the first failure",
            worker,
        )
        row = certificates(database_url)[certificate_id]
        assert row.status is CertificateStatus.pending  # retries are left
        assert queue.fetch_job(job_id).get_status() == "scheduled"
        blocker.unlink()
        wait_for(
            lambda: certificates(database_url)[certificate_id].status is CertificateStatus.rendered,
            60,
            "the retry",
            worker,
        )
    finally:
        stop_worker(worker)
    row = certificates(database_url)[certificate_id]
    assert row.error is None
    assert storage.exists(storage_dir, row.pdf_path)


def test_which_workers_count_as_alive(redis_connection):
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    assert requeue_abandoned(queue) == []
    assert worker_is_alive(redis_connection, "") is False
    assert worker_is_alive(redis_connection, "never-registered") is False
    here = socket.gethostname()
    fresh = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    old = "2020-01-01T00:00:00.000000Z"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    workers = {
        "alive": {"hostname": here, "pid": sleeper.pid, "last_heartbeat": fresh},
        "gone": {"hostname": here, "pid": gone.pid, "last_heartbeat": fresh},
        # a pid taken again by another process: the silence gives it away
        "reused-pid": {"hostname": here, "pid": sleeper.pid, "last_heartbeat": old},
        # our own pid: an earlier life of this process, in a restarted container
        "earlier-life": {"hostname": here, "pid": os.getpid(), "last_heartbeat": fresh},
        "far-away-busy": {"hostname": "elsewhere", "pid": 1, "last_heartbeat": fresh},
        "far-away-silent": {"hostname": "elsewhere", "pid": 1, "last_heartbeat": old},
        "said-goodbye": {"hostname": "elsewhere", "pid": 1, "last_heartbeat": fresh, "death": fresh},
    }
    try:
        for name, fields in workers.items():
            redis_connection.hset(f"rq:worker:{name}", mapping=fields)
        alive = {name for name in workers if worker_is_alive(redis_connection, name)}
    finally:
        sleeper.kill()
        sleeper.wait()
    assert alive == {"alive", "far-away-busy"}
