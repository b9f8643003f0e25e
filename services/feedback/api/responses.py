"""Answering: a participant's own response (saved as they go, submitted, edited until the survey closes),
the surveys open for a participant, and anonymous responses through a survey's link."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response

from eventops import db
from eventops.db import utcnow
from services.feedback import answering, building, schemas
from services.feedback.api import spec

bp = Blueprint("feedback_responses", __name__, url_prefix="/api/v1")


def _response_out(session, survey, response) -> schemas.ResponseOut:
    return schemas.ResponseOut(
        survey_id=survey.id,
        participant_id=response.participant_id,
        answers=answering.answers_of(session, survey, response),
        submitted=response.submitted_at is not None,
        submitted_at=response.submitted_at,
        updated_at=response.updated_at,
    )


@bp.get("/surveys/<int:survey_id>/responses/by-participant/<int:participant_id>")
@spec.validate(resp=Response(HTTP_200=schemas.ResponseOut, HTTP_404=None))
def read_own_response(survey_id: int, participant_id: int):
    session = db.session()
    survey = building.get_survey(session, survey_id)
    return _response_out(session, survey, answering.own_response(session, survey, participant_id))


@bp.put("/surveys/<int:survey_id>/responses/by-participant/<int:participant_id>")
@spec.validate(
    json=schemas.ResponseIn,
    resp=Response(HTTP_200=schemas.ResponseOut, HTTP_404=None, HTTP_409=None, HTTP_422=None),
)
def save_own_response(survey_id: int, participant_id: int, json: schemas.ResponseIn):
    session = db.session()
    survey = building.get_survey(session, survey_id)
    response = answering.save_named(session, survey, participant_id, json, utcnow())
    return _response_out(session, survey, response)


@bp.get("/participants/<int:participant_id>/surveys")
@spec.validate(query=schemas.ParticipantSurveysQuery, resp=Response(HTTP_200=schemas.ParticipantSurveys))
def participant_surveys(participant_id: int, query: schemas.ParticipantSurveysQuery):
    items = answering.participant_surveys(db.session(), query.event_id, participant_id, utcnow())
    return schemas.ParticipantSurveys(items=items)


@bp.get("/public-surveys/<token>")
@spec.validate(resp=Response(HTTP_200=schemas.PublicSurvey, HTTP_404=None))
def read_public_survey(token: str):
    survey = answering.public_survey(db.session(), token)
    return schemas.PublicSurvey(
        title=survey.title,
        status=survey.status,
        answerable=survey.is_open(utcnow()),
        opens_at=survey.opens_at,
        questions=[building.question_out(q) for q in building.ordered(survey.live_questions)],
    )


@bp.post("/public-surveys/<token>/responses")
@spec.validate(
    json=schemas.AnonymousResponseIn,
    resp=Response(HTTP_201=schemas.Recorded, HTTP_404=None, HTTP_409=None, HTTP_422=None),
)
def answer_public_survey(token: str, json: schemas.AnonymousResponseIn):
    session = db.session()
    answering.save_anonymous(session, answering.public_survey(session, token), json, utcnow())
    return schemas.Recorded(), 201
