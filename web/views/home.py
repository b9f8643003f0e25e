"""Organisers' start page and the event overview, drawn from all three services."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from web.auth import organisers, staff
from web.clients import ServiceUnavailable, client
from eventops.i18n import LANGUAGES

bp = Blueprint("home", __name__)


@bp.get("/")
@staff
def index():
    events = client("registration").get("/api/v1/events")["items"]
    return render_template("home.html", events=events)


@bp.get("/events/<int:event_id>")
@staff
def event(event_id: int):
    registration = client("registration")
    event = registration.get(f"/api/v1/events/{event_id}")
    sessions = registration.get(f"/api/v1/events/{event_id}/sessions")["items"]
    # Feedback and certificates are extras on this page: if one is down, the page still opens.
    surveys = _optional(lambda: client("feedback").get(f"/api/v1/events/{event_id}/surveys")["items"])
    certificates = _optional(
        lambda: client("certificates").get(f"/api/v1/events/{event_id}/certificates")["items"])
    return render_template("event.html", event=event, sessions=sessions, surveys=surveys,
                           certificates=certificates)


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


def _optional(fetch):
    try:
        return fetch()
    except ServiceUnavailable:
        return None
