"""A busy door, production-like: gunicorn processes for registration, certificates and the gateway on
PostgreSQL and a real Redis, 10,000 participants, 50 simulated tablets.

Phase 1 (paced): every tablet searches and checks someone in every 2 s through the gateway, as staff do.
Phase 2 (saturation): the same with no pauses, to find the throughput.
Phase 3 (service): the certificates API alone, no gateway, to separate its share of the time.
Every tablet also resends a few scans with the same nonce (a dropped connection); afterwards the database is
searched for duplicates: two records with one nonce, or two active check-ins of one person.

Environment: BENCH_POSTGRES_URL (admin URL), BENCH_REDIS_URL, BENCH_CHECKIN_PARTICIPANTS,
BENCH_CHECKIN_TABLETS,
BENCH_CHECKIN_SECONDS (per phase), BENCH_WORKERS (gunicorn workers per process).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PARTICIPANTS = int(os.environ.get("BENCH_CHECKIN_PARTICIPANTS", 10_000))
TABLETS = int(os.environ.get("BENCH_CHECKIN_TABLETS", 50))
PHASE_SECONDS = float(os.environ.get("BENCH_CHECKIN_SECONDS", 30))
WORKERS = int(os.environ.get("BENCH_WORKERS", 4))
PACE_SECONDS = 2.0
#: share of scans a tablet sends twice with the same nonce, as after a dropped connection
RESEND_SHARE = 0.05
DAYS = ("2026-10-07", "2026-10-08", "2026-10-09", "2026-10-10")

SURNAMES = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королёв",
    "Гусев",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Белов",
    "Медведев",
    "Антонов",
    "Тарасов",
]
FIRST_NAMES = [
    ("Александр", "Анна"),
    ("Дмитрий", "Мария"),
    ("Максим", "Елена"),
    ("Сергей", "Ольга"),
    ("Андрей", "Татьяна"),
    ("Алексей", "Наталья"),
    ("Артём", "Ирина"),
    ("Илья", "Светлана"),
    ("Кирилл", "Екатерина"),
    ("Михаил", "Юлия"),
    ("Никита", "Дарья"),
    ("Павел", "Ксения"),
]
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# --- the system under test -------------------------------------------------------------------


class System:
    """A fresh PostgreSQL database and gunicorn process groups; everything is removed on exit."""

    APPS = {
        "registration": "services.registration.app:create_app()",
        "certificates": "services.certificates.app:create_app()",
        "web": "web.app:create_app()",
    }

    def __enter__(self) -> System:
        self.name = f"eventops_bench_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.database_url = make_url(ADMIN_URL).set(database=self.name).render_as_string(hide_password=False)
        self.var = Path(tempfile.mkdtemp(prefix="eventops-bench-"))
        self.token = "bench-" + uuid.uuid4().hex
        self.urls = {name: f"http://127.0.0.1:{free_port()}" for name in self.APPS}
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": REDIS_URL,
            "SERVICE_TOKEN": self.token,
            "SECRET_KEY": uuid.uuid4().hex,
            "EVENTOPS_VAR_DIR": str(self.var),
            "REGISTRATION_URL": self.urls["registration"],
            "CERTIFICATES_URL": self.urls["certificates"],
            "FEEDBACK_URL": f"http://127.0.0.1:{free_port()}",
            "PYTHONPATH": str(REPO),
        }
        self.processes: list[subprocess.Popen] = []
        try:
            subprocess.run(
                [sys.executable, "-m", "eventops.cli", "migrate"],
                cwd=REPO,
                env=self.env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            gunicorn = Path(sys.executable).with_name("gunicorn")
            for name, app in self.APPS.items():
                log = open(self.var / f"{name}.log", "wb")
                self.processes.append(
                    subprocess.Popen(
                        [
                            str(gunicorn),
                            "-c",
                            "deploy/gunicorn.conf.py",
                            "--bind",
                            self.urls[name].removeprefix("http://"),
                            "-w",
                            str(WORKERS),
                            "--access-logfile",
                            "/dev/null",
                            app,
                        ],
                        cwd=REPO,
                        env=self.env,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
            for name, url in self.urls.items():
                self._wait_until_up(name, url)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_up(self, name: str, url: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/healthz", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not start; see {self.var / (name + '.log')}")

    def api(self, name: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        return session

    def __exit__(self, *_exc) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
        shutil.rmtree(self.var, ignore_errors=True)


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    code: str
    full_name: str
    query: str


def seed(system: System) -> tuple[int, list[Person]]:
    """An event of three days and its participants, created through registration's API."""
    registration = system.urls["registration"]
    api = system.api("registration")
    event = api.post(
        f"{registration}/api/v1/events",
        json={"slug": "bench-door", "title": "Нагрузочный курс", "starts_on": DAYS[0], "ends_on": DAYS[-1]},
        timeout=30,
    )
    event.raise_for_status()
    event_id = event.json()["id"]
    rnd = random.Random(42)

    def create(n: int) -> Person:
        male = rnd.random() < 0.5
        surname = SURNAMES[n % len(SURNAMES)] + ("" if male else "а")
        first_name = FIRST_NAMES[(n // len(SURNAMES)) % len(FIRST_NAMES)][0 if male else 1]
        with requests.Session() as http:
            response = http.post(
                f"{registration}/api/v1/events/{event_id}/participants",
                json={"surname": surname, "first_name": first_name, "email": f"p{n}@bench.example.ru"},
                headers={"Authorization": f"Bearer {system.token}"},
                timeout=30,
            )
        response.raise_for_status()
        body = response.json()
        return Person(body["id"], body["code"], body["full_name"], f"{surname[:5]} {first_name[:3]}")

    with ThreadPoolExecutor(16) as pool:
        people = list(pool.map(create, range(PARTICIPANTS)))
    return event_id, people


def open_tablets(system: System, event_id: int) -> list[requests.Session]:
    """One staff account logged in once; each tablet holds that session and its own device cookie."""
    from sqlalchemy.orm import Session

    from eventops.db import make_engine
    from web.auth import hash_password
    from web.models import Role, StaffAccount

    engine = make_engine(system.database_url)
    with Session(engine) as session:
        session.add(
            StaffAccount(
                username="door",
                full_name="Бенч Дверь",
                role=Role.checkin,
                password_hash=hash_password("bench door 42"),
            )
        )
        session.commit()
    engine.dispose()
    web = system.urls["web"]
    lead = requests.Session()
    token = CSRF_META.search(lead.get(f"{web}/login", timeout=30).text).group(1)
    login = lead.post(
        f"{web}/login",
        data={"username": "door", "password": "bench door 42", "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    if login.status_code != 303:
        raise RuntimeError(f"login failed: {login.status_code}")
    lead.get(f"{web}/events/{event_id}/checkin", params={"day": DAYS[0]}, timeout=30).raise_for_status()
    tablets = []
    for _ in range(TABLETS):
        tablet = requests.Session()
        tablet.cookies.set("session", lead.cookies.get("session"))
        screen = tablet.get(f"{web}/events/{event_id}/checkin", params={"day": DAYS[0]}, timeout=30)
        screen.raise_for_status()
        tablet.headers.update({"X-CSRFToken": CSRF_META.search(screen.text).group(1), "HX-Request": "true"})
        tablets.append(tablet)
    return tablets


# --- driving the door ------------------------------------------------------------------------


@dataclass
class Tally:
    search_ms: list[float] = field(default_factory=list)
    checkin_ms: list[float] = field(default_factory=list)
    errors: int = 0
    #: a resend with the same nonce that was not answered as a replay
    duplicates: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **values) -> None:
        with self.lock:
            for key, value in values.items():
                if key in ("search_ms", "checkin_ms"):
                    getattr(self, key).append(value)
                elif key == "outcome":
                    self.outcomes[value] = self.outcomes.get(value, 0) + 1
                else:
                    setattr(self, key, getattr(self, key) + value)


def drive(
    web: str, event_id: int, tablets: list[requests.Session], people: list[Person], day: str, pace: float
) -> Tally:
    """Every tablet, in its own thread: search, then scan the badge of the next person in the queue."""
    queue = itertools.cycle(random.Random(day).sample(people, len(people)))
    queue_lock = threading.Lock()
    tally = Tally()
    stop_at = time.monotonic() + PHASE_SECONDS

    def tablet_loop(index: int, tablet: requests.Session) -> None:
        rnd = random.Random(index)
        next_at = time.monotonic() + (rnd.random() * pace if pace else 0)
        while True:
            if pace:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += pace
            if time.monotonic() >= stop_at:
                return
            with queue_lock:
                person = next(queue)
            started = time.perf_counter()
            try:
                found = tablet.get(
                    f"{web}/events/{event_id}/checkin/search",
                    params={"q": person.query, "day": day},
                    timeout=30,
                )
                ok = found.status_code == 200
            except requests.RequestException:
                ok = False
            tally.add(search_ms=(time.perf_counter() - started) * 1000, errors=0 if ok else 1)
            body = {
                "nonce": str(uuid.uuid4()),
                "day": day,
                "session_id": None,
                "code": person.code,
                "scanned_at": datetime.now(UTC).isoformat(),
            }
            for attempt in range(2 if rnd.random() < RESEND_SHARE else 1):
                started = time.perf_counter()
                try:
                    response = tablet.post(f"{web}/events/{event_id}/checkin/scan", json=body, timeout=30)
                    outcome = response.headers.get("X-Checkin-Outcome", "none")
                    ok = response.status_code in (200, 201) and outcome in (
                        "checked_in",
                        "already_checked_in",
                    )
                except requests.RequestException:
                    ok, outcome, response = False, "exception", None
                tally.add(
                    checkin_ms=(time.perf_counter() - started) * 1000, errors=0 if ok else 1, outcome=outcome
                )
                if attempt and response is not None and response.status_code != 200:
                    tally.add(duplicates=1)

    started = time.monotonic()
    threads = [threading.Thread(target=tablet_loop, args=(i, t)) for i, t in enumerate(tablets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.seconds = time.monotonic() - started
    return tally


def drive_service(
    system: System, event_id: int, people: list[Person], day: str, clients: int, pace: float
) -> Tally:
    """The certificates API alone, as the gateway calls it: the service's share of a check-in."""
    url = f"{system.urls['certificates']}/api/v1/events/{event_id}/checkins"
    queue = iter(random.Random(day).sample(people, len(people)))
    queue_lock = threading.Lock()
    tally = Tally()
    stop_at = time.monotonic() + PHASE_SECONDS / 2

    def loop(index: int) -> None:
        http = system.api("certificates")
        http.headers.update({"X-Staff-User": "door (checkin)", "X-Device": "bench"})
        next_at = time.monotonic() + random.Random(index).random() * pace
        while time.monotonic() < stop_at:
            if pace:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += pace
            with queue_lock:
                person = next(queue, None)
            if person is None:
                return
            body = {
                "nonce": str(uuid.uuid4()),
                "day": day,
                "session_id": None,
                "scanned_at": datetime.now(UTC).isoformat(),
                "raw_code": person.code,
                "participant": {
                    "id": person.id,
                    "event_id": event_id,
                    "status": "registered",
                    "full_name": person.full_name,
                },
            }
            started = time.perf_counter()
            try:
                response = http.post(url, json=body, timeout=30)
                ok = response.status_code == 201 and response.json()["outcome"] == "checked_in"
            except requests.RequestException:
                ok = False
            tally.add(checkin_ms=(time.perf_counter() - started) * 1000, errors=0 if ok else 1)

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.seconds = time.monotonic() - started
    return tally


def duplicates_in_database(database_url: str, event_id: int) -> int:
    """Records sharing a nonce, plus people with more than one active check-in for a day or session."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        same_nonce = connection.execute(
            text("SELECT count(*) FROM (SELECT nonce FROM checkins GROUP BY nonce HAVING count(*) > 1) d")
        ).scalar()
        twice_in = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT participant_id FROM checkins WHERE event_id = :e "
                "AND outcome = 'checked_in' AND reversed_at IS NULL "
                "GROUP BY participant_id, day, session_key HAVING count(*) > 1) d"
            ),
            {"e": event_id},
        ).scalar()
    engine.dispose()
    return same_nonce + twice_in


# --- the benchmark ---------------------------------------------------------------------------


def run() -> list[dict]:
    context = {
        "participants": PARTICIPANTS,
        "tablets": TABLETS,
        "workers": WORKERS,
        "cpus": os.cpu_count(),
        "seconds": PHASE_SECONDS,
        "database": "postgresql",
        "server": "gunicorn",
    }
    with System() as system:
        event_id, people = seed(system)
        tablets = open_tablets(system, event_id)
        web = system.urls["web"]
        paced = drive(web, event_id, tablets, people, DAYS[0], PACE_SECONDS)
        saturated = drive(web, event_id, tablets, people, DAYS[1], 0)
        service_paced = drive_service(system, event_id, people, DAYS[2], clients=TABLETS, pace=PACE_SECONDS)
        service = drive_service(system, event_id, people, DAYS[3], clients=16, pace=0)
        stored_duplicates = duplicates_in_database(system.database_url, event_id)

    def ms(name: str, value: float, **extra) -> dict:
        return {"bench": name, "value": round(value, 1), "unit": "ms", **context, **extra}

    results = []
    for figure, values in (("search", paced.search_ms), ("checkin", paced.checkin_ms)):
        for label, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
            results.append(
                ms(
                    f"checkin.{figure}_{label}_ms",
                    percentile(values, share),
                    phase="paced",
                    samples=len(values),
                )
            )
    for figure, values in (("search", saturated.search_ms), ("checkin", saturated.checkin_ms)):
        for label, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
            results.append(
                ms(
                    f"checkin.saturated_{figure}_{label}_ms",
                    percentile(values, share),
                    phase="saturation",
                    samples=len(values),
                )
            )
    results.append(
        {
            "bench": "checkin.throughput_rps",
            "value": round(len(saturated.checkin_ms) / saturated.seconds, 1),
            "unit": "check-ins/s",
            "phase": "saturation",
            "requests_per_s": round(
                (len(saturated.checkin_ms) + len(saturated.search_ms)) / saturated.seconds, 1
            ),
            **context,
        }
    )
    results.append(
        {
            "bench": "checkin.errors",
            "value": paced.errors + saturated.errors,
            "unit": "count",
            "paced": paced.errors,
            "saturation": saturated.errors,
            "outcomes": {**paced.outcomes},
            **context,
        }
    )
    results.append(
        {
            "bench": "checkin.duplicates",
            "value": stored_duplicates + paced.duplicates + saturated.duplicates,
            "unit": "count",
            "in_database": stored_duplicates,
            "resends_not_replayed": paced.duplicates + saturated.duplicates,
            **context,
        }
    )
    for label, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        results.append(
            ms(
                f"checkin.service_checkin_{label}_ms",
                percentile(service_paced.checkin_ms, share),
                phase=f"certificates API alone, {TABLETS} clients every {PACE_SECONDS:g} s",
                samples=len(service_paced.checkin_ms),
                errors=service_paced.errors,
            )
        )
    for label, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        results.append(
            ms(
                f"checkin.service_saturated_checkin_{label}_ms",
                percentile(service.checkin_ms, share),
                phase="certificates API alone, 16 clients, no pauses",
                samples=len(service.checkin_ms),
            )
        )
    results.append(
        {
            "bench": "checkin.service_throughput_rps",
            "value": round(len(service.checkin_ms) / service.seconds, 1),
            "unit": "check-ins/s",
            "errors": service.errors,
            **context,
        }
    )
    return results


if __name__ == "__main__":
    import json

    for result in run():
        print(json.dumps(result, ensure_ascii=False))
