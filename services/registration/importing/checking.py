"""Checking rows: what each cell must be, how it is cleaned, and what is said when it cannot be.

One pass over the data rows under a mapping, against the e-mails the event already has. A row's cleaned
values are what the participant API takes (schemas.ParticipantIn); nothing is written here.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from services.registration import fields
from services.registration.errors import N_
from services.registration.importing.header import Table
from services.registration.importing.mapping import header_key
from services.registration.importing.reading import FormulaText
from services.registration.importing.report import (
    ERROR,
    WARNING,
    RowProblem,
    RowProblems,
    RowResult,
    row_status,
)
from services.registration.models import EducationLevel, Participant
from services.registration.regions import all_regions, match_region, suggest_region
from services.registration.snils import InvalidSnils, normalise_snils
from services.registration.text import email_key, fix_mixed_scripts, fold, has_mixed_scripts

#: fields taken as they are written, spaces collapsed
_TEXT_FIELDS = ("phone", "organisation", "position", "diploma_surname", "diploma_series", "diploma_number")
#: participant fields whose length the database limits, and the limit (from the model's columns)
LENGTH_LIMITS = {
    name: Participant.__table__.c[name].type.length
    for name in ("surname", "first_name", "patronymic", "email", *_TEXT_FIELDS)
}

_SPACES = re.compile(r"\s+")
_EMAIL_SEPARATORS = re.compile(r"[,;\s]+")

_GENDERS = {
    **dict.fromkeys(("м", "муж", "мужской", "мужчина", "m", "male"), "male"),
    **dict.fromkeys(("ж", "жен", "женский", "женщина", "f", "female"), "female"),
}
_COUNTRIES = {
    "россия": "643",
    "рф": "643",
    "российскаяфедерация": "643",
    "ru": "643",
    "rus": "643",
    "russia": "643",
    "беларусь": "112",
    "белоруссия": "112",
    "республикабеларусь": "112",
    "казахстан": "398",
    "республикаказахстан": "398",
    "армения": "051",
    "азербайджан": "031",
    "киргизия": "417",
    "кыргызстан": "417",
    "таджикистан": "762",
    "узбекистан": "860",
    "молдова": "498",
    "украина": "804",
    "абхазия": "895",
    "южнаяосетия": "896",
}
# ВО or СПО, as the federal register asks; the degrees are all higher education.
_HIGHER, _VOCATIONAL = EducationLevel.higher.value, EducationLevel.vocational.value
_EDUCATION_LEVELS = {
    **dict.fromkeys(
        (
            "во",
            "высшее",
            "высшееобразование",
            "высшеепрофессиональное",
            "бакалавр",
            "бакалавриат",
            "магистр",
            "магистратура",
            "специалист",
            "специалитет",
        ),
        _HIGHER,
    ),
    **dict.fromkeys(
        (
            "спо",
            "среднеепрофессиональное",
            "среднеепрофессиональноеобразование",
            "среднееспециальное",
            "среднееспециальноеобразование",
        ),
        _VOCATIONAL,
    ),
}
_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y %H:%M")


class _RowChecker:
    """Checks rows one by one, remembering what earlier rows used (e-mails) and what it has looked up."""

    def __init__(self, headers: list[str], mapping: dict[int, str], existing_email_keys):
        self.headers = headers
        self.columns = {name: index for index, name in sorted(mapping.items(), reverse=True)}
        self.existing = existing_email_keys
        self.seen_emails: dict[str, tuple[int, str]] = {}  # e-mail key → (row, folded name)
        self.regions: dict[str, tuple] = {}
        self.region_codes = {region.code: region for region in all_regions()}

    def check(self, number: int, cells: list[str]) -> RowResult | None:
        """The row's result, or None for a row with nothing in the mapped columns (a numbered blank)."""
        get = self._getter(cells)
        if not any(get(name)[0] for name in self.columns):
            return None
        result = RowResult(row=number)
        values: dict = {}
        problems = result.problems
        formula_columns = self._formulas(get, problems)
        self._names(get, values, problems)
        email = self._email(get, values, problems)
        region = get("region")
        values["region_code"] = self._region(region, problems) if region[0] else None
        for name in _TEXT_FIELDS:
            values[name] = self._text(name, get(name), problems)
        values["birth_date"] = self._birth_date(get("birth_date"), problems)
        values["gender"] = self._gender(get("gender"), problems)
        values["snils"] = self._snils(get("snils"), problems)
        values["citizenship"] = self._citizenship(get("citizenship"), problems)
        values["education_level"] = self._education(get("education_level"), problems)
        for name in ("phone", "organisation", "position"):
            values[name] = values[name] or ""
        self._duplicates(number, email, values, problems)
        if formula_columns:  # «the cell holds a formula» says all there is to say about that cell
            problems[:] = [
                p for p in problems if p.column not in formula_columns or p.code.startswith("formula")
            ]
        result.status = row_status(problems)
        if result.status != ERROR:
            result.values = values
        return result

    def _getter(self, cells: list[str]):
        def get(name: str) -> tuple[str, str | None]:
            index = self.columns.get(name)
            if index is None:
                return "", None
            return (cells[index] if index < len(cells) else ""), self.headers[index]

        return get

    # formulas ------------------------------------------------------------------------------------

    def _formulas(self, get, problems: RowProblems) -> set[str]:
        """Report the mapped cells that hold a formula; the columns of those saved without a value."""
        without_value = set()
        for name in self.columns:
            cell, column = get(name)
            if not isinstance(cell, FormulaText):
                continue
            if cell.strip():
                problems.warning(
                    "formula_value",
                    N_("The cell holds the formula «%(formula)s»; its value «%(value)s» will be imported."),
                    field=name,
                    column=column,
                    value=cell,
                    formula=cell.formula,
                )
            else:
                without_value.add(column)
                problems.error(
                    "formula_cell",
                    N_(
                        "The cell holds the formula «%(value)s» and no value. Replace the formula with its "
                        "value (Paste Special → Values) and upload the file again."
                    ),
                    field=name,
                    column=column,
                    value=cell.formula,
                )
        return without_value

    # names ---------------------------------------------------------------------------------------

    def _names(self, get, values: dict, problems: RowProblems) -> None:
        parts = {name: get(name) for name in ("surname", "first_name", "patronymic")}
        full, full_column = get("full_name")
        if full and not (parts["surname"][0] and parts["first_name"][0]):
            words = _SPACES.sub(" ", full).strip().split(" ")
            if len(words) < 2:
                problems.error(
                    "full_name_incomplete",
                    N_(
                        "The full name «%(value)s» has no first name. Write it as «Surname "
                        "First-name Patronymic»."
                    ),
                    field="full_name",
                    column=full_column,
                    value=full,
                )
            split = {
                "surname": words[0],
                "first_name": words[1] if len(words) > 1 else "",
                "patronymic": " ".join(words[2:]),
            }
            for name, value in split.items():
                if not parts[name][0]:
                    parts[name] = (value, full_column)
        for name in ("surname", "first_name", "patronymic"):
            raw, column = parts[name]
            values[name] = self._name(name, raw, column, problems)
        if not values["surname"] and not _has(problems, "full_name_incomplete"):
            column = parts["surname"][1] or full_column
            problems.error(
                "missing_surname", N_("The surname is empty. Fill it in."), field="surname", column=column
            )
        if not values["first_name"] and not _has(problems, "full_name_incomplete"):
            column = parts["first_name"][1] or full_column
            problems.error(
                "missing_first_name",
                N_("The first name is empty. Fill it in."),
                field="first_name",
                column=column,
            )
        values["patronymic"] = values["patronymic"] or None

    def _name(self, name: str, raw: str, column: str | None, problems: RowProblems) -> str:
        value = _SPACES.sub(" ", raw).strip()
        if not value:
            return ""
        if breach := fields.name_breach(value):
            problems.error(breach.code, breach.msgid, field=name, column=column, value=fields.printable(raw))
            return value
        if any(has_mixed_scripts(word) for word in value.split()):
            fixed = " ".join(fix_mixed_scripts(word) for word in value.split())
            if any(has_mixed_scripts(word) for word in fixed.split()):
                problems.error(
                    "mixed_scripts",
                    N_("«%(value)s» mixes Latin and Cyrillic letters. Retype it in one alphabet."),
                    field=name,
                    column=column,
                    value=raw,
                )
            else:
                problems.warning(
                    "mixed_scripts_fixed",
                    N_(
                        "«%(value)s» mixes Latin and Cyrillic letters that look alike; it will be imported "
                        "as «%(fixed)s»."
                    ),
                    field=name,
                    column=column,
                    value=raw,
                    suggestion=fixed,
                    fixed=fixed,
                )
                value = fixed
        return self._length(name, value, column, problems)

    # e-mail --------------------------------------------------------------------------------------

    def _email(self, get, values: dict, problems: RowProblems) -> str | None:
        raw, column = get("email")
        values["email"] = None
        if not raw:
            problems.error(
                "missing_email",
                N_("The e-mail is empty. Every participant needs their own address."),
                field="email",
                column=column,
            )
            return None
        candidates = [part for part in _EMAIL_SEPARATORS.split(raw) if part]
        if len(candidates) > 1 and sum("@" in part for part in candidates) > 1:
            problems.error(
                "several_emails",
                N_("The cell holds several addresses («%(value)s»). Keep one address per participant."),
                field="email",
                column=column,
                value=raw,
            )
            return None
        compact = "".join(raw.split()).strip(".,;")
        try:
            email = normalise_email(compact)
        except EmailNotValidError:
            problems.error(
                "invalid_email",
                N_(
                    "«%(value)s» is not a valid e-mail address. Check that it has one @ and a domain, "
                    "like ivanova@mail.ru."
                ),
                field="email",
                column=column,
                value=raw,
            )
            return None
        if compact != raw.strip():
            problems.warning(
                "email_cleaned",
                N_("Spaces and stray punctuation were removed from the e-mail: %(fixed)s."),
                field="email",
                column=column,
                value=raw,
                suggestion=email,
                fixed=email,
            )
        email = self._length("email", email, column, problems)
        values["email"] = email
        return email

    def _duplicates(self, number: int, email: str | None, values: dict, problems: RowProblems) -> None:
        if not email:
            return
        key = email_key(email)
        column = self.headers[self.columns["email"]]
        if key in self.existing:
            problems.duplicate(
                "duplicate_existing",
                N_(
                    "A participant with the e-mail %(email)s is already registered for this event; "
                    "the row will be skipped."
                ),
                field="email",
                column=column,
                value=email,
                email=email,
            )
            return
        name = fold(" ".join(filter(None, (values.get("surname"), values.get("first_name")))))
        earlier = self.seen_emails.get(key)
        if earlier is None:
            self.seen_emails[key] = (number, name)
        elif earlier[1] == name:
            problems.duplicate(
                "repeated_row",
                N_(
                    "The same person with the same e-mail is already in row %(other)d; this row "
                    "will be skipped."
                ),
                field="email",
                column=column,
                value=email,
                other=earlier[0],
            )
        else:
            problems.error(
                "duplicate_in_file",
                N_(
                    "The e-mail %(email)s is also given in row %(other)d for another person. "
                    "Each participant needs their own address."
                ),
                field="email",
                column=column,
                value=email,
                email=email,
                other=earlier[0],
            )

    # region --------------------------------------------------------------------------------------

    def _region(self, cell: tuple[str, str | None], problems: RowProblems) -> str | None:
        raw, column = cell
        if raw not in self.regions:
            self.regions[raw] = self._look_up_region(raw)
        code, severity, suggestion = self.regions[raw]
        if severity == WARNING:
            problems.warning(
                "region_mapped",
                N_("Region «%(value)s» is read as «%(region)s»."),
                field="region",
                column=column,
                value=raw,
                suggestion=suggestion,
                region=suggestion,
            )
        elif severity == ERROR and suggestion:
            problems.error(
                "unknown_region",
                N_(
                    "Region «%(value)s» is not in the list of subjects of the Russian Federation. "
                    "Did you mean «%(suggestion)s»? Correct the name in the file."
                ),
                field="region",
                column=column,
                value=raw,
                suggestion=suggestion,
            )
        elif severity == ERROR:
            problems.error(
                "unknown_region",
                N_(
                    "Region «%(value)s» is not in the list of subjects of the Russian Federation. "
                    "Write its full name, e.g. «Rostov Oblast»."
                ),
                field="region",
                column=column,
                value=raw,
            )
        return code

    def _look_up_region(self, raw: str) -> tuple[str | None, str | None, str | None]:
        """(region code, None/"warning"/"error", region name to show)."""
        if raw in self.region_codes:
            region = self.region_codes[raw]
            return region.code, WARNING, region.name
        region = match_region(raw)
        if region is not None:
            exact = _SPACES.sub(" ", raw).strip() == region.name
            return region.code, (None if exact else WARNING), region.name
        suggestion = suggest_region(raw)
        return None, ERROR, suggestion.name if suggestion else None

    # other fields --------------------------------------------------------------------------------

    def _length(self, name: str, value: str, column: str | None, problems: RowProblems) -> str:
        limit = LENGTH_LIMITS.get(name)
        if limit and len(value) > limit:
            problems.error(
                "too_long",
                N_("The value is %(length)d characters long; at most %(limit)d fit. Shorten it."),
                field=name,
                column=column,
                value=value[:80] + "…",
                length=len(value),
                limit=limit,
            )
        return value

    def _text(self, name: str, cell: tuple[str, str | None], problems: RowProblems) -> str | None:
        raw, column = cell
        value = _SPACES.sub(" ", raw).strip()
        if not value:
            return None
        if breach := fields.breach(name, value):
            problems.error(breach.code, breach.msgid, field=name, column=column, value=fields.printable(raw))
            return value
        return self._length(name, value, column, problems)

    def _birth_date(self, cell, problems: RowProblems) -> date | None:
        raw, column = cell
        if not raw:
            return None
        parsed = _parse_date(raw)
        if parsed is None:
            problems.error(
                "invalid_date",
                N_("«%(value)s» is not a date. Write it as DD.MM.YYYY, e.g. 07.10.1985."),
                field="birth_date",
                column=column,
                value=raw,
            )
            return None
        if not date(1900, 1, 1) <= parsed <= date.today() - timedelta(days=365 * 14):
            problems.error(
                "implausible_date",
                N_("The birth date %(value)s cannot be right. Check the year."),
                field="birth_date",
                column=column,
                value=raw,
            )
            return None
        return parsed

    def _gender(self, cell, problems: RowProblems) -> str | None:
        msgid = N_("«%(value)s» is not a gender. Write M or F.")
        return _one_of(_GENDERS, "gender", cell, "invalid_gender", msgid, problems)

    def _snils(self, cell, problems: RowProblems) -> str | None:
        raw, column = cell
        if not raw:
            return None
        # Excel keeps a СНИЛС typed as a number without its leading zeros.
        padded = raw.isdigit() and len(raw) in (9, 10)
        try:
            formatted = normalise_snils(raw.zfill(11) if padded else raw)
        except InvalidSnils as exc:
            if exc.code == "snils_format":
                problems.error(
                    "snils_format",
                    N_("A SNILS has 11 digits (XXX-XXX-XXX YY); «%(value)s» does not."),
                    field="snils",
                    column=column,
                    value=raw,
                )
            else:
                problems.error(
                    "invalid_snils",
                    N_(
                        "The check number of SNILS %(value)s does not match. Compare the number "
                        "with the document."
                    ),
                    field="snils",
                    column=column,
                    value=raw,
                )
            return None
        if padded:
            problems.warning(
                "snils_padded",
                N_("SNILS %(value)s lost its leading zeros in Excel; it is read as %(fixed)s."),
                field="snils",
                column=column,
                value=raw,
                suggestion=formatted,
                fixed=formatted,
            )
        return formatted

    def _citizenship(self, cell, problems: RowProblems) -> str | None:
        raw, column = cell
        if not raw:
            return None
        if re.fullmatch(r"\d{1,3}", raw):
            return raw.zfill(3)
        code = _COUNTRIES.get(header_key(raw))
        if code is None:
            problems.error(
                "invalid_citizenship",
                N_(
                    "«%(value)s» is not a citizenship. Write the country's OKSM code (643 is "
                    "Russia) or its name."
                ),
                field="citizenship",
                column=column,
                value=raw,
            )
        return code

    def _education(self, cell, problems: RowProblems) -> str | None:
        msgid = N_("«%(value)s» is not an education level. Write ВО (higher) or СПО (secondary vocational).")
        return _one_of(_EDUCATION_LEVELS, "education_level", cell, "invalid_education_level", msgid, problems)


