"""The busy door and the 1,000-certificate issue on the production topology that `make run-prod` starts:
nginx with TLS in front of the gateway, every process under gunicorn, PostgreSQL, a real Redis, two
certificate workers.

1. The door (bench_checkin's tablets and driving, reused): 10,000 participants, 50 tablets through nginx over
   HTTPS, each searching and checking someone in every 2 s; then the same with no pauses (saturation).
2. Issue: 1,000 pending certificates (bench_certificates' rows, reused) enqueued for run-prod's two workers,
   which write to an S3-compatible object store (moto's server, a process of its own on loopback, through the
   real boto3 client); the clock runs until every row says rendered and every PDF is in the bucket (and none
   in the local folder).
3. The same issue on a second run-prod that keeps the PDFs in the local folder, so the store's cost shows
   (BENCH_PROD_LOCAL_ISSUE=0 leaves it out).

Throughout, each part's memory (RSS, PSS, USS from /proc/<pid>/smaps_rollup, summed over a process group:
a gunicorn master and its workers, a certificate worker and its work horse and scheduler, nginx's master
and workers) is sampled every second, and its CPU seconds are taken at the start and end of each phase:
nginx, the gateway, each service, each certificate worker, the mail worker, the database's PostgreSQL
backends (pg_stat_activity), Redis and the object store.

Environment: BENCH_POSTGRES_URL (admin URL), BENCH_REDIS_URL (default db 14, flushed),
BENCH_CHECKIN_PARTICIPANTS, BENCH_CHECKIN_TABLETS, BENCH_CHECKIN_SECONDS (per phase),
BENCH_WORKERS (gunicorn workers per process), GUNICORN_THREADS (threads per worker, default 2),
BENCH_CERTIFICATES (1000), BENCH_PROD_LOCAL_ISSUE (1).
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
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import bench_certificates, bench_checkin
from bench.support_s3 import S3Server

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 180
SERVICES = ("registration", "certificates", "feedback")
THREADS = int(os.environ.get("GUNICORN_THREADS") or 2)
LOCAL_ISSUE = os.environ.get("BENCH_PROD_LOCAL_ISSUE", "1") not in ("0", "false", "no")
BUCKET = "pdfs"
#: the bench's own database connections (seeding, polling for rendered rows) are not the system's
BENCH_APPLICATION = "eventops-bench"
SAMPLE_EVERY_S = 1.0
BACKENDS_EVERY_S = 0.1
MB = 1024 * 1024


class ProdSystem(bench_certificates.System):
    """`make run-prod` on a fresh database and its own var/ folder; everything is removed on exit.

    `storage` is "s3" (an object store of its own, moto's server, given to every process run-prod starts) or
    "local" (the folder var/storage). Inherits bench_certificates' ways of adding certificate rows and waiting
    for them to be rendered."""

    def __init__(self, storage: str = "s3") -> None:
        if storage not in ("s3", "local"):
            raise ValueError(f"storage is s3 or local, not {storage!r}")
        self.storage_kind = storage
        self.s3: S3Server | None = None

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
        try:
            store_env = self._store_env()
            self.env = {
                **os.environ,
                "DATABASE_URL": self.database_url,  # run-prod creates it
                "REDIS_URL": bench_checkin.REDIS_URL,
                "SERVICE_TOKEN": self.token,
                "SECRET_KEY": secrets.token_urlsafe(32),
                "EVENTOPS_VAR_DIR": str(self.var),
                "STORAGE_DIR": str(self.storage),
                "NGINX_PORT": str(nginx_port),
                "WEB_CONCURRENCY": str(bench_checkin.WORKERS),
                "GUNICORN_THREADS": str(THREADS),
                "PYTHONPATH": str(REPO),
                **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
                **store_env,
            }
            self.redis = redis.Redis.from_url(bench_checkin.REDIS_URL)
            self.redis.flushdb()
            with open(self.var / "run-prod.log", "wb") as log:
                self.launcher = subprocess.Popen(
                    [sys.executable, str(REPO / "scripts" / "run_prod.py")],
                    cwd=REPO,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self._wait_until_up()
            self.engine = create_engine(
                self.database_url, connect_args={"application_name": BENCH_APPLICATION}
            )
            # The tablets' sessions (bench_checkin's) trust the local CA through requests' own variable.
            os.environ["REQUESTS_CA_BUNDLE"] = str(self.ca)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _store_env(self) -> dict[str, str]:
        """What every process run-prod starts is given to find the PDF store."""
        if self.storage_kind == "local":
            # A developer's own STORAGE_URL must not turn the local figure into a store's.
            return {"STORAGE_URL": "", "S3_ENDPOINT_URL": ""}
        self.s3 = S3Server(log_path=self.var / "s3.log").start()
        self.s3.create_bucket(BUCKET)
        return self.s3.process_env(f"s3://{BUCKET}/bench")

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
        if hasattr(self, "launcher"):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.launcher.pid, signal.SIGINT)  # Ctrl-C
            with contextlib.suppress(subprocess.TimeoutExpired):  # what is left is killed below
                self.launcher.wait(timeout=60)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.launcher.pid, signal.SIGKILL)
        if self.s3 is not None:
            self.s3.stop()
        if hasattr(self, "engine"):
            self.engine.dispose()
        if hasattr(self, "redis"):
            self.redis.flushdb()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
        shutil.rmtree(self.var, ignore_errors=True)

    def api(self, name: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        return session

    def all_stored(self, ids: list[int], event_id: int) -> bool:
        """Every PDF is where the processes were told to keep it: the bucket (one listing, not a question per
        file) or the local folder; with the bucket, none of them in the local folder."""
        from eventops.config import Settings, parse_storage_url
        from services.certificates import storage

        settings = Settings.from_env("certificates", self.env)
        if self.s3 is None:
            store = storage.store(settings)
        else:  # the bucket and prefix the processes were given, through a client with their credentials
            bucket, prefix = parse_storage_url(settings.storage_url)
            store = storage.S3Storage(bucket, prefix, client=self.s3.client())
        folder = f"certificates/{event_id}"
        wanted = {storage.certificate_path(event_id, i) for i in ids}
        if not wanted <= set(store.paths(folder)):
            return False
        with store.open(storage.certificate_path(event_id, ids[-1])) as pdf:
            if pdf.read(5) != b"%PDF-":
                raise RuntimeError(f"{store} holds something else than a PDF for certificate {ids[-1]}")
        if self.s3 is not None and any(storage.LocalStorage(self.storage).paths(folder)):
            raise RuntimeError(f"PDFs in the local folder {self.storage}, although the store is {store}")
        return True

    def certificate_worker_pids(self) -> list[int]:
        from rq import Worker

        from services.certificates.tasks import QUEUE_NAME

        return [w.pid for w in Worker.all(connection=self.redis) if QUEUE_NAME in w.queue_names()]

    # --- the processes, by part ---

    def parts(self) -> dict[str, list[Process]]:
        """Every process of the system now, by part. run-prod's children are honcho's processes, one per
        Procfile line (and nginx), each with whatever it forked below it; PostgreSQL's backends of this
        database, the Redis server and the object store are not its children and are found apart."""
        parts: dict[str, list[Process]] = {"supervisor": []}
        workers = []
        for child in children(self.launcher.pid):
            # honcho's own copy of the launcher and the shell it starts the command with are the supervisor
            # (systemd or the like on a server), not the part
            tree = [process for pid in descendants(child) if (process := Process.read(pid))]
            found = [process for process in tree if part_of(process.cmdline)]
            parts["supervisor"] += [process for process in tree if process not in found]
            part = part_of(found[0].cmdline) if found else None
            if part == "certificate_workers":
                workers.append(found)
            elif part:
                parts.setdefault(part, []).extend(found)
        for number, tree in enumerate(sorted(workers, key=lambda tree: tree[0].pid), start=1):
            parts[f"certificate_worker_{number}"] = tree
        parts["postgres_backends"] = [
            process for pid in self.backend_pids() if (process := Process.read(pid))
        ]
        with contextlib.suppress(redis.RedisError):
            if process := Process.read(int(self.redis.info("server")["process_id"])):
                parts["redis"] = [process]
        if self.s3 is not None and self.s3.process is not None:
            parts["object_store"] = [
                process for pid in descendants(self.s3.process.pid) if (process := Process.read(pid))
            ]
        return parts

    def backend_pids(self) -> list[int]:
        with self.admin.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = :name "
                        "AND application_name IS DISTINCT FROM :bench"
                    ),
                    {"name": self.name, "bench": BENCH_APPLICATION},
                ).scalars()
            )


@dataclass(frozen=True)
class Process:
    """One process as /proc shows it: its command, its parent, its CPU seconds (exited children included:
    a work horse's time is in its worker's count once it is reaped) and its memory."""

    pid: int
    ppid: int
    cmdline: bytes
    cpu_s: float
    rss: int
    pss: int
    uss: int

    @classmethod
    def read(cls, pid: int) -> Process | None:
        """None when the process has exited meanwhile."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except (OSError, ProcessLookupError):
            return None
        memory = {}
        for line in rollup.splitlines()[1:]:
            key, _, value = line.partition(":")
            with contextlib.suppress(ValueError):
                memory[key] = int(value.split()[0]) * 1024
        return cls(
            pid=pid,
            ppid=int(stat[1]),
            cmdline=cmdline,
            cpu_s=stat_cpu_seconds(stat),
            rss=memory.get("Rss", 0),
            pss=memory.get("Pss", 0),
            # unique set size: what the process alone holds, so what one more of it costs
            uss=memory.get("Private_Clean", 0) + memory.get("Private_Dirty", 0),
        )


def stat_cpu_seconds(stat: list[str]) -> float:
    # utime, stime, cutime, cstime: fields 14-17 of stat(5), counted here after the command's ")"
    return sum(int(value) for value in stat[11:15]) / os.sysconf("SC_CLK_TCK")


def run_seconds(pid: int) -> float:
    """A single-threaded process's time on a CPU, to the nanosecond (its exited children's not included)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def children(pid: int) -> list[int]:
    """Direct children (honcho starts them from threads of its own: each thread has its own list)."""
    found = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in listing.read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    """The process and everything below it (honcho starts each child in a session of its own, but it
    remains their parent)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children(current)
    return found


PARTS = {
    b"nginx": "nginx",
    b"web.app": "web",
    b"services.registration.app": "registration",
    b"services.certificates.app": "certificates",
    b"services.feedback.app": "feedback",
    b"services.certificates.worker": "certificate_workers",
    b"services.registration.worker": "mailer",
}
GUNICORNS = ("web", "registration", "certificates", "feedback")
#: parts that are not EventOps's own processes: the machine's one Redis serves other databases too, the
#: object store is a stand-in for the production one, and honcho (with a shell per command) is run-prod's
#: supervisor where a server has systemd; all are reported, none is in the totals
OUTSIDE = ("redis", "object_store", "supervisor")


def part_of(cmdline: bytes) -> str | None:
    if cmdline.startswith((b"sh\0", b"/bin/sh\0")):
        return None
    return next((part for marker, part in PARTS.items() if marker in cmdline), None)


# --- watching a phase ----------------------------------------------------------------------------


@dataclass
class Watch:
    """A phase's CPU seconds by part (from its start to its end) and its memory by part (sampled every
    second; the peak of each part's sum, and the peak of the whole)."""

    system: ProdSystem
    name: str
    seconds: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)
    peak: dict[str, dict] = field(default_factory=dict)
    peak_total_pss: int = 0
    gunicorn_worker: dict[str, dict] = field(default_factory=dict)
    #: the most processes each part had at once (PostgreSQL's backends: the connections open)
    most: dict[str, int] = field(default_factory=dict)
    samples: int = 0

    def __enter__(self) -> Watch:
        self._start = self._cpu_by_pid()
        self._backends: dict[int, float] = {}
        self._most_backends = 0
        self._follow_backends_once()
        self._backends_start = dict(self._backends)
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._sample_until_stopped, daemon=True),
            threading.Thread(target=self._follow_backends, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.seconds = time.monotonic() - self._started
        for part, processes in self.system.parts().items():
            self.cpu_s[part] = sum(p.cpu_s - self._start.get(p.pid, 0.0) for p in processes)
        self._follow_backends_once()
        self.cpu_s["postgres_backends"] = sum(
            cpu - self._backends_start.get(pid, 0.0) for pid, cpu in self._backends.items()
        )
        self.most["postgres_backends"] = max(self.most.get("postgres_backends", 0), self._most_backends)

    def _follow_backends(self) -> None:
        """A work horse opens a connection of its own and closes it when it exits, a second or so later:
        its backend's CPU time would be lost with it (the postmaster's count of exited children is the
        whole cluster's, shared with other users). So the backends are read ten times a second and each
        one's last reading counts: a lower bound, short of each backend's last tenth of a second. The
        reading is the scheduler's nanoseconds (schedstat), not stat's 10 ms ticks, which round a backend
        that answers a few quick statements to nothing."""
        while not self._stop.wait(BACKENDS_EVERY_S):
            self._follow_backends_once()

    def _follow_backends_once(self) -> None:
        pids = self.system.backend_pids()
        self._most_backends = max(self._most_backends, len(pids))
        for pid in pids:
            with contextlib.suppress(OSError):
                self._backends[pid] = run_seconds(pid)

    def _cpu_by_pid(self) -> dict[int, float]:
        return {p.pid: p.cpu_s for processes in self.system.parts().values() for p in processes}

    def _sample_until_stopped(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(SAMPLE_EVERY_S):
                return

    def sample(self) -> None:
        parts = self.system.parts()
        self.samples += 1
        total = 0
        for part, processes in parts.items():
            pss = sum(p.pss for p in processes)
            self.most[part] = max(self.most.get(part, 0), len(processes))
            if part not in OUTSIDE:
                total += pss
            if pss >= self.peak.get(part, {}).get("pss", -1):
                self.peak[part] = {
                    "pss": pss,
                    "rss": sum(p.rss for p in processes),
                    "uss": sum(p.uss for p in processes),
                    "processes": len(processes),
                }
            if part in GUNICORNS:
                self._gunicorn_workers(part, processes)
        self.peak_total_pss = max(self.peak_total_pss, total)

    def _gunicorn_workers(self, part: str, processes: list[Process]) -> None:
        """A gunicorn's workers are the children of its master (the one whose parent is not of the part);
        the largest worker seen is what one more would cost."""
        pids = {p.pid for p in processes}
        workers = [p for p in processes if p.ppid in pids]
        masters = [p for p in processes if p.ppid not in pids]
        if not workers:
            return
        largest = max(workers, key=lambda p: p.pss)
        if largest.pss >= self.gunicorn_worker.get(part, {}).get("worker_pss", -1):
            self.gunicorn_worker[part] = {
                "worker_pss": largest.pss,
                "worker_uss": largest.uss,
                "worker_rss": largest.rss,
                "master_pss": sum(p.pss for p in masters),
                "workers": len(workers),
            }


def merged_peaks(watches: list[Watch]) -> dict[str, dict]:
    """Each part's highest memory over the phases, and the phase it was in."""
    peaks: dict[str, dict] = {}
    for watch in watches:
        for part, peak in watch.peak.items():
            most = max(watch.most.get(part, 0), peaks.get(part, {}).get("most", 0))
            if peak["pss"] >= peaks.get(part, {}).get("pss", -1):
                peaks[part] = {**peak, "phase": watch.name}
            peaks[part]["most"] = most
    return peaks


def mb(value: int) -> float:
    return round(value / MB, 1)


# --- the phases ----------------------------------------------------------------------------------


def issue(system: ProdSystem, count: int, name: str = "issue") -> tuple[float, float, Watch]:
    """Seconds from enqueueing `count` pending certificates until all are rendered and stored, the CPU
    seconds run-prod's certificate workers (and their work horses) spent on it, and the phase's watch."""
    from rq import Queue

    from services.certificates.tasks import BATCH_SIZE, QUEUE_NAME, enqueue_rendering

    event_id = 900_001  # rows of their own, apart from the door's event
    ids = system.add_certificates(event_id, count)
    with Watch(system, name) as watch:
        started = time.perf_counter()
        enqueue_rendering(Queue(QUEUE_NAME, connection=system.redis), ids, batch_size=BATCH_SIZE)
        system.wait_rendered(event_id, count, timeout=1200)
        elapsed = time.perf_counter() - started
        time.sleep(0.5)  # the last horse exits and is reaped, so its CPU time reaches its worker's count
    cpu = sum(s for part, s in watch.cpu_s.items() if part.startswith("certificate_worker_"))
    if not system.all_stored(ids, event_id):
        raise RuntimeError(f"a row says rendered but its PDF is not in {system.storage_kind} storage")
    return elapsed, cpu, watch


def cpu_share(watch: Watch, **extra) -> dict:
    """A phase's CPU by part as a share of one CPU (1.0 = one core busy the whole phase)."""
    share = {part: round(s / watch.seconds, 3) for part, s in sorted(watch.cpu_s.items())}
    return {
        "bench": f"prod.cpu_share_{watch.name}",
        "value": round(sum(v for part, v in share.items() if part not in OUTSIDE), 2),
        "unit": "CPUs",
        "what": f"CPU seconds per second of the {watch.name} phase, by part; the value adds up EventOps's "
        "parts, PostgreSQL's backends included; Redis (the machine's one server, which other users share), "
        "the object store (a stand-in for production's) and honcho (run-prod's supervisor) are listed, "
        "not added",
        "by_part": share,
        "phase_seconds": round(watch.seconds, 1),
        **extra,
    }


def run() -> list[dict]:
    context = {
        "participants": bench_checkin.PARTICIPANTS,
        "tablets": bench_checkin.TABLETS,
        "gunicorn_workers": bench_checkin.WORKERS,
        "gunicorn_threads": THREADS,
        "cpus": os.cpu_count(),
        "seconds": bench_checkin.PHASE_SECONDS,
        "topology": "make run-prod: nginx + TLS, gunicorn, PostgreSQL, Redis, PDFs in an S3-compatible store",
    }
    with ProdSystem("s3") as system:
        event_id, people = bench_checkin.seed(system)
        tablets = bench_checkin.open_tablets(system, event_id)
        web = system.urls["web"]
        load_before = os.getloadavg()[0]
        with Watch(system, "door") as door:
            paced = bench_checkin.drive(
                web, event_id, tablets, people, bench_checkin.DAYS[0], bench_checkin.PACE_SECONDS
            )
        load_door = os.getloadavg()[0]
        with Watch(system, "saturation") as saturation:
            saturated = bench_checkin.drive(web, event_id, tablets, people, bench_checkin.DAYS[1], 0)
        load_after = os.getloadavg()[0]
        stored_duplicates = bench_checkin.duplicates_in_database(system.database_url, event_id)
        issue_s, issue_cpu_s, issue_watch = issue(system, bench_certificates.COUNT)
        load_issue = os.getloadavg()[0]
    local = None
    if LOCAL_ISSUE:
        with ProdSystem("local") as system:
            local = issue(system, bench_certificates.COUNT, name="issue_local")
            load_local = os.getloadavg()[0]

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
    per_request = {part: s * 1000 / max(1, paced_requests) for part, s in door.cpu_s.items()}
    results.append(
        {
            "bench": "prod.cpu_ms_per_request",
            "value": round(
                sum(ms for part, ms in per_request.items() if part not in (*OUTSIDE, "postgres_backends")), 1
            ),
            "unit": "ms",
            "what": "CPU of nginx, every gunicorn and worker run-prod started, per search or check-in "
            "(in by_part_ms, not in the value: PostgreSQL's backends, Redis, the object store and "
            "honcho, run-prod's supervisor): steadier than the wall time on a loaded machine",
            "requests": paced_requests,
            "by_part_ms": {part: round(ms, 2) for part, ms in sorted(per_request.items())},
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
            "storage": "S3-compatible object store (moto's server on loopback, through boto3)",
            "workers_cpu_s": round(issue_cpu_s, 2),
            "cpu_ms_per_pdf": round(issue_cpu_s * 1000 / count, 1),
            "object_store_cpu_s": round(issue_watch.cpu_s.get("object_store", 0.0), 2),
            "load_average_1min": round(load_issue, 1),
            "cpus": os.cpu_count(),
        }
    )
    if local is not None:
        local_s, local_cpu_s, local_watch = local
        results.append(
            {
                "bench": f"prod.issue_{count}_local_s",
                "value": round(local_s, 2),
                "unit": "s",
                "certificates": count,
                "certificate_workers": 2,
                "storage": "the local folder (STORAGE_DIR)",
                "workers_cpu_s": round(local_cpu_s, 2),
                "cpu_ms_per_pdf": round(local_cpu_s * 1000 / count, 1),
                "load_average_1min": round(load_local, 1),
                "cpus": os.cpu_count(),
            }
        )
    watches = [door, saturation, issue_watch]
    peaks = merged_peaks(watches)
    results.append(
        {
            "bench": "prod.memory_mb",
            "value": mb(max(watch.peak_total_pss for watch in watches)),
            "unit": "MB",
            "what": "the highest sum of PSS (shared pages split between their users) over EventOps's parts "
            "at one moment of the door, saturation and issue phases; by_part: each part's peak PSS, RSS "
            "and USS (its own pages alone), the processes it had and the phase of the peak. Redis (the "
            "machine's one server, other users' data included), the object store (a stand-in) and honcho "
            "(run-prod's supervisor) are listed, not counted",
            "by_part": {
                part: {
                    "pss_mb": mb(peak["pss"]),
                    "rss_mb": mb(peak["rss"]),
                    "uss_mb": mb(peak["uss"]),
                    "processes": peak["processes"],
                    "most_processes": peak["most"],
                    "phase": peak["phase"],
                }
                for part, peak in sorted(peaks.items())
            },
            "pss_mb_by_phase": {
                watch.name: {part: mb(peak["pss"]) for part, peak in sorted(watch.peak.items())}
                for watch in watches
            },
            "one_more_gunicorn_worker_mb": {
                part: {
                    "worker_uss_mb": mb(worker["worker_uss"]),
                    "worker_pss_mb": mb(worker["worker_pss"]),
                    "worker_rss_mb": mb(worker["worker_rss"]),
                    "master_pss_mb": mb(worker["master_pss"]),
                    "workers": worker["workers"],
                }
                for part, worker in sorted(merged_workers(watches).items())
            },
            "samples": sum(watch.samples for watch in watches),
            "load_average_1min_door": round(load_door, 1),
            **context,
        }
    )
    results += [
        cpu_share(door, load_average_1min=round(load_door, 1), **context),
        cpu_share(saturation, load_average_1min=round(load_after, 1), **context),
        cpu_share(issue_watch, load_average_1min=round(load_issue, 1), **context),
    ]
    if local is not None:
        results.append(cpu_share(local_watch, load_average_1min=round(load_local, 1), **context))
    return results


def merged_workers(watches: list[Watch]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for watch in watches:
        for part, worker in watch.gunicorn_worker.items():
            if worker["worker_pss"] >= found.get(part, {}).get("worker_pss", -1):
                found[part] = worker
    return found


if __name__ == "__main__":
    import json

    for result in run():
        print(json.dumps(result, ensure_ascii=False))
