"""Letters to participants and the outbox they wait in.

Every letter is written whole (subject, plain text, HTML, Message-ID) into `mail_messages` before anything is
sent, so the organiser sees it at once and a resend sends exactly the same letter. Without an SMTP server
(a laptop demo) letters are `held`: the outbox page shows them, and a resend queues them once a server is
configured. The worker (tasks.py) sends queued ones.

Letters are in Russian, as every participant-facing document is; the personal link is in each one, so
whoever has the letter reaches their page. Bulk letters (an organiser's message) carry List-Unsubscribe and
are not written for a participant who opted out; transactional ones always are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from eventops.config import Settings
from eventops.db import utcnow
from services.registration.badges import personal_page_url
from services.registration.models import (
    BULK_KINDS,
    Event,
    MailCampaign,
    MailMessage,
    MailOptOut,
    MessageKind,
    MessageStatus,
    Participant,
    ParticipantStatus,
)
from services.registration.text import email_key

TEMPLATES = Path(__file__).resolve().parent / "templates" / "mail"

#: a confirmation is not written again for the same participant sooner than this: the public form must not
#: become a way to flood someone's mailbox by registering their address over and over
CONFIRMATION_REPEAT_AFTER = timedelta(minutes=10)
#: an attempt still `sending` after this long died with its worker (the SMTP timeout is 30 s)
INTERRUPTED_AFTER = timedelta(minutes=2)
INTERRUPTED_ANSWER = (
    "interrupted during sending: the server may or may not have taken it; a resend keeps its Message-ID"
)
RESENDABLE = (MessageStatus.failed, MessageStatus.bounced, MessageStatus.held)

_MONTHS = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]

_templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Letter:
    subject: str
    #: paragraphs before the personal link
    paragraphs: Sequence[str]
    link_label: str = "Открыть личную страницу"
    #: paragraphs after the link
    closing: Sequence[str] = ()


def russian_dates(event: Event) -> str:
    start, end = event.starts_on, event.ends_on
    if start == end:
        return f"{start.day} {_MONTHS[start.month - 1]} {start.year} г."
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {_MONTHS[end.month - 1]} {end.year} г."
    return f"{start.day} {_MONTHS[start.month - 1]} – {end.day} {_MONTHS[end.month - 1]} {end.year} г."


def _greeting(participant: Participant) -> str:
    name = " ".join(part for part in (participant.first_name, participant.patronymic) if part)
    return f"Здравствуйте, {name}!"


def confirmation_letter(event: Event, participant: Participant) -> Letter:
    where = f", {event.place}" if event.place else ""
    return Letter(
        subject=f"Регистрация: {event.title}",
        paragraphs=[
            _greeting(participant),
            f"Вы зарегистрированы на курс «{event.title}» ({russian_dates(event)}{where}).",
            "На вашей личной странице — программа, отметки о посещении, опросы и, после курса, "
            "удостоверение:",
        ],
        closing=[
            "Ссылка личная: не пересылайте её. На входе достаточно показать QR-код с бейджа или назвать "
            f"код участника {participant.code}.",
            "Если вы не регистрировались, просто удалите это письмо.",
        ],
    )


def certificate_letter(event: Event, participant: Participant, number: str) -> Letter:
    return Letter(
        subject=f"Ваше удостоверение готово: {event.title}",
        paragraphs=[
            _greeting(participant),
            f"Ваше удостоверение о повышении квалификации № {number} по программе «{event.title}» готово.",
            "Скачать его можно на вашей личной странице:",
        ],
        link_label="Скачать удостоверение",
    )


def survey_letter(
    event: Event, participant: Participant, survey: str, *, reminder: bool, anonymous: bool = False
) -> Letter:
    if reminder:
        # Nobody can tell who answered an anonymous survey: its reminder goes to all and says "if".
        opening = (
            f"Если вы ещё не ответили на анонимный опрос «{survey}» курса «{event.title}», пожалуйста, "
            "найдите для этого несколько минут."
            if anonymous
            else f"Напоминаем: вы ещё не ответили на опрос «{survey}» курса «{event.title}»."
        )
        return Letter(
            subject=f"Напоминание: опрос «{survey}»",
            paragraphs=[
                _greeting(participant),
                f"{opening} Ваши ответы помогут сделать курс лучше.",
                "Опрос открывается с вашей личной страницы:",
            ],
            link_label="Ответить на опрос",
        )
    return Letter(
        subject=f"Опрос: {survey}",
        paragraphs=[
            _greeting(participant),
            f"Организаторы курса «{event.title}» просят вас ответить на вопросы опроса «{survey}». "
            "Это займёт несколько минут.",
            "Опрос открывается с вашей личной страницы:",
        ],
        link_label="Ответить на опрос",
    )


def organiser_letter(subject: str, body: str) -> Letter:
    paragraphs = [block.strip() for block in body.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return Letter(subject=subject, paragraphs=paragraphs, closing=())


def unsubscribe_url(public_url: str, participant: Participant) -> str:
    return f"{personal_page_url(public_url, participant.token)}/mail/unsubscribe"


def render(letter: Letter, event: Event, link: str, unsubscribe: str | None) -> tuple[str, str]:
    """The plain-text and HTML parts: the same words, no images, no tracking, links to the gateway only."""
    context = dict(letter=letter, event=event, link=link, unsubscribe=unsubscribe)
    return (
        _templates.get_template("letter.txt").render(context),
        _templates.get_template("letter.html").render(context),
    )


def _message_id(settings: Settings) -> str:
    # The sender's domain: make_msgid would otherwise look up this machine's FQDN for every letter.
    domain = parseaddr(settings.smtp.mail_from)[1].rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)


def write(
    session: Session,
    settings: Settings,
    event: Event,
    participant: Participant,
    kind: MessageKind,
    letter: Letter,
    *,
    campaign: MailCampaign | None = None,
    dedupe_key: str | None = None,
) -> MailMessage:
    """A letter added to the outbox (not committed): queued when there is a server to send it, else held."""
    link = personal_page_url(settings.public_url, participant.token)
    unsubscribe = unsubscribe_url(settings.public_url, participant) if kind in BULK_KINDS else None
    text_body, html_body = render(letter, event, link, unsubscribe)
    message = MailMessage(
        event_id=event.id,
        participant_id=participant.id,
        campaign=campaign,
        kind=kind,
        message_id=_message_id(settings),
        dedupe_key=dedupe_key,
        to_address=participant.email.strip(),
        to_name=participant.full_name,
        subject=letter.subject,
        text_body=text_body,
        html_body=html_body,
        unsubscribe_url=unsubscribe,
        status=MessageStatus.queued if settings.smtp.host else MessageStatus.held,
        server_answer="" if settings.smtp.host else "not sent: no SMTP server is configured (SMTP_HOST)",
    )
    session.add(message)
    return message


def queued_ids(messages: Iterable[MailMessage]) -> list[int]:
    return [message.id for message in messages if message.status is MessageStatus.queued]


# --- the letters the domain sends ------------------------------------------------------------------


def participant_by_email(session: Session, event_id: int, email: str) -> Participant | None:
    return session.scalar(
        select(Participant).where(Participant.event_id == event_id, Participant.email_key == email_key(email))
    )


def confirm_registration(
    session: Session, settings: Settings, event: Event, participant: Participant
) -> list[int]:
    """The personal link by e-mail after a registration; commits; returns the ids to queue.

    Also the answer to a repeated registration, with the same letter, unless one went out moments ago.
    """
    recent = session.scalar(
        select(func.count(MailMessage.id)).where(
            MailMessage.participant_id == participant.id,
            MailMessage.kind == MessageKind.confirmation,
            MailMessage.created_at > utcnow() - CONFIRMATION_REPEAT_AFTER,
        )
    )
    if recent:
        return []
    message = write(
        session,
        settings,
        event,
        participant,
        MessageKind.confirmation,
        confirmation_letter(event, participant),
    )
    session.commit()
    return queued_ids([message])


def _once(
    session: Session,
    settings: Settings,
    event: Event,
    participant_ids: Iterable[int],
    kind: MessageKind,
    letter_for,
    key_for,
) -> tuple[list[MailMessage], int]:
    """Letters to these participants of the event that were not written before (by their dedupe key)."""
    wanted = {int(pid) for pid in participant_ids}
    people = session.scalars(
        select(Participant).where(Participant.event_id == event.id, Participant.id.in_(wanted))
    ).all()
    keys = {person.id: key_for(person) for person in people}
    written = set(
        session.scalars(select(MailMessage.dedupe_key).where(MailMessage.dedupe_key.in_(keys.values())))
    )
    messages = [
        write(session, settings, event, person, kind, letter_for(person), dedupe_key=keys[person.id])
        for person in people
        if keys[person.id] not in written and person.status is not ParticipantStatus.cancelled
    ]
    session.commit()
    return messages, len(people) - len(messages)


def certificates_ready(
    session: Session, settings: Settings, event: Event, certificates: Sequence[tuple[int, str]]
) -> tuple[list[MailMessage], int]:
    """«Ваше удостоверение готово» for (participant id, certificate number) pairs; once per number."""
    numbers = dict(certificates)
    return _once(
        session,
        settings,
        event,
        numbers,
        MessageKind.certificate_ready,
        lambda person: certificate_letter(event, person, numbers[person.id]),
        lambda person: f"certificate-ready:{event.id}:{person.id}:{numbers[person.id]}",
    )


def survey_invitations(
    session: Session,
    settings: Settings,
    event: Event,
    survey_key: str,
    survey_title: str,
    participant_ids: Iterable[int],
    *,
    reminder: bool,
    anonymous: bool = False,
) -> tuple[list[MailMessage], int]:
    """An invitation to a survey, or its one reminder, to each of these participants at most once."""
    kind = MessageKind.survey_reminder if reminder else MessageKind.survey_invitation
    return _once(
        session,
        settings,
        event,
        participant_ids,
        kind,
        lambda person: survey_letter(event, person, survey_title, reminder=reminder, anonymous=anonymous),
        lambda person: f"{kind.value}:{event.id}:{survey_key}:{person.id}",
    )


@dataclass(frozen=True)
class Audience:
    """Which of an event's participants an organiser writes to; None means any."""

    region_code: str | None = None
    #: a part of the organisation's name, any letter case
    organisation: str | None = None
    status: ParticipantStatus | None = None
    #: only these participants (the gateway's list of those checked in, from the certificates service)
    participant_ids: frozenset[int] | None = None
    #: leave these out (the checked-in ones, to write to those who did not come)
    excluded_ids: frozenset[int] = frozenset()

    def conditions(self, event_id: int) -> list:
        conditions = [Participant.event_id == event_id]
        if self.region_code:
            conditions.append(Participant.region_code == self.region_code)
        if self.organisation:
            conditions.append(
                func.lower(Participant.organisation).contains(self.organisation.strip().lower())
            )
        if self.status is not None:
            conditions.append(Participant.status == self.status)
        else:  # a cancelled registration is not written to unless asked for by its status
            conditions.append(Participant.status != ParticipantStatus.cancelled)
        if self.participant_ids is not None:
            conditions.append(Participant.id.in_(self.participant_ids))
        if self.excluded_ids:
            conditions.append(Participant.id.not_in(self.excluded_ids))
        return conditions


