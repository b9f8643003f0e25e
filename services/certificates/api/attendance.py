"""Attendance's JSON API: scans at the door and in session rooms, undo, bulk marking, counters, summary."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import format_date
from flask_babel import gettext as _
from spectree import Response

from eventops import db, metrics
from eventops.problems import Problem, invalid, not_found
from services.certificates import attendance, policy, registration_client, schemas
from services.certificates.api import spec
from services.certificates.api.common import registration_down, staff_and_device

bp = Blueprint("attendance_api", __name__, url_prefix="/api/v1")


def check_event_day(event_id: int, day) -> None:
    """A scan or a bulk marking is for one of the event's days: a tablet with a wrong date, or a crafted
    request, is told so instead of filing attendance on a day nobody can see."""
    try:
        if registration_client.day_in_event(event_id, day):
            return
        event = registration_client.fetch_event(event_id)
    except registration_client.EventNotFound:
        raise not_found(_("There is no such event.")) from None
    except registration_client.RegistrationUnavailable as exc:
        raise registration_down(exc) from exc
    raise invalid(
        "day",
        "not_event_day",
        _(
            "%(day)s is not a day of the event, which runs from %(first)s to %(last)s",
            day=format_date(day),
            first=format_date(event.starts_on),
            last=format_date(event.ends_on),
        ),
    )


def session_in_event(event_id: int, session_id: int | None, day) -> bool:
    """Whether the programme session belongs to the event (asked of registration, briefly cached)."""
    if session_id is None:
        return True
    try:
        programme_session = registration_client.find_session(event_id, session_id)
    except registration_client.RegistrationUnavailable as exc:
        raise registration_down(exc) from exc
    if programme_session is not None and programme_session.day != day:
        raise invalid(
            "day",
            "not_session_day",
            _("The session takes place on another day: %(day)s.", day=format_date(programme_session.day)),
        )
    return programme_session is not None


def checkin_out(record, replayed: bool = False) -> schemas.CheckInOut:
    return schemas.CheckInOut.model_validate(record).model_copy(update={"replayed": replayed})


def participant_ref(p: schemas.ParticipantRef | None) -> attendance.ParticipantRef | None:
    return attendance.ParticipantRef(**p.model_dump()) if p else None


@bp.post("/events/<int:event_id>/checkins")
@spec.validate(
    json=schemas.CheckInIn,
    resp=Response(
        HTTP_200=schemas.CheckInOut, HTTP_201=schemas.CheckInOut, HTTP_404=None, HTTP_422=None, HTTP_503=None
    ),
)
def create_checkin(event_id: int, json: schemas.CheckInIn):
    staff, device = staff_and_device()
    check_event_day(event_id, json.day)
    on_list = session_in_event(event_id, json.session_id, json.day)
    scan = attendance.Scan(
        event_id=event_id,
        day=json.day,
        session_id=json.session_id,
        nonce=json.nonce,
        scanned_at=json.scanned_at,
        raw_code=json.raw_code,
        participant=participant_ref(json.participant),
        staff=staff,
        device=device,
        offline=json.offline,
    )
    record, replayed = attendance.record_scan(db.session(), scan, session_in_event=on_list)
    if not replayed:
        metrics.CHECKINS_RECORDED.labels(record.outcome.value).inc()
    return checkin_out(record, replayed), 200 if replayed else 201


_UNDO_REFUSED = {
    "not_a_checkin": lambda: _("Only a check-in can be undone; this record is a failed scan or an undo."),
    "already_undone": lambda: _("This check-in has already been undone."),
    "busy": lambda: _("The check-in could not be undone just now; try again."),
}


@bp.post("/checkins/<int:checkin_id>/undo")
@spec.validate(
    json=schemas.UndoIn,
    resp=Response(HTTP_200=schemas.CheckInOut, HTTP_201=schemas.CheckInOut, HTTP_404=None, HTTP_409=None),
)
def undo_checkin(checkin_id: int, json: schemas.UndoIn):
    staff, device = staff_and_device()
    try:
        record, replayed = attendance.undo_checkin(
            db.session(), checkin_id, json.nonce, json.reason, staff, device
        )
    except attendance.CheckInNotFound:
        raise not_found(_("There is no such check-in.")) from None
    except attendance.UndoRefused as exc:
        raise Problem(
            409, detail=_UNDO_REFUSED[exc.code](), type="urn:eventops:problem:undo-refused"
        ) from None
    except attendance.NonceReused:
        raise invalid(
            "nonce", "reused", _("This request key already belongs to another record."), status=409
        ) from None
    return checkin_out(record, replayed), 200 if replayed else 201


@bp.get("/events/<int:event_id>/checkins")
@spec.validate(query=schemas.CheckInLogQuery, resp=Response(HTTP_200=schemas.CheckInList))
def list_checkins(event_id: int, query: schemas.CheckInLogQuery):
    records = attendance.recent(db.session(), event_id, query.day, query.session_id, query.limit)
    return schemas.CheckInList(items=[checkin_out(r) for r in records])


@bp.get("/events/<int:event_id>/attendance/offline")
@spec.validate(resp=Response(HTTP_200=schemas.OfflineScans))
def offline_scans(event_id: int):
    report = attendance.offline_report(db.session(), event_id)
    conflicts = [
        schemas.CheckInConflict(
            participant_id=c.kept.participant_id,
            full_name=c.kept.full_name,
            day=c.kept.day,
            session_id=c.kept.session_id,
            kept=schemas.PreviousCheckIn.model_validate(c.kept),
            duplicate=schemas.PreviousCheckIn.model_validate(c.duplicate),
        )
        for c in report.conflicts
    ]
    return schemas.OfflineScans(
        items=[checkin_out(r) for r in report.scans], total=report.total, conflicts=conflicts
    )


@bp.get("/events/<int:event_id>/attendance/counters")
@spec.validate(query=schemas.CountersQuery, resp=Response(HTTP_200=schemas.Counters))
def counters(event_id: int, query: schemas.CountersQuery):
    return schemas.Counters(
        checked_in=attendance.count_checked_in(db.session(), event_id, query.day, query.session_id)
    )


@bp.post("/events/<int:event_id>/attendance/bulk")
@spec.validate(
    json=schemas.BulkAttendanceIn,
    resp=Response(HTTP_200=schemas.BulkAttendanceOut, HTTP_404=None, HTTP_422=None, HTTP_503=None),
)
def bulk_attendance(event_id: int, json: schemas.BulkAttendanceIn):
    staff, device = staff_and_device()
    check_event_day(event_id, json.day)
    if not session_in_event(event_id, json.session_id, json.day):
        raise invalid("session_id", "not_in_event", _("This session is not in the event's programme."))
    found = {p.id: p for p in json.participants}
    wanted = list(dict.fromkeys(json.participant_ids))
    eligible = [
        participant_ref(found[pid])
        for pid in wanted
        if pid in found and found[pid].event_id == event_id and found[pid].status != "cancelled"
    ]
    result = attendance.mark_present(
        db.session(), event_id, json.day, json.session_id, eligible, json.nonce, staff, device
    )
    eligible_ids = {p.id for p in eligible}
    skipped = [pid for pid in wanted if pid not in eligible_ids]
    return schemas.BulkAttendanceOut(created=result.created, already=result.already, skipped=skipped)


@bp.get("/events/<int:event_id>/attendance")
@spec.validate(resp=Response(HTTP_200=schemas.Attendance, HTTP_404=None, HTTP_503=None))
def event_attendance(event_id: int):
    try:
        programme = registration_client.fetch_sessions(event_id)
    except registration_client.EventNotFound:
        raise not_found(_("There is no such event.")) from None
    except registration_client.RegistrationUnavailable as exc:
        raise registration_down(exc) from exc
    rules = policy.find(db.session(), event_id)
    summary = attendance.summarise(
        db.session(), event_id, programme, door_counts_sessions=bool(rules and rules.door_counts_sessions)
    )
    sessions = [
        schemas.SessionAttendance(
            id=s.id,
            day=s.day,
            title=s.title,
            academic_hours=s.academic_hours,
            checked_in=summary.per_session.get(s.id, 0),
        )
        for s in sorted(programme.values(), key=lambda s: (s.day, s.id))
    ]
    days = [schemas.DayAttendance(day=day, present=n) for day, n in sorted(summary.per_day.items())]
    participants = [schemas.ParticipantAttendance.model_validate(p) for p in summary.participants]
    return schemas.Attendance(sessions=sessions, days=days, participants=participants)
