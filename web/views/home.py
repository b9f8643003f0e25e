"""The start page (the events), the language switch; and the survey results, until they move to their own
module."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from eventops.i18n import LANGUAGES
from web.auth import organisers, staff
from web.clients import client, registration

bp = Blueprint("home", __name__)


@bp.get("/")
@staff
def index():
    return render_template("home.html", events=registration.events())


@bp.get("/surveys/<int:survey_id>/results")
@organisers
def survey_results(survey_id: int):
    results = client("feedback").get(f"/api/v1/surveys/{survey_id}/results")
    return render_template("survey_results.html", results=results)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    target = request.referrer or url_for("home.index")
    if not target.startswith(request.host_url):
        target = url_for("home.index")
    return redirect(target, 303)
