"""The check-in screen on a 768×1024 tablet: search and tap, a scanner typing a code and Enter, every
outcome told apart, undo, counters that follow, and a dropped connection that loses nothing."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.web.support import csrf_token, logged_in_session, make_course

pytestmark = pytest.mark.browser

# Records every WebAudio tone the page plays: one high tone for a check-in, two low ones for a problem.
TONE_SPY = """
window.__tones = [];
const original = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  const oscillator = original.call(this);
  const start = oscillator.start.bind(oscillator);
  oscillator.start = (when) => { window.__tones.push(oscillator.frequency.value); start(when); };
  return oscillator;
};
"""


def tones(page) -> list[float]:
    played = page.evaluate("window.__tones.splice(0)")
    return played


def scanner_types(page, code: str) -> None:
    """A hardware scanner: keystrokes into the focused field, then Enter."""
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def test_checkin_screen_on_a_tablet(logged_in_page, live_system):
    course = make_course(live_system)
    people = course.people
    page = logged_in_page("checkin", path=f"/checkin?event_id={course.id}")
    page.add_init_script(TONE_SPY)

    # The staff member picks the door for today; the choice is kept in the URL.
    page.get_by_role("link", name="Вход (весь день)").first.click()
    expect(page).to_have_url(f"{live_system.web_url}/events/{course.id}/checkin?day={course.day}")
    search = page.locator("#checkin-q")
    banner = page.locator("#banner [data-outcome]")
    checked_in = page.locator("#count-checked-in")
    expect(page.locator("#checkin")).to_have_attribute(
        "data-ready", "1"
    )  # the script has the field: Enter is a scan
    expect(search).to_be_focused()
    expect(checked_in).to_have_text("0")
    expect(page.locator("#count-expected")).to_have_text("2")

    # 1. By search: «елк» finds «Ёлкин»; a tap on the big row checks him in.
    page.keyboard.type("елк")
    row = page.locator(".result-row", has_text="Ёлкин Пётр")
    expect(row).to_be_visible()
    assert row.bounding_box()["height"] >= 56
    row.tap()
    expect(banner).to_have_attribute("data-outcome", "checked_in")
    expect(banner.locator(".banner-title")).to_have_text("Отмечен")  # the verb agrees: he is male
    expect(banner).to_contain_text("Ёлкин Пётр")
    expect(checked_in).to_have_text("1")
    expect(search).to_be_focused()
    expect(search).to_have_value("")
    ok_colour = banner.evaluate("b => getComputedStyle(b).backgroundColor")
    assert tones(page) == [1320]

    # 2. By a scanner typing the badge code and Enter.
    scanner_types(page, people["ivanova"]["code"])
    expect(banner).to_contain_text("Иванова Анна")
    expect(banner).to_have_attribute("data-outcome", "checked_in")
    expect(banner.locator(".banner-title")).to_have_text("Отмечена")
    expect(checked_in).to_have_text("2")
    expect(search).to_have_value("")

    # 3. Every other outcome, told apart by colour, words and sound.
    scanner_types(page, people["elkin"]["code"])
    expect(banner).to_have_attribute("data-outcome", "already_checked_in")
    expect(banner.locator(".banner-title")).to_have_text("Уже отмечен")
    expect(banner).to_contain_text("отметил(а): Тест checkin")
    already_colour = banner.evaluate("b => getComputedStyle(b).backgroundColor")

    scanner_types(page, "NOSUCH-42")
    expect(banner).to_have_attribute("data-outcome", "unknown_code")
    expect(banner).to_contain_text("Неизвестный код")
    unknown_colour = banner.evaluate("b => getComputedStyle(b).backgroundColor")

    scanner_types(page, people["sidorov"]["code"])
    expect(banner).to_have_attribute("data-outcome", "cancelled")
    expect(banner).to_contain_text("Регистрация отменена")
    expect(banner).to_contain_text("Сидоров Олег")
    assert len({ok_colour, already_colour, unknown_colour}) == 3
    assert tones(page) == [1320] + [300, 300] * 3
    expect(checked_in).to_have_text("2")

    # 4. Undo a mistaken check-in from the recent-scans log, after confirming.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".scan", has_text="Иванова Анна").get_by_role("button", name="Отменить").click()
    expect(banner).to_have_attribute("data-outcome", "undo")
    expect(banner).to_contain_text("Отметка отменена")
    expect(checked_in).to_have_text("1")
    expect(page.locator(".scan.undone", has_text="Иванова Анна")).to_be_visible()
    expect(search).to_be_focused()

    # 5. The Wi-Fi drops: the scan waits on the tablet, then goes by itself, exactly once.
    page.context.set_offline(True)
    scanner_types(page, people["ivanova"]["code"])
    expect(banner).to_contain_text("Нет связи с сервером — отметка сохранена на планшете и будет отправлена")
    expect(page.locator("#pending")).to_have_text("Ожидают отправки: 1")
    page.context.set_offline(False)
    expect(page.locator("#pending")).to_be_hidden(timeout=15_000)
    expect(banner).to_contain_text("Все сохранённые на планшете отметки отправлены")
    expect(checked_in).to_have_text("2", timeout=10_000)
    expect(page.locator(".scan", has_text="Иванова Анна")).to_have_count(3)  # checked in, undo, checked in


def test_pending_scan_survives_a_reload_and_a_stale_csrf_token_asks_for_one(logged_in_page, live_system):
    course = make_course(live_system)
    page = logged_in_page("checkin", path=f"/events/{course.id}/checkin?day={course.day}")
    expect(page.locator("#checkin")).to_have_attribute("data-ready", "1")
    expect(page.locator("#checkin-q")).to_be_focused()
    # The server refuses the CSRF token (400): the banner says to reload, and the scan is kept.
    page.route("**/checkin/scan", lambda route: route.fulfill(status=400, body="CSRF"))
    scanner_types(page, course.people["elkin"]["code"])
    expect(page.locator("#banner")).to_contain_text("Обновите страницу")
    expect(page.locator("#pending")).to_have_text("Ожидают отправки: 1")
    page.unroute("**/checkin/scan")
    page.reload()
    expect(page.locator("#pending")).to_be_hidden(timeout=10_000)
    expect(page.locator("#count-checked-in")).to_have_text("1", timeout=10_000)


def test_a_deactivated_accounts_tablet_says_log_in_again_and_keeps_the_scan(
    logged_in_page, live_system, staff_factory
):
    live_system.apps["web"].config["STAFF_RECHECK_SECONDS"] = 1
    course = make_course(live_system)
    page = logged_in_page("checkin", path=f"/events/{course.id}/checkin?day={course.day}")
    expect(page.locator("#checkin")).to_have_attribute("data-ready", "1")
    expect(page.locator("#checkin-q")).to_be_focused()
    admin = logged_in_session(live_system.web_url, *staff_factory("admin"))
    staff_page = admin.get(f"{live_system.web_url}/staff/")
    account_id = re.search(
        rf"<td>{page.staff_username}</td>.*?/staff/(\d+)/password", staff_page.text, re.S
    ).group(1)
    admin.post(
        f"{live_system.web_url}/staff/{account_id}/active", data={"csrf_token": csrf_token(staff_page.text)}
    )
    time.sleep(1.1)
    scanner_types(page, course.people["elkin"]["code"])
    banner = page.locator('#banner [data-outcome="login"]')
    expect(banner).to_contain_text("Войдите снова")
    expect(banner.get_by_role("link", name="Войти снова")).to_have_attribute(
        "href", re.compile(r"^/login\?next=%2Fevents%2F")
    )
    # The scan is kept for after a login, and nothing is resent meanwhile (no request every 4 s).
    expect(page.locator("#pending")).to_have_text("Ожидают отправки: 1")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/checkin/scan" in request.url else None)
    page.wait_for_timeout(4500)
    assert sent == []


def test_only_an_unreachable_service_is_resent_and_a_refused_scan_is_listed_as_dropped(
    logged_in_page, live_system
):
    course = make_course(live_system)
    page = logged_in_page("checkin", path=f"/events/{course.id}/checkin?day={course.day}")
    expect(page.locator("#checkin")).to_have_attribute("data-ready", "1")
    expect(page.locator("#checkin-q")).to_be_focused()
    # A service the gateway cannot reach (503): the scan is kept and sent again.
    page.route("**/checkin/scan", lambda route: route.fulfill(status=503, body="down"))
    scanner_types(page, course.people["elkin"]["code"])
    expect(page.locator("#pending")).to_have_text("Ожидают отправки: 1")
    expect(page.locator("#banner [data-outcome]")).to_have_attribute("data-outcome", "unavailable")
    # Then a resend is refused for good (422: a crafted code, a service failing on it): dropped, and listed,
    # since no banner said so when it happened.
    banner = '<div class="banner" data-outcome="error"><strong>Код повреждён или подделан</strong></div>'
    page.unroute("**/checkin/scan")
    page.route("**/checkin/scan", lambda route: route.fulfill(status=422, body=banner))
    expect(page.locator("#pending")).to_be_hidden(timeout=10_000)
    dropped = page.locator("#dropped")
    expect(dropped).to_be_visible()
    expect(dropped).to_contain_text(course.people["elkin"]["code"])
    expect(dropped).to_contain_text("Код повреждён или подделан")
    page.reload()  # the list survives a reload, until someone clears it
    expect(page.locator("#dropped")).to_contain_text(course.people["elkin"]["code"])
    page.get_by_role("button", name="Очистить список").click()
    expect(page.locator("#dropped")).to_be_hidden()
