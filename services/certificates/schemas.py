"""What the certificates API takes and returns: every request and response model of the service.

Errors a person reads are gettext messages (PydanticCustomError with a translated text), so the one
validation hook of eventops.openapi answers them in the caller's language.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from flask_babel import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from services.certificates import policy as policy_rules
from services.certificates.models import (
    DEFAULT_NUMBER_TEMPLATE,
    DEFAULT_STATEMENT_NUMBER_TEMPLATE,
    CertificateStatus,
    CheckInOutcome,
    CompletionRule,
    DocumentKind,
    Validity,
)


def _as_utc(value: datetime | None) -> datetime | None:
    # Everything is stored in UTC (SQLite keeps no offset and hands back naive datetimes).
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _blank_as_none(value):
    return None if value == "" else value


def trimmed(max_length: int, min_length: int = 0):
    """A string with surrounding spaces trimmed; markup is kept as typed (it is data, shown as text)."""
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)
    ]


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Gender = Literal["male", "female"]


# --- policy ----------------------------------------------------------------------------------------


def _template_message(code: str) -> str:
    return {
        "bad_placeholder": _("Only the placeholders {year}, {seq} and {seq:0N} (N from 1 to 9) are allowed."),
        "needs_seq": _("The template needs the sequence number {seq} exactly once."),
        "too_long": _("Numbers made by this template would be longer than 40 characters."),
    }[code]


def _number_template(value: str) -> str:
    try:
        policy_rules.NumberTemplate.parse(value)
    except policy_rules.TemplateError as exc:
        raise PydanticCustomError(exc.code, _template_message(exc.code)) from None
    return value


NumberTemplateText = Annotated[trimmed(60, min_length=1), AfterValidator(_number_template)]


def _image_message(code: str) -> str:
    return {
        "not_base64": _("The image is not valid base64."),
        "too_large": _("The image is larger than 1 MB."),
        "not_an_image": _("Only PNG or JPEG images can be used."),
        "too_many_pixels": _("The image has too many pixels; use a smaller one."),
    }[code]


def image_problem_message(code: str) -> str:
    """The words for a refused image (policy.ImageError.code), for the API's field errors."""
    return _image_message(code)


def _base64_image(value: str | None) -> bytes | None:
    """null keeps the stored image, "" removes it, anything else must be a base64 PNG or JPEG."""
    if value is None:
        return None
    if value == "":
        return b""
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise PydanticCustomError("not_base64", _image_message("not_base64")) from None
    try:
        policy_rules.check_image(data)
    except policy_rules.ImageError as exc:
        raise PydanticCustomError(exc.code, _image_message(exc.code)) from None
    return data


Base64Image = Annotated[str | None, AfterValidator(_base64_image)]


class PolicyIn(BaseModel):
    """The whole policy of an event (PUT replaces it). Images: base64 (or a data: URI); null keeps the
    stored image, "" removes it. `PUT .../policy/images/<logo|signature>` takes the raw file instead."""

    model_config = ConfigDict(extra="forbid")

    #: ПК: повышение квалификации, ending with an удостоверение (the only kind issued so far)
    programme_kind: Literal["ПК"] = "ПК"
    programme_title: trimmed(500, min_length=3)
    #: the programme's academic hours: at least 16 for ПК
    academic_hours: int = Field(ge=1, le=10000)
    number_template: NumberTemplateText = DEFAULT_NUMBER_TEMPLATE
    statement_number_template: NumberTemplateText = DEFAULT_STATEMENT_NUMBER_TEMPLATE
    organisation: trimmed(500, min_length=2)
    #: the numbering scope; blank: derived from the organisation's name
    organisation_key: trimmed(200) = ""
    completion_rule: CompletionRule = CompletionRule.hours
    min_hours_percent: int = Field(75, ge=1, le=100)
    door_counts_sessions: bool = False
    issue_statements: bool = False
    signatory_name: trimmed(200) = ""
    signatory_title: trimmed(300) = ""
    place: trimmed(300) = ""
    logo: Base64Image = None
    signature: Base64Image = None

    @field_validator("academic_hours")
    @classmethod
    def pk_floor(cls, hours: int, info: ValidationInfo) -> int:
        if info.data.get("programme_kind", "ПК") == "ПК" and hours < policy_rules.MIN_PK_HOURS:
            raise PydanticCustomError(
                "below_pk_minimum",
                _(
                    "A professional development (ПК) programme has at least %(n)s academic hours.",
                    n=policy_rules.MIN_PK_HOURS,
                ),
            )
        return hours

    @field_validator("statement_number_template")
    @classmethod
    def templates_differ(cls, value: str, info: ValidationInfo) -> str:
        # Two books with the same fixed text would print the same numbers.
        other = info.data.get("number_template")
        if (
            other
            and policy_rules.NumberTemplate(other).skeleton == policy_rules.NumberTemplate(value).skeleton
        ):
            raise PydanticCustomError(
                "same_as_certificates",
                _("Statements need a number template with text of their own, unlike the certificates' one."),
            )
        return value


