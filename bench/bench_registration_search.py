"""Participant search at the registration service: 10,000 participants in one event, 10 concurrent clients.

Seeds a fresh SQLite file and a fresh PostgreSQL database, serves the registration service from each under
gunicorn (as in production: several single-threaded worker processes), and sends ~2,000 search requests (surname prefixes
of 2–4 letters, e-mail fragments, participant codes) from 10 client threads, each waiting for its answer
before asking again. Reports, per database:
- registration.search_p95_ms / _p50_ms: the latency a client sees, waiting in the server's queue included;
- registration.search_service_p95_ms: the time the service itself spent (from its request log);
- registration.search_rps: requests answered per second.

    python -m bench registration_search
"""
from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from statistics import median, quantiles
from urllib.parse import quote

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from eventops.migrate import upgrade
from services.registration.models import CODE_ALPHABET, Event, Participant, new_personal_token
from services.registration.participants import email_key, refresh_search_text
from services.registration.regions import all_regions

PARTICIPANTS = 10_000
CLIENTS = 10
REQUESTS = 2_000
WARM_UP_REQUESTS = 200
# Single-threaded workers (threads of one worker would only queue for its GIL), two per CPU so that one
# waiting on the database does not leave a CPU idle.
GUNICORN_WORKERS = 2 * (os.cpu_count() or 1)
GUNICORN_THREADS = 1
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SERVICE_TOKEN = "bench-" + uuid.uuid4().hex
ROOT = Path(__file__).resolve().parent.parent

# Surnames in the masculine form; the feminine one is derived (Иванов → Иванова, Вишневский → Вишневская).
SURNAMES = """Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков
Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин Захаров Зайцев
Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов Александров Дмитриев Королёв
Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов
Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов
Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин
Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов Родионов Коновалов
Лазарев Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников
Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ёлкин Вишневский
Рыбаков Шестаков Кравченко Шевченко Бондаренко Ткаченко Галиев Хабибуллин Сафин Ахметов Мамедов Алиев""".split()
MALE_NAMES = """Александр Алексей Андрей Антон Артём Борис Вадим Валентин Василий Виктор Владимир Дмитрий Евгений
Иван Игорь Илья Кирилл Константин Максим Михаил Никита Николай Олег Павел Пётр Роман Руслан Сергей Станислав
Тимур Фёдор Юрий Ярослав Ринат Марат""".split()
FEMALE_NAMES = """Александра Алина Алла Анастасия Анна Валентина Валерия Вера Виктория Галина Дарья Евгения Екатерина
Елена Елизавета Жанна Зоя Ирина Кристина Ксения Лариса Любовь Людмила Маргарита Марина Мария Надежда Наталья
Нина Оксана Ольга Полина Светлана Софья Татьяна Юлия Яна Гульнара Алсу""".split()
PATRONYMIC_STEMS = """Александров Алексеев Андреев Борисов Васильев Викторов Владимиров Дмитриев Евгеньев Иванов
Игорев Михайлов Николаев Олегов Павлов Петров Сергеев Юрьев Фёдоров Анатольев Геннадьев Валерьев""".split()
ORGANISATIONS = ["ГАУ «МФЦ {region}»", "МКУ «Многофункциональный центр» ({region})", "Филиал МФЦ, {region}",
                 "Администрация муниципального района ({region})", "Министерство экономического развития, {region}"]
LATIN = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya"})


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
        result.append(dict(surname=feminine(surname) if female else surname, first_name=first_name,
                           patronymic=patronymic, email=email, region_code=region.code, code=code,
                           organisation=rng.choice(ORGANISATIONS).format(region=region.name)))
    return result


def seed(database_url: str, rng: random.Random) -> tuple[int, list[dict]]:
    """Migrates the database and bulk-inserts one event with PARTICIPANTS participants."""
    upgrade("registration", database_url)
    engine = create_engine(database_url)
    persons = people(rng, PARTICIPANTS)
    with engine.begin() as connection:
        event_id = connection.execute(insert(Event).values(
            slug="bench", title="Бенчмарк поиска", starts_on=date(2026, 10, 7), ends_on=date(2026, 10, 9),
            organiser="", place="", programme_kind="ПК", registration_open=False,
        ).returning(Event.id)).scalar_one()
        rows = []
        for person in persons:
            participant = Participant(event_id=event_id, **person)
            refresh_search_text(participant)
            rows.append(dict(person, event_id=event_id, token=new_personal_token(),
                             email_key=email_key(person["email"]), phone="", position="", status="registered",
                             search_text=participant.search_text, surname_key=participant.surname_key,
                             name_key=participant.name_key))
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
            result.append(person["surname"][:rng.randint(2, 4)].lower().replace("ё", "е"))
        elif kind < 0.85:
            result.append(person["email"].split("@")[0][:rng.randint(4, 8)])
        else:
            result.append(person["code"])
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """The registration service under gunicorn in a subprocess, on its own port."""

    def __init__(self, database_url: str, var_dir: Path):
        self.port = free_port()
        env = dict(os.environ, REGISTRATION_DATABASE_URL=database_url, SERVICE_TOKEN=SERVICE_TOKEN,
                   EVENTOPS_VAR_DIR=str(var_dir), PYTHONPATH=str(ROOT))
        self.log = open(var_dir / f"gunicorn-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(GUNICORN_WORKERS),
             "--threads", str(GUNICORN_THREADS), "--worker-class", "gthread",
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "services.registration.app:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_until_healthy()

    def _wait_until_healthy(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the registration service did not become healthy; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def fire(port: int, event_id: int, typed: list[str]) -> list[float]:
    """Sends every query once from CLIENTS threads with keep-alive connections; latencies in ms."""
    latencies: list[float] = []
    lock = threading.Lock()
    pending = iter(typed)
    failures: list[str] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
        while True:
            with lock:
                q = next(pending, None)
            if q is None:
                break
            path = f"/api/v1/events/{event_id}/participants/search?limit=20&q={quote(q)}"
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
                    failures.append(f"{q!r}: {response.status}")
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} searches failed, e.g. {failures[:3]}")
    return latencies


def service_times(log_path: Path, skip: int) -> list[float]:
    """The milliseconds the service logged for each search request, after the first `skip` of them."""
    times = []
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # gunicorn's own lines
        if isinstance(entry, dict) and entry.get("path", "").endswith("/participants/search"):
            times.append(float(entry["ms"]))
    return times[skip:]


def p95(values: list[float]) -> float:
    return round(quantiles(values, n=100)[94], 2)


def measure(database: str, database_url: str, var_dir: Path) -> list[dict]:
    rng = random.Random(2026)
    event_id, persons = seed(database_url, rng)
    service = Service(database_url, var_dir)
    try:
        fire(service.port, event_id, queries(rng, persons, WARM_UP_REQUESTS))
        started = time.perf_counter()
        latencies = fire(service.port, event_id, queries(rng, persons, REQUESTS))
        elapsed = time.perf_counter() - started
    finally:
        service.stop()
    in_service = service_times(Path(service.log.name), skip=WARM_UP_REQUESTS)
    return [
        {"bench": f"registration.search_p95_ms.{database}", "value": p95(latencies), "unit": "ms"},
        {"bench": f"registration.search_p50_ms.{database}", "value": round(median(latencies), 2), "unit": "ms"},
        {"bench": f"registration.search_service_p95_ms.{database}", "value": p95(in_service), "unit": "ms"},
        {"bench": f"registration.search_rps.{database}", "value": round(len(latencies) / elapsed), "unit": "1/s"},
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
