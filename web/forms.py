"""Forms of the organiser and public pages: what a person typed, read into the JSON a service takes.

The forms check only what is plain from the page itself (a field left empty, too long, a day before the first
day), to answer at once; the service decides what is valid (a СНИЛС, a region, a kind of session, a taken
e-mail) and what it refuses comes back next to the field (see `show_service_errors`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TelField,
    TimeField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

from web.clients import ServiceError, registration
from web.formatting import (
    EDUCATION_LEVELS,
    GENDERS,
    PARTICIPANT_STATUSES,
    PROGRAMME_KINDS,
    SESSION_KINDS,
    event_days,
    short_date,
)


def _offered(name: str, labels: dict | None = None, blank: str | None = None, leave_out=()) -> Callable:
    """A select's choices: the values registration accepts for the field (its reference list `name`),
    each named by the gateway's label table; asked when the form is drawn."""

    def choices() -> list[SelectChoice]:
        first = [SelectChoice("", blank)] if blank is not None else []
        values = [v for v in registration.reference()[name] if v not in leave_out]
        return first + [SelectChoice(v, (labels or {}).get(v, v)) for v in values]

    return choices


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class Choice(SelectField):
    """A select whose value the service checks: a value from an old page or a hand-made request is sent
    on and comes back refused next to the field, in the service's words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, validate_choice=False, **kwargs)


class EventForm(FlaskForm):
    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(), Length(min=3, max=500)])
    slug = StringField(
        _l("Short name for links"),
        filters=[_strip, lambda v: v.lower() if v else v],
        validators=[
            DataRequired(),
            Length(min=2, max=64),
            Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Latin letters, digits and hyphens only.")),
        ],
        description=_l("Latin letters, digits and hyphens, e.g. mfc-2026."),
    )
    organiser = StringField(_l("Organiser"), filters=[_strip], validators=[Length(max=500)])
    place = StringField(_l("Place"), filters=[_strip], validators=[Length(max=300)])
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    programme_kind = Choice(_l("Programme kind"), choices=_offered("programme_kinds", PROGRAMME_KINDS))
    registration_open = BooleanField(_l("Registration is open"))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The last day cannot be before the first day."))

    def payload(self) -> dict:
        return {
            "title": self.title.data,
            "slug": self.slug.data,
            "organiser": self.organiser.data or "",
            "place": self.place.data or "",
            "starts_on": self.starts_on.data.isoformat(),
            "ends_on": self.ends_on.data.isoformat(),
            "programme_kind": self.programme_kind.data,
            "registration_open": bool(self.registration_open.data),
        }


class SessionForm(FlaskForm):
    day = Choice(_l("Day"), validators=[DataRequired()])
    starts_at = TimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = TimeField(_l("Ends at"), validators=[InputRequired()])
    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(), Length(min=2, max=500)])
    kind = Choice(_l("Type"), choices=_offered("session_kinds", SESSION_KINDS), default="lecture")
    speakers = StringField(_l("Speakers"), filters=[_strip], validators=[Length(max=500)])
    room = StringField(_l("Room"), filters=[_strip], validators=[Length(max=200)])
    academic_hours = IntegerField(
        _l("Academic hours"), default=0, validators=[InputRequired(), NumberRange(min=0, max=24)]
    )

    def for_event(self, event: dict) -> SessionForm:
        """Only the event's own days can be chosen."""
        self.day.choices = [SelectChoice(day, short_date(day)) for day in event_days(event)]
        return self

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The session must end after it starts."))

    def fill(self, session: dict) -> SessionForm:
        self.day.data = session["day"]
        self.starts_at.data = time.fromisoformat(session["starts_at"])
        self.ends_at.data = time.fromisoformat(session["ends_at"])
        for name in ("title", "kind", "speakers", "room", "academic_hours"):
            getattr(self, name).data = session.get(name)
        return self

    def payload(self) -> dict:
        return {
            "day": self.day.data,
            "starts_at": self.starts_at.data.strftime("%H:%M"),
            "ends_at": self.ends_at.data.strftime("%H:%M"),
            "title": self.title.data,
            "kind": self.kind.data,
            "speakers": self.speakers.data or "",
            "room": self.room.data or "",
            "academic_hours": self.academic_hours.data,
        }


def _region_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("— choose a region —"))] + [
        SelectChoice(region["code"], region["name"]) for region in registration.regions()
    ]


