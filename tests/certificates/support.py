"""Shared bits of the certificates tests: scans and courses made over the API, certificate rows made directly,
PDFs read back, the worker's environment."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pypdfium2
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from eventops.db import make_engine
from services.certificates.models import Certificate, CertificateStatus, DocumentKind
from tests.conftest import REDIS_URL, auth_headers

PUBLIC_URL = "https://eventops.example.org"

SNAPSHOT = {
    "kind": "certificate",
    "surname": "Ёлкина",
    "first_name": "Анна",
    "patronymic": "Сергеевна",
    "gender": "female",
    "programme_title": "Цифровые коммуникации и эффективный диалог с гражданами",
    "programme_kind": "ПК",
    "academic_hours": 24,
    "attended_hours": 24,
    "organisation": "ЮРИУ РАНХиГС",
    "place": "Сочи",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-09",
    "issued_on": "2026-10-09",
    "signatory_name": "И. И. Петров",
    "signatory_title": "Директор",
    "number": "ПК-2026-0001",
}


def worker_env(database_url: str, storage_dir: Path) -> dict[str, str]:
    return {
        "CERTIFICATES_DATABASE_URL": database_url,
        "STORAGE_DIR": str(storage_dir),
        "REDIS_URL": REDIS_URL,
        "PUBLIC_URL": PUBLIC_URL,
    }


def subprocess_env(database_url: str, storage_dir: Path) -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, **worker_env(database_url, storage_dir), "PYTHONPATH": root}


def add_certificates(database_url: str, count: int, event_id: int = 1, **snapshot) -> list[int]:
    """`count` pending certificates of one event, numbered ПК-2026-0001 onwards, as issuing leaves them."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        first = (
            session.scalar(select(Certificate.number_seq).order_by(Certificate.number_seq.desc())) or 0
        ) + 1
        rows = []
        for seq in range(first, first + count):
            number = f"ПК-2026-{seq:04}"
            data = {**SNAPSHOT, "number": number, **snapshot}
            rows.append(
                Certificate(
                    event_id=event_id,
                    participant_id=1000 + seq,
                    kind=DocumentKind(data["kind"]),
                    number=number,
                    organisation_key="ranepa-south",
                    number_year=2026,
                    number_seq=seq,
                    snapshot=data,
                )
            )
        session.add_all(rows)
        session.commit()
        ids = [row.id for row in rows]
    engine.dispose()
    return ids


def certificates(database_url: str) -> dict[int, Certificate]:
    engine = make_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        rows = {c.id: c for c in session.scalars(select(Certificate))}
    engine.dispose()
    return rows


def update(database_url: str, certificate_id: int, **values) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        certificate = session.get(Certificate, certificate_id)
        for key, value in values.items():
            setattr(certificate, key, value)
        session.commit()
    engine.dispose()


