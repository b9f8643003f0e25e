"""Certificates' JSON API: eligibility and overrides, issuing and its progress, documents (re-issue,
revoke, PDF), the participant's own record and download, the event's ZIP and ФИС ФРДО export, and the
public verification answer."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, send_file, stream_with_context
from flask_babel import gettext as _
from rq import Queue
from spectree import Response as Responses
from sqlalchemy import select

from eventops import db
from eventops.i18n import TIMEZONE
from eventops.problems import Problem, not_found
from eventops.queue import connect
from services.certificates import (
    archive,
    eligibility,
    frdo,
    issuing,
    records,
    registration_client,
    schemas,
    storage,
    tasks,
)
from services.certificates import policy as policies
from services.certificates.api import spec
from services.certificates.api.common import registration_down, staff
from services.certificates.api.policies import policy_or_404
from services.certificates.models import Certificate, CertificateStatus, DocumentKind, Validity

bp = Blueprint("certificates_api", __name__, url_prefix="/api/v1")
log = logging.getLogger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- helpers: registration, the queue, documents ---------------------------------------------------


def from_registration(call, *args):
    """Call registration; its refusals and outages become the caller's problems."""
    try:
        return call(*args)
    except registration_client.EventNotFound:
        raise not_found(_("There is no such event.")) from None
    except registration_client.ParticipantNotFound:
        raise not_found(_("There is no such participant in this event.")) from None
    except registration_client.RegistrationUnavailable as exc:
        raise registration_down(exc) from exc


def render_queue() -> Queue:
    """The render queue, checked: issuing writes nothing when the PDFs could not be queued."""
    connection = connect(current_app.config["SETTINGS"].redis_url)
    try:
        connection.ping()
    except Exception as exc:  # any Redis failure means the same to the organiser
        log.warning("render queue unavailable: %s", exc)
        raise Problem(
            503,
            detail=_("The certificate queue is not available; nothing was issued. Try again in a minute."),
            type="urn:eventops:problem:queue-unavailable",
        ) from exc
    return Queue(tasks.QUEUE_NAME, connection=connection)


def certificate_or_404(certificate_id: int) -> Certificate:
    certificate = db.session().get(Certificate, certificate_id)
    if certificate is None:
        raise not_found(_("There is no such certificate."))
    return certificate


def eligibility_row(
    decision: eligibility.Decision,
    person: registration_client.Participant,
    wording: eligibility.Wording | None = None,
) -> dict:
    """An EligibilityItem's fields, not yet validated: the list validates a thousand at once (one call of
    pydantic's core instead of one per row and per nested model); the override and the document are read
    by their attributes."""
    return {
        "participant_id": person.id,
        "full_name": person.full_name,
        "status": person.status,
        "gender": person.gender if person.gender in ("male", "female") else None,
        "attended_hours": decision.attended_hours,
        "required_hours": decision.required_hours,
        "programme_hours": decision.programme_hours,
        "days_present": decision.days_present,
        "days_missing": decision.days_missing,
        "eligible": decision.eligible,
        "computed_eligible": decision.computed_eligible,
        "reasons": (wording or eligibility.Wording()).reasons(decision, person.gender),
        "override": decision.override,
        "certificate": decision.certificate,
    }


def eligibility_item(
    decision: eligibility.Decision, person: registration_client.Participant
) -> schemas.EligibilityItem:
    return schemas.EligibilityItem.model_validate(eligibility_row(decision, person), from_attributes=True)


_REFUSED = {
    "revoked": lambda: _("The certificate is revoked."),
    "superseded": lambda: _("A newer version of this certificate exists; act on that one."),
    "busy": lambda: _("Someone else is issuing certificates right now; try again."),
}


def refused(exc: issuing.IssuingRefused) -> Problem:
    return Problem(409, detail=_REFUSED[exc.code](), type=f"urn:eventops:problem:certificate-{exc.code}")


