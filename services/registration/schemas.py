"""Every request and response model of registration's API.

What is refused here is refused with a message in the caller's language: pydantic's own error kinds are
worded once for every service (eventops.problems); the refusals of our own rules (СНИЛС, region,
consent, dates...) take their words from gettext as they are validated, inside the request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Annotated, Literal

from flask_babel import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    Json,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError
from spectree.model_adapter.pydantic_adapter import BaseFile

from services.registration import fields, importing
from services.registration.errors import Translate
from services.registration.models import (
    PROGRAMME_KINDS,
    EducationLevel,
    Event,
    Gender,
    ParticipantStatus,
    SessionKind,
)
from services.registration.regions import all_regions
from services.registration.snils import InvalidSnils, normalise_snils

# --- field types shared by creation and partial updates ------------------------------------------


def _refuse(code: str, message: str) -> PydanticCustomError:
    """A validation error with our own code and its message, already in the caller's language.

    No context is passed: pydantic would otherwise fill {braces} of a value quoted in the message."""
    return PydanticCustomError(code, message)


def _say_instead(code: str, message: Callable[[], str], *, only: str | None = None) -> WrapValidator:
    """Words a field's refusal ourselves (pydantic's `only` kind of error, or any), keeping the field's
    constraints as they are, and so their OpenAPI description."""

    def validate(value, handler):
        try:
            return handler(value)
        except ValidationError as exc:
            if only is None or any(error["type"] == only for error in exc.errors()):
                raise _refuse(code, message()) from None
            raise

    return WrapValidator(validate)


def _blank_to_none(value):
    if isinstance(value, str):
        return value.strip() or None
    return value


def trimmed(max_length: int, min_length: int = 0):
    """A string with surrounding spaces trimmed. Where markup is allowed (an event's title) it is kept as
    typed: it is data, shown as text."""
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)
    ]


def optional_trimmed(max_length: int):
    """Like trimmed(), but a blank value means "not given"."""
    return Annotated[trimmed(max_length) | None, BeforeValidator(_blank_to_none)]


@cache
def _region_codes() -> frozenset[str]:
    return frozenset(region.code for region in all_regions())


def _known_region(code: str | None) -> str | None:
    if code is not None and code not in _region_codes():
        raise _refuse(
            "unknown_region",
            _("Unknown region code «%(code)s»: choose a subject of the Russian Federation.", code=code),
        )
    return code


def _valid_snils(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalise_snils(value)
    except InvalidSnils as exc:
        if exc.code == "snils_format":
            raise _refuse(exc.code, _("СНИЛС must have 11 digits: XXX-XXX-XXX YY.")) from None
        raise _refuse(exc.code, _("The СНИЛС check number does not match: check the digits.")) from None


def _utc(moment: datetime) -> datetime:
    # SQLite hands back stored UTC times without their zone; say which zone they are in.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _following(rule: Callable[[str], fields.Breach | None]) -> AfterValidator:
    """A participant field's text rule (fields.py), the one the import applies too."""

    def check(value):
        if isinstance(value, str) and value and (breach := rule(value)):
            raise _refuse(breach.code, _(breach.msgid, value=fields.printable(value)))
        return value

    return AfterValidator(check)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
Name = Annotated[trimmed(100, min_length=1), _following(fields.name_breach)]
OptionalName = Annotated[optional_trimmed(100), _following(fields.name_breach)]
Phone = Annotated[trimmed(32), _following(fields.phone_breach)]


def plain_text(max_length: int):
    """Free text of a participant: trimmed, without markup, formulas or control characters."""
    return Annotated[trimmed(max_length), _following(fields.text_breach)]


def optional_plain_text(max_length: int):
    return Annotated[optional_trimmed(max_length), _following(fields.text_breach)]


# One code of our own instead of pydantic's generic value_error, so that the message can say what to fix.
Email = Annotated[
    EmailStr,
    _say_instead(
        "invalid_email", lambda: _("Not a valid e-mail address: it should look like name@example.org.")
    ),
]
RegionCode = Annotated[optional_trimmed(8), AfterValidator(_known_region)]
Snils = Annotated[str | None, BeforeValidator(_blank_to_none), AfterValidator(_valid_snils)]
Citizenship = Annotated[
    Annotated[str, StringConstraints(pattern=r"^\d{3}$")] | None,
    _say_instead(
        "citizenship_format",
        lambda: _("Citizenship is the country's three-digit ОКСМ code, e.g. 643 for Russia."),
        only="string_pattern_mismatch",
    ),
    BeforeValidator(_blank_to_none),
]
Slug = Annotated[
    str,
    StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$"),
    _say_instead(
        "slug_format", lambda: _("Latin letters, digits and hyphens only."), only="string_pattern_mismatch"
    ),
]
ProgrammeKind = Literal[PROGRAMME_KINDS]
OptionalEducationLevel = Annotated[EducationLevel | None, BeforeValidator(_blank_to_none)]


def _dates_in_order() -> PydanticCustomError:
    return _refuse("dates_in_order", _("The end date must not be before the start date."))


def _times_in_order() -> PydanticCustomError:
    return _refuse("times_in_order", _("The end time must be after the start time."))


# --- events and programme --------------------------------------------------------------------------


class EventIn(BaseModel):
    slug: Slug
    title: trimmed(500, min_length=3)
    organiser: trimmed(500) = ""
    place: trimmed(300) = ""
    starts_on: date
    ends_on: date
    programme_kind: ProgrammeKind = "ПК"
    registration_open: bool = False

    @field_validator("ends_on")
    @classmethod
    def dates_in_order(cls, ends_on: date, info: ValidationInfo) -> date:
        starts_on = info.data.get("starts_on")
        if starts_on and ends_on < starts_on:
            raise _dates_in_order()
        return ends_on


class EventPatch(BaseModel):
    """Only the fields sent are changed; null is refused where a value is required (defaults skip
    validation)."""

    slug: Slug = None
    title: trimmed(500, min_length=3) = None
    organiser: trimmed(500) = None
    place: trimmed(300) = None
    starts_on: date = None
    ends_on: date = None
    programme_kind: ProgrammeKind = None
    registration_open: bool = None


class EventOut(EventIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    created_at: UtcDateTime
    participants_count: int = 0
    #: participants whose registration is not cancelled: who is expected at the door
    active_participants_count: int = 0
    academic_hours: int = 0

    @classmethod
    def of(cls, event: Event, figures: dict[str, int]) -> EventOut:
        """The event with its figures (see events.figures)."""
        return cls.model_validate(event).model_copy(update=figures)


class EventList(BaseModel):
    items: list[EventOut]


class SessionIn(BaseModel):
    day: date
    starts_at: time
    ends_at: time
    title: trimmed(500, min_length=2)
    kind: SessionKind
    speakers: trimmed(500) = ""
    room: trimmed(200) = ""
    academic_hours: int = Field(0, ge=0, le=24)

    @field_validator("ends_at")
    @classmethod
    def times_in_order(cls, ends_at: time, info: ValidationInfo) -> time:
        starts_at = info.data.get("starts_at")
        if starts_at and ends_at <= starts_at:
            raise _times_in_order()
        return ends_at


class SessionPatch(BaseModel):
    day: date = None
    starts_at: time = None
    ends_at: time = None
    title: trimmed(500, min_length=2) = None
    kind: SessionKind = None
    speakers: trimmed(500) = None
    room: trimmed(200) = None
    academic_hours: int = Field(None, ge=0, le=24)


class SessionOut(SessionIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    event_id: int


class SessionList(BaseModel):
    items: list[SessionOut]


# --- participants ----------------------------------------------------------------------------------


class ParticipantIn(BaseModel):
    surname: Name
    first_name: Name
    patronymic: OptionalName = None
    email: Email
    phone: Phone = ""
    #: code of a subject of the Russian Federation, e.g. "16" for Республика Татарстан (see /regions)
    region_code: RegionCode = None
    organisation: plain_text(500) = ""
    position: plain_text(300) = ""
    status: ParticipantStatus = ParticipantStatus.registered
    birth_date: date | None = None
    gender: Gender | None = None
    #: 11 digits in any grouping; checked and stored as XXX-XXX-XXX YY
    snils: Snils = None
    #: ОКСМ code, 643 = Russia
    citizenship: Citizenship = None
    education_level: OptionalEducationLevel = None
    diploma_surname: OptionalName = None
    diploma_series: optional_plain_text(20) = None
    diploma_number: optional_plain_text(30) = None


class ParticipantPatch(BaseModel):
    """Only the fields sent are changed; send null to clear an optional one."""

    surname: Name = None
    first_name: Name = None
    patronymic: OptionalName = None
    email: Email = None
    phone: Phone = None
    region_code: RegionCode = None
    organisation: plain_text(500) = None
    position: plain_text(300) = None
    status: ParticipantStatus = None
    birth_date: date | None = None
    gender: Gender | None = None
    snils: Snils = None
    citizenship: Citizenship = None
    education_level: OptionalEducationLevel = None
    diploma_surname: OptionalName = None
    diploma_series: optional_plain_text(20) = None
    diploma_number: optional_plain_text(30) = None


class RegistrationIn(BaseModel):
    """The public registration form: what a person tells about themselves, and their consent."""

    surname: Name
    first_name: Name
    patronymic: OptionalName = None
    email: Email
    phone: Phone = ""
    region_code: RegionCode = None
    organisation: plain_text(500) = ""
    position: plain_text(300) = ""
    #: consent to the processing of personal data (152-ФЗ); must be true
    consent: bool

    @field_validator("consent")
    @classmethod
    def consent_given(cls, consent: bool) -> bool:
        if not consent:
            raise _refuse(
                "consent_required", _("Registration requires consent to the processing of personal data.")
            )
        return consent

    def participant(self) -> ParticipantIn:
        return ParticipantIn.model_validate(self.model_dump(exclude={"consent"}))


class ParticipantOut(ParticipantIn):
    model_config = ConfigDict(from_attributes=True)
    # As stored: the text rules bind what comes in, and a record saved before a rule existed is still shown.
    surname: str
    first_name: str
    patronymic: str | None = None
    email: str
    phone: str = ""
    organisation: str = ""
    position: str = ""
    diploma_surname: str | None = None
    diploma_series: str | None = None
    diploma_number: str | None = None
    #: ВО or СПО; what older imports stored is shown as it is
    education_level: str | None = None
    id: int
    event_id: int
    code: str
    full_name: str
    created_at: UtcDateTime
    cancelled_at: UtcDateTime | None = None


class ParticipantPrivateOut(ParticipantOut):
    """Includes the personal token: for the gateway's organiser pages and badges only."""

    token: str


class ParticipantList(BaseModel):
    items: list[ParticipantOut]
    total: int


class RosterEntry(BaseModel):
    """A participant as another service decides about them (eligibility, issuing): no contact details,
    no personal token."""

    id: int
    surname: str
    first_name: str
    patronymic: str | None
    #: "Фамилия Имя Отчество", as a document prints it
    full_name: str
    status: ParticipantStatus
    gender: Gender | None


class ParticipantRoster(BaseModel):
    """Every participant of the event, cancelled ones too, in the list's order (surname, then name)."""

    items: list[RosterEntry]
    total: int


#: one participant in a check-in tablet's index: id, name, folded search text, badge code, token hash
#: (hex), status, gender, organisation · region (services.registration.checkin_index.FIELDS)
CheckinIndexItem = tuple[int, str, str, str, str, ParticipantStatus, Gender | None, str]


class CheckinIndex(BaseModel):
    """What a check-in tablet keeps to go on offline: no e-mail, phone or token (see checkin_index)."""

    #: changes whenever a participant of the event does; also the answer's ETag
    version: str
    #: the names of the values of each item, in order
    fields: list[str]
    items: list[CheckinIndexItem]


class FrdoEntry(RosterEntry):
    """A roster entry with what the federal register ФИС ФРДО asks of a document's holder."""

    birth_date: date | None
    snils: str | None
    #: ОКСМ code, 643 = Russia
    citizenship: str | None
    education_level: str | None
    diploma_surname: str | None
    diploma_series: str | None
    diploma_number: str | None


class FrdoRoster(BaseModel):
    items: list[FrdoEntry]
    total: int


class ParticipantWithEvent(BaseModel):
    """What a participant's personal page shows: themselves and the event they registered for."""

    participant: ParticipantPrivateOut
    event: EventOut


class ParticipantCard(BaseModel):
    """A participant as a search result or a check-in lookup shows them; the status tells cancelled ones."""

    id: int
    event_id: int
    code: str
    surname: str
    first_name: str
    patronymic: str | None
    full_name: str
    organisation: str
    region_code: str | None
    region_name: str
    status: ParticipantStatus
    email: str
    #: so that the check-in screen can say «Отмечен» or «Отмечена»
    gender: Gender | None = None


class SearchQuery(BaseModel):
    #: any part of a name, e-mail, organisation, region or participant code; empty lists everyone
    q: str = Field("", max_length=200)
    limit: int = Field(20, ge=1, le=100)
    #: matches to skip before the `limit` returned: pages of a long list
    offset: int = Field(0, ge=0, le=1_000_000)


class SearchResult(BaseModel):
    items: list[ParticipantCard]
    #: how many participants match, of which `items` holds `limit` after the best `offset`
    total: int


class LookupQuery(BaseModel):
    #: a participant code, a personal token, or a personal-page URL (what a scanner reads from a badge)
    code: str = Field(min_length=1, max_length=500)


# --- documents -------------------------------------------------------------------------------------


class ExportQuery(BaseModel):
    format: Literal["xlsx", "csv"] = "xlsx"


class BadgesQuery(BaseModel):
    #: participant ids separated by commas; all participants but cancelled ones when absent
    ids: str | None = Field(None, max_length=20000, pattern=r"^\s*\d+(\s*,\s*\d+)*\s*$")

    def id_list(self) -> list[int] | None:
        return [int(part) for part in self.ids.split(",")] if self.ids else None


# --- spreadsheet imports ---------------------------------------------------------------------------

ColumnMapping = Annotated[
    Json[dict[str, str | None]] | None,
    _say_instead("invalid_json", lambda: _("The mapping must be a JSON object: column number → field.")),
    BeforeValidator(_blank_to_none),
]
RowNumbers = Annotated[
    Json[list[StrictInt]] | None,
    _say_instead("invalid_json", lambda: _("A JSON list of row numbers is expected.")),
    BeforeValidator(_blank_to_none),
]


class ImportForm(BaseModel):
    """The multipart form of both import calls: the file, and optionally the organiser's choices."""

    file: BaseFile
    #: JSON object: column index (from 0) → field, or null to ignore the column; default: guessed
    mapping: ColumnMapping = None
    #: JSON list of row numbers (as in the spreadsheet) to import; default: every row without errors
    accepted_rows: RowNumbers = None
    #: JSON list of row numbers to leave out of the default
    rejected_rows: RowNumbers = None


class SampleRow(BaseModel):
    row: int
    cells: list[str]


class RowProblemOut(BaseModel):
    severity: Literal["error", "warning", "duplicate"]
    code: str
    field: str | None
    column: str | None
    value: str
    suggestion: str | None
    message: str


class RowReport(BaseModel):
    row: int
    status: Literal["ok", "warning", "error", "duplicate"]
    problems: list[RowProblemOut]


class ReportCounts(BaseModel):
    total: int
    ok: int
    warning: int
    error: int
    duplicate: int


class ReportOut(BaseModel):
    counts: ReportCounts
    #: what is wrong with the mapping itself; while there is anything here, nothing can be imported
    mapping_problems: list[str]
    #: rows with problems only
    rows: list[RowReport]


#: rows of the file shown as they are in the preview
SAMPLE_ROWS = 20


class ImportPreview(BaseModel):
    filename: str
    headers: list[str]
    header_row: int
    #: column index → field; JSON object keys are strings
    mapping: dict[int, str]
    #: the guess from the headers, for a "reset" button
    guessed_mapping: dict[int, str]
    fields: list[str] = Field(default_factory=lambda: list(importing.FIELDS))
    sample: list[SampleRow]
    report: ReportOut

    @classmethod
    def of(cls, filename: str, preview: importing.Preview, translate: Translate) -> ImportPreview:
        table = preview.table
        return cls(
            filename=filename,
            headers=table.headers,
            header_row=table.header_row,
            mapping=preview.mapping,
            guessed_mapping=preview.guessed_mapping,
            sample=[SampleRow(row=number, cells=cells) for number, cells in table.rows[:SAMPLE_ROWS]],
            report=ReportOut.model_validate(preview.report.to_dict(translate)),
        )


class ImportResult(BaseModel):
    #: participants added
    created: int
    #: rows skipped because the person is already registered (or repeated in the file)
    skipped: int
    #: rows without errors that the organiser left out
    left_out: int
    #: rows with errors, not imported
    errors: int
    total: int

    @classmethod
    def of(cls, counts: dict[str, int], created: int) -> ImportResult:
        """What a commit did, from the report's counts and the number of participants added."""
        return cls(
            created=created,
            skipped=counts["duplicate"],
            left_out=counts["ok"] + counts["warning"] - created,
            errors=counts["error"],
            total=counts["total"],
        )


# --- reference data --------------------------------------------------------------------------------


class RegionOut(BaseModel):
    #: the code stored in participants' region_code
    code: str
    #: the official name, e.g. «Республика Татарстан»
    name: str


class RegionList(BaseModel):
    """Every subject of the Russian Federation, in the order a form lists them."""

    items: list[RegionOut]


class Reference(BaseModel):
    """The values a form may offer for each closed field, as the API accepts them."""

    regions: list[RegionOut]
    genders: list[Gender]
    participant_statuses: list[ParticipantStatus]
    session_kinds: list[SessionKind]
    education_levels: list[EducationLevel]
    programme_kinds: list[ProgrammeKind]


# --- mail to participants ----------------------------------------------------------------------------

MessageStatusName = Literal["held", "queued", "sending", "sent", "failed", "bounced"]
MessageKindName = Literal[
    "confirmation", "certificate_ready", "survey_invitation", "survey_reminder", "organiser"
]


class MessageOut(BaseModel):
    """A letter in the outbox, without its text (see MessageFull)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    participant_id: int | None
    campaign_id: int | None
    kind: MessageKindName
    to_address: str
    to_name: str
    subject: str
    status: MessageStatusName
    #: what the SMTP server said when it did not take the letter (or why it was not sent)
    server_answer: str
    attempts: int
    created_at: UtcDateTime
    sent_at: UtcDateTime | None = None


class MessageFull(MessageOut):
    message_id: str
    text_body: str
    html_body: str
    unsubscribe_url: str | None = None


class OutboxQuery(BaseModel):
    status: MessageStatusName | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class Outbox(BaseModel):
    items: list[MessageOut]
    #: letters of the event in each status
    counts: dict[str, int]
    #: whether an SMTP server is configured; without one letters are held here
    sending_enabled: bool


class Queued(BaseModel):
    """What a request put in the outbox."""

    #: letters written (or queued again)
    messages: int
    #: participants left out: opted out of bulk mail, or already sent this letter
    skipped: int = 0
    campaign_id: int | None = None


class CampaignIn(BaseModel):
    """An organiser's letter to all participants of the event, or to those the filters choose."""

    subject: trimmed(300, min_length=1)
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
    region_code: RegionCode = None
    organisation: optional_trimmed(500) = None
    status: ParticipantStatus | None = None
    #: only these participants (e.g. those the certificates service says are checked in)
    participant_ids: list[StrictInt] | None = Field(None, max_length=100_000)
    #: leave these participants out (e.g. the checked-in ones, to write to those who did not come)
    excluded_ids: list[StrictInt] = Field(default_factory=list, max_length=100_000)
    #: the filters in words, as the outbox shows them
    audience: optional_trimmed(1000) = None
    #: who wrote it
    created_by: optional_trimmed(200) = None


class ResendIn(BaseModel):
    #: these letters; none: every failed letter of the event
    ids: list[StrictInt] | None = Field(None, max_length=100_000)


class CertificateReady(BaseModel):
    participant_id: StrictInt
    number: trimmed(64, min_length=1)


class CertificatesReadyIn(BaseModel):
    certificates: list[CertificateReady] = Field(max_length=100_000)


class SurveyMailIn(BaseModel):
    """Invitations to a survey (or its reminder, to those who have not answered: the gateway knows who)."""

    #: the survey's stable key in the feedback service (a letter per participant and key, at most)
    survey_key: trimmed(100, min_length=1)
    title: trimmed(300, min_length=1)
    participant_ids: list[StrictInt] = Field(max_length=100_000)
    reminder: bool = False
    #: an anonymous survey: nobody knows who answered, so its reminder says "if you have not answered yet"
    anonymous: bool = False


class MailPreferences(BaseModel):
    #: the participant asked for no organisers' messages (transactional letters still come)
    opted_out: bool
