"""What the certificates API takes and returns."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from services.certificates.models import CertificateStatus, CheckInOutcome


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


# --- attendance ------------------------------------------------------------------------------

def _as_utc(value: datetime | None) -> datetime | None:
    # Everything is stored in UTC (SQLite keeps no offset and hands back naive datetimes).
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _blank_as_none(value):
    return None if value == "" else value


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
OptionalSessionId = Annotated[Annotated[int, Field(ge=1)] | None, BeforeValidator(_blank_as_none)]
Nonce = Annotated[str, Field(min_length=8, max_length=64)]


def _at_most_200(value):
    # A scanner can read anything (a URL, garbage); keep the scan, not all of what it typed.
    return value[:200] if isinstance(value, str) else value


class ParticipantRef(BaseModel):
    """What the gateway found in registration for the scanned code."""

    id: int = Field(ge=1)
    event_id: int = Field(ge=1)
    status: Literal["registered", "confirmed", "cancelled"]
    full_name: str = Field(max_length=400)


class CheckInIn(BaseModel):
    #: client-generated (a UUID): a retry carries the same one
    nonce: Nonce
    day: date
    #: None: day-level entry at the door
    session_id: OptionalSessionId = None
    #: the tablet's clock
    scanned_at: UtcDatetime
    raw_code: Annotated[str | None, BeforeValidator(_at_most_200)] = Field(None, max_length=200)
    #: None: registration does not know the code
    participant: ParticipantRef | None = None


class PreviousCheckIn(BaseModel):
    """The earlier check-in an `already_checked_in` answer points to: when, and by whom."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    scanned_at: UtcDatetime
    received_at: UtcDatetime
    staff: str | None
    device: str | None


class CheckInOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    outcome: CheckInOutcome
    event_id: int
    participant_id: int | None
    full_name: str | None
    day: date
    session_id: int | None
    raw_code: str | None
    scanned_at: UtcDatetime
    received_at: UtcDatetime
    staff: str | None
    device: str | None
    previous: PreviousCheckIn | None
    #: on an undo record: the check-in it reverses
    reverses_id: int | None
    reason: str | None
    #: on a check-in that was undone
    reversed_at: UtcDatetime | None
    reversed_by: str | None
    #: true when this answers a retry: nothing new was stored
    replayed: bool = False


class CheckInList(BaseModel):
    items: list[CheckInOut]


class UndoIn(BaseModel):
    nonce: Nonce
    reason: str | None = Field(None, max_length=500)


class CheckInLogQuery(BaseModel):
    day: Annotated[date | None, BeforeValidator(_blank_as_none)] = None
    #: absent: the door's (day-level) records
    session_id: OptionalSessionId = None
    limit: int = Field(20, ge=1, le=200)


class CountersQuery(BaseModel):
    day: date
    #: absent: the door's (day-level) check-ins
    session_id: OptionalSessionId = None


class Counters(BaseModel):
    checked_in: int


class BulkAttendanceIn(BaseModel):
    nonce: Nonce
    day: date
    session_id: OptionalSessionId = None
    participant_ids: list[int] = Field(max_length=5000)
    #: what the gateway found in registration for those ids
    participants: list[ParticipantRef] = Field(max_length=5000)


class BulkAttendanceOut(BaseModel):
    created: int
    already: int
    #: ids not checked in: unknown to registration, cancelled, or of another event
    skipped: list[int]


class SessionAttendance(BaseModel):
    id: int
    day: date
    title: str
    academic_hours: int
    checked_in: int


class DayAttendance(BaseModel):
    day: date
    present: int


class ParticipantAttendance(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    participant_id: int
    full_name: str | None
    session_ids: list[int]
    days: list[date]
    academic_hours: int


class Attendance(BaseModel):
    sessions: list[SessionAttendance]
    days: list[DayAttendance]
    participants: list[ParticipantAttendance]
