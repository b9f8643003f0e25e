"""Registration's JSON API: events, their programme and participants."""

from __future__ import annotations

from flask import Blueprint, Response as FlaskResponse, jsonify
from spectree import Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from eventops import db
from eventops.i18n import service_locale
from eventops.openapi import make_spec
from eventops.problems import PROBLEM_MIME, Problem
from services.registration import badges, exports, schemas
from services.registration.models import Event, Participant, ParticipantStatus, ProgrammeSession, utcnow
from services.registration.participants import DuplicateEmail, add_participant, save_participant_changes
from services.registration.search import by_token, card, look_up, search_participants

spec = make_spec("EventOps registration")
api = Blueprint("registration_api", __name__, url_prefix="/api/v1")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- problems, in the language the gateway asks for --------------------------------------------------


def say(code: str, context: dict | None = None) -> str:
    return schemas.error_message(code, service_locale(), context)


def field_error(field: str, code: str, context: dict | None = None) -> dict:
    return {"field": field, "code": code, "message": say(code, context)}


def invalid(field: str, code: str) -> Problem:
    return Problem(422, "Unprocessable Content", say("invalid_request"), errors=[field_error(field, code)])


def not_found(code: str) -> Problem:
    return Problem(404, "Not Found", say(code))


def duplicate_email() -> Problem:
    return Problem(409, "Conflict", say("duplicate"), errors=[field_error("email", "duplicate")])


def _validation_field_error(error: dict) -> dict:
    field = ".".join(str(part) for part in error["loc"])
    context = error.get("ctx") or {}
    if error["type"] == "string_too_short" and context.get("min_length") == 1:
        return field_error(field, "blank")  # "at least 1 character" is a clumsy way to say "fill it in"
    return field_error(field, error["type"], context)


def _problem_on_invalid_request(request, response, validation_error, _instance, _adapter=None):
    """spectree's hook: an invalid request becomes a problem document, one translated entry per field."""
    if validation_error is None or response is None:
        return
    body = {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": say("invalid_request"),
        "errors": [_validation_field_error(error) for error in validation_error.errors()],
    }
    response.set_data(jsonify(body).get_data())
    response.mimetype = PROBLEM_MIME


spec.before = _problem_on_invalid_request


# --- loading what a URL names --------------------------------------------------------------------------


def get_event(event_id: int) -> Event:
    event = db.session().get(Event, event_id)
    if event is None:
        raise not_found("event_not_found")
    return event


def get_session(event_id: int, session_id: int) -> ProgrammeSession:
    programme_session = db.session().get(ProgrammeSession, session_id)
    if programme_session is None or programme_session.event_id != event_id:
        raise not_found("session_not_found")
    return programme_session


def get_participant(event_id: int, participant_id: int) -> Participant:
    participant = db.session().get(Participant, participant_id)
    # The event is part of the lookup: an id from another event is simply not found.
    if participant is None or participant.event_id != event_id:
        raise not_found("participant_not_found")
    return participant


def event_out(event: Event) -> schemas.EventOut:
    session = db.session()
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
    return schemas.EventOut.model_validate(event).model_copy(
        update={"participants_count": count, "active_participants_count": active, "academic_hours": hours}
    )


def private_out(participant: Participant) -> schemas.ParticipantPrivateOut:
    return schemas.ParticipantPrivateOut.model_validate(participant)


# --- events --------------------------------------------------------------------------------------------


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
        raise Problem(409, "Conflict", say("taken"), errors=[field_error("slug", "taken")])
    return event_out(event), 201


@api.get("/events/<int:event_id>")
@spec.validate(resp=Response(HTTP_200=schemas.EventOut, HTTP_404=None))
def read_event(event_id: int):
    return event_out(get_event(event_id))


@api.patch("/events/<int:event_id>")
@spec.validate(
    json=schemas.EventPatch,
    resp=Response(HTTP_200=schemas.EventOut, HTTP_404=None, HTTP_409=None, HTTP_422=None),
)
def update_event(event_id: int, json: schemas.EventPatch):
    event = get_event(event_id)
    changes = json.model_dump(exclude_unset=True)
    starts_on, ends_on = changes.get("starts_on", event.starts_on), changes.get("ends_on", event.ends_on)
    if ends_on < starts_on:
        raise invalid("ends_on", "dates_in_order")
    days = [programme_session.day for programme_session in event.sessions]
    if days and min(days) < starts_on:
        raise invalid("starts_on", "sessions_outside")
    if days and max(days) > ends_on:
        raise invalid("ends_on", "sessions_outside")
    for field, value in changes.items():
        setattr(event, field, value)
    session = db.session()
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Problem(409, "Conflict", say("taken"), errors=[field_error("slug", "taken")])
    return event_out(event)


