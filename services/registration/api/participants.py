"""Participants: listing, adding, editing, cancelling and restoring them; search and the check-in lookup;
the public registration form; the personal page a participant's token opens."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from spectree import Response

from eventops import db
from eventops.problems import not_found
from services.registration import checkin_index, events, mail, participants, schemas, search
from services.registration.api import spec
from services.registration.api.events import event_out
from services.registration.api.mail import queue_for_sending, settings
from services.registration.participants import DuplicateEmail

bp = Blueprint("registration_participants", __name__, url_prefix="/api/v1")


def private_out(participant) -> schemas.ParticipantPrivateOut:
    return schemas.ParticipantPrivateOut.model_validate(participant)


@bp.get("/events/<int:event_id>/participants")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantList, HTTP_404=None))
def list_participants(event_id: int):
    session = db.session()
    events.get_event(session, event_id)
    items = [schemas.ParticipantOut.model_validate(p) for p in participants.in_order(session, event_id)]
    return schemas.ParticipantList(items=items, total=len(items))


@bp.get("/events/<int:event_id>/participants/roster")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantRoster, HTTP_404=None))
def read_roster(event_id: int):
    """Names, gender and status of everyone: what certificates needs for eligibility and issuing."""
    session = db.session()
    events.get_event(session, event_id)
    items = participants.roster(session, event_id)
    # One validation of the whole list: a thousand per-item calls cost more than the query.
    return schemas.ParticipantRoster.model_validate({"items": items, "total": len(items)})


@bp.get("/events/<int:event_id>/participants/checkin-index")
@spec.validate(resp=Response(HTTP_200=schemas.CheckinIndex, HTTP_304=None, HTTP_404=None))
def read_checkin_index(event_id: int):
    """The compact list a check-in tablet keeps for offline search and scans; 304 when the tablet's
    copy (If-None-Match: the version it has) is still current."""
    session = db.session()
    events.get_event(session, event_id)
    version = checkin_index.version(session, event_id)
    etag = f'"{version}"'
    if request.if_none_match.contains_weak(version):  # weak too: a proxy that compresses weakens it
        return "", 304, {"ETag": etag}
    items = checkin_index.items(session, event_id)
    # model_construct: ten thousand rows the query has just typed are not validated again one by one
    index = schemas.CheckinIndex.model_construct(
        version=version, fields=list(checkin_index.FIELDS), items=items
    )
    return index, 200, {"ETag": etag}


@bp.get("/events/<int:event_id>/participants/frdo")
@spec.validate(resp=Response(HTTP_200=schemas.FrdoRoster, HTTP_404=None))
def read_frdo_roster(event_id: int):
    """The roster with the optional data ФИС ФРДО asks for (birth date, СНИЛС, citizenship, diploma)."""
    session = db.session()
    events.get_event(session, event_id)
    items = participants.roster(session, event_id, frdo=True)
    return schemas.FrdoRoster.model_validate({"items": items, "total": len(items)})


@bp.post("/events/<int:event_id>/participants")
@spec.validate(
    json=schemas.ParticipantIn,
    resp=Response(HTTP_201=schemas.ParticipantPrivateOut, HTTP_404=None, HTTP_409=None),
)
def create_participant(event_id: int, json: schemas.ParticipantIn):
    session = db.session()
    events.get_event(session, event_id)
    return private_out(participants.add_participant(session, event_id, json)), 201


@bp.get("/events/<int:event_id>/participants/<int:participant_id>")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantPrivateOut, HTTP_404=None))
def read_participant(event_id: int, participant_id: int):
    return private_out(participants.get_participant(db.session(), event_id, participant_id))


@bp.patch("/events/<int:event_id>/participants/<int:participant_id>")
@spec.validate(
    json=schemas.ParticipantPatch,
    resp=Response(HTTP_200=schemas.ParticipantPrivateOut, HTTP_404=None, HTTP_409=None),
)
def update_participant(event_id: int, participant_id: int, json: schemas.ParticipantPatch):
    session = db.session()
    participant = participants.get_participant(session, event_id, participant_id)
    participants.save_participant_changes(session, participant, json.model_dump(exclude_unset=True))
    return private_out(participant)


@bp.post("/events/<int:event_id>/participants/<int:participant_id>/cancel")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantPrivateOut, HTTP_404=None))
def cancel_participant(event_id: int, participant_id: int):
    return _change(event_id, participant_id, participants.cancel)


@bp.post("/events/<int:event_id>/participants/<int:participant_id>/restore")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantPrivateOut, HTTP_404=None))
def restore_participant(event_id: int, participant_id: int):
    return _change(event_id, participant_id, participants.restore)


def _change(event_id: int, participant_id: int, change) -> schemas.ParticipantPrivateOut:
    session = db.session()
    participant = participants.get_participant(session, event_id, participant_id)
    change(session, participant)
    return private_out(participant)


# --- finding people ------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/participants/search")
@spec.validate(query=schemas.SearchQuery, resp=Response(HTTP_200=schemas.SearchResult, HTTP_404=None))
def search_participants(event_id: int, query: schemas.SearchQuery):
    session = db.session()
    found = search.search_participants(session, event_id, query.q, query.limit, query.offset)
    if not found.total:
        # 404 for an unknown event; found people prove the event exists (and save a query)
        events.get_event(session, event_id)
    return schemas.SearchResult(items=found.items, total=found.total)


@bp.get("/events/<int:event_id>/participants/lookup")
@spec.validate(query=schemas.LookupQuery, resp=Response(HTTP_200=schemas.ParticipantCard, HTTP_404=None))
def lookup(event_id: int, query: schemas.LookupQuery):
    session = db.session()
    events.get_event(session, event_id)
    participant = search.look_up(session, event_id, query.code)
    if participant is None:
        raise not_found(_("No participant has this code."))
    return schemas.ParticipantCard(**search.card(participant))


@bp.get("/participants/by-token/<token>")
@spec.validate(resp=Response(HTTP_200=schemas.ParticipantWithEvent, HTTP_404=None))
def read_by_token(token: str):
    session = db.session()
    participant = search.by_token(session, token)
    if participant is None:
        raise not_found(_("This link is not valid."))
    event = events.get_event(session, participant.event_id)
    return schemas.ParticipantWithEvent(participant=private_out(participant), event=event_out(event))


# --- the public form -----------------------------------------------------------------------------


@bp.post("/events/<int:event_id>/registrations")
@spec.validate(
    json=schemas.RegistrationIn,
    resp=Response(HTTP_201=schemas.ParticipantPrivateOut, HTTP_403=None, HTTP_404=None, HTTP_409=None),
)
def register(event_id: int, json: schemas.RegistrationIn):
    """The public registration form, relayed by the gateway; the answer carries the personal token.

    The personal link goes out by e-mail; an e-mail the event already has gets the same letter again
    (and the 409), so the person who registered twice has their link and the form can answer the same.
    """
    session = db.session()
    event = events.get_event(session, event_id)
    try:
        participant = participants.register(session, event, json)
    except DuplicateEmail:
        session.rollback()
        known = mail.participant_by_email(session, event.id, json.email)
        if known is not None:
            queue_for_sending(mail.confirm_registration(session, settings(), event, known))
        raise
    queue_for_sending(mail.confirm_registration(session, settings(), event, participant))
    return private_out(participant), 201
