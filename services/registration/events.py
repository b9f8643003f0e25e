"""Events and their programme: creating and editing them, and keeping every session within the dates."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.registration.errors import N_, Conflict, Invalid, NotFound
from services.registration.models import Event, Participant, ParticipantStatus, ProgrammeSession


def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound("event_not_found", N_("Event not found."))
    return event


def get_session(session: Session, event_id: int, session_id: int) -> ProgrammeSession:
    programme_session = session.get(ProgrammeSession, session_id)
    # The event is part of the lookup: a session of another event is simply not found.
    if programme_session is None or programme_session.event_id != event_id:
        raise NotFound("session_not_found", N_("No such session in this event's programme."))
    return programme_session


def all_events(session: Session) -> list[Event]:
    """Newest first."""
    return list(session.scalars(select(Event).order_by(Event.starts_on.desc(), Event.id)))


def figures(session: Session, event: Event) -> dict[str, int]:
    """How many registered, how many expected (not cancelled), how many academic hours the programme has."""
    count, active = session.execute(
        select(func.count(), func.count().filter(Participant.status != ParticipantStatus.cancelled)).where(
            Participant.event_id == event.id
        )
    ).one()
    hours = session.scalar(
        select(func.coalesce(func.sum(ProgrammeSession.academic_hours), 0)).where(
            ProgrammeSession.event_id == event.id
        )
    )
    return {"participants_count": count, "active_participants_count": active, "academic_hours": hours}


def create_event(session: Session, fields: dict) -> Event:
    event = Event(**fields)
    session.add(event)
    _commit_unless_slug_taken(session)
    return event


def update_event(session: Session, event: Event, changes: dict) -> Event:
    """Changes the fields given; the dates stay in order and keep every session of the programme."""
    starts_on = changes.get("starts_on", event.starts_on)
    ends_on = changes.get("ends_on", event.ends_on)
    if ends_on < starts_on:
        raise Invalid(
            "dates_in_order", N_("The end date must not be before the start date."), field="ends_on"
        )
    days = [programme_session.day for programme_session in event.sessions]
    if days and min(days) < starts_on:
        raise _sessions_outside("starts_on")
    if days and max(days) > ends_on:
        raise _sessions_outside("ends_on")
    for field, value in changes.items():
        setattr(event, field, value)
    _commit_unless_slug_taken(session)
    return event


def _sessions_outside(field: str) -> Invalid:
    return Invalid(
        "sessions_outside",
        N_("Some sessions fall outside the new dates: move or delete them first."),
        field=field,
    )


def _commit_unless_slug_taken(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("taken", N_("This slug is already used by another event."), field="slug") from None


def add_session(session: Session, event: Event, fields: dict) -> ProgrammeSession:
    programme_session = ProgrammeSession(event_id=event.id, **fields)
    _check_fits(event, programme_session)
    session.add(programme_session)
    session.commit()
    return programme_session


def update_session(
    session: Session, event: Event, programme_session: ProgrammeSession, changes: dict
) -> None:
    with session.no_autoflush:  # check the edited session before the database sees it
        for field, value in changes.items():
            setattr(programme_session, field, value)
        try:
            _check_fits(event, programme_session)
        except Invalid:
            session.rollback()
            raise
    session.commit()


def delete_session(session: Session, programme_session: ProgrammeSession) -> None:
    session.delete(programme_session)
    session.commit()


def _check_fits(event: Event, programme_session: ProgrammeSession) -> None:
    if not event.starts_on <= programme_session.day <= event.ends_on:
        raise Invalid("outside_event", N_("The session's day must be within the event's dates."), field="day")
    if programme_session.ends_at <= programme_session.starts_at:
        raise Invalid("times_in_order", N_("The end time must be after the start time."), field="ends_at")
