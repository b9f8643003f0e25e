"""Registration's tables: events, their programme, participants."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from eventops.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


def new_personal_token() -> str:
    """256 random bits: the key to a participant's personal page and badge QR."""
    return secrets.token_urlsafe(32)


# No 0/O, 1/I/L: codes are read aloud at the door and typed by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_participant_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


class SessionKind(str, enum.Enum):
    lecture = "lecture"
    training = "training"
    expert_session = "expert_session"
    strategic_session = "strategic_session"
    workshop = "workshop"
    opening = "opening"
    closing = "closing"
    other = "other"


class ParticipantStatus(str, enum.Enum):
    registered = "registered"
    confirmed = "confirmed"
    cancelled = "cancelled"


class Gender(str, enum.Enum):
    male = "male"
    female = "female"


class EducationLevel(str, enum.Enum):
    """The prior education the federal register (ФИС ФРДО) asks for: higher or secondary vocational."""

    higher = "ВО"
    vocational = "СПО"


#: ПК (professional development) or ПП (professional retraining)
PROGRAMME_KINDS = ("ПК", "ПП")


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short stable name used in URLs
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    organiser: Mapped[str] = mapped_column(String(500), default="")
    place: Mapped[str] = mapped_column(String(300), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    #: ПК (professional development) or ПП (professional retraining): goes into the federal register
    programme_kind: Mapped[str] = mapped_column(String(8), default="ПК")
    #: whether the public registration form accepts participants
    registration_open: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sessions: Mapped[list[ProgrammeSession]] = relationship(
        back_populates="event",
        order_by="(ProgrammeSession.day, ProgrammeSession.starts_at)",
        cascade="all, delete-orphan",
    )

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_in_order"),)


class ProgrammeSession(Base):
    """One item of an event's programme: a lecture, a training, an expert session..."""

    __tablename__ = "programme_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[SessionKind] = mapped_column(Enum(SessionKind, native_enum=False, length=32))
    speakers: Mapped[str] = mapped_column(String(500), default="")
    room: Mapped[str] = mapped_column(String(200), default="")
    #: academic hours (45 minutes each) this session counts towards the programme
    academic_hours: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="sessions")

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="times_in_order"),
        CheckConstraint("academic_hours >= 0 AND academic_hours <= 24", name="hours_range"),
    )


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    #: short code printed on the badge and read aloud at the door; unique within the event
    code: Mapped[str] = mapped_column(String(12), default=new_participant_code)
    #: secret for the personal page link and the badge QR
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_personal_token)
    surname: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    #: e-mail lower-cased and stripped: the identity used to find duplicates
    email_key: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(32), default="")
    #: code of the subject of the Russian Federation (see regions.json)
    region_code: Mapped[str | None] = mapped_column(String(8))
    organisation: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[ParticipantStatus] = mapped_column(
        Enum(ParticipantStatus, native_enum=False, length=16), default=ParticipantStatus.registered
    )
    # Optional data for the federal register of qualification documents (ФИС ФРДО).
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[Gender | None] = mapped_column(Enum(Gender, native_enum=False, length=8))
    #: СНИЛС as XXX-XXX-XXX YY, checksum verified on the way in
    snils: Mapped[str | None] = mapped_column(String(14))
    #: citizenship as an ОКСМ code (643 = Russia)
    citizenship: Mapped[str | None] = mapped_column(String(3))
    #: ВО or СПО (EducationLevel), checked by the API; a plain string column, as it always was
    education_level: Mapped[str | None] = mapped_column(String(8))
    diploma_surname: Mapped[str | None] = mapped_column(String(100))
    diploma_series: Mapped[str | None] = mapped_column(String(20))
    diploma_number: Mapped[str | None] = mapped_column(String(30))
    #: " " + name, e-mail, organisation, region (name and code) and participant code, folded for search
    #: (see participants.refresh_search_text); trigram-indexed on either database (see search.py)
    search_text: Mapped[str] = mapped_column(Text, default="")
    #: folded surname, for ranking surname-prefix matches first and sorting alphabetically
    surname_key: Mapped[str] = mapped_column(String(100), default="")
    #: folded full name, for ranking first-name and patronymic prefix matches
    name_key: Mapped[str] = mapped_column(String(300), default="")
    #: when the person consented to the processing of their personal data on the public form (152-ФЗ)
    consent_given_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: when the registration was cancelled; None while it stands
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("event_id", "email_key", name="uq_participants_event_email"),
        UniqueConstraint("event_id", "code", name="uq_participants_event_code"),
        Index("ix_participants_event_surname", "event_id", "surname_key"),
    )

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.surname, self.first_name, self.patronymic) if part)

    def set_status(self, status: ParticipantStatus) -> None:
        """Cancelling keeps the record (the check-in screen must still recognise the person) and
        notes when."""
        if status is ParticipantStatus.cancelled:
            if self.status is not ParticipantStatus.cancelled:
                self.cancelled_at = utcnow()
        else:
            self.cancelled_at = None
        self.status = status

    def cancel(self) -> None:
        self.set_status(ParticipantStatus.cancelled)

    def restore(self) -> None:
        if self.status is ParticipantStatus.cancelled:
            self.set_status(ParticipantStatus.registered)


