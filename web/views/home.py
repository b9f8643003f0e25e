"""The start page (the events) and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from eventops.i18n import LANGUAGES
from web.auth import staff
from web.clients import registration

bp = Blueprint("home", __name__)


@bp.get("/")
@staff
def index():
    return render_template("home.html", events=registration.events())


@bp.post("/language")
def set_language():
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    target = request.referrer or url_for("home.index")
    if not target.startswith(request.host_url):
        target = url_for("home.index")
    return redirect(target, 303)
