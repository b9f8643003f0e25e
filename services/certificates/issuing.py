"""Issuing documents: who gets one, the frozen snapshot of what is printed, gap-free numbers, re-issue
after a correction (a new version; the old one stays verifiable as superseded) and revocation.

Numbers come from a counter row per organisation, kind and year, locked in the same transaction as the
inserts (PostgreSQL: SELECT ... FOR UPDATE; SQLite: BEGIN IMMEDIATE, which takes the database's write
lock). A transaction that fails rolls its counter back with it, so numbers have no gaps, and two
organisers issuing at once wait for each other instead of taking the same number. Who still needs a
document is decided after the lock is taken, so the second of two concurrent «Выдать» issues nothing twice;
a partial unique index (one current document per person) stands behind that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, insert, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eventops.db import utcnow
from eventops.i18n import TIMEZONE
from services.certificates import eligibility
from services.certificates.models import (
    Certificate,
    CertificatePolicy,
    CertificateStatus,
    DocumentKind,
    NumberCounter,
    RenderBatch,
)
from services.certificates.policy import NumberTemplate
from services.certificates.registration_client import Event, Participant
from services.certificates.schemas import Snapshot

#: how often a transaction that lost a race to the unique indexes is run again (it then sees the winner)
ATTEMPTS = 3


class IssuingRefused(Exception):
    """The operation does not apply to this document; `code`: revoked, superseded, busy."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def today() -> date:
    """The issue date as the organiser's calendar reads it."""
    return datetime.now(ZoneInfo(TIMEZONE)).date()


def template_for(policy: CertificatePolicy, kind: DocumentKind) -> NumberTemplate:
    text_ = policy.number_template if kind is DocumentKind.certificate else policy.statement_number_template
    return NumberTemplate(text_)


def snapshot(
    policy: CertificatePolicy,
    event: Event,
    person: Participant,
    kind: DocumentKind,
    attended_hours: int,
    number: str,
    issued_on: date,
) -> dict:
    """What the document prints, frozen now: later edits in registration do not change a paper."""
    return Snapshot(
        kind=kind,
        surname=person.surname,
        first_name=person.first_name,
        patronymic=person.patronymic,
        gender=person.gender if person.gender in ("male", "female") else None,
        programme_title=policy.programme_title,
        programme_kind=policy.programme_kind,
        academic_hours=policy.academic_hours,
        attended_hours=attended_hours,
        organisation=policy.organisation,
        place=policy.place or event.place,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        issued_on=issued_on,
        signatory_name=policy.signatory_name,
        signatory_title=policy.signatory_title,
        number=number,
    ).model_dump(mode="json")


# --- numbering -------------------------------------------------------------------------------------

Scope = tuple[str, DocumentKind, int]


