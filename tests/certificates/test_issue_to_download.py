"""From «Выдать» to the participant's download, through a real RQ worker and WeasyPrint: the batch
finishes, the PDF prints the frozen snapshot, its QR leads to a verification that says so."""

from __future__ import annotations

import io
import zipfile

from rq import Queue, SimpleWorker

from services.certificates.tasks import QUEUE_NAME
from tests.certificates.helpers import DAYS
from tests.certificates.support import PUBLIC_URL, pdf_text, qr_codes, worker_env


def run_worker(redis_connection) -> None:
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    SimpleWorker([queue], connection=redis_connection).work(burst=True)


def test_issue_render_download_verify(course, redis_connection, database_url, tmp_path, monkeypatch):
    for key, value in worker_env(database_url, tmp_path / "storage").items():
        monkeypatch.setenv(key, value)
    anna = course.add("Ёлкина", "Анна", "Сергеевна", gender="female")
    ivan = course.add("Иванов", "Иван", gender="male")
    partly = course.add("Петров", "Пётр", gender="male")
    course.attend_all_sessions([anna, ivan])
    course.attend_all_sessions([partly], days=DAYS[:1])
    course.set_policy()
    issued = course.issue(statements=True)
    assert (issued["certificates"], issued["statements"]) == (2, 1)
    assert course.get(f"/batches/{issued['batch_id']}").json["done"] is False

    run_worker(redis_connection)
    batch = course.get(f"/batches/{issued['batch_id']}").json
    assert (batch["rendered"], batch["pending"], batch["failed"], batch["done"]) == (3, 0, 0, True)

    record = course.get(f"/events/{course.event_id}/participants/{anna}/record").json
    assert record["certificate"]["downloadable"] is True
    pdf = course.get(f"/events/{course.event_id}/participants/{anna}/certificate.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert "Ёлкина Анна Сергеевна" in text and "прошла" in text and record["certificate"]["number"] in text
    [url] = qr_codes(pdf.data)
    code = record["certificate"]["verification_code"]
    assert url == f"{PUBLIC_URL}/verify/{code}"
    assert course.get(f"/verify/{url.rsplit('/', 1)[1]}").json["status"] == "valid"

    statement = course.get(f"/events/{course.event_id}/participants/{partly}/certificate.pdf")
    assert statement.status_code == 200 and "8 академических часов" in pdf_text(statement.data)

    archive = zipfile.ZipFile(io.BytesIO(course.get(f"/events/{course.event_id}/certificates.zip").data))
    assert len(archive.namelist()) == 3

    # Revoked: the verification says so, the download is gone.
    course.post(
        f"/certificates/{record['certificate']['id']}/revoke",
        json={"reason": "ошибка", "reason_public": True},
    )
    assert course.get(f"/verify/{code}").json["status"] == "revoked"
    assert course.get(f"/events/{course.event_id}/participants/{anna}/certificate.pdf").status_code == 404


def test_a_document_replaced_before_its_pdf_is_not_waited_for(course, redis_connection):
    partly = course.add("Петров", "Пётр", gender="male")
    course.attend_all_sessions([partly], days=DAYS[:1])
    course.set_policy()
    first = course.issue(statements=True)
    course.put(
        f"/events/{course.event_id}/eligibility/{partly}/override", json={"eligible": True, "reason": "план"}
    )
    course.issue()
    # The справка was replaced before any worker ran: its batch is not left waiting for it.
    progress = course.get(f"/batches/{first['batch_id']}").json
    assert (progress["total"], progress["pending"], progress["done"]) == (1, 0, True)