class _PersonFields(FlaskForm):
    surname = StringField(_l("Surname"), filters=[_strip], validators=[DataRequired(), Length(max=100)])
    first_name = StringField(_l("First name"), filters=[_strip], validators=[DataRequired(), Length(max=100)])
    patronymic = StringField(_l("Patronymic (if any)"), filters=[_strip], validators=[Length(max=100)])
    email = EmailField(_l("E-mail"), filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)])
    phone = TelField(_l("Phone"), filters=[_strip], validators=[Length(max=32)])
    region_code = Choice(_l("Region"), choices=_region_choices, default="")
    organisation = StringField(_l("Organisation"), filters=[_strip], validators=[Length(max=500)])
    position = StringField(_l("Position"), filters=[_strip], validators=[Length(max=300)])

    PERSON = (
        "surname",
        "first_name",
        "patronymic",
        "email",
        "phone",
        "region_code",
        "organisation",
        "position",
    )

    def payload(self) -> dict:
        data = {name: getattr(self, name).data or "" for name in self.PERSON}
        for name in ("patronymic", "region_code"):
            data[name] = data[name] or None
        return data


class ParticipantForm(_PersonFields):
    """Staff add or edit a participant: every field, the ФИС ФРДО ones optional."""

    # Cancelling and restoring have their own buttons (they keep the record and its history).
    status = Choice(
        _l("Status"),
        choices=_offered("participant_statuses", PARTICIPANT_STATUSES, leave_out=("cancelled",)),
        default="registered",
    )
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    gender = Choice(_l("Gender"), choices=_offered("genders", GENDERS, blank="—"), default="")
    snils = StringField(
        _l("СНИЛС"), filters=[_strip], validators=[Optional(), Length(max=14)], description="XXX-XXX-XXX YY"
    )
    citizenship = StringField(
        _l("Citizenship (ОКСМ code)"),
        filters=[_strip],
        validators=[Optional(), Regexp(r"^\d{3}$", message=_l("Three digits, e.g. 643."))],
        description=_l("643 — Russia"),
    )
    education_level = Choice(
        _l("Education level"), choices=_offered("education_levels", EDUCATION_LEVELS, blank="—"), default=""
    )
    diploma_surname = StringField(
        _l("Surname in the diploma"), filters=[_strip], validators=[Length(max=100)]
    )
    diploma_series = StringField(_l("Diploma series"), filters=[_strip], validators=[Length(max=20)])
    diploma_number = StringField(_l("Diploma number"), filters=[_strip], validators=[Length(max=30)])

    FRDO = (
        "birth_date",
        "gender",
        "snils",
        "citizenship",
        "education_level",
        "diploma_surname",
        "diploma_series",
        "diploma_number",
    )

    def fill(self, participant: dict) -> ParticipantForm:
        if participant.get("status") == "cancelled":
            del self.status  # a cancelled registration is restored with its button, not by an edit
        for name in (*self.PERSON, *self.FRDO, *(("status",) if "status" in self else ())):
            value = participant.get(name)
            if name == "birth_date" and value:
                value = date.fromisoformat(value)
            getattr(self, name).data = value if value is not None else ""
        self.birth_date.data = self.birth_date.data or None
        return self

    def payload(self) -> dict:
        data = super().payload()
        if "status" in self:
            data["status"] = self.status.data
        for name in self.FRDO:
            value = getattr(self, name).data
            data[name] = value or None
        if data["birth_date"]:
            data["birth_date"] = data["birth_date"].isoformat()
        return data


class PublicRegistrationForm(_PersonFields):
    consent = BooleanField(
        _l("I agree to the processing of my personal data"),
        validators=[DataRequired(message=_l("Without your consent we cannot register you."))],
    )

    def payload(self) -> dict:
        return {**super().payload(), "consent": True}


def submitted(form: FlaskForm, send: Callable[..., dict], *ids: int) -> dict | None:
    """Sends a valid form's payload with a client function, `send(*ids, payload)`: the service's answer,
    or None when the service refused the input, its errors then placed next to the fields."""
    try:
        return send(*ids, form.payload())
    except ServiceError as exc:
        if exc.status not in (400, 409, 422):
            raise
        form.form_errors = show_service_errors(form, exc)
        return None


def form_page(template: str, form: FlaskForm, **context):
    """A page with a form: 422 when it comes back with errors after a POST, so a script sees the refusal."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


def show_service_errors(form: FlaskForm, refusal: ServiceError) -> list[str]:
    """Puts a service's per-field errors next to the form's fields; returns those that belong to no field
    (and the problem's detail when it names no field), for the top of the form.

    The service writes its messages in the language the gateway asked for (the person's)."""
    unplaced = []
    for path, message in refusal.field_errors().items():
        name = path.split(".")[-1]  # "participant.email" is the form's "email"
        field = form._fields.get(name) if name != "csrf_token" else None
        message = message or str(_l("Check this value."))
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            unplaced.append(message)
    if not refusal.field_errors():
        problem = refusal.problem
        unplaced.append(problem.get("detail") or problem.get("title") or str(_l("Check this value.")))
    return unplaced