# --- eligibility -----------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/eligibility")
@spec.validate(resp=Responses(HTTP_200=schemas.Eligibility, HTTP_404=None, HTTP_503=None))
def read_eligibility(event_id: int):
    rules = policy_or_404(event_id)
    # The participants (the slow answer) arrive while the database counts attendance.
    people_soon = registration_client.in_background(registration_client.fetch_participants, event_id)
    programme = from_registration(registration_client.fetch_sessions, event_id)
    facts = eligibility.gather(db.session(), rules, programme)
    people = from_registration(people_soon.result)
    decisions = eligibility.decide_all(rules, facts, people.values())
    wording = eligibility.Wording()
    answer = {
        "completion_rule": rules.completion_rule,
        "programme_hours": rules.academic_hours,
        "required_hours": eligibility.required_hours(rules),
        "days": eligibility.programme_days(programme),
        "summary": vars(eligibility.summarise(decisions)),
        "items": [eligibility_row(d, people[d.participant_id], wording) for d in decisions],
    }
    return schemas.Eligibility.model_validate(answer, from_attributes=True)


@bp.put("/events/<int:event_id>/eligibility/<int:participant_id>/override")
@spec.validate(
    json=schemas.OverrideIn, resp=Responses(HTTP_200=schemas.EligibilityItem, HTTP_404=None, HTTP_503=None)
)
def override(event_id: int, participant_id: int, json: schemas.OverrideIn):
    rules = policy_or_404(event_id)
    person = from_registration(registration_client.fetch_participant, event_id, participant_id)
    programme = from_registration(registration_client.fetch_sessions, event_id)
    session = db.session()
    eligibility.record_override(session, event_id, participant_id, json.eligible, json.reason, staff())
    return eligibility_item(eligibility.evaluate_one(session, rules, programme, person), person)


# --- issuing ---------------------------------------------------------------------------------------


@bp.post("/events/<int:event_id>/issue")
@spec.validate(
    json=schemas.IssueIn,
    resp=Responses(HTTP_202=schemas.IssueOut, HTTP_404=None, HTTP_409=None, HTTP_503=None),
)
def issue(event_id: int, json: schemas.IssueIn):
    rules = policy_or_404(event_id)
    queue = render_queue()
    event = from_registration(registration_client.fetch_event, event_id)
    programme = from_registration(registration_client.fetch_sessions, event_id)
    people = from_registration(registration_client.fetch_participants, event_id)
    statements = rules.issue_statements if json.statements is None else json.statements
    try:
        issued = issuing.issue(db.session(), rules, event, programme, people, statements, staff())
    except issuing.IssuingRefused as exc:
        raise refused(exc) from None
    tasks.enqueue_rendering(queue, issued.certificate_ids)
    out = schemas.IssueOut(
        batch_id=issued.batch.id,
        total=len(issued.certificate_ids),
        certificates=issued.certificates,
        statements=issued.statements,
    )
    return out, 202


@bp.get("/batches/<int:batch_id>")
@spec.validate(resp=Responses(HTTP_200=schemas.BatchOut, HTTP_404=None))
def batch(batch_id: int):
    progress = issuing.batch_progress(db.session(), batch_id)
    if progress is None:
        raise not_found(_("There is no such batch."))
    return schemas.BatchOut(
        id=progress.batch.id,
        event_id=progress.batch.event_id,
        total=progress.batch.total,
        rendered=progress.rendered,
        failed=progress.failed,
        pending=progress.pending,
        done=progress.done,
    )


# --- documents -------------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/certificates")
@spec.validate(resp=Responses(HTTP_200=schemas.CertificateList))
def list_certificates(event_id: int):
    documents = issuing.event_documents(db.session(), event_id)
    return schemas.CertificateList(items=[schemas.CertificateOut.model_validate(c) for c in documents])


@bp.get("/certificates/<int:certificate_id>")
@spec.validate(resp=Responses(HTTP_200=schemas.CertificateOut, HTTP_404=None))
def read_certificate(certificate_id: int):
    return schemas.CertificateOut.model_validate(certificate_or_404(certificate_id))


