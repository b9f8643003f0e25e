"""Public pages, no login: registration for an event, and a participant's personal page by their token."""
from __future__ import annotations

from itertools import groupby

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from web.clients import ServiceError, client, registration
from web.forms import PublicRegistrationForm, submitted
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
            flash(_("You are registered. Keep the link to this page: it is your personal page for the "
                    "event."))
            return redirect(url_for("public.personal_page", token=participant["token"]), 303)
    status = 422 if form.errors else 200
    return render_template("public/register.html", event=event, form=form), status


@bp.get("/p/<token>")
@limiter.limit("300 per minute")  # generous: a whole venue may share one Wi-Fi address
def personal_page(token: str):
    if len(token) > 128:
        abort(404)
    registration = client("registration")
    found = _not_found_is_404(lambda: registration.get(f"/api/v1/participants/by-token/{token}"))
    participant = found.get("participant", found)
    event = found.get("event") or registration.get(f"/api/v1/events/{participant['event_id']}")
    sessions = event.get("sessions")
    if sessions is None:
        sessions = registration.get(f"/api/v1/events/{event['id']}/sessions")["items"]
    days = [(day, list(items)) for day, items in groupby(sessions, key=lambda s: s["day"])]
    link = url_for("public.personal_page", token=token, _external=True)
    # segno writes the SVG itself from our own URL; nothing a person typed goes into it.
    qr = Markup(segno.make(link, error="m").svg_inline(scale=4, title=_("QR code of your personal link")))
    return render_template("public/participant.html", participant=participant, event=event, days=days,
                           link=link, qr=qr)


@bp.after_request
def keep_token_private(response):
    """The token is in the URL of a personal page: it must not leak to other sites nor stay in caches
    (its error pages too)."""
    if request.endpoint == "public.personal_page":
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
