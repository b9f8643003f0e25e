"""What registration's API takes and returns."""
from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from services.registration.models import Gender, ParticipantStatus, SessionKind


class EventIn(BaseModel):
    slug: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=3, max_length=500)
    organiser: str = Field("", max_length=500)
    place: str = Field("", max_length=300)
    starts_on: date
    ends_on: date
    programme_kind: str = Field("ПК", pattern="^(ПК|ПП)$")
    registration_open: bool = False

    @model_validator(mode="after")
    def dates_in_order(self):
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class EventOut(EventIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    created_at: datetime
    participants_count: int = 0
    academic_hours: int = 0


class EventList(BaseModel):
    items: list[EventOut]


class SessionIn(BaseModel):
    day: date
    starts_at: time
    ends_at: time
    title: str = Field(min_length=2, max_length=500)
    kind: SessionKind
    speakers: str = Field("", max_length=500)
    room: str = Field("", max_length=200)
    academic_hours: int = Field(0, ge=0, le=24)

    @model_validator(mode="after")
    def times_in_order(self):
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SessionOut(SessionIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    event_id: int


class SessionList(BaseModel):
    items: list[SessionOut]


class ParticipantIn(BaseModel):
    surname: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=100)
    patronymic: str | None = Field(None, max_length=100)
    email: EmailStr
    phone: str = Field("", max_length=32)
    region_code: str | None = Field(None, max_length=8)
    organisation: str = Field("", max_length=500)
    position: str = Field("", max_length=300)
    status: ParticipantStatus = ParticipantStatus.registered
    birth_date: date | None = None
    gender: Gender | None = None
    snils: str | None = Field(None, max_length=14)
    citizenship: str | None = Field(None, pattern=r"^\d{3}$")
    education_level: str | None = Field(None, max_length=8)
    diploma_surname: str | None = Field(None, max_length=100)
    diploma_series: str | None = Field(None, max_length=20)
    diploma_number: str | None = Field(None, max_length=30)


class ParticipantOut(ParticipantIn):
    model_config = ConfigDict(from_attributes=True)
    email: str
    id: int
    event_id: int
    code: str
    full_name: str
    created_at: datetime


class ParticipantPrivateOut(ParticipantOut):
    """Includes the personal token: for the gateway's organiser pages and badges only."""
    token: str


class ParticipantList(BaseModel):
    items: list[ParticipantOut]
    total: int
