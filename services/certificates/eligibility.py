"""Who completed the programme, and why not: attendance against the event's policy, the organiser's
overrides, and cancelled registrations (never eligible).

`evaluate` decides for every participant with three aggregate queries (attendance, newest overrides,
current documents); `explain` words a decision in the caller's language (gettext), with the plural of
hours and the participant's gender («не был» / «не была» / «не был(а)»).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Protocol

from flask_babel import format_date, gettext, ngettext, pgettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.certificates import attendance
from services.certificates.models import (
    Certificate,
    CertificatePolicy,
    CertificateStatus,
    CompletionRule,
    DocumentKind,
    EligibilityOverride,
    Validity,
)


class PersonLike(Protocol):
    """What eligibility needs of a participant (registration_client.Participant has it)."""

    id: int
    full_name: str
    status: str
    gender: str | None


def required_hours(policy: CertificatePolicy) -> int:
    """The hours to attend under the hours rule: the policy's share of the programme, rounded up."""
    return -(-policy.academic_hours * policy.min_hours_percent // 100)


def programme_days(programme: Mapping[int, attendance.ProgrammeSessionLike]) -> list[date]:
    return sorted({s.day for s in programme.values()})


@dataclass
class Decision:
    participant_id: int
    attended_hours: int
    required_hours: int
    programme_hours: int
    days_present: list[date]
    days_missing: list[date]
    cancelled: bool
    #: what attendance alone says (a cancelled registration is never eligible)
    computed_eligible: bool
    #: the decision that counts
    eligible: bool
    #: the criteria not met: "hours", "days"
    failures: list[str] = field(default_factory=list)
    override: EligibilityOverride | None = None
    #: the person's newest document that was not replaced by a newer version (valid or revoked)
    certificate: DocumentState | None = None

    @property
    def attended_anything(self) -> bool:
        return self.attended_hours > 0 or bool(self.days_present)

    def holds_valid(self, kind: DocumentKind | None = None) -> bool:
        c = self.certificate
        return c is not None and c.validity is Validity.valid and (kind is None or c.kind is kind)


@dataclass(frozen=True)
class Rule:
    """The policy's completion rule as plain values, read off the policy once per list: a thousand
    decisions would otherwise read the same ORM attributes thousands of times."""

    programme_hours: int
    required_hours: int
    counts_hours: bool
    counts_days: bool

    @classmethod
    def of(cls, policy: CertificatePolicy) -> Rule:
        rule = policy.completion_rule
        return cls(
            programme_hours=policy.academic_hours,
            required_hours=required_hours(policy),
            counts_hours=rule in (CompletionRule.hours, CompletionRule.both),
            counts_days=rule in (CompletionRule.days, CompletionRule.both),
        )


def decide(
    rule: Rule,
    days: list[date],
    attended: attendance.Attended | None,
    cancelled: bool,
    override: EligibilityOverride | None,
    certificate: DocumentState | None = None,
    participant_id: int = 0,
) -> Decision:
    if attended:
        hours = attended.academic_hours
        present = [d for d in days if d in attended.days]
        missing = [d for d in days if d not in attended.days]
    else:
        hours, present, missing = 0, [], list(days)
    failures = []
    if rule.counts_hours and hours < rule.required_hours:
        failures.append("hours")
    if rule.counts_days and missing:
        failures.append("days")
    computed = not failures and not cancelled
    if override is not None and override.eligible is None:
        override = None  # cleared: back to attendance, but the row stays in the history
    eligible = computed if override is None or cancelled else bool(override.eligible)
    return Decision(
        participant_id=participant_id,
        attended_hours=hours,
        required_hours=rule.required_hours,
        programme_hours=rule.programme_hours,
        days_present=present,
        days_missing=missing,
        cancelled=cancelled,
        computed_eligible=computed,
        eligible=eligible,
        failures=failures,
        override=override,
        certificate=certificate,
    )


@dataclass(frozen=True)
class Summary:
    total: int
    eligible: int
    not_eligible: int
    cancelled: int
    overridden: int
    #: people holding a valid удостоверение / справка
    issued: int
    statements: int
    #: eligible people without a valid удостоверение: what «Выдать» would issue
    to_issue: int


def summarise(decisions: list[Decision]) -> Summary:
    return Summary(
        total=len(decisions),
        eligible=sum(d.eligible for d in decisions),
        not_eligible=sum(not d.eligible for d in decisions),
        cancelled=sum(d.cancelled for d in decisions),
        overridden=sum(d.override is not None for d in decisions),
        issued=sum(d.holds_valid(DocumentKind.certificate) for d in decisions),
        statements=sum(d.holds_valid(DocumentKind.statement) for d in decisions),
        to_issue=sum(
            d.eligible and not d.cancelled and not d.holds_valid(DocumentKind.certificate) for d in decisions
        ),
    )


def newest_overrides(
    db: Session, event_id: int, participant_id: int | None = None
) -> dict[int, EligibilityOverride]:
    newest = select(func.max(EligibilityOverride.id)).where(EligibilityOverride.event_id == event_id)
    if participant_id is not None:
        newest = newest.where(EligibilityOverride.participant_id == participant_id)
    newest = newest.group_by(EligibilityOverride.participant_id)
    rows = db.scalars(select(EligibilityOverride).where(EligibilityOverride.id.in_(newest)))
    return {row.participant_id: row for row in rows}


@dataclass(frozen=True)
class DocumentState:
    """A document as eligibility and the lists need it: no snapshot, so a thousand load quickly."""

    id: int
    participant_id: int
    kind: DocumentKind
    number: str
    status: CertificateStatus
    version: int
    revoked_at: datetime | None
    superseded_at: datetime | None
    superseded_by_id: int | None
    verification_code: str

    @property
    def validity(self) -> Validity:
        if self.revoked_at is not None:
            return Validity.revoked
        if self.superseded_at is not None or self.superseded_by_id is not None:
            return Validity.superseded
        return Validity.valid


_STATE_COLUMNS = [getattr(Certificate, f.name) for f in fields(DocumentState)]


def current_documents(
    db: Session, event_id: int, participant_id: int | None = None
) -> dict[int, DocumentState]:
    """Per participant, the newest document not replaced by a newer version (it may be revoked)."""
    query = select(*_STATE_COLUMNS).where(
        Certificate.event_id == event_id, Certificate.superseded_at.is_(None)
    )
    if participant_id is not None:
        query = query.where(Certificate.participant_id == participant_id)
    found: dict[int, DocumentState] = {}
    for row in db.execute(query.order_by(Certificate.id)):
        found[row.participant_id] = DocumentState(*row)  # a later id wins
    return found


@dataclass(frozen=True)
class Facts:
    """What the database knows about an event's participants, gathered in three aggregate queries."""

    days: list[date]
    attended: dict[int, attendance.Attended]
    overrides: dict[int, EligibilityOverride]
    documents: dict[int, DocumentState]


def gather(
    db: Session, policy: CertificatePolicy, programme: Mapping[int, attendance.ProgrammeSessionLike]
) -> Facts:
    return Facts(
        days=programme_days(programme),
        attended=attendance.attended(db, policy.event_id, programme, policy.door_counts_sessions),
        overrides=newest_overrides(db, policy.event_id),
        documents=current_documents(db, policy.event_id),
    )


def decide_all(policy: CertificatePolicy, facts: Facts, people: Iterable[PersonLike]) -> list[Decision]:
    """The decision for each of `people`, in their order."""
    rule = Rule.of(policy)
    return [
        decide(
            rule,
            facts.days,
            facts.attended.get(person.id),
            person.status == "cancelled",
            facts.overrides.get(person.id),
            facts.documents.get(person.id),
            participant_id=person.id,
        )
        for person in people
    ]


def evaluate(
    db: Session,
    policy: CertificatePolicy,
    programme: Mapping[int, attendance.ProgrammeSessionLike],
    people: Iterable[PersonLike],
) -> list[Decision]:
    return decide_all(policy, gather(db, policy, programme), people)


def evaluate_one(
    db: Session,
    policy: CertificatePolicy,
    programme: Mapping[int, attendance.ProgrammeSessionLike],
    person: PersonLike,
) -> Decision:
    hours = attendance.attended(
        db, policy.event_id, programme, policy.door_counts_sessions, participant_id=person.id
    )
    return decide(
        Rule.of(policy),
        programme_days(programme),
        hours.get(person.id),
        person.status == "cancelled",
        newest_overrides(db, policy.event_id, person.id).get(person.id),
        current_documents(db, policy.event_id, person.id).get(person.id),
        participant_id=person.id,
    )


def record_override(
    db: Session, event_id: int, participant_id: int, eligible: bool | None, reason: str, staff: str | None
) -> EligibilityOverride:
    """A new row per decision (clearing too): the history of who decided what, and why, stays."""
    row = EligibilityOverride(
        event_id=event_id, participant_id=participant_id, eligible=eligible, reason=reason, by=staff
    )
    db.add(row)
    db.commit()
    return row


# --- in words --------------------------------------------------------------------------------------


def _format_days(days: list[date]) -> str:
    return ", ".join(format_date(d, "d MMMM") for d in days)


# The verb agrees with the person: «не был», «не была», or «не был(а)» when registration has no gender.
# Each form is its own literal call, so that extraction finds every context.


def _absent(gender: str | None, days: str) -> str:
    if gender == "male":
        return pgettext("male", "absent on %(days)s", days=days)
    if gender == "female":
        return pgettext("female", "absent on %(days)s", days=days)
    return pgettext("gender unknown", "absent on %(days)s", days=days)


def _decided(gender: str | None, eligible: bool, reason: str) -> str:
    if eligible:
        if gender == "male":
            return pgettext("male", "admitted by the organiser: %(reason)s", reason=reason)
        if gender == "female":
            return pgettext("female", "admitted by the organiser: %(reason)s", reason=reason)
        return pgettext("gender unknown", "admitted by the organiser: %(reason)s", reason=reason)
    if gender == "male":
        return pgettext("male", "not admitted by the organiser: %(reason)s", reason=reason)
    if gender == "female":
        return pgettext("female", "not admitted by the organiser: %(reason)s", reason=reason)
    return pgettext("gender unknown", "not admitted by the organiser: %(reason)s", reason=reason)


def explain(decision: Decision, gender: str | None) -> list[str]:
    """Why the decision is what it is, one sentence per reason, in the caller's language."""
    reasons: list[str] = []
    if decision.cancelled:
        reasons.append(gettext("the registration is cancelled"))
    if "hours" in decision.failures:
        reasons.append(
            ngettext(
                "attended %(attended)s of %(num)s academic hour, %(required)s needed",
                "attended %(attended)s of %(num)s academic hours, %(required)s needed",
                decision.programme_hours,
                attended=decision.attended_hours,
                required=decision.required_hours,
            )
        )
    if "days" in decision.failures:
        reasons.append(_absent(gender, _format_days(decision.days_missing)))
    override = decision.override
    if override is not None and not decision.cancelled:
        reasons.append(_decided(gender, bool(override.eligible), override.reason))
    return reasons


class Wording:
    """`explain` with a memo for one request: a thousand people share a few dozen distinct reasons, and
    each is worded (looked up in the catalog) once."""

    def __init__(self) -> None:
        self._memo: dict[tuple, list[str]] = {}

    def reasons(self, decision: Decision, gender: str | None) -> list[str]:
        override = decision.override
        key = (
            decision.cancelled,
            tuple(decision.failures),
            decision.attended_hours if "hours" in decision.failures else None,
            decision.programme_hours,
            decision.required_hours,
            tuple(decision.days_missing) if "days" in decision.failures else (),
            gender,
            (override.eligible, override.reason) if override is not None else None,
        )
        if key not in self._memo:
            self._memo[key] = explain(decision, gender)
        return list(self._memo[key])


def summary_sentence(decision: Decision) -> str:
    """One sentence for the participant's own page."""
    if decision.cancelled:
        return gettext("Your registration is cancelled.")
    if decision.eligible:
        return gettext("You have completed the programme.")
    return gettext("You have not completed the programme yet.")
