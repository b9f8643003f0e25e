"""Answering: the rules an answer must follow, named responses saved as the participant goes, and
anonymous responses through a survey's link.

Every answer is checked against its question (range, known option, length, required on submit); any
error refuses the whole save, with one message per question, and nothing is written. A named response
is one per participant, editable until the survey closes; once submitted, every later save is checked
as a submit, so a submitted response never loses a required answer. An anonymous response carries no
participant, region, organisation or time finer than its day, and the mark that lets each browser
answer once points at no response (see models.py).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eventops.problems import Problem, field_error, not_found
from services.feedback import schemas
from services.feedback.models import (
    OTHER,
    Answer,
    BrowserReceipt,
    Question,
    QuestionKind,
    Survey,
    SurveyResponse,
    SurveyStatus,
    day_only,
    new_response_id,
)

TEXT_LIMITS = {QuestionKind.short_text: 300, QuestionKind.long_text: 5000}
OTHER_LIMIT = 300
SCORE_RANGES = {QuestionKind.rating: (1, 5), QuestionKind.nps: (0, 10)}


@dataclass(frozen=True)
class Row:
    """One answer row before it is written: ordinal 0, 1, ... within its question."""

    choice: str | None = None
    score: int | None = None
    text: str | None = None


class BadAnswer(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _is_empty(value) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, dict):
        return not value.get("choices") and not (value.get("other") or "").strip() and not value.get("choice")
    return False


def _score(question: Question, value) -> list[Row]:
    low, high = SCORE_RANGES[question.kind]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())  # a form posts its radio buttons as text
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadAnswer("out_of_range", _("Choose a score from %(low)d to %(high)d.", low=low, high=high))
    return [Row(score=value)]


def _text(question: Question, value) -> list[Row]:
    if not isinstance(value, str):
        raise BadAnswer("not_text", _("Text is expected."))
    value, limit = value.strip(), TEXT_LIMITS[question.kind]
    if len(value) > limit:
        raise BadAnswer("too_long", _("Too long: at most %(n)s characters.", n=limit))
    return [Row(text=value)]


def _other_text(question: Question, value) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not question.allow_other:
        raise BadAnswer("other_not_allowed", _("This question has no «Other» answer."))
    if not isinstance(value, str):
        raise BadAnswer("not_text", _("Text is expected."))
    if len(value.strip()) > OTHER_LIMIT:
        raise BadAnswer("too_long", _("Too long: at most %(n)s characters.", n=OTHER_LIMIT))
    return value.strip()


def _choices(question: Question, chosen: list, other: str | None) -> list[Row]:
    live = set(question.live_option_ids())
    if not all(isinstance(option, str) for option in chosen):
        raise BadAnswer("not_an_option", _("Choose among the options of this question."))
    unknown = [option for option in chosen if option not in live]
    if unknown:
        raise BadAnswer("unknown_option", _("This option is not among the answers of this question."))
    rows = [Row(choice=option) for option in dict.fromkeys(chosen)]
    if other is not None:
        rows.append(Row(choice=OTHER, text=other))
    return rows


def _single(question: Question, value) -> list[Row]:
    if isinstance(value, dict):
        if set(value) - {"other"}:
            raise BadAnswer("invalid_shape", _("Choose one option, or write your own answer in «Other»."))
        return _choices(question, [], _other_text(question, value.get("other")))
    if not isinstance(value, str):
        raise BadAnswer("not_an_option", _("Choose one of the options."))
    return _choices(question, [value], None)


def _multiple(question: Question, value) -> list[Row]:
    if isinstance(value, dict):
        if set(value) - {"choices", "other"}:
            raise BadAnswer(
                "invalid_shape", _("Choose among the options, and write your own answer in «Other».")
            )
        chosen = value.get("choices") or []
        if not isinstance(chosen, list):
            raise BadAnswer("not_an_option", _("Choose among the options of this question."))
        return _choices(question, chosen, _other_text(question, value.get("other")))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise BadAnswer("not_an_option", _("Choose among the options of this question."))
    return _choices(question, value, None)


def _no_answer(question: Question, value) -> list[Row]:
    raise BadAnswer("no_answer_expected", _("A section heading takes no answer."))


RULES = {
    QuestionKind.rating: _score,
    QuestionKind.nps: _score,
    QuestionKind.short_text: _text,
    QuestionKind.long_text: _text,
    QuestionKind.single: _single,
    QuestionKind.multiple: _multiple,
    QuestionKind.section: _no_answer,
}


def check_answers(survey: Survey, given: dict[str, object]) -> dict[Question, list[Row]]:
    """Every given answer as rows (an empty list clears it), or a 422 naming each bad answer."""
    by_id = {str(q.id): q for q in survey.live_questions}
    rows, errors = {}, []
    for key, value in given.items():
        question = by_id.get(key.strip())
        if question is None:
            errors.append(
                field_error(
                    f"answers.{key}", "unknown_question", _("There is no such question in this survey.")
                )
            )
            continue
        if _is_empty(value):
            rows[question] = []
            continue
        try:
            rows[question] = RULES[question.kind](question, value)
        except BadAnswer as bad:
            errors.append(field_error(f"answers.{question.id}", bad.code, bad.message))
    if errors:
        raise Problem(422, detail=_("Some answers need correcting: see the marked questions."), errors=errors)
    return rows


def _check_required(survey: Survey, answered: set[int]) -> None:
    missing = [
        q
        for q in survey.live_questions
        if q.required and q.kind is not QuestionKind.section and q.id not in answered
    ]
    if missing:
        raise Problem(
            422,
            detail=_("Some required questions are not answered yet."),
            errors=[
                field_error(f"answers.{q.id}", "required", _("Answer this question: it is required."))
                for q in sorted(missing, key=lambda q: q.position)
            ],
        )


def _check_answerable(survey: Survey, now: datetime) -> None:
    if survey.status is SurveyStatus.closed:
        raise Problem(
            409,
            detail=_(
                "This survey is closed, so answers can no longer be given or changed. "
                "Thank you for taking part!"
            ),
        )
    if not survey.is_open(now):
        raise Problem(409, detail=_("This survey is not open yet. Please come back later."))


def _rows_of(session: Session, response_id: int) -> dict[int, list[Answer]]:
    rows: dict[int, list[Answer]] = {}
    for answer in session.scalars(
        select(Answer).where(Answer.response_id == response_id).order_by(Answer.question_id, Answer.ordinal)
    ):
        rows.setdefault(answer.question_id, []).append(answer)
    return rows


def answers_of(session: Session, survey: Survey, response: SurveyResponse) -> dict[str, schemas.AnswerValue]:
    """A response's answers in the shapes the API takes (see schemas.py)."""
    kinds = {q.id: q.kind for q in survey.questions}
    values: dict[str, schemas.AnswerValue] = {}
    for question_id, rows in _rows_of(session, response.id).items():
        kind, key = kinds.get(question_id), str(question_id)
        chosen = [r.choice for r in rows if r.choice not in (None, OTHER)]
        other = next((r.text for r in rows if r.choice == OTHER), None)
        if kind in SCORE_RANGES:
            values[key] = rows[0].score
        elif kind in TEXT_LIMITS:
            values[key] = rows[0].text
        elif kind is QuestionKind.single:
            values[key] = {"other": other} if other is not None else (chosen[0] if chosen else None)
        elif kind is QuestionKind.multiple:
            values[key] = {"choices": chosen, "other": other} if other is not None else chosen
    return values


