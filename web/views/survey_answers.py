"""Answering surveys, no login: a participant on their phone through their personal link (the surveys open
for them, one response each, saved as they go and editable until the survey closes), and anyone through
an anonymous survey's link.

The personal token decides whose answers are read and written: the participant comes from registration by
that token, never from the page, so another token or another survey id shows nothing of anyone else.
The anonymous flow carries no personal token and sends the feedback service nothing about the person:
no participant, no staff name, no device, only a random browser key kept in an HttpOnly cookie so that
each browser answers once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_time
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block

from web.clients import ServiceError, feedback, registration
from web.limits import limiter
from web.survey_forms import answer_errors, answers_from_form, shown_answers

bp = Blueprint("survey_answers", __name__)
#: the browser key's cookie: only the anonymous pages see it
BROWSER_KEY_COOKIE = "survey_key"
BROWSER_KEY_MAX_AGE_S = 365 * 24 * 3600
#: a whole venue shares one Wi-Fi address, and every change of an answer is a save: generous per address
PER_ADDRESS = "3000 per minute"
#: one person's phone (by their personal link): a save at every change, never hundreds a minute
PER_LINK = "120 per minute"
#: anonymous responses from one address: a room answering at the end of a session, not a script
ANONYMOUS_SUBMITS = "600 per minute"


def _personal_link() -> str:
    return "survey-link:" + str((request.view_args or {}).get("token", ""))


per_address = limiter.limit(PER_ADDRESS)
per_link = limiter.limit(PER_LINK, key_func=_personal_link)


# --- the participant, by their personal token ----------------------------------------------------


def _participant(token: str, *, fresh: bool = True) -> tuple[dict, dict]:
    """(participant, event) of a personal token; 404 for a token nobody has. `fresh=False` (the saves
    of an open form: one at every change) may read a copy a minute old, see registration.TOKEN_TTL_S."""
    if len(token) > 128:
        abort(404)
    found = registration.participant_by_token(token, fresh=fresh)
    if found is None:
        abort(404)
    return found["participant"], found["event"]


def _own_survey(participant: dict, survey_id: int, *, fresh: bool = True) -> dict:
    """The survey if it belongs to the participant's event and has been opened; 404 otherwise (a draft, or
    another event's survey, is the same 'not found' as a survey that does not exist). `fresh=False` may
    answer a copy a few seconds old: enough to read a save (the service decides whether it is taken);
    a copy that would refuse is checked against a fresh one first."""
    try:
        survey = feedback.survey(survey_id) if fresh else feedback.survey_form(survey_id)
        if not fresh and not _belongs(survey, participant):
            survey = feedback.survey(survey_id)
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        raise
    if not _belongs(survey, participant):
        abort(404)
    return survey


def _belongs(survey: dict, participant: dict) -> bool:
    return survey["event_id"] == participant["event_id"] and survey["status"] != "draft"


def _live_questions(survey: dict) -> list[dict]:
    return survey["questions"]


def _respondent(participant: dict) -> dict:
    # A snapshot for the results' filters: the region and organisation as registration has them today.
    return {
        "region_code": participant.get("region_code") or None,
        "organisation": (participant.get("organisation") or "").strip() or None,
    }


@bp.get("/p/<token>/surveys")
@per_address
@per_link
def index(token: str):
    participant, event = _participant(token)
    items = feedback.participant_surveys(participant["id"], event["id"])
    return render_template(
        "surveys/answer_list.html", participant=participant, event=event, items=items, token=token
    )


@bp.get("/p/<token>/surveys/<int:survey_id>")
@per_address
@per_link
def answer(token: str, survey_id: int):
    participant, event = _participant(token)
    # The surveys open for them now, from the service: whether this one takes answers, fresh. Its
    # questions may then come from a copy a few seconds old (a whole room opens the form at once).
    listed = next(
        (s for s in feedback.participant_surveys(participant["id"], event["id"]) if s["id"] == survey_id),
        None,
    )
    survey = feedback.survey_form(survey_id) if listed else _own_survey(participant, survey_id)
    if survey["anonymous"]:
        # Its answers must not pass through a personal link: the survey's own link has no token in it.
        return redirect(url_for("survey_answers.anonymous", public_token=survey["public_token"]), 303)
    saved = feedback.participant_response(survey_id, participant["id"])
    answers = saved["answers"] if saved else {}
    if not listed:  # closed, or not open yet
        return _not_answerable(survey, event, token=token, answers=answers)
    return _named_form(survey, event, token, answers, submitted=bool(saved and saved["submitted"]))


@bp.post("/p/<token>/surveys/<int:survey_id>")
@per_address
@per_link
def save(token: str, survey_id: int):
    """A partial save (htmx on every change, or «Save and finish later») or the submit."""
    participant, event = _participant(token, fresh=False)
    survey = _own_survey(participant, survey_id, fresh=False)
    if survey["anonymous"]:
        abort(404)
    questions = _live_questions(survey)
    answers = answers_from_form(questions, request.form)
    submit = request.form.get("action") == "submit"
    try:
        saved = feedback.save_participant_response(
            survey_id, participant["id"], answers, submit=submit, respondent=_respondent(participant)
        )
    except ServiceError as exc:
        if exc.status == 409:  # closed (or not yet open) since the page was opened
            if request.htmx:
                return _save_state(questions, message=exc.problem.get("detail"), failed=True)
            # What is saved stays as it was: show that, not what was just sent.
            saved = feedback.participant_response(survey_id, participant["id"])
            return _not_answerable(
                feedback.survey(survey_id),
                event,
                token=token,
                answers=saved["answers"] if saved else {},
                status=409,
            )
        if exc.status not in (400, 422):
            raise
        errors, unplaced = answer_errors(exc)
        if request.htmx:
            return _save_state(questions, errors=errors, message=exc.problem.get("detail"), failed=True)
        return _named_form(
            survey,
            event,
            token,
            answers,
            errors=errors,
            messages=[exc.problem.get("detail"), *unplaced],
            status=422,
        )
    if request.htmx:
        return _save_state(
            questions, message=_("Saved at %(time)s", time=format_time(datetime.now(UTC), "HH:mm"))
        )
    if submit:
        flash(_("Thank you! Your answers have been sent. You can change them until the survey closes."))
        return redirect(url_for("survey_answers.index", token=token), 303)
    flash(
        _("Your answers are saved: you can finish later.")
        if not saved["submitted"]
        else _("Your changes are saved.")
    )
    return redirect(url_for("survey_answers.answer", token=token, survey_id=survey_id), 303)


def _named_form(survey, event, token, answers, *, submitted=False, errors=None, messages=(), status=200):
    questions = _live_questions(survey)
    return render_template(
        "surveys/answer_form.html",
        survey=survey,
        event=event,
        questions=questions,
        shown=shown_answers(questions, answers),
        errors=errors or {},
        messages=[m for m in messages if m],
        submitted=submitted,
        action=url_for("survey_answers.save", token=token, survey_id=survey["id"]),
        back=url_for("survey_answers.index", token=token),
        autosave=True,
    ), status


def _save_state(questions, *, errors=None, message=None, failed=False):
    """What an htmx save answers: the status line, and every question's error (cleared or set) out of band."""
    return render_block(
        "surveys/answer_form.html",
        "save_state",
        questions=questions,
        errors=errors or {},
        message=message,
        failed=failed,
        oob=True,
    )


