"""RQ jobs of the certificate worker. Jobs take ids, never ORM objects, and are safe to run twice.

A job renders a batch of certificates in one layout pass (see rendering.py). Each PDF is stored atomically
before its row says rendered; a PDF found already stored (a run that died between the two) is taken as it
is instead of being rendered again, so every certificate is rendered exactly once, crash or not.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from rq import Queue, Retry, get_current_job
from rq.timeouts import JobTimeoutException
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from eventops.config import Settings
from eventops.db import make_engine, utcnow
from eventops.queue import job_meta
from services.certificates import storage
from services.certificates.models import Certificate, CertificatePolicy, CertificateStatus
from services.certificates.rendering import CertificateRenderer, Images, Printable, data_uri

QUEUE_NAME = "certificates"
#: where laid-out forms are kept, inside the storage folder (they hold no personal data)
FORMS_FOLDER = "forms"
#: certificates per job: one HTML document and one layout pass (the benchmark measures the choice)
BATCH_SIZE = 40
#: seconds between the retries of a failed render; the worker's scheduler moves them back to the queue
RETRY_INTERVALS = (5, 30, 120)
#: a batch takes a few seconds; this only stops a render that hangs
JOB_TIMEOUT = 600
#: how long a finished job's record is kept (its outcome is in the database anyway)
RESULT_TTL = 3600

log = logging.getLogger("certificates.tasks")


class RenderFailed(RuntimeError):
    """Some certificates of the batch could not be rendered; RQ retries the job for them."""


def enqueue_rendering(
    queue: Queue,
    certificate_ids: Iterable[int],
    *,
    batch_size: int = BATCH_SIZE,
    retry_intervals: tuple[int, ...] = RETRY_INTERVALS,
) -> list[str]:
    """Queue the PDFs of these certificates, `batch_size` to a job; returns the job ids.

    Safe to call twice: a job's id is derived from its certificate ids, and a job that still waits, runs
    or waits for its retry is not queued a second time (a finished one is: the job skips what is done).
    """
    ids = sorted({int(certificate_id) for certificate_id in certificate_ids})
    job_ids = []
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        job_id = batch_job_id(chunk)
        job_ids.append(job_id)
        if _waiting_or_running(queue, job_id):
            continue
        queue.enqueue(
            render_certificates,
            chunk,
            job_id=job_id,
            retry=Retry(max=len(retry_intervals), interval=list(retry_intervals))
            if retry_intervals
            else None,
            job_timeout=JOB_TIMEOUT,
            result_ttl=RESULT_TTL,
            description=f"render {len(chunk)} certificates from {chunk[0]}",
            meta=job_meta(),  # the request id of the «Выдать» click, for the render's log lines
        )
    return job_ids


def batch_job_id(certificate_ids: list[int]) -> str:
    digest = hashlib.sha1(",".join(map(str, certificate_ids)).encode()).hexdigest()[:16]
    return f"render-certificates-{certificate_ids[0]}-{digest}"


def _waiting_or_running(queue: Queue, job_id: str) -> bool:
    status = queue.connection.hget(f"rq:job:{job_id}", "status")
    return status is not None and status.decode() in ("queued", "started", "scheduled", "deferred")


@cache
def renderer() -> CertificateRenderer:
    """One per process; the worker builds and warms it before it forks, so every job inherits it warm.

    Laid-out forms are kept in the storage folder too: each job runs in a fresh fork, which would otherwise
    lay out again the forms its predecessor already had.
    """
    return CertificateRenderer(forms_dir=Settings.from_env("certificates").storage_dir / FORMS_FOLDER)


@cache
def _sessionmaker(database_url: str) -> sessionmaker:
    return sessionmaker(make_engine(database_url), expire_on_commit=False)


def verification_url(public_url: str, code: str) -> str:
    return f"{public_url.rstrip('/')}/verify/{code}"


def render_certificates(certificate_ids: list[int]) -> dict[str, int]:
    """Render these certificates' PDFs into storage; returns how many were rendered, taken, skipped, failed.

    Already rendered, revoked and superseded certificates are left alone. A certificate that fails is
    recorded with its error; it stays pending while RQ still has a retry for the job, and becomes failed
    on the last attempt.
    """
    settings = Settings.from_env("certificates")
    job = get_current_job()
    last_attempt = job is None or not job.retries_left
    counts = {"rendered": 0, "taken": 0, "skipped": 0, "failed": 0}
    with _sessionmaker(settings.database_url)() as session:
        rows = session.scalars(
            select(Certificate).where(Certificate.id.in_(certificate_ids)).order_by(Certificate.id)
        ).all()
        todo = []
        for certificate in rows:
            if certificate.status is CertificateStatus.rendered or not _printable(certificate):
                counts["skipped"] += 1
            elif storage.exists(storage.store(settings), _path(certificate)):
                # An earlier run stored this PDF and died before its commit: the file is complete (atomic
                # rename) and made from the same frozen snapshot, so it is taken as it is.
                _mark_rendered(certificate)
                counts["taken"] += 1
                log.info("certificate taken", extra={"fields": {"certificate_id": certificate.id}})
            else:
                todo.append(certificate)
        session.commit()
        counts["skipped"] += len(certificate_ids) - len(rows)
        for event_id, certificates in _by_event(todo).items():
            images = _images(session, event_id)
            for certificate, error in _render_and_store(settings, certificates, images):
                if error is None:
                    counts["rendered"] += 1
                    continue
                counts["failed"] += 1
                certificate.error = error
                if last_attempt:
                    certificate.status = CertificateStatus.failed
            # One commit for the batch: each PDF is already stored, so a run that dies before this commit
            # leaves files the next run takes as they are (above), and nothing is rendered twice.
            session.commit()
    if counts["failed"]:
        raise RenderFailed(
            f"{counts['failed']} of {len(certificate_ids)} certificates failed: see their errors"
        )
    return counts


def _render_and_store(settings: Settings, certificates: list[Certificate], images: Images):
    """Yield (certificate, None) for each one stored (its row marked, not committed), (certificate, error)
    for each failure.

    The batch is laid out as one document; if that fails, each certificate is tried alone so that one bad
    snapshot does not hold back the others.
    """
    printables = {c.id: _printable_of(c, settings.public_url) for c in certificates}
    by_id = {c.id: c for c in certificates}
    try:
        # Storing a PDF mostly waits for the disk (fsync): a thread does it while the next one is made.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="certificate-store") as writer:
            stores = [
                (by_id[certificate_id], writer.submit(_store, settings, by_id[certificate_id], pdf))
                for certificate_id, pdf in renderer().iter_render(list(printables.values()), images)
            ]
            for _certificate, store in stores:
                store.result()
        for certificate, _store_done in stores:
            _mark_rendered(certificate)
            yield certificate, None
        return
    except JobTimeoutException:
        raise
    except Exception:
        log.exception(
            "batch render failed; rendering one by one", extra={"fields": {"count": len(certificates)}}
        )
    for certificate in certificates:
        if storage.exists(storage.store(settings), _path(certificate)):
            _mark_rendered(certificate)  # stored before the batch failed: taken, not rendered again
            yield certificate, None
            continue
        try:
            [(_, pdf)] = renderer().render_many([printables[certificate.id]], images)
            _store(settings, certificate, pdf)
        except JobTimeoutException:
            raise
        except Exception as exc:  # the certificate's own problem: recorded on it, the others go on
            log.exception("certificate render failed", extra={"fields": {"certificate_id": certificate.id}})
            yield certificate, f"{type(exc).__name__}: {exc}"[:2000]
        else:
            _mark_rendered(certificate)
            yield certificate, None


def _store(settings: Settings, certificate: Certificate, pdf: bytes) -> None:
    # The file first, then the row (marked and committed by the caller): a row that says rendered always
    # has its whole PDF behind it.
    storage.write(storage.store(settings), _path(certificate), pdf)
    log.info("certificate rendered", extra={"fields": {"certificate_id": certificate.id, "bytes": len(pdf)}})


def _mark_rendered(certificate: Certificate) -> None:
    certificate.pdf_path = _path(certificate)
    certificate.status, certificate.error = CertificateStatus.rendered, None
    certificate.rendered_at = utcnow()


def _path(certificate: Certificate) -> str:
    return storage.certificate_path(certificate.event_id, certificate.id)


def _printable(certificate: Certificate) -> bool:
    """Revoked and superseded documents get no PDF: nobody may download them any more."""
    return (
        certificate.revoked_at is None
        and certificate.superseded_at is None
        and certificate.superseded_by_id is None
    )


def _printable_of(certificate: Certificate, public_url: str) -> Printable:
    snapshot = dict(certificate.snapshot)
    snapshot.setdefault("kind", certificate.kind.value)
    snapshot.setdefault("number", certificate.number)
    return Printable(certificate.id, snapshot, verification_url(public_url, certificate.verification_code))


def _by_event(certificates: list[Certificate]) -> dict[int, list[Certificate]]:
    groups: dict[int, list[Certificate]] = defaultdict(list)
    for certificate in certificates:
        groups[certificate.event_id].append(certificate)
    return groups


def _images(session: Session, event_id: int) -> Images:
    """The event's logo and signature, loaded once per batch and handed to the template as data: URIs."""
    policy = session.scalar(select(CertificatePolicy).where(CertificatePolicy.event_id == event_id))
    if policy is None:
        return Images()
    return Images(
        logo=data_uri(policy.logo, policy.logo_mime),
        signature=data_uri(policy.signature, policy.signature_mime),
    )
