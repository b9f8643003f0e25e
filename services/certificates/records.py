"""A participant's own record: their days and sessions (with the event's door rule), hours, eligibility
and current document — what their personal page shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy.orm import Session

from services.certificates import attendance, eligibility
from services.certificates.models import CertificatePolicy
from services.certificates.registration_client import Participant, ProgrammeSession


@dataclass(frozen=True)
class SessionAttended:
    session: ProgrammeSession
    #: checked in to the session, or (with the door rule) at the door that day
    attended: bool


@dataclass(frozen=True)
class Day:
    day: date
    present: bool
    at_door: bool
    sessions: list[SessionAttended]


@dataclass(frozen=True)
class Record:
    days: list[Day]
    attended_hours: int
    programme_hours: int
    #: None until the event has a policy
    decision: eligibility.Decision | None
    document: eligibility.DocumentState | None


def participant_record(
    db: Session,
    event_id: int,
    person: Participant,
    programme: Mapping[int, ProgrammeSession],
    policy: CertificatePolicy | None,
) -> Record:
    checkins = attendance.participant_checkins(db, event_id, person.id)
    door_rule = bool(policy and policy.door_counts_sessions)
    days = []
    for day in eligibility.programme_days(programme):
        at_door = day in checkins.door_days
        sessions = sorted(
            (s for s in programme.values() if s.day == day), key=lambda s: (s.starts_at or time.min, s.id)
        )
        days.append(
            Day(
                day=day,
                present=day in checkins.days,
                at_door=at_door,
                sessions=[
                    SessionAttended(s, s.id in checkins.session_ids or (door_rule and at_door))
                    for s in sessions
                ],
            )
        )
    attended_hours = sum(s.session.academic_hours for d in days for s in d.sessions if s.attended)
    decision = eligibility.evaluate_one(db, policy, programme, person) if policy else None
    document = eligibility.current_documents(db, event_id, person.id).get(person.id)
    programme_hours = policy.academic_hours if policy else sum(s.academic_hours for s in programme.values())
    return Record(days, attended_hours, programme_hours, decision, document)
