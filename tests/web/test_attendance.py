"""The organiser's attendance page, bulk marking and the XLSX export, against the real services over HTTP."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.web.support import Tablet, csrf_token, make_course


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
