"""Results for organisers: per-question figures under a filter, the cross-tab, and exports. Every figure
comes from the domain with small groups already withheld; nothing here decides what may be shown."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask import Response as FlaskResponse
from spectree import Response

from eventops import db
from services.feedback import building, exports, results, schemas
from services.feedback.api import spec

bp = Blueprint("feedback_results", __name__, url_prefix="/api/v1")


def _figures() -> results.Figures:
    return current_app.extensions["feedback_figures"]


@bp.get("/surveys/<int:survey_id>/results")
@spec.validate(query=schemas.ResultsQuery, resp=Response(HTTP_200=schemas.SurveyResults, HTTP_404=None))
def read_results(survey_id: int, query: schemas.ResultsQuery):
    session = db.session()
    return results.survey_results(session, building.get_survey(session, survey_id), query, _figures())


@bp.get("/surveys/<int:survey_id>/crosstab")
@spec.validate(query=schemas.CrosstabQuery, resp=Response(HTTP_200=schemas.Crosstab, HTTP_404=None))
def read_crosstab(survey_id: int, query: schemas.CrosstabQuery):
    session = db.session()
    return results.crosstab(session, building.get_survey(session, survey_id), query, _figures())


def _download(body: bytes, mimetype: str, name: str) -> FlaskResponse:
    return FlaskResponse(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _responses(survey_id: int, fmt: str):
    session = db.session()
    survey = building.get_survey(session, survey_id)
    body, mimetype = exports.write(exports.responses_table(session, survey), fmt, survey.title)
    return _download(body, mimetype, exports.filename(survey, "responses", fmt))


def _summary(survey_id: int, fmt: str, query: schemas.ResultsQuery):
    session = db.session()
    survey = building.get_survey(session, survey_id)
    table = exports.summary_table(results.survey_results(session, survey, query, _figures()))
    body, mimetype = exports.write(table, fmt, survey.title)
    return _download(body, mimetype, exports.filename(survey, "summary", fmt))


# One route per format, with no path variable for it, so that OpenAPI documents each exactly.
@bp.get("/surveys/<int:survey_id>/responses.xlsx")
@spec.validate(resp=Response(HTTP_200=None, HTTP_404=None, HTTP_409=None))
def export_responses_xlsx(survey_id: int):
    return _responses(survey_id, "xlsx")


@bp.get("/surveys/<int:survey_id>/responses.csv")
@spec.validate(resp=Response(HTTP_200=None, HTTP_404=None, HTTP_409=None))
def export_responses_csv(survey_id: int):
    return _responses(survey_id, "csv")


@bp.get("/surveys/<int:survey_id>/summary.xlsx")
@spec.validate(query=schemas.ResultsQuery, resp=Response(HTTP_200=None, HTTP_404=None))
def export_summary_xlsx(survey_id: int, query: schemas.ResultsQuery):
    return _summary(survey_id, "xlsx", query)


@bp.get("/surveys/<int:survey_id>/summary.csv")
@spec.validate(query=schemas.ResultsQuery, resp=Response(HTTP_200=None, HTTP_404=None))
def export_summary_csv(survey_id: int, query: schemas.ResultsQuery):
    return _summary(survey_id, "csv", query)
