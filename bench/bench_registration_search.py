"""Participant search, at the registration service and through the gateway: 10,000 participants in one
event, 10 concurrent clients, on SQLite and on PostgreSQL.

Seeds a fresh SQLite file and a fresh PostgreSQL database, serves the registration service from each under
gunicorn (as in production: several single-threaded worker processes) with the gateway in front of it
(gunicorn too, its own SQLite file for staff accounts), and searches with surname prefixes of 2–4 letters,
e-mail fragments and participant codes. Three phases per database, each after a short warm-up:

1. paced, service: 10 clients each send one search every 200 ms (active search with a 200 ms debounce,
   typed fast) straight to the service API — registration.search_p50/p95/p99_ms.<db>, and the time the
   service itself logged for those requests, registration.search_service_p95_ms.<db>;
2. paced, gateway: the same load on the organisers' htmx search fragment, each client logged in as an
   organiser — web.search_p50/p95/p99_ms.<db> (with the gateway's and the service's logged times as fields);
3. saturation: 10 clients with no pauses at the service, each asking again as soon as answered —
   registration.search_saturated_p50/p95_ms.<db> and registration.search_saturated_rps.<db>. On a small
   machine the client threads compete with the server for the CPUs, so this is a ceiling, not a target.

Latencies are what a client sees: from sending the request to having read the whole answer.

    python -m bench registration_search
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Self
from urllib.parse import quote

import requests
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.bench_checkin import CSRF_META, free_port, percentile
from eventops.migrate import upgrade
from services.registration.models import CODE_ALPHABET, Event, Participant, new_personal_token
from services.registration.participants import email_key, refresh_search_text
from services.registration.regions import all_regions
from web.views.participants import SEARCH_LIMIT as GATEWAY_LIMIT

PARTICIPANTS = 10_000
CLIENTS = 10
#: one search per client every PACE_S: what a 200 ms debounce lets through from someone typing fast
PACE_S = 0.2
REQUESTS = 2_000
WARM_UP_REQUESTS = 200
#: rows the service API is asked for (its default); the organisers' list asks for GATEWAY_LIMIT
SERVICE_LIMIT = 20
# Single-threaded workers (threads of one worker would only queue for its GIL), two per CPU so that one
# waiting on the database (or, for the gateway, on the service) does not leave a CPU idle.
GUNICORN_WORKERS = 2 * (os.cpu_count() or 1)
GUNICORN_THREADS = 1
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SERVICE_TOKEN = "bench-" + uuid.uuid4().hex
STAFF_USERNAME, STAFF_PASSWORD = "bench-organiser", "bench organiser 42"
ROOT = Path(__file__).resolve().parent.parent

# Surnames in the masculine form; the feminine one is derived (Иванов → Иванова, Вишневский → Вишневская).
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
    "Жуков",
    "Баранов",
    "Филиппов",
    "Комаров",
    "Давыдов",
    "Беляев",
    "Герасимов",
    "Богданов",
    "Осипов",
    "Сидоров",
    "Матвеев",
    "Титов",
    "Марков",
    "Миронов",
    "Крылов",
    "Куликов",
    "Карпов",
    "Власов",
    "Мельников",
    "Денисов",
    "Гаврилов",
    "Тихонов",
    "Казаков",
    "Афанасьев",
    "Данилов",
    "Савельев",
    "Тимофеев",
    "Фомин",
    "Чернов",
    "Абрамов",
    "Мартынов",
    "Ефимов",
    "Федотов",
    "Щербаков",
    "Назаров",
    "Калинин",
    "Исаев",
    "Чернышёв",
    "Быков",
    "Маслов",
    "Родионов",
    "Коновалов",
    "Лазарев",
    "Воронин",
    "Климов",
    "Филатов",
    "Пономарёв",
    "Голубев",
    "Кудрявцев",
    "Прохоров",
    "Наумов",
    "Потапов",
    "Журавлёв",
    "Овчинников",
    "Трофимов",
    "Леонов",
    "Соболев",
    "Ермаков",
    "Колесников",
    "Гончаров",
    "Емельянов",
    "Никифоров",
    "Грачёв",
    "Котов",
    "Гришин",
    "Ёлкин",
    "Вишневский",
    "Рыбаков",
    "Шестаков",
    "Кравченко",
    "Шевченко",
    "Бондаренко",
    "Ткаченко",
    "Галиев",
    "Хабибуллин",
    "Сафин",
    "Ахметов",
    "Мамедов",
    "Алиев",
]
MALE_NAMES = [
    "Александр",
    "Алексей",
    "Андрей",
    "Антон",
    "Артём",
    "Борис",
    "Вадим",
    "Валентин",
    "Василий",
    "Виктор",
    "Владимир",
    "Дмитрий",
    "Евгений",
    "Иван",
    "Игорь",
    "Илья",
    "Кирилл",
    "Константин",
    "Максим",
    "Михаил",
    "Никита",
    "Николай",
    "Олег",
    "Павел",
    "Пётр",
    "Роман",
    "Руслан",
    "Сергей",
    "Станислав",
    "Тимур",
    "Фёдор",
    "Юрий",
    "Ярослав",
    "Ринат",
    "Марат",
]
FEMALE_NAMES = [
    "Александра",
    "Алина",
    "Алла",
    "Анастасия",
    "Анна",
    "Валентина",
    "Валерия",
    "Вера",
    "Виктория",
    "Галина",
    "Дарья",
    "Евгения",
    "Екатерина",
    "Елена",
    "Елизавета",
    "Жанна",
    "Зоя",
    "Ирина",
    "Кристина",
    "Ксения",
    "Лариса",
    "Любовь",
    "Людмила",
    "Маргарита",
    "Марина",
    "Мария",
    "Надежда",
    "Наталья",
    "Нина",
    "Оксана",
    "Ольга",
    "Полина",
    "Светлана",
    "Софья",
    "Татьяна",
    "Юлия",
    "Яна",
    "Гульнара",
    "Алсу",
]
PATRONYMIC_STEMS = [
    "Александров",
    "Алексеев",
    "Андреев",
    "Борисов",
    "Васильев",
    "Викторов",
    "Владимиров",
    "Дмитриев",
    "Евгеньев",
    "Иванов",
    "Игорев",
    "Михайлов",
    "Николаев",
    "Олегов",
    "Павлов",
    "Петров",
    "Сергеев",
    "Юрьев",
    "Фёдоров",
    "Анатольев",
    "Геннадьев",
    "Валерьев",
]
ORGANISATIONS = [
    "ГАУ «МФЦ {region}»",
    "МКУ «Многофункциональный центр» ({region})",
    "Филиал МФЦ, {region}",
    "Администрация муниципального района ({region})",
    "Министерство экономического развития, {region}",
]
LATIN = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "sch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
    }
)


# --- data --------------------------------------------------------------------------------------


def feminine(surname: str) -> str:
    if surname.endswith("ский"):
        return surname[:-2] + "ая"
    if surname.endswith(("ов", "ев", "ёв", "ин")):
        return surname + "а"
    return surname  # Кравченко, Шевченко...


def people(rng: random.Random, count: int) -> list[dict]:
    regions = all_regions()
    codes = rng.sample(range(len(CODE_ALPHABET) ** 6), count)  # distinct, as the database insists
    result = []
    for number, code_number in enumerate(codes):
        female = rng.random() < 0.6
        surname = rng.choice(SURNAMES)
        patronymic = rng.choice(PATRONYMIC_STEMS) + ("на" if female else "ич")
        region = rng.choice(regions)
        first_name = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        code = ""
        for _ in range(6):
            code_number, digit = divmod(code_number, len(CODE_ALPHABET))
            code += CODE_ALPHABET[digit]
        login = f"{first_name.lower().translate(LATIN)}.{surname.lower().translate(LATIN)}{number}"
        email = f"{login}@mfc{region.code}.example.ru"
        result.append(
            dict(
                surname=feminine(surname) if female else surname,
                first_name=first_name,
                patronymic=patronymic,
                email=email,
                region_code=region.code,
                code=code,
                organisation=rng.choice(ORGANISATIONS).format(region=region.name),
            )
        )
    return result


def seed(database_url: str, rng: random.Random) -> tuple[int, list[dict]]:
    """Migrates the database and bulk-inserts one event with PARTICIPANTS participants."""
    upgrade("registration", database_url)
    engine = create_engine(database_url)
    persons = people(rng, PARTICIPANTS)
    with engine.begin() as connection:
        event_id = connection.execute(
            insert(Event)
            .values(
                slug="bench",
                title="Бенчмарк поиска",
                starts_on=date(2026, 10, 7),
                ends_on=date(2026, 10, 9),
                organiser="",
                place="",
                programme_kind="ПК",
                registration_open=False,
            )
            .returning(Event.id)
        ).scalar_one()
        rows = []
        for person in persons:
            participant = Participant(event_id=event_id, **person)
            refresh_search_text(participant)
            rows.append(
                dict(
                    person,
                    event_id=event_id,
                    token=new_personal_token(),
                    email_key=email_key(person["email"]),
                    phone="",
                    position="",
                    status="registered",
                    search_text=participant.search_text,
                    surname_key=participant.surname_key,
                    name_key=participant.name_key,
                )
            )
        connection.execute(insert(Participant), rows)
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE participants"))  # as autovacuum does soon after an import
    engine.dispose()
    return event_id, persons


def queries(rng: random.Random, persons: list[dict], count: int) -> list[str]:
    """What staff type: surname beginnings (often «е» for «ё»), e-mail fragments and participant codes."""
    result = []
    for _ in range(count):
        person = rng.choice(persons)
        kind = rng.random()
        if kind < 0.7:
            result.append(person["surname"][: rng.randint(2, 4)].lower().replace("ё", "е"))
        elif kind < 0.85:
            result.append(person["email"].split("@")[0][: rng.randint(4, 8)])
        else:
            result.append(person["code"])
    return result


# --- processes ---------------------------------------------------------------------------------


class Gunicorn:
    """One app under gunicorn in a subprocess, on its own port; its JSON request log goes to `log_path`."""

    def __init__(self, app: str, env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 - open while the process runs; closed by stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(GUNICORN_WORKERS),
                "--threads",
                str(GUNICORN_THREADS),
                "--worker-class",
                "gthread",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                app,
            ],
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_until_healthy(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.log_path.stem} did not become healthy; see {self.log_path}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def start_registration(database: str, database_url: str, var_dir: Path) -> Gunicorn:
    env = {
        "REGISTRATION_DATABASE_URL": database_url,
        "SERVICE_TOKEN": SERVICE_TOKEN,
        "EVENTOPS_VAR_DIR": str(var_dir),
    }
    return Gunicorn("services.registration.app:create_app()", env, var_dir / f"registration-{database}.log")


def start_gateway(database: str, registration_url: str, var_dir: Path) -> Gunicorn:
    """The gateway with its own staff database holding one organiser; rate limits off, or ten logins
    from one address in a few seconds would be refused."""
    database_url = f"sqlite:///{var_dir / f'web-{database}.db'}"
    upgrade("web", database_url)
    create_organiser(database_url)
    env = {
        "WEB_DATABASE_URL": database_url,
        "REGISTRATION_URL": registration_url,
        "SERVICE_TOKEN": SERVICE_TOKEN,
        "SECRET_KEY": uuid.uuid4().hex,
        "RATELIMIT_ENABLED": "false",
        "EVENTOPS_VAR_DIR": str(var_dir),
    }
    return Gunicorn("web.app:create_app()", env, var_dir / f"web-{database}.log")


def create_organiser(database_url: str) -> None:
    from web.auth import hash_password
    from web.models import Role, StaffAccount

    engine = create_engine(database_url)
    with Session(engine) as session:
        session.add(
            StaffAccount(
                username=STAFF_USERNAME,
                full_name="Бенч Организатор",
                role=Role.organiser,
                password_hash=hash_password(STAFF_PASSWORD),
            )
        )
        session.commit()
    engine.dispose()


# --- clients -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """One simulated person: where their searches go and the headers they send with each."""

    port: int
    path: Callable[[str], str]
    headers: dict[str, str]


def service_client(service: Gunicorn, event_id: int) -> Client:
    """A caller of the service API, as the gateway is: the service token, no person."""
    return Client(
        service.port,
        lambda q: f"/api/v1/events/{event_id}/participants/search?limit={SERVICE_LIMIT}&q={quote(q)}",
        {"Authorization": f"Bearer {SERVICE_TOKEN}"},
    )


def gateway_client(gateway: Gunicorn, event_id: int) -> Client:
    """An organiser logged in once (own session), typing into the participants list's active search."""
    with requests.Session() as browser:
        token = CSRF_META.search(browser.get(f"{gateway.url}/login", timeout=30).text).group(1)
        login = browser.post(
            f"{gateway.url}/login",
            allow_redirects=False,
            timeout=30,
            data={"username": STAFF_USERNAME, "password": STAFF_PASSWORD, "csrf_token": token},
        )
        if login.status_code != 303:
            raise RuntimeError(f"login failed: {login.status_code}")
        session_cookie = browser.cookies.get("session")
    return Client(
        gateway.port,
        lambda q: f"/events/{event_id}/participants?q={quote(q)}",
        {"Cookie": f"session={session_cookie}", "HX-Request": "true"},
    )


