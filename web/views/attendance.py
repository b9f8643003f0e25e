"""The organiser's attendance view: by participant and by session, bulk marking, and the XLSX export."""
from __future__ import annotations

import io
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from eventops.spreadsheets import neutralise
from web.auth import organisers
from web.clients import client
from web.views.checkin import event_days

bp = Blueprint("attendance", __name__)

@bp.get("/events/<int:event_id>/attendance")
@organisers
def index(event_id: int):
    report = _report(event_id)
    return render_template("attendance/index.html", **report, nonce=str(uuid.uuid4()))


@bp.post("/events/<int:event_id>/attendance/bulk")
@organisers
def bulk(event_id: int):
    target = request.form.get("target", "")
    ids = sorted({int(v) for v in request.form.getlist("participant_ids") if v.isdigit()})
    nonce = (request.form.get("nonce") or "").strip()[:64] or str(uuid.uuid4())
    registration = client("registration")
    day, session_id = _target(event_id, target, registration)
    if not ids:
        flash(_("Choose at least one participant."))
        return redirect(url_for("attendance.index", event_id=event_id), 303)
    chosen = set(ids)
    participants = [{"id": p["id"], "event_id": p["event_id"], "status": p["status"], "full_name": p["full_name"]}
                    for p in registration.get(f"/api/v1/events/{event_id}/participants")["items"]
                    if p["id"] in chosen]
    result = client("certificates").post(f"/api/v1/events/{event_id}/attendance/bulk", json={
        "nonce": nonce, "day": day, "session_id": session_id, "participant_ids": ids,
        "participants": participants})
    flash(_("Marked present: %(created)d; already marked: %(already)d; not marked (cancelled or unknown): "
            "%(skipped)d.", created=result["created"], already=result["already"],
            skipped=len(result.get("skipped", []))))
    return redirect(url_for("attendance.index", event_id=event_id), 303)


@bp.get("/events/<int:event_id>/attendance.xlsx")
@organisers
def export(event_id: int):
    report = _report(event_id)
    return send_file(io.BytesIO(_workbook(report)), as_attachment=True,
                     download_name=f"attendance-{report['event']['slug']}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _report(event_id: int) -> dict:
    """Registration's participants joined with certificates' attendance, sorted as registration lists them."""
    registration = client("registration")
    event = registration.get(f"/api/v1/events/{event_id}")
    sessions = registration.get(f"/api/v1/events/{event_id}/sessions")["items"]
    participants = registration.get(f"/api/v1/events/{event_id}/participants")["items"]
    attendance = client("certificates").get(f"/api/v1/events/{event_id}/attendance")
    by_participant = {a["participant_id"]: a for a in attendance["participants"]}
    checked_in = {s["id"]: s["checked_in"] for s in attendance["sessions"]}
    rows = []
    for p in participants:
        a = by_participant.get(p["id"], {})
        rows.append({"participant": p, "session_ids": set(a.get("session_ids", [])),
                     "days": sorted(a.get("days", [])), "academic_hours": a.get("academic_hours", 0)})
    return {"event": event, "sessions": [dict(s, checked_in=checked_in.get(s["id"], 0)) for s in sessions],
            "days": attendance.get("days", []), "rows": rows,
            "event_days": event_days(event)}


def _target(event_id: int, target: str, registration) -> tuple[str, int | None]:
    """«session:12» or «day:2026-10-07» from the bulk form, checked against the event."""
    kind, _sep, value = target.partition(":")
    if kind == "session" and value.isdigit():
        programme_session = registration.get(f"/api/v1/events/{event_id}/sessions")["items"]
        found = next((s for s in programme_session if s["id"] == int(value)), None)
        if found is not None:
            return found["day"], found["id"]
    if kind == "day":
        event = registration.get(f"/api/v1/events/{event_id}")
        if value in event_days(event):
            return value, None
    abort(422)


def _workbook(report: dict) -> bytes:
    book = Workbook()
    people = book.active
    people.title = _("By participant")[:31]
    sessions = report["sessions"]
    header = [_("Full name"), _("Organisation"), _("Status"), _("Days present"), _("Sessions attended"),
              _("Academic hours")] + [f"{s['day']} {s['starts_at'][:5]} {s['title']}" for s in sessions]
    people.append([neutralise(h) for h in header])
    for row in report["rows"]:
        p = row["participant"]
        people.append([neutralise(v) for v in (
            p["full_name"], p.get("organisation") or "", p["status"], ", ".join(row["days"]),
            len(row["session_ids"]), row["academic_hours"],
            *(1 if s["id"] in row["session_ids"] else None for s in sessions))])
    by_session = book.create_sheet(_("By session")[:31])
    by_session.append([_("Day"), _("Time"), _("Session"), _("Academic hours"), _("Present")])
    for s in sessions:
        by_session.append([neutralise(v) for v in (s["day"], f"{s['starts_at'][:5]}–{s['ends_at'][:5]}",
                                                    s["title"], s["academic_hours"], s["checked_in"])])
    for sheet in (people, by_session):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
