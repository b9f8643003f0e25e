"""The organiser's eligibility page for a large course, through the gateway: gunicorn processes for
registration, certificates and the gateway on PostgreSQL, 1,000 participants, a three-day programme and a
realistic spread of attendance (most came to most sessions, some missed a day, a few cancelled).

One organiser opens the page again and again, as they do while deciding overrides; the figure is the p95
of the whole page (gateway → certificates → registration and back, HTML rendered). The certificates API
alone is measured too, to tell the service's share from the gateway's. Each figure also says how many CPU
milliseconds one request cost each process (cpu_ms_per_request, from /proc), which a busy machine moves
much less than it moves latencies.

Environment: BENCH_POSTGRES_URL (admin URL), BENCH_REDIS_URL, BENCH_ELIGIBILITY_PARTICIPANTS,
BENCH_ELIGIBILITY_SAMPLES, BENCH_WORKERS (gunicorn workers per process).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.bench_checkin import CSRF_META, System, percentile

PARTICIPANTS = int(os.environ.get("BENCH_ELIGIBILITY_PARTICIPANTS", 1000))
SAMPLES = int(os.environ.get("BENCH_ELIGIBILITY_SAMPLES", 60))
WARM_UP = 5
DAYS = ("2026-10-07", "2026-10-08", "2026-10-09")
#: per day: (start, end, academic hours); 3 days × 10 h = 30 h, a ПК programme
SLOTS = (
    ("09:30", "11:00", 2),
    ("11:15", "12:45", 2),
    ("13:45", "15:15", 2),
    ("15:30", "17:00", 2),
    ("17:10", "18:40", 2),
)
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
]


def seed(system: System) -> int:
    """The event, its programme, its participants and their attendance, through the services' APIs."""
    registration, certificates = system.urls["registration"], system.urls["certificates"]
    api = system.api("registration")
    event = api.post(
        f"{registration}/api/v1/events",
        json={
            "slug": "bench-certificates",
            "title": "Нагрузочный курс повышения квалификации",
            "organiser": "Бенч-институт",
            "place": "Сочи",
            "starts_on": DAYS[0],
            "ends_on": DAYS[-1],
        },
        timeout=30,
    )
    event.raise_for_status()
    event_id = event.json()["id"]
    sessions = []
    for day in DAYS:
        for number, (starts_at, ends_at, hours) in enumerate(SLOTS, 1):
            created = api.post(
                f"{registration}/api/v1/events/{event_id}/sessions",
                json={
                    "day": day,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "title": f"Занятие {number}",
                    "kind": "lecture",
                    "academic_hours": hours,
                },
                timeout=30,
            )
            created.raise_for_status()
            sessions.append(created.json())
    rnd = random.Random(8)

    def create(n: int) -> dict:
        male = n % 2 == 0
        with requests.Session() as http:
            response = http.post(
                f"{registration}/api/v1/events/{event_id}/participants",
                json={
                    "surname": SURNAMES[n % len(SURNAMES)] + ("" if male else "а"),
                    "first_name": FIRST_NAMES[(n // len(SURNAMES)) % len(FIRST_NAMES)][0 if male else 1],
                    "gender": "male" if male else "female",
                    "email": f"c{n}@bench.example.ru",
                },
                headers={"Authorization": f"Bearer {system.token}"},
                timeout=30,
            )
        response.raise_for_status()
        return response.json()

    with ThreadPoolExecutor(16) as pool:
        people = list(pool.map(create, range(PARTICIPANTS)))
    for person in people[: PARTICIPANTS // 50]:  # 2 % cancelled
        api.post(
            f"{registration}/api/v1/events/{event_id}/participants/{person['id']}/cancel", timeout=30
        ).raise_for_status()
    active = people[PARTICIPANTS // 50 :]
    # 85 % came to everything; the rest skipped a session in five, some a whole day.
    diligent = {p["id"] for p in active if rnd.random() < 0.85}
    skipped_day = {
        p["id"]: rnd.choice(DAYS) for p in active if p["id"] not in diligent and rnd.random() < 0.4
    }
    refs = {
        p["id"]: {"id": p["id"], "event_id": event_id, "status": "registered", "full_name": p["full_name"]}
        for p in active
    }
    certificates_api = system.api("certificates")
    for programme_session in sessions:
        present = [
            pid
            for pid in refs
            if skipped_day.get(pid) != programme_session["day"] and (pid in diligent or rnd.random() < 0.8)
        ]
        certificates_api.post(
            f"{certificates}/api/v1/events/{event_id}/attendance/bulk",
            json={
                "nonce": str(uuid.uuid4()),
                "day": programme_session["day"],
                "session_id": programme_session["id"],
                "participant_ids": present,
                "participants": [refs[pid] for pid in present],
            },
            timeout=120,
        ).raise_for_status()
    certificates_api.put(
        f"{certificates}/api/v1/events/{event_id}/policy",
        json={
            "programme_title": "Нагрузочный курс повышения квалификации",
            "academic_hours": 30,
            "organisation": "Бенч-институт",
            "completion_rule": "both",
            "min_hours_percent": 75,
        },
        timeout=30,
    ).raise_for_status()
    return event_id


def organiser_session(system: System) -> requests.Session:
    from sqlalchemy.orm import Session

    from eventops.db import make_engine
    from web.auth import hash_password
    from web.models import Role, StaffAccount

    engine = make_engine(system.database_url)
    with Session(engine) as session:
        session.add(
            StaffAccount(
                username="bench-organiser",
                full_name="Бенч Организатор",
                role=Role.organiser,
                password_hash=hash_password("bench organiser 42"),
            )
        )
        session.commit()
    engine.dispose()
    web = system.urls["web"]
    browser = requests.Session()
    token = CSRF_META.search(browser.get(f"{web}/login", timeout=30).text).group(1)
    login = browser.post(
        f"{web}/login",
        data={"username": "bench-organiser", "password": "bench organiser 42", "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    if login.status_code != 303:
        raise RuntimeError(f"login failed: {login.status_code}")
    return browser


def timed(*probes) -> list[list[float]]:
    """Milliseconds of each probe (fetch, check), taken in turns so that both see the same machine load."""
    for _ in range(WARM_UP):
        for fetch, check in probes:
            check(fetch())
    samples: list[list[float]] = [[] for _ in probes]
    for _ in range(SAMPLES):
        for index, (fetch, check) in enumerate(probes):
            started = time.perf_counter()
            response = fetch()
            samples[index].append((time.perf_counter() - started) * 1000)
            check(response)
    return samples


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a gunicorn master and its workers (from /proc)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return float("nan")
    total = 0
    for each in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def cpu_per_request(system: System, fetch, check, count: int) -> dict[str, float]:
    """CPU milliseconds of each process per request, over `count` requests made one after another."""
    pids = dict(zip(System.APPS, (p.pid for p in system.processes), strict=True))
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    for _ in range(count):
        check(fetch())
    return {name: round((cpu_seconds(pid) - before[name]) * 1000 / count, 1) for name, pid in pids.items()}


def run() -> list[dict]:
    context = {
        "participants": PARTICIPANTS,
        "samples": SAMPLES,
        "cpus": os.cpu_count(),
        "database": "postgresql",
        "server": "gunicorn",
    }
    with System() as system:
        event_id = seed(system)
        browser = organiser_session(system)
        page_url = f"{system.urls['web']}/events/{event_id}/certificates/eligibility"

        def page_is_whole(response: requests.Response) -> None:
            response.raise_for_status()
            if response.text.count('<tr id="participant-') != PARTICIPANTS:
                raise RuntimeError("the eligibility page does not list every participant")

        api = system.api("certificates")
        api_url = f"{system.urls['certificates']}/api/v1/events/{event_id}/eligibility"

        def answer_is_whole(response: requests.Response) -> None:
            response.raise_for_status()
            if len(response.json()["items"]) != PARTICIPANTS:
                raise RuntimeError("the eligibility API does not list every participant")

        page = (lambda: browser.get(page_url, timeout=30), page_is_whole)
        alone = (lambda: api.get(api_url, headers={"Accept-Language": "ru"}, timeout=30), answer_is_whole)
        gateway, service = timed(page, alone)
        # the machine's load while it was measured: latencies on a shared machine mean little without it
        context["load_average_1m"] = round(os.getloadavg()[0], 1)
        cpu_count = max(SAMPLES // 3, 1)
        page_cpu = cpu_per_request(system, *page, cpu_count)
        service_cpu = cpu_per_request(system, *alone, cpu_count)

    def ms(name: str, values: list[float], **extra) -> dict:
        return {
            "bench": name,
            "value": round(percentile(values, 0.95), 1),
            "unit": "ms",
            "p50_ms": round(percentile(values, 0.50), 1),
            "max_ms": round(max(values), 1),
            **context,
            **extra,
        }

    return [
        ms(
            "certificates.eligibility_1000_ms",
            gateway,
            target_ms=300,
            cpu_ms_per_request=page_cpu,
            what="the organiser's eligibility page through the gateway, p95",
        ),
        ms(
            "certificates.eligibility_service_1000_ms",
            service,
            cpu_ms_per_request=service_cpu,
            what="GET /api/v1/events/<id>/eligibility alone, p95",
        ),
    ]


if __name__ == "__main__":
    import json

    for result in run():
        print(json.dumps(result, ensure_ascii=False))
