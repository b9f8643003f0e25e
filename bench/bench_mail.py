"""Mail: 1,000 organiser letters through real mail workers to a local SMTP server (aiosmtpd on loopback), and
the throttle's accuracy at 10 letters a second.

- mail.send_1000_s: seconds from queuing 1,000 letters (written in the outbox first, as the API does) until
  the outbox says all are sent, with BENCH_MAIL_WORKERS workers already running and no rate limit.
- mail.cpu_ms_per_letter: the workers' CPU (their forked job processes included) per letter.
- mail.rate_error_pct: |measured rate − 10| / 10, the rate measured from the times the server received
  BENCH_MAIL_RATE_LETTERS letters sent by two workers sharing the throttle.

The outbox is an SQLite file (the laptop's case). Environment: BENCH_REDIS_URL (default db 1, flushed),
BENCH_MAIL_LETTERS (1000), BENCH_MAIL_WORKERS (2), BENCH_MAIL_RATE_LETTERS (41).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import redis
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eventops.config import Settings, SmtpSettings
from eventops.db import make_engine
from eventops.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
LETTERS = int(os.environ.get("BENCH_MAIL_LETTERS", 1000))
WORKERS = int(os.environ.get("BENCH_MAIL_WORKERS", 2))
RATE_LETTERS = int(os.environ.get("BENCH_MAIL_RATE_LETTERS", 41))
RATE = 10.0


class Counting:
    """Accepts everything; notes when each letter arrived."""

    def __init__(self):
        self.times: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.times.append(time.perf_counter())
        return "250 OK"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _outbox(folder: Path, letters: int, port: int) -> tuple[str, int, list[int]]:
    """A migrated registration database with one event, `letters` participants and a letter to each."""
    from services.registration import mail
    from services.registration.models import Event, Participant

    url = f"sqlite:///{folder / 'registration.db'}"
    upgrade("registration", url)
    settings = Settings(
        service="registration",
        database_url=url,
        redis_url=REDIS_URL,
        service_token="bench-" + uuid.uuid4().hex,
        secret_key="bench-" + uuid.uuid4().hex,
        storage_dir=folder,
        public_url="https://kurs.example.ru",
        smtp=SmtpSettings(host="127.0.0.1", port=port, mail_from="Курсы <kursy@example.ru>"),
    )
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        event = Event(
            slug=f"bench-{uuid.uuid4().hex[:8]}",
            title="Цифровые коммуникации",
            organiser="ЮРИУ РАНХиГС",
            place="Сочи",
            starts_on=date(2026, 10, 7),
            ends_on=date(2026, 10, 9),
        )
        session.add(event)
        session.flush()
        for i in range(letters):
            session.add(
                Participant(
                    event_id=event.id,
                    code=f"B{i:05d}",
                    surname="Иванова",
                    first_name="Анна",
                    email=f"p{i}@mfc.example.ru",
                    email_key=f"p{i}@mfc.example.ru",
                )
            )
        session.commit()
        _campaign, messages, _ = mail.send_campaign(
            session, settings, event, "Трансфер", "Автобус в 18:00.", mail.Audience()
        )
        ids = [message.id for message in messages]
    engine.dispose()
    return url, event.id, ids


def _sent(url: str) -> int:
    from services.registration.models import MailMessage, MessageStatus

    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(
            select(func.count()).select_from(MailMessage).where(MailMessage.status == MessageStatus.sent)
        )
    engine.dispose()
    return count


def _workers(count: int, url: str, port: int, folder: Path, rate: float) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REGISTRATION_DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "MAIL_RATE": str(rate),
        "EVENTOPS_VAR_DIR": str(folder / "var"),
    }
    log = open(folder / "workers.log", "a")  # noqa: SIM115  # kept open for the workers' lifetime
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "services.registration.worker",
                "--name",
                f"bench-mail-{uuid.uuid4().hex[:6]}",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        for _ in range(count)
    ]


def _wait_registered(connection: redis.Redis, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(connection.smembers("rq:workers:mail")) >= count:
            return
        time.sleep(0.1)
    raise RuntimeError("mail workers did not start")


def _stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _round(folder: Path, letters: int, workers: int, rate: float) -> tuple[float, float, list[float]]:
    """(seconds until all sent, workers' CPU seconds, the server's receive times)."""
    from rq import Queue

    from services.registration.tasks import QUEUE_NAME, enqueue_sending

    handler = Counting()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    url, _event_id, ids = _outbox(folder, letters, port)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    processes = _workers(workers, url, port, folder, rate)
    try:
        _wait_registered(connection, workers)
        started = time.perf_counter()
        enqueue_sending(Queue(QUEUE_NAME, connection=connection), ids)
        while _sent(url) < letters:
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"only {_sent(url)} of {letters} letters sent in 600 s")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        _stop(processes)
        controller.stop()
        connection.flushdb()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if len(handler.times) != letters:
        raise RuntimeError(f"the server received {len(handler.times)} letters, not {letters}")
    return elapsed, cpu, handler.times


def run() -> list[dict]:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as folder:
        base = Path(folder)
        (base / "bulk").mkdir()
        elapsed, cpu, _times = _round(base / "bulk", LETTERS, WORKERS, 0)
        (base / "rate").mkdir()
        _elapsed, _cpu, times = _round(base / "rate", RATE_LETTERS, 2, RATE)
    measured = (len(times) - 1) / (times[-1] - times[0])
    context = {"workers": WORKERS, "load_average": round(load, 2)}
    return [
        {"bench": "mail.send_1000_s", "value": round(elapsed, 2), "unit": "s", "letters": LETTERS, **context},
        {"bench": "mail.cpu_ms_per_letter", "value": round(cpu * 1000 / LETTERS, 2), "unit": "ms", **context},
        {
            "bench": "mail.rate_error_pct",
            "value": round(abs(measured - RATE) / RATE * 100, 2),
            "unit": "%",
            "measured_per_s": round(measured, 3),
            "letters": RATE_LETTERS,
            "workers": 2,
        },
    ]
