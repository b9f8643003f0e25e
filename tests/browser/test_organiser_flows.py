"""Issue 3 in a real Chromium: an organiser on a laptop imports a messy regional spreadsheet, reads the
report, adjusts a column, imports, fixes what the report pointed at and imports again; and a participant
registers on a phone through the public form and lands on their personal page with its QR code."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from tests.conftest import auth_headers

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# A regional office's list: a title line above the header, Russian headers in their own order, the full
# name in one column. The spreadsheet's rows are numbered as Excel shows them: title 1, header 2, data 3….
TITLE = "Список участников семинара «Цифровые коммуникации» (Юг и Поволжье)"
HEADER = ["Субъект РФ", "ФИО", "Должность", "Эл. почта", "Место работы", "СНИЛС"]
ROWS = {
    3: [
        "Краснодарский край",
        "Ёлкин Пётр Иванович",
        "специалист",
        "elkin@example.ru",
        "МФЦ Сочи",
        "112-233-445 95",
    ],  # clean
    4: [
        "Ростовская обл.",
        "Иванова Анна Сергеевна",
        "ведущий специалист",
        "ivanova@example.ru",
        "МФЦ Ростова-на-Дону",
        "123-456-789 64",
    ],  # region spelling → Ростовская область
    5: [
        "г. Москва",
        "Смирнов Олег Петрович",
        "начальник отдела",
        "smirnov@example.ru",
        "ГБУ МФЦ города Москвы",
        "234-567-890 99",
    ],  # clean («г. Москва» is the list's name)
    6: [
        "Татарстан",
        "Гарипов Рустам Ильдарович",
        "главный специалист",
        "garipov@example.ru",
        "ГАУ МФЦ РТ",
        "345-678-901 23",
    ],  # region spelling → Республика Татарстан
    7: [
        "Краснодарский край",
        "Кузнецова Мария Игоревна",
        "специалист",
        "kuznetsova.example.ru",
        "МФЦ Краснодара",
        "",
    ],  # invalid e-mail
    8: [
        "Ростовская область",
        "Пeтров Илья Андреевич",
        "эксперт",
        "petrov@example.ru",
        "МФЦ Таганрога",
        "456-789-012 38",
    ],  # a Latin «e» in the surname
    9: [
        "Ростовская обл.",
        "Иванова  Анна Сергеевна",
        "ведущий специалист",
        "IVANOVA @Example.ru",
        "МФЦ Ростова-на-Дону",
        "",
    ],  # row 4 again: case and a space
    10: ["Атлантида", "Сидоров Павел Викторович", "директор", "sidorov@example.ru", "МФЦ Атлантиды", ""],
    11: [
        "Московская область",
        "Орлова Елена Викторовна",
        "специалист",
        "orlova@example.ru",
        "<b>МФЦ</b>",
        "567-890-123 43",
    ],  # markup in a cell: refused (registration's field rules), fixed in the second file
    12: [
        "Республика Татарстан",
        "Волков Денис Олегович",
        "консультант",
        "volkov@example.ru",
        "МФЦ Казани",
        "678-901-234 00",
    ],  # wrong СНИЛС check number (38)
}
# What the organiser corrects after reading the report.
FIXES = {
    7: {3: "kuznetsova@example.ru"},
    10: {0: "Ростовская область"},
    11: {4: "МФЦ Подмосковья"},
    12: {5: "678-901-234 38"},
}


def write_xlsx(path: Path, rows: dict[int, list[str]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Участники"
    sheet.append([TITLE])
    sheet.append(HEADER)
    for number in sorted(rows):
        sheet.append(rows[number])
    workbook.save(path)
    return path


def fixed_rows() -> dict[int, list[str]]:
    rows = {number: list(cells) for number, cells in ROWS.items()}
    for number, changes in FIXES.items():
        for column, value in changes.items():
            rows[number][column] = value
    return rows


def api() -> requests.Session:
    session = requests.Session()
    session.headers.update(auth_headers())
    return session


def create_event(system, **fields) -> dict:
    today = date.today()
    response = api().post(
        f"{system.urls['registration']}/api/v1/events",
        json={
            "slug": "flows-" + uuid.uuid4().hex[:8],
            "title": "Цифровые коммуникации и диалог с гражданами",
            "organiser": "ЮРИУ РАНХиГС",
            "place": "Сочи",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=2)).isoformat(),
            **fields,
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def participants_by_email(system, event_id: int) -> dict[str, dict]:
    response = api().get(f"{system.urls['registration']}/api/v1/events/{event_id}/participants", timeout=10)
    assert response.status_code == 200, response.text
    return {person["email"].lower(): person for person in response.json()["items"]}


def upload(page: Page, path: Path) -> None:
    """From the event page: «Импорт участников», choose the file, «Загрузить и проверить»."""
    page.get_by_role("link", name="Импорт участников").click()
    expect(page.get_by_role("heading", name="Импорт участников")).to_be_visible()
    page.get_by_label("Таблица с участниками (.xlsx или .csv, до 10 МБ)").set_input_files(path)
    page.get_by_role("button", name="Загрузить и проверить").click()
    expect(page).to_have_url(re.compile(r"/import/[A-Za-z0-9_-]{32}$"))
    expect(page.get_by_text(f"Файл «{path.name}»: заголовки в строке 2.")).to_be_visible()


def expect_counts(page: Page, **counts: int) -> None:
    labels = {
        "total": "Строк",
        "ok": "Без замечаний",
        "warning": "Будут исправлены",
        "error": "С ошибками",
        "duplicate": "Уже зарегистрированы или повторяются",
    }
    items = page.locator("#import-form .import-counts li")
    for name, value in counts.items():
        expect(items.filter(has_text=labels[name])).to_have_text(f"{labels[name]}: {value}")


def expect_report_row(page: Page, number: int, status: str, *messages: str) -> None:
    row = page.locator(f"#row-{number}")
    expect(row.locator("td").first).to_have_text(str(number))
    expect(row.locator(".row-status")).to_have_text(status)
    for message in messages:
        expect(row.locator(".problems")).to_contain_text(message)


def expect_done(page: Page, filename: str, created: int, skipped: int, left_out: int, errors: int) -> None:
    expect(page.get_by_role("heading", name="Импорт завершён")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(f"Файл «{filename}» импортирован.")
    items = page.locator(".import-counts li")
    for label, value in (
        ("Добавлено участников", created),
        ("Пропущено: уже зарегистрированы или повторяются", skipped),
        ("Не отмечены вами", left_out),
        ("Не импортировано из-за ошибок", errors),
    ):
        expect(items.filter(has_text=label)).to_have_text(f"{label}: {value}")


def test_organiser_imports_a_messy_regional_spreadsheet_and_fixes_what_the_report_points_at(
    logged_in_page, live_system, tmp_path
):
    event = create_event(live_system)
    messy = write_xlsx(tmp_path / "участники-юг.xlsx", ROWS)
    page = logged_in_page("organiser", viewport=LAPTOP, path=f"/events/{event['id']}", touch=False)
    expect(page.get_by_role("heading", name=event["title"])).to_be_visible()

    # 1. Upload: the preview guesses every column from the Russian headers, the full name included.
    upload(page, messy)
    guessed = {
        "Субъект РФ": "region",
        "ФИО": "full_name",
        "Должность": "position",
        "Эл. почта": "email",
        "Место работы": "organisation",
        "СНИЛС": "snils",
    }
    for header, field in guessed.items():
        expect(page.get_by_label(header, exact=True)).to_have_value(field)
    expect(page.get_by_label("ФИО", exact=True).locator("option:checked")).to_have_text(
        "ФИО (фамилия, имя, отчество)"
    )
    # The sample shows cells as text: the markup is not rendered.
    expect(page.locator("table.sample td", has_text="<b>МФЦ</b>")).to_have_count(1)
    expect(page.locator("table.sample b")).to_have_count(0)

    # 2. The report names each bad row by its spreadsheet number, with the column and what to do, in Russian.
    expect_counts(page, total=10, ok=2, warning=3, error=4, duplicate=1)
    expect_report_row(
        page, 4, "будет исправлена", "Регион «Ростовская обл.» распознан как «Ростовская область»."
    )
    expect_report_row(page, 6, "будет исправлена", "Регион «Татарстан» распознан как «Республика Татарстан».")
    expect_report_row(
        page,
        7,
        "ошибка",
        "Эл. почта: «kuznetsova.example.ru» — неверный адрес e-mail. Проверьте, "
        "что в нём один знак @ и домен, например ivanova@mail.ru.",
    )
    expect(page.locator("#row-7")).to_contain_text("нет: исправьте файл")
    expect_report_row(
        page,
        8,
        "будет исправлена",
        "ФИО: В «Пeтров» латинские буквы, похожие на русские; будет импортировано как «Петров».",
    )
    expect_report_row(
        page,
        9,
        "пропускается",
        "Эл. почта: Этот же человек с тем же e-mail уже есть в строке 4 — эта строка будет пропущена.",
    )
    expect_report_row(
        page,
        10,
        "ошибка",
        "Субъект РФ: Региона «Атлантида» нет в списке субъектов РФ. "
        "Напишите полное название, например «Ростовская область».",
    )
    expect_report_row(
        page,
        12,
        "ошибка",
        "СНИЛС: Не сходится контрольное число СНИЛС 678-901-234 00. Сверьте номер с документом.",
    )
    # Markup is no text a name or an organisation has: the row is refused, not imported as it is.
    expect(page.locator("#row-11")).to_contain_text("ошибка")
    expect(page.locator("#row-11")).to_contain_text("Место работы: «<b>МФЦ</b>» содержит разметку")
    for clean in (3, 5):
        expect(page.locator(f"#row-{clean}")).to_have_count(0)
    expect(page.locator("#import-form")).to_contain_text("можно импортировать 5 строк")

    # 3. The organiser decides not to import the СНИЛС column: htmx re-checks the kept file in place.
    page.evaluate("window.__samePage = true")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/preview")) as remap:
        page.get_by_label("СНИЛС", exact=True).select_option(label="— не импортировать —")
    assert remap.value.status == 200
    assert remap.value.request.headers.get("hx-request") == "true"
    assert "multipart/form-data" not in (remap.value.request.headers.get("content-type") or "")
    expect_counts(page, total=10, ok=3, warning=3, error=3, duplicate=1)
    expect(page.locator("#row-12")).to_have_count(0)
    expect(page.get_by_label("СНИЛС", exact=True)).to_have_value("-")
    expect(page.get_by_label("ФИО", exact=True)).to_have_value("full_name")
    expect(page.locator("#import-form")).to_contain_text("можно импортировать 6 строк")
    assert page.evaluate("window.__samePage") is True, "the mapping change reloaded the page"

    # 4. Import: rows without errors go in (warnings as corrected), the repeated row is skipped.
    page.get_by_role("button", name="Импортировать", exact=True).click()
    expect_done(page, messy.name, created=6, skipped=1, left_out=0, errors=3)
    people = participants_by_email(live_system, event["id"])
    assert sorted(people) == sorted(
        f"{name}@example.ru" for name in ("elkin", "ivanova", "smirnov", "garipov", "petrov", "volkov")
    )
    assert people["petrov@example.ru"]["surname"] == "Петров"  # Cyrillic now
    assert people["ivanova@example.ru"]["region_code"] == "61"
    assert all(person["snils"] is None for person in people.values())  # the column was left out

    # 5. The participants list: names and region names.
    page.locator(".card").get_by_role("link", name="Участники").click()
    expect(page.get_by_role("heading", name="Участники")).to_be_visible()
    results = page.locator("#search-results")
    expect(results.get_by_role("status")).to_have_text("6 участников")
    elkin = results.locator("tr", has_text="Ёлкин Пётр Иванович")
    expect(elkin).to_contain_text("Краснодарский край")
    for name, region in (
        ("Иванова Анна Сергеевна", "Ростовская область"),
        ("Смирнов Олег Петрович", "г. Москва"),
        ("Гарипов Рустам Ильдарович", "Республика Татарстан"),
        ("Петров Илья Андреевич", "Ростовская область"),
    ):
        expect(results.locator("tr", has_text=name)).to_contain_text(region)
    expect(results.locator("b")).to_have_count(0)

    # 6. The organiser corrects the file where the report pointed and uploads it again: the people already
    #    in are skipped as duplicates and left as they were; the corrected rows are added.
    before = participants_by_email(live_system, event["id"])
    fixed = write_xlsx(tmp_path / "участники-юг-исправлено.xlsx", fixed_rows())
    page.get_by_role("link", name=f"← {event['title']}").click()
    upload(page, fixed)
    expect(page.get_by_label("СНИЛС", exact=True)).to_have_value("snils")
    expect_counts(page, total=10, ok=3, warning=0, error=0, duplicate=7)
    expect_report_row(
        page,
        3,
        "пропускается",
        "Эл. почта: Участник с e-mail elkin@example.ru уже "
        "зарегистрирован на это мероприятие — строка будет пропущена.",
    )
    expect_report_row(page, 12, "пропускается", "Участник с e-mail volkov@example.ru уже зарегистрирован")
    for corrected in (7, 10, 11):
        expect(page.locator(f"#row-{corrected}")).to_have_count(0)
    page.get_by_role("button", name="Импортировать", exact=True).click()
    expect_done(page, fixed.name, created=3, skipped=7, left_out=0, errors=0)

    after = participants_by_email(live_system, event["id"])
    assert {email: after[email] for email in before} == before, "re-importing changed people already in"
    assert after["volkov@example.ru"]["snils"] is None
    assert set(after) - set(before) == {"kuznetsova@example.ru", "sidorov@example.ru", "orlova@example.ru"}
    assert after["orlova@example.ru"]["organisation"] == "МФЦ Подмосковья"
    assert after["sidorov@example.ru"]["region_code"] == "61"
    page.locator(".card").get_by_role("link", name="Участники").click()
    expect(results.get_by_role("status")).to_have_text("9 участников")
    expect(results.locator("tr", has_text="Кузнецова Мария Игоревна")).to_contain_text("Краснодарский край")
    expect(results.locator("tr", has_text="Сидоров Павел Викторович")).to_contain_text("Ростовская область")


def test_a_participant_registers_on_a_phone_and_sees_the_personal_page(browser, live_system):
    event = create_event(live_system, title="Школа экспертов МФЦ")
    opened = api().patch(
        f"{live_system.urls['registration']}/api/v1/events/{event['id']}",
        json={"registration_open": True},
        timeout=10,
    )
    assert opened.status_code == 200 and opened.json()["registration_open"] is True, opened.text

    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="ru-RU")
    try:
        page = context.new_page()
        page.goto(f"{live_system.web_url}/events/{event['id']}/register")
        expect(page.get_by_role("heading", name="Регистрация")).to_be_visible()
        page.get_by_label("Фамилия", exact=True).fill("Ёлкина")
        page.get_by_label("Имя", exact=True).fill("Дарья")
        page.get_by_label("Отчество (если есть)").fill("Сергеевна")
        page.get_by_label("E-mail", exact=True).fill("elkina@example.ru")
        page.get_by_label("Телефон").fill("+7 918 123-45-67")
        page.get_by_label("Регион", exact=True).select_option(label="Ростовская область")
        page.get_by_label("Организация").fill("МФЦ Ростова-на-Дону")
        page.get_by_label("Должность").fill("специалист")
        page.get_by_label("Согласен на обработку персональных данных").check()
        submit = page.get_by_role("button", name="Зарегистрироваться")
        submit.scroll_into_view_if_needed()
        assert submit.bounding_box()["height"] >= 44
        submit.tap()

        # The same answer whether the e-mail was known or not: the link comes by e-mail, not on screen.
        expect(page).to_have_url(re.compile(rf"/events/{event['id']}/register/done$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Спасибо, заявка принята")
        assert "/p/" not in page.content()

        # The personal page, opened by the link the e-mail carries.
        person = participants_by_email(live_system, event["id"])["elkina@example.ru"]
        token = (
            api()
            .get(
                f"{live_system.urls['registration']}/api/v1/events/{event['id']}/participants/{person['id']}",
                timeout=10,
            )
            .json()["token"]
        )
        page.goto(f"{live_system.web_url}/p/{token}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Ёлкина Дарья Сергеевна")
        expect(page.get_by_text("МФЦ Ростова-на-Дону")).to_be_visible()
        qr = page.locator(".qr svg")
        qr.scroll_into_view_if_needed()
        expect(qr).to_be_visible()
        box = qr.bounding_box()
        assert box["width"] >= 120 and box["height"] >= 120, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
            "the page scrolls sideways"
        )
        expect(page.locator(".link a")).to_have_text(page.url)
    finally:
        context.close()

    registered = participants_by_email(live_system, event["id"])
    assert registered["elkina@example.ru"]["region_code"] == "61"
