"""Building surveys: the course survey and per-session forms, questions in order, open and close,
definitions out and in."""

from __future__ import annotations

from flask import Blueprint, g
from spectree import Response

from eventops import db
from services.feedback import building, schemas
from services.feedback.api import spec

bp = Blueprint("feedback_surveys", __name__, url_prefix="/api/v1")


@bp.get("/events/<int:event_id>/surveys")
@spec.validate(resp=Response(HTTP_200=schemas.SurveyList))
def list_surveys(event_id: int):
    session = db.session()
    return schemas.SurveyList(items=building.summaries(session, building.list_surveys(session, event_id)))


@bp.post("/events/<int:event_id>/surveys")
@spec.validate(json=schemas.SurveyIn, resp=Response(HTTP_201=schemas.SurveyOut))
def create_survey(event_id: int, json: schemas.SurveyIn):
    session = db.session()
    survey = building.create_survey(session, event_id, json, g.get("staff_user"))
    return building.survey_out(session, survey), 201


@bp.post("/events/<int:event_id>/surveys/import")
@spec.validate(json=schemas.SurveyDefinition, resp=Response(HTTP_201=schemas.SurveyOut))
def import_survey(event_id: int, json: schemas.SurveyDefinition):
    session = db.session()
    survey = building.import_definition(session, event_id, json, g.get("staff_user"))
    return building.survey_out(session, survey), 201


@bp.post("/events/<int:event_id>/session-surveys")
@spec.validate(json=schemas.SessionSurveysIn, resp=Response(HTTP_200=schemas.SessionSurveysOut))
def create_session_surveys(event_id: int, json: schemas.SessionSurveysIn):
    session = db.session()
    created, skipped = building.create_session_surveys(session, event_id, json.sessions, g.get("staff_user"))
    return schemas.SessionSurveysOut(created=building.summaries(session, created), skipped=skipped)


@bp.get("/surveys/<int:survey_id>")
@spec.validate(resp=Response(HTTP_200=schemas.SurveyOut, HTTP_404=None))
def read_survey(survey_id: int):
    session = db.session()
    return building.survey_out(session, building.get_survey(session, survey_id))


@bp.get("/surveys/<int:survey_id>/form")
@spec.validate(resp=Response(HTTP_200=schemas.SurveyForm, HTTP_404=None))
def read_survey_form(survey_id: int):
    """The survey without its counts: for pages that refresh it often (every participant's save)."""
    return building.survey_form_out(building.get_survey(db.session(), survey_id))


@bp.patch("/surveys/<int:survey_id>")
@spec.validate(
    json=schemas.SurveyPatch, resp=Response(HTTP_200=schemas.SurveyOut, HTTP_404=None, HTTP_409=None)
)
def update_survey(survey_id: int, json: schemas.SurveyPatch):
    session = db.session()
    survey = building.update_survey(session, building.get_survey(session, survey_id), json)
    return building.survey_out(session, survey)


@bp.delete("/surveys/<int:survey_id>")
@spec.validate(resp=Response(HTTP_204=None, HTTP_404=None, HTTP_409=None))
def delete_survey(survey_id: int):
    session = db.session()
    building.delete_survey(session, building.get_survey(session, survey_id))
    return "", 204


@bp.post("/surveys/<int:survey_id>/open")
@spec.validate(resp=Response(HTTP_200=schemas.SurveyOut, HTTP_404=None, HTTP_409=None))
def open_survey(survey_id: int):
    session = db.session()
    survey = building.open_survey(session, building.get_survey(session, survey_id))
    return building.survey_out(session, survey)


@bp.post("/surveys/<int:survey_id>/close")
@spec.validate(resp=Response(HTTP_200=schemas.SurveyOut, HTTP_404=None, HTTP_409=None))
def close_survey(survey_id: int):
    session = db.session()
    survey = building.close_survey(session, building.get_survey(session, survey_id))
    return building.survey_out(session, survey)


@bp.get("/surveys/<int:survey_id>/definition")
@spec.validate(resp=Response(HTTP_200=schemas.SurveyDefinition, HTTP_404=None))
def read_definition(survey_id: int):
    return building.definition(building.get_survey(db.session(), survey_id))


@bp.post("/surveys/<int:survey_id>/questions")
@spec.validate(json=schemas.QuestionIn, resp=Response(HTTP_201=schemas.QuestionOut, HTTP_404=None))
def add_question(survey_id: int, json: schemas.QuestionIn):
    session = db.session()
    question = building.add_question(session, building.get_survey(session, survey_id), json)
    return building.question_out(question), 201


@bp.patch("/surveys/<int:survey_id>/questions/<int:question_id>")
@spec.validate(
    json=schemas.QuestionPatch, resp=Response(HTTP_200=schemas.QuestionOut, HTTP_404=None, HTTP_409=None)
)
def update_question(survey_id: int, question_id: int, json: schemas.QuestionPatch):
    session = db.session()
    survey = building.get_survey(session, survey_id)
    question = building.update_question(session, survey, building.get_question(survey, question_id), json)
    return building.question_out(question, building.answer_counts(session, [question.id]).get(question.id, 0))


@bp.delete("/surveys/<int:survey_id>/questions/<int:question_id>")
@spec.validate(resp=Response(HTTP_204=None, HTTP_404=None))
def remove_question(survey_id: int, question_id: int):
    session = db.session()
    survey = building.get_survey(session, survey_id)
    building.remove_question(session, survey, building.get_question(survey, question_id))
    return "", 204


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/move")
@spec.validate(json=schemas.MoveIn, resp=Response(HTTP_200=schemas.SurveyOut, HTTP_404=None))
def move_question(survey_id: int, question_id: int, json: schemas.MoveIn):
    session = db.session()
    survey = building.get_survey(session, survey_id)
    building.move_question(session, survey, building.get_question(survey, question_id), json)
    return building.survey_out(session, survey)
