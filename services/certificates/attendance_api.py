"""Attendance's JSON API: scans at the door and in session rooms, undo, bulk marking, counters, summary."""
from __future__ import annotations

from flask import Blueprint, g
from spectree import Response

from eventops import db
from eventops.problems import Problem
from services.certificates import attendance, registration_client, schemas
from services.certificates.api import spec

attendance_api = Blueprint("attendance_api", __name__, url_prefix="/api/v1")


def staff_and_device() -> tuple[str | None, str | None]:
    staff, device = g.get("staff_user"), g.get("device")
    return (staff[:200] if staff else None), (device[:200] if device else None)


def registration_down(exc: Exception) -> Problem:
    return Problem(503, "Service Unavailable", f"The registration service is unreachable ({exc}).",
                   type="urn:eventops:problem:registration-unavailable")


def session_in_event(event_id: int, session_id: int | None, day) -> bool:
    """Whether the programme session belongs to the event (asked of registration, briefly cached)."""
    if session_id is None:
        return True
    try:
        programme_session = registration_client.find_session(event_id, session_id)
    except registration_client.RegistrationUnavailable as exc:
        raise registration_down(exc)
    if programme_session is not None and programme_session.day != day:
        raise Problem(422, "Unprocessable Content", f"Session {session_id} is on {programme_session.day}.",
                      errors=[{"field": "day", "code": "not_session_day",
                               "message": "the session takes place on another day"}])
    return programme_session is not None


def checkin_out(record, replayed: bool = False) -> schemas.CheckInOut:
    return schemas.CheckInOut.model_validate(record).model_copy(update={"replayed": replayed})


def participant_ref(p: schemas.ParticipantRef | None) -> attendance.ParticipantRef | None:
    return attendance.ParticipantRef(**p.model_dump()) if p else None


@attendance_api.post("/events/<int:event_id>/checkins")
@spec.validate(json=schemas.CheckInIn,
               resp=Response(HTTP_200=schemas.CheckInOut, HTTP_201=schemas.CheckInOut, HTTP_503=None))
def create_checkin(event_id: int, json: schemas.CheckInIn):
    staff, device = staff_and_device()
    on_list = session_in_event(event_id, json.session_id, json.day)
    scan = attendance.Scan(event_id=event_id, day=json.day, session_id=json.session_id, nonce=json.nonce,
                           scanned_at=json.scanned_at, raw_code=json.raw_code,
                           participant=participant_ref(json.participant), staff=staff, device=device)
    record, replayed = attendance.record_scan(db.session(), scan, session_in_event=on_list)
    return checkin_out(record, replayed), 200 if replayed else 201


@attendance_api.post("/checkins/<int:checkin_id>/undo")
@spec.validate(json=schemas.UndoIn, resp=Response(HTTP_200=schemas.CheckInOut, HTTP_201=schemas.CheckInOut,
                                                  HTTP_404=None, HTTP_409=None))
def undo_checkin(checkin_id: int, json: schemas.UndoIn):
    staff, device = staff_and_device()
    try:
        record, replayed = attendance.undo_checkin(db.session(), checkin_id, json.nonce, json.reason,
                                                   staff, device)
    except attendance.CheckInNotFound:
        raise Problem(404, "Not Found", f"No check-in {checkin_id}.")
    except attendance.UndoRefused as exc:
        raise Problem(409, "Conflict", str(exc), type="urn:eventops:problem:undo-refused")
    except attendance.NonceReused:
        raise Problem(409, "Conflict", "This nonce already belongs to another record.",
                      errors=[{"field": "nonce", "code": "reused", "message": "nonce already used"}])
    return checkin_out(record, replayed), 200 if replayed else 201


@attendance_api.get("/events/<int:event_id>/checkins")
@spec.validate(query=schemas.CheckInLogQuery, resp=Response(HTTP_200=schemas.CheckInList))
def list_checkins(event_id: int, query: schemas.CheckInLogQuery):
    records = attendance.recent(db.session(), event_id, query.day, query.session_id, query.limit)
    return schemas.CheckInList(items=[checkin_out(r) for r in records])


@attendance_api.get("/events/<int:event_id>/attendance/counters")
@spec.validate(query=schemas.CountersQuery, resp=Response(HTTP_200=schemas.Counters))
def counters(event_id: int, query: schemas.CountersQuery):
    return schemas.Counters(
        checked_in=attendance.count_checked_in(db.session(), event_id, query.day, query.session_id))


@attendance_api.post("/events/<int:event_id>/attendance/bulk")
@spec.validate(json=schemas.BulkAttendanceIn,
               resp=Response(HTTP_200=schemas.BulkAttendanceOut, HTTP_422=None, HTTP_503=None))
def bulk_attendance(event_id: int, json: schemas.BulkAttendanceIn):
    staff, device = staff_and_device()
    if not session_in_event(event_id, json.session_id, json.day):
        raise Problem(422, "Unprocessable Content", f"Session {json.session_id} is not in event {event_id}.",
                      errors=[{"field": "session_id", "code": "not_in_event", "message": "unknown session"}])
    found = {p.id: p for p in json.participants}
    eligible = [participant_ref(found[pid]) for pid in dict.fromkeys(json.participant_ids)
                if pid in found and found[pid].event_id == event_id and found[pid].status != "cancelled"]
    result = attendance.mark_present(db.session(), event_id, json.day, json.session_id, eligible,
                                     json.nonce, staff, device)
    eligible_ids = {p.id for p in eligible}
    skipped = [pid for pid in dict.fromkeys(json.participant_ids) if pid not in eligible_ids]
    return schemas.BulkAttendanceOut(created=result.created, already=result.already, skipped=skipped)


@attendance_api.get("/events/<int:event_id>/attendance")
@spec.validate(resp=Response(HTTP_200=schemas.Attendance, HTTP_404=None, HTTP_503=None))
def event_attendance(event_id: int):
    try:
        programme = registration_client.fetch_sessions(event_id)
    except registration_client.EventNotFound:
        raise Problem(404, "Not Found", f"Registration knows no event {event_id}.")
    except registration_client.RegistrationUnavailable as exc:
        raise registration_down(exc)
    summary = attendance.summarise(db.session(), event_id,
                                   {s.id: s.academic_hours for s in programme.values()})
    sessions = [schemas.SessionAttendance(id=s.id, day=s.day, title=s.title, academic_hours=s.academic_hours,
                                          checked_in=summary.per_session.get(s.id, 0))
                for s in sorted(programme.values(), key=lambda s: (s.day, s.id))]
    days = [schemas.DayAttendance(day=day, present=n) for day, n in sorted(summary.per_day.items())]
    participants = [schemas.ParticipantAttendance.model_validate(p) for p in summary.participants]
    return schemas.Attendance(sessions=sessions, days=days, participants=participants)
