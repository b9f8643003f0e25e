"""Organisers' survey pages: an event's surveys, the builder (a survey's settings and its questions, in
order), per-session forms from the programme, definitions out and in, open and close, and the results
with their charts, filters, cross-tab and exports.

Every figure on the results page comes from the feedback service with small groups already withheld;
this module only draws what it is given. Organisers only: check-in staff get 403 on every page here.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block

from web import downloads
from web.auth import organisers
from web.clients import ServiceError, ServiceUnavailable, certificates, feedback, registration
from web.forms import form_page, submitted
from web.survey_forms import (
    CHOICE_KINDS,
    PROGRESS,
    QUESTION_KINDS,
    SURVEY_KINDS,
    SURVEY_STATUSES,
    QuestionForm,
    SurveyForm,
)

bp = Blueprint("surveys", __name__)
#: a definition file is a few kilobytes; anything much larger is not one
MAX_DEFINITION_BYTES = 512 * 1024
#: question kinds the cross-tab can count
CROSSTAB_KINDS = ("single", "multiple", "rating", "nps")
#: free texts listed per question on the results page: enough to read at a glance; all are in the export
TEXTS_SHOWN = 30


# --- numbers and times in the person's language: 4,44 · 60 % · 7 окт., 10:00 ---------------------


@lru_cache(maxsize=16)
def _number_style(locale_name: str) -> tuple[str, str, str, str]:
    """(decimal sign, group sign, text before and after a percentage) of a locale, read from Babel once:
    a results page formats hundreds of numbers, and Babel parses its pattern at every call."""
    pattern = Locale.parse(locale_name).percent_formats[None].pattern  # "#,##0\xa0%", "#,##0%"
    before, _number, after = re.match(r"^([^#0]*)([#,0.]+)(.*)$", pattern).groups()
    return get_decimal_symbol(locale_name), get_group_symbol(locale_name), before, after


def _digits(value: float, digits: int) -> str:
    decimal_sign, group_sign, _before, _after = _number_style(str(get_locale()))
    # Half up, as people round (12,5 → 13), not to even as Python and Babel do.
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    text = f"{rounded:,.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\x00").replace(".", decimal_sign).replace("\x00", group_sign)


@bp.app_template_filter("decimal")
def decimal_filter(value, digits: int = 2) -> str:
    """A number as the locale writes it, with at most `digits` decimals: «4,44», «1 234»."""
    return "—" if value is None else _digits(value, digits)


@bp.app_template_filter("percent")
def percent_filter(value, digits: int = 0) -> str:
    """A share given as 0–100 (as the service sends it) in the locale's percent format: «60 %», «60%»."""
    if value is None:
        return "—"
    _decimal, _group, before, after = _number_style(str(get_locale()))
    return f"{before}{_digits(value, digits)}{after}"


