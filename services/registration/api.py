"""Registration's JSON API: events, their programme and participants."""
from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from eventops import db
from eventops.openapi import make_spec
from eventops.problems import Problem
from services.registration import schemas
from services.registration.models import Event, Participant, ProgrammeSession, new_participant_code
from services.registration.participants import apply_participant_fields

spec = make_spec("EventOps registration")
api = Blueprint("registration_api", __name__, url_prefix="/api/v1")


def get_event(event_id: int) -> Event:
    event = db.session().get(Event, event_id)
    if event is None:
        raise Problem(404, "Not Found", f"No event {event_id}.")
    return event


def event_out(event: Event) -> schemas.EventOut:
    session = db.session()
    count = session.scalar(select(func.count()).where(Participant.event_id == event.id))
    hours = session.scalar(select(func.coalesce(func.sum(ProgrammeSession.academic_hours), 0))
                           .where(ProgrammeSession.event_id == event.id))
    return schemas.EventOut.model_validate(event).model_copy(
        update={"participants_count": count, "academic_hours": hours})


@api.get("/events")
@spec.validate(resp=Response(HTTP_200=schemas.EventList))
def list_events():
    events = db.session().scalars(select(Event).order_by(Event.starts_on.desc(), Event.id)).all()
    return schemas.EventList(items=[event_out(event) for event in events])


@api.post("/events")
@spec.validate(json=schemas.EventIn, resp=Response(HTTP_201=schemas.EventOut, HTTP_409=None))
def create_event(json: schemas.EventIn):
    session = db.session()
    event = Event(**json.model_dump())
    session.add(event)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Problem(409, "Conflict", f"An event with slug «{json.slug}» exists.",
                      errors=[{"field": "slug", "code": "taken", "message": "slug is taken"}])
    return event_out(event), 201


@api.get("/events/<int:event_id>")
@spec.validate(resp=Response(HTTP_200=schemas.EventOut, HTTP_404=None))
def read_event(event_id: int):
    return event_out(get_event(event_id))


@api.get("/events/<int:event_id>/sessions")
@spec.validate(resp=Response(HTTP_200=schemas.SessionList, HTTP_404=None))
def list_sessions(event_id: int):
    event = get_event(event_id)
    return schemas.SessionList(items=[schemas.SessionOut.model_validate(s) for s in event.sessions])


@api.post("/events/<int:event_id>/sessions")
@spec.validate(json=schemas.SessionIn, resp=Response(HTTP_201=schemas.SessionOut, HTTP_404=None))
def create_session(event_id: int, json: schemas.SessionIn):
    event = get_event(event_id)
    if not event.starts_on <= json.day <= event.ends_on:
        raise Problem(422, "Unprocessable Content", "The session's day is outside the event's dates.",
                      errors=[{"field": "day", "code": "outside_event", "message": "day outside event"}])
    programme_session = ProgrammeSession(event_id=event.id, **json.model_dump())
    db.session().add(programme_session)
    db.session().commit()
    return schemas.SessionOut.model_validate(programme_session), 201


@api.get("/events/<int:event_id>/participants")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantList, HTTP_404=None))
def list_participants(event_id: int):
    get_event(event_id)
    participants = db.session().scalars(
        select(Participant).where(Participant.event_id == event_id)
        .order_by(Participant.surname_key, Participant.first_name, Participant.id)).all()
    items = [schemas.ParticipantOut.model_validate(p) for p in participants]
    return schemas.ParticipantList(items=items, total=len(items))


@api.post("/events/<int:event_id>/participants")
@spec.validate(json=schemas.ParticipantIn,
               resp=Response(HTTP_201=schemas.ParticipantPrivateOut, HTTP_404=None, HTTP_409=None))
def create_participant(event_id: int, json: schemas.ParticipantIn):
    get_event(event_id)
    session = db.session()
    participant = Participant(event_id=event_id, code=new_participant_code())
    apply_participant_fields(participant, json)
    session.add(participant)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Problem(409, "Conflict", "A participant with this e-mail is already registered.",
                      errors=[{"field": "email", "code": "duplicate", "message": "e-mail already registered"}])
    return schemas.ParticipantPrivateOut.model_validate(participant), 201


@api.get("/events/<int:event_id>/participants/<int:participant_id>")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantPrivateOut, HTTP_404=None))
def read_participant(event_id: int, participant_id: int):
    participant = db.session().get(Participant, participant_id)
    # The event is part of the lookup: an id from another event is simply not found.
    if participant is None or participant.event_id != event_id:
        raise Problem(404, "Not Found", f"No participant {participant_id} in event {event_id}.")
    return schemas.ParticipantPrivateOut.model_validate(participant)
