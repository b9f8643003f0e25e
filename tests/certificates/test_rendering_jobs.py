"""The rendering jobs: enqueue_rendering through a real RQ worker into storage, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker

from eventops.db import utcnow
from services.certificates import storage, tasks
from services.certificates.models import CertificateStatus
from services.certificates.tasks import QUEUE_NAME, enqueue_rendering, render_certificates
from tests.certificates.support import (
    PUBLIC_URL,
    add_certificates,
    certificates,
    pdf_text,
    qr_codes,
    update,
    worker_env,
)


@pytest.fixture
def env(database_url, tmp_path, monkeypatch):
    storage_dir = tmp_path / "storage"
    for key, value in worker_env(database_url, storage_dir).items():
        monkeypatch.setenv(key, value)
    return storage_dir


def test_enqueued_certificates_are_rendered_into_storage(database_url, redis_connection, env, db_backend):
    ids = add_certificates(database_url, 5)
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    job_ids = enqueue_rendering(queue, ids, batch_size=2)
    assert len(job_ids) == 3 and queue.count == 3
    assert enqueue_rendering(queue, list(reversed(ids)), batch_size=2) == job_ids  # same ids, nothing added
    assert queue.count == 3

    SimpleWorker([queue], connection=redis_connection).work(burst=True)

    rows = certificates(database_url)
    assert {row.status for row in rows.values()} == {CertificateStatus.rendered}
    for certificate_id in ids:
        row = rows[certificate_id]
        assert row.pdf_path == storage.certificate_path(1, certificate_id)
        assert row.rendered_at is not None and row.error is None
        with storage.open(env, row.pdf_path) as file:
            pdf = file.read()
        assert row.number in pdf_text(pdf)
        assert qr_codes(pdf) == [f"{PUBLIC_URL}/verify/{row.verification_code}"]


def test_a_second_run_renders_nothing_again(database_url, redis_connection, env):
    ids = add_certificates(database_url, 2)
    assert render_certificates(ids) == {"rendered": 2, "taken": 0, "skipped": 0, "failed": 0}
    first = certificates(database_url)
    assert render_certificates([*ids, 999999]) == {"rendered": 0, "taken": 0, "skipped": 3, "failed": 0}
    assert {i: c.rendered_at for i, c in certificates(database_url).items()} == {
        i: c.rendered_at for i, c in first.items()
    }


def test_revoked_and_superseded_documents_get_no_pdf(database_url, redis_connection, env):
    revoked, superseded, fine = add_certificates(database_url, 3)
    update(database_url, revoked, revoked_at=utcnow(), revoked_by="organiser", revocation_reason="ошибка")
    update(database_url, superseded, superseded_at=utcnow())
    assert render_certificates([revoked, superseded, fine])["rendered"] == 1
    rows = certificates(database_url)
    assert rows[fine].status is CertificateStatus.rendered
    for certificate_id in (revoked, superseded):
        assert rows[certificate_id].status is CertificateStatus.pending
        assert not storage.exists(env, storage.certificate_path(1, certificate_id))


def test_a_pdf_stored_before_a_crash_is_taken_not_rendered_again(database_url, redis_connection, env):
    stored, missing = add_certificates(database_url, 2)
    # What a worker killed between storing the file and committing the row leaves behind.
    storage.write(env, storage.certificate_path(1, stored), b"%PDF-1.7 stored before the crash")
    assert render_certificates([stored, missing]) == {"rendered": 1, "taken": 1, "skipped": 0, "failed": 0}
    rows = certificates(database_url)
    assert rows[stored].status is rows[missing].status is CertificateStatus.rendered
    with storage.open(env, rows[stored].pdf_path) as file:
        assert file.read() == b"%PDF-1.7 stored before the crash"


def test_one_bad_snapshot_fails_alone(database_url, redis_connection, env):
    good, bad, also_good = add_certificates(database_url, 3)
    update(database_url, bad, snapshot={"kind": "certificate", "surname": "Без даты"})
    with pytest.raises(tasks.RenderFailed):
        render_certificates([good, bad, also_good])  # no RQ job around it: this is the last attempt
    rows = certificates(database_url)
    assert rows[good].status is rows[also_good].status is CertificateStatus.rendered
    assert rows[bad].status is CertificateStatus.failed
    assert "KeyError" in rows[bad].error


def test_a_failure_with_retries_left_stays_pending(database_url, redis_connection, env):
    [certificate_id] = add_certificates(database_url, 1)
    update(database_url, certificate_id, snapshot={"kind": "certificate"})
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    [job_id] = enqueue_rendering(queue, [certificate_id], retry_intervals=(60,))
    SimpleWorker([queue], connection=redis_connection).work(burst=True)
    row = certificates(database_url)[certificate_id]
    assert row.status is CertificateStatus.pending and "KeyError" in row.error
    assert queue.fetch_job(job_id).get_status() == "scheduled"  # waiting for the scheduler to retry it