@bp.app_template_filter("moment")
def moment_filter(value) -> str:
    """A moment the service sends (UTC, ISO) in the venue's time: «7 окт., 10:00»."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return format_datetime(moment, "d MMM, HH:mm")


@bp.app_context_processor
def survey_labels() -> dict:
    return {
        "question_kinds": QUESTION_KINDS,
        "survey_statuses": SURVEY_STATUSES,
        "survey_kinds": SURVEY_KINDS,
        "progress_labels": PROGRESS,
    }


# --- an event's surveys --------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/surveys")
@organisers
def index(event_id: int):
    event = registration.event(event_id)
    items = feedback.surveys(event_id)
    return render_template(
        "surveys/index.html",
        event=event,
        course=[s for s in items if s["kind"] == "course"],
        per_session=[s for s in items if s["kind"] == "session"],
        programme_size=len(registration.programme(event_id)),
        form=SurveyForm(formdata=None),
    )


@bp.route("/events/<int:event_id>/surveys/new", methods=["GET", "POST"])
@organisers
def new(event_id: int):
    event = registration.event(event_id)
    form = SurveyForm()
    if form.validate_on_submit():
        survey = submitted(form, feedback.create_survey, event_id)
        if survey is not None:
            flash(_("The survey has been created. Add its questions."))
            return redirect(url_for("surveys.builder", survey_id=survey["id"]), 303)
    return form_page("surveys/new.html", form, event=event)


@bp.post("/events/<int:event_id>/surveys/sessions")
@organisers
def create_session_forms(event_id: int):
    """One short form per session of the programme, each opening when its session starts."""
    sessions = [
        {"session_id": s["id"], "title": s["title"], "starts_at": f"{s['day']}T{s['starts_at']}"}
        for s in registration.programme(event_id)
    ]
    if not sessions:
        flash(_("The programme has no sessions yet: add them on the event page first."))
        return redirect(url_for("surveys.index", event_id=event_id), 303)
    done = feedback.create_session_surveys(event_id, sessions)
    created, skipped = len(done["created"]), len(done["skipped"])
    if created:
        flash(
            _("Feedback forms created: %(created)d.", created=created)
            + (" " + _("Sessions that already had one: %(skipped)d.", skipped=skipped) if skipped else "")
        )
    else:
        flash(_("Every session of the programme already has its feedback form."))
    return redirect(url_for("surveys.index", event_id=event_id, _anchor="sessions"), 303)


@bp.post("/events/<int:event_id>/surveys/import")
@organisers
def import_definition(event_id: int):
    """A definition file exported from another event becomes a new draft survey here."""
    upload = request.files.get("definition")
    data = upload.read(MAX_DEFINITION_BYTES + 1) if upload else b""
    document = None
    if data and len(data) <= MAX_DEFINITION_BYTES:
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            document = None
    if not isinstance(document, dict):
        flash(_("This file is not a survey definition: choose a file exported from a survey's page."))
        return redirect(url_for("surveys.index", event_id=event_id), 303)
    try:
        survey = feedback.import_definition(event_id, document)
    except ServiceError as exc:
        if exc.status not in (400, 409, 422):
            raise
        flash(
            _(
                "The survey could not be imported: %(reason)s",
                reason=exc.problem.get("detail") or exc.problem.get("title"),
            )
        )
        return redirect(url_for("surveys.index", event_id=event_id), 303)
    flash(_("The survey has been imported as a draft. Check its questions, then open it."))
    return redirect(url_for("surveys.builder", survey_id=survey["id"]), 303)


# --- the builder ---------------------------------------------------------------------------------


def _builder_page(
    survey: dict,
    *,
    settings: SurveyForm | None = None,
    question_form: QuestionForm | None = None,
    status: int = 200,
):
    event = registration.event(survey["event_id"])
    settings = settings or SurveyForm(formdata=None).fill(survey)
    question_form = question_form or QuestionForm(formdata=None)
    public_link = (
        url_for("survey_answers.anonymous", public_token=survey["public_token"], _external=True)
        if survey["anonymous"] and survey.get("public_token")
        else None
    )
    context = dict(
        survey=survey,
        event=event,
        settings=settings,
        question_form=question_form,
        public_link=public_link,
        choice_kinds=CHOICE_KINDS,
    )
    return render_template("surveys/builder.html", **context), status


@bp.get("/surveys/<int:survey_id>")
@organisers
def builder(survey_id: int):
    return _builder_page(feedback.survey(survey_id))


@bp.post("/surveys/<int:survey_id>/settings")
@organisers
def save_settings(survey_id: int):
    survey = feedback.survey(survey_id)
    form = SurveyForm()
    if form.validate_on_submit() and submitted(form, feedback.update_survey, survey_id) is not None:
        flash(_("The survey has been saved."))
        return redirect(url_for("surveys.builder", survey_id=survey_id), 303)
    return _builder_page(survey, settings=form, status=422)


@bp.post("/surveys/<int:survey_id>/open")
@organisers
def open_survey(survey_id: int):
    _state_change(feedback.open_survey, survey_id, _("The survey is open: participants can answer it."))
    return redirect(url_for("surveys.builder", survey_id=survey_id), 303)


@bp.post("/surveys/<int:survey_id>/close")
@organisers
def close_survey(survey_id: int):
    _state_change(feedback.close_survey, survey_id, _("The survey is closed: its answers are final."))
    return redirect(url_for("surveys.builder", survey_id=survey_id), 303)


@bp.post("/surveys/<int:survey_id>/delete")
@organisers
def delete(survey_id: int):
    survey = feedback.survey(survey_id)
    if _state_change(feedback.delete_survey, survey_id, _("The survey has been deleted.")):
        return redirect(url_for("surveys.index", event_id=survey["event_id"]), 303)
    return redirect(url_for("surveys.builder", survey_id=survey_id), 303)


def _state_change(action, survey_id: int, done: str) -> bool:
    """Opens, closes or deletes; a refusal (no questions yet, responses exist) is said on the next page."""
    try:
        action(survey_id)
    except ServiceError as exc:
        if exc.status not in (409, 422):
            raise
        flash(exc.problem.get("detail") or exc.problem.get("title"))
        return False
    flash(done)
    return True


@bp.get("/surveys/<int:survey_id>/definition.json")
@organisers
def export_definition(survey_id: int):
    document = feedback.definition(survey_id)
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="survey-{survey_id}.json"',
            "Cache-Control": "private, no-store",
        },
    )


# --- questions -----------------------------------------------------------------------------------


@bp.post("/surveys/<int:survey_id>/questions")
@organisers
def add_question(survey_id: int):
    form = QuestionForm().read_options(request.form)
    if form.validate_on_submit():
        try:
            question = feedback.add_question(survey_id, form.payload())
        except ServiceError as exc:
            if exc.status not in (400, 409, 422):
                raise
            form.show_refusal(exc)
        else:
            flash(_("The question has been added."))
            return redirect(
                url_for("surveys.builder", survey_id=survey_id, _anchor=f"q-{question['id']}"), 303
            )
    return _builder_page(feedback.survey(survey_id), question_form=form, status=422)


@bp.route("/surveys/<int:survey_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@organisers
def edit_question(survey_id: int, question_id: int):
    survey = feedback.survey(survey_id)
    question = next((q for q in survey["questions"] if q["id"] == question_id), None)
    if question is None:
        abort(404)
    if request.method == "GET":
        form = QuestionForm(formdata=None).fill(question)
    else:
        form = QuestionForm().read_options(request.form)
        if form.validate_on_submit():
            try:
                feedback.update_question(survey_id, question_id, form.payload())
            except ServiceError as exc:
                if exc.status not in (400, 409, 422):
                    raise
                form.show_refusal(exc)
            else:
                flash(_("The question has been saved."))
                return redirect(
                    url_for("surveys.builder", survey_id=survey_id, _anchor=f"q-{question_id}"), 303
                )
    status = 422 if request.method == "POST" else 200
    event = registration.event(survey["event_id"])
    return render_template(
        "surveys/question.html",
        survey=survey,
        event=event,
        question=question,
        form=form,
        choice_kinds=CHOICE_KINDS,
    ), status


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/move")
@organisers
def move_question(survey_id: int, question_id: int):
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    survey = feedback.move_question(survey_id, question_id, direction=direction)
    return _questions_changed(survey, question_id)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/delete")
@organisers
def delete_question(survey_id: int, question_id: int):
    feedback.delete_question(survey_id, question_id)
    if not request.htmx:
        flash(_("The question has been deleted."))
    return _questions_changed(feedback.survey(survey_id), None)


def _questions_changed(survey: dict, question_id: int | None):
    """htmx gets the redrawn list of questions; a plain form goes back to the builder."""
    if request.htmx:
        return render_block(
            "surveys/builder.html", "questions", survey=survey, moved=question_id, choice_kinds=CHOICE_KINDS
        )
    anchor = f"q-{question_id}" if question_id else "questions"
    return redirect(url_for("surveys.builder", survey_id=survey["id"], _anchor=anchor), 303)


# --- results -------------------------------------------------------------------------------------


def _population(survey: dict) -> int | None:
    """Participants who could answer: those checked in (for a session's form: in that session, or on its
    day when the room did not scan anyone). None when the certificates service cannot say."""
    try:
        return certificates.checked_in_count(survey["event_id"], survey.get("session_id"))
    except ServiceUnavailable:
        return None


def _filters() -> dict:
    region = (request.args.get("region") or "").strip()[:8] or None
    organisation = (request.args.get("organisation") or "").strip()[:500] or None
    return {"region": region, "organisation": organisation}


@bp.get("/surveys/<int:survey_id>/results")
@organisers
def results(survey_id: int):
    # Its questions and event, a few seconds old at most; every figure comes fresh from the results.
    survey = feedback.survey_form(survey_id)
    filters = _filters()
    session_id = request.args.get("session_id", type=int)
    population = _population(survey)
    try:
        found = feedback.results(survey_id, **filters, population=population, texts_limit=TEXTS_SHOWN)
    except ServiceError as exc:
        if exc.status not in (400, 422):
            raise
        # A value the service refuses: the whole survey, with the reason.
        flash(exc.problem.get("detail") or exc.problem.get("title"))
        found, filters = (
            feedback.results(survey_id, population=population, texts_limit=TEXTS_SHOWN),
            {"region": None, "organisation": None},
        )
    # The session filter leads to that session's own form: its results are that survey's results.
    session_form = next((s for s in found["choices"]["sessions"] if s["session_id"] == session_id), None)
    if session_form is not None and session_form["survey_id"] != survey_id:
        return redirect(url_for("surveys.results", survey_id=session_form["survey_id"], **_set(filters)), 303)

    countable = [q for q in survey["questions"] if q["kind"] in CROSSTAB_KINDS]
    crosstab_question = request.args.get("question_id", type=int) or (
        countable[0]["id"] if countable else None
    )
    by = "organisation" if request.args.get("by") == "organisation" else "region"
    table = None
    if crosstab_question and any(q["id"] == crosstab_question for q in countable):
        table = feedback.crosstab(survey_id, crosstab_question, by)
    return render_template(
        "surveys/results.html",
        survey=survey,
        event=registration.event(survey["event_id"], fresh=False),  # only its title, printed
        results=found,
        filters=filters,
        set_filters=_set(filters),
        region_names=registration.region_names(),
        countable=countable,
        crosstab=table,
        crosstab_question=crosstab_question,
        by=by,
        population=population,
    )


def _set(values: dict) -> dict:
    return {key: value for key, value in values.items() if value}


@bp.get("/surveys/<int:survey_id>/<any(responses, summary):table>.<any(xlsx, csv):file_format>")
@organisers
def export(survey_id: int, table: str, file_format: str):
    """The responses (every answer; anonymous surveys without any identifying column) or the summary
    (the results' figures under the same filter, small groups withheld), built by the service."""
    filters = _filters() if table == "summary" else {}
    upstream = feedback.export(survey_id, f"{table}.{file_format}", **filters)
    return downloads.pass_through(upstream, f"survey-{survey_id}-{table}.{file_format}")