def count_by_status(database_url: str) -> dict[CertificateStatus, int]:
    result: dict[CertificateStatus, int] = {}
    for certificate in certificates(database_url).values():
        result[certificate.status] = result.get(certificate.status, 0) + 1
    return result


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def qr_codes(pdf: bytes) -> list[str]:
    """Decode every QR code on the PDF's first page, rendered to a bitmap as a phone camera would see it."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=150 / 72).to_pil()
    return [result.text for result in zxingcpp.read_barcodes(image)]


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Each font the page uses, and whether its program is embedded in the file."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = {}
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descendants = font.get("/DescendantFonts")
        described = descendants[0].get_object() if descendants else font
        descriptor = described["/FontDescriptor"].get_object()
        fonts[str(font["/BaseFont"])] = any(
            k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
        )
    return fonts


# --- attendance and issuing through the API ------------------------------------------------------------


DAY = "2026-10-07"
EVENT_ID = 1


def nonce() -> str:
    return str(uuid.uuid4())


def person(
    pid: int = 7, event_id: int = EVENT_ID, status: str = "confirmed", name: str = "Ёлкин Пётр"
) -> dict:
    return {"id": pid, "event_id": event_id, "status": status, "full_name": name}


def scan(
    participant: dict | None = None,
    *,
    day: str = DAY,
    session_id: int | None = None,
    raw_code: str | None = "K7M2QX",
    key: str | None = None,
) -> dict:
    return {
        "nonce": key or nonce(),
        "day": day,
        "session_id": session_id,
        "scanned_at": "2026-10-07T09:01:02+03:00",
        "raw_code": raw_code,
        "participant": participant,
    }


def staff_headers(staff: str = "petrova (checkin)", device: str = "tablet-3") -> dict:
    return {**auth_headers(), "X-Staff-User": staff, "X-Device": device}


# --- a course in registration, for the certificate tests -------------------------------------------

DAYS = ("2026-10-07", "2026-10-08", "2026-10-09")
ORGANISER = "organiser-1 (organiser)"

POLICY = {
    "programme_title": "Цифровые коммуникации и эффективный диалог с гражданами",
    "academic_hours": 24,
    "organisation": "ЮРИУ РАНХиГС",
    "signatory_name": "И. И. Петров",
    "signatory_title": "Директор",
    "place": "Сочи",
}


def organiser_headers(lang: str = "ru", staff: str = ORGANISER) -> dict:
    return {**auth_headers(), "X-Staff-User": staff, "Accept-Language": lang}


class Course:
    """An event in the real registration service with two 4-hour sessions on each of three days."""

    def __init__(self, http, registration_url: str, app, event_id: int, sessions: dict[str, list[int]]):
        self.http, self.registration_url, self.app = http, registration_url, app
        self.client = app.test_client()
        self.event_id, self.sessions = event_id, sessions

    @classmethod
    def create(cls, http, registration_url: str, app, slug: str | None = None) -> Course:
        def post(path, body):
            response = http.post(
                f"{registration_url}/api/v1{path}", json=body, headers=auth_headers(), timeout=10
            )
            assert response.status_code == 201, response.text
            return response.json()

        event = post(
            "/events",
            {
                "slug": slug or f"course-{uuid.uuid4().hex[:8]}",
                "title": "Цифровые коммуникации",
                "organiser": "ЮРИУ РАНХиГС",
                "place": "Сочи",
                "starts_on": DAYS[0],
                "ends_on": DAYS[-1],
            },
        )
        sessions = {
            day: [
                post(
                    f"/events/{event['id']}/sessions",
                    {
                        "day": day,
                        "starts_at": start,
                        "ends_at": end,
                        "title": f"Занятие {day} {start}",
                        "kind": "lecture",
                        "academic_hours": 4,
                    },
                )["id"]
                for start, end in (("10:00", "13:00"), ("14:00", "17:00"))
            ]
            for day in DAYS
        }
        return cls(http, registration_url, app, event["id"], sessions)

    def add(
        self,
        surname: str,
        first_name: str,
        patronymic: str | None = None,
        gender: str | None = None,
        status: str = "confirmed",
        **extra,
    ) -> int:
        body = {
            "surname": surname,
            "first_name": first_name,
            "patronymic": patronymic,
            "gender": gender,
            "status": status,
            "email": f"{uuid.uuid4().hex[:10]}@example.org",
            **extra,
        }
        response = self.http.post(
            f"{self.registration_url}/api/v1/events/{self.event_id}/participants",
            json=body,
            headers=auth_headers(),
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def update(self, participant_id: int, **changes) -> None:
        response = self.http.patch(
            f"{self.registration_url}/api/v1/events/{self.event_id}/participants/{participant_id}",
            json=changes,
            headers=auth_headers(),
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def attend(self, participant_ids: list[int], day: str, session: int | None = None) -> None:
        """Mark people present: in the day's session number `session` (0 or 1), or at the door (None)."""
        session_id = None if session is None else self.sessions[day][session]
        refs = [
            {"id": pid, "event_id": self.event_id, "status": "confirmed", "full_name": f"Участник {pid}"}
            for pid in participant_ids
        ]
        response = self.client.post(
            f"/api/v1/events/{self.event_id}/attendance/bulk",
            json={
                "nonce": nonce(),
                "day": day,
                "session_id": session_id,
                "participant_ids": participant_ids,
                "participants": refs,
            },
            headers=staff_headers(),
        )
        assert response.status_code == 200, response.json

    def attend_all_sessions(self, participant_ids: list[int], days=DAYS) -> None:
        for day in days:
            for index in (0, 1):
                self.attend(participant_ids, day, index)

    def set_policy(self, **changes):
        response = self.put(f"/events/{self.event_id}/policy", json={**POLICY, **changes})
        assert response.status_code in (200, 201), response.json
        return response.json

    # the certificates API, as the gateway calls it
    def get(self, path: str, lang: str = "ru", **kwargs):
        return self.client.get(f"/api/v1{path}", headers=organiser_headers(lang), **kwargs)

    def put(self, path: str, lang: str = "ru", **kwargs):
        return self.client.put(f"/api/v1{path}", headers=organiser_headers(lang), **kwargs)

    def post(self, path: str, lang: str = "ru", staff: str = ORGANISER, **kwargs):
        return self.client.post(f"/api/v1{path}", headers=organiser_headers(lang, staff), **kwargs)

    def eligibility(self, lang: str = "ru") -> dict[int, dict]:
        response = self.get(f"/events/{self.event_id}/eligibility", lang=lang)
        assert response.status_code == 200, response.json
        return {item["participant_id"]: item for item in response.json["items"]}

    def issue(self, statements: bool | None = None) -> dict:
        response = self.post(f"/events/{self.event_id}/issue", json={"statements": statements})
        assert response.status_code == 202, response.json
        return response.json

    def documents(self) -> list[dict]:
        return self.get(f"/events/{self.event_id}/certificates").json["items"]


def store_pdfs(app, certificate_ids: list[int] | None = None) -> dict[int, bytes]:
    """Stand in for the worker: a real one-page PDF per document (its number as the PDF title) in storage,
    and the row marked rendered. The worker's own rendering is tested with the rendering tests."""
    import io

    from pypdf import PdfWriter
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from eventops.db import utcnow
    from services.certificates import storage
    from services.certificates.models import Certificate, CertificateStatus

    stored = {}
    storage_dir = app.config["SETTINGS"].storage_dir
    with Session(app.extensions["db_engine"]) as session:
        query = select(Certificate)
        if certificate_ids is not None:
            query = query.where(Certificate.id.in_(certificate_ids))
        for certificate in session.scalars(query):
            writer = PdfWriter()
            writer.add_blank_page(595, 842)
            writer.add_metadata({"/Title": certificate.number})
            out = io.BytesIO()
            writer.write(out)
            path = storage.certificate_path(certificate.event_id, certificate.id)
            storage.write(storage_dir, path, out.getvalue())
            certificate.pdf_path, certificate.status = path, CertificateStatus.rendered
            certificate.rendered_at = utcnow()
            stored[certificate.id] = out.getvalue()
        session.commit()
    return stored