def _write(session: Session, response_id: int, rows: dict[Question, list[Row]]) -> None:
    # Core statements: replacing an answer deletes and inserts the same key in one flush.
    if rows:
        session.execute(
            delete(Answer).where(
                Answer.response_id == response_id, Answer.question_id.in_([q.id for q in rows])
            )
        )
    values = [
        {
            "response_id": response_id,
            "question_id": question.id,
            "ordinal": ordinal,
            "choice": row.choice,
            "score": row.score,
            "text": row.text,
        }
        for question, question_rows in rows.items()
        for ordinal, row in enumerate(question_rows)
    ]
    if values:
        session.execute(insert(Answer), values)


def _answered_questions(session: Session, response_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Answer.question_id).where(Answer.response_id == response_id, Answer.ordinal == 0)
        )
    )


# --- named responses --------------------------------------------------------------------------------------


def find_response(session: Session, survey: Survey, participant_id: int) -> SurveyResponse | None:
    return session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.participant_id == participant_id
        )
    )


def own_response(session: Session, survey: Survey, participant_id: int) -> SurveyResponse:
    response = None if survey.anonymous else find_response(session, survey, participant_id)
    if response is None:
        raise not_found(_("No answers to this survey have been saved yet."))
    return response


def save_named(
    session: Session, survey: Survey, participant_id: int, data: schemas.ResponseIn, now: datetime
) -> SurveyResponse:
    """Saves some answers of a participant (partial or a submit) in one transaction."""
    if survey.anonymous:
        raise Problem(409, detail=_("This survey is anonymous: it is answered through its link only."))
    _check_answerable(survey, now)
    rows = check_answers(survey, data.answers)
    response = find_response(session, survey, participant_id)
    if response is None:
        response = SurveyResponse(
            id=new_response_id(),
            survey_id=survey.id,
            anonymous=False,
            participant_id=participant_id,
            updated_at=now,
        )
        session.add(response)
        try:
            session.flush()
        except IntegrityError:
            # The same participant saved from another tab at this very moment: continue with that one.
            session.rollback()
            response = find_response(session, survey, participant_id)
            if response is None:
                raise
    _write(session, response.id, rows)
    if data.submit or response.submitted_at is not None:
        try:
            _check_required(survey, _answered_questions(session, response.id))
        except Problem:
            session.rollback()  # nothing half-saved: the answers written above go too
            raise
    if data.respondent is not None:
        response.region_code = data.respondent.region_code or None
        response.organisation = (data.respondent.organisation or "").strip() or None
    if data.submit and response.submitted_at is None:
        response.submitted_at = now
    response.updated_at = now
    session.commit()
    return response


