"""Organisers' pages for registration: events, their programme, participants, export and badges."""
from __future__ import annotations

from datetime import date

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block

from services.registration.regions import all_regions  # reference data, not business data
from web.auth import organisers, safe_next
from web.clients import ServiceError, client
from web.forms import STATUS_LABELS, EventForm, ParticipantForm, SessionForm, show_service_errors

bp = Blueprint("registration", __name__)
#: rows the organisers' list shows at once; active search re-renders them at every keystroke
SEARCH_LIMIT = 50


def registration():
    return client("registration")


def row_labels() -> dict[str, str]:
    """Texts of every participant row, translated once per list rather than once per row."""
    return {"select": _("Select"), "cancel": _("Cancel registration"), "restore": _("Restore"),
            # formatted per row in the template, with the participant's name
            "confirm_cancel": _("Cancel the registration of %(name)s?")}


@bp.app_template_global()
def session_form_for(event: dict) -> SessionForm:
    """The empty 'add a session' form shown under the programme on the event page."""
    return SessionForm(formdata=None).for_event(event)


def _submit(form, method: str, path: str) -> dict | None:
    """Sends a valid form to the service; on a refusal, puts its errors next to the fields."""
    try:
        response = registration().request(method, path, json=form.payload())
    except ServiceError as exc:
        if exc.status not in (400, 409, 422):
            raise
        form.form_errors = show_service_errors(form, exc.problem)
        return None
    return response.json() if response.content else {}


# --- events ---------------------------------------------------------------------------------

