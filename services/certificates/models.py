"""Certificates' tables: issued qualification documents (attendance joins them later)."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, Enum, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eventops.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
