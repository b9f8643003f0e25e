"""The certificate worker: `python -m services.certificates.worker`.

WeasyPrint is warmed up (fonts found, stylesheet parsed) once, before the first job is taken.
"""
from __future__ import annotations

import argparse
import logging
import time

from rq import Queue, Worker

from eventops import logs
from eventops.config import Settings
from eventops.queue import connect
from services.certificates.tasks import QUEUE_NAME, renderer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="certificate-worker")
    parser.add_argument("--burst", action="store_true", help="quit when the queue is empty")
    args = parser.parse_args(argv)
    logs.configure("certificate-worker")
    log = logging.getLogger("certificates.worker")
    settings = Settings.from_env("certificates")
    started = time.perf_counter()
    renderer().warm_up()
    log.info("weasyprint warmed up", extra={"fields": {"ms": round((time.perf_counter() - started) * 1000)}})
    connection = connect(settings.redis_url)
    worker = Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    worker.work(burst=args.burst, with_scheduler=False)


if __name__ == "__main__":
    main()
