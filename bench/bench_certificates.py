"""Certificate PDFs in bulk: the real worker against the naive way, on PostgreSQL and a real Redis.

1. Batch sizes: one process renders the same documents in layout passes of different sizes (ms per PDF).
2. Fast: two `python -m services.certificates.worker` processes, warmed up and waiting; the clock runs from
   `enqueue_rendering` of 1,000 pending certificates until every row says rendered and every PDF is stored.
3. Naive: the same with one RQ job per certificate, each a fresh renderer (`HTML(...).write_pdf()` with a
   new font configuration and stylesheet) in RQ's default forking worker, nothing warmed up.
4. Memory: 5,000 certificates through one worker; the resident memory of the worker and its work horse
   is sampled throughout (peak, and the peak of the first and last fifth, to show it stays flat).

Certificate rows are inserted directly (as issuing leaves them: pending, with a frozen snapshot), so the
figures are the rendering's alone.

Environment: BENCH_POSTGRES_URL (admin URL), BENCH_REDIS_URL (default db 14), BENCH_CERTIFICATES (1000),
BENCH_CERTIFICATES_NAIVE (how many to render the naive way; fewer than BENCH_CERTIFICATES extrapolates
linearly and says so), BENCH_CERTIFICATES_MEMORY (5000), BENCH_CERTIFICATES_WORKERS (2),
BENCH_CERTIFICATES_BATCH (certificates per job, default tasks.BATCH_SIZE),
BENCH_CERTIFICATES_BATCH_SIZES (layout pass sizes to compare, "1,10,25,40,80").
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
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
COUNT = int(os.environ.get("BENCH_CERTIFICATES", 1000))
NAIVE_COUNT = int(os.environ.get("BENCH_CERTIFICATES_NAIVE", COUNT))
MEMORY_COUNT = int(os.environ.get("BENCH_CERTIFICATES_MEMORY", 5000))
WORKERS = int(os.environ.get("BENCH_CERTIFICATES_WORKERS", 2))
BATCH_SIZES = [
    int(n) for n in os.environ.get("BENCH_CERTIFICATES_BATCH_SIZES", "1,10,25,40,80").split(",") if n
]
NAIVE_QUEUE = "certificates-naive"
PUBLIC_URL = "https://eventops.example.org"

SURNAMES = [
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Соколов", "Соколова"),
    ("Лебедев", "Лебедева"),
    ("Фёдоров", "Фёдорова"),
    ("Ёлкин", "Ёлкина"),
    ("Римский-Корсаков", "Римская-Корсакова"),
    ("Мамедов", "Мамедова"),
]
FIRST_NAMES = [("Александр", "Анна"), ("Дмитрий", "Мария"), ("Сергей", "Ольга"), ("Пётр", "Наталья")]
PATRONYMICS = [
    ("Сергеевич", "Сергеевна"),
    ("Ильич", "Ильинична"),
    (None, None),
    ("Алиевич оглы", "Алиевна кызы"),
]


def snapshot(seq: int) -> dict:
    female = seq % 2
    surname = SURNAMES[seq % len(SURNAMES)][female]
    return {
        "kind": "statement" if seq % 10 == 0 else "certificate",
        "surname": surname,
        "first_name": FIRST_NAMES[seq % len(FIRST_NAMES)][female],
        "patronymic": PATRONYMICS[seq % len(PATRONYMICS)][female],
        "gender": ("male", "female")[female],
        "programme_title": "Цифровые коммуникации и эффективный диалог с гражданами в работе системы центров "
        "«Мои документы»",
        "programme_kind": "ПК",
        "academic_hours": 24,
        "attended_hours": 12 + seq % 12,
        "organisation": "Южно-Российский институт управления — филиал РАНХиГС",
        "place": "Сочи",
        "starts_on": "2026-10-07",
        "ends_on": "2026-10-09",
        "issued_on": "2026-10-09",
        "signatory_name": "И. И. Петров",
        "signatory_title": "Директор",
        "number": f"ПК-2026-{seq:05}",
    }


# --- the system under test -------------------------------------------------------------------


class System:
    """A fresh PostgreSQL database with the certificates tables, Redis db 14 and a storage folder."""

    def __enter__(self) -> System:
        from eventops.migrate import upgrade

        self.name = f"eventops_bench_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.database_url = make_url(ADMIN_URL).set(database=self.name).render_as_string(hide_password=False)
        self.var = Path(tempfile.mkdtemp(prefix="eventops-bench-certificates-"))
        self.storage = self.var / "storage"
        self.env = {
            **os.environ,
            "CERTIFICATES_DATABASE_URL": self.database_url,
            "REDIS_URL": REDIS_URL,
            "STORAGE_DIR": str(self.storage),
            "EVENTOPS_VAR_DIR": str(self.var),
            "PUBLIC_URL": PUBLIC_URL,
            "SERVICE_TOKEN": secrets.token_urlsafe(32),
            "SECRET_KEY": secrets.token_urlsafe(32),
            "PYTHONPATH": str(REPO),
        }
        os.environ.update(
            {
                k: self.env[k]
                for k in (
                    "CERTIFICATES_DATABASE_URL",
                    "REDIS_URL",
                    "STORAGE_DIR",
                    "PUBLIC_URL",
                    "EVENTOPS_VAR_DIR",
                )
            }
        )
        self.processes: list[subprocess.Popen] = []
        try:
            upgrade("certificates", self.database_url)
            self.engine = create_engine(self.database_url)
            self.redis = self._redis()
            self.redis.flushdb()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _redis(self):
        import redis

        return redis.Redis.from_url(REDIS_URL)

    def start(self, args: list[str], log_name: str) -> subprocess.Popen:
        with open(self.var / log_name, "ab") as log:
            process = subprocess.Popen(
                args, cwd=REPO, env=self.env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
        self.processes.append(process)
        return process

    def stop(self, processes: list[subprocess.Popen]) -> None:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            # Each worker leads its own process group: nothing it forked (horse, scheduler) stays behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def __exit__(self, *_exc) -> None:
        self.stop(self.processes)
        if hasattr(self, "engine"):
            self.engine.dispose()
        if hasattr(self, "redis"):
            self.redis.flushdb()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
        shutil.rmtree(self.var, ignore_errors=True)

    # --- data ---

    def add_certificates(self, event_id: int, count: int) -> list[int]:
        from services.certificates.models import Certificate, DocumentKind

        with Session(self.engine) as session:
            start = (session.scalar(select(func.max(Certificate.number_seq))) or 0) + 1
            rows = [
                Certificate(
                    event_id=event_id,
                    participant_id=seq,
                    kind=DocumentKind(snapshot(seq)["kind"]),
                    number=f"ПК-2026-{seq:05}",
                    organisation_key="bench",
                    number_year=2026,
                    number_seq=seq,
                    snapshot=snapshot(seq),
                )
                for seq in range(start, start + count)
            ]
            session.add_all(rows)
            session.commit()
            return [row.id for row in rows]

    def rendered(self, event_id: int) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM certificates WHERE event_id = :e AND status = 'rendered'"),
                {"e": event_id},
            ).scalar()

    def all_stored(self, ids: list[int], event_id: int) -> bool:
        from services.certificates import storage

        return all(storage.exists(self.storage, storage.certificate_path(event_id, i)) for i in ids)

    def wait_rendered(self, event_id: int, count: int, timeout: float) -> float:
        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        while self.rendered(event_id) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {self.rendered(event_id)} of {count} rendered in {timeout:.0f} s; "
                    f"see the logs in {self.var}"
                )
            time.sleep(0.05)
        return time.perf_counter() - started

    def start_workers(self, count: int, log_name: str = "worker.log") -> list[subprocess.Popen]:
        before = self.redis.scard("rq:workers")
        workers = [
            self.start([sys.executable, "-m", "services.certificates.worker"], log_name) for _ in range(count)
        ]
        deadline = time.monotonic() + 120
        # Registered with RQ means warmed up: the worker warms WeasyPrint before it registers.
        while self.redis.scard("rq:workers") < before + count:
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise RuntimeError(f"certificate workers did not start; see {self.var / log_name}")
            time.sleep(0.1)
        return workers


# --- the naive way ---------------------------------------------------------------------------


def naive_render(certificate_id: int) -> None:
    """One certificate, everything set up afresh: what a per-certificate job without care costs."""
    from eventops.config import Settings
    from eventops.db import make_engine, utcnow
    from services.certificates import storage
    from services.certificates.models import Certificate, CertificateStatus
    from services.certificates.rendering import CertificateRenderer

    settings = Settings.from_env("certificates")
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        certificate = session.get(Certificate, certificate_id)
        pdf = CertificateRenderer().render(
            dict(certificate.snapshot), f"{settings.public_url}/verify/{certificate.verification_code}"
        )
        path = storage.certificate_path(certificate.event_id, certificate.id)
        storage.write(settings.storage_dir, path, pdf)
        certificate.pdf_path, certificate.status, certificate.rendered_at = (
            path,
            CertificateStatus.rendered,
            utcnow(),
        )
        session.commit()
    engine.dispose()


# --- measurements ----------------------------------------------------------------------------


def batch_sizes() -> list[dict]:
    """ms per PDF by layout-pass size, in this process (one core)."""
    from services.certificates.rendering import CertificateRenderer, Printable

    renderer = CertificateRenderer()
    renderer.warm_up()
    total = max(BATCH_SIZES) * 2
    items = [Printable(seq, snapshot(seq), f"{PUBLIC_URL}/verify/{seq:020}") for seq in range(1, total + 1)]
    results = []
    for size in BATCH_SIZES:
        started, cpu_started = time.perf_counter(), time.process_time()
        for start in range(0, total, size):
            for _ in renderer.iter_render(items[start : start + size]):
                pass
        ms = (time.perf_counter() - started) * 1000 / total
        # CPU time as well: on a busy machine it is the steadier of the two
        cpu_ms = (time.process_time() - cpu_started) * 1000 / total
        results.append(
            {
                "bench": f"certificates.render_ms_per_pdf_batch_{size}",
                "value": round(ms, 1),
                "unit": "ms",
                "cpu_ms": round(cpu_ms, 1),
                "documents": total,
                "layout_pass": size,
                "cpus": os.cpu_count(),
            }
        )
    return results


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its children that have exited (each job's work horse), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime: fields 14-17 of stat(5), counted here after the command's ")"
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def fast(system: System, batch: int) -> tuple[float, float]:
    """Seconds from enqueueing until all are rendered, and the CPU seconds the workers spent on it."""
    from rq import Queue

    from services.certificates.tasks import QUEUE_NAME, enqueue_rendering

    event_id = 1
    ids = system.add_certificates(event_id, COUNT)
    workers = system.start_workers(WORKERS)
    cpu_before = sum(cpu_seconds(worker.pid) for worker in workers)
    started = time.perf_counter()
    enqueue_rendering(Queue(QUEUE_NAME, connection=system.redis), ids, batch_size=batch)
    system.wait_rendered(event_id, COUNT, timeout=1200)
    elapsed = time.perf_counter() - started
    time.sleep(0.5)  # the last horse exits and is reaped, so its CPU time reaches its worker's count
    cpu = sum(cpu_seconds(worker.pid) for worker in workers) - cpu_before
    system.stop(workers)
    if not system.all_stored(ids, event_id):
        raise RuntimeError("a row says rendered but its PDF is not stored")
    return elapsed, cpu


def naive(system: System) -> float:
    from rq import Queue

    event_id = 2
    ids = system.add_certificates(event_id, NAIVE_COUNT)
    queue = Queue(NAIVE_QUEUE, connection=system.redis)
    rq = Path(sys.executable).with_name("rq")
    before = system.redis.scard("rq:workers")
    workers = [
        system.start([str(rq), "worker", "--url", REDIS_URL, NAIVE_QUEUE], "naive.log")
        for _ in range(WORKERS)
    ]
    while system.redis.scard("rq:workers") < before + WORKERS:
        time.sleep(0.1)
    started = time.perf_counter()
    with system.redis.pipeline() as pipeline:
        for certificate_id in ids:
            queue.enqueue(
                "bench.bench_certificates.naive_render",
                certificate_id,
                job_id=f"naive-{certificate_id}",
                pipeline=pipeline,
            )
        pipeline.execute()
    system.wait_rendered(event_id, NAIVE_COUNT, timeout=3600)
    elapsed = time.perf_counter() - started
    system.stop(workers)
    return elapsed


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def memory(system: System, batch: int) -> dict:
    """Peak resident memory of one worker (its main process plus the work horse of the moment)."""
    from rq import Queue

    from services.certificates.tasks import QUEUE_NAME, enqueue_rendering

    event_id = 3
    ids = system.add_certificates(event_id, MEMORY_COUNT)
    [worker] = system.start_workers(1, "memory.log")
    samples: list[tuple[int, int, int]] = []  # (rendered so far, main kB, main + horses kB)
    enqueue_rendering(Queue(QUEUE_NAME, connection=system.redis), ids, batch_size=batch)
    deadline = time.monotonic() + 3600
    done = 0
    while done < MEMORY_COUNT and time.monotonic() < deadline:
        main = _rss_kb(worker.pid)
        # the scheduler is a child too; the horse is the one that renders
        tree = main + max((_rss_kb(child) for child in _children(worker.pid)), default=0)
        done = system.rendered(event_id)
        samples.append((done, main, tree))
        time.sleep(0.2)
    system.stop([worker])
    if done < MEMORY_COUNT:
        raise RuntimeError(f"memory phase: only {done} of {MEMORY_COUNT} rendered")
    fifth = MEMORY_COUNT / 5
    first = max((s[2] for s in samples if s[0] <= fifth), default=0)
    last = max((s[2] for s in samples if s[0] >= MEMORY_COUNT - fifth), default=0)
    return {
        "peak_mb": max(s[2] for s in samples) / 1024,
        "main_peak_mb": max(s[1] for s in samples) / 1024,
        "first_fifth_mb": first / 1024,
        "last_fifth_mb": last / 1024,
        "samples": len(samples),
    }


def run() -> Iterator[dict]:
    """Yields each figure as soon as it is measured, so a long run shows its results as it goes."""
    from services.certificates.tasks import BATCH_SIZE

    batch = int(os.environ.get("BENCH_CERTIFICATES_BATCH", BATCH_SIZE))
    context = {"workers": WORKERS, "cpus": os.cpu_count(), "database": "postgresql", "batch_size": batch}
    if BATCH_SIZES:
        yield from batch_sizes()
    suffix = "1000" if COUNT == 1000 else str(COUNT)
    with System() as system:
        fast_s, fast_cpu_s = fast(system, batch)
        yield {
            "bench": f"certificates.issue_{suffix}_s",
            "value": round(fast_s, 2),
            "unit": "s",
            "certificates": COUNT,
            "per_pdf_ms": round(fast_s * 1000 / COUNT, 1),
            # CPU seconds of the workers and their horses: unlike the wall time, this holds on a busy machine
            "workers_cpu_s": round(fast_cpu_s, 2),
            "cpu_ms_per_pdf": round(fast_cpu_s * 1000 / COUNT, 1),
            "load_average_1min": round(os.getloadavg()[0], 1),
            **context,
        }
        if NAIVE_COUNT:
            naive_s = naive(system)
            naive_scaled = naive_s * COUNT / NAIVE_COUNT
            yield {
                "bench": f"certificates.naive_{suffix}_s",
                "value": round(naive_scaled, 2),
                "unit": "s",
                "measured_certificates": NAIVE_COUNT,
                "measured_s": round(naive_s, 2),
                "extrapolated": NAIVE_COUNT != COUNT,
                "how": "one RQ job per certificate, a fresh renderer each, default forking rq worker",
                **context,
            }
            yield {
                "bench": "certificates.speedup_vs_naive",
                "value": round(naive_scaled / fast_s, 1),
                "unit": "x",
                **context,
            }
        if MEMORY_COUNT:
            rss = memory(system, batch)
            yield {
                "bench": "certificates.worker_peak_rss_mb",
                "value": round(rss["peak_mb"], 1),
                "unit": "MB",
                "certificates": MEMORY_COUNT,
                "what": "worker + its work horse (shared pages counted twice)",
                "worker_main_peak_mb": round(rss["main_peak_mb"], 1),
                "peak_first_fifth_mb": round(rss["first_fifth_mb"], 1),
                "peak_last_fifth_mb": round(rss["last_fifth_mb"], 1),
                "samples": rss["samples"],
                **context,
            }


if __name__ == "__main__":
    import json

    for result in run():
        print(json.dumps(result, ensure_ascii=False))
