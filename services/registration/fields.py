"""The rules a participant's texts follow, whichever way they come in.

The API (and through it the staff form and the public form, which the gateway posts to it) and the
spreadsheet import check every value with these functions, so what one refuses the others refuse too, in
the same words. A rule says what is wrong as a code and an English msgid with a «%(value)s» placeholder;
whoever shows it renders it in the reader's language (see errors.py).

The rules bind what comes in, not what is stored: a record saved before a rule existed is still shown and
exported (see schemas.ParticipantOut and eventops.spreadsheets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eventops.input_guard import FORBIDDEN_CHARACTER
from services.registration.errors import N_


@dataclass(frozen=True)
class Breach:
    """Which rule a value breaks: a stable code and the words for a person."""

    code: str
    msgid: str


#: fields holding a person's name, as printed on badges and certificates
NAME_FIELDS = ("surname", "first_name", "patronymic", "diploma_surname")
PHONE_FIELDS = ("phone",)
#: free text: anything but markup, formulas and control characters
TEXT_FIELDS = ("organisation", "position", "diploma_series", "diploma_number")

# Letters (any alphabet), spaces, apostrophes, dots, brackets and hyphens: «Д'Артаньян», «Петрова-Водкина»,
# «Иванова (Петрова)». No digits, no underscores, no signs: so no markup and no formula either.
_NOT_IN_NAME = re.compile(r"[^\w\s'’.()-]|[\d_]")
# One number: digits with the usual separators, perhaps an extension («доб. 123»); a cell may list several.
_PHONE = r"\+?\(?\d[\d\s().\-–]*(?:\s*(?:доб|доп|вн|ext|x)\.?\s*\d+)?"
_PHONES = re.compile(rf"{_PHONE}(?:\s*[,;]\s*{_PHONE})*", re.IGNORECASE)
# A tag, a comment or a processing instruction; a lone «<» as in «< 5 лет» is text.
_MARKUP = re.compile(r"<[A-Za-z/!?]")

CONTROL_CHARACTER = Breach(
    "forbidden_character",
    N_("«%(value)s» holds a control character (such as NUL) that has no place in text. Retype the value."),
)
NAME_CHARACTERS = Breach(
    "name_characters",
    N_("«%(value)s» has digits or signs that do not belong in a name. Leave only letters."),
)
PHONE_FORMAT = Breach(
    "phone_format",
    N_(
        "«%(value)s» is not a phone number. Write digits with +, spaces, brackets and hyphens, "
        "e.g. +7 900 123-45-67."
    ),
)
FORMULA = Breach(
    "formula",
    N_("«%(value)s» starts with «=», as a spreadsheet formula does. Write the value itself."),
)
MARKUP = Breach(
    "markup",
    N_("«%(value)s» holds markup (a tag in angle brackets), which does not belong here. Write plain text."),
)


def name_breach(value: str) -> Breach | None:
    if FORBIDDEN_CHARACTER.search(value):
        return CONTROL_CHARACTER
    if _NOT_IN_NAME.search(value):
        return NAME_CHARACTERS
    return None


def phone_breach(value: str) -> Breach | None:
    if FORBIDDEN_CHARACTER.search(value):
        return CONTROL_CHARACTER
    if value and not _PHONES.fullmatch(value.strip()):
        return PHONE_FORMAT
    return None


def text_breach(value: str) -> Breach | None:
    if FORBIDDEN_CHARACTER.search(value):
        return CONTROL_CHARACTER
    if value.lstrip().startswith("="):
        return FORMULA
    if _MARKUP.search(value):
        return MARKUP
    return None


_RULES = {
    **dict.fromkeys(NAME_FIELDS, name_breach),
    **dict.fromkeys(PHONE_FIELDS, phone_breach),
    **dict.fromkeys(TEXT_FIELDS, text_breach),
}


def breach(field: str, value: str | None) -> Breach | None:
    """The rule `value` breaks as the participant's `field`, or None (also for fields without text rules)."""
    rule = _RULES.get(field)
    return rule(value) if rule is not None and value else None


def printable(value: str) -> str:
    """The value as a message may quote it: control characters shown as �."""
    return FORBIDDEN_CHARACTER.sub("\N{REPLACEMENT CHARACTER}", value)
