"""The organiser's attendance page, bulk marking and the XLSX export, against the real services over HTTP."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.web.support import Tablet, counters, csrf_token, make_course
from web.views.attendance import tablet_code


def test_organiser_sees_attendance_marks_in_bulk_and_exports_xlsx(live_system, staff_factory, db_backend):
    course = make_course(live_system)
    username, password = staff_factory("organiser")
    tablet = Tablet(live_system.web_url, username, password, course)  # organisers may check in too
    assert (
        tablet.scan(participant_id=course.people["elkin"]["id"]).headers["X-Checkin-Outcome"] == "checked_in"
    )

    page = tablet.http.get(f"{live_system.web_url}/events/{course.id}/attendance")
    assert page.status_code == 200, page.text[:500]
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
    form = {
        "csrf_token": csrf_token(page.text),
        "nonce": nonce,
        "target": f"session:{course.session_id}",
        "participant_ids": [
            course.people["elkin"]["id"],
            course.people["ivanova"]["id"],
            course.people["sidorov"]["id"],
        ],
    }
    marked = tablet.http.post(f"{live_system.web_url}/events/{course.id}/attendance/bulk", data=form)
    assert marked.status_code == 200 and "Отмечено присутствие: 2" in marked.text, marked.text[:2000]
    resent = tablet.http.post(f"{live_system.web_url}/events/{course.id}/attendance/bulk", data=form)
    assert "Отмечено присутствие: 0; уже отмечены: 2" in resent.text  # the same nonce: nobody twice

    export = tablet.http.get(f"{live_system.web_url}/events/{course.id}/attendance.xlsx")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    rows = {r[0]: r for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert rows["Ёлкин Пётр"][5] == 2 and rows["Ёлкин Пётр"][4] == 1
    assert rows["Иванова Анна"][1] == '=HYPERLINK("http://x")'  # a string cell: never run as a formula
    sessions = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert sessions[0][2] == "Госпаблики" and sessions[0][4] == 2


def test_two_offline_tablets_admit_one_person_once_and_the_page_reports_the_conflict(
    live_system, staff_factory, db_backend
):
    course = make_course(live_system)
    door_a = Tablet(live_system.web_url, *staff_factory("checkin"), course)
    door_b = Tablet(live_system.web_url, *staff_factory("checkin"), course)
    device_a, device_b = door_a.http.cookies["device"], door_b.http.cookies["device"]
    assert device_a != device_b  # each tablet got its own id on opening the screen
    elkin = course.people["elkin"]["id"]
    # What each screen sends when it is back online: the nonce and time of the scan it queued, and offline=1.
    first = door_a.scan(participant_id=elkin, offline=1, scanned_at=f"{course.day}T06:01:00+00:00")
    second = door_b.scan(participant_id=elkin, offline="1", scanned_at=f"{course.day}T06:01:30+00:00")
    assert first.headers["X-Checkin-Outcome"] == "checked_in"
    assert second.headers["X-Checkin-Outcome"] == "already_checked_in"
    door_a.scan(participant_id=course.people["ivanova"]["id"])  # online: not on the offline list
    assert counters(door_a.fragment("counters"))[0] == "2"  # Ёлкин counts once

    organiser = Tablet(live_system.web_url, *staff_factory("organiser"), course)
    page = organiser.http.get(f"{live_system.web_url}/events/{course.id}/attendance")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert "1 участник отмечен двумя планшетами" in html, html  # Russian plurals agree with the number
    assert "2 отметки сделаны без связи" in html
    conflicts = table(html, "conflicts")
    assert conflicts.count("<tr data-participant-id") == 1 and "Ёлкин Пётр" in conflicts
    assert f"планшет {tablet_code(device_a)}" in conflicts and f"планшет {tablet_code(device_b)}" in conflicts
    assert "09:01:00" in conflicts and "09:01:30" in conflicts  # both scan times, in the event's time zone
    listed = table(html, "offline-list")
    assert listed.count("data-checkin-id") == 2 and "Иванова" not in listed
    assert "уже отмечен" in listed and "Тест checkin" in listed  # the staff member's name, not the login


def table(html: str, table_id: str) -> str:
    start = html.index(f'id="{table_id}"')
    return html[start : html.index("</table>", start)]