def _one_of(
    choices: dict[str, str],
    name: str,
    cell: tuple[str, str | None],
    code: str,
    msgid: str,
    problems: RowProblems,
) -> str | None:
    """A value of a closed list, read loosely (case, ё, spaces and punctuation do not matter)."""
    raw, column = cell
    if not raw:
        return None
    value = choices.get(header_key(raw))
    if value is None:
        problems.error(code, msgid, field=name, column=column, value=raw)
    return value


_PLAIN_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def normalise_email(text: str) -> str:
    """The address as email-validator normalises it, or EmailNotValidError.

    A list's addresses share a few domains, and checking a domain is most of email-validator's work:
    plain ASCII local parts take a shortcut with the domain's verdict cached.
    """
    local, _, domain = text.rpartition("@")
    if len(text) <= 254 and len(local) <= 64 and _PLAIN_LOCAL_PART.fullmatch(local):
        return f"{local}@{_checked_domain(domain)}"
    return validate_email(text, check_deliverability=False).normalized


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str:
    return validate_email(f"probe@{domain}", check_deliverability=False).domain


def _has(problems: list[RowProblem], code: str) -> bool:
    return any(problem.code == code for problem in problems)


_RUSSIAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def _parse_date(raw: str) -> date | None:
    text = raw.strip().rstrip("г.").strip()
    plain = _RUSSIAN_DATE.fullmatch(text)
    if plain:  # the usual case, without strptime's cost
        day, month, year = (int(part) for part in plain.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for pattern in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if pattern == "%d.%m.%y" and parsed > date.today():
            parsed = parsed.replace(year=parsed.year - 100)  # «07.10.85» is 1985, not 2085
        return parsed
    return None


def check_rows(
    table: Table, mapping: dict[int, str], existing_email_keys: set[str] | frozenset[str]
) -> list[RowResult]:
    """Every data row of `table` under `mapping` (column index → field), checked against the event's
    participants (`existing_email_keys`, see text.email_key); rows with nothing in the mapped columns
    are left out."""
    checker = _RowChecker(table.headers, mapping, existing_email_keys)
    checked = (checker.check(number, cells) for number, cells in table.rows)
    return [result for result in checked if result is not None]
