"""Attendance: check-ins at the door and in session rooms, their undo, bulk marking and the summary.

Functions take an SQLAlchemy session and plain values; the database's unique constraints (on the nonce, and
on one active check-in per participant, day and session) decide every race, so retries and concurrent
duplicates never create a second record.

Two tablets without a connection can both admit the same person. When their scans arrive, the first to
ARRIVE keeps the check-in and the other is stored as `already_checked_in` pointing at it, with its own
device and scan time. Not the earliest `scanned_at`: a record, once a tablet was told its outcome, is never
rewritten (the tablet that came back first keeps what it showed, and an undo it sends still finds its
check-in), and a tablet's clock is the least trusted clock in the room. For attendance the choice only
changes which record holds the check-in: the person is counted once either way. `offline_report` shows the
organiser both, in the order they were scanned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from services.certificates.models import CheckIn, CheckInOutcome, utcnow

#: how often a write that lost a race is re-decided before giving up (each retry sees the winner)
ATTEMPTS = 4


@dataclass(frozen=True)
class ParticipantRef:
    """What the gateway learnt from registration about the scanned code."""

    id: int
    event_id: int
    status: str
    full_name: str


@dataclass(frozen=True)
class Scan:
    event_id: int
    day: date
    #: None: day-level entry at the door
    session_id: int | None
    nonce: str
    scanned_at: datetime
    raw_code: str | None = None
    #: None: the code is unknown to registration
    participant: ParticipantRef | None = None
    staff: str | None = None
    device: str | None = None
    #: made while the tablet was offline, sent when it came back
    offline: bool = False


class UndoRefused(Exception):
    """The record cannot be undone; `code` says why: not_a_checkin, already_undone or busy."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class NonceReused(Exception):
    """The nonce belongs to a record of another kind: a client bug, never a retry."""


class CheckInNotFound(LookupError):
    pass


def session_key(session_id: int | None) -> int:
    return session_id or 0


def _active():
    return and_(CheckIn.outcome == CheckInOutcome.checked_in, CheckIn.reversed_at.is_(None))


def by_nonce(db: Session, nonce: str) -> CheckIn | None:
    return db.scalar(select(CheckIn).options(joinedload(CheckIn.previous)).where(CheckIn.nonce == nonce))


def _active_for(event_id: int, participant_id: int, day: date, session_id: int | None):
    return and_(
        CheckIn.event_id == event_id,
        CheckIn.participant_id == participant_id,
        CheckIn.day == day,
        CheckIn.session_key == session_key(session_id),
        _active(),
    )


def judge(scan: Scan, session_in_event: bool) -> CheckInOutcome:
    """The outcome of a scan before looking at earlier check-ins."""
    participant = scan.participant
    if participant is None:
        return CheckInOutcome.unknown_code
    if participant.event_id != scan.event_id or not session_in_event:
        return CheckInOutcome.not_on_list
    if participant.status == "cancelled":
        return CheckInOutcome.cancelled
    return CheckInOutcome.checked_in


def record_scan(db: Session, scan: Scan, session_in_event: bool = True) -> tuple[CheckIn, bool]:
    """Store the scan with its outcome; returns (record, replayed). A known nonce returns its record."""
    outcome = judge(scan, session_in_event)
    participant = scan.participant
    for _ in range(ATTEMPTS):
        # One query finds both a replay (same nonce) and an earlier active check-in of the person.
        found = [CheckIn.nonce == scan.nonce]
        if outcome is CheckInOutcome.checked_in:
            found.append(_active_for(scan.event_id, participant.id, scan.day, scan.session_id))
        known = db.scalars(select(CheckIn).where(or_(*found))).all()
        replay = next((r for r in known if r.nonce == scan.nonce), None)
        if replay is not None:
            return replay, True
        record = CheckIn(
            event_id=scan.event_id,
            participant_id=participant.id if participant else None,
            day=scan.day,
            session_id=scan.session_id,
            session_key=session_key(scan.session_id),
            outcome=outcome,
            raw_code=scan.raw_code,
            full_name=participant.full_name if participant else None,
            scanned_at=scan.scanned_at,
            received_at=utcnow(),
            staff=scan.staff,
            device=scan.device,
            offline=scan.offline,
            nonce=scan.nonce,
        )
        if known:
            record.outcome, record.previous = CheckInOutcome.already_checked_in, known[0]
        db.add(record)
        try:
            db.commit()
            return record, False
        except IntegrityError:
            # Lost a race: to the same nonce (a retry) or to another check-in of the same person.
            db.rollback()
    raise RuntimeError(f"could not store scan {scan.nonce} after {ATTEMPTS} attempts")


