"""Public registration for an event, no login (the personal page it leads to is in `personal`)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from web.clients import ServiceError, registration
from web.forms import PublicRegistrationForm, submitted
from web.limits import limiter

bp = Blueprint("public", __name__)


@bp.route("/events/<int:event_id>/register", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def register(event_id: int):
    event = registration.event(event_id)  # an unknown event is the 404 page
    if not event.get("registration_open"):
        return render_template("public/register_closed.html", event=event)
    form = PublicRegistrationForm()
    if form.validate_on_submit():
        try:
            participant = submitted(form, registration.register, event_id)
        except ServiceError as exc:
            if exc.status != 403:
                raise
            # closed between opening the form and sending it
            return render_template("public/register_closed.html", event=event), 403
        if participant is not None:
            flash(
                _("You are registered. Keep the link to this page: it is your personal page for the event.")
            )
            return redirect(url_for("personal.page", token=participant["token"]), 303)
    status = 422 if form.errors else 200
    return render_template("public/register.html", event=event, form=form), status
