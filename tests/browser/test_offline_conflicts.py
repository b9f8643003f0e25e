"""Two tablets at the door lose the Wi-Fi and both admit the same participant: one by a tap on a search
result, the other by a scanner typing the badge code. When they come back, the server holds one check-in,
and the organiser's attendance page reports the conflict with both tablets and both scan times."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import auth_headers
from tests.web.support import make_course
from web.views.attendance import tablet_code

pytestmark = pytest.mark.browser


def device_of(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "device")


def wait_for_records(live_system, course, count: int) -> list[dict]:
    """The door's records once the tablets' queues have reached the server (they send on reconnecting)."""
    url = f"{live_system.urls['certificates']}/api/v1/events/{course.id}/checkins?day={course.day}"
    deadline = time.monotonic() + 30
    while True:
        items = requests.get(url, headers=auth_headers(), timeout=10).json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def test_two_offline_tablets_admit_one_person_once_and_the_conflict_is_reported(logged_in_page, live_system):
    course = make_course(live_system)
    elkin = course.people["elkin"]
    screen = f"/events/{course.id}/checkin?day={course.day}"
    tap_tablet, scanner_tablet = (
        logged_in_page("checkin", path=screen),
        logged_in_page("checkin", path=screen),
    )
    assert device_of(tap_tablet) != device_of(scanner_tablet)  # each tablet has its own id

    # The first tablet found him while the Wi-Fi still worked; then the Wi-Fi drops for both.
    expect(tap_tablet.locator("#checkin")).to_have_attribute("data-ready", "1")
    expect(tap_tablet.locator("#checkin-q")).to_be_focused()
    tap_tablet.keyboard.type("елк")
    row = tap_tablet.locator(".result-row", has_text="Ёлкин Пётр")
    expect(row).to_be_visible()
    tap_tablet.context.set_offline(True)
    scanner_tablet.context.set_offline(True)

    row.click()
    expect(scanner_tablet.locator("#checkin")).to_have_attribute("data-ready", "1")
    expect(scanner_tablet.locator("#checkin-q")).to_be_focused()
    scanner_tablet.keyboard.type(elkin["code"], delay=5)
    scanner_tablet.keyboard.press("Enter")

    scanner_tablet.context.set_offline(False)
    tap_tablet.context.set_offline(False)
    records = wait_for_records(live_system, course, 2)
    assert sorted(r["outcome"] for r in records) == ["already_checked_in", "checked_in"], records
    assert {r["device"] for r in records} == {device_of(tap_tablet), device_of(scanner_tablet)}

    organiser = logged_in_page("organiser", path=f"/events/{course.id}/attendance")
    expect(organiser.locator("#by-day tbody tr td.num").first).to_have_text("1")  # he counts once
    conflicts = organiser.locator("#conflicts tbody tr")
    expect(conflicts).to_have_count(1)
    expect(conflicts.first).to_contain_text("Ёлкин Пётр")
    expect(conflicts.first).to_contain_text(f"планшет {tablet_code(device_of(tap_tablet))}")
    expect(conflicts.first).to_contain_text(f"планшет {tablet_code(device_of(scanner_tablet))}")
    expect(organiser.locator("#conflicts-summary")).to_contain_text("1 участник отмечен двумя планшетами")
    # Both scans were made offline (the screen marks what it queued without a network) and are listed so.
    expect(organiser.locator("#offline-summary")).to_contain_text("2 отметки сделаны без связи")
    expect(organiser.locator("#offline-list tbody tr")).to_have_count(2)