def send_campaign(
    session: Session,
    settings: Settings,
    event: Event,
    subject: str,
    body: str,
    audience: Audience,
    *,
    audience_words: str = "",
    created_by: str = "",
) -> tuple[MailCampaign, list[MailMessage], int]:
    """An organiser's letter to the audience, minus those who opted out of bulk mail (counted)."""
    chosen = session.scalars(
        select(Participant).where(*audience.conditions(event.id)).order_by(Participant.id)
    ).all()
    opted_out = set(
        session.scalars(
            select(MailOptOut.participant_id).where(MailOptOut.participant_id.in_([p.id for p in chosen]))
        )
    )
    campaign = MailCampaign(
        event_id=event.id, subject=subject, body=body, audience=audience_words, created_by=created_by
    )
    session.add(campaign)
    letter = organiser_letter(subject, body)
    messages = [
        write(session, settings, event, person, MessageKind.organiser, letter, campaign=campaign)
        for person in chosen
        if person.id not in opted_out
    ]
    session.commit()
    return campaign, messages, len(opted_out)


# --- the outbox --------------------------------------------------------------------------------


def outbox(
    session: Session, event_id: int, *, status: MessageStatus | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[MailMessage], dict[str, int]]:
    """The event's letters, newest first, and how many there are in each status."""
    query = select(MailMessage).where(MailMessage.event_id == event_id)
    if status is not None:
        query = query.where(MailMessage.status == status)
    rows = session.scalars(query.order_by(MailMessage.id.desc()).limit(limit).offset(offset)).all()
    counts = dict(
        session.execute(
            select(MailMessage.status, func.count())
            .where(MailMessage.event_id == event_id)
            .group_by(MailMessage.status)
        ).all()
    )
    return list(rows), {state.value: counts.get(state, 0) for state in MessageStatus}


