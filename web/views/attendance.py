"""The organiser's attendance view: by day, by session and by participant, what offline tablets sent late
and the conflicts among them, bulk marking, the XLSX export."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from eventops import db
from web import reports
from web.auth import organisers
from web.clients import certificates, registration
from web.formatting import event_days
from web.models import StaffAccount

bp = Blueprint("attendance", __name__)

#: what a scan led to, as the organiser's list of offline scans says it
OUTCOMES = {
    "checked_in": _l("checked in"),
    "already_checked_in": _l("already checked in"),
    "unknown_code": _l("unknown code"),
    "cancelled": _l("registration cancelled"),
    "not_on_list": _l("not on the list"),
    "undo": _l("undo"),
}


@bp.get("/events/<int:event_id>/attendance")
@organisers
def index(event_id: int):
    report = reports.attendance(event_id)
    offline = certificates.offline_scans(event_id)
    records = offline["items"] + [r for c in offline["conflicts"] for r in (c["kept"], c["duplicate"])]
    # A fresh nonce per page: the bulk form sent twice (double click, back and again) marks nobody twice.
    return render_template(
        "attendance/index.html",
        **report,
        offline=offline,
        session_titles={s["id"]: s["title"] for s in report["sessions"]},
        staff_names=_staff_names(records),
        outcomes=OUTCOMES,
        nonce=str(uuid.uuid4()),
    )


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


def _staff_names(records: list[dict]) -> dict[str, str]:
    """Full names of the staff who made these scans, by username (one query)."""
    usernames = {r.get("staff") for r in records} - {None}
    if not usernames:
        return {}
    rows = db.session().execute(
        select(StaffAccount.username, StaffAccount.full_name).where(StaffAccount.username.in_(usernames))
    )
    return dict(rows.all())


@bp.app_template_filter("tablet")
def tablet_label(device: str | None) -> str:
    """A tablet's short, stable name («планшет K7QD») from its device id, a random cookie value that means
    nothing to a person; the same tablet always reads the same."""
    if not device:
        return _("unknown device")
    return _("tablet %(code)s", code=tablet_code(device))


def tablet_code(device: str) -> str:
    return base64.b32encode(hashlib.sha256(device.encode()).digest()).decode()[:4]


@bp.app_template_filter("scan_time")
def scan_time(value) -> str:
    """«7 окт. 09:01:05» in the event's time zone: seconds matter when two tablets scanned one person."""
    if not value:
        return ""
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return format_datetime(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), "d MMM HH:mm:ss")
