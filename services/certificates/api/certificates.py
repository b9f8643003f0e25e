"""Certificates' JSON API: documents, their PDFs and verification (issuing lands next)."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from spectree import Response
from sqlalchemy import select

from eventops import db
from eventops.problems import not_found
from services.certificates import schemas
from services.certificates.api import spec
from services.certificates.models import Certificate

bp = Blueprint("certificates_api", __name__, url_prefix="/api/v1")


@bp.get("/events/<int:event_id>/certificates")
@spec.validate(resp=Response(HTTP_200=schemas.CertificateList))
def list_certificates(event_id: int):
    certificates = db.session().scalars(
        select(Certificate).where(Certificate.event_id == event_id).order_by(Certificate.id)
    )
    return schemas.CertificateList(items=[schemas.CertificateOut.model_validate(c) for c in certificates])


@bp.get("/certificates/<int:certificate_id>")
@spec.validate(resp=Response(HTTP_200=schemas.CertificateOut, HTTP_404=None))
def read_certificate(certificate_id: int):
    certificate = db.session().get(Certificate, certificate_id)
    if certificate is None:
        raise not_found(_("There is no such certificate."))
    return schemas.CertificateOut.model_validate(certificate)
