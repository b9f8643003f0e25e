"""A real Chromium logs in as the demo organiser would and reads the system status page."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium(browser):
    return browser  # the session's Chromium (tests/browser/conftest.py)


@pytest.mark.parametrize("viewport", [{"width": 768, "height": 1024}, {"width": 390, "height": 844}])
def test_organiser_logs_in_and_sees_every_service_up(chromium, live_system, staff_factory, viewport):
    username, password = staff_factory("organiser")
    page = chromium.new_page(viewport=viewport)
    page.goto(live_system.web_url + "/status")
    expect(page.get_by_role("heading", name="Войти")).to_be_visible()

    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill("wrong password")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_have_text("Неверный логин или пароль.")

    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Состояние системы")).to_be_visible()
    for service in ("web", "registration", "certificates", "feedback"):
        expect(page.locator(f'tr[data-service="{service}"] td.up')).to_have_text("работает")

    # Touch targets: the login and logout buttons are at least 44 px tall.
    logout = page.get_by_role("button", name="Выйти")
    expect(logout).to_have_css("min-height", "44px")  # the stylesheet has arrived (slow under load)
    box = logout.bounding_box()
    assert box["height"] >= 44
    page.close()


def test_status_page_shows_a_service_going_down(chromium, live_system, staff_factory):
    username, password = staff_factory("organiser")
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.goto(live_system.web_url + "/login")
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    page.goto(live_system.web_url + "/status")
    live_system.stop("certificates")
    page.reload()
    expect(page.locator('tr[data-service="certificates"] td.down')).to_have_text("не работает")
    page.close()