@bp.post("/certificates/<int:certificate_id>/revoke")
@spec.validate(
    json=schemas.RevokeIn, resp=Responses(HTTP_200=schemas.CertificateOut, HTTP_404=None, HTTP_409=None)
)
def revoke(certificate_id: int, json: schemas.RevokeIn):
    certificate_or_404(certificate_id)
    try:
        revoked = issuing.revoke(db.session(), certificate_id, json.reason, json.reason_public, staff())
    except issuing.IssuingRefused as exc:
        raise refused(exc) from None
    return schemas.CertificateOut.model_validate(revoked)


@bp.post("/certificates/<int:certificate_id>/reissue")
@spec.validate(resp=Responses(HTTP_202=schemas.CertificateOut, HTTP_404=None, HTTP_409=None, HTTP_503=None))
def reissue(certificate_id: int):
    old = certificate_or_404(certificate_id)
    if old.validity is not Validity.valid:
        raise refused(issuing.IssuingRefused(old.validity.value))
    rules = policy_or_404(old.event_id)
    queue = render_queue()
    event = from_registration(registration_client.fetch_event, old.event_id)
    person = from_registration(registration_client.fetch_participant, old.event_id, old.participant_id)
    programme = from_registration(registration_client.fetch_sessions, old.event_id)
    try:
        _batch, new = issuing.reissue(db.session(), certificate_id, rules, event, person, programme, staff())
    except issuing.IssuingRefused as exc:
        raise refused(exc) from None
    tasks.enqueue_rendering(queue, [new.id])
    return schemas.CertificateOut.model_validate(new), 202


def pdf_response(certificate: Certificate):
    settings = current_app.config["SETTINGS"]
    if certificate.status is not CertificateStatus.rendered or not certificate.pdf_path:
        raise Problem(409, detail=_("The PDF is not ready yet."), type="urn:eventops:problem:pdf-not-ready")
    try:
        file = storage.store(settings).open(certificate.pdf_path)
    except FileNotFoundError:
        log.error("certificate %s is rendered but its PDF is missing", certificate.id)
        raise not_found(_("The PDF file is missing; issue it again.")) from None
    return send_file(
        file,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{archive.safe_name(certificate.number)}.pdf",
    )


@bp.get("/certificates/<int:certificate_id>/pdf")
def certificate_pdf(certificate_id: int):
    return pdf_response(certificate_or_404(certificate_id))


# --- the participant's own page (the gateway has resolved their personal token to these ids) ----------


def current_document(event_id: int, participant_id: int) -> Certificate | None:
    return eligibility.current_documents(db.session(), event_id, participant_id).get(participant_id)


@bp.get("/events/<int:event_id>/participants/<int:participant_id>/record")
@spec.validate(resp=Responses(HTTP_200=schemas.ParticipantRecord, HTTP_404=None, HTTP_503=None))
def participant_record(event_id: int, participant_id: int):
    person = from_registration(registration_client.fetch_participant, event_id, participant_id)
    programme = from_registration(registration_client.fetch_sessions, event_id)
    found = records.participant_record(
        db.session(), event_id, person, programme, policies.find(db.session(), event_id)
    )
    return record_out(found, person, event_id)


def record_out(found: records.Record, person, event_id: int) -> schemas.ParticipantRecord:
    days = [
        schemas.RecordDay(
            day=d.day,
            present=d.present,
            at_door=d.at_door,
            sessions=[
                schemas.RecordSession(
                    id=s.session.id,
                    title=s.session.title,
                    starts_at=s.session.starts_at,
                    ends_at=s.session.ends_at,
                    academic_hours=s.session.academic_hours,
                    attended=s.attended,
                )
                for s in d.sessions
            ],
        )
        for d in found.days
    ]
    decision, document = found.decision, found.document
    return schemas.ParticipantRecord(
        participant_id=person.id,
        event_id=event_id,
        full_name=person.full_name,
        days=days,
        attended_hours=found.attended_hours,
        programme_hours=found.programme_hours,
        eligibility=schemas.RecordEligibility(
            eligible=decision.eligible,
            reasons=eligibility.explain(decision, person.gender),
            summary=eligibility.summary_sentence(decision),
        )
        if decision
        else None,
        certificate=schemas.RecordCertificate(
            **schemas.CertificateBrief.model_validate(document).model_dump(),
            verification_code=document.verification_code,
            downloadable=document.validity is Validity.valid
            and document.status is CertificateStatus.rendered,
        )
        if document
        else None,
    )