# --- programme -----------------------------------------------------------------------------------------


@api.get("/events/<int:event_id>/sessions")
@spec.validate(resp=Response(HTTP_200=schemas.SessionList, HTTP_404=None))
def list_sessions(event_id: int):
    event = get_event(event_id)
    return schemas.SessionList(items=[schemas.SessionOut.model_validate(s) for s in event.sessions])


def check_session_fits(event: Event, programme_session: ProgrammeSession) -> None:
    if not event.starts_on <= programme_session.day <= event.ends_on:
        raise invalid("day", "outside_event")
    if programme_session.ends_at <= programme_session.starts_at:
        raise invalid("ends_at", "times_in_order")


@api.post("/events/<int:event_id>/sessions")
@spec.validate(
    json=schemas.SessionIn, resp=Response(HTTP_201=schemas.SessionOut, HTTP_404=None, HTTP_422=None)
)
def create_session(event_id: int, json: schemas.SessionIn):
    event = get_event(event_id)
    programme_session = ProgrammeSession(event_id=event.id, **json.model_dump())
    check_session_fits(event, programme_session)
    db.session().add(programme_session)
    db.session().commit()
    return schemas.SessionOut.model_validate(programme_session), 201


@api.patch("/events/<int:event_id>/sessions/<int:session_id>")
@spec.validate(
    json=schemas.SessionPatch, resp=Response(HTTP_200=schemas.SessionOut, HTTP_404=None, HTTP_422=None)
)
def update_session(event_id: int, session_id: int, json: schemas.SessionPatch):
    event = get_event(event_id)
    programme_session = get_session(event_id, session_id)
    session = db.session()
    with session.no_autoflush:  # check the edited session before the database sees it
        for field, value in json.model_dump(exclude_unset=True).items():
            setattr(programme_session, field, value)
        try:
            check_session_fits(event, programme_session)
        except Problem:
            session.rollback()
            raise
    session.commit()
    return schemas.SessionOut.model_validate(programme_session)


@api.delete("/events/<int:event_id>/sessions/<int:session_id>")
@spec.validate(resp=Response(HTTP_204=None, HTTP_404=None))
def delete_session(event_id: int, session_id: int):
    programme_session = get_session(event_id, session_id)
    db.session().delete(programme_session)
    db.session().commit()
    return "", 204


# --- participants --------------------------------------------------------------------------------------


@api.get("/events/<int:event_id>/participants")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantList, HTTP_404=None))
def list_participants(event_id: int):
    get_event(event_id)
    participants = (
        db.session()
        .scalars(
            select(Participant)
            .where(Participant.event_id == event_id)
            .order_by(Participant.surname_key, Participant.first_name, Participant.id)
        )
        .all()
    )
    items = [schemas.ParticipantOut.model_validate(p) for p in participants]
    return schemas.ParticipantList(items=items, total=len(items))


@api.post("/events/<int:event_id>/participants")
@spec.validate(
    json=schemas.ParticipantIn,
    resp=Response(HTTP_201=schemas.ParticipantPrivateOut, HTTP_404=None, HTTP_409=None),
)
def create_participant(event_id: int, json: schemas.ParticipantIn):
    get_event(event_id)
    try:
        participant = add_participant(db.session(), event_id, json)
    except DuplicateEmail:
        raise duplicate_email()
    return private_out(participant), 201


@api.get("/events/<int:event_id>/participants/<int:participant_id>")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantPrivateOut, HTTP_404=None))
def read_participant(event_id: int, participant_id: int):
    return private_out(get_participant(event_id, participant_id))


@api.patch("/events/<int:event_id>/participants/<int:participant_id>")
@spec.validate(
    json=schemas.ParticipantPatch,
    resp=Response(HTTP_200=schemas.ParticipantPrivateOut, HTTP_404=None, HTTP_409=None),
)
def update_participant(event_id: int, participant_id: int, json: schemas.ParticipantPatch):
    participant = get_participant(event_id, participant_id)
    try:
        save_participant_changes(db.session(), participant, json.model_dump(exclude_unset=True))
    except DuplicateEmail:
        raise duplicate_email()
    return private_out(participant)


