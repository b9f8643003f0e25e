"""Calls to the feedback service's API (/api/v1), one function each; views use these, never paths."""

from __future__ import annotations

from typing import Any

import requests

from web.clients.base import ServiceError, client


def _api():
    return client("feedback")


def _json(method: str, path: str, body: Any = None) -> Any:
    response = _api().request(method, path, json=body)
    return response.json() if response.content else None


# --- surveys of an event ---------------------------------------------------------------------


def surveys(event_id: int) -> list[dict]:
    """The event's surveys: the course survey and the per-session forms, without their questions."""
    return _api().get(f"/api/v1/events/{event_id}/surveys")["items"]


def create_survey(event_id: int, fields: dict) -> dict:
    return _json("POST", f"/api/v1/events/{event_id}/surveys", fields)


def survey(survey_id: int) -> dict:
    """The survey with its questions, in order."""
    return _api().get(f"/api/v1/surveys/{survey_id}")


#: how long a process reads a survey's form from its copy: a participant's every save needs the questions,
#: and an organiser's edit reaches the pages within this time (the service checks every answer anyway)
FORM_TTL_S = 10


def survey_form(survey_id: int) -> dict:
    """The survey with its questions but without its counts, asked again after FORM_TTL_S: for the
    requests that need its questions and its event but may be a few seconds behind (saving answers,
    drawing results); the service decides whether an answer is taken. Cheap for the service to answer,
    where survey() counts every answer of the survey."""
    return _api().kept(
        ("survey-form", survey_id), FORM_TTL_S, lambda: _api().get(f"/api/v1/surveys/{survey_id}/form")
    )


def update_survey(survey_id: int, fields: dict) -> dict:
    return _json("PATCH", f"/api/v1/surveys/{survey_id}", fields)


def delete_survey(survey_id: int) -> None:
    _api().delete(f"/api/v1/surveys/{survey_id}")


def open_survey(survey_id: int) -> dict:
    return _json("POST", f"/api/v1/surveys/{survey_id}/open")


def close_survey(survey_id: int) -> dict:
    return _json("POST", f"/api/v1/surveys/{survey_id}/close")


def create_session_surveys(event_id: int, sessions: list[dict]) -> dict:
    """One short form per session of the programme; sessions that have one already are skipped."""
    return _json("POST", f"/api/v1/events/{event_id}/session-surveys", {"sessions": sessions})


# --- questions -------------------------------------------------------------------------------


def add_question(survey_id: int, fields: dict) -> dict:
    return _json("POST", f"/api/v1/surveys/{survey_id}/questions", fields)


def update_question(survey_id: int, question_id: int, fields: dict) -> dict:
    return _json("PATCH", f"/api/v1/surveys/{survey_id}/questions/{question_id}", fields)


def delete_question(survey_id: int, question_id: int) -> None:
    _api().delete(f"/api/v1/surveys/{survey_id}/questions/{question_id}")


def move_question(
    survey_id: int, question_id: int, *, direction: str | None = None, position: int | None = None
) -> dict:
    """One step "up" or "down", or to `position` (0 = first); answers the survey in its new order."""
    move = {"direction": direction} if direction else {"position": position}
    return _json("POST", f"/api/v1/surveys/{survey_id}/questions/{question_id}/move", move)


# --- definitions: reuse a survey in another event --------------------------------------------


def definition(survey_id: int) -> dict:
    """The survey as portable JSON, without this database's ids."""
    return _api().get(f"/api/v1/surveys/{survey_id}/definition")


def import_definition(event_id: int, document: Any) -> dict:
    return _json("POST", f"/api/v1/events/{event_id}/surveys/import", document)


# --- answering, named ------------------------------------------------------------------------


def participant_surveys(participant_id: int, event_id: int) -> list[dict]:
    """The surveys open for this participant, each with how far they got (answered, partial, not started)."""
    return _api().get(f"/api/v1/participants/{participant_id}/surveys", event_id=event_id)["items"]


def participant_response(survey_id: int, participant_id: int) -> dict | None:
    """Their answers so far, or None when they have not started."""
    try:
        return _api().get(f"/api/v1/surveys/{survey_id}/responses/by-participant/{participant_id}")
    except ServiceError as exc:
        if exc.status == 404:
            return None
        raise


def save_participant_response(
    survey_id: int, participant_id: int, answers: dict, *, submit: bool, respondent: dict
) -> dict:
    """Saves a partial response (submit=False) or submits it; refusals come back as per-answer errors."""
    return _json(
        "PUT",
        f"/api/v1/surveys/{survey_id}/responses/by-participant/{participant_id}",
        {"answers": answers, "submit": submit, "respondent": respondent},
    )


# --- answering, anonymous --------------------------------------------------------------------


def public_survey(public_token: str) -> dict:
    return _api().get(f"/api/v1/public-surveys/{public_token}")


def submit_public_response(public_token: str, browser_key: str, answers: dict) -> dict:
    return _json(
        "POST",
        f"/api/v1/public-surveys/{public_token}/responses",
        {"browser_key": browser_key, "answers": answers},
    )


# --- results and exports ---------------------------------------------------------------------


def results(
    survey_id: int,
    *,
    region: str | None = None,
    organisation: str | None = None,
    session_id: int | None = None,
    population: int | None = None,
    texts_limit: int | None = None,
) -> dict:
    """Every question's figures under the filters (a region, an organisation, or both), small groups
    withheld by the service; response rates against `population`; at most `texts_limit` free texts per
    question (a sample; all are in the export)."""
    params = {
        "region": region,
        "organisation": organisation,
        "session_id": session_id,
        "population": population,
        "texts_limit": texts_limit,
    }
    return _api().get(
        f"/api/v1/surveys/{survey_id}/results",
        **{key: value for key, value in params.items() if value not in (None, "")},
    )


def crosstab(survey_id: int, question_id: int, by: str = "region") -> dict:
    return _api().get(f"/api/v1/surveys/{survey_id}/crosstab", question_id=question_id, by=by)


EXPORTS = ("responses.xlsx", "responses.csv", "summary.xlsx", "summary.csv")


def export(survey_id: int, name: str, **filters) -> requests.Response:
    """One of EXPORTS as the service builds it (formula-safe; the summary withholds small groups, under
    the same filters as the results), still streaming: pass it on with web.downloads.pass_through."""
    if name not in EXPORTS:
        raise ValueError(name)
    params = {key: value for key, value in filters.items() if value not in (None, "")}
    return _api().download(f"/api/v1/surveys/{survey_id}/{name}", **params)
