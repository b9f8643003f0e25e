"""Public registration for an event, no login (the personal page it leads to is in `personal`)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from web.clients import ServiceError, registration
from web.forms import PublicRegistrationForm, submitted
from web.limits import limiter

bp = Blueprint("public", __name__)


def _register(event_id: int, payload: dict) -> dict:
    """registration.register, with an e-mail the event already has taken as accepted and nothing created:
    the public page must not tell anyone which addresses are registered (the person already registered
    gets their link by e-mail, as a new one does)."""
    try:
        return registration.register(event_id, payload)
    except ServiceError as exc:
        if exc.status == 409 and any(
            e.get("field") == "email" and e.get("code") == "duplicate" for e in exc.problem.get("errors", [])
        ):
            return {}
        raise


@bp.route("/events/<int:event_id>/register", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def register(event_id: int):
    event = registration.event(event_id)  # an unknown event is the 404 page
    if not event.get("registration_open"):
        return render_template("public/register_closed.html", event=event)
    form = PublicRegistrationForm()
    if form.validate_on_submit():
        try:
            accepted = submitted(form, _register, event_id)
        except ServiceError as exc:
            if exc.status != 403:
                raise
            # closed between opening the form and sending it
            return render_template("public/register_closed.html", event=event), 403
        if accepted is not None:
            # The same answer for a new e-mail and a known one: no token, no name, the same page.
            return redirect(url_for("public.registered", event_id=event_id), 303)
    status = 422 if form.errors else 200
    return render_template("public/register.html", event=event, form=form), status


@bp.get("/events/<int:event_id>/register/done")
def registered(event_id: int):
    event = registration.event(event_id)
    return render_template("public/registered.html", event=event)
