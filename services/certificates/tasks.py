"""RQ jobs of the certificate worker. Jobs take ids, never ORM objects, and are safe to run twice."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from eventops.config import Settings
from eventops.db import make_engine
from services.certificates.models import Certificate, CertificateStatus
from services.certificates.rendering import CertificateRenderer

QUEUE_NAME = "certificates"


@lru_cache(maxsize=1)
def renderer() -> CertificateRenderer:
    return CertificateRenderer()


@lru_cache(maxsize=None)
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
        snapshot = dict(certificate.snapshot, number=certificate.number,
                        verification_code=certificate.verification_code)
        try:
            pdf = renderer().render(snapshot, verification_url(certificate.verification_code))
        except Exception as exc:
            certificate.status, certificate.error = CertificateStatus.failed, f"{type(exc).__name__}: {exc}"
            session.commit()
            raise
        relative = Path("certificates") / str(certificate.event_id) / f"{certificate.id}.pdf"
        _write_atomically(settings.storage_dir / relative, pdf)
        certificate.pdf_path = str(relative)
        certificate.status, certificate.error = CertificateStatus.rendered, None
        certificate.rendered_at = datetime.now(timezone.utc)
        session.commit()
        return "rendered"


def _write_atomically(path: Path, content: bytes) -> None:
    # A reader never sees half a PDF, and a second run of the job simply replaces the file.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
