"""Grammatical Russian for certificate text: gendered verbs, plurals of hours, dates."""
from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import format_date

_RU = Locale("ru")

_ACADEMIC_HOURS = {"one": "академический час", "few": "академических часа", "many": "академических часов",
                   "other": "академического часа"}


def academic_hours(n: int) -> str:
    """1 академический час, 72 академических часа, 16 академических часов."""
    return f"{n} {_ACADEMIC_HOURS[_RU.plural_form(n)]}"


def completed(gender: str | None) -> str:
    """The verb agrees with the holder: «прошёл» / «прошла»; unknown gender gets the neutral form."""
    return {"male": "прошёл", "female": "прошла"}.get(gender or "", "прошёл(-ла)")


def long_date(value: date) -> str:
    """9 октября 2026 г."""
    return f"{format_date(value, 'd MMMM y', locale=_RU)} г."


def period(starts_on: date, ends_on: date) -> str:
    """с 7 по 9 октября 2026 г., or one date for a one-day course."""
    if starts_on == ends_on:
        return long_date(starts_on)
    if (starts_on.year, starts_on.month) == (ends_on.year, ends_on.month):
        return f"с {starts_on.day} по {long_date(ends_on)}"
    if starts_on.year == ends_on.year:
        return f"с {format_date(starts_on, 'd MMMM', locale=_RU)} по {long_date(ends_on)}"
    return f"с {long_date(starts_on)} по {long_date(ends_on)}"