def participant_surveys(
    session: Session, event_id: int, participant_id: int, now: datetime
) -> list[schemas.ParticipantSurvey]:
    surveys = [
        s
        for s in session.scalars(
            select(Survey)
            .where(Survey.event_id == event_id, Survey.status == SurveyStatus.open)
            .order_by(Survey.session_starts_at.is_(None).desc(), Survey.session_starts_at, Survey.id)
        )
        if s.is_open(now)
    ]
    submitted = dict(
        session.execute(
            select(SurveyResponse.survey_id, SurveyResponse.submitted_at).where(
                SurveyResponse.participant_id == participant_id,
                SurveyResponse.survey_id.in_([s.id for s in surveys]),
            )
        ).all()
    )
    items = []
    for survey in surveys:
        if survey.anonymous:
            progress = "anonymous"
        elif survey.id not in submitted:
            progress = "not_started"
        else:
            progress = "answered" if submitted[survey.id] is not None else "partial"
        items.append(
            schemas.ParticipantSurvey(
                id=survey.id,
                title=survey.title,
                kind=survey.kind,
                session_id=survey.session_id,
                session_title=survey.session_title,
                session_starts_at=survey.session_starts_at,
                anonymous=survey.anonymous,
                questions_count=sum(1 for q in survey.live_questions if q.kind is not QuestionKind.section),
                progress=progress,
                public_token=survey.public_token if survey.anonymous else None,
            )
        )
    return items


# --- anonymous responses ----------------------------------------------------------------------------------


def public_survey(session: Session, token: str) -> Survey:
    survey = session.scalar(select(Survey).where(Survey.public_token == token))
    if survey is None or not survey.anonymous or survey.status is SurveyStatus.draft:
        raise not_found(_("This survey link is not valid."))
    return survey


def browser_key_hash(survey: Survey, browser_key: str) -> str:
    """Keyed by the survey's token: one browser's marks on two surveys cannot be matched."""
    return hmac.new(survey.public_token.encode(), browser_key.encode(), hashlib.sha256).hexdigest()


def save_anonymous(
    session: Session, survey: Survey, data: schemas.AnonymousResponseIn, now: datetime
) -> None:
    _check_answerable(survey, now)
    rows = check_answers(survey, data.answers)
    _check_required(survey, {q.id for q, question_rows in rows.items() if question_rows})
    already = Problem(409, detail=_("This browser has already answered this survey. Thank you!"))
    key_hash = browser_key_hash(survey, data.browser_key)
    if session.get(BrowserReceipt, (survey.id, key_hash)) is not None:
        raise already
    day = day_only(now)
    response_id = new_response_id()
    session.add(BrowserReceipt(survey_id=survey.id, key_hash=key_hash))
    session.add(
        SurveyResponse(
            id=response_id,
            survey_id=survey.id,
            anonymous=True,
            participant_id=None,
            region_code=None,
            organisation=None,
            submitted_at=day,
            updated_at=day,
        )
    )
    try:
        session.flush()
        _write(session, response_id, {q: r for q, r in rows.items() if r})
        session.commit()
    except IntegrityError:
        session.rollback()  # the same browser, twice at once: the receipt's key let one through
        raise already from None