class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: int
    programme_kind: str
    programme_title: str
    academic_hours: int
    number_template: str
    statement_number_template: str
    organisation: str
    organisation_key: str
    completion_rule: CompletionRule
    min_hours_percent: int
    door_counts_sessions: bool
    issue_statements: bool
    signatory_name: str
    signatory_title: str
    place: str
    #: the images themselves: GET .../policy/images/<logo|signature>
    logo_mime: str | None
    signature_mime: str | None
    #: hours attended needed under the hours rule
    required_hours: int = 0
    #: the first numbers the templates make, as an example for the form
    number_example: str = ""
    statement_number_example: str = ""
    updated_at: UtcDatetime
    updated_by: str | None


# --- documents -------------------------------------------------------------------------------------


class Snapshot(BaseModel):
    """What is printed on a document, frozen when it is issued (RENDERING prints exactly this)."""

    kind: DocumentKind
    surname: str
    first_name: str
    patronymic: str | None = None
    gender: Gender | None = None
    programme_title: str
    programme_kind: str = "ПК"
    #: the programme's hours (printed on an удостоверение)
    academic_hours: int
    #: the hours attended (printed on a справка)
    attended_hours: int
    organisation: str
    place: str = ""
    starts_on: date
    ends_on: date
    issued_on: date
    signatory_name: str = ""
    signatory_title: str = ""
    number: str


class CertificateBrief(BaseModel):
    """A person's current document as lists show it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: DocumentKind
    number: str
    status: CertificateStatus
    validity: Validity
    version: int


class CertificateOut(BaseModel):
    """A document with everything staff may see."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    event_id: int
    participant_id: int
    kind: DocumentKind
    number: str
    version: int
    verification_code: str
    snapshot: dict
    status: CertificateStatus
    validity: Validity
    error: str | None
    batch_id: int | None
    supersedes_id: int | None
    superseded_by_id: int | None
    issued_at: UtcDatetime
    issued_by: str | None
    rendered_at: UtcDatetime | None
    revoked_at: UtcDatetime | None
    revoked_by: str | None
    revocation_reason: str | None
    revocation_reason_public: bool


class CertificateList(BaseModel):
    items: list[CertificateOut]


class RevokeIn(BaseModel):
    reason: trimmed(500, min_length=1)
    #: whether the public verification page may show the reason
    reason_public: bool = False


class IssueIn(BaseModel):
    #: also issue справки to those who attended but did not complete; null: the policy's default
    statements: bool | None = None


class IssueOut(BaseModel):
    batch_id: int
    total: int
    certificates: int
    statements: int


class BatchOut(BaseModel):
    id: int
    event_id: int
    total: int
    rendered: int
    failed: int
    pending: int
    #: nothing left pending
    done: bool


class Verification(BaseModel):
    """What anyone may learn from a verification code: enough to check a paper, nothing more."""

    status: Validity
    kind: DocumentKind
    number: str
    holder: str
    programme_title: str
    #: hours printed on the document: the programme's (удостоверение) or those attended (справка)
    academic_hours: int
    starts_on: date
    ends_on: date
    issued_on: date
    organisation: str
    revoked_on: date | None = None
    #: only when the organiser made the reason public
    revocation_reason: str | None = None
    superseded_by_code: str | None = None


