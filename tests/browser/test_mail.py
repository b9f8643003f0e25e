"""Issue 13 in a real Chromium: an organiser writes to a filtered group (one region), watches the outbox go
from queued to failed with the server's answer while the SMTP server refuses, resends all failed once it
takes mail again, and watches them become sent; only that region's participants get the letter, once."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import REDIS_URL, auth_headers
from tests.registration.mail_support import MAIL_FROM, PUBLIC_URL, ROOT, SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def mail_worker(live_system, smtp, database_url, redis_connection, tmp_path):
    """Registration sends through `smtp`, and a real mail worker runs for the test."""
    app = live_system.apps["registration"]
    app.config["SETTINGS"] = dataclasses.replace(
        app.config["SETTINGS"], smtp=smtp.settings, public_url=PUBLIC_URL
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REGISTRATION_DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "MAIL_FROM": MAIL_FROM,
        "EVENTOPS_VAR_DIR": str(tmp_path / "worker-var"),
    }
    with open(tmp_path / "mail-worker.log", "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "services.registration.worker"], env=env, cwd=ROOT, stdout=log, stderr=log
        )
        yield worker
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _course(registration_url: str) -> tuple[int, list[dict]]:
    def post(path, body):
        response = requests.post(
            registration_url + "/api/v1" + path, json=body, headers=auth_headers(), timeout=10
        )
        assert response.status_code == 201, response.text
        return response.json()

    event = post(
        "/events",
        {
            "slug": f"mail-{uuid.uuid4().hex[:6]}",
            "title": "Цифровые коммуникации",
            "organiser": "ЮРИУ РАНХиГС",
            "place": "Сочи",
            "starts_on": "2026-10-07",
            "ends_on": "2026-10-09",
        },
    )
    people = [
        post(f"/events/{event['id']}/participants", person)
        for person in (
            {
                "surname": "Иванова",
                "first_name": "Анна",
                "email": "anna@kazan.example.ru",
                "region_code": "16",
            },
            {
                "surname": "Петров",
                "first_name": "Борис",
                "email": "boris@kazan.example.ru",
                "region_code": "16",
            },
            {
                "surname": "Орлова",
                "first_name": "Вера",
                "email": "vera@sochi.example.ru",
                "region_code": "23",
            },
        )
    ]
    return event["id"], people


def test_an_organiser_writes_to_a_region_and_watches_the_statuses(
    logged_in_page, live_system, smtp, mail_worker
):
    event_id, _people = _course(live_system.urls["registration"])
    smtp.inbox.mode = "refuse"
    page = logged_in_page("organiser", viewport={"width": 1280, "height": 800}, path=f"/events/{event_id}")
    page.get_by_role("link", name="Рассылки").click()
    page.get_by_role("link", name="Написать участникам").click()
    page.get_by_label("Регион").select_option("16")
    page.get_by_label("Тема").fill("Трансфер в аэропорт")
    page.get_by_label("Текст").fill("Автобус отходит в 18:00 от главного входа.")
    page.get_by_role("button", name="Отправить").click()

    expect(page.get_by_text("Письмо написано 2 участникам.")).to_be_visible()
    rows = page.locator("#outbox tbody tr")
    expect(rows).to_have_count(2)
    # The page refreshes itself while letters are queued: the refusal appears without a reload.
    expect(page.locator('#outbox tr[data-status="failed"]')).to_have_count(2, timeout=30_000)
    expect(
        page.locator("#outbox").get_by_text("554 5.7.1 Message rejected: spam policy").first
    ).to_be_visible()
    assert smtp.inbox.received == []

    smtp.inbox.mode = None
    page.get_by_role("button", name="Отправить снова все неотправленные").click()
    expect(page.get_by_text("2 письма снова в очереди.")).to_be_visible()
    expect(page.locator('#outbox tr[data-status="sent"]')).to_have_count(2, timeout=30_000)
    expect(page.locator("#letters")).to_have_attribute("data-refreshing", "no")
    received = sorted(message["To"].addresses[0].addr_spec for message in smtp.inbox.received)
    assert received == ["anna@kazan.example.ru", "boris@kazan.example.ru"]

    # The letter as the organiser reads it in the outbox.
    page.get_by_role("link", name="Трансфер в аэропорт").first.click()
    expect(page.locator("pre")).to_contain_text("Автобус отходит в 18:00 от главного входа.")
    expect(page.locator("pre")).to_contain_text(f"{PUBLIC_URL}/p/")
