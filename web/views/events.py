"""The event page and the organisers' pages for an event and its programme: create, edit, open registration,
add, edit and delete sessions."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from web.auth import organisers, staff
from web.clients import ServiceUnavailable, certificates, feedback, registration
from web.forms import EventForm, SessionForm, form_page, submitted

bp = Blueprint("events", __name__)


@bp.app_template_global()
def session_form_for(event: dict) -> SessionForm:
    """The empty 'add a session' form shown under the programme on the event page."""
    return SessionForm(formdata=None).for_event(event)


@bp.get("/events/<int:event_id>")
@staff
def show(event_id: int):
    event = registration.event(event_id)
    sessions = registration.programme(event_id)
    # Feedback and certificates are extras on this page: if one is down, the page still opens.
    surveys = _optional(lambda: feedback.surveys(event_id))
    issued = _optional(lambda: certificates.event_certificates(event_id))
    return render_template("event.html", event=event, sessions=sessions, surveys=surveys, certificates=issued)


def _optional(fetch):
    try:
        return fetch()
    except ServiceUnavailable:
        return None


# --- the event -----------------------------------------------------------------------------------


@bp.route("/events/new", methods=["GET", "POST"])
@organisers
def new():
    form = EventForm()
    if form.validate_on_submit():
        event = submitted(form, registration.create_event)
        if event is not None:
            flash(_("The event has been created."))
            return redirect(url_for("events.show", event_id=event["id"]), 303)
    return form_page("registration/event_form.html", form, event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@organisers
def edit(event_id: int):
    event = registration.event(event_id)
    form = EventForm(data=_event_data(event)) if request.method == "GET" else EventForm()
    if form.validate_on_submit() and submitted(form, registration.update_event, event_id) is not None:
        flash(_("The event has been saved."))
        return redirect(url_for("events.show", event_id=event_id), 303)
    return form_page("registration/event_form.html", form, event=event)


@bp.post("/events/<int:event_id>/registration-open")
@organisers
def registration_open(event_id: int):
    is_open = request.form.get("open") == "1"
    registration.update_event(event_id, {"registration_open": is_open})
    flash(_("Registration is open.") if is_open else _("Registration is closed."))
    return redirect(url_for("events.show", event_id=event_id), 303)


def _event_data(event: dict) -> dict:
    return {
        **event,
        "starts_on": date.fromisoformat(event["starts_on"]),
        "ends_on": date.fromisoformat(event["ends_on"]),
    }


# --- its programme -------------------------------------------------------------------------------


@bp.post("/events/<int:event_id>/sessions")
@organisers
def add_session(event_id: int):
    event = registration.event(event_id)
    form = SessionForm().for_event(event)
    if form.validate_on_submit() and submitted(form, registration.create_session, event_id) is not None:
        flash(_("The session has been added to the programme."))
        return redirect(url_for("events.show", event_id=event_id, _anchor="programme"), 303)
    return form_page("registration/session_form.html", form, event=event, programme_session=None)


@bp.route("/events/<int:event_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@organisers
def edit_session(event_id: int, session_id: int):
    event = registration.event(event_id)
    programme_session = next((s for s in registration.programme(event_id) if s["id"] == session_id), None)
    if programme_session is None:
        abort(404)
    form = SessionForm().for_event(event)
    if request.method == "GET":
        form.fill(programme_session)
    elif form.validate_on_submit() and submitted(form, registration.update_session, event_id, session_id):
        flash(_("The session has been saved."))
        return redirect(url_for("events.show", event_id=event_id, _anchor="programme"), 303)
    return form_page("registration/session_form.html", form, event=event, programme_session=programme_session)


@bp.post("/events/<int:event_id>/sessions/<int:session_id>/delete")
@organisers
def delete_session(event_id: int, session_id: int):
    registration.delete_session(event_id, session_id)
    flash(_("The session has been deleted."))
    return redirect(url_for("events.show", event_id=event_id, _anchor="programme"), 303)
