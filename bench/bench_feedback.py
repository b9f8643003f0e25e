"""Survey results and answering under load: a survey of 15 questions with 10,000 submitted responses, on
PostgreSQL and on SQLite, every process under gunicorn (registration, certificates, feedback, the gateway).

Per database, after a short warm-up:

1. results through the gateway: an organiser opens the results page with a region filter and the
   region × answer cross-tab of a multiple-choice question, one request after another —
   feedback.results_p50/p95_ms_<db>; and the feedback API alone (the filtered results and the cross-tab
   the page asks for) — feedback.service_results_p95_ms_<db>;
2. answering: 50 phones at once, each a participant on their personal link, each saving an answer (the
   htmx save on change) every PACE_S and submitting at the end — feedback.submit_p50/p95_ms_<db>.

Each p95 figure also says how many CPU milliseconds one request cost each process (cpu_ms_per_request,
from /proc): unlike the latencies, that holds on a busy machine.

feedback.results_p95_ms and feedback.submit_p95_ms are the worse of the two databases (the target holds
only if it holds on both). Latencies are what a client sees, from sending the request to having read the
whole answer. The 10,000 responses are written straight into feedback's tables (the answering rules have
their own tests; going through the API would take minutes and measure nothing here); the survey itself,
the event, the phones' participants and every measured request go through the real APIs and pages.

Environment: BENCH_POSTGRES_URL (admin URL), BENCH_REDIS_URL (db 14), BENCH_FEEDBACK_RESPONSES,
BENCH_FEEDBACK_REQUESTS (results requests per database), BENCH_FEEDBACK_SECONDS (answering phase),
BENCH_FEEDBACK_PACE_S (seconds between a phone's saves),
BENCH_FEEDBACK_DATABASES (e.g. "sqlite" for one of them).

    python -m bench feedback
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench.bench_checkin import CSRF_META, percentile
from bench.bench_registration_search import STAFF_PASSWORD, STAFF_USERNAME, Gunicorn, create_organiser
from eventops.migrate import upgrade
from services.feedback.models import OTHER, Answer, SurveyResponse, new_response_id

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
RESPONSES = int(os.environ.get("BENCH_FEEDBACK_RESPONSES", 10_000))
REQUESTS = int(os.environ.get("BENCH_FEEDBACK_REQUESTS", 200))
WARM_UP = 20
PHONES = 50
ANSWER_SECONDS = float(os.environ.get("BENCH_FEEDBACK_SECONDS", 30))
#: one save per phone every PACE_S (each change of an answer saves): a person answering a question every
#: three seconds is fast; 50 phones make ~17 saves a second
PACE_S = float(os.environ.get("BENCH_FEEDBACK_PACE_S", 3))
DATABASES = tuple(os.environ.get("BENCH_FEEDBACK_DATABASES", "postgresql sqlite").split())
SERVICE_TOKEN = "bench-" + uuid.uuid4().hex
ROOT = Path(__file__).resolve().parent.parent
FIRST_DAY = date.today() - timedelta(days=1)

#: (region code, share of respondents): a few large regions and a long tail, as at a national course
REGIONS = [
    ("77", 0.18),
    ("23", 0.14),
    ("61", 0.10),
    ("16", 0.08),
    ("50", 0.07),
    ("78", 0.06),
    ("02", 0.05),
    ("66", 0.05),
    ("54", 0.04),
    ("63", 0.04),
    ("52", 0.03),
    ("74", 0.03),
    ("24", 0.03),
    ("59", 0.02),
    ("36", 0.02),
    ("34", 0.02),
    ("64", 0.01),
    ("72", 0.01),
    ("38", 0.01),
    ("05", 0.01),
]
ORGANISATIONS = [f"МФЦ № {n}" for n in range(1, 41)]

#: 15 questions of every kind, and a section heading
QUESTIONS = [
    {"kind": "section", "text": "Содержание курса"},
    {"kind": "rating", "text": "Насколько полезен был курс?", "required": True},
    {"kind": "rating", "text": "Насколько понятно излагался материал?"},
    {"kind": "rating", "text": "Оцените практические занятия"},
    {"kind": "rating", "text": "Оцените организацию курса"},
    {
        "kind": "single",
        "text": "Впервые ли вы на таком курсе?",
        "options": [{"label": "Да"}, {"label": "Нет"}],
    },
    {
        "kind": "single",
        "text": "Ваш стаж в МФЦ",
        "allow_other": True,
        "options": [
            {"label": "меньше года"},
            {"label": "1–3 года"},
            {"label": "3–10 лет"},
            {"label": "больше 10"},
        ],
    },
    {"kind": "single", "text": "Формат обучения", "options": [{"label": "очно"}, {"label": "дистанционно"}]},
    {
        "kind": "multiple",
        "text": "С какими трудностями вы сталкиваетесь?",
        "allow_other": True,
        "options": [
            {"label": "Недостаток времени"},
            {"label": "Отсутствие мотивации"},
            {"label": "Недостаток компетенций"},
            {"label": "Контент-планирование"},
        ],
    },
    {
        "kind": "multiple",
        "text": "Какие темы добавить?",
        "options": [{"label": f"Тема {n}"} for n in range(1, 7)],
    },
    {
        "kind": "multiple",
        "text": "Откуда вы узнали о курсе?",
        "options": [{"label": "письмо"}, {"label": "руководитель"}, {"label": "коллеги"}, {"label": "сайт"}],
    },
    {"kind": "nps", "text": "Порекомендуете ли вы курс коллегам?"},
    {"kind": "nps", "text": "Порекомендуете ли вы наш центр?"},
    {"kind": "short_text", "text": "Ваша должность"},
    {"kind": "short_text", "text": "Одно слово о курсе"},
    {"kind": "long_text", "text": "Что улучшить?"},
]


# --- the system ------------------------------------------------------------------------------------


class System:
    """A fresh database of one kind and the four processes under gunicorn; everything removed on exit."""

    def __init__(self, database: str):
        self.database = database
        self.var = Path(tempfile.mkdtemp(prefix=f"eventops-bench-feedback-{database}-"))
        self.stack = ExitStack()

    def __enter__(self) -> System:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        if self.database == "postgresql":
            name = f"eventops_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            self.stack.callback(self._drop_postgres, admin, name)
            url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
            self.urls = dict.fromkeys(("registration", "certificates", "feedback"), url)
        else:
            self.urls = {
                s: f"sqlite:///{self.var / (s + '.db')}" for s in ("registration", "certificates", "feedback")
            }
        for service, url in self.urls.items():
            upgrade(service, url)
        base = {
            "SERVICE_TOKEN": SERVICE_TOKEN,
            "EVENTOPS_VAR_DIR": str(self.var),
            "REDIS_URL": REDIS_URL,
            "RATELIMIT_ENABLED": "false",
        }
        self.registration = self._serve("registration", base)
        self.feedback = self._serve("feedback", base)
        self.certificates = self._serve("certificates", {**base, "REGISTRATION_URL": self.registration.url})
        web_db = f"sqlite:///{self.var / 'web.db'}"
        upgrade("web", web_db)
        create_organiser(web_db)
        # Rate limits off: fifty phones on one loopback address would be one venue's Wi-Fi many times over.
        self.web = self.stack.enter_context(
            Gunicorn(
                "web.app:create_app()",
                {
                    **base,
                    "WEB_DATABASE_URL": web_db,
                    "SECRET_KEY": uuid.uuid4().hex,
                    "REGISTRATION_URL": self.registration.url,
                    "CERTIFICATES_URL": self.certificates.url,
                    "FEEDBACK_URL": self.feedback.url,
                },
                self.var / "web.log",
            )
        )

    def _serve(self, service: str, env: dict) -> Gunicorn:
        app = f"services.{service}.app:create_app()"
        env = {**env, f"{service.upper()}_DATABASE_URL": self.urls[service]}
        return self.stack.enter_context(Gunicorn(app, env, self.var / f"{service}.log"))

    @staticmethod
    def _drop_postgres(admin, name: str) -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def api(self, process: Gunicorn, method: str, path: str, **kwargs):
        response = requests.request(
            method,
            f"{process.url}/api/v1{path}",
            timeout=60,
            headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
            **kwargs,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def __exit__(self, *_exc) -> None:
        self.stack.close()
        shutil.rmtree(self.var, ignore_errors=True)


# --- data ------------------------------------------------------------------------------------------


def seed(system: System, rng: random.Random) -> tuple[int, dict, list[dict]]:
    """The event, its survey (through the APIs), RESPONSES submitted responses (straight into the tables)
    and PHONES participants to answer on their phones."""
    event_id = system.api(
        system.registration,
        "POST",
        "/events",
        json={
            "slug": "bench-feedback",
            "title": "Нагрузочный курс",
            "starts_on": FIRST_DAY.isoformat(),
            "ends_on": (FIRST_DAY + timedelta(days=1)).isoformat(),
        },
    )["id"]
    survey = system.api(
        system.feedback,
        "POST",
        f"/events/{event_id}/surveys",
        json={"title": "Итоговая анкета", "questions": QUESTIONS},
    )
    system.api(system.feedback, "POST", f"/surveys/{survey['id']}/open")
    survey = system.api(system.feedback, "GET", f"/surveys/{survey['id']}")
    write_responses(system.urls["feedback"], survey, rng)
    phones = [
        system.api(
            system.registration,
            "POST",
            f"/events/{event_id}/participants",
            json={
                # letters, not digits: registration refuses digits in a name
                "surname": "Телефонова"
                + "абвгдежзиклмнопрстуфхцчшэюя"[n // 27]
                + "абвгдежзиклмнопрстуфхцчшэюя"[n % 27],
                "first_name": "Анна",
                "email": f"phone{n}@bench.example.ru",
                "region_code": "23",
                "organisation": "МФЦ № 1",
            },
        )
        for n in range(PHONES)
    ]
    return event_id, survey, phones


def random_answer(question: dict, rng: random.Random):
    kind = question["kind"]
    options = [o["id"] for o in question["options"]]
    if kind == "rating":
        return rng.choices(range(1, 6), weights=(1, 2, 6, 14, 17))[0]
    if kind == "nps":
        return rng.choices(range(11), weights=(1, 1, 1, 1, 1, 2, 3, 6, 9, 10, 12))[0]
    if kind == "single":
        if question["allow_other"] and rng.random() < 0.05:
            return {"other": "свой вариант"}
        return rng.choice(options)
    if kind == "multiple":
        chosen = [o for o in options if rng.random() < 0.4] or [rng.choice(options)]
        if question["allow_other"] and rng.random() < 0.05:
            return {"choices": chosen, "other": "нет ноутбука"}
        return chosen
    if kind == "short_text":
        return rng.choice(["специалист", "ведущий специалист", "начальник отдела", "эксперт"])
    return rng.choice(["Больше практики", "Раздаточные материалы заранее", "Дольше перерывы", ""]) or None


def answer_rows(response: dict, question: dict, value) -> list[dict]:
    """The rows an answer is stored as (services/feedback/models.py: one per chosen option, ordinal 0…,
    each with the response's region and organisation)."""
    if value is None:
        return []
    base = {
        "response_id": response["id"],
        "region_code": response["region_code"],
        "organisation": response["organisation"],
        "question_id": question["id"],
        "choice": None,
        "score": None,
        "text": None,
    }
    if question["kind"] in ("rating", "nps"):
        return [{**base, "ordinal": 0, "score": value}]
    if question["kind"] in ("short_text", "long_text"):
        return [{**base, "ordinal": 0, "text": value}]
    chosen, other = (value.get("choices", []), value["other"]) if isinstance(value, dict) else (value, None)
    chosen = [chosen] if isinstance(chosen, str) else chosen
    rows = [{**base, "ordinal": n, "choice": option} for n, option in enumerate(chosen)]
    if other is not None:
        rows.append({**base, "ordinal": len(rows), "choice": OTHER, "text": other})
    return rows


def write_responses(database_url: str, survey: dict, rng: random.Random) -> None:
    questions = [q for q in survey["questions"] if q["kind"] != "section"]
    codes, weights = zip(*REGIONS, strict=True)
    now = datetime.now(UTC)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for start in range(0, RESPONSES, 1000):
            responses, answers = [], []
            for n in range(start, min(start + 1000, RESPONSES)):
                response_id = new_response_id()
                responses.append(
                    {
                        "id": response_id,
                        "survey_id": survey["id"],
                        "anonymous": False,
                        "participant_id": 1_000_000 + n,
                        "region_code": rng.choices(codes, weights)[0],
                        "organisation": rng.choice(ORGANISATIONS),
                        "submitted_at": now,
                        "updated_at": now,
                    }
                )
                for question in questions:
                    answers += answer_rows(responses[-1], question, random_answer(question, rng))
            connection.execute(insert(SurveyResponse), responses)
            connection.execute(insert(Answer), answers)
    if engine.dialect.name == "postgresql":
        # What autovacuum soon does after this many inserts (its insert threshold): statistics, and the
        # visibility map that lets the counts read the indexes alone. (The test server may run without
        # autovacuum; production does not.)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE responses"))
            connection.execute(text("VACUUM ANALYZE answers"))
    engine.dispose()


# --- the measurements ------------------------------------------------------------------------------


def organiser(system: System) -> requests.Session:
    browser = requests.Session()
    token = CSRF_META.search(browser.get(f"{system.web.url}/login", timeout=30).text).group(1)
    login = browser.post(
        f"{system.web.url}/login",
        allow_redirects=False,
        timeout=30,
        data={"username": STAFF_USERNAME, "password": STAFF_PASSWORD, "csrf_token": token},
    )
    if login.status_code != 303:
        raise RuntimeError(f"login failed: {login.status_code}")
    return browser


def timed(call) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = call()
    return (time.perf_counter() - started) * 1000, response


def cpu_seconds(process: Gunicorn) -> float:
    """CPU time used so far by a gunicorn master and its workers (from /proc): what a request costs,
    whatever else the machine is doing."""
    master = process.process.pid
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return float("nan")
    total = 0
    for pid in [str(master), *children]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU milliseconds per request of each process over a phase."""

    def __init__(self, system: System):
        self.processes = {
            "web": system.web,
            "registration": system.registration,
            "certificates": system.certificates,
            "feedback": system.feedback,
        }
        self.start = {name: cpu_seconds(p) for name, p in self.processes.items()}

    def per_request(self, requests_made: int) -> dict[str, float]:
        return {
            name: round((cpu_seconds(p) - self.start[name]) * 1000 / max(requests_made, 1), 1)
            for name, p in self.processes.items()
        }


def measure_results(system: System, survey: dict) -> dict:
    """The results page with a filter and the cross-tab, through the gateway; then what it asks of the
    feedback API (the filtered results and the cross-tab), at the API alone."""
    crosstab = next(q for q in survey["questions"] if q["kind"] == "multiple")
    region = REGIONS[1][0]
    page = (
        f"{system.web.url}/surveys/{survey['id']}/results"
        f"?region={region}&question_id={crosstab['id']}&by=region"
    )
    browser = organiser(system)
    first = browser.get(page, timeout=60)
    if first.status_code != 200 or "<svg" not in first.text or 'id="crosstab"' not in first.text:
        raise RuntimeError(
            f"the results page is not what the bench expects: {first.status_code} {first.text[:300]}"
        )
    gateway = []
    for n in range(WARM_UP + REQUESTS):
        if n == WARM_UP:
            meter = CpuMeter(system)
        elapsed, response = timed(lambda: browser.get(page, timeout=60))
        if response.status_code != 200:
            raise RuntimeError(f"results page answered {response.status_code}")
        if n >= WARM_UP:
            gateway.append(elapsed)
    cpu = meter.per_request(REQUESTS)

    service = requests.Session()
    service.headers["Authorization"] = f"Bearer {SERVICE_TOKEN}"
    api = f"{system.feedback.url}/api/v1/surveys/{survey['id']}"

    def both():
        service.get(f"{api}/results", params={"region": region, "population": RESPONSES}, timeout=60)
        return service.get(
            f"{api}/crosstab", params={"question_id": crosstab["id"], "by": "region"}, timeout=60
        )

    alone = [timed(both)[0] for _ in range(WARM_UP + REQUESTS)][WARM_UP:]
    return {"gateway": gateway, "service": alone, "cpu": cpu}


def form_data(survey: dict, rng: random.Random, token: str) -> dict:
    """A phone's form as it posts it: every question's current answer (see web/survey_forms.py)."""
    data: dict = {"csrf_token": token}
    for question in survey["questions"]:
        value = random_answer(question, rng) if question["kind"] != "section" else None
        name = f"q{question['id']}"
        if value is None:
            continue
        if isinstance(value, dict):
            data[name] = [*value.get("choices", []), "other"]
            data[f"{name}-other"] = value["other"]
        else:
            data[name] = value
    return data


def measure_answering(system: System, survey: dict, phones: list[dict]) -> tuple[list[float], int, dict]:
    """PHONES participants at once, each saving every PACE_S and submitting last."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + ANSWER_SECONDS

    def phone(index: int, person: dict) -> None:
        rng = random.Random(index)
        http = requests.Session()
        url = f"{system.web.url}/p/{person['token']}/surveys/{survey['id']}"
        token = CSRF_META.search(http.get(url, timeout=60).text).group(1)
        next_at = time.monotonic() + rng.random() * PACE_S
        while True:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += PACE_S
            last = time.monotonic() >= stop_at
            data = form_data(survey, rng, token)
            if last:
                data["action"] = "submit"
            headers = {} if last else {"HX-Request": "true"}
            started = time.perf_counter()
            response = http.post(url, data=data, timeout=60, allow_redirects=False, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            ok = (
                response.status_code == 303
                if last
                else (response.status_code == 200 and "Сохранено в" in response.text)
            )
            with lock:
                latencies.append(elapsed)
                errors[0] += 0 if ok else 1
            if last:
                return

    meter = CpuMeter(system)
    threads = [threading.Thread(target=phone, args=(i, p)) for i, p in enumerate(phones)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The phones' first look at the form is in there too: a little more than the saves alone.
    return latencies, errors[0], meter.per_request(len(latencies))


def submitted_count(system: System, survey_id: int) -> int:
    return system.api(system.feedback, "GET", f"/surveys/{survey_id}")["responses_count"]


# --- the benchmark ---------------------------------------------------------------------------------


def run() -> list[dict]:
    context = {
        "responses": RESPONSES,
        "questions": sum(q["kind"] != "section" for q in QUESTIONS),
        "cpus": os.cpu_count(),
        "server": "gunicorn",
    }
    results, worst = [], {"results": 0.0, "submit": 0.0}
    for database in DATABASES:
        rng = random.Random(9)
        with System(database) as system:
            _event_id, survey, phones = seed(system, rng)
            times = measure_results(system, survey)
            answers, errors, answer_cpu = measure_answering(system, survey, phones)
            submitted = submitted_count(system, survey["id"]) - RESPONSES
        extra = {**context, "database": database}
        for label, share in (("p50", 0.50), ("p95", 0.95)):
            results.append(
                {
                    "bench": f"feedback.results_{label}_ms_{database}",
                    "value": round(percentile(times["gateway"], share), 1),
                    "unit": "ms",
                    "samples": len(times["gateway"]),
                    "filter": "region",
                    "crosstab": "by region",
                    "cpu_ms_per_request": times["cpu"],
                    **extra,
                }
            )
        results.append(
            {
                "bench": f"feedback.service_results_p95_ms_{database}",
                "value": round(percentile(times["service"], 0.95), 1),
                "unit": "ms",
                "what": "results with a region filter, then the cross-tab, at the feedback API",
                **extra,
            }
        )
        for label, share in (("p50", 0.50), ("p95", 0.95)):
            results.append(
                {
                    "bench": f"feedback.submit_{label}_ms_{database}",
                    "value": round(percentile(answers, share), 1),
                    "unit": "ms",
                    "phones": PHONES,
                    "pace_s": PACE_S,
                    "samples": len(answers),
                    "errors": errors,
                    "submitted": submitted,
                    "cpu_ms_per_request": answer_cpu,
                    **extra,
                }
            )
        worst["results"] = max(worst["results"], percentile(times["gateway"], 0.95))
        worst["submit"] = max(worst["submit"], percentile(answers, 0.95))
    results.append(
        {
            "bench": "feedback.results_p95_ms",
            "value": round(worst["results"], 1),
            "unit": "ms",
            "target": 100,
            "of": list(DATABASES),
            **context,
        }
    )
    results.append(
        {
            "bench": "feedback.submit_p95_ms",
            "value": round(worst["submit"], 1),
            "unit": "ms",
            "target": 50,
            "phones": PHONES,
            "of": list(DATABASES),
            **context,
        }
    )
    return results


if __name__ == "__main__":
    import json

    for result in run():
        print(json.dumps(result, ensure_ascii=False))
