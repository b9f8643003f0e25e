"""What registration's tests share: an API client, a sample event, spreadsheet files, the Russian catalog."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.support import Translations
from openpyxl import Workbook

import eventops
from services.registration.models import Participant
from services.registration.text import fold
from tests.conftest import auth_headers

EVENT = {
    "slug": "mfc-2026",
    "title": "Цифровые коммуникации",
    "organiser": "ЮРИУ РАНХиГС",
    "place": "Сочи",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-09",
}

#: a participant with only what the API requires
ANNA = {"surname": "Иванова", "first_name": "Анна", "email": "anna@mfc.example.ru"}
#: a session within EVENT's dates
LECTURE = {
    "day": "2026-10-08",
    "starts_at": "10:00",
    "ends_at": "11:30",
    "title": "Госпаблики",
    "kind": "lecture",
    "academic_hours": 2,
}

#: a СНИЛС with a correct check number: 1·9 + 1·8 + 2·7 + 2·6 + 3·5 + 3·4 + 4·3 + 4·2 + 5·1 = 95
VALID_SNILS = "112-233-445 95"


class Api:
    """The registration service's test client with the service token on every call; `language` is what
    the gateway would send as Accept-Language (none: the service's default, Russian)."""

    def __init__(self, app, language: str | None = None):
        self.app, self.client = app, app.test_client()
        self.language = language

    def in_language(self, language: str) -> Api:
        return Api(self.app, language)

    def _headers(self, extra: dict | None) -> dict:
        language = {"Accept-Language": self.language} if self.language else {}
        return {**auth_headers(), **language, **(extra or {})}

    def get(self, path, headers=None, **kwargs):
        return self.client.get("/api/v1" + path, headers=self._headers(headers), **kwargs)

    def post(self, path, json=None, headers=None, **kwargs):
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(headers), **kwargs)

    def patch(self, path, json, headers=None):
        return self.client.patch("/api/v1" + path, json=json, headers=self._headers(headers))

    def delete(self, path):
        return self.client.delete("/api/v1" + path, headers=self._headers(None))

    def event(self, **fields) -> int:
        response = self.post("/events", {**EVENT, **fields})
        assert response.status_code == 201, response.json
        return response.json["id"]

    def participant(self, event_id: int, **fields) -> dict:
        response = self.post(f"/events/{event_id}/participants", fields)
        assert response.status_code == 201, response.json
        return response.json

    def old_participant(self, event_id: int, **fields) -> dict:
        """A participant whose record holds what the API refuses today (`fields`), as a record saved
        before a rule existed does: registered with harmless values, then written straight to the table."""
        created = self.participant(event_id, **{**ANNA, "email": fields.get("email", ANNA["email"])})
        engine = self.app.extensions["db_engine"]
        with engine.begin() as connection:
            connection.execute(
                Participant.__table__.update()
                .where(Participant.id == created["id"])
                .values(**fields, surname_key=fold(fields.get("surname", ANNA["surname"])))
            )
        return created


def registration_api(app_factory, **settings) -> Api:
    """A client of a registration app on the test database; `settings` override Settings fields."""
    return Api(app_factory("registration", **settings))


# --- spreadsheets ---------------------------------------------------------------------------------


def xlsx_bytes(rows: list[list], *, sheet_title: str = "Лист1", extra_sheets: int = 0) -> bytes:
    """A workbook built with openpyxl, as Excel would save it."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    for row in rows:
        sheet.append(row)
    for number in range(extra_sheets):
        workbook.create_sheet(f"Справочник {number}").append(["не участники"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    return "\r\n".join(delimiter.join(row) for row in rows).encode(encoding)


class UnreadableBody:
    """A request body of `size` bytes that fails the test if anyone reads it."""

    def __init__(self, size: int):
        self.size, self.position = size, 0

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readlines = read

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.size + offset if whence == 2 else offset
        return self.position


# --- messages -------------------------------------------------------------------------------------


@cache
def _russian_catalog() -> Translations:
    return Translations.load(str(Path(eventops.__file__).parent / "translations"), ["ru"])


def russian(msgid: str) -> str:
    """A msgid in Russian from the one catalog: how domain messages read once the API renders them."""
    return _russian_catalog().gettext(msgid)
