"""Certificates' tables: attendance (check-ins), the certificate policy of an event, eligibility overrides,
issued qualification documents, their numbering counters and render batches."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from eventops.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


# Crockford's base32: no I, L, O, U, so a code read off paper is typed right.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_verification_code() -> str:
    """100 random bits, printed as XXXXX-XXXXX-XXXXX-XXXXX: unguessable, yet typeable from paper."""
    bits = int.from_bytes(secrets.token_bytes(13), "big") >> 4  # one read of the system's randomness
    raw = "".join(_CODE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    # Stored as text: adding a value later needs no ALTER TYPE on PostgreSQL.
    return Enum(cls, native_enum=False, length=length)


# --- policy ----------------------------------------------------------------------------------------


class CompletionRule(str, enum.Enum):
    """What completing the programme means for an event."""

    #: at least `min_hours_percent` % of the programme's academic hours attended
    hours = "hours"
    #: present (at the door or in any session) on every day of the programme
    days = "days"
    #: both of the above
    both = "both"


class ImageKind(str, enum.Enum):
    """The organisation's images printed on its documents."""

    logo = "logo"
    signature = "signature"


#: the numbering template unless the organiser gives another
DEFAULT_NUMBER_TEMPLATE = "ПК-{year}-{seq:04}"
DEFAULT_STATEMENT_NUMBER_TEMPLATE = "СО-{year}-{seq:04}"


class CertificatePolicy(Base):
    """How an event issues its documents: what is printed, how numbers read, and who completed it."""

    __tablename__ = "certificate_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: registration's event id; one policy per event
    event_id: Mapped[int] = mapped_column(unique=True)
    #: the kind of programme: ПК (повышение квалификации) ends with an удостоверение
    programme_kind: Mapped[str] = mapped_column(String(8), default="ПК")
    #: the programme's title as printed on the documents
    programme_title: Mapped[str] = mapped_column(String(500))
    #: the programme's academic hours (at least 16 for ПК)
    academic_hours: Mapped[int]
    #: how an удостоверение's number reads: only {year} and {seq}/{seq:0N} placeholders
    number_template: Mapped[str] = mapped_column(String(60), default=DEFAULT_NUMBER_TEMPLATE)
    #: how a справка's number reads (its own sequence)
    statement_number_template: Mapped[str] = mapped_column(
        String(60), default=DEFAULT_STATEMENT_NUMBER_TEMPLATE
    )
    #: the issuing organisation's name as printed
    organisation: Mapped[str] = mapped_column(String(500))
    #: the numbering scope: numbers are gap-free and unique per organisation (this key), kind and year
    organisation_key: Mapped[str] = mapped_column(String(200))
    completion_rule: Mapped[CompletionRule] = mapped_column(
        _enum(CompletionRule, 8), default=CompletionRule.hours
    )
    #: for the hours rule: the share of the programme's hours to attend, in percent
    min_hours_percent: Mapped[int] = mapped_column(default=75)
    #: a day's entry at the door counts every session of that day as attended
    door_counts_sessions: Mapped[bool] = mapped_column(default=False)
    #: «Выдать» also issues справки об обучении to those who attended but did not complete, by default
    issue_statements: Mapped[bool] = mapped_column(default=False)
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_title: Mapped[str] = mapped_column(String(300), default="")
    #: the town printed on the documents (e.g. «Сочи»)
    place: Mapped[str] = mapped_column(String(300), default="")
    #: the organisation's logo and the signatory's signature: PNG or JPEG, at most 1 MB, checked on upload
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mime: Mapped[str | None] = mapped_column(String(16))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature_mime: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    #: the staff member who saved it last
    updated_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("programme_kind <> 'ПК' OR academic_hours >= 16", name="pk_at_least_16_hours"),
        CheckConstraint("min_hours_percent BETWEEN 1 AND 100", name="percent_range"),
    )


