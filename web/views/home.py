"""The start page (the events), the language switch and the site icon."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)

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


@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico on every page whatever the page links; a day's cache keeps it to once.
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=86400)
