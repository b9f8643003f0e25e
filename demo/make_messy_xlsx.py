"""Writes a participant list as messy as the ones regional offices send, to try the import with.

    python -m demo.make_messy_xlsx [--out PATH]

Default: var/demo/participants-messy.xlsx (var/ is not in git). Upload it on an event's «Импорт участников»
page: the report should point at a bad e-mail, an unknown region (with a suggestion), a person listed
twice, a Latin letter in a surname, a wrong СНИЛС and a date that does not exist, and map the region
spellings («Татарстан», «Ростовская обл.», «г. Москва») onto the reference list.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from eventops.config import var_dir

TITLE = "Список слушателей курса «Цифровые коммуникации МФЦ» (заявка от 03.10.2026)"
HEADER = [
    "№ п/п",
    "ФИО",
    "Эл. почта",
    "Телефон",
    "Субъект РФ",
    "Место работы",
    "Должность",
    "Дата рождения",
    "Пол",
    "СНИЛС",
]
ROWS = [
    # name, e-mail, phone, region, organisation, position, birth date, gender, СНИЛС
    (
        "Иванова Анна Сергеевна",
        "ivanova@mfc-kazan.example.ru",
        "+7 843 123-45-67",
        "Татарстан",
        "ГАУ «МФЦ» Республики Татарстан",
        "главный специалист",
        date(1985, 10, 7),
        "ж",
        "112-233-445 95",
    ),
    (
        "Ёлкин Пётр Андреевич",
        "elkin@mfc-rostov.example.ru",
        79181234567,
        "Ростовская обл.",
        "МАУ «МФЦ» г. Ростова-на-Дону",
        "ведущий специалист",
        "12.03.1979",
        "м",
        "",
    ),
    (
        "Сидорова Мария Ивановна",
        "sidorova@mfc-moscow.example.ru",
        "",
        "г. Москва",
        "ГБУ «МФЦ города Москвы»",
        "руководитель отдела",
        "01.02.1990",
        "Жен",
        "",
    ),
    # a Latin «о» in the surname, copied from somewhere
    (
        "Кoзлов Дмитрий Олегович",
        "kozlov@mfc-krasnodar.example.ru",
        "",
        "Краснодарский край",
        "ГАУ КК «МФЦ КК»",
        "специалист",
        "23.11.1988",
        "муж.",
        "",
    ),
    # no @ in the e-mail
    (
        "Смирнов Алексей Петрович",
        "smirnov.mfc-perm.example.ru",
        "",
        "Пермский край",
        "КГАУ «ПК МФЦ ПГМУ»",
        "специалист",
        "05.06.1992",
        "м",
        "",
    ),
    # a region nobody can find, with a typo close to a real one
    (
        "Кузнецова Ольга Викторовна",
        "kuznetsova@mfc-samara.example.ru",
        "",
        "Самарская облатсь",
        "ГАУ СО «МФЦ»",
        "заместитель директора",
        "17.09.1981",
        "ж",
        "",
    ),
    # a wrong СНИЛС check number
    (
        "Мамедов Рашид Гейдар оглы",
        "mamedov@mfc-dagestan.example.ru",
        "",
        "Дагестан",
        "ГАУ РД «МФЦ в РД»",
        "специалист",
        "30.04.1987",
        "м",
        "112-233-445 96",
    ),
    # the same person twice, with the e-mail in another case
    (
        "Иванова Анна Сергеевна",
        " IVANOVA@mfc-kazan.example.ru ",
        "",
        "Республика Татарстан (Татарстан)",
        "ГАУ «МФЦ» Республики Татарстан",
        "главный специалист",
        "07.10.1985",
        "ж",
        "",
    ),
    # a date that does not exist
    (
        "Петров Иван",
        "petrov@mfc-spb.example.ru",
        "",
        "СПб",
        "СПб ГКУ «МФЦ»",
        "специалист",
        "31.02.1990",
        "м",
        "",
    ),
    (
        "Ким Елена",
        "kim@mfc-sakhalin.example.ru",
        "",
        "Сахалинская область",
        "ГКУ «МФЦ Сахалинской области»",
        "специалист",
        "",
        "",
        "",
    ),
    (
        "Огнева Дарья Сергеевна",
        "ogneva@mfc-yugra.example.ru",
        "",
        "Ханты-Мансийский АО - Югра",
        "АУ «МФЦ Югры»",
        "начальник отдела",
        "",
        "ж",
        "",
    ),
    # markup in a cell is data, shown as text
    (
        "Белова Ирина",
        "belova@mfc-tver.example.ru",
        "",
        "Тверская обл.",
        "<b>МФЦ</b> Твери",
        "специалист",
        "",
        "ж",
        "",
    ),
]


def build(path: Path) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Участники"
    sheet.append([TITLE])
    sheet["A1"].font = Font(bold=True)
    sheet.append([])
    sheet.append(HEADER)
    for number, row in enumerate(ROWS, start=1):
        sheet.append([number, *row])
    for cell in sheet["H"][3:]:
        if isinstance(cell.value, date):
            cell.number_format = "DD.MM.YYYY"
    sheet.append([len(ROWS) + 1])  # a numbered empty line at the bottom, as templates have
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=var_dir() / "demo" / "participants-messy.xlsx")
    path = build(parser.parse_args(argv).out)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
