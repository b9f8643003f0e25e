"""Issuing a certificate renders a real PDF through a real RQ worker and WeasyPrint."""
import io
import os
import subprocess
import sys

from pypdf import PdfReader
from rq import Queue, SimpleWorker

from services.certificates.tasks import QUEUE_NAME
from tests.conftest import REDIS_URL, auth_headers

CERTIFICATE = {"event_id": 1, "participant_id": 10, "number": "ПК-2026-0001", "snapshot": {
    "surname": "Ёлкина", "first_name": "Анна", "patronymic": "Сергеевна", "gender": "female",
    "programme_title": "Цифровые коммуникации и эффективный диалог с гражданами", "academic_hours": 24,
    "organiser": "ЮРИУ РАНХиГС", "place": "Сочи", "starts_on": "2026-10-07", "ends_on": "2026-10-09",
    "issued_on": "2026-10-09"}}


def worker_env(database_url, storage_dir):
    return {"CERTIFICATES_DATABASE_URL": database_url, "STORAGE_DIR": str(storage_dir),
            "REDIS_URL": REDIS_URL, "PUBLIC_URL": "https://eventops.example.org"}


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def test_issued_certificate_is_rendered_by_the_worker(app_factory, database_url, redis_connection,
                                                      tmp_path, monkeypatch, db_backend):
    for key, value in worker_env(database_url, tmp_path / "storage").items():
        monkeypatch.setenv(key, value)
    client = app_factory("certificates").test_client()
    issued = client.post("/api/v1/certificates", json=CERTIFICATE, headers=auth_headers())
    assert issued.status_code == 202, issued.json
    assert issued.json["status"] == "pending"
    certificate_id, code = issued.json["id"], issued.json["verification_code"]
    assert client.get(f"/api/v1/certificates/{certificate_id}/pdf", headers=auth_headers()).status_code == 409

    queue = Queue(QUEUE_NAME, connection=redis_connection)
    assert queue.count == 1
    SimpleWorker([queue], connection=redis_connection).work(burst=True)

    assert client.get(f"/api/v1/certificates/{certificate_id}", headers=auth_headers()).json["status"] == "rendered"
    pdf = client.get(f"/api/v1/certificates/{certificate_id}/pdf", headers=auth_headers())
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "Ёлкина Анна Сергеевна" in text
    assert "прошла обучение" in text
    assert "24 академических часа" in text
    assert "с 7 по 9 октября 2026 г." in text
    assert code in text and f"https://eventops.example.org/verify/{code}" in text

    verification = client.get(f"/api/v1/verify/{code.lower()}", headers=auth_headers()).json
    assert verification["valid"] is True and verification["holder"] == "Ёлкина Анна Сергеевна"


def test_worker_process_renders_in_burst_mode(app_factory, database_url, redis_connection, tmp_path):
    env = worker_env(database_url, tmp_path / "storage")
    client = app_factory("certificates").test_client()
    certificate_id = client.post("/api/v1/certificates", json=CERTIFICATE, headers=auth_headers()).json["id"]
    result = subprocess.run([sys.executable, "-m", "services.certificates.worker", "--burst"],
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "weasyprint warmed up" in result.stderr
    assert client.get(f"/api/v1/certificates/{certificate_id}", headers=auth_headers()).json["status"] == "rendered"


def test_markup_in_a_name_is_printed_as_text(app_factory, database_url, redis_connection, tmp_path, monkeypatch):
    for key, value in worker_env(database_url, tmp_path / "storage").items():
        monkeypatch.setenv(key, value)
    client = app_factory("certificates").test_client()
    hostile = dict(CERTIFICATE, snapshot=dict(CERTIFICATE["snapshot"], surname="<b>Жирный</b>",
                                             first_name='<img src="file:///etc/passwd">'))
    certificate_id = client.post("/api/v1/certificates", json=hostile, headers=auth_headers()).json["id"]
    SimpleWorker([Queue(QUEUE_NAME, connection=redis_connection)], connection=redis_connection).work(burst=True)
    text = pdf_text(client.get(f"/api/v1/certificates/{certificate_id}/pdf", headers=auth_headers()).data)
    assert "<b>Жирный</b>" in text


def test_rendering_twice_is_harmless(app_factory, database_url, redis_connection, tmp_path, monkeypatch):
    from services.certificates.tasks import render_certificate

    for key, value in worker_env(database_url, tmp_path / "storage").items():
        monkeypatch.setenv(key, value)
    client = app_factory("certificates").test_client()
    certificate_id = client.post("/api/v1/certificates", json=CERTIFICATE, headers=auth_headers()).json["id"]
    assert render_certificate(certificate_id) == "rendered"
    assert render_certificate(certificate_id) == "rendered"
    assert render_certificate(999999) == "missing"
