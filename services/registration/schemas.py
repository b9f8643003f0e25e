"""What registration's API takes and returns, and the words it uses to say what was wrong."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from functools import cache
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from services.registration.models import Gender, ParticipantStatus, SessionKind
from services.registration.regions import all_regions
from services.registration.snils import InvalidSnils, normalise_snils

# --- field types shared by creation and partial updates ------------------------------------------


def _error(code: str, context: dict | None = None) -> PydanticCustomError:
    """A validation error with our own code; its text is the Russian message (the API translates by code)."""
    return PydanticCustomError(code, ERROR_MESSAGES["ru"][code], context)


def _blank_to_none(value):
    if isinstance(value, str):
        return value.strip() or None
    return value


def trimmed(max_length: int, min_length: int = 0):
    """A string with surrounding spaces trimmed. Markup is kept as typed: it is data, shown as text."""
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
        raise _error("unknown_region", {"code": code})
    return code


def _valid_snils(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalise_snils(value)
    except InvalidSnils as exc:
        raise _error(exc.code) from None


def _email(value, handler):
    # One code of our own instead of pydantic's generic value_error, so the message can say what to fix.
    try:
        return handler(value)
    except ValidationError:
        raise _error("invalid_email") from None


def _utc(moment: datetime) -> datetime:
    # SQLite hands back stored UTC times without their zone; say which zone they are in.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
Name = trimmed(100, min_length=1)
Email = Annotated[EmailStr, WrapValidator(_email)]
RegionCode = Annotated[optional_trimmed(8), AfterValidator(_known_region)]
Snils = Annotated[str | None, BeforeValidator(_blank_to_none), AfterValidator(_valid_snils)]
Citizenship = Annotated[
    Annotated[str, StringConstraints(pattern=r"^\d{3}$")] | None, BeforeValidator(_blank_to_none)
]
Slug = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
ProgrammeKind = Annotated[str, StringConstraints(pattern="^(ПК|ПП)$")]


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
            raise _error("dates_in_order")
        return ends_on


class EventPatch(BaseModel):
    """Only the fields sent are changed; null is refused where a value is required (defaults skip validation)."""

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
            raise _error("times_in_order")
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
    patronymic: optional_trimmed(100) = None
    email: Email
    phone: trimmed(32) = ""
    #: code of a subject of the Russian Federation, e.g. "16" for Республика Татарстан
    region_code: RegionCode = None
    organisation: trimmed(500) = ""
    position: trimmed(300) = ""
    status: ParticipantStatus = ParticipantStatus.registered
    birth_date: date | None = None
    gender: Gender | None = None
    #: 11 digits in any grouping; checked and stored as XXX-XXX-XXX YY
    snils: Snils = None
    #: ОКСМ code, 643 = Russia
    citizenship: Citizenship = None
    education_level: optional_trimmed(8) = None
    diploma_surname: optional_trimmed(100) = None
    diploma_series: optional_trimmed(20) = None
    diploma_number: optional_trimmed(30) = None


class ParticipantPatch(BaseModel):
    """Only the fields sent are changed; send null to clear an optional one."""

    surname: Name = None
    first_name: Name = None
    patronymic: optional_trimmed(100) = None
    email: Email = None
    phone: trimmed(32) = None
    region_code: RegionCode = None
    organisation: trimmed(500) = None
    position: trimmed(300) = None
    status: ParticipantStatus = None
    birth_date: date | None = None
    gender: Gender | None = None
    snils: Snils = None
    citizenship: Citizenship = None
    education_level: optional_trimmed(8) = None
    diploma_surname: optional_trimmed(100) = None
    diploma_series: optional_trimmed(20) = None
    diploma_number: optional_trimmed(30) = None


class RegistrationIn(BaseModel):
    """The public registration form: what a person tells about themselves, and their consent."""

    surname: Name
    first_name: Name
    patronymic: optional_trimmed(100) = None
    email: Email
    phone: trimmed(32) = ""
    region_code: RegionCode = None
    organisation: trimmed(500) = ""
    position: trimmed(300) = ""
    #: consent to the processing of personal data (152-ФЗ); must be true
    consent: bool

    @field_validator("consent")
    @classmethod
    def consent_given(cls, consent: bool) -> bool:
        if not consent:
            raise _error("consent_required")
        return consent

    def participant(self) -> ParticipantIn:
        return ParticipantIn.model_validate(self.model_dump(exclude={"consent"}))


class ParticipantOut(ParticipantIn):
    model_config = ConfigDict(from_attributes=True)
    email: str
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


class SearchResult(BaseModel):
    items: list[ParticipantCard]
    #: how many participants match, of which `items` holds the best `limit`
    total: int


class LookupQuery(BaseModel):
    #: a participant code, a personal token, or a personal-page URL (what a scanner reads from a badge)
    code: str = Field(min_length=1, max_length=500)


class ExportQuery(BaseModel):
    format: Literal["xlsx", "csv"] = "xlsx"


class BadgesQuery(BaseModel):
    #: participant ids separated by commas; all participants but cancelled ones when absent
    ids: str | None = Field(None, max_length=20000, pattern=r"^\s*\d+(\s*,\s*\d+)*\s*$")

    def id_list(self) -> list[int] | None:
        return [int(part) for part in self.ids.split(",")] if self.ids else None


# --- messages ----------------------------------------------------------------------------------------
# Error codes → what a person reads, in the language the gateway asks for (Russian unless it asks for
# English). Validation errors of pydantic's own kinds ("missing", "string_too_long", ...) are here too.

ERROR_MESSAGES = {
    "ru": {
        "missing": "Обязательное поле.",
        "blank": "Заполните поле.",
        "string_type": "Ожидается текст.",
        "string_too_short": "Слишком короткое значение (минимум символов: {min_length}).",
        "string_too_long": "Слишком длинное значение (максимум символов: {max_length}).",
        "string_pattern_mismatch": "Значение в неверном формате.",
        "int_parsing": "Ожидается целое число.",
        "int_type": "Ожидается целое число.",
        "greater_than_equal": "Значение должно быть не меньше {ge}.",
        "less_than_equal": "Значение должно быть не больше {le}.",
        "bool_parsing": "Ожидается «да» или «нет» (true/false).",
        "bool_type": "Ожидается «да» или «нет» (true/false).",
        "date_from_datetime_parsing": "Неверная дата: ожидается ГГГГ-ММ-ДД.",
        "date_parsing": "Неверная дата: ожидается ГГГГ-ММ-ДД.",
        "date_type": "Неверная дата: ожидается ГГГГ-ММ-ДД.",
        "time_parsing": "Неверное время: ожидается ЧЧ:ММ.",
        "time_type": "Неверное время: ожидается ЧЧ:ММ.",
        "enum": "Недопустимое значение; возможные: {expected}.",
        "literal_error": "Недопустимое значение; возможные: {expected}.",
        "model_attributes_type": "Ожидается JSON-объект.",
        "dict_type": "Ожидается JSON-объект.",
        "invalid_email": "Неверный адрес e-mail — проверьте, что он вида name@example.ru.",
        "unknown_region": "Неизвестный код региона «{code}» — выберите субъект РФ из списка.",
        "snils_format": "СНИЛС должен состоять из 11 цифр: XXX-XXX-XXX YY.",
        "snils_checksum": "Контрольное число СНИЛС не сходится — проверьте цифры.",
        "consent_required": "Без согласия на обработку персональных данных зарегистрироваться нельзя.",
        "dates_in_order": "Дата окончания не может быть раньше даты начала.",
        "times_in_order": "Время окончания должно быть позже времени начала.",
        "outside_event": "День занятия должен попадать в даты мероприятия.",
        "sessions_outside": "Есть занятия вне новых дат мероприятия — сначала перенесите или удалите их.",
        "taken": "Этот адрес (slug) уже занят другим мероприятием.",
        "duplicate": "Участник с таким e-mail уже зарегистрирован на это мероприятие.",
        "invalid": "Недопустимое значение.",
        # details of problems that are not about one field
        "invalid_request": "В запросе есть ошибки — исправьте отмеченные поля.",
        "event_not_found": "Мероприятие не найдено.",
        "session_not_found": "Занятие не найдено в программе этого мероприятия.",
        "participant_not_found": "Участник не найден на этом мероприятии.",
        "unknown_code": "Нет участника с таким кодом.",
        "unknown_token": "Ссылка недействительна.",
        "registration_closed": "Регистрация на это мероприятие закрыта.",
        "nobody_for_badges": "Нет участников, для которых можно напечатать бейджи.",
    },
    "en": {
        "missing": "This field is required.",
        "blank": "This field must not be empty.",
        "string_type": "Text is expected.",
        "string_too_short": "Too short (at least {min_length} characters).",
        "string_too_long": "Too long (at most {max_length} characters).",
        "string_pattern_mismatch": "The value is in a wrong format.",
        "int_parsing": "A whole number is expected.",
        "int_type": "A whole number is expected.",
        "greater_than_equal": "Must be at least {ge}.",
        "less_than_equal": "Must be at most {le}.",
        "bool_parsing": "Yes or no (true/false) is expected.",
        "bool_type": "Yes or no (true/false) is expected.",
        "date_from_datetime_parsing": "Invalid date: YYYY-MM-DD is expected.",
        "date_parsing": "Invalid date: YYYY-MM-DD is expected.",
        "date_type": "Invalid date: YYYY-MM-DD is expected.",
        "time_parsing": "Invalid time: HH:MM is expected.",
        "time_type": "Invalid time: HH:MM is expected.",
        "enum": "Not an allowed value; allowed: {expected}.",
        "literal_error": "Not an allowed value; allowed: {expected}.",
        "model_attributes_type": "A JSON object is expected.",
        "dict_type": "A JSON object is expected.",
        "invalid_email": "Not a valid e-mail address — it should look like name@example.org.",
        "unknown_region": "Unknown region code «{code}» — choose a subject of the Russian Federation.",
        "snils_format": "СНИЛС must have 11 digits: XXX-XXX-XXX YY.",
        "snils_checksum": "The СНИЛС check number does not match — check the digits.",
        "consent_required": "Registration requires consent to the processing of personal data.",
        "dates_in_order": "The end date must not be before the start date.",
        "times_in_order": "The end time must be after the start time.",
        "outside_event": "The session's day must be within the event's dates.",
        "sessions_outside": "Some sessions fall outside the new dates — move or delete them first.",
        "taken": "This slug is already used by another event.",
        "duplicate": "A participant with this e-mail is already registered for this event.",
        "invalid": "Not an allowed value.",
        "invalid_request": "The request has errors — correct the fields marked.",
        "event_not_found": "Event not found.",
        "session_not_found": "No such session in this event's programme.",
        "participant_not_found": "No such participant in this event.",
        "unknown_code": "No participant has this code.",
        "unknown_token": "This link is not valid.",
        "registration_closed": "Registration for this event is closed.",
        "nobody_for_badges": "There is nobody to print badges for.",
    },
}


class _KeepUnknown(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def error_message(code: str, locale: str = "ru", context: dict | None = None) -> str:
    """The message for an error code; `context` fills its placeholders ({min_length}, {code}...)."""
    messages = ERROR_MESSAGES.get(locale, ERROR_MESSAGES["ru"])
    template = messages.get(code, messages["invalid"])
    return template.format_map(_KeepUnknown({key: str(value) for key, value in (context or {}).items()}))
