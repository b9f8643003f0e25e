"""Certificates' tables: attendance (check-ins) and issued qualification documents."""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from eventops.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()



# Crockford's base32: no I, L, O, U, so a code read off paper is typed right.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_verification_code() -> str:
    """100 random bits, printed as XXXXX-XXXXX-XXXXX-XXXXX: unguessable, yet typeable from paper."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


class CertificateStatus(str, enum.Enum):
    #: waiting for the worker to render its PDF
    pending = "pending"
    rendered = "rendered"
    failed = "failed"
    revoked = "revoked"


class Certificate(Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ids in registration's database; a snapshot keeps what must not change afterwards
    event_id: Mapped[int]
    participant_id: Mapped[int]
    #: registration number in the organiser's book, unique across the organisation
    number: Mapped[str] = mapped_column(String(40), unique=True)
    verification_code: Mapped[str] = mapped_column(String(32), unique=True, default=new_verification_code)
    #: what is printed: name, gender, programme, hours, dates; frozen at issue
    snapshot: Mapped[dict] = mapped_column(JSON)
    status: Mapped[CertificateStatus] = mapped_column(
        Enum(CertificateStatus, native_enum=False, length=16), default=CertificateStatus.pending)
    #: path of the PDF relative to the storage folder
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    #: why the last render failed, for the organiser
    error: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_certificates_event_participant", "event_id", "participant_id"),)


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
        Index("uq_checkins_active", "event_id", "day", "session_key", "participant_id", unique=True,
              sqlite_where=text("outcome = 'checked_in' AND reversed_at IS NULL"),
              postgresql_where=text("outcome = 'checked_in' AND reversed_at IS NULL")),
        # The screen's log (newest first) and the counters.
        Index("ix_checkins_event_day_session", "event_id", "day", "session_key", "id"),
        Index("ix_checkins_event_participant", "event_id", "participant_id"),
        CheckConstraint("session_key = coalesce(session_id, 0)", name="session_key_matches"),
    )