@api.post("/events/<int:event_id>/participants/<int:participant_id>/cancel")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantPrivateOut, HTTP_404=None))
def cancel_participant(event_id: int, participant_id: int):
    participant = get_participant(event_id, participant_id)
    participant.cancel()
    db.session().commit()
    return private_out(participant)


@api.post("/events/<int:event_id>/participants/<int:participant_id>/restore")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantPrivateOut, HTTP_404=None))
def restore_participant(event_id: int, participant_id: int):
    participant = get_participant(event_id, participant_id)
    participant.restore()
    db.session().commit()
    return private_out(participant)


@api.get("/events/<int:event_id>/participants/search")
@spec.validate(query=schemas.SearchQuery, resp=Response(HTTP_200=schemas.SearchResult, HTTP_404=None))
def search(event_id: int, query: schemas.SearchQuery):
    found = search_participants(db.session(), event_id, query.q, query.limit)
    if not found.items:
        get_event(
            event_id
        )  # 404 for an unknown event; found people prove the event exists (and save a query)
    return schemas.SearchResult(items=found.items, total=found.total)


@api.get("/events/<int:event_id>/participants/lookup")
@spec.validate(query=schemas.LookupQuery, resp=Response(HTTP_200=schemas.ParticipantCard, HTTP_404=None))
def lookup(event_id: int, query: schemas.LookupQuery):
    get_event(event_id)
    participant = look_up(db.session(), event_id, query.code)
    if participant is None:
        raise not_found("unknown_code")
    return schemas.ParticipantCard(**card(participant))


@api.get("/participants/by-token/<token>")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantWithEvent, HTTP_404=None))
def read_by_token(token: str):
    participant = by_token(db.session(), token)
    if participant is None:
        raise not_found("unknown_token")
    return schemas.ParticipantWithEvent(
        participant=private_out(participant), event=event_out(get_event(participant.event_id))
    )


@api.post("/events/<int:event_id>/registrations")
@spec.validate(
    json=schemas.RegistrationIn,
    resp=Response(HTTP_201=schemas.ParticipantPrivateOut, HTTP_403=None, HTTP_404=None, HTTP_409=None),
)
def register(event_id: int, json: schemas.RegistrationIn):
    """The public registration form, relayed by the gateway; the answer carries the personal token."""
    event = get_event(event_id)
    if not event.registration_open:
        raise Problem(403, "Forbidden", say("registration_closed"))
    try:
        participant = add_participant(db.session(), event_id, json.participant(), consent_given_at=utcnow())
    except DuplicateEmail:
        raise duplicate_email()
    return private_out(participant), 201


# --- documents -----------------------------------------------------------------------------------------


def participants_by_name(event_id: int, *conditions) -> list[Participant]:
    return list(
        db.session().scalars(
            select(Participant)
            .where(Participant.event_id == event_id, *conditions)
            .order_by(Participant.surname_key, Participant.name_key, Participant.id)
        )
    )


@api.get("/events/<int:event_id>/participants/export")
@spec.validate(query=schemas.ExportQuery, resp=Response(HTTP_200=None, HTTP_404=None))
def export_participants(event_id: int, query: schemas.ExportQuery):
    """Every participant with every column, as XLSX or CSV (UTF-8 with BOM, ';'): personal data."""
    event = get_event(event_id)
    participants = participants_by_name(event_id)
    if query.format == "csv":
        body, mimetype = exports.to_csv(participants), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.to_xlsx(participants), XLSX_MIME
    return attachment(body, mimetype, f"participants-{event.slug}.{query.format}")


@api.get("/events/<int:event_id>/badges.pdf")
@spec.validate(query=schemas.BadgesQuery, resp=Response(HTTP_200=None, HTTP_404=None))
def print_badges(event_id: int, query: schemas.BadgesQuery):
    """Badges of the participants listed in `ids`, or of everyone whose registration stands."""
    event = get_event(event_id)
    ids = query.id_list()
    if ids is None:
        participants = participants_by_name(event_id, Participant.status != ParticipantStatus.cancelled)
    else:
        participants = participants_by_name(event_id, Participant.id.in_(ids))
    if not participants:
        raise not_found("nobody_for_badges")
    pdf = badges.renderer().render(event, participants)
    return attachment(pdf, "application/pdf", f"badges-{event.slug}.pdf")


def attachment(body: bytes, mimetype: str, filename: str) -> FlaskResponse:
    response = FlaskResponse(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