class EligibilityOverride(Base):
    """An organiser's decision on one participant, against what attendance says; a new row per change,
    the newest counts, and clearing is a row too (eligible None), so the history stays."""

    __tablename__ = "eligibility_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int]
    participant_id: Mapped[int]
    #: True / False: decided by hand; None: back to what attendance says
    eligible: Mapped[bool | None]
    reason: Mapped[str] = mapped_column(String(500), default="")
    #: the staff member who decided
    by: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_eligibility_overrides_event_participant", "event_id", "participant_id", "id"),
    )


# --- documents -------------------------------------------------------------------------------------


class DocumentKind(str, enum.Enum):
    #: удостоверение о повышении квалификации: the programme was completed
    certificate = "certificate"
    #: справка об обучении: part of the programme was attended
    statement = "statement"


class CertificateStatus(str, enum.Enum):
    """The PDF's state only; whether the document is valid is `Certificate.validity`."""

    #: waiting for the worker to render its PDF
    pending = "pending"
    rendered = "rendered"
    failed = "failed"


class Validity(str, enum.Enum):
    valid = "valid"
    revoked = "revoked"
    #: a newer version (after a correction) replaced it
    superseded = "superseded"


class NumberCounter(Base):
    """The last sequence number given per organisation, kind and year. Issuing locks this row in the same
    transaction as the inserts, so numbers are gap-free and never given twice, whoever issues at once."""

    __tablename__ = "certificate_number_counters"

    organisation_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind, 16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(default=0)


class RenderBatch(Base):
    """The documents one «Выдать» (or one re-issue) created; progress is counted from their statuses."""

    __tablename__ = "render_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int]
    #: how many documents it holds
    total: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the staff member who issued
    created_by: Mapped[str | None] = mapped_column(String(200))


