"""Issue 8 in a real Chromium, end to end: an organiser sets the certificate policy of a course like the demo
one, reads who is eligible and why, overrides one decision, issues and watches the progress bar finish
while a real RQ worker process renders the PDFs; a participant downloads their certificate on a phone from
their personal page; its QR leads to the verification page, which says «revoked» once the organiser
revokes it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.conftest import REDIS_URL, SERVICE_TOKEN, auth_headers

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
COURSE = json.loads((REPO / "demo" / "course.json").read_text(encoding="utf-8"))


def call(system, service: str, method: str, path: str, **kwargs):
    response = requests.request(
        method, system.urls[service] + path, headers=auth_headers(), timeout=30, **kwargs
    )
    assert response.status_code < 400, response.text
    return response.json() if response.content else None


def demo_like_course(system) -> tuple[dict, list[dict], dict[str, dict]]:
    """The demo course's event and programme, six of its participants, and their attendance:
    four came to everything, Чернова missed the last day, Ёлкин came only on the first."""
    event = call(
        system,
        "registration",
        "POST",
        "/api/v1/events",
        json={**COURSE["event"], "slug": "demo-" + uuid.uuid4().hex[:8]},
    )
    start = date.fromisoformat(event["starts_on"])
    sessions = []
    for s in COURSE["sessions"]:
        body = {
            k: s[k] for k in ("starts_at", "ends_at", "title", "kind", "speakers", "room", "academic_hours")
        }
        body["day"] = (start + timedelta(days=s["day"] - 1)).isoformat()
        sessions.append(
            call(system, "registration", "POST", f"/api/v1/events/{event['id']}/sessions", json=body)
        )
    fields = ("surname", "first_name", "patronymic", "gender", "email", "organisation", "position")
    people = {}
    for person in COURSE["participants"][:6]:
        created = call(
            system,
            "registration",
            "POST",
            f"/api/v1/events/{event['id']}/participants",
            json={k: person[k] for k in fields if person.get(k)},
        )
        people[created["surname"]] = created
    days = sorted({s["day"] for s in sessions})
    present = dict.fromkeys(people, days)
    present["Чернова"], present["Ёлкин"] = days[:2], days[:1]
    for programme_session in sessions:
        here = [p for name, p in people.items() if programme_session["day"] in present[name]]
        call(
            system,
            "certificates",
            "POST",
            f"/api/v1/events/{event['id']}/attendance/bulk",
            json={
                "nonce": str(uuid.uuid4()),
                "day": programme_session["day"],
                "session_id": programme_session["id"],
                "participant_ids": [p["id"] for p in here],
                "participants": [
                    {
                        "id": p["id"],
                        "event_id": event["id"],
                        "status": "registered",
                        "full_name": p["full_name"],
                    }
                    for p in here
                ],
            },
        )
    return event, sessions, people


@pytest.fixture
def certificate_worker(live_system, database_url, tmp_path, redis_connection, processes):
    """The real certificate worker as its own process, on the test database, Redis and storage (Redis
    flushed before it starts, not under it)."""
    env = {
        **os.environ,
        "CERTIFICATES_DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "STORAGE_DIR": str(tmp_path / "storage"),
        "PUBLIC_URL": live_system.web_url,
        "SERVICE_TOKEN": SERVICE_TOKEN,
        "PYTHONPATH": str(REPO),
    }
    with open(tmp_path / "worker.log", "wb") as log:
        worker = processes(
            [sys.executable, "-m", "services.certificates.worker"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    # `processes` kills it with its horse and scheduler after the test: nothing it would still do matters
    # then, and a warm shutdown only waits for its scheduler (seconds of every run).
    return worker


def decode_qr(pdf: bytes) -> str:
    """The text of the QR code on the PDF's first page, as a phone's camera would read it."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    found = [
        barcode.text
        for barcode in zxingcpp.read_barcodes(image)
        if barcode.format == zxingcpp.BarcodeFormat.QRCode
    ]
    assert found, "no QR code on the certificate"
    return found[0]


def set_policy(page: Page, hours: int) -> None:
    page.get_by_label("Название программы, как в документе").fill(COURSE["event"]["title"])
    page.get_by_label("Объём программы, академических часов").fill(str(hours))
    page.get_by_label("Организация, как в документе").fill(COURSE["event"]["organiser"])
    page.get_by_label("Город выдачи").fill("Сочи")
    page.get_by_label("И то и другое: достаточно часов и каждый день").check()
    page.get_by_label("Нужно посетить, % от часов программы").fill("75")
    page.get_by_label("Подписывает").fill("А. В. Воронцов")
    page.get_by_label("Должность подписывающего").fill("Директор")
    page.get_by_role("button", name="Сохранить правила").click()


