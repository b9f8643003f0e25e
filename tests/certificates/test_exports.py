"""An event's exports: every valid PDF in one streamed ZIP, and the ФИС ФРДО workbook (40 columns in the
register's order, blanks where data is missing, and a sheet of what to fill in)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from eventops.db import make_engine
from services.certificates.issuing import today
from services.registration.models import Participant
from tests.certificates.support import store_pdfs

YEAR = today().year

#: DOMAIN.md's order of the register's ДПО template
FRDO_COLUMNS = [
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
    "Наименование документа (оригинала)",
    "Серия документа (оригинала)",
    "Номер документа (оригинала)",
    "Регистрационный номер (оригинала)",
    "Дата выдачи (оригинала)",
    "Фамилия (оригинала)",
    "Имя (оригинала)",
    "Отчество (оригинала)",
    "Номер документа, в который вносятся изменения",
]


@pytest.fixture
def issued(course, certificates_app, database_url):
    full = course.add(
        "Алексеева",
        "Алла",
        "Андреевна",
        gender="female",
        birth_date="1985-03-14",
        snils="112-233-445 95",
        citizenship="643",
        education_level="ВО",
        diploma_surname="Смирнова",
        diploma_series="1077",
        diploma_number="0012345",
    )
    bare = course.add("Борисов", "Борис")
    # Saved before registration refused formulas in a name: the exports must keep it text, as it is.
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            Participant.__table__.update().where(Participant.id == bare).values(surname="=Борисов")
        )
    engine.dispose()
    revoked = course.add("Васильев", "Василий", gender="male")
    renamed = course.add("Григорьев", "Глеб", gender="male")
    course.attend_all_sessions([full, bare, revoked, renamed])
    course.set_policy()
    course.issue()
    documents = {d["participant_id"]: d for d in course.documents()}
    course.post(f"/certificates/{documents[revoked]['id']}/revoke", json={"reason": "ошибка"})
    course.update(renamed, surname="Григорьев-Орлов")
    new = course.post(f"/certificates/{documents[renamed]['id']}/reissue").json
    stored = store_pdfs(certificates_app)
    return {
        "full": full,
        "bare": bare,
        "revoked": revoked,
        "renamed": renamed,
        "documents": documents,
        "reissued": new,
        "stored": stored,
    }


def test_the_zip_streams_every_valid_pdf(course, issued):
    response = course.client.get(
        f"/api/v1/events/{course.event_id}/certificates.zip", headers=course_headers(), buffered=False
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed and "Content-Length" not in response.headers
    chunks = list(response.response)
    response.close()
    assert len(chunks) > 3  # written as it is read, file after file
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    valid = [issued["documents"][issued["full"]], issued["documents"][issued["bare"]], issued["reissued"]]
    names = archive.namelist()
    assert len(names) == 3 and response.headers["X-Certificates-Count"] == "3"
    for document in valid:
        [name] = [n for n in names if n.startswith(document["number"])]
        data = archive.read(name)
        assert data == issued["stored"][document["id"]]
        assert PdfReader(io.BytesIO(data)).metadata.title == document["number"]
    assert any("Алексеева Алла" in n for n in names)  # Cyrillic names survive (UTF-8 flag)
    assert not any(issued["documents"][issued["revoked"]]["number"] in n for n in names)


def course_headers():
    from tests.certificates.support import organiser_headers

    return organiser_headers()


def test_the_frdo_workbook_follows_the_register(course, issued):
    response = course.get(f"/events/{course.event_id}/frdo.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["ФРДО", "Не хватает данных"]
    rows = list(book["ФРДО"].iter_rows(values_only=True))
    assert list(rows[0]) == FRDO_COLUMNS and len(rows[0]) == 40
    by_surname = {row[21]: dict(zip(FRDO_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert set(by_surname) == {"Алексеева", "=Борисов", "Григорьев-Орлов"}  # not the revoked one

    full = by_surname["Алексеева"]
    number = issued["documents"][issued["full"]]["number"]
    assert full["Вид документа"] == "Удостоверение о повышении квалификации"
    assert full["Статус документа (Оригинал/Дубликат)"] == "Оригинал"
    assert (full["Номер документа"], full["Регистрационный номер"]) == (number, number)
    assert full["Дата выдачи"].date() == today()
    assert full["Вид дополнительной профессиональной программы (ПК/ПП)"] == "ПК"
    assert (full["Год начала обучения"], full["Год окончания обучения"], full["Срок обучения, часов"]) == (
        2026,
        2026,
        24,
    )
    assert (full["Фамилия"], full["Имя"], full["Отчество"]) == ("Алексеева", "Алла", "Андреевна")
    assert full["Дата рождения"].date() == date(1985, 3, 14)
    assert (full["Пол (Муж/Жен)"], full["СНИЛС (XXX-XXX-XXX YY)"], full["Гражданство (код ОКСМ)"]) == (
        "Жен",
        "112-233-445 95",
        "643",
    )
    assert (
        full["Уровень образования ВО/СПО"],
        full["Фамилия, указанная в дипломе ВО/СПО"],
        full["Серия диплома ВО/СПО"],
        full["Номер диплома ВО/СПО"],
    ) == ("ВО", "Смирнова", "1077", "0012345")
    assert full["Номер документа (оригинала)"] is None

    bare = by_surname["=Борисов"]  # a formula-looking name stays text
    assert (
        bare["Дата рождения"] is None
        and bare["СНИЛС (XXX-XXX-XXX YY)"] is None
        and bare["Пол (Муж/Жен)"] is None
    )

    renamed = by_surname["Григорьев-Орлов"]
    old = issued["documents"][issued["renamed"]]
    assert renamed["Номер документа (оригинала)"] == old["number"]
    assert renamed["Фамилия (оригинала)"] == "Григорьев"
    assert renamed["Номер документа, в который вносятся изменения"] == old["number"]

    missing = list(book["Не хватает данных"].iter_rows(values_only=True))
    assert missing[0] == ("ФИО", "Номер", "Чего не хватает")
    people = {row[0]: row[2] for row in missing[1:]}
    assert "Алексеева Алла Андреевна" not in people
    assert people["=Борисов Борис"] == (
        "дата рождения, пол, СНИЛС, гражданство, уровень образования, "
        "фамилия в дипломе, серия диплома, номер диплома"
    )
    assert people["Григорьев-Орлов Глеб"].startswith("дата рождения, СНИЛС")  # gender is known


def test_the_missing_data_sheet_speaks_english_when_asked(course, issued):
    book = load_workbook(io.BytesIO(course.get(f"/events/{course.event_id}/frdo.xlsx", lang="en").data))
    assert book.sheetnames == ["ФРДО", "Missing data"]
    assert next(book["Missing data"].iter_rows(values_only=True)) == (
        "Full name",
        "Number",
        "What is missing",
    )