def check_fragment(client: Client, person: dict) -> None:
    """The gateway answers the htmx search with the rows alone — not a login redirect, not the whole page."""
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
    connection.request("GET", client.path(person["code"]), headers=client.headers)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    if (
        response.status != 200
        or person["code"] not in body
        or 'id="participant-' not in body
        or "<html" in body
    ):
        raise RuntimeError(
            f"the gateway's search fragment is not what the bench expects: {response.status}, {body[:300]!r}"
        )


@dataclass
class Load:
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def drive(clients: list[Client], typed: list[str], phase: str, pace_s: float) -> Load:
    """Sends every query once, spread over the clients, each on one keep-alive connection.

    pace_s > 0: each client sends one search every pace_s (from a random start within the first pace_s, so
    they do not fire in step), at once if it is behind; pace_s == 0: each asks again as soon as answered.
    Every request carries the request id `<phase>-<n>`, which the gateway passes on to the service, so
    each process's request log can be matched to the phase afterwards."""
    load = Load()
    lock = threading.Lock()
    pending = iter(enumerate(typed))

    def run_client(index: int, client: Client) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
        next_at = time.monotonic() + random.Random(index).random() * pace_s
        while True:
            if pace_s:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += pace_s
            with lock:
                number, q = next(pending, (None, None))
            if q is None:
                break
            headers = {**client.headers, "X-Request-Id": f"{phase}-{number}"}
            started = time.perf_counter()
            try:
                connection.request("GET", client.path(q), headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                connection.close()  # http.client reconnects on the next request
            elapsed_ms = (time.perf_counter() - started) * 1000
            with lock:
                load.latencies_ms.append(elapsed_ms)
                if status != 200:
                    load.failures.append(f"{q!r}: {status}")
        connection.close()

    threads = [threading.Thread(target=run_client, args=(i, c)) for i, c in enumerate(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - started
    if load.failures:
        raise RuntimeError(
            f"{phase}: {len(load.failures)} searches not answered 200, e.g. {load.failures[:3]}"
        )
    return load


def logged_ms(log_path: Path, phase: str) -> list[float]:
    """The milliseconds a process logged for the requests of one phase (by their request ids)."""
    times = []
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # gunicorn's own lines
        if (
            isinstance(entry, dict)
            and str(entry.get("request_id", "")).startswith(f"{phase}-")
            and "ms" in entry
        ):
            times.append(float(entry["ms"]))
    return times


# --- the benchmark -----------------------------------------------------------------------------


def ms(name: str, values: list[float], share: float, context: dict, **extra) -> dict:
    return {
        "bench": name,
        "value": round(percentile(values, share), 2),
        "unit": "ms",
        **context,
        "samples": len(values),
        **extra,
    }


def spread(
    name: str, values: list[float], context: dict, labels=("p50", "p95", "p99"), **extra
) -> list[dict]:
    """Percentiles of one set of latencies, each named <name>_pNN_ms.<database>."""
    return [
        ms(f"{name}_{label}_ms.{context['database']}", values, int(label[1:]) / 100, context, **extra)
        for label in labels
    ]


def measure(database: str, database_url: str, var_dir: Path) -> list[dict]:
    rng = random.Random(2026)
    event_id, persons = seed(database_url, rng)
    with ExitStack() as running:
        registration = running.enter_context(start_registration(database, database_url, var_dir))
        gateway = running.enter_context(start_gateway(database, registration.url, var_dir))
        to_service = [service_client(registration, event_id) for _ in range(CLIENTS)]
        to_gateway = [gateway_client(gateway, event_id) for _ in range(CLIENTS)]
        check_fragment(to_gateway[0], persons[0])

        # Warm-ups without pauses: every worker opens its database connections and loads its templates.
        drive(to_service, queries(rng, persons, WARM_UP_REQUESTS), "warm-service", 0)
        paced = drive(to_service, queries(rng, persons, REQUESTS), "service", PACE_S)
        drive(to_gateway, queries(rng, persons, WARM_UP_REQUESTS), "warm-web", 0)
        through_gateway = drive(to_gateway, queries(rng, persons, REQUESTS), "web", PACE_S)
        saturated = drive(to_service, queries(rng, persons, REQUESTS), "saturated", 0)

    in_service = logged_ms(registration.log_path, "service")
    web_in_gateway = logged_ms(gateway.log_path, "web")
    web_in_service = logged_ms(registration.log_path, "web")
    context = {
        "participants": PARTICIPANTS,
        "clients": CLIENTS,
        "pace_ms": round(PACE_S * 1000),
        "cpus": os.cpu_count(),
        "workers": GUNICORN_WORKERS,
        "threads": GUNICORN_THREADS,
        "database": database,
        "server": "gunicorn",
    }
    saturated_context = {**context, "pace_ms": 0}
    return [
        *spread("registration.search", paced.latencies_ms, context, limit=SERVICE_LIMIT),
        ms(
            f"registration.search_service_p95_ms.{database}",
            in_service,
            0.95,
            context,
            limit=SERVICE_LIMIT,
            source="service request log",
        ),
        *spread(
            "web.search",
            through_gateway.latencies_ms,
            context,
            limit=GATEWAY_LIMIT,
            gateway_log_p95_ms=round(percentile(web_in_gateway, 0.95), 2),
            service_log_p95_ms=round(percentile(web_in_service, 0.95), 2),
        ),
        *spread(
            "registration.search_saturated",
            saturated.latencies_ms,
            saturated_context,
            labels=("p50", "p95"),
            limit=SERVICE_LIMIT,
        ),
        {
            "bench": f"registration.search_saturated_rps.{database}",
            "value": round(len(saturated.latencies_ms) / saturated.seconds),
            "unit": "1/s",
            **saturated_context,
        },
    ]


def run() -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory(prefix="eventops-bench-search-") as folder:
        var_dir = Path(folder)
        results += measure("sqlite", f"sqlite:///{var_dir / 'registration.db'}", var_dir)
        name = f"eventops_bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
            results += measure("postgresql", url, var_dir)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return results
