"""The organiser's attendance view: by day, by session and by participant, bulk marking, the XLSX export."""

from __future__ import annotations

import io
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from web import reports
from web.auth import organisers
from web.clients import certificates, registration
from web.formatting import event_days

bp = Blueprint("attendance", __name__)


@bp.get("/events/<int:event_id>/attendance")
@organisers
def index(event_id: int):
    # A fresh nonce per page: the bulk form sent twice (double click, back and again) marks nobody twice.
    return render_template("attendance/index.html", **reports.attendance(event_id), nonce=str(uuid.uuid4()))


@bp.post("/events/<int:event_id>/attendance/bulk")
@organisers
def bulk(event_id: int):
    target = request.form.get("target", "")
    ids = sorted({int(v) for v in request.form.getlist("participant_ids") if v.isdigit()})
    nonce = (request.form.get("nonce") or "").strip()[:64] or str(uuid.uuid4())
    day, session_id = _target(event_id, target)
    if not ids:
        flash(_("Choose at least one participant."))
        return redirect(url_for("attendance.index", event_id=event_id), 303)
    # Certificates takes the participants as registration describes them, not only their ids.
    chosen = set(ids)
    participants = [
        {key: p[key] for key in ("id", "event_id", "status", "full_name")}
        for p in registration.participants(event_id)
        if p["id"] in chosen
    ]
    result = certificates.mark_present(
        event_id, nonce=nonce, day=day, session_id=session_id, participant_ids=ids, participants=participants
    )
    flash(
        _(
            "Marked present: %(created)d; already marked: %(already)d; not marked (cancelled or unknown): "
            "%(skipped)d.",
            created=result["created"],
            already=result["already"],
            skipped=len(result.get("skipped", [])),
        )
    )
    return redirect(url_for("attendance.index", event_id=event_id), 303)


@bp.get("/events/<int:event_id>/attendance.xlsx")
@organisers
def export(event_id: int):
    report = reports.attendance(event_id)
    return send_file(
        io.BytesIO(reports.attendance_xlsx(report)),
        as_attachment=True,
        download_name=f"attendance-{report['event']['slug']}.xlsx",
        mimetype=reports.XLSX_MIME,
    )


def _target(event_id: int, target: str) -> tuple[str, int | None]:
    """«session:12» or «day:2026-10-07» from the bulk form, checked against the event."""
    kind, _sep, value = target.partition(":")
    if kind == "session" and value.isdigit():
        found = next((s for s in registration.programme(event_id) if s["id"] == int(value)), None)
        if found is not None:
            return found["day"], found["id"]
    if kind == "day" and value in event_days(registration.event(event_id)):
        return value, None
    abort(422)
