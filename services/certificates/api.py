"""Certificates' JSON API: issue a certificate, follow its rendering, fetch its PDF, verify a code."""
from __future__ import annotations

from flask import Blueprint, current_app, send_file
from rq import Queue, Retry
from spectree import Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from eventops import db
from eventops.openapi import make_spec
from eventops.problems import Problem
from eventops.queue import connect
from services.certificates import schemas
from services.certificates.models import Certificate, CertificateStatus
from services.certificates.tasks import QUEUE_NAME, render_certificate

spec = make_spec("EventOps certificates")
api = Blueprint("certificates_api", __name__, url_prefix="/api/v1")


def queue() -> Queue:
    return Queue(QUEUE_NAME, connection=connect(current_app.config["SETTINGS"].redis_url))


def get_certificate(certificate_id: int) -> Certificate:
    certificate = db.session().get(Certificate, certificate_id)
    if certificate is None:
        raise Problem(404, "Not Found", f"No certificate {certificate_id}.")
    return certificate


@api.post("/certificates")
@spec.validate(json=schemas.CertificateIn, resp=Response(HTTP_202=schemas.CertificateOut, HTTP_409=None))
def issue_certificate(json: schemas.CertificateIn):
    session = db.session()
    certificate = Certificate(event_id=json.event_id, participant_id=json.participant_id,
                              number=json.number, snapshot=json.snapshot.model_dump(mode="json"))
    session.add(certificate)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Problem(409, "Conflict", f"Certificate number {json.number} is already used.",
                      errors=[{"field": "number", "code": "taken", "message": "number already used"}])
    queue().enqueue(render_certificate, certificate.id, job_id=f"render-certificate-{certificate.id}",
                    retry=Retry(max=3, interval=[5, 30, 120]), job_timeout=120)
    return schemas.CertificateOut.model_validate(certificate), 202


@api.get("/events/<int:event_id>/certificates")
@spec.validate(resp=Response(HTTP_200=schemas.CertificateList))
def list_certificates(event_id: int):
    certificates = db.session().scalars(
        select(Certificate).where(Certificate.event_id == event_id).order_by(Certificate.id)).all()
    return schemas.CertificateList(items=[schemas.CertificateOut.model_validate(c) for c in certificates])


@api.get("/certificates/<int:certificate_id>")
@spec.validate(resp=Response(HTTP_200=schemas.CertificateOut, HTTP_404=None))
def read_certificate(certificate_id: int):
    return schemas.CertificateOut.model_validate(get_certificate(certificate_id))


@api.get("/certificates/<int:certificate_id>/pdf")
def certificate_pdf(certificate_id: int):
    certificate = get_certificate(certificate_id)
    if certificate.status is not CertificateStatus.rendered or not certificate.pdf_path:
        raise Problem(409, "Conflict", f"The certificate is {certificate.status.value}, not rendered.")
    path = current_app.config["SETTINGS"].storage_dir / certificate.pdf_path
    return send_file(path, mimetype="application/pdf", download_name=f"{certificate.number}.pdf")


@api.get("/verify/<code>")
@spec.validate(resp=Response(HTTP_200=schemas.Verification, HTTP_404=None))
def verify(code: str):
    certificate = db.session().scalar(
        select(Certificate).where(Certificate.verification_code == code.strip().upper()))
    if certificate is None:
        raise Problem(404, "Not Found", "No certificate has this verification code.")
    s = certificate.snapshot
    return schemas.Verification(
        valid=certificate.status is not CertificateStatus.revoked, status=certificate.status,
        number=certificate.number,
        holder=" ".join(filter(None, [s["surname"], s["first_name"], s.get("patronymic")])),
        programme_title=s["programme_title"], academic_hours=s["academic_hours"],
        starts_on=s["starts_on"], ends_on=s["ends_on"], organiser=s["organiser"])
