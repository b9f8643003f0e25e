"""The certificate worker: `python -m services.certificates.worker`.

- WeasyPrint is warmed up (fonts found, stylesheet parsed, templates compiled) once, before the worker
  forks its first work horse: every job starts warm, and memory stays flat because each job's horse exits.
- It runs RQ's scheduler, so a failed render's `Retry` intervals really bring the job back.
- Jobs abandoned by a dead worker (SIGKILL, a lost machine) are put back on the queue within seconds, at
  start-up and every few seconds after, instead of after RQ's ten-minute maintenance.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import logging
import os
import signal
import socket
import sys
import time
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

from redis import Redis
from rq import Queue, Worker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.executions import Execution
from rq.group import Group
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.scheduler import run as run_scheduler

from eventops import logs, metrics
from eventops.config import Settings
from eventops.queue import ObservedWorker, connect
from services.certificates import storage
from services.certificates.tasks import QUEUE_NAME, renderer

log = logging.getLogger("certificates.worker")

#: how often abandoned jobs are looked for (and the scheduler's lock is tried for again)
REAP_INTERVAL = 5.0
#: a worker on another machine that has not sent a heartbeat for this long is taken for dead
STALE_AFTER = 60.0


def worker_is_alive(connection: Redis, worker_name: str, stale_after: float = STALE_AFTER) -> bool:
    """Whether the worker that started a job can still finish it.

    Its registration must exist, not be marked dead, and carry a recent heartbeat (a busy worker beats
    every few seconds while its horse works). On this machine its process is also asked directly, which
    finds a SIGKILLed worker at once; a pid that is our own belongs to an earlier life of this process
    (a restarted container), since a worker looking for abandoned jobs has none of its own running.
    """
    if not worker_name:
        return False
    data = {k.decode(): v.decode() for k, v in connection.hgetall(f"rq:worker:{worker_name}").items()}
    if not data or "death" in data:
        return False
    if data.get("hostname") == socket.gethostname() and data.get("pid"):
        pid = int(data["pid"])
        if pid == os.getpid() or not _process_alive(pid):
            return False
    try:
        last = datetime.fromisoformat(data["last_heartbeat"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return False
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return (datetime.now(UTC) - last).total_seconds() < stale_after


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        # "pid (name) S ...": a zombie (Z) or dead (X) process will never finish its job
        return stat.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def requeue_abandoned(queue: Queue, stale_after: float = STALE_AFTER) -> list[str]:
    """Put the started jobs whose worker is dead back at the front of the queue; returns their ids.

    Removing the registry entry is the claim: when two workers look at once, only the one whose ZREM
    succeeds requeues the job. A crash is not the job's fault, so it does not use up one of its retries.
    """
    connection = queue.connection
    registry = StartedJobRegistry(queue=queue)
    requeued = []
    for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
        execution = Execution(execution_id, job_id, connection=connection)
        worker_name = (connection.hget(execution.key, "worker_name") or b"").decode()
        if not worker_name:
            worker_name = (connection.hget(f"rq:job:{job_id}", "worker_name") or b"").decode()
        if worker_is_alive(connection, worker_name, stale_after):
            continue
        if not connection.zrem(registry.key, execution.composite_key):
            continue  # another worker claimed it first
        connection.delete(execution.key)
        try:
            job = Job.fetch(job_id, connection=connection)
        except Exception:
            continue
        job.started_at = job.ended_at = None
        queue.enqueue_job(job, at_front=True)
        requeued.append(job_id)
        log.warning(
            "requeued abandoned job", extra={"fields": {"job_id": job_id, "dead_worker": worker_name}}
        )
    return requeued


class CertificateWorker(ObservedWorker, Worker):
    """RQ's forking worker, with prompt recovery of abandoned jobs and horses that die with their worker;
    its jobs log under the request id that queued them, and are counted (eventops.metrics)."""

    def __init__(
        self, *args, reap_interval: float = REAP_INTERVAL, stale_after: float = STALE_AFTER, **kwargs
    ):
        # A short worker TTL makes the idle loop wake every few seconds (its BLPOP waits ttl - 15 s), so
        # maintenance below runs that often; a short monitoring interval keeps a busy heartbeat fresh.
        kwargs.setdefault("worker_ttl", int(reap_interval) + 15)
        kwargs.setdefault("job_monitoring_interval", max(1, int(reap_interval)))
        super().__init__(*args, **kwargs)
        self.reap_interval = reap_interval
        self.stale_after = stale_after
        self._last_reaped: float | None = None

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return self._last_reaped is None or time.monotonic() - self._last_reaped >= self.reap_interval

    def run_maintenance_tasks(self) -> None:
        self._last_reaped = time.monotonic()
        for queue in self.queues:
            requeue_abandoned(queue, self.stale_after)
            # A job taken off the queue by a worker that died before starting it waits in RQ's
            # intermediate queue; RQ treats one seen there twice a minute apart as failed (and retries it).
            queue.intermediate_queue.cleanup(self, queue)
        # The scheduler's lock may have belonged to a worker that was killed: take it over once it expires
        # (not while stopping: a scheduler started now would outlive this worker).
        scheduler = self.scheduler
        if (
            scheduler
            and not self._stop_requested
            and (not scheduler._process or not scheduler._process.is_alive())
        ):
            scheduler.acquire_locks(auto_start=True)
        if self.last_cleaned_at is None or (
            (datetime.now(UTC) - self.last_cleaned_at).total_seconds() > self.maintenance_interval
        ):
            self.clean_registries()
            Group.clean_registries(connection=self.connection)

    def job_ended(self, job) -> None:
        # What the horse rendered is in its result (a failed job's partial renders are not counted).
        try:
            counts = job.return_value(refresh=True)
        except Exception:
            return
        if isinstance(counts, dict) and counts.get("rendered"):
            metrics.CERTIFICATES_RENDERED.inc(counts["rendered"])

    def main_work_horse(self, job, queue):
        _die_with_parent()
        super().main_work_horse(job, queue)

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ):
        # RQ's own, with a scheduler process that dies with this worker instead of living on as an orphan.
        self.scheduler = CertificateScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()


class CertificateScheduler(RQScheduler):
    """RQ's scheduler, whose process gets SIGKILL when the worker that started it dies."""

    def start(self):
        self._status = self.Status.STARTED
        self._connection = None  # a Redis connection is not carried across the fork
        self._process = get_context("fork").Process(target=_run_scheduler, args=(self,), name="Scheduler")
        self._process.start()
        return self._process


