"""Public registration for an event, no login (the personal page it leads to is in `personal`)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from web.clients import ServiceError, client
from web.forms import PublicRegistrationForm, show_service_errors
from web.limits import limiter

bp = Blueprint("public", __name__)


def _not_found_is_404(fetch):
    try:
        return fetch()
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        raise


@bp.route("/events/<int:event_id>/register", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def register(event_id: int):
    registration = client("registration")
    event = _not_found_is_404(lambda: registration.get(f"/api/v1/events/{event_id}"))
    if not event.get("registration_open"):
        return render_template("public/register_closed.html", event=event)
    form = PublicRegistrationForm()
    if form.validate_on_submit():
        try:
            participant = registration.post(f"/api/v1/events/{event_id}/registrations", json=form.payload())
        except ServiceError as exc:
            if exc.status == 403:  # closed between opening the form and sending it
                return render_template("public/register_closed.html", event=event), 403
            if exc.status not in (400, 409, 422):
                raise
            form.form_errors = show_service_errors(form, exc.problem)
        else:
            flash(_("You are registered. Keep the link to this page: it is your personal page for the event."))
            return redirect(url_for("personal.page", token=participant["token"]), 303)
    status = 422 if form.errors else 200
    return render_template("public/register.html", event=event, form=form), status
