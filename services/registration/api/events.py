"""Events and their programme (sessions with day, time, type and academic hours)."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response

from eventops import db
from services.registration import events, schemas
from services.registration.api import spec

bp = Blueprint("registration_events", __name__, url_prefix="/api/v1")


def event_out(event) -> schemas.EventOut:
    return schemas.EventOut.of(event, events.figures(db.session(), event))


@bp.get("/events")
@spec.validate(resp=Response(HTTP_200=schemas.EventList))
def list_events():
    return schemas.EventList(items=[event_out(event) for event in events.all_events(db.session())])


@bp.post("/events")
@spec.validate(json=schemas.EventIn, resp=Response(HTTP_201=schemas.EventOut, HTTP_409=None))
def create_event(json: schemas.EventIn):
    return event_out(events.create_event(db.session(), json.model_dump())), 201


@bp.get("/events/<int:event_id>")
@spec.validate(resp=Response(HTTP_200=schemas.EventOut, HTTP_404=None))
def read_event(event_id: int):
    return event_out(events.get_event(db.session(), event_id))


@bp.patch("/events/<int:event_id>")
@spec.validate(
    json=schemas.EventPatch,
    resp=Response(HTTP_200=schemas.EventOut, HTTP_404=None, HTTP_409=None, HTTP_422=None),
)
def update_event(event_id: int, json: schemas.EventPatch):
    session = db.session()
    event = events.get_event(session, event_id)
    return event_out(events.update_event(session, event, json.model_dump(exclude_unset=True)))


# --- programme -----------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/sessions")
@spec.validate(resp=Response(HTTP_200=schemas.SessionList, HTTP_404=None))
def list_sessions(event_id: int):
    event = events.get_event(db.session(), event_id)
    return schemas.SessionList(items=[schemas.SessionOut.model_validate(s) for s in event.sessions])


@bp.post("/events/<int:event_id>/sessions")
@spec.validate(
    json=schemas.SessionIn, resp=Response(HTTP_201=schemas.SessionOut, HTTP_404=None, HTTP_422=None)
)
def create_session(event_id: int, json: schemas.SessionIn):
    session = db.session()
    event = events.get_event(session, event_id)
    return schemas.SessionOut.model_validate(events.add_session(session, event, json.model_dump())), 201


@bp.patch("/events/<int:event_id>/sessions/<int:session_id>")
@spec.validate(
    json=schemas.SessionPatch, resp=Response(HTTP_200=schemas.SessionOut, HTTP_404=None, HTTP_422=None)
)
def update_session(event_id: int, session_id: int, json: schemas.SessionPatch):
    session = db.session()
    event = events.get_event(session, event_id)
    programme_session = events.get_session(session, event_id, session_id)
    events.update_session(session, event, programme_session, json.model_dump(exclude_unset=True))
    return schemas.SessionOut.model_validate(programme_session)


@bp.delete("/events/<int:event_id>/sessions/<int:session_id>")
@spec.validate(resp=Response(HTTP_204=None, HTTP_404=None))
def delete_session(event_id: int, session_id: int):
    session = db.session()
    events.delete_session(session, events.get_session(session, event_id, session_id))
    return "", 204