def undo_checkin(
    db: Session, checkin_id: int, nonce: str, reason: str | None, staff: str | None, device: str | None
) -> tuple[CheckIn, bool]:
    """Reverse a check-in: mark the original and log an `undo` record; returns (undo record, replayed)."""
    for _ in range(ATTEMPTS):
        existing = _undo_replay(db, nonce, checkin_id)
        if existing is not None:
            return existing, True
        original = db.get(CheckIn, checkin_id)
        if original is None:
            raise CheckInNotFound(checkin_id)
        if original.outcome is not CheckInOutcome.checked_in:
            raise UndoRefused("not_a_checkin", f"record {checkin_id} is {original.outcome.value}")
        now = utcnow()
        # Conditional update: of two concurrent undos only one finds the check-in still active.
        marked = db.execute(
            update(CheckIn)
            .where(CheckIn.id == checkin_id, _active())
            .values(reversed_at=now, reversed_by=staff)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:
            db.rollback()
            existing = _undo_replay(db, nonce, checkin_id)
            if existing is not None:
                return existing, True
            raise UndoRefused("already_undone", f"check-in {checkin_id} was undone already")
        undo = CheckIn(
            event_id=original.event_id,
            participant_id=original.participant_id,
            day=original.day,
            session_id=original.session_id,
            session_key=original.session_key,
            outcome=CheckInOutcome.undo,
            full_name=original.full_name,
            scanned_at=now,
            received_at=now,
            staff=staff,
            device=device,
            nonce=nonce,
            reverses_id=original.id,
            reason=reason,
        )
        db.add(undo)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            continue
        return undo, False
    raise UndoRefused("busy", f"check-in {checkin_id} could not be undone")


def _undo_replay(db: Session, nonce: str, checkin_id: int) -> CheckIn | None:
    existing = by_nonce(db, nonce)
    if existing is None:
        return None
    if existing.outcome is not CheckInOutcome.undo or existing.reverses_id != checkin_id:
        raise NonceReused(nonce)
    return existing


def recent(
    db: Session, event_id: int, day: date | None, session_id: int | None, limit: int = 20
) -> list[CheckIn]:
    """The newest records of a door (session_id None) or a session, all outcomes, for the screen's log."""
    query = (
        select(CheckIn)
        .options(joinedload(CheckIn.previous))
        .where(CheckIn.event_id == event_id, CheckIn.session_key == session_key(session_id))
    )
    if day is not None:
        query = query.where(CheckIn.day == day)
    return list(db.scalars(query.order_by(CheckIn.id.desc()).limit(limit)))


#: two tablets admitting one person this close together (by their clocks) is reported even when both were
#: online: each person at the door believed they had just let the participant in
CONFLICT_WINDOW = timedelta(minutes=2)
#: offline scans the organiser's page lists (the newest arrivals); the total is counted in full
OFFLINE_LIMIT = 200


@dataclass(frozen=True)
class Conflict:
    """One participant admitted by two tablets for the same day and place: `kept` holds the check-in,
    `duplicate` was stored as already_checked_in."""

    kept: CheckIn
    duplicate: CheckIn


@dataclass(frozen=True)
class OfflineReport:
    #: scans sent late by offline tablets, the newest arrivals first
    scans: list[CheckIn]
    #: how many there are in all (`scans` stops at its limit)
    total: int
    conflicts: list[Conflict]


def offline_report(
    db: Session, event_id: int, limit: int = OFFLINE_LIMIT, window: timedelta = CONFLICT_WINDOW
) -> OfflineReport:
    """What arrived late from offline tablets, and every participant two tablets both admitted."""
    offline = and_(CheckIn.event_id == event_id, CheckIn.offline.is_(True))
    scans = list(
        db.scalars(
            select(CheckIn)
            .options(joinedload(CheckIn.previous))
            .where(offline)
            .order_by(CheckIn.received_at.desc(), CheckIn.id.desc())
            .limit(limit)
        )
    )
    total = db.scalar(select(func.count()).select_from(CheckIn).where(offline))
    return OfflineReport(scans, total, conflicts(db, event_id, window))


def conflicts(db: Session, event_id: int, window: timedelta = CONFLICT_WINDOW) -> list[Conflict]:
    """Duplicates a tablet could not have known about: scanned offline, or on another tablet within
    `window` of the kept check-in. A duplicate on the tablet that holds the check-in is not one (that tablet
    knew), nor is a later online scan (that tablet was told «already checked in» at once)."""
    kept = aliased(CheckIn)
    rows = db.execute(
        select(CheckIn, kept)
        .join(kept, CheckIn.previous_id == kept.id)
        .where(
            CheckIn.event_id == event_id,
            CheckIn.outcome == CheckInOutcome.already_checked_in,
            CheckIn.device.is_distinct_from(kept.device),
        )
        .order_by(CheckIn.day, CheckIn.session_key, CheckIn.participant_id, CheckIn.id)
    ).all()
    return [
        Conflict(kept=original, duplicate=duplicate)
        for duplicate, original in rows
        if duplicate.offline or abs(_utc(duplicate.scanned_at) - _utc(original.scanned_at)) <= window
    ]


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def count_checked_in(db: Session, event_id: int, day: date, session_id: int | None) -> int:
    return db.scalar(
        select(func.count())
        .select_from(CheckIn)
        .where(
            CheckIn.event_id == event_id,
            CheckIn.day == day,
            CheckIn.session_key == session_key(session_id),
            _active(),
        )
    )


@dataclass
class BulkResult:
    created: int = 0
    already: int = 0


def item_nonce(nonce: str, participant_id: int) -> str:
    """Each participant's record in a bulk request gets its own nonce, so a retried request is safe."""
    return f"{nonce}:{participant_id}"


def mark_present(
    db: Session,
    event_id: int,
    day: date,
    session_id: int | None,
    participants: list[ParticipantRef],
    nonce: str,
    staff: str | None,
    device: str | None,
) -> BulkResult:
    """Check in everyone listed (an organiser's list for a room where nobody scanned)."""
    result = BulkResult()
    by_id = {p.id: p for p in participants}
    nonces = {item_nonce(nonce, pid): pid for pid in by_id}
    done = set(db.scalars(select(CheckIn.participant_id).where(CheckIn.nonce.in_(list(nonces)))))
    active = set(
        db.scalars(
            select(CheckIn.participant_id).where(
                CheckIn.event_id == event_id,
                CheckIn.day == day,
                CheckIn.session_key == session_key(session_id),
                CheckIn.participant_id.in_(list(by_id)),
                _active(),
            )
        )
    )
    now = utcnow()

    def new_record(p: ParticipantRef) -> CheckIn:
        return CheckIn(
            event_id=event_id,
            participant_id=p.id,
            day=day,
            session_id=session_id,
            session_key=session_key(session_id),
            outcome=CheckInOutcome.checked_in,
            full_name=p.full_name,
            scanned_at=now,
            received_at=now,
            staff=staff,
            device=device,
            nonce=item_nonce(nonce, p.id),
        )

    todo = [p for pid, p in by_id.items() if pid not in done and pid not in active]
    result.already = len(by_id) - len(todo)
    db.add_all([new_record(p) for p in todo])
    try:
        db.commit()
        result.created = len(todo)
        return result
    except IntegrityError:
        db.rollback()
    # Someone checked some of them in meanwhile: go one by one, each insert deciding its own race.
    for p in todo:
        db.add(new_record(p))
        try:
            db.commit()
            result.created += 1
        except IntegrityError:
            db.rollback()
            result.already += 1
    return result


class ProgrammeSessionLike(Protocol):
    id: int
    day: date
    academic_hours: int


@dataclass(frozen=True)
class Attended:
    """What one participant attended, by the event's rules."""

    academic_hours: int
    #: programme days they were present on (at the door or in any session)
    days: tuple[date, ...]


def attended(
    db: Session,
    event_id: int,
    programme: Mapping[int, ProgrammeSessionLike],
    door_counts_sessions: bool = False,
    participant_id: int | None = None,
) -> dict[int, Attended]:
    """Academic hours and days present per participant, in one aggregate query.

    Hours are those of the sessions checked in to; with `door_counts_sessions`, a day's entry at the door
    counts every session of that day (never twice). Days are the programme's days with any check-in.
    """
    hours_by_session = {s.id: s.academic_hours for s in programme.values()}
    hours_by_day: dict[date, int] = {}
    for s in programme.values():
        hours_by_day[s.day] = hours_by_day.get(s.day, 0) + s.academic_hours
    days = sorted(hours_by_day)
    where = [CheckIn.event_id == event_id, CheckIn.participant_id.is_not(None), _active()]
    if participant_id is not None:
        where.append(CheckIn.participant_id == participant_id)
    session_hours = (
        case(hours_by_session, value=CheckIn.session_id, else_=0) if hours_by_session else literal(0)
    )
    if not (door_counts_sessions and hours_by_day):
        # Hours are the sessions' own: one pass over the check-ins, no per-day step.
        present = [func.max(case((CheckIn.day == day, 1), else_=0)) for day in days]
        query = select(CheckIn.participant_id, func.sum(session_hours), *present).where(*where)
        rows = db.execute(query.group_by(CheckIn.participant_id))
    else:
        per_day = (
            select(
                CheckIn.participant_id.label("participant_id"),
                CheckIn.day.label("day"),
                func.max(case((CheckIn.session_id.is_(None), 1), else_=0)).label("door"),
                func.sum(session_hours).label("hours"),
            )
            .where(*where)
            .group_by(CheckIn.participant_id, CheckIn.day)
            .subquery()
        )
        # A day with a door entry counts all its sessions; otherwise those checked in to.
        whole_day = case(hours_by_day, value=per_day.c.day, else_=0)
        day_hours = case((per_day.c.door == 1, whole_day), else_=per_day.c.hours)
        present = [func.max(case((per_day.c.day == day, 1), else_=0)) for day in days]
        query = select(per_day.c.participant_id, func.sum(day_hours), *present)
        rows = db.execute(query.group_by(per_day.c.participant_id))
    return {
        row[0]: Attended(
            int(row[1] or 0), tuple(day for day, flag in zip(days, row[2:], strict=True) if flag)
        )
        for row in rows
    }


@dataclass(frozen=True)
class ParticipantCheckIns:
    """One participant's active check-ins: sessions attended in person, and days entered at the door."""

    session_ids: frozenset[int]
    door_days: frozenset[date]
    days: frozenset[date]


def participant_checkins(db: Session, event_id: int, participant_id: int) -> ParticipantCheckIns:
    rows = db.execute(
        select(CheckIn.session_id, CheckIn.day).where(
            CheckIn.event_id == event_id, CheckIn.participant_id == participant_id, _active()
        )
    ).all()
    return ParticipantCheckIns(
        session_ids=frozenset(sid for sid, _day in rows if sid is not None),
        door_days=frozenset(day for sid, day in rows if sid is None),
        days=frozenset(day for _sid, day in rows),
    )


@dataclass
class ParticipantAttendance:
    participant_id: int
    full_name: str | None
    academic_hours: int
    session_ids: list[int] = field(default_factory=list)
    days: list[date] = field(default_factory=list)


@dataclass
class AttendanceSummary:
    participants: list[ParticipantAttendance]
    #: active check-ins per session id
    per_session: dict[int, int]
    #: participants present per day (at the door or in any session)
    per_day: dict[date, int]


def summarise(
    db: Session,
    event_id: int,
    programme: Mapping[int, ProgrammeSessionLike],
    door_counts_sessions: bool = False,
) -> AttendanceSummary:
    """Per participant: sessions attended, days present and academic hours, aggregated by the database.

    With `door_counts_sessions` a day's door entry counts that day's sessions, in hours and in the lists.
    """
    active = and_(CheckIn.event_id == event_id, CheckIn.participant_id.is_not(None), _active())
    hours = attended(db, event_id, programme, door_counts_sessions)
    names = db.execute(
        select(CheckIn.participant_id, func.max(CheckIn.full_name))
        .where(active)
        .group_by(CheckIn.participant_id)
        .order_by(CheckIn.participant_id)
    ).all()
    people = {
        pid: ParticipantAttendance(pid, name, hours[pid].academic_hours if pid in hours else 0)
        for pid, name in names
    }
    sessions_by_day: dict[date, list[int]] = {}
    for s in sorted(programme.values(), key=lambda s: s.id):
        sessions_by_day.setdefault(s.day, []).append(s.id)
    attended_sessions: dict[int, set[int]] = {pid: set() for pid in people}
    for pid, session_id in db.execute(
        select(CheckIn.participant_id, CheckIn.session_id)
        .where(active, CheckIn.session_id.is_not(None))
        .group_by(CheckIn.participant_id, CheckIn.session_id)
    ):
        attended_sessions[pid].add(session_id)
    for pid, day, door in db.execute(
        select(
            CheckIn.participant_id, CheckIn.day, func.max(case((CheckIn.session_id.is_(None), 1), else_=0))
        )
        .where(active)
        .group_by(CheckIn.participant_id, CheckIn.day)
        .order_by(CheckIn.participant_id, CheckIn.day)
    ):
        people[pid].days.append(day)
        if door and door_counts_sessions:
            attended_sessions[pid].update(sessions_by_day.get(day, ()))
    for pid, session_ids in attended_sessions.items():
        people[pid].session_ids = sorted(session_ids)
    per_session = dict(
        db.execute(
            select(CheckIn.session_id, func.count())
            .where(active, CheckIn.session_id.is_not(None))
            .group_by(CheckIn.session_id)
        ).all()
    )
    per_day = dict(
        db.execute(
            select(CheckIn.day, func.count(CheckIn.participant_id.distinct()))
            .where(active)
            .group_by(CheckIn.day)
        ).all()
    )
    return AttendanceSummary(list(people.values()), per_session, per_day)