@bp.route("/events/new", methods=["GET", "POST"])
@organisers
def new_event():
    form = EventForm()
    if form.validate_on_submit():
        event = _submit(form, "POST", "/api/v1/events")
        if event is not None:
            flash(_("The event has been created."))
            return redirect(url_for("home.event", event_id=event["id"]), 303)
    return _form_page("registration/event_form.html", form, event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@organisers
def edit_event(event_id: int):
    event = registration().get(f"/api/v1/events/{event_id}")
    form = EventForm(data=_event_data(event)) if request.method == "GET" else EventForm()
    if form.validate_on_submit():
        if _submit(form, "PATCH", f"/api/v1/events/{event_id}") is not None:
            flash(_("The event has been saved."))
            return redirect(url_for("home.event", event_id=event_id), 303)
    return _form_page("registration/event_form.html", form, event=event)


@bp.post("/events/<int:event_id>/registration-open")
@organisers
def toggle_registration(event_id: int):
    is_open = request.form.get("open") == "1"
    registration().request("PATCH", f"/api/v1/events/{event_id}", json={"registration_open": is_open})
    flash(_("Registration is open.") if is_open else _("Registration is closed."))
    return redirect(url_for("home.event", event_id=event_id), 303)


def _event_data(event: dict) -> dict:
    return {**event, "starts_on": date.fromisoformat(event["starts_on"]),
            "ends_on": date.fromisoformat(event["ends_on"])}


# --- programme ------------------------------------------------------------------------------

@bp.post("/events/<int:event_id>/sessions")
@organisers
def add_session(event_id: int):
    event = registration().get(f"/api/v1/events/{event_id}")
    form = SessionForm().for_event(event)
    if form.validate_on_submit() and _submit(form, "POST", f"/api/v1/events/{event_id}/sessions") is not None:
        flash(_("The session has been added to the programme."))
        return redirect(url_for("home.event", event_id=event_id, _anchor="programme"), 303)
    return _form_page("registration/session_form.html", form, event=event, programme_session=None)


@bp.route("/events/<int:event_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@organisers
def edit_session(event_id: int, session_id: int):
    event = registration().get(f"/api/v1/events/{event_id}")
    sessions = registration().get(f"/api/v1/events/{event_id}/sessions")["items"]
    programme_session = next((s for s in sessions if s["id"] == session_id), None)
    if programme_session is None:
        abort(404)
    form = SessionForm().for_event(event)
    if request.method == "GET":
        form.fill(programme_session)
    elif form.validate_on_submit() and _submit(
            form, "PATCH", f"/api/v1/events/{event_id}/sessions/{session_id}") is not None:
        flash(_("The session has been saved."))
        return redirect(url_for("home.event", event_id=event_id, _anchor="programme"), 303)
    return _form_page("registration/session_form.html", form, event=event, programme_session=programme_session)


@bp.post("/events/<int:event_id>/sessions/<int:session_id>/delete")
@organisers
def delete_session(event_id: int, session_id: int):
    registration().request("DELETE", f"/api/v1/events/{event_id}/sessions/{session_id}")
    flash(_("The session has been deleted."))
    return redirect(url_for("home.event", event_id=event_id, _anchor="programme"), 303)


# --- participants ---------------------------------------------------------------------------

@bp.get("/events/<int:event_id>/participants")
@organisers
def participants(event_id: int):
    q = (request.args.get("q") or "").strip()[:200]
    # An empty query lists everyone (the first SEARCH_LIMIT, by name); the total says how many there are.
    found = registration().get(f"/api/v1/events/{event_id}/participants/search", q=q, limit=SEARCH_LIMIT)
    items, total = found["items"], found["total"]
    context = dict(items=items, total=total, q=q, event_id=event_id, regions=_region_names(),
                   status_labels=STATUS_LABELS, labels=row_labels())
    # Active search gets only the results; a history restore (back button) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        return render_block("registration/participants.html", "results", **context)
    event = registration().get(f"/api/v1/events/{event_id}")
    return render_template("registration/participants.html", event=event, **context)


@bp.route("/events/<int:event_id>/participants/new", methods=["GET", "POST"])
@organisers
def new_participant(event_id: int):
    event = registration().get(f"/api/v1/events/{event_id}")
    form = ParticipantForm()
    if form.validate_on_submit():
        participant = _submit(form, "POST", f"/api/v1/events/{event_id}/participants")
        if participant is not None:
            flash(_("The participant has been added."))
            return redirect(url_for("registration.participants", event_id=event_id), 303)
    return _form_page("registration/participant_form.html", form, event=event, participant=None)


@bp.route("/events/<int:event_id>/participants/<int:participant_id>/edit", methods=["GET", "POST"])
@organisers
def edit_participant(event_id: int, participant_id: int):
    event = registration().get(f"/api/v1/events/{event_id}")
    participant = registration().get(f"/api/v1/events/{event_id}/participants/{participant_id}")
    form = ParticipantForm()
    if request.method == "GET":
        form.fill(participant)
    elif participant["status"] == "cancelled":
        del form.status
    if request.method == "POST" and form.validate_on_submit() and _submit(
            form, "PATCH", f"/api/v1/events/{event_id}/participants/{participant_id}") is not None:
        flash(_("The participant has been saved."))
        return redirect(url_for("registration.participants", event_id=event_id), 303)
    return _form_page("registration/participant_form.html", form, event=event, participant=participant)


@bp.post("/events/<int:event_id>/participants/<int:participant_id>/<any(cancel, restore):action>")
@organisers
def change_status(event_id: int, participant_id: int, action: str):
    response = registration().request("POST", f"/api/v1/events/{event_id}/participants/{participant_id}/{action}")
    if request.htmx:
        participant = response.json() if response.content else registration().get(
            f"/api/v1/events/{event_id}/participants/{participant_id}")
        return render_block("registration/participants.html", "row", p=participant, event_id=event_id,
                            regions=_region_names(), status_labels=STATUS_LABELS, labels=row_labels())
    flash(_("Registration cancelled.") if action == "cancel" else _("Registration restored."))
    return redirect(safe_next(request.form.get("next"))
                    or url_for("registration.participants", event_id=event_id), 303)


# --- files ----------------------------------------------------------------------------------

@bp.get("/events/<int:event_id>/participants/export")
@organisers
def export(event_id: int):
    file_format = request.args.get("format", "xlsx")
    if file_format not in ("xlsx", "csv"):
        abort(404)
    return _stream_file(f"/api/v1/events/{event_id}/participants/export", {"format": file_format},
                        f"participants-{event_id}.{file_format}")


@bp.get("/events/<int:event_id>/badges.pdf")
@organisers
def badges(event_id: int):
    ids = [part.strip() for value in request.args.getlist("ids") for part in value.split(",")
           if part.strip().isdigit()]
    if request.args.get("selected") and not ids:
        flash(_("Tick the participants whose badges you want to print."))
        return redirect(url_for("registration.participants", event_id=event_id), 303)
    params = {"ids": ",".join(ids)} if ids else {}
    return _stream_file(f"/api/v1/events/{event_id}/badges.pdf", params, f"badges-{event_id}.pdf")


def _stream_file(path: str, params: dict, filename: str) -> Response:
    """Passes a service's file through to the browser without holding it all in memory."""
    upstream = registration().request("GET", path, params=params, stream=True)
    disposition = upstream.headers.get("Content-Disposition") or f'attachment; filename="{filename}"'
    if not disposition.startswith("attachment"):
        disposition = f'attachment; filename="{filename}"'

    def body():
        try:
            yield from upstream.iter_content(64 * 1024)
        finally:
            upstream.close()

    headers = {
        "Content-Type": upstream.headers.get("Content-Type", "application/octet-stream"),
        "Content-Disposition": disposition,
        "Cache-Control": "private, no-store",  # personal data
        "X-Content-Type-Options": "nosniff",
    }
    if upstream.headers.get("Content-Length"):
        headers["Content-Length"] = upstream.headers["Content-Length"]
    return Response(stream_with_context(body()), headers=headers)


# --- helpers --------------------------------------------------------------------------------

def _form_page(template: str, form, **context):
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


def _region_names() -> dict[str, str]:
    return {r.code: r.name for r in all_regions()}



