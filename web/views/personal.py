"""A participant's personal page, opened by the secret token in their link or badge QR, no login:
their programme, their attendance and eligibility in words, and their certificate to download.

Everything is keyed by the token: the gateway asks registration who holds it and only then asks
certificates about that participant, so no id in a URL can reach another person's record or PDF.
"""

from __future__ import annotations

from itertools import groupby

import segno
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from markupsafe import Markup

from web.clients import ServiceUnavailable
from web.clients import certificates as certificates_api
from web.clients import registration as registration_api
from web.downloads import pass_through
from web.limits import limiter

bp = Blueprint("personal", __name__)

#: longer than any token registration issues; anything longer is not worth asking about
MAX_TOKEN_LENGTH = 128


def _holder(token: str) -> tuple[dict, dict]:
    """(participant, event) of the token, or a 404 page."""
    found = registration_api.participant_by_token(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if found is None:
        abort(404)
    return found["participant"], found["event"]


def presence_words(gender: str | None) -> dict[str, str]:
    """«присутствовал» / «присутствовала», agreeing with the participant; «присутствовал(а)» when
    registration does not know. (Literal contexts: the catalog's extractor reads them.)"""
    if gender == "male":
        return {"present": pgettext("male", "present"), "absent": pgettext("male", "absent")}
    if gender == "female":
        return {"present": pgettext("female", "present"), "absent": pgettext("female", "absent")}
    return {"present": pgettext("gender unknown", "present"), "absent": pgettext("gender unknown", "absent")}


@bp.get("/p/<token>")
@limiter.limit("300 per minute")  # generous: a whole venue may share one Wi-Fi address
def page(token: str):
    participant, event = _holder(token)
    sessions = registration_api.programme(event["id"])
    days = [(day, list(items)) for day, items in groupby(sessions, key=lambda s: s["day"])]
    try:
        record = certificates_api.participant_record(event["id"], participant["id"])
    except ServiceUnavailable:
        record = None  # the programme and the QR still open; attendance waits for the service
    attended = {s["id"] for d in (record or {}).get("days", []) for s in d["sessions"] if s["attended"]}
    link = url_for("personal.page", token=token, _external=True)
    # segno writes the SVG itself from our own URL; nothing a person typed goes into it.
    qr = Markup(segno.make(link, error="m").svg_inline(scale=4, title=_("QR code of your personal link")))
    return render_template(
        "public/participant.html",
        participant=participant,
        event=event,
        days=days,
        record=record,
        attended_sessions=attended,
        presence=presence_words(participant.get("gender")),
        link=link,
        qr=qr,
        token=token,
    )


@bp.get("/p/<token>/certificate.pdf")
@limiter.limit("30 per minute")
def certificate_pdf(token: str):
    participant, event = _holder(token)
    upstream = certificates_api.participant_certificate_pdf(event["id"], participant["id"])
    return pass_through(upstream, "certificate.pdf")


@bp.after_request
def keep_token_private(response):
    """The token is in the URL of every page here: it must not leak to other sites nor stay in caches
    (error pages too)."""
    if request.blueprint == bp.name:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
