"""What the certificates API takes and returns."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.certificates.models import CertificateStatus


class Snapshot(BaseModel):
    """What is printed on the certificate, frozen when it is issued."""

    surname: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=100)
    patronymic: str | None = Field(None, max_length=100)
    gender: str | None = Field(None, pattern="^(male|female)$")
    programme_title: str = Field(min_length=3, max_length=500)
    programme_kind: str = Field("ПК", pattern="^(ПК|ПП)$")
    academic_hours: int = Field(ge=1, le=10000)
    organiser: str = Field("", max_length=500)
    place: str = Field("", max_length=300)
    starts_on: date
    ends_on: date
    issued_on: date


class CertificateIn(BaseModel):
    event_id: int = Field(ge=1)
    participant_id: int = Field(ge=1)
    number: str = Field(min_length=1, max_length=40)
    snapshot: Snapshot


class CertificateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    event_id: int
    participant_id: int
    number: str
    verification_code: str
    snapshot: dict
    status: CertificateStatus
    error: str | None
    issued_at: datetime
    rendered_at: datetime | None


class CertificateList(BaseModel):
    items: list[CertificateOut]


class Verification(BaseModel):
    """What anyone may learn from a verification code: enough to check a paper, nothing more."""

    valid: bool
    status: CertificateStatus
    number: str
    holder: str
    programme_title: str
    academic_hours: int
    starts_on: date
    ends_on: date
    organiser: str