def get_message(session: Session, event_id: int, message_id: int) -> MailMessage | None:
    message = session.get(MailMessage, message_id)
    return message if message is not None and message.event_id == event_id else None


def resend(
    session: Session, settings: Settings, event_id: int, ids: Iterable[int] | None = None
) -> list[int]:
    """Queue again failed, bounced and held letters (these ids, or all of the event's failed ones); commits.

    Only a letter in one of those states moves, in one UPDATE, so a letter already sent or being sent is
    never queued twice, however often the button is pressed. Without a server, nothing moves.
    """
    if not settings.smtp.host:
        return []
    query = select(MailMessage.id).where(MailMessage.event_id == event_id)
    if ids is None:
        query = query.where(MailMessage.status == MessageStatus.failed)
    else:
        query = query.where(MailMessage.id.in_(list(ids)), MailMessage.status.in_(RESENDABLE))
    chosen = list(session.scalars(query))
    if not chosen:
        return []
    session.execute(
        update(MailMessage)
        .where(MailMessage.id.in_(chosen), MailMessage.status.in_(RESENDABLE))
        .values(status=MessageStatus.queued)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return chosen


def reconcile_interrupted(session: Session, *, older_than: timedelta = INTERRUPTED_AFTER) -> int:
    """Letters left `sending` by an attempt that died (a killed worker, a lost machine) become failed.

    We cannot know whether the server took such a letter, so it is not sent again by itself (a participant
    must not get it twice); it waits, failed and resendable, with the reason, for the organiser to decide.
    A resend carries the same Message-ID, so a mail client that did get the first copy shows one letter.
    """
    result = session.execute(
        update(MailMessage)
        .where(MailMessage.status == MessageStatus.sending, MailMessage.sending_at < utcnow() - older_than)
        .values(status=MessageStatus.failed, server_answer=INTERRUPTED_ANSWER)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount or 0


def stranded_ids(session: Session, *, older_than: timedelta) -> list[int]:
    """Queued letters older than this: their job was lost (Redis restarted, a worker died before them)."""
    return list(
        session.scalars(
            select(MailMessage.id).where(
                MailMessage.status == MessageStatus.queued, MailMessage.created_at < utcnow() - older_than
            )
        )
    )


# --- opting out of bulk mail --------------------------------------------------------------------


def opted_out(session: Session, participant: Participant) -> bool:
    return session.get(MailOptOut, participant.id) is not None


def set_opt_out(session: Session, participant: Participant, value: bool) -> None:
    """Idempotent either way; commits."""
    current = session.get(MailOptOut, participant.id)
    if value and current is None:
        session.add(MailOptOut(participant_id=participant.id))
    elif not value and current is not None:
        session.delete(current)
    session.commit()
