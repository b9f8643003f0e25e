"""Forms of the organiser and public pages: the first check of what a person typed, in their language.

The services check everything again; what they refuse comes back as field errors (see `show_service_errors`).
"""
from __future__ import annotations

import re
from datetime import date, time, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, EmailField, IntegerField, SelectField, StringField,
                     TelField, TimeField, ValidationError)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

from services.registration.regions import all_regions
from web.formatting import LABELS, short_date

SESSION_KINDS = ("lecture", "training", "expert_session", "strategic_session", "workshop", "opening",
                 "closing", "other")
STATUSES = ("registered", "confirmed", "cancelled")
STATUS_LABELS = {"registered": _l("registered"), "confirmed": _l("confirmed"), "cancelled": _l("cancelled")}

SNILS_INVALID = _l("The СНИЛС is not valid: check the digits.")


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def snils_is_valid(text: str) -> bool:
    """СНИЛС checksum: digits weighted 9..1, sum mod 101 (100 and 101 give 00)."""
    digits = re.sub(r"\D", "", text)
    if len(digits) != 11:
        return False
    number, check = digits[:9], int(digits[9:])
    if int(number) <= 1001998:  # numbers this low carry no checksum
        return True
    total = sum(int(d) * w for d, w in zip(number, range(9, 0, -1)))
    return total % 101 % 100 == check


def snils_format(text: str) -> str:
    d = re.sub(r"\D", "", text)
    return f"{d[0:3]}-{d[3:6]}-{d[6:9]} {d[9:11]}"


class EventForm(FlaskForm):
    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(), Length(min=3, max=500)])
    slug = StringField(_l("Short name for links"), filters=[_strip, lambda v: v.lower() if v else v],
                       validators=[DataRequired(), Length(min=2, max=64),
                                   Regexp(r"^[a-z0-9][a-z0-9-]*$",
                                          message=_l("Latin letters, digits and hyphens only."))],
                       description=_l("Latin letters, digits and hyphens, e.g. mfc-2026."))
    organiser = StringField(_l("Organiser"), filters=[_strip], validators=[Length(max=500)])
    place = StringField(_l("Place"), filters=[_strip], validators=[Length(max=300)])
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    programme_kind = SelectField(_l("Programme kind"), choices=_choices([
        ("ПК", _l("ПК — professional development")), ("ПП", _l("ПП — professional retraining"))]))
    registration_open = BooleanField(_l("Registration is open"))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The last day cannot be before the first day."))

    def payload(self) -> dict:
        return {"title": self.title.data, "slug": self.slug.data, "organiser": self.organiser.data or "",
                "place": self.place.data or "", "starts_on": self.starts_on.data.isoformat(),
                "ends_on": self.ends_on.data.isoformat(), "programme_kind": self.programme_kind.data,
                "registration_open": bool(self.registration_open.data)}


class SessionForm(FlaskForm):
    day = SelectField(_l("Day"), validators=[DataRequired()])
    starts_at = TimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = TimeField(_l("Ends at"), validators=[InputRequired()])
    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(), Length(min=2, max=500)])
    kind = SelectField(_l("Type"), choices=_choices((k, LABELS[k]) for k in SESSION_KINDS),
                       default="lecture")
    speakers = StringField(_l("Speakers"), filters=[_strip], validators=[Length(max=500)])
    room = StringField(_l("Room"), filters=[_strip], validators=[Length(max=200)])
    academic_hours = IntegerField(_l("Academic hours"), default=0,
                                  validators=[InputRequired(), NumberRange(min=0, max=24)])

    def for_event(self, event: dict) -> SessionForm:
        """Only the event's own days can be chosen."""
        start, end = date.fromisoformat(event["starts_on"]), date.fromisoformat(event["ends_on"])
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        self.day.choices = _choices((d.isoformat(), short_date(d)) for d in days)
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
        return {"day": self.day.data, "starts_at": self.starts_at.data.strftime("%H:%M"),
                "ends_at": self.ends_at.data.strftime("%H:%M"), "title": self.title.data,
                "kind": self.kind.data, "speakers": self.speakers.data or "", "room": self.room.data or "",
                "academic_hours": self.academic_hours.data}


