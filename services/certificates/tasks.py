"""RQ jobs of the certificate worker. Jobs take ids, never ORM objects, and are safe to run twice."""

from __future__ import annotations

import os
from functools import cache, lru_cache

from rq import Queue, Retry
from sqlalchemy.orm import sessionmaker

from eventops.config import Settings
from eventops.db import make_engine, utcnow
from services.certificates import storage
from services.certificates.models import Certificate, CertificateStatus
from services.certificates.rendering import CertificateRenderer

QUEUE_NAME = "certificates"
#: seconds between the retries of a failed render; the worker's scheduler moves them back to the queue
RETRY_INTERVALS = (5, 30, 120)
JOB_TIMEOUT = 120


def enqueue_rendering(queue: Queue, certificate_ids: list[int]) -> None:
    """Queue the PDFs of these certificates. Safe to call twice: job ids are deterministic, and a job that
    is still waiting or running is not queued a second time."""
    for certificate_id in dict.fromkeys(certificate_ids):
        job_id = f"render-certificate-{certificate_id}"
        if _waiting_or_running(queue, job_id):
            continue
        queue.enqueue(
            render_certificate,
            certificate_id,
            job_id=job_id,
            retry=Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS)),
            job_timeout=JOB_TIMEOUT,
        )


def _waiting_or_running(queue: Queue, job_id: str) -> bool:
    status = queue.connection.hget(f"rq:job:{job_id}", "status")
    return status is not None and status.decode() in ("queued", "started", "scheduled", "deferred")


@lru_cache(maxsize=1)
def renderer() -> CertificateRenderer:
    return CertificateRenderer()


@cache
def _sessionmaker(database_url: str) -> sessionmaker:
    return sessionmaker(make_engine(database_url), expire_on_commit=False)


def verification_url(code: str) -> str:
    public_url = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{public_url}/verify/{code}"


def render_certificate(certificate_id: int, database_url: str | None = None) -> str:
    """Render one certificate's PDF into storage. A rendered or revoked certificate is left alone."""
    settings = Settings.from_env("certificates")
    Session = _sessionmaker(database_url or settings.database_url)
    with Session() as session:
        certificate = session.get(Certificate, certificate_id)
        if certificate is None:
            return "missing"
        if certificate.status in (CertificateStatus.rendered, CertificateStatus.revoked):
            return certificate.status.value
        snapshot = dict(
            certificate.snapshot, number=certificate.number, verification_code=certificate.verification_code
        )
        try:
            pdf = renderer().render(snapshot, verification_url(certificate.verification_code))
        except Exception as exc:
            certificate.status, certificate.error = CertificateStatus.failed, f"{type(exc).__name__}: {exc}"
            session.commit()
            raise
        relative = storage.certificate_path(certificate.event_id, certificate.id)
        storage.write(settings.storage_dir, relative, pdf)
        certificate.pdf_path = relative
        certificate.status, certificate.error = CertificateStatus.rendered, None
        certificate.rendered_at = utcnow()
        session.commit()
        return "rendered"
