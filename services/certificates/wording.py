"""Grammatical Russian for certificate text: gendered verbs, plurals of hours, dates, names.

The PDF is always in Russian (it is a legal document of a Russian organisation), so these words are not
gettext messages: they are the document's own text, whatever language the organiser's screen speaks.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale
from babel.dates import format_date

_RU = Locale("ru")

_ACADEMIC_HOURS = {
    "one": "академический час",
    "few": "академических часа",
    "many": "академических часов",
    # fractions: «20,5 академического часа»
    "other": "академического часа",
}

#: (male, female, unknown) forms of the words that agree with the holder
_AGREEING = {
    "completed": ("прошёл", "прошла", "прошёл(-ла)"),
    "studied": ("обучался", "обучалась", "обучался(-ась)"),
    "mastered": ("освоил", "освоила", "освоил(-а)"),
    "pronoun": ("он", "она", "он(-а)"),
}


def _number(value: int | float | Decimal) -> tuple[int | Decimal, str]:
    """The value as Babel's plural rules want it, and as it is printed (decimal comma, no trailing .0)."""
    exact = Decimal(str(value))
    if exact == exact.to_integral_value():
        whole = int(exact)
        return whole, str(whole)
    exact = exact.normalize()
    return exact, str(exact).replace(".", ",")


def academic_hours(n: int | float | Decimal) -> str:
    """1 академический час, 72 академических часа, 16 академических часов, 20,5 академического часа."""
    value, printed = _number(n)
    return f"{printed} {_ACADEMIC_HOURS[_RU.plural_form(value)]}"


def _agree(word: str, gender: str | None) -> str:
    male, female, unknown = _AGREEING[word]
    return {"male": male, "female": female}.get(gender or "", unknown)


def completed(gender: str | None) -> str:
    """The verb agrees with the holder: «прошёл» / «прошла»; unknown gender gets the neutral form."""
    return _agree("completed", gender)


def studied(gender: str | None) -> str:
    """«обучался» / «обучалась», for a справка об обучении."""
    return _agree("studied", gender)


def mastered(gender: str | None) -> str:
    """«освоил» / «освоила»: how many hours of the programme the holder of a справка went through."""
    return _agree("mastered", gender)


def pronoun(gender: str | None) -> str:
    return _agree("pronoun", gender)


def full_name(surname: str, first_name: str, patronymic: str | None = None) -> str:
    """«Фамилия Имя Отчество»; the patronymic may be absent (and «оглы»/«кызы» are part of it)."""
    return " ".join(part.strip() for part in (surname, first_name, patronymic or "") if part and part.strip())


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
