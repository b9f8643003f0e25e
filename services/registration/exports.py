"""The participant list as a spreadsheet (XLSX or CSV) with Russian headers, for organisers.

Cells are written through eventops.spreadsheets: XLSX texts are string cells (never formulas, never
mangled), CSV texts that start like a formula get a leading single quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

from eventops.spreadsheets import csv_text, xlsx_cell
from services.registration.models import Gender, Participant, ParticipantStatus
from services.registration.regions import region_name

LOCAL_TIME = ZoneInfo("Europe/Moscow")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"

STATUS_NAMES = {
    ParticipantStatus.registered: "зарегистрирован",
    ParticipantStatus.confirmed: "подтверждён",
    ParticipantStatus.cancelled: "отменён",
}
# As the federal register (ФИС ФРДО) writes them.
GENDER_NAMES = {Gender.male: "Муж", Gender.female: "Жен"}


def _local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back the stored UTC time without its zone
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TIME).replace(tzinfo=None, microsecond=0)


#: (header, value) for every column, in order
COLUMNS: list[tuple[str, Callable[[Participant], object]]] = [
    ("Код", lambda p: p.code),
    ("Фамилия", lambda p: p.surname),
    ("Имя", lambda p: p.first_name),
    ("Отчество", lambda p: p.patronymic),
    ("E-mail", lambda p: p.email),
    ("Телефон", lambda p: p.phone),
    ("Регион", lambda p: region_name(p.region_code)),
    ("Код региона", lambda p: p.region_code),
    ("Организация", lambda p: p.organisation),
    ("Должность", lambda p: p.position),
    ("Статус", lambda p: STATUS_NAMES[p.status]),
    ("Дата рождения", lambda p: p.birth_date),
    ("Пол", lambda p: GENDER_NAMES.get(p.gender)),
    ("СНИЛС", lambda p: p.snils),
    ("Гражданство (ОКСМ)", lambda p: p.citizenship),
    ("Уровень образования", lambda p: p.education_level),
    ("Фамилия в дипломе", lambda p: p.diploma_surname),
    ("Серия диплома", lambda p: p.diploma_series),
    ("Номер диплома", lambda p: p.diploma_number),
    ("Дата регистрации", lambda p: _local(p.created_at)),
    ("Дата отмены", lambda p: _local(p.cancelled_at)),
]
HEADERS = [header for header, _ in COLUMNS]


def _rows(participants: Iterable[Participant]) -> Iterable[list]:
    for participant in participants:
        yield [value(participant) for _, value in COLUMNS]


def to_csv(participants: Iterable[Participant]) -> bytes:
    """UTF-8 with a BOM and ';' between fields: what Excel with Russian settings opens as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in _rows(participants):
        writer.writerow([_csv_text(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return csv_text(str(value))


def to_xlsx(participants: Iterable[Participant]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Участники")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([xlsx_cell(sheet, header, font=bold) for header in HEADERS])
    for row in _rows(participants):
        sheet.append([xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def spreadsheet(participants: Iterable[Participant], file_format: str) -> tuple[bytes, str]:
    """The list as a file of the format asked for ("xlsx" or "csv"), and its media type."""
    if file_format == "csv":
        return to_csv(participants), CSV_MIME
    return to_xlsx(participants), XLSX_MIME
