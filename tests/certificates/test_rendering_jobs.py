"""The rendering jobs BACKEND queues: enqueue_rendering through a real RQ worker into storage."""

from rq import Queue, SimpleWorker
from sqlalchemy import select
from sqlalchemy.orm import Session

from eventops.db import make_engine
from services.certificates import storage
from services.certificates.models import Certificate, CertificateStatus
from services.certificates.tasks import QUEUE_NAME, enqueue_rendering
from tests.conftest import REDIS_URL

SNAPSHOT = {
    "kind": "certificate",
    "surname": "Ёлкина",
    "first_name": "Анна",
    "patronymic": "Сергеевна",
    "gender": "female",
    "programme_title": "Цифровые коммуникации и эффективный диалог с гражданами",
    "programme_kind": "ПК",
    "academic_hours": 24,
    "attended_hours": None,
    "organisation": "ЮРИУ РАНХиГС",
    "organiser": "ЮРИУ РАНХиГС",
    "place": "Сочи",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-09",
    "issued_on": "2026-10-09",
    "signatory_name": "И. И. Петров",
    "signatory_title": "Директор",
}


def add_certificates(database_url: str, count: int, event_id: int = 1) -> list[int]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        rows = [
            Certificate(
                event_id=event_id,
                participant_id=100 + i,
                number=f"ПК-2026-{i + 1:04}",
                snapshot=dict(SNAPSHOT, number=f"ПК-2026-{i + 1:04}"),
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.commit()
        ids = [row.id for row in rows]
    engine.dispose()
    return ids


def statuses(database_url: str) -> dict[int, CertificateStatus]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        result = dict(session.execute(select(Certificate.id, Certificate.status)).all())
    engine.dispose()
    return result


def test_enqueued_certificates_are_rendered_into_storage(
    database_url, redis_connection, tmp_path, monkeypatch, db_backend
):
    monkeypatch.setenv("CERTIFICATES_DATABASE_URL", database_url)
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    ids = add_certificates(database_url, 3)
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    enqueue_rendering(queue, ids)
    queued = queue.count
    enqueue_rendering(queue, ids)  # a second call while the jobs still wait adds nothing
    assert queue.count == queued > 0

    SimpleWorker([queue], connection=redis_connection).work(burst=True)

    assert set(statuses(database_url).values()) == {CertificateStatus.rendered}
    for certificate_id in ids:
        with storage.open(tmp_path / "storage", storage.certificate_path(1, certificate_id)) as pdf:
            assert pdf.read(5) == b"%PDF-"
