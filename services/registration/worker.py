"""The mail worker: `python -m services.registration.worker`.

RQ's worker on the `mail` queue, plus a sweep every few seconds (and at start-up) that keeps the outbox
honest without anyone watching it:
- letters left `sending` by an attempt that died become failed, with the reason (mail.reconcile_interrupted);
- letters still queued long after they were written (their job was lost with a Redis restart, or the
  registration service could not reach Redis) are queued again; the claim in tasks.py makes that harmless.
Without SMTP_HOST it still runs (so `make run` is the same everywhere) but has nothing to send: letters
are held in the outbox.
"""

from __future__ import annotations

import argparse
import logging
import time
from datetime import UTC, datetime, timedelta

from rq import Queue, Worker

from eventops import logs, metrics
from eventops.config import Settings
from eventops.queue import ObservedWorker, connect
from services.registration import mail
from services.registration.tasks import QUEUE_NAME, _sessionmaker, enqueue_sending

log = logging.getLogger("registration.mail-worker")

#: how often the outbox is swept
SWEEP_INTERVAL = 5.0
#: a queued letter this old has lost its job
STRANDED_AFTER = timedelta(minutes=2)


def sweep(settings: Settings, queue: Queue) -> tuple[int, int]:
    """Returns (letters reconciled as interrupted, letters queued again)."""
    with _sessionmaker(settings.database_url)() as session:
        interrupted = mail.reconcile_interrupted(session)
        stranded = mail.stranded_ids(session, older_than=STRANDED_AFTER) if settings.smtp.host else []
    if stranded:
        enqueue_sending(queue, stranded)
    if interrupted or stranded:
        log.warning("outbox swept", extra={"fields": {"interrupted": interrupted, "requeued": len(stranded)}})
    return interrupted, len(stranded)


class MailWorker(ObservedWorker, Worker):
    def __init__(self, *args, settings: Settings, sweep_interval: float = SWEEP_INTERVAL, **kwargs):
        # The idle loop's BLPOP waits worker_ttl - 15 s: a short TTL wakes it for the sweep that often.
        kwargs.setdefault("worker_ttl", int(sweep_interval) + 15)
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.sweep_interval = sweep_interval
        self._last_swept: float | None = None

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return self._last_swept is None or time.monotonic() - self._last_swept >= self.sweep_interval

    def run_maintenance_tasks(self) -> None:
        self._last_swept = time.monotonic()
        for queue in self.queues:
            try:
                sweep(self.settings, queue)
            except Exception:  # a database that is briefly away must not stop the worker
                log.exception("outbox sweep failed")
        # RQ's own cleaning of its registries, at its own (slow) pace.
        if self.last_cleaned_at is None or (
            (datetime.now(UTC) - self.last_cleaned_at).total_seconds() > self.maintenance_interval
        ):
            super().run_maintenance_tasks()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mail-worker")
    parser.add_argument("--burst", action="store_true", help="quit when the queue is empty")
    parser.add_argument("--name", help="the worker's name in RQ (default: random)")
    args = parser.parse_args(argv)
    logs.configure("mail-worker")
    settings = Settings.from_env("registration")
    connection = connect(settings.redis_url)
    queue = Queue(QUEUE_NAME, connection=connection)
    log.info(
        "mail worker starting",
        extra={
            "fields": {
                "smtp_host": settings.smtp.host or "(none: letters are held)",
                "rate": settings.smtp.rate,
            }
        },
    )
    if settings.metrics_port:
        metrics.serve_worker_metrics(
            settings.metrics_port,
            settings.bind_host,
            [metrics.QueueLengths(lambda: connection, [QUEUE_NAME])],
        )
    worker = MailWorker([queue], connection=connection, name=args.name, settings=settings)
    worker.work(burst=args.burst)


if __name__ == "__main__":
    main()