def _run_scheduler(scheduler: RQScheduler) -> None:
    _die_with_parent()
    run_scheduler(scheduler)


def _die_with_parent() -> None:
    """Linux: the horse and the scheduler get SIGKILL when their worker dies, so a requeued job never runs
    twice at once and no orphan keeps the scheduler's lock."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the worker died between the fork and the prctl
        os._exit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="certificate-worker")
    parser.add_argument("--burst", action="store_true", help="quit when the queue is empty")
    parser.add_argument("--name", help="the worker's name in RQ (default: random)")
    args = parser.parse_args(argv)
    logs.configure("certificate-worker")
    # WeasyPrint logs every step of every page at INFO: thousands of lines per batch, and time spent on them.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    settings = Settings.from_env("certificates")
    started = time.perf_counter()
    renderer().warm_up()
    # The PDF store too: an object store's client (boto3: its import and its service model) costs a few
    # hundred milliseconds of CPU, which every forked horse would pay again for its one job.
    storage.store(settings)
    from weasyprint.text.ffi import harfbuzz_subset

    log.info(
        "weasyprint warmed up",
        extra={
            "fields": {
                "ms": round((time.perf_counter() - started) * 1000),
                "harfbuzz_subset": harfbuzz_subset is not None,
            }
        },
    )
    # Everything made so far (WeasyPrint, fonts, templates: most of the heap) is left out of the garbage
    # collector's scans: a forked horse that scanned it would write to every page it shares with us and so
    # copy them all, costing CPU on every job and memory in every horse.
    gc.collect()
    gc.freeze()
    connection = connect(settings.redis_url)
    if settings.metrics_port:
        metrics.serve_worker_metrics(
            settings.metrics_port,
            settings.bind_host,
            [metrics.QueueLengths(lambda: connection, [QUEUE_NAME])],
        )
    worker = CertificateWorker(
        [Queue(QUEUE_NAME, connection=connection)], connection=connection, name=args.name
    )
    worker.work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()
