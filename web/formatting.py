"""Template filters: dates and labels in the person's language."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l

# What each value the services send is called on a page, in the person's language. Which values exist is
# the services' to say (registration's reference lists fill the forms' selects); a value without a label
# here is shown as it is.
SESSION_KINDS = {
    "lecture": _l("lecture"),
    "training": _l("training"),
    "expert_session": _l("expert session"),
    "strategic_session": _l("strategic session"),
    "workshop": _l("workshop"),
    "opening": _l("opening"),
    "closing": _l("closing"),
    "other": _l("other"),
}
PARTICIPANT_STATUSES = {
    "registered": _l("registered"),
    "confirmed": _l("confirmed"),
    "cancelled": _l("cancelled"),
}
GENDERS = {"male": _l("male"), "female": _l("female")}
EDUCATION_LEVELS = {"ВО": _l("ВО — higher"), "СПО": _l("СПО — secondary vocational")}
PROGRAMME_KINDS = {"ПК": _l("ПК — professional development"), "ПП": _l("ПП — professional retraining")}
STAFF_ROLES = {"checkin": _l("check-in staff"), "organiser": _l("organiser"), "admin": _l("administrator")}
SYSTEM_PARTS = {
    "registration": _l("registration service"),
    "certificates": _l("certificates service"),
    "feedback": _l("feedback service"),
    "web": _l("gateway"),
}
#: what the `label` filter looks in: kinds of session, staff roles, parts of the system
LABELS = {**SESSION_KINDS, **STAFF_ROLES, **SYSTEM_PARTS}


def label(value) -> str:
    key = getattr(value, "value", value)
    return str(LABELS.get(key, key))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def short_date(value) -> str:
    return format_date(_as_date(value), "d MMM, EEE")


def long_date(value) -> str:
    text = format_date(_as_date(value), "d MMMM y")
    return f"{text} г." if str(get_locale()) == "ru" else text


def date_range(starts_on, ends_on) -> str:
    start, end = _as_date(starts_on), _as_date(ends_on)
    if start == end:
        return long_date(end)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{long_date(end)}"
    return f"{format_date(start, 'd MMMM')} – {long_date(end)}"


def event_days(event: dict) -> list[str]:
    """Every day of the event, first to last, as ISO dates."""
    start, end = _as_date(event["starts_on"]), _as_date(event["ends_on"])
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        label=label, short_date=short_date, long_date=long_date, date_range=date_range
    )