# --- eligibility -----------------------------------------------------------------------------------


class OverrideIn(BaseModel):
    #: true / false decides by hand; null clears the decision (back to attendance)
    eligible: bool | None
    #: validated when absent too: a decision by hand always says why
    reason: trimmed(500) = Field("", validate_default=True)

    @field_validator("reason")
    @classmethod
    def reason_needed(cls, reason: str, info: ValidationInfo) -> str:
        if info.data.get("eligible") is not None and not reason:
            raise PydanticCustomError("reason_required", _("Say why you decide by hand."))
        return reason


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    eligible: bool | None
    reason: str
    by: str | None
    at: UtcDatetime


class EligibilityItem(BaseModel):
    participant_id: int
    full_name: str
    #: the registration status: registered, confirmed or cancelled
    status: str
    gender: Gender | None
    attended_hours: int
    required_hours: int
    programme_hours: int
    days_present: list[date]
    days_missing: list[date]
    #: the decision that counts (the override's if there is one)
    eligible: bool
    #: what attendance alone says
    computed_eligible: bool
    #: why not (or why by hand), as sentences in the caller's language
    reasons: list[str]
    override: OverrideOut | None
    certificate: CertificateBrief | None


class EligibilitySummary(BaseModel):
    total: int
    eligible: int
    not_eligible: int
    cancelled: int
    overridden: int
    #: people holding a valid удостоверение / справка
    issued: int
    statements: int
    #: eligible people without a valid удостоверение: what «Выдать» would issue
    to_issue: int


class Eligibility(BaseModel):
    completion_rule: CompletionRule
    programme_hours: int
    required_hours: int
    #: the programme's days (days with sessions)
    days: list[date]
    summary: EligibilitySummary
    items: list[EligibilityItem]


# --- the participant's own page --------------------------------------------------------------------


class RecordSession(BaseModel):
    id: int
    title: str
    starts_at: time | None
    ends_at: time | None
    academic_hours: int
    #: checked in to the session, or (with the door rule) at the door that day
    attended: bool


class RecordDay(BaseModel):
    day: date
    present: bool
    #: entered at the door that day
    at_door: bool
    sessions: list[RecordSession]


class RecordEligibility(BaseModel):
    eligible: bool
    reasons: list[str]
    #: one sentence for the participant: completed, or what is missing
    summary: str


class RecordCertificate(CertificateBrief):
    verification_code: str
    #: the PDF is rendered and the document valid: the download link may be shown
    downloadable: bool


class ParticipantRecord(BaseModel):
    participant_id: int
    event_id: int
    full_name: str
    days: list[RecordDay]
    attended_hours: int
    programme_hours: int
    #: None until the organiser sets the event's policy
    eligibility: RecordEligibility | None
    certificate: RecordCertificate | None


# --- attendance ------------------------------------------------------------------------------

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
    #: made while the tablet was offline and sent when the connection came back
    offline: bool = False


class PreviousCheckIn(BaseModel):
    """The earlier check-in an `already_checked_in` answer points to: when, and by whom."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    scanned_at: UtcDatetime
    received_at: UtcDatetime
    staff: str | None
    device: str | None
    offline: bool


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
    #: made while the tablet was offline, sent later
    offline: bool
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


class CheckInConflict(BaseModel):
    """One participant admitted by two tablets for the same day and place, at least one of them offline (or
    both within a couple of minutes): `kept` holds the check-in, `duplicate` is stored as a duplicate scan."""

    participant_id: int | None
    full_name: str | None
    day: date
    session_id: int | None
    kept: PreviousCheckIn
    duplicate: PreviousCheckIn


class OfflineScans(BaseModel):
    #: scans sent late by offline tablets, the newest arrivals first (at most a few hundred)
    items: list[CheckInOut]
    #: offline scans in all
    total: int
    conflicts: list[CheckInConflict]


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
