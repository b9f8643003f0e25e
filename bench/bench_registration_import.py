"""Spreadsheet import: a messy 10,000-row XLSX read, mapped and validated, then committed into a fresh
SQLite database through the service's API.

    python -m bench registration_import
"""

from __future__ import annotations

import io
import random
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

ROWS = 10_000
HEADERS = [
    "№",
    "ФИО",
    "Эл. почта",
    "Телефон",
    "Субъект РФ",
    "Место работы",
    "Должность",
    "Дата рождения",
    "Пол",
    "СНИЛС",
]
SURNAMES = [
    "Иванов",
    "Петрова",
    "Сидоров",
    "Ёлкина",
    "Кузнецов",
    "Смирнова",
    "Мамедов",
    "Ким",
    "Огнева",
    "Римский-Корсаков",
]
FIRST_NAMES = ["Иван", "Анна", "Пётр", "Мария", "Рашид", "Ольга", "Алексей", "Елена"]
PATRONYMICS = ["Иванович", "Петровна", "Сергеевич", "Андреевна", "Гейдар оглы", ""]
REGIONS = [
    "Татарстан",
    "Республика Татарстан",
    "Ростовская обл.",
    "г. Москва",
    "Москва",
    "Краснодарский край",
    "Ханты-Мансийский АО - Югра",
    "СПб",
    "Ростовская облатсь",
    "Респ. Саха (Якутия)",
]


def snils_for(number: int) -> str:
    digits = f"{100_000_000 + number % 899_999_999:09d}"
    total = sum(int(digit) * (9 - position) for position, digit in enumerate(digits))
    check = total if total < 100 else 0 if total in (100, 101) else total % 101 % 100
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]} {check:02d}"


def messy_rows(count: int, seed: int = 7) -> list[list]:
    """Rows like a regional office sends: region variants, stray spaces, a Latin «о», bad e-mails,
    repeated people, wrong СНИЛС check numbers, dates as text and as dates."""
    rng = random.Random(seed)
    rows = []
    for number in range(1, count + 1):
        surname = rng.choice(SURNAMES)
        if number % 97 == 0:
            surname = surname.replace("о", "o", 1)  # a Latin look-alike from copy-paste
        name = f"{surname} {rng.choice(FIRST_NAMES)} {rng.choice(PATRONYMICS)}".strip()
        email = f"user{number}@region{number % 20}.example.ru"
        if number % 211 == 0:
            email = email.replace("@", "")  # no @
        if number % 53 == 0:
            email = f"  {email.upper()} "
        snils = snils_for(number)
        if number % 301 == 0:
            snils = snils[:-1] + str((int(snils[-1]) + 1) % 10)
        birth = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(1960, 2000)}"
        rows.append(
            [
                number,
                name,
                email,
                f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-"
                f"{rng.randint(10, 99)}",
                rng.choice(REGIONS),
                f"ГБУ «МФЦ» № {number % 40}",
                "специалист",
                birth,
                rng.choice(["м", "ж", "Муж.", "Жен"]),
                snils,
            ]
        )
        if number % 500 == 0 and len(rows) < count:
            rows.append(list(rows[-1]))  # the same person twice
    return rows[:count]


def messy_xlsx(count: int = ROWS) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Участники")
    sheet.append(["Список участников курса"])
    sheet.append(HEADERS)
    for row in messy_rows(count):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bench_validate(data: bytes) -> tuple[float, dict]:
    from services.registration.importing import guess_mapping, read_table, split_header, validate

    started = time.perf_counter()
    table = split_header(read_table("participants.xlsx", data))
    report = validate(table, guess_mapping(table.headers), set())
    return time.perf_counter() - started, report.counts


def bench_commit(data: bytes) -> float:
    from eventops.config import Settings
    from eventops.migrate import upgrade
    from services.registration.app import create_app

    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        url = f"sqlite:///{Path(folder) / 'registration.db'}"
        upgrade("registration", url)
        settings = Settings(
            service="registration",
            database_url=url,
            redis_url=None,
            service_token="bench",
            secret_key="bench",
            storage_dir=Path(folder),
        )
        client = create_app(settings).test_client()
        headers = {"Authorization": "Bearer bench"}
        event = client.post(
            "/api/v1/events",
            headers=headers,
            json={
                "slug": "bench-import",
                "title": "Bench import",
                "starts_on": "2026-10-07",
                "ends_on": "2026-10-09",
            },
        )
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/events/{event.json['id']}/imports/commit",
            headers=headers,
            data={"file": (io.BytesIO(data), "participants.xlsx")},
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(
                f"commit answered {response.status_code}: {response.get_data(as_text=True)[:500]}"
            )
        return elapsed


def run() -> list[dict]:
    data = messy_xlsx()
    validate_s, counts = bench_validate(data)
    results = [
        {
            "bench": "registration.import_10k_s",
            "value": round(validate_s, 3),
            "unit": "s",
            "rows": counts["total"],
            "errors": counts["error"],
            "note": "read + map + validate",
        }
    ]
    results.append(
        {
            "bench": "registration.import_10k_commit_s.sqlite",
            "value": round(bench_commit(data), 3),
            "unit": "s",
            "note": "preview checks again + insert, one transaction",
        }
    )
    return results
