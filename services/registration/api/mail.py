"""Mail to participants: the event's outbox, resending, an organiser's letter to a group, the letters the
gateway asks for when a certificate is issued or a survey opens, and a participant's bulk-mail opt-out.

Letters are committed to the outbox before they are queued, and a queue that cannot be reached is not an
error: the mail worker's sweep queues letters whose job was lost (see services.registration.worker).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import Blueprint, current_app
from flask_babel import gettext as _
from spectree import Response

from eventops import db
from eventops.problems import not_found
from eventops.queue import connect
from services.registration import events, mail, schemas, search, tasks
from services.registration.api import spec
from services.registration.models import MessageStatus

bp = Blueprint("registration_mail", __name__, url_prefix="/api/v1")
log = logging.getLogger("registration.mail")


def settings():
    return current_app.config["SETTINGS"]


def queue_for_sending(message_ids: Iterable[int]) -> None:
    ids = list(message_ids)
    if not ids or not settings().smtp.host:
        return
    try:
        from rq import Queue

        tasks.enqueue_sending(Queue(tasks.QUEUE_NAME, connection=connect(settings().redis_url)), ids)
    except Exception as exc:  # any Redis failure: the letters wait in the outbox for the sweep
        log.warning("mail queue unavailable, %d letters wait for the sweep: %s", len(ids), exc)


def message_or_404(event_id: int, message_id: int):
    message = mail.get_message(db.session(), event_id, message_id)
    if message is None:
        raise not_found(_("There is no such letter."))
    return message


@bp.get("/events/<int:event_id>/mail/messages")
@spec.validate(query=schemas.OutboxQuery, resp=Response(HTTP_200=schemas.Outbox, HTTP_404=None))
def outbox(event_id: int, query: schemas.OutboxQuery):
    session = db.session()
    events.get_event(session, event_id)
    status = MessageStatus(query.status) if query.status else None
    rows, counts = mail.outbox(session, event_id, status=status, limit=query.limit, offset=query.offset)
    return schemas.Outbox(
        items=[schemas.MessageOut.model_validate(row) for row in rows],
        counts=counts,
        sending_enabled=bool(settings().smtp.host),
    )


@bp.get("/events/<int:event_id>/mail/messages/<int:message_id>")
@spec.validate(resp=Response(HTTP_200=schemas.MessageFull, HTTP_404=None))
def read_message(event_id: int, message_id: int):
    return schemas.MessageFull.model_validate(message_or_404(event_id, message_id))


@bp.post("/events/<int:event_id>/mail/messages/<int:message_id>/resend")
@spec.validate(resp=Response(HTTP_200=schemas.Queued, HTTP_404=None))
def resend_message(event_id: int, message_id: int):
    message_or_404(event_id, message_id)
    ids = mail.resend(db.session(), settings(), event_id, [message_id])
    queue_for_sending(ids)
    return schemas.Queued(messages=len(ids))


@bp.post("/events/<int:event_id>/mail/resend")
@spec.validate(json=schemas.ResendIn, resp=Response(HTTP_200=schemas.Queued, HTTP_404=None))
def resend(event_id: int, json: schemas.ResendIn):
    """Queue these letters again, or every failed letter of the event."""
    session = db.session()
    events.get_event(session, event_id)
    ids = mail.resend(session, settings(), event_id, json.ids)
    queue_for_sending(ids)
    return schemas.Queued(messages=len(ids))


@bp.post("/events/<int:event_id>/mail/campaigns")
@spec.validate(json=schemas.CampaignIn, resp=Response(HTTP_201=schemas.Queued, HTTP_404=None))
def send_campaign(event_id: int, json: schemas.CampaignIn):
    session = db.session()
    event = events.get_event(session, event_id)
    audience = mail.Audience(
        region_code=json.region_code,
        organisation=json.organisation,
        status=json.status,
        participant_ids=frozenset(json.participant_ids) if json.participant_ids is not None else None,
        excluded_ids=frozenset(json.excluded_ids),
    )
    campaign, messages, opted_out = mail.send_campaign(
        session,
        settings(),
        event,
        json.subject,
        json.body,
        audience,
        audience_words=json.audience or "",
        created_by=json.created_by or "",
    )
    queue_for_sending(mail.queued_ids(messages))
    return schemas.Queued(messages=len(messages), skipped=opted_out, campaign_id=campaign.id), 201


@bp.post("/events/<int:event_id>/mail/certificates-ready")
@spec.validate(json=schemas.CertificatesReadyIn, resp=Response(HTTP_200=schemas.Queued, HTTP_404=None))
def certificates_ready(event_id: int, json: schemas.CertificatesReadyIn):
    """«Ваше удостоверение готово», once per participant and certificate number."""
    session = db.session()
    event = events.get_event(session, event_id)
    pairs = [(item.participant_id, item.number) for item in json.certificates]
    messages, skipped = mail.certificates_ready(session, settings(), event, pairs)
    queue_for_sending(mail.queued_ids(messages))
    return schemas.Queued(messages=len(messages), skipped=skipped)


@bp.post("/events/<int:event_id>/mail/survey-invitations")
@spec.validate(json=schemas.SurveyMailIn, resp=Response(HTTP_200=schemas.Queued, HTTP_404=None))
def survey_invitations(event_id: int, json: schemas.SurveyMailIn):
    """A survey's invitation (or its one reminder) to these participants, once each."""
    session = db.session()
    event = events.get_event(session, event_id)
    messages, skipped = mail.survey_invitations(
        session,
        settings(),
        event,
        json.survey_key,
        json.title,
        json.participant_ids,
        reminder=json.reminder,
        anonymous=json.anonymous,
    )
    queue_for_sending(mail.queued_ids(messages))
    return schemas.Queued(messages=len(messages), skipped=skipped)


# --- the participant's own choice, by their personal token ------------------------------------------


def participant_by_token_or_404(token: str):
    participant = search.by_token(db.session(), token)
    if participant is None:
        raise not_found(_("This link is not valid."))
    return participant


@bp.get("/participants/by-token/<token>/mail")
@spec.validate(resp=Response(HTTP_200=schemas.MailPreferences, HTTP_404=None))
def preferences(token: str):
    participant = participant_by_token_or_404(token)
    return schemas.MailPreferences(opted_out=mail.opted_out(db.session(), participant))


@bp.post("/participants/by-token/<token>/mail")
@spec.validate(json=schemas.MailPreferences, resp=Response(HTTP_200=schemas.MailPreferences, HTTP_404=None))
def set_preferences(token: str, json: schemas.MailPreferences):
    participant = participant_by_token_or_404(token)
    mail.set_opt_out(db.session(), participant, json.opted_out)
    return schemas.MailPreferences(opted_out=json.opted_out)