class Certificate(Base):
    """One issued document (удостоверение or справка), one version of it."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ids in registration's database; a snapshot keeps what must not change afterwards
    event_id: Mapped[int]
    participant_id: Mapped[int]
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind, 16), default=DocumentKind.certificate)
    #: registration number in the organiser's book, unique within the organisation
    number: Mapped[str] = mapped_column(String(40))
    #: the numbering scope and the place in it (see NumberCounter)
    organisation_key: Mapped[str] = mapped_column(String(200))
    number_year: Mapped[int]
    number_seq: Mapped[int]
    verification_code: Mapped[str] = mapped_column(String(32), unique=True, default=new_verification_code)
    #: what is printed: name, gender, programme, hours and dates, number; frozen at issue
    snapshot: Mapped[dict] = mapped_column(JSON)
    #: 1 for the first document of a person, then one more per re-issue
    version: Mapped[int] = mapped_column(default=1)
    #: the version this one replaced, and the one that replaced it
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), unique=True)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), unique=True)
    #: when a newer version replaced it (set before the new one is inserted, see the unique index)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revocation_reason: Mapped[str | None] = mapped_column(String(500))
    #: whether the verification page may show the reason
    revocation_reason_public: Mapped[bool] = mapped_column(default=False)
    #: the PDF's state
    status: Mapped[CertificateStatus] = mapped_column(
        _enum(CertificateStatus, 16), default=CertificateStatus.pending
    )
    #: the render batch it was issued in
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("render_batches.id"))
    #: path of the PDF relative to the storage folder
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    #: why the last render failed, for the organiser
    error: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the staff member who issued it
    issued_by: Mapped[str | None] = mapped_column(String(200))
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    superseded_by: Mapped[Certificate | None] = relationship(
        foreign_keys=[superseded_by_id], remote_side=[id]
    )

    __table_args__ = (
        Index("ix_certificates_event_participant", "event_id", "participant_id"),
        Index("ix_certificates_batch_status", "batch_id", "status"),
        UniqueConstraint("organisation_key", "number", name="uq_certificates_organisation_number"),
        UniqueConstraint(
            "organisation_key", "kind", "number_year", "number_seq", name="uq_certificates_organisation_seq"
        ),
        # At most one current (not superseded, not revoked) document per person and event, even when
        # two organisers issue at once.
        Index(
            "uq_certificates_current",
            "event_id",
            "participant_id",
            unique=True,
            sqlite_where=text("superseded_at IS NULL AND revoked_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL AND revoked_at IS NULL"),
        ),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    @property
    def validity(self) -> Validity:
        if self.revoked_at is not None:
            return Validity.revoked
        if self.superseded_at is not None or self.superseded_by_id is not None:
            return Validity.superseded
        return Validity.valid


# --- attendance ------------------------------------------------------------------------------------


class CheckInOutcome(str, enum.Enum):
    """What a scan led to; a scanner must tell these apart at a glance."""

    checked_in = "checked_in"
    already_checked_in = "already_checked_in"
    unknown_code = "unknown_code"
    cancelled = "cancelled"
    not_on_list = "not_on_list"
    #: a logged reversal of a mistaken check-in (see CheckIn.reverses_id)
    undo = "undo"


class CheckIn(Base):
    """One scan at the door or in a session room, failed ones too; never deleted, only reversed."""

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ids in registration's database
    event_id: Mapped[int]
    #: None when the code was unknown
    participant_id: Mapped[int | None]
    day: Mapped[date] = mapped_column(Date)
    #: the programme session (registration's id); None for day-level entry at the door
    session_id: Mapped[int | None]
    #: session_id or 0: a non-null key, so the one-active-check-in index works on every database
    session_key: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[CheckInOutcome] = mapped_column(Enum(CheckInOutcome, native_enum=False, length=24))
    #: what was typed or scanned
    raw_code: Mapped[str | None] = mapped_column(String(200))
    #: the participant's name when scanned, so the log reads well without asking registration
    full_name: Mapped[str | None] = mapped_column(String(400))
    #: the tablet's clock at the scan
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the server's clock when the record was stored
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the staff member and device the gateway named
    staff: Mapped[str | None] = mapped_column(String(200))
    device: Mapped[str | None] = mapped_column(String(200))
    #: made while the tablet had no connection and sent when it came back (received_at - scanned_at is
    #: how late); the organiser's attendance page lists these and the conflicts among them
    offline: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: client-generated: a retried request carries the same nonce and never creates a second record
    nonce: Mapped[str] = mapped_column(String(96), unique=True)
    #: for already_checked_in: the active check-in that was found
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"))
    #: for undo: the check-in it reverses (at most one undo per check-in)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"), unique=True)
    #: why a check-in was undone (on the undo record)
    reason: Mapped[str | None] = mapped_column(String(500))
    #: set on a checked_in record when it is undone
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reversed_by: Mapped[str | None] = mapped_column(String(200))

    previous: Mapped[CheckIn | None] = relationship(foreign_keys=[previous_id], remote_side=[id])

    __table_args__ = (
        # At most one active check-in per participant, day and session (or door), even under races.
        Index(
            "uq_checkins_active",
            "event_id",
            "day",
            "session_key",
            "participant_id",
            unique=True,
            sqlite_where=text("outcome = 'checked_in' AND reversed_at IS NULL"),
            postgresql_where=text("outcome = 'checked_in' AND reversed_at IS NULL"),
        ),
        # The screen's log (newest first) and the counters.
        Index("ix_checkins_event_day_session", "event_id", "day", "session_key", "id"),
        Index("ix_checkins_event_participant", "event_id", "participant_id"),
        # The organiser's list of scans sent late by offline tablets: few rows of many.
        Index(
            "ix_checkins_offline",
            "event_id",
            "received_at",
            sqlite_where=text("offline"),
            postgresql_where=text("offline"),
        ),
        CheckConstraint("session_key = coalesce(session_id, 0)", name="session_key_matches"),
    )
