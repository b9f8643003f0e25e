"""The busy door and the 1,000-certificate issue on the production topology that `make run-prod` starts:
nginx with TLS in front of the gateway, every process under gunicorn, PostgreSQL, a real Redis, two
certificate workers.

1. The door (bench_checkin's tablets and driving, reused): 10,000 participants, 50 tablets through nginx over
   HTTPS, each searching and checking someone in every 2 s; then the same with no pauses (saturation).
2. Issue: 1,000 pending certificates (bench_certificates' rows, reused) enqueued for run-prod's two workers;
   the clock runs until every row says rendered and every PDF is stored.

Environment: BENCH_POSTGRES_URL (admin URL), BENCH_REDIS_URL (default db 14, flushed),
BENCH_CHECKIN_PARTICIPANTS, BENCH_CHECKIN_TABLETS, BENCH_CHECKIN_SECONDS (per phase),
BENCH_WORKERS (gunicorn workers per process),
BENCH_CERTIFICATES (1000).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import bench_certificates, bench_checkin

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 180
SERVICES = ("registration", "certificates", "feedback")


class ProdSystem(bench_certificates.System):
    """`make run-prod` on a fresh database and its own var/ folder; everything is removed on exit.

    Inherits bench_certificates' ways of adding certificate rows and waiting for them to be rendered."""

    def __enter__(self) -> ProdSystem:
        self.name = f"eventops_bench_prod_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(bench_checkin.ADMIN_URL, isolation_level="AUTOCOMMIT")
        url = make_url(bench_checkin.ADMIN_URL).set(database=self.name)
        self.database_url = url.render_as_string(hide_password=False)
        self.var = Path(tempfile.mkdtemp(prefix="eventops-bench-prod-"))
        self.storage = self.var / "storage"
        self.token = secrets.token_urlsafe(32)
        ports = {name: bench_checkin.free_port() for name in ("web", *SERVICES)}
        nginx_port = bench_checkin.free_port()
        self.urls = {
            "web": f"https://127.0.0.1:{nginx_port}",
            **{name: f"http://127.0.0.1:{ports[name]}" for name in SERVICES},
        }
        self.ca = self.var / "tls" / "ca.crt"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,  # run-prod creates it
            "REDIS_URL": bench_checkin.REDIS_URL,
            "SERVICE_TOKEN": self.token,
            "EVENTOPS_VAR_DIR": str(self.var),
            "STORAGE_DIR": str(self.storage),
            "NGINX_PORT": str(nginx_port),
            "WEB_CONCURRENCY": str(bench_checkin.WORKERS),
            "PYTHONPATH": str(REPO),
            **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        }
        self.redis = redis.Redis.from_url(bench_checkin.REDIS_URL)
        self.redis.flushdb()
        with open(self.var / "run-prod.log", "wb") as log:
            self.launcher = subprocess.Popen(
                [sys.executable, str(REPO / "scripts" / "run_prod.py")],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_up()
            self.engine = create_engine(self.database_url)
            # The tablets' sessions (bench_checkin's) trust the local CA through requests' own variable.
            os.environ["REQUESTS_CA_BUNDLE"] = str(self.ca)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_up(self) -> None:
        paths = ["/healthz", *(f"/healthz/{name}" for name in SERVICES)]
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.launcher.poll() is None:
            try:
                if self.ca.exists() and all(
                    requests.get(f"{self.urls['web']}{path}", verify=str(self.ca), timeout=5).ok
                    for path in paths
                ):
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"run-prod did not come up; see {self.var / 'run-prod.log'}")
        # Registered with RQ means warmed up: two certificate workers and the mail worker.
        while self.redis.scard("rq:workers") < 3:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the workers did not start; see {self.var / 'run-prod.log'}")
            time.sleep(0.2)

    def __exit__(self, *_exc) -> None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.launcher.pid, signal.SIGINT)  # Ctrl-C
        with contextlib.suppress(subprocess.TimeoutExpired):  # what is left is killed below
            self.launcher.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.launcher.pid, signal.SIGKILL)
        if hasattr(self, "engine"):
            self.engine.dispose()
        self.redis.flushdb()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
        shutil.rmtree(self.var, ignore_errors=True)

    def api(self, name: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        return session

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time of the processes run-prod started, by part (nginx, web, each service, the workers), exited
        children included; PostgreSQL's backends and Redis are not its children and not counted."""
        parts: dict[str, float] = {}
        for pid in descendants(self.launcher.pid):
            with contextlib.suppress(OSError):  # exited meanwhile: its time is in its parent's count
                part = part_of(Path(f"/proc/{pid}/cmdline").read_bytes())
                if part:  # a shell honcho started a process through counts in the process's part
                    parts[part] = parts.get(part, 0.0) + bench_certificates.cpu_seconds(pid)
        return parts

    def certificate_worker_pids(self) -> list[int]:
        from rq import Worker

        from services.certificates.tasks import QUEUE_NAME

        return [w.pid for w in Worker.all(connection=self.redis) if QUEUE_NAME in w.queue_names()]


def descendants(pid: int) -> list[int]:
    """The process and everything below it (honcho starts each child in a session of its own, but it
    remains their parent)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        # Each thread has its own list: honcho starts children from threads of its own.
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pending += [int(child) for child in children.read_text().split()]
    return found


PARTS = {
    b"nginx": "nginx",
    b"web.app": "web",
    b"services.registration.app": "registration",
    b"services.certificates.app": "certificates",
    b"services.feedback.app": "feedback",
    b"services.certificates.worker": "certificate_workers",
    b"services.registration.worker": "mail_worker",
}


def part_of(cmdline: bytes) -> str | None:
    if cmdline.startswith((b"sh\0", b"/bin/sh\0")):
        return None
    return next((part for marker, part in PARTS.items() if marker in cmdline), None)


def issue(system: ProdSystem, count: int) -> tuple[float, float]:
    """Seconds from enqueueing `count` pending certificates until all are rendered and stored, and the CPU
    seconds run-prod's certificate workers (and their work horses) spent on it."""
    from rq import Queue

    from services.certificates.tasks import BATCH_SIZE, QUEUE_NAME, enqueue_rendering

    event_id = 900_001  # rows of their own, apart from the door's event
    ids = system.add_certificates(event_id, count)
    pids = system.certificate_worker_pids()
    cpu_before = sum(bench_certificates.cpu_seconds(pid) for pid in pids)
    started = time.perf_counter()
    enqueue_rendering(Queue(QUEUE_NAME, connection=system.redis), ids, batch_size=BATCH_SIZE)
    system.wait_rendered(event_id, count, timeout=1200)
    elapsed = time.perf_counter() - started
    time.sleep(0.5)  # the last horse exits and is reaped, so its CPU time reaches its worker's count
    cpu = sum(bench_certificates.cpu_seconds(pid) for pid in pids) - cpu_before
    if not system.all_stored(ids, event_id):
        raise RuntimeError("a row says rendered but its PDF is not stored")
    return elapsed, cpu


def run() -> list[dict]:
    context = {
        "participants": bench_checkin.PARTICIPANTS,
        "tablets": bench_checkin.TABLETS,
        "gunicorn_workers": bench_checkin.WORKERS,
        "cpus": os.cpu_count(),
        "seconds": bench_checkin.PHASE_SECONDS,
        "topology": "make run-prod: nginx + TLS, gunicorn, PostgreSQL, Redis",
    }
    with ProdSystem() as system:
        event_id, people = bench_checkin.seed(system)
        tablets = bench_checkin.open_tablets(system, event_id)
        web = system.urls["web"]
        load_before = os.getloadavg()[0]
        cpu_before = system.cpu_seconds()
        paced = bench_checkin.drive(
            web, event_id, tablets, people, bench_checkin.DAYS[0], bench_checkin.PACE_SECONDS
        )
        cpu_after = system.cpu_seconds()
        paced_cpu = {part: cpu_after[part] - cpu_before.get(part, 0.0) for part in cpu_after}
        paced_cpu_s = sum(paced_cpu.values())
        saturated = bench_checkin.drive(web, event_id, tablets, people, bench_checkin.DAYS[1], 0)
        load_after = os.getloadavg()[0]
        stored_duplicates = bench_checkin.duplicates_in_database(system.database_url, event_id)
        issue_s, issue_cpu_s = issue(system, bench_certificates.COUNT)
        load_issue = os.getloadavg()[0]

    load = {
        "load_average_1min_before": round(load_before, 1),
        "load_average_1min_after": round(load_after, 1),
    }
    percentile = bench_checkin.percentile
    results = [
        {
            "bench": f"prod.{figure}_p95_ms",
            "value": round(percentile(values, 0.95), 1),
            "unit": "ms",
            "p50_ms": round(percentile(values, 0.50), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
            "samples": len(values),
            "phase": f"paced, every tablet every {bench_checkin.PACE_SECONDS:g} s",
            **load,
            **context,
        }
        for figure, values in (("search", paced.search_ms), ("checkin", paced.checkin_ms))
    ]
    paced_requests = len(paced.search_ms) + len(paced.checkin_ms)
    results.append(
        {
            "bench": "prod.cpu_ms_per_request",
            "value": round(paced_cpu_s * 1000 / max(1, paced_requests), 1),
            "unit": "ms",
            "what": "CPU of nginx, every gunicorn and worker run-prod started, per search or check-in "
            "(PostgreSQL not counted): steadier than the wall time on a loaded machine",
            "requests": paced_requests,
            "by_part_ms": {
                part: round(cpu * 1000 / max(1, paced_requests), 2) for part, cpu in paced_cpu.items()
            },
            "phase": "paced",
            **load,
            **context,
        }
    )
    results.append(
        {
            "bench": "prod.errors",
            "value": paced.errors + saturated.errors,
            "unit": "count",
            "paced": paced.errors,
            "saturation": saturated.errors,
            "duplicates": stored_duplicates + paced.duplicates + saturated.duplicates,
            **context,
        }
    )
    results.append(
        {
            "bench": "prod.throughput_rps",
            "value": round(len(saturated.checkin_ms) / saturated.seconds, 1),
            "unit": "check-ins/s",
            "requests_per_s": round(
                (len(saturated.checkin_ms) + len(saturated.search_ms)) / saturated.seconds, 1
            ),
            "saturated_search_p95_ms": round(percentile(saturated.search_ms, 0.95), 1),
            "saturated_checkin_p95_ms": round(percentile(saturated.checkin_ms, 0.95), 1),
            "phase": "saturation, no pauses",
            **load,
            **context,
        }
    )
    count = bench_certificates.COUNT
    results.append(
        {
            "bench": f"prod.issue_{count}_s",
            "value": round(issue_s, 2),
            "unit": "s",
            "certificates": count,
            "certificate_workers": 2,
            "workers_cpu_s": round(issue_cpu_s, 2),
            "cpu_ms_per_pdf": round(issue_cpu_s * 1000 / count, 1),
            "load_average_1min": round(load_issue, 1),
            "cpus": os.cpu_count(),
        }
    )
    return results


if __name__ == "__main__":
    import json

    for result in run():
        print(json.dumps(result, ensure_ascii=False))
