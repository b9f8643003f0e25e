"""Which column holds which field: guessed from the headers, or chosen by the organiser and checked."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from services.registration.errors import N_
from services.registration.importing.report import ERROR, ImportProblem, RowProblem, row_problem
from services.registration.text import fold

#: fields a column can be mapped to, in the order they are offered
FIELDS = (
    "surname",
    "first_name",
    "patronymic",
    "full_name",
    "email",
    "phone",
    "region",
    "organisation",
    "position",
    "birth_date",
    "gender",
    "snils",
    "citizenship",
    "education_level",
    "diploma_surname",
    "diploma_series",
    "diploma_number",
)


_HEADER_ALIASES = {
    "surname": ("фамилия", "фамилияучастника", "lastname", "surname", "familyname"),
    "first_name": ("имя", "имяучастника", "firstname", "givenname", "forename"),
    "patronymic": ("отчество", "отчествоприналичии", "middlename", "patronymic", "patronym"),
    "full_name": (
        "фио",
        "фиоучастника",
        "фамилияимяотчество",
        "фиополностью",
        "участник",
        "фиослушателя",
        "fullname",
        "name",
        "participant",
        "participantname",
    ),
    "email": (
        "email",
        "эmail",
        "емейл",
        "емэйл",
        "имейл",
        "имэйл",
        "электроннаяпочта",
        "элпочта",
        "эпочта",
        "почта",
        "адресэлектроннойпочты",
        "адресэлпочты",
        "mail",
        "emailaddress",
        "еmail",
    ),
    "phone": (
        "телефон",
        "тел",
        "номертелефона",
        "контактныйтелефон",
        "мобильныйтелефон",
        "сотовый",
        "phone",
        "phonenumber",
        "mobile",
        "telephone",
        "tel",
    ),
    "region": (
        "регион",
        "субъектрф",
        "субъект",
        "субъектроссийскойфедерации",
        "регионрф",
        "region",
        "областькрайреспублика",
    ),
    "organisation": (
        "организация",
        "местоработы",
        "учреждение",
        "наименованиеорганизации",
        "ведомство",
        "organisation",
        "organization",
        "company",
        "employer",
        "workplace",
    ),
    "position": ("должность", "занимаемаядолжность", "position", "jobtitle", "job"),
    "birth_date": ("датарождения", "др", "birthdate", "dateofbirth", "dob", "birthday"),
    "gender": ("пол", "gender", "sex"),
    "snils": ("снилс", "snils", "номерснилс", "страховойномер"),
    "citizenship": ("гражданство", "citizenship", "nationality", "кодоксм"),
    "education_level": ("уровеньобразования", "образование", "educationlevel", "education"),
    "diploma_surname": ("фамилиявдипломе", "фамилияуказаннаявдипломе", "diplomasurname"),
    "diploma_series": ("сериядиплома", "diplomaseries"),
    "diploma_number": ("номердиплома", "diplomanumber"),
}
_ALIAS_INDEX = {alias: name for name, aliases in _HEADER_ALIASES.items() for alias in aliases}

# Looser rules for headers that are not an exact alias, most specific first.
_HEADER_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("диплом", "фамил"), "diploma_surname"),
    (("диплом", "сери"), "diploma_series"),
    (("диплом", "номер"), "diploma_number"),
    (("фамилияимяотчество",), "full_name"),
    (("фамилия", "имя"), "full_name"),
    (("фамил",), "surname"),
    (("отчеств",), "patronymic"),
    (("имя",), "first_name"),
    (("mail",), "email"),
    (("почт",), "email"),
    (("телефон",), "phone"),
    (("phone",), "phone"),
    (("регион",), "region"),
    (("субъект",), "region"),
    (("region",), "region"),
    (("организац",), "organisation"),
    (("месторабот",), "organisation"),
    (("учрежден",), "organisation"),
    (("organi",), "organisation"),
    (("должност",), "position"),
    (("рожд",), "birth_date"),
    (("birth",), "birth_date"),
    (("снилс",), "snils"),
    (("гражданств",), "citizenship"),
    (("образован",), "education_level"),
)

_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_ALNUM = re.compile(r"[\W_]+")


def header_key(header: str) -> str:
    """A header reduced for matching: folded (case, ё, look-alikes), without punctuation or spaces."""
    return _NOT_ALNUM.sub("", fold(header))


def guess_field(header: str) -> str | None:
    key = header_key(header)
    bare = header_key(_PARENTHESES.sub(" ", header))  # «Телефон (мобильный)», «Дата рождения (ДД.ММ.ГГГГ)»
    for candidate in (bare, key):
        if candidate in _ALIAS_INDEX:
            return _ALIAS_INDEX[candidate]
    for parts, name in _HEADER_RULES:
        if all(part in key for part in parts):
            return name
    return None


def guess_mapping(headers: Iterable[str]) -> dict[int, str]:
    """Column index → field for the headers that name a known field; the first column of a field wins."""
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        name = guess_field(header) if header else None
        if name and name not in mapping.values():
            mapping[index] = name
    return mapping


def chosen_mapping(chosen: Mapping[str, str | None], headers: list[str]) -> dict[int, str]:
    """The organiser's mapping (column number as text → field, or null to ignore the column), checked
    against the file's columns and the known fields."""
    mapping = {}
    for key, name in chosen.items():
        if name in (None, ""):
            continue
        if not (key.isdigit() and int(key) < len(headers)) or name not in FIELDS:
            raise ImportProblem(
                "unknown_column_or_field",
                N_("The mapping names a column or a field that does not exist: %(key)s → %(name)s."),
                field="mapping",
                key=key,
                name=name,
            )
        mapping[int(key)] = name
    return mapping


def check_mapping(headers: list[str], mapping: dict[int, str]) -> list[RowProblem]:
    """What is wrong with a mapping as a whole: a field chosen twice, a column the import cannot do "
    "without."""
    problems = []
    fields = set(mapping.values())
    seen: dict[str, int] = {}
    for index, name in sorted(mapping.items()):
        if name in seen:
            problems.append(
                row_problem(
                    ERROR,
                    "mapping_twice",
                    N_("Columns «%(first)s» and «%(second)s» are both chosen for the same field; leave one."),
                    first=headers[seen[name]],
                    second=headers[index],
                )
            )
        seen.setdefault(name, index)
    if not fields & {"surname", "full_name"}:
        problems.append(
            row_problem(
                ERROR, "mapping_no_surname", N_("Choose the column with the surname (or with the full name).")
            )
        )
    if not fields & {"first_name", "full_name"}:
        problems.append(
            row_problem(
                ERROR,
                "mapping_no_first_name",
                N_("Choose the column with the first name (or with the full name)."),
            )
        )
    if "email" not in fields:
        problems.append(row_problem(ERROR, "mapping_no_email", N_("Choose the column with the e-mail.")))
    return problems