def _lock_counters(db: Session, scopes: list[Scope]) -> dict[Scope, NumberCounter]:
    """Start a transaction holding the numbering counters of `scopes` (created at 0 if new).

    Everything the caller does until commit or rollback happens under the lock.
    """
    db.rollback()  # a fresh transaction: on SQLite, BEGIN IMMEDIATE must be its first statement
    scopes = sorted(set(scopes), key=lambda s: (s[0], s[1].value, s[2]))  # one order: no deadlock
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("BEGIN IMMEDIATE"))
        counters = {}
        for scope in scopes:
            counter = db.get(NumberCounter, scope, populate_existing=True)
            if counter is None:
                counter = NumberCounter(organisation_key=scope[0], kind=scope[1], year=scope[2], last_seq=0)
                db.add(counter)
            counters[scope] = counter
        return counters
    for key, kind, year in scopes:
        db.execute(
            pg_insert(NumberCounter)
            .values(organisation_key=key, kind=kind, year=year, last_seq=0)
            .on_conflict_do_nothing()
        )
    keys = [(key, kind.name, year) for key, kind, year in scopes]
    rows = db.scalars(
        select(NumberCounter)
        .where(tuple_(NumberCounter.organisation_key, NumberCounter.kind, NumberCounter.year).in_(keys))
        .order_by(NumberCounter.organisation_key, NumberCounter.kind, NumberCounter.year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {(c.organisation_key, c.kind, c.year): c for c in rows}


def _next_number(counter: NumberCounter, template: NumberTemplate, year: int) -> tuple[int, str]:
    counter.last_seq += 1
    return counter.last_seq, template.format(year, counter.last_seq)


def _document_values(
    policy: CertificatePolicy,
    event: Event,
    person: Participant,
    kind: DocumentKind,
    attended_hours: int,
    counter: NumberCounter,
    issued_on: date,
    batch: RenderBatch,
    staff: str | None,
    replaces: Certificate | None,
) -> dict:
    """The new row's columns, with the next number taken from the locked counter."""
    seq, number = _next_number(counter, template_for(policy, kind), issued_on.year)
    return dict(
        event_id=policy.event_id,
        participant_id=person.id,
        kind=kind,
        number=number,
        organisation_key=policy.organisation_key,
        number_year=issued_on.year,
        number_seq=seq,
        snapshot=snapshot(policy, event, person, kind, attended_hours, number, issued_on),
        version=replaces.version + 1 if replaces else 1,
        supersedes_id=replaces.id if replaces else None,
        batch_id=batch.id,
        issued_by=staff,
    )


# --- issuing for an event --------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    batch: RenderBatch
    certificate_ids: list[int]
    certificates: int
    statements: int


@dataclass(frozen=True)
class _Target:
    person: Participant
    kind: DocumentKind
    attended_hours: int
    #: a valid справка that an удостоверение now replaces
    replaces: eligibility.DocumentState | None


def _targets(decisions: list[eligibility.Decision], people: Mapping[int, Participant], statements: bool):
    for decision in decisions:
        if decision.cancelled:
            continue  # never, whatever an override says
        person = people[decision.participant_id]
        current = decision.certificate if decision.holds_valid() else None
        if decision.eligible:
            if current is None or current.kind is DocumentKind.statement:
                yield _Target(person, DocumentKind.certificate, decision.attended_hours, current)
        elif statements and current is None and decision.attended_anything:
            # A справка certifies the part studied; nobody gets one for a course they never came to.
            yield _Target(person, DocumentKind.statement, decision.attended_hours, None)


def issue(
    db: Session,
    policy: CertificatePolicy,
    event: Event,
    programme: Mapping,
    people: Mapping[int, Participant],
    statements: bool,
    staff: str | None,
    issued_on: date | None = None,
) -> Issued:
    """Issue удостоверения to every eligible participant without a valid one (replacing a справка they
    may hold) and, if `statements`, справки to those who attended without completing and hold nothing.
    Cancelled registrations get nothing. Returns the batch (possibly empty) with the new documents' ids."""
    issued_on = issued_on or today()
    kinds = [DocumentKind.certificate] + ([DocumentKind.statement] if statements else [])
    scopes = [(policy.organisation_key, kind, issued_on.year) for kind in kinds]
    for _attempt in range(ATTEMPTS):
        try:
            return _issue_locked(db, policy, event, programme, people, statements, staff, issued_on, scopes)
        except IntegrityError:
            db.rollback()  # lost to a concurrent issue under another numbering scope: decide again
    raise IssuingRefused("busy")


def _issue_locked(db, policy, event, programme, people, statements, staff, issued_on, scopes) -> Issued:
    counters = _lock_counters(db, scopes)
    policy = db.get(CertificatePolicy, policy.id, populate_existing=True)
    # Decided under the lock: a concurrent «Выдать» that committed first is seen here.
    decisions = eligibility.evaluate(db, policy, programme, people.values())
    targets = list(_targets(decisions, people, statements))
    batch = RenderBatch(event_id=policy.event_id, total=len(targets), created_by=staff)
    db.add(batch)
    replaced_ids = [t.replaces.id for t in targets if t.replaces is not None]
    replaced = {c.id: c for c in db.scalars(select(Certificate).where(Certificate.id.in_(replaced_ids)))}
    now = utcnow()
    for certificate in replaced.values():
        certificate.superseded_at = now
    db.flush()  # the batch gets its id; the replaced справки leave the one-current-document index
    values = [
        _document_values(
            policy,
            event,
            t.person,
            t.kind,
            t.attended_hours,
            counters[(policy.organisation_key, t.kind, issued_on.year)],
            issued_on,
            batch,
            staff,
            replaced[t.replaces.id] if t.replaces else None,
        )
        for t in targets
    ]
    # One multi-row INSERT (not a thousand ORM objects); ids come back in the order of the rows.
    ids = (
        list(db.scalars(insert(Certificate).returning(Certificate.id, sort_by_parameter_order=True), values))
        if values
        else []
    )
    for target, new_id in zip(targets, ids, strict=True):
        if target.replaces is not None:
            replaced[target.replaces.id].superseded_by_id = new_id
    db.commit()
    return Issued(
        batch=batch,
        certificate_ids=ids,
        certificates=sum(t.kind is DocumentKind.certificate for t in targets),
        statements=sum(t.kind is DocumentKind.statement for t in targets),
    )


# --- one document ----------------------------------------------------------------------------------


def reissue(
    db: Session,
    certificate_id: int,
    policy: CertificatePolicy,
    event: Event,
    person: Participant,
    programme: Mapping,
    staff: str | None,
    issued_on: date | None = None,
) -> tuple[RenderBatch, Certificate]:
    """A new version of a valid document with fresh data (a corrected name, say) and a new number;
    the old one is marked superseded and stays verifiable as such."""
    issued_on = issued_on or today()
    for _attempt in range(ATTEMPTS):
        try:
            return _reissue_locked(db, certificate_id, policy, event, person, programme, staff, issued_on)
        except IntegrityError:
            db.rollback()
    raise IssuingRefused("busy")


def _reissue_locked(db, certificate_id, policy, event, person, programme, staff, issued_on):
    old = db.get(Certificate, certificate_id)
    kind = old.kind
    counters = _lock_counters(db, [(policy.organisation_key, kind, issued_on.year)])
    old = db.get(Certificate, certificate_id, populate_existing=True, with_for_update=True)
    policy = db.get(CertificatePolicy, policy.id, populate_existing=True)
    if old.revoked_at is not None:
        db.rollback()
        raise IssuingRefused("revoked")
    if old.superseded_at is not None:
        db.rollback()
        raise IssuingRefused("superseded")
    attended_hours = eligibility.evaluate_one(db, policy, programme, person).attended_hours
    batch = RenderBatch(event_id=old.event_id, total=1, created_by=staff)
    db.add(batch)
    old.superseded_at = utcnow()
    db.flush()  # the batch gets its id; the old version leaves the one-current-document index
    new = Certificate(
        **_document_values(
            policy,
            event,
            person,
            kind,
            attended_hours,
            counters[(policy.organisation_key, kind, issued_on.year)],
            issued_on,
            batch,
            staff,
            old,
        )
    )
    db.add(new)
    db.flush()
    old.superseded_by_id = new.id
    db.commit()
    return batch, new


def revoke(db: Session, certificate_id: int, reason: str, public: bool, staff: str | None) -> Certificate:
    """Record who revoked the document, when and why. Only a valid document can be revoked."""
    # Conditional update: of two concurrent revocations exactly one finds the document still valid.
    done = db.execute(
        update(Certificate)
        .where(
            Certificate.id == certificate_id,
            Certificate.revoked_at.is_(None),
            Certificate.superseded_at.is_(None),
        )
        .values(
            revoked_at=utcnow(), revoked_by=staff, revocation_reason=reason, revocation_reason_public=public
        )
        .execution_options(synchronize_session=False)
    )
    db.commit()
    certificate = db.get(Certificate, certificate_id, populate_existing=True)
    if done.rowcount != 1:
        raise IssuingRefused("revoked" if certificate.revoked_at is not None else "superseded")
    return certificate


# --- reading ---------------------------------------------------------------------------------------


def event_documents(db: Session, event_id: int) -> list[Certificate]:
    return list(
        db.scalars(select(Certificate).where(Certificate.event_id == event_id).order_by(Certificate.id))
    )


@dataclass(frozen=True)
class Progress:
    batch: RenderBatch
    rendered: int
    failed: int
    pending: int

    @property
    def done(self) -> bool:
        return self.pending == 0


def batch_progress(db: Session, batch_id: int) -> Progress | None:
    """How far the batch's PDFs are, counted by the database."""
    batch = db.get(RenderBatch, batch_id)
    if batch is None:
        return None
    # A document revoked or replaced before its PDF was made will not be rendered: it is not waited for.
    waiting = case(
        (
            and_(
                Certificate.status == CertificateStatus.pending,
                or_(Certificate.revoked_at.is_not(None), Certificate.superseded_at.is_not(None)),
            ),
            "void",
        ),
        else_=Certificate.status,
    )
    counts = dict(
        db.execute(
            select(waiting, func.count()).where(Certificate.batch_id == batch_id).group_by(waiting)
        ).all()
    )
    return Progress(
        batch=batch,
        rendered=counts.get(CertificateStatus.rendered.value, 0),
        failed=counts.get(CertificateStatus.failed.value, 0),
        pending=counts.get(CertificateStatus.pending.value, 0),
    )
