"""Playwright fixtures for browser tests: one Chromium for the whole session, and logged-in pages by role.

def test_something(logged_in_page, live_system):
    page = logged_in_page("checkin", path="/status")   # a new staff account of that role, logged in
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: the door tablet in portrait
TABLET = {"width": 768, "height": 1024}


@pytest.fixture(scope="session")
def browser():
    """The system's Chromium, driven through Playwright's sync API (overrides pytest-playwright's)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def logged_in_page(browser, live_system, staff_factory):
    """logged_in_page(role, viewport=TABLET, path="/") -> a Page of a new browser context, logged in as a
    new staff member of `role` and showing `path`; `page.staff_username` says who."""
    contexts = []

    def open_page(role: str = "organiser", viewport: dict | None = None, path: str = "/", touch: bool = True):
        username, password = staff_factory(role)
        context = browser.new_context(viewport=viewport or TABLET, has_touch=touch, locale="ru-RU")
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_system.web_url}/login?next={quote(path)}")
        page.get_by_label("Логин").fill(username)
        page.get_by_label("Пароль").fill(password)
        page.get_by_role("button", name="Войти").click()
        expect(page).not_to_have_url(re.compile(r"/login"))
        page.staff_username = username
        return page

    yield open_page
    for context in contexts:
        context.close()
