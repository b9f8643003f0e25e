"""Reading participant spreadsheets: XLSX and CSV in their regional varieties, and clean refusals."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

from services.registration.importing import ImportProblem, guess_mapping, read_table, split_header

# UnreadableBody: the gateway's import tests still take it from here.
from tests.registration.support import UnreadableBody, csv_bytes, russian, xlsx_bytes  # noqa: F401

HEADER = ["Фамилия", "Имя", "Отчество", "E-mail", "Регион"]
PERSON = ["Иванова", "Анна", "Сергеевна", "anna@mfc.example.ru", "Татарстан"]


def refusal(filename: str, data: bytes) -> ImportProblem:
    with pytest.raises(ImportProblem) as caught:
        split_header(read_table(filename, data))
    return caught.value


# --- formats ---------------------------------------------------------------------------------------


def test_xlsx_built_with_openpyxl_is_read_with_row_numbers_as_in_excel():
    data = xlsx_bytes(
        [["Список участников семинара"], [], HEADER, PERSON, [], ["Петров", "Иван", None, "p@x.ru", 16]]
    )
    table = split_header(read_table("participants.xlsx", data))
    assert table.header_row == 3
    assert table.headers == HEADER
    assert [number for number, _ in table.rows] == [4, 6]
    assert table.rows[1][1] == ["Петров", "Иван", "", "p@x.ru", "16"]


def test_xlsx_numbers_and_dates_become_the_text_a_person_sees():
    data = xlsx_bytes(
        [
            ["Фамилия", "Телефон", "СНИЛС", "Дата рождения"],
            ["Ким", 79161234567, 11223344595, date(1985, 10, 7)],
        ]
    )
    table = split_header(read_table("a.xlsx", data))
    assert table.rows[0][1] == ["Ким", "79161234567", "11223344595", "07.10.1985"]


def test_only_the_first_sheet_is_read():
    data = xlsx_bytes([HEADER, PERSON], extra_sheets=2)
    assert len(split_header(read_table("a.xlsx", data)).rows) == 1


def test_cp1251_csv_from_a_regional_office():
    data = csv_bytes(
        [HEADER, PERSON, ["Ёлкин", "Пётр", "", "elkin@x.ru", "Ростовская обл."]], encoding="cp1251"
    )
    table = split_header(read_table("список.csv", data))
    assert table.headers == HEADER
    assert table.rows[1][1][0] == "Ёлкин"


def test_utf8_csv_with_bom_and_semicolons():
    data = "\ufeff".encode() + csv_bytes([HEADER, PERSON])
    table = split_header(read_table("a.csv", data))
    assert table.headers[0] == "Фамилия"
    assert table.rows[0][1] == PERSON


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiter_is_sniffed(delimiter):
    rows = [["ФИО", "Организация", "E-mail"], ["Иванов Иван", "ООО «Ромашка»", "i@x.ru"]]
    table = split_header(read_table("a.csv", csv_bytes(rows, delimiter=delimiter)))
    assert table.headers == rows[0]
    assert table.rows[0][1] == rows[1]


def test_commas_inside_a_semicolon_csv_do_not_confuse_the_sniffer():
    text = "Фамилия, имя, отчество;E-mail;Организация\nИванов Иван Иванович;i@x.ru;ГБУ «МФЦ», г. Казань\n"
    table = split_header(read_table("a.csv", text.encode("cp1251")))
    assert table.headers == ["Фамилия, имя, отчество", "E-mail", "Организация"]
    assert table.rows[0][1][2] == "ГБУ «МФЦ», г. Казань"


def test_quoted_csv_cells_keep_their_delimiters_and_line_breaks():
    text = (
        'ФИО,Организация,E-mail\n"Иванов Иван","ООО ""Ромашка"", Казань\nфилиал",i@x.ru\n'
        "Петров Пётр,МФЦ,p@x.ru\n"
    )
    table = split_header(read_table("a.csv", text.encode()))
    assert table.rows[0][1][1] == 'ООО "Ромашка", Казань\nфилиал'
    assert [number for number, _ in table.rows] == [2, 3]  # records, as a spreadsheet numbers them


# --- the header row and the mapping -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Фамилия", "surname"),
        ("ФИО", "full_name"),
        ("Ф.И.О.", "full_name"),
        ("Фамилия, имя, отчество", "full_name"),
        ("Имя", "first_name"),
        ("Отчество", "patronymic"),
        ("E-mail", "email"),
        ("Эл. почта", "email"),
        ("Почта", "email"),
        ("Адрес электронной почты", "email"),
        ("e-mail ", "email"),
        ("Телефон", "phone"),
        ("Телефон (мобильный)", "phone"),
        ("Регион", "region"),
        ("Субъект РФ", "region"),
        ("Организация", "organisation"),
        ("Место работы", "organisation"),
        ("Должность", "position"),
        ("Дата рождения", "birth_date"),
        ("Дата рождения (ДД.ММ.ГГГГ)", "birth_date"),
        ("Пол", "gender"),
        ("СНИЛС", "snils"),
        ("Гражданство", "citizenship"),
        ("Фамилия в дипломе", "diploma_surname"),
        ("Last name", "surname"),
        ("First Name", "first_name"),
        ("Email address", "email"),
        ("Organization", "organisation"),
        ("Job title", "position"),
        ("Date of birth", "birth_date"),
        ("№ п/п", None),
        ("Примечание", None),
    ],
)
def test_headers_are_recognised(header, field):
    assert guess_mapping([header]).get(0) == field


def test_a_field_goes_to_its_first_column_only():
    assert guess_mapping(["E-mail", "Почта", "Фамилия"]) == {0: "email", 2: "surname"}


def test_empty_header_cells_are_named_by_their_column_letter():
    table = split_header(
        read_table("a.csv", csv_bytes([["Фамилия", "", "E-mail"], ["Ким", "x", "k@x.ru", "лишнее"]]))
    )
    assert table.headers == ["Фамилия", "B", "E-mail", "D"]


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "code"),
    [
        ("participants.xlsx", b"%PDF-1.7 not a workbook", "not_a_spreadsheet"),
        ("participants.pdf", b"%PDF-1.7", "not_a_spreadsheet"),
        ("participants.exe", b"MZ\x90\x00\x03", "not_a_spreadsheet"),
        ("participants.csv", b"MZ\x90\x00\x03\x00\x00\x00", "not_a_spreadsheet"),
        ("participants.csv", b"\x00\x01\x02binary\x00", "not_a_spreadsheet"),
        ("participants.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old_excel"),
        ("participants.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old_excel"),
        ("participants.ods", b"PK\x03\x04whatever", "ods"),
        ("participants.xlsx", b"PK\x03\x04 a broken archive", "damaged"),
    ],
)
def test_what_is_not_a_spreadsheet_is_refused(filename, data, code):
    problem = refusal(filename, data)
    assert problem.code == code
    assert any("а" <= char <= "я" for char in problem.message(russian).lower())  # said in Russian


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert refusal("participants.xlsx", buffer.getvalue()).code == "not_a_spreadsheet"


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("a.csv", b""),
        ("a.csv", b" \r\n\r\n  "),
        ("a.xlsx", b""),
        ("a.xlsx", None),
    ],
)
def test_an_empty_file_is_refused(filename, data):
    data = xlsx_bytes([]) if data is None else data
    problem = refusal(filename, data)
    assert problem.code == "empty"
    assert problem.message(russian) == "Файл пустой."


@pytest.mark.parametrize("filename", ["a.csv", "a.xlsx"])
def test_a_header_without_rows_is_refused(filename):
    data = xlsx_bytes([HEADER]) if filename.endswith("xlsx") else csv_bytes([HEADER])
    problem = refusal(filename, data)
    assert problem.code == "no_data"
    assert "только" in problem.message(russian)


def test_a_list_without_a_header_row_is_refused():
    problem = refusal("a.csv", csv_bytes([PERSON, PERSON]))
    assert problem.code == "no_header"
    assert "заголов" in problem.message(russian)


def test_twenty_thousand_rows_are_fine_and_one_more_is_refused():
    rows = [HEADER] + [["Ким", "Ли", "", f"k{n}@x.ru", "16"] for n in range(20_000)]
    assert len(split_header(read_table("a.csv", csv_bytes(rows))).rows) == 20_000
    problem = refusal("a.csv", csv_bytes([*rows, ["Ким", "Ли", "", "last@x.ru", "16"]]))
    assert problem.code == "too_many_rows"
    assert "20\u00a0000" in problem.message(russian)


def test_a_hundred_thousand_rows_are_refused_while_reading():
    rows = [HEADER] + [["Ким", "Ли", "", f"k{n}@x.ru", "16"] for n in range(100_000)]
    data = csv_bytes(rows)
    started = time.thread_time()  # CPU time: the work done, which a loaded machine cannot stretch
    with pytest.raises(ImportProblem) as caught:
        read_table("a.csv", data)  # refused by the reader itself, before the header is even looked for
    assert caught.value.code == "too_many_rows"
    assert time.thread_time() - started < 5


def test_a_cell_over_a_thousand_characters_is_refused_with_its_place():
    problem = refusal("a.xlsx", xlsx_bytes([HEADER, PERSON, ["Ким", "Ли", "", "k@x.ru", "х" * 1001]]))
    assert problem.code == "cell_too_long"
    assert problem.wording.params["row"] == 3 and problem.wording.params["column"] == "E"


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    # 60 MB of one letter packs into about 60 KB: a ratio no real participant list has.
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx_bytes([HEADER, PERSON]))) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for info in source.infolist():
            bomb.writestr(info, source.read(info))
        bomb.writestr("xl/padding.xml", b"<x>" + b"A" * (60 * 1024 * 1024) + b"</x>")
    assert len(buffer.getvalue()) < 1024 * 1024
    assert refusal("bomb.xlsx", buffer.getvalue()).code == "zip_bomb"


def test_a_lying_archive_is_refused_as_damaged():
    # The sheet claims 100 bytes but holds far more: the size in the archive's directory is not trusted.
    original = xlsx_bytes([HEADER, PERSON] + [[*PERSON[:3], f"p{n}@x.ru", "16"] for n in range(2000)])
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    size = info.file_size.to_bytes(4, "little")
    forged = original.replace(size, (100).to_bytes(4, "little"))
    assert forged != original
    assert refusal("a.xlsx", forged).code in ("damaged", "zip_bomb")


def test_a_sheet_reaching_the_last_cell_is_refused_without_allocating_it():
    # calamine would allocate 16384 × 1048576 cells for this 5 KB file and abort the whole process.
    workbook = Workbook()
    workbook.active["A1"] = "Фамилия"
    workbook.active["XFD1048576"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    problem = refusal("sparse.xlsx", buffer.getvalue())
    assert problem.code == "sheet_too_large"
    assert "XFD1048576" in problem.message(russian)


def test_formatting_far_below_the_list_does_not_count_as_data():
    from openpyxl.styles import PatternFill

    workbook = Workbook()
    for row in (HEADER, PERSON):
        workbook.active.append(row)
    workbook.active["J1048576"].fill = PatternFill("solid", fgColor="FFFF00")
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert len(split_header(read_table("a.xlsx", buffer.getvalue())).rows) == 1


def test_a_workbook_with_a_chart_is_read():
    from openpyxl.chart import BarChart, Reference

    workbook = Workbook()
    sheet = workbook.active
    for row in (HEADER, PERSON, ["Ким", "Ли", "", "k@x.ru", "16"]):
        sheet.append(row)
    chart = BarChart()
    chart.add_data(Reference(sheet, min_col=5, min_row=1, max_row=3), titles_from_data=True)
    sheet.add_chart(chart, "G2")
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert "xl/charts/chart1.xml" in zipfile.ZipFile(io.BytesIO(buffer.getvalue())).namelist()
    assert len(split_header(read_table("a.xlsx", buffer.getvalue())).rows) == 2


def test_a_cell_placed_by_anything_but_a_plain_reference_is_refused():
    # calamine would place a cell without r="..." by counting; a disguised reference could hide a far cell.
    original = xlsx_bytes([HEADER, PERSON])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(buffer, "w") as forged:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'r="E2"', b'r="&#88;FD1048576"')
            forged.writestr(info, data)
    assert refusal("a.xlsx", buffer.getvalue()).code == "damaged"


# --- width -----------------------------------------------------------------------------------------


def test_a_row_wider_than_the_limit_is_refused_with_a_russian_message():
    from services.registration.importing.reading import MAX_COLUMNS

    assert (
        len(
            split_header(
                read_table("a.xlsx", xlsx_bytes([HEADER + ["x"] * (MAX_COLUMNS - 5), PERSON]))
            ).headers
        )
        == MAX_COLUMNS
    )
    problem = refusal("a.xlsx", xlsx_bytes([HEADER, PERSON + ["x"] * (MAX_COLUMNS - 4)]))
    assert problem.code == "too_many_columns"
    assert problem.message(russian).startswith(
        f"В строке 2 столбцов: {MAX_COLUMNS + 1} (последний заполненный — GS)"
    )


def test_a_million_columns_are_refused_at_once():
    data = csv_bytes([HEADER, PERSON + ["1"] * 1_000_000], delimiter=",")
    started = time.perf_counter()
    problem = refusal("wide.csv", data)
    assert problem.code == "too_many_columns" and "1\u00a0000\u00a0005" in problem.message(russian)
    assert time.perf_counter() - started < 2


def test_a_formula_far_to_the_right_counts_as_width():
    workbook = Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(PERSON)
    workbook.active["ZZ2"] = "=1+1"  # saved without a value: calamine alone would not see it
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert refusal("a.xlsx", buffer.getvalue()).code == "too_many_columns"
