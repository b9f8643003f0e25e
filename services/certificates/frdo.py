"""The ФИС ФРДО upload of an event's issued documents: the 40-column sheet of the federal register's
template for ДПО documents, in its order, and a second sheet listing per person what is still missing.

The first sheet's headers are the register's own (Russian, always); the second sheet is for the organiser
and speaks their language. Every cell is written through eventops.spreadsheets: a name that starts
with "=" stays a name, a number as typed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from openpyxl import Workbook
from openpyxl.styles import Font

from eventops.spreadsheets import xlsx_cell
from services.certificates.models import Certificate, DocumentKind
from services.certificates.registration_client import Participant

#: the register's columns, in its template's order (see DOMAIN.md)
COLUMNS = (
    "Вид документа",
    "Статус документа (Оригинал/Дубликат)",
    "Подтверждение утраты",
    "Подтверждение обмена",
    "Подтверждение уничтожения",
    "Серия документа",
    "Номер документа",
    "Дата выдачи",
    "Регистрационный номер",
    "Вид дополнительной профессиональной программы (ПК/ПП)",
    "Наименование программы",
    "Область профессиональной деятельности",
    "Укрупнённая группа специальностей",
    "Квалификация/профессия/специальность",
    "Уровень образования ВО/СПО",
    "Фамилия, указанная в дипломе ВО/СПО",
    "Серия диплома ВО/СПО",
    "Номер диплома ВО/СПО",
    "Год начала обучения",
    "Год окончания обучения",
    "Срок обучения, часов",
    "Фамилия",
    "Имя",
    "Отчество",
    "Дата рождения",
    "Пол (Муж/Жен)",
    "СНИЛС (XXX-XXX-XXX YY)",
    "Форма обучения",
    "Источник финансирования",
    "Форма получения образования",
    "Гражданство (код ОКСМ)",
    # Used only for duplicates and corrections: the document this one replaces.
    "Наименование документа (оригинала)",
    "Серия документа (оригинала)",
    "Номер документа (оригинала)",
    "Регистрационный номер (оригинала)",
    "Дата выдачи (оригинала)",
    "Фамилия (оригинала)",
    "Имя (оригинала)",
    "Отчество (оригинала)",
    "Номер документа, в который вносятся изменения",
)
assert len(COLUMNS) == 40

DOCUMENT_NAMES = {
    DocumentKind.certificate: "Удостоверение о повышении квалификации",
    DocumentKind.statement: "Справка об обучении",
}
_GENDER = {"male": "Муж", "female": "Жен"}


@dataclass(frozen=True)
class Missing:
    """What the register needs of a person and registration does not hold yet."""

    certificate: Certificate
    fields: list[str]


def _missing_fields(person: Participant | None, gender: str | None) -> list[str]:
    """The optional personal data absent for one person, as names for the organiser."""
    checks = [
        (gettext("birth date"), person and person.birth_date),
        (gettext("gender"), gender),
        (gettext("SNILS"), person and person.snils),
        (gettext("citizenship"), person and person.citizenship),
        (gettext("education level"), person and person.education_level),
        (gettext("surname in the diploma"), person and person.diploma_surname),
        (gettext("diploma series"), person and person.diploma_series),
        (gettext("diploma number"), person and person.diploma_number),
    ]
    return [name for name, value in checks if not value]


def row(certificate: Certificate, person: Participant | None, original: Certificate | None) -> list:
    """One document as the register's 40 cells; None where the data is not held."""
    s = certificate.snapshot
    issued_on = date.fromisoformat(s["issued_on"])
    starts_on, ends_on = date.fromisoformat(s["starts_on"]), date.fromisoformat(s["ends_on"])
    gender = (person.gender if person else None) or s.get("gender")
    hours = s["academic_hours"] if certificate.kind is DocumentKind.certificate else s.get("attended_hours")
    cells = [
        DOCUMENT_NAMES[certificate.kind],
        "Оригинал",
        None,
        None,
        None,
        None,
        certificate.number,
        issued_on,
        certificate.number,
        s.get("programme_kind") or "ПК",
        s["programme_title"],
        None,
        None,
        None,
        person.education_level if person else None,
        person.diploma_surname if person else None,
        person.diploma_series if person else None,
        person.diploma_number if person else None,
        starts_on.year,
        ends_on.year,
        hours,
        s["surname"],
        s["first_name"],
        s.get("patronymic"),
        person.birth_date if person else None,
        _GENDER.get(gender or ""),
        person.snils if person else None,
        None,
        None,
        None,
        person.citizenship if person else None,
    ]
    if original is not None:
        # A re-issued document names the one it replaces.
        o = original.snapshot
        cells += [
            DOCUMENT_NAMES[original.kind],
            None,
            original.number,
            original.number,
            date.fromisoformat(o["issued_on"]),
            o["surname"],
            o["first_name"],
            o.get("patronymic"),
            original.number,
        ]
    else:
        cells += [None] * 9
    return cells


def workbook(
    documents: Iterable[Certificate],
    people: Mapping[int, Participant],
    originals: Mapping[int, Certificate],
) -> bytes:
    """The XLSX: sheet «ФРДО» with one row per document, then the sheet of missing data."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("ФРДО")
    bold = Font(bold=True)
    sheet.append([xlsx_cell(sheet, name, font=bold) for name in COLUMNS])
    missing: list[Missing] = []
    for certificate in documents:
        person = people.get(certificate.participant_id)
        original = originals.get(certificate.supersedes_id) if certificate.supersedes_id else None
        sheet.append([xlsx_cell(sheet, value) for value in row(certificate, person, original)])
        gender = (person.gender if person else None) or certificate.snapshot.get("gender")
        fields = _missing_fields(person, gender)
        if fields:
            missing.append(Missing(certificate, fields))
    gaps = book.create_sheet(gettext("Missing data")[:31])
    gaps.append(
        [
            xlsx_cell(gaps, gettext("Full name"), font=bold),
            xlsx_cell(gaps, gettext("Number"), font=bold),
            xlsx_cell(gaps, gettext("What is missing"), font=bold),
        ]
    )
    for item in missing:
        s = item.certificate.snapshot
        name = " ".join(p for p in (s["surname"], s["first_name"], s.get("patronymic")) if p)
        gaps.append([xlsx_cell(gaps, v) for v in (name, item.certificate.number, ", ".join(item.fields))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