def _not_answerable(survey, event, *, token=None, answers=None, status=200):
    """A closed survey says so politely (with what the participant answered); one not open yet says when."""
    questions = _live_questions(survey) if answers else []
    return render_template(
        "surveys/not_open.html",
        title=survey["title"],
        status_value=survey["status"],
        opens_at=survey.get("opens_at"),
        event=event,
        questions=questions,
        shown=shown_answers(questions, answers or {}),
        back=url_for("survey_answers.index", token=token) if token else None,
    ), status


# --- anonymous, through a survey's link ----------------------------------------------------------


@contextmanager
def _as_nobody() -> Iterator[None]:
    """Calls made inside carry no staff name and no device, even when a logged-in organiser tries the link."""
    kept = g.pop("staff", None), g.pop("device", None)
    try:
        yield
    finally:
        g.staff, g.device = kept


def _public_survey(public_token: str) -> dict:
    if len(public_token) > 128:
        abort(404)
    try:
        with _as_nobody():
            return feedback.public_survey(public_token)
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        raise


@bp.get("/s/<public_token>")
@per_address
def anonymous(public_token: str):
    survey = _public_survey(public_token)
    if not survey["answerable"]:
        return _anonymous_not_open(survey)
    return _anonymous_form(survey, public_token, {})


@bp.post("/s/<public_token>")
@per_address
@limiter.limit(ANONYMOUS_SUBMITS)
def anonymous_submit(public_token: str):
    survey = _public_survey(public_token)
    key = request.cookies.get(BROWSER_KEY_COOKIE) or ""
    if not 32 <= len(key) <= 200:
        key = secrets.token_urlsafe(32)
    answers = answers_from_form(survey["questions"], request.form)
    try:
        with _as_nobody():
            feedback.submit_public_response(public_token, key, answers)
    except ServiceError as exc:
        if exc.status == 409:
            page = render_template(
                "surveys/anonymous_done.html", survey=survey, message=exc.problem.get("detail")
            )
            return _with_key(current_app.make_response((page, 409)), key)
        if exc.status not in (400, 422):
            raise
        errors, unplaced = answer_errors(exc)
        page, status = _anonymous_form(
            survey,
            public_token,
            answers,
            errors=errors,
            messages=[exc.problem.get("detail"), *unplaced],
            status=422,
        )
        return _with_key(current_app.make_response((page, status)), key)
    response = redirect(url_for("survey_answers.anonymous_done", public_token=public_token), 303)
    return _with_key(response, key)


@bp.get("/s/<public_token>/done")
@per_address
def anonymous_done(public_token: str):
    survey = _public_survey(public_token)
    return render_template("surveys/anonymous_done.html", survey=survey, message=None)


def _anonymous_form(survey, public_token, answers, *, errors=None, messages=(), status=200):
    questions = survey["questions"]
    return render_template(
        "surveys/answer_form.html",
        survey=survey,
        event=None,
        questions=questions,
        shown=shown_answers(questions, answers),
        errors=errors or {},
        messages=[m for m in messages if m],
        submitted=False,
        action=url_for("survey_answers.anonymous_submit", public_token=public_token),
        back=None,
        autosave=False,
    ), status


def _anonymous_not_open(survey):
    return render_template(
        "surveys/not_open.html",
        title=survey["title"],
        status_value=survey["status"],
        opens_at=survey.get("opens_at"),
        event=None,
        questions=[],
        shown={},
        back=None,
    )


def _with_key(response, key: str):
    """The browser's key, kept where only these pages read it and no script can."""
    response.set_cookie(
        BROWSER_KEY_COOKIE,
        key,
        max_age=BROWSER_KEY_MAX_AGE_S,
        path="/s/",
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


@bp.after_request
def keep_links_private(response):
    """Personal and anonymous links must not leak to other sites (Referer) nor stay in shared caches."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