@bp.get("/events/<int:event_id>/participants/<int:participant_id>/certificate.pdf")
def participant_pdf(event_id: int, participant_id: int):
    document = current_document(event_id, participant_id)
    if document is None or document.validity is not Validity.valid:
        raise not_found(_("There is no certificate to download."))
    return pdf_response(db.session().get(Certificate, document.id))


# --- the event's exports ---------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/certificates.zip")
def certificates_zip(event_id: int):
    """Every valid, rendered PDF of the event, streamed as one ZIP."""
    store = storage.store(current_app.config["SETTINGS"])
    # Everything the stream needs is read now: the generator runs after the request's session is closed.
    entries = archive.event_entries(issuing.event_documents(db.session(), event_id), store)
    response = Response(stream_with_context(archive.stream_zip(entries)), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="certificates-{event_id}.zip"'
    response.headers["X-Certificates-Count"] = str(len(entries))
    return response


@bp.get("/events/<int:event_id>/frdo.xlsx")
def frdo_xlsx(event_id: int):
    """The issued documents as the ФИС ФРДО upload (40 columns), with the sheet of missing data."""
    documents = issuing.event_documents(db.session(), event_id)
    people = from_registration(registration_client.fetch_frdo_participants, event_id)
    by_id = {c.id: c for c in documents}
    current = [c for c in documents if c.validity is Validity.valid]
    data = frdo.workbook(current, people, by_id)
    return send_file(
        io.BytesIO(data), mimetype=XLSX_MIME, as_attachment=True, download_name=f"frdo-{event_id}.xlsx"
    )


# --- verification ----------------------------------------------------------------------------------

# Paper codes get misread: O for 0, I and L for 1 (Crockford's base32 decodes them so).
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalise_code(code: str) -> str:
    raw = re.sub(r"[\s\-]+", "", code).upper().translate(_MISREAD)
    if len(raw) == 20:
        return "-".join(raw[i : i + 5] for i in range(0, 20, 5))
    return raw[:40]


def local_date(moment: datetime):
    """The calendar date of a stored moment as the organiser reads it (SQLite hands back naive UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(TIMEZONE)).date()


@bp.get("/verify/<code>")
@spec.validate(resp=Responses(HTTP_200=schemas.Verification, HTTP_404=None))
def verify(code: str):
    session = db.session()
    certificate = session.scalar(
        select(Certificate).where(Certificate.verification_code == normalise_code(code))
    )
    if certificate is None:
        raise not_found(_("No certificate has this verification code."))
    s = certificate.snapshot
    validity = certificate.validity
    newer = certificate.superseded_by if validity is Validity.superseded else None
    revoked_on = local_date(certificate.revoked_at) if certificate.revoked_at else None
    return schemas.Verification(
        status=validity,
        kind=certificate.kind,
        number=certificate.number,
        holder=" ".join(p for p in (s["surname"], s["first_name"], s.get("patronymic")) if p),
        programme_title=s["programme_title"],
        academic_hours=s["academic_hours"]
        if certificate.kind is DocumentKind.certificate
        else s["attended_hours"],
        starts_on=s["starts_on"],
        ends_on=s["ends_on"],
        issued_on=s["issued_on"],
        organisation=s["organisation"],
        revoked_on=revoked_on,
        revocation_reason=certificate.revocation_reason if certificate.revocation_reason_public else None,
        superseded_by_code=newer.verification_code if newer else None,
    )