# --- mail to participants (see mail.py and tasks.py) ---------------------------------------------


class MessageKind(str, enum.Enum):
    #: the personal link, after a registration (and again when the same e-mail registers again)
    confirmation = "confirmation"
    certificate_ready = "certificate_ready"
    survey_invitation = "survey_invitation"
    survey_reminder = "survey_reminder"
    #: written by an organiser to a group of participants: bulk, so opted-out participants do not get it
    organiser = "organiser"


#: kinds a participant may opt out of (with List-Unsubscribe); the others are transactional
BULK_KINDS = frozenset({MessageKind.organiser})


class MessageStatus(str, enum.Enum):
    #: no SMTP server is configured: kept for organisers to read, sent once one is and they resend it
    held = "held"
    queued = "queued"
    #: recorded before the SMTP transaction: a message found here by a later job was interrupted
    sending = "sending"
    sent = "sent"
    #: the server refused it or the connection broke; `server_answer` says how; can be resent
    failed = "failed"
    #: the server refused the recipient (5xx at RCPT TO): the address does not take mail
    bounced = "bounced"


class MailCampaign(Base):
    """A letter an organiser wrote to a group of an event's participants."""

    __tablename__ = "mail_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    #: plain text as the organiser wrote it; the HTML part is made from it, escaped
    body: Mapped[str] = mapped_column(Text)
    #: the filters that chose the recipients, in words, for the outbox page
    audience: Mapped[str] = mapped_column(String(1000), default="")
    #: the staff member who sent it, as the gateway names them
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MailMessage(Base):
    """One letter to one participant, from the moment it is written until the server took it (or not)."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_campaigns.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MessageKind] = mapped_column(Enum(MessageKind, native_enum=False, length=32))
    #: the Message-ID header, fixed when the letter is written: a resend carries the same one, so a
    #: receiver that got an interrupted first attempt can tell the two are one letter
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    #: one letter of its kind per participant and subject matter (a survey's invitation), when set
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    #: the List-Unsubscribe address of a bulk letter; None for transactional ones
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[MessageStatus] = mapped_column(
        Enum(MessageStatus, native_enum=False, length=16), default=MessageStatus.queued
    )
    #: what the SMTP server (or the connection) said when it was not sent
    server_answer: Mapped[str] = mapped_column(Text, default="")
    #: SMTP transactions begun for it
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: when the last attempt began (status sending); an old one means the attempt died
    sending_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    campaign: Mapped[MailCampaign | None] = relationship()

    __table_args__ = (
        Index("ix_mail_messages_event_status", "event_id", "status"),
        Index("ix_mail_messages_participant", "participant_id"),
    )


class MailOptOut(Base):
    """A participant who wants no more bulk letters (organisers' messages); transactional ones still go."""

    __tablename__ = "mail_opt_outs"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    opted_out_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
