"""Shared bits of the rendering tests: certificate rows made directly, PDFs read back, the worker's env."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pypdfium2
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from eventops.db import make_engine
from services.certificates.models import Certificate, CertificateStatus, DocumentKind
from tests.conftest import REDIS_URL

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
