"""Feedback's JSON API: surveys, responses, results."""
from __future__ import annotations

from flask import Blueprint
from spectree import Response
from sqlalchemy import func, select

from eventops import db
from eventops.openapi import make_spec
from eventops.problems import Problem
from services.feedback import schemas
from services.feedback.models import Answer, Question, QuestionKind, Survey, SurveyResponse
from services.feedback.results import survey_results

spec = make_spec("EventOps feedback")
api = Blueprint("feedback_api", __name__, url_prefix="/api/v1")


def get_survey(survey_id: int) -> Survey:
    survey = db.session().get(Survey, survey_id)
    if survey is None:
        raise Problem(404, "Not Found", f"No survey {survey_id}.")
    return survey


def survey_out(survey: Survey) -> schemas.SurveyOut:
    count = db.session().scalar(select(func.count()).where(SurveyResponse.survey_id == survey.id))
    return schemas.SurveyOut.model_validate(survey).model_copy(update={"responses_count": count})


@api.get("/events/<int:event_id>/surveys")
@spec.validate(resp=Response(HTTP_200=schemas.SurveyList))
def list_surveys(event_id: int):
    surveys = db.session().scalars(select(Survey).where(Survey.event_id == event_id).order_by(Survey.id))
    return schemas.SurveyList(items=[survey_out(s) for s in surveys])


@api.post("/surveys")
@spec.validate(json=schemas.SurveyIn, resp=Response(HTTP_201=schemas.SurveyOut))
def create_survey(json: schemas.SurveyIn):
    keys = [q.key for q in json.questions]
    if len(keys) != len(set(keys)):
        raise Problem(422, "Unprocessable Content", "Question keys must be unique.",
                      errors=[{"field": "questions", "code": "duplicate_key", "message": "duplicate key"}])
    survey = Survey(event_id=json.event_id, title=json.title, anonymous=json.anonymous,
                    min_group_size=json.min_group_size,
                    questions=[Question(position=i, **q.model_dump()) for i, q in enumerate(json.questions)])
    db.session().add(survey)
    db.session().commit()
    return survey_out(survey), 201


@api.get("/surveys/<int:survey_id>")
@spec.validate(resp=Response(HTTP_200=schemas.SurveyOut, HTTP_404=None))
def read_survey(survey_id: int):
    return survey_out(get_survey(survey_id))


@api.post("/surveys/<int:survey_id>/responses")
@spec.validate(json=schemas.ResponseIn, resp=Response(HTTP_201=None, HTTP_404=None))
def submit_response(survey_id: int, json: schemas.ResponseIn):
    survey = get_survey(survey_id)
    answers, errors = [], []
    by_key = {q.key: q for q in survey.questions}
    for key in json.answers.keys() - by_key.keys():
        errors.append({"field": f"answers.{key}", "code": "unknown_question", "message": "no such question"})
    for question in survey.questions:
        value = json.answers.get(question.key)
        if value in (None, "", []):
            continue
        rows, error = _answer_rows(question, value)
        if error:
            errors.append({"field": f"answers.{question.key}", "code": "invalid", "message": error})
        answers.extend(rows)
    if errors:
        raise Problem(422, "Unprocessable Content", "Some answers are invalid.", errors=errors)
    # An anonymous survey never links answers to a person, whatever the caller sends.
    participant_id = None if survey.anonymous else json.participant_id
    db.session().add(SurveyResponse(survey_id=survey.id, participant_id=participant_id, answers=answers))
    db.session().commit()
    return {"status": "recorded"}, 201


def _answer_rows(question: Question, value) -> tuple[list[Answer], str | None]:
    kind = question.kind
    if kind is QuestionKind.single:
        if not isinstance(value, str) or value not in question.options:
            return [], "choose one of the options"
        return [Answer(question_id=question.id, choice=value)], None
    if kind is QuestionKind.multiple:
        chosen = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) and v in question.options for v in chosen):
            return [], "choose among the options"
        return [Answer(question_id=question.id, choice=v) for v in dict.fromkeys(chosen)], None
    if kind in (QuestionKind.rating, QuestionKind.nps):
        low, high = (1, 5) if kind is QuestionKind.rating else (0, 10)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return [], f"a whole number from {low} to {high}"
        return [Answer(question_id=question.id, score=value)], None
    if not isinstance(value, str) or len(value) > 5000:
        return [], "text of at most 5000 characters"
    return [Answer(question_id=question.id, text=value)], None


@api.get("/surveys/<int:survey_id>/results")
@spec.validate(resp=Response(HTTP_200=schemas.SurveyResults, HTTP_404=None))
def read_results(survey_id: int):
    return survey_results(db.session(), get_survey(survey_id))