def _region_choices():
    return _choices([("", _l("— choose a region —")), *((r.code, r.name) for r in all_regions())])


class _PersonFields(FlaskForm):
    surname = StringField(_l("Surname"), filters=[_strip], validators=[DataRequired(), Length(max=100)])
    first_name = StringField(_l("First name"), filters=[_strip], validators=[DataRequired(), Length(max=100)])
    patronymic = StringField(_l("Patronymic (if any)"), filters=[_strip], validators=[Length(max=100)])
    email = EmailField(_l("E-mail"), filters=[_strip],
                       validators=[DataRequired(), Email(), Length(max=254)])
    phone = TelField(_l("Phone"), filters=[_strip], validators=[Length(max=32)])
    region_code = SelectField(_l("Region"), choices=_region_choices, default="")
    organisation = StringField(_l("Organisation"), filters=[_strip], validators=[Length(max=500)])
    position = StringField(_l("Position"), filters=[_strip], validators=[Length(max=300)])

    PERSON = ("surname", "first_name", "patronymic", "email", "phone", "region_code", "organisation",
              "position")

    def payload(self) -> dict:
        data = {name: getattr(self, name).data or "" for name in self.PERSON}
        for name in ("patronymic", "region_code"):
            data[name] = data[name] or None
        return data


class ParticipantForm(_PersonFields):
    """Staff add or edit a participant: every field, the ФИС ФРДО ones optional."""
    # Cancelling and restoring have their own buttons (they keep the record and its history).
    status = SelectField(_l("Status"), choices=_choices((s, STATUS_LABELS[s]) for s in ("registered", "confirmed")),
                         default="registered")
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    gender = SelectField(_l("Gender"), choices=_choices([("", "—"), ("male", _l("male")),
                                                                   ("female", _l("female"))]), default="")
    snils = StringField(_l("СНИЛС"), filters=[_strip], validators=[Optional(), Length(max=14)],
                        description="XXX-XXX-XXX YY")
    citizenship = StringField(_l("Citizenship (ОКСМ code)"), filters=[_strip],
                              validators=[Optional(), Regexp(r"^\d{3}$", message=_l("Three digits, e.g. 643."))],
                              description=_l("643 — Russia"))
    education_level = SelectField(_l("Education level"), choices=_choices([
        ("", "—"), ("ВО", _l("ВО — higher")), ("СПО", _l("СПО — secondary vocational"))]), default="")
    diploma_surname = StringField(_l("Surname in the diploma"), filters=[_strip],
                                  validators=[Length(max=100)])
    diploma_series = StringField(_l("Diploma series"), filters=[_strip], validators=[Length(max=20)])
    diploma_number = StringField(_l("Diploma number"), filters=[_strip], validators=[Length(max=30)])

    FRDO = ("birth_date", "gender", "snils", "citizenship", "education_level", "diploma_surname",
            "diploma_series", "diploma_number")

    def validate_snils(self, field):
        if field.data and not snils_is_valid(field.data):
            raise ValidationError(SNILS_INVALID)

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
        if data["snils"]:
            data["snils"] = snils_format(data["snils"])
        return data


class PublicRegistrationForm(_PersonFields):
    consent = BooleanField(_l("I agree to the processing of my personal data"),
                           validators=[DataRequired(message=_l("Without your consent we cannot register you."))])

    def payload(self) -> dict:
        return {**super().payload(), "consent": True}


def show_service_errors(form: FlaskForm, problem: dict) -> list[str]:
    """Puts a service's per-field errors next to the form's fields; returns those that belong to no field.

    The service writes its messages in the language the gateway asked for (the person's)."""
    unplaced = []
    for error in problem.get("errors") or []:
        name = (error.get("field") or "").split(".")[-1]
        message = error.get("message") or str(_l("Check this value."))
        field = form._fields.get(name) if name != "csrf_token" else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            unplaced.append(message)
    if not problem.get("errors"):
        unplaced.append(problem.get("detail") or problem.get("title") or str(_l("Check this value.")))
    return unplaced