def test_organiser_issues_participant_downloads_anyone_verifies_until_revoked(
    browser, logged_in_page, live_system, certificate_worker, redis_connection, tmp_path
):
    event, sessions, people = demo_like_course(live_system)
    programme_hours = sum(s["academic_hours"] for s in sessions)
    web = live_system.web_url

    # The organiser opens the event and follows «Удостоверения» to the policy.
    page = logged_in_page("organiser", viewport=LAPTOP, path=f"/events/{event['id']}", touch=False)
    expect(page.get_by_text("выдано 0 удостоверений")).to_be_visible()
    page.locator(".actions").get_by_role("link", name="Удостоверения", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Сначала задайте правила выдачи")
    page.get_by_role("link", name="Задать правила").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Удостоверения")

    # A slip first: under 16 hours is no ПК programme; the service's words land next to the field.
    set_policy(page, 12)
    expect(page.locator("#academic_hours-error")).to_contain_text("не менее 16")
    set_policy(page, programme_hours)
    expect(page.get_by_text("Правила выдачи сохранены.")).to_be_visible()

    # Eligibility: who may receive the certificate, and why the others may not, in words.
    table = page.locator("#eligibility")
    elkin = table.locator("tr", has_text="Ёлкин")
    chernova = table.locator("tr", has_text="Чернова")
    expect(elkin).to_have_attribute("data-eligible", "no")
    expect(elkin).to_contain_text("не был 8 октября")
    expect(elkin).to_contain_text(f"из {programme_hours} академических часов")
    expect(chernova).to_have_attribute("data-eligible", "no")
    expect(chernova).to_contain_text("не была 9 октября")
    eligible = [name for name in people if name not in ("Ёлкин", "Чернова")]
    for name in eligible:
        expect(table.locator("tr", has_text=name)).to_have_attribute("data-eligible", "yes")
    expect(page.locator("#eligibility-counts")).to_contain_text("4 могут получить")

    # Override one: Чернова was at a work meeting on the last day, agreed with the organisers beforehand.
    chernova.get_by_role("link", name="Изменить решение").click()
    form = page.locator("tr.override-form")
    expect(form.get_by_label("Может получить удостоверение", exact=True)).to_be_checked()
    form.get_by_role("button", name="Записать решение").click()
    expect(form.locator(".field-error")).to_be_visible()  # a decision by hand needs its reason
    form.get_by_label("Причина").fill("Отпущена на совещание, согласовано заранее")
    form.get_by_role("button", name="Записать решение").click()
    expect(chernova).to_have_attribute("data-eligible", "yes")
    expect(chernova).to_contain_text("Отпущена на совещание")
    expect(chernova).to_contain_text(page.staff_username)
    expect(page.locator("#eligibility-counts")).to_contain_text("5 могут получить")

    # Issue, and watch the bar fill as the worker renders.
    page.get_by_role("button", name="Выдать удостоверения").click()
    progress = page.locator("#batch-progress")
    expect(progress.locator("progress")).to_be_visible()
    expect(progress).to_have_attribute("data-done", "yes", timeout=90_000)
    expect(progress).to_contain_text("5 из 5")
    # The finished bar tells the list to draw itself again: the numbers are there without a reload.
    expect(page.locator("#eligibility-counts")).to_contain_text("выдано 5 удостоверений")
    expect(chernova).to_contain_text("ПК-")
    expect(elkin).not_to_contain_text("ПК-")
    page.get_by_role("link", name="Выданные документы").first.click()
    rows = page.locator("#certificates tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#certificates")).to_contain_text("ПК-")
    page.goto(f"{web}/events/{event['id']}")
    expect(page.get_by_text("выдано 5 удостоверений")).to_be_visible()

    # The participant, on a phone, downloads the certificate from the personal page.
    holder = people[eligible[0]]
    phone = browser.new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, locale="ru-RU", accept_downloads=True
    )
    try:
        mine = phone.new_page()
        mine.goto(f"{web}/p/{holder['token']}")
        expect(mine.locator("#attendance")).to_contain_text(f"{programme_hours} из {programme_hours}")
        present = {"male": "присутствовал", "female": "присутствовала"}[holder["gender"]]
        expect(mine.locator("#attendance li").first).to_have_text(re.compile(rf": {present}$"))
        download_link = mine.get_by_role("link", name="Скачать удостоверение")
        expect(download_link).to_be_visible()
        assert download_link.bounding_box()["height"] >= 44
        assert mine.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "scrolls sideways"
        with mine.expect_download() as downloading:
            download_link.tap()
        pdf = Path(downloading.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF-")
        text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
        assert holder["surname"] in text and holder["first_name"] in text

        # Its QR leads to the verification page, which says the certificate holds.
        verification_url = decode_qr(pdf)
        assert verification_url.startswith(f"{web}/verify/"), verification_url
        mine.goto(verification_url)
        expect(mine.locator("#verdict")).to_contain_text("Документ действителен")
        expect(mine.locator(".document")).to_contain_text(holder["surname"])
        expect(mine.locator(".document")).to_contain_text(f"{programme_hours} академических часов")

        # The organiser revokes it; the same page now says so, with the date and without the private reason.
        page.goto(f"{web}/events/{event['id']}/certificates")
        page.locator("#certificates tr", has_text=holder["surname"]).get_by_role(
            "link", name="Отозвать"
        ).click()
        page.get_by_label("Причина").fill("Выдано по ошибке, внутренняя проверка")
        page.get_by_role("button", name="Отозвать").click()
        expect(page.get_by_text("отозван", exact=False).first).to_be_visible()
        mine.reload()
        expect(mine.locator("#verdict")).to_contain_text("Документ отозван")
        expect(mine.locator("#verdict")).to_contain_text(re.compile(r"Отозван \d{1,2} [а-я]+ 20\d\d г\."))
        expect(mine.locator("body")).not_to_contain_text("внутренняя проверка")
        mine.goto(f"{web}/p/{holder['token']}")
        expect(mine.get_by_role("link", name="Скачать удостоверение")).to_have_count(0)
    finally:
        phone.close()
    assert certificate_worker.poll() is None, "the worker process kept running"
