"""Reports the gateway puts together from several services, and the one place it builds spreadsheets.

A report that one service can answer alone is that service's export (registration's participants list);
attendance needs registration's participants beside certificates' check-ins, so it is joined here. Every
cell is written through eventops.spreadsheets: a name typed as «=HYPERLINK(...)» stays text, as typed.
"""

from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from eventops.spreadsheets import xlsx_cell
from web.clients import certificates, registration
from web.formatting import PARTICIPANT_STATUSES, event_days

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attendance(event_id: int) -> dict[str, Any]:
    """Registration's participants joined with certificates' attendance, sorted as registration lists them."""
    event = registration.event(event_id)
    sessions = registration.programme(event_id)
    participants = registration.participants(event_id)
    summary = certificates.attendance(event_id)
    by_participant = {a["participant_id"]: a for a in summary["participants"]}
    checked_in = {s["id"]: s["checked_in"] for s in summary["sessions"]}
    rows = []
    for p in participants:
        a = by_participant.get(p["id"], {})
        rows.append(
            {
                "participant": p,
                "session_ids": set(a.get("session_ids", [])),
                "days": sorted(a.get("days", [])),
                "academic_hours": a.get("academic_hours", 0),
            }
        )
    return {
        "event": event,
        "sessions": [dict(s, checked_in=checked_in.get(s["id"], 0)) for s in sessions],
        "days": summary.get("days", []),
        "rows": rows,
        "event_days": event_days(event),
    }


def attendance_xlsx(report: dict[str, Any]) -> bytes:
    """The report as a workbook: a sheet by participant (a column per session), a sheet by session."""
    book = Workbook()
    people = book.active
    people.title = _("By participant")[:31]  # Excel refuses longer sheet names
    sessions = report["sessions"]
    header = [
        _("Full name"),
        _("Organisation"),
        _("Status"),
        _("Days present"),
        _("Sessions attended"),
        _("Academic hours"),
    ] + [f"{s['day']} {s['starts_at'][:5]} {s['title']}" for s in sessions]
    _append(people, header)
    for row in report["rows"]:
        p = row["participant"]
        attended = (1 if s["id"] in row["session_ids"] else None for s in sessions)
        _append(
            people,
            [
                p["full_name"],
                p.get("organisation") or "",
                str(PARTICIPANT_STATUSES.get(p["status"], p["status"])),
                ", ".join(row["days"]),
                len(row["session_ids"]),
                row["academic_hours"],
                *attended,
            ],
        )
    by_session = book.create_sheet(_("By session")[:31])
    _append(by_session, [_("Day"), _("Time"), _("Session"), _("Academic hours"), _("Present")])
    for s in sessions:
        times = f"{s['starts_at'][:5]}–{s['ends_at'][:5]}"
        _append(by_session, [s["day"], times, s["title"], s["academic_hours"], s["checked_in"]])
    for sheet in (people, by_session):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet, values: list) -> None:
    sheet.append([xlsx_cell(sheet, value) for value in values])
