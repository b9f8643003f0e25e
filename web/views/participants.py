"""The organisers' participants pages: the list with active search, add and edit, cancel and restore, the
export and the badges."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block

from web.auth import organisers, safe_next
from web.clients import registration
from web.downloads import pass_through
from web.formatting import PARTICIPANT_STATUSES
from web.forms import ParticipantForm, form_page, submitted

bp = Blueprint("participants", __name__)
#: rows a page of the organisers' list shows; active search re-renders them at every keystroke
SEARCH_LIMIT = 50
#: the last page anyone can ask for (registration refuses an offset beyond a million)
MAX_PAGE = 1_000_000 // SEARCH_LIMIT
EXPORT_FORMATS = ("xlsx", "csv")


def row_labels() -> dict[str, str]:
    """Texts of every participant row, translated once per list rather than once per row."""
    return {
        "select": _("Select"),
        "cancel": _("Cancel registration"),
        "restore": _("Restore"),
        # formatted per row in the template, with the participant's name
        "confirm_cancel": _("Cancel the registration of %(name)s?"),
    }


def _row_context() -> dict:
    return {
        "regions": registration.region_names(),
        "status_labels": PARTICIPANT_STATUSES,
        "labels": row_labels(),
    }


@bp.get("/events/<int:event_id>/participants")
@organisers
def index(event_id: int):
    q = (request.args.get("q") or "").strip()[:200]
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    # An empty query lists everyone by name, a page at a time; the total says how many there are.
    found = registration.search(event_id, q, SEARCH_LIMIT, offset=(page - 1) * SEARCH_LIMIT)
    pages = max(1, -(-found["total"] // SEARCH_LIMIT))
    if page > pages:  # past the end (the list shrank, or a hand-made link): the last page instead
        page = pages
        found = registration.search(event_id, q, SEARCH_LIMIT, offset=(page - 1) * SEARCH_LIMIT)
    context = dict(
        items=found["items"],
        total=found["total"],
        q=q,
        page=page,
        pages=pages,
        first=(page - 1) * SEARCH_LIMIT + 1,
        event_id=event_id,
        **_row_context(),
    )
    # Active search gets only the results; a history restore (back button) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        return render_block("registration/participants.html", "results", **context)
    return render_template("registration/participants.html", event=registration.event(event_id), **context)


@bp.route("/events/<int:event_id>/participants/new", methods=["GET", "POST"])
@organisers
def new(event_id: int):
    event = registration.event(event_id)
    form = ParticipantForm()
    if form.validate_on_submit() and submitted(form, registration.create_participant, event_id) is not None:
        flash(_("The participant has been added."))
        return redirect(url_for("participants.index", event_id=event_id), 303)
    return form_page("registration/participant_form.html", form, event=event, participant=None)


@bp.route("/events/<int:event_id>/participants/<int:participant_id>/edit", methods=["GET", "POST"])
@organisers
def edit(event_id: int, participant_id: int):
    event = registration.event(event_id)
    participant = registration.participant(event_id, participant_id)
    form = ParticipantForm()
    if request.method == "GET":
        form.fill(participant)
    elif participant["status"] == "cancelled":
        del form.status
    if (
        request.method == "POST"
        and form.validate_on_submit()
        and submitted(form, registration.update_participant, event_id, participant_id) is not None
    ):
        flash(_("The participant has been saved."))
        return redirect(url_for("participants.index", event_id=event_id), 303)
    return form_page("registration/participant_form.html", form, event=event, participant=participant)


@bp.post("/events/<int:event_id>/participants/<int:participant_id>/<any(cancel, restore):action>")
@organisers
def change_status(event_id: int, participant_id: int, action: str):
    change = registration.cancel_participant if action == "cancel" else registration.restore_participant
    participant = change(event_id, participant_id)
    if request.htmx:
        return render_block(
            "registration/participants.html", "row", p=participant, event_id=event_id, **_row_context()
        )
    flash(_("Registration cancelled.") if action == "cancel" else _("Registration restored."))
    target = safe_next(request.form.get("next")) or url_for("participants.index", event_id=event_id)
    return redirect(target, 303)


# --- files ---------------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/participants/export")
@organisers
def export(event_id: int):
    file_format = request.args.get("format", "xlsx")
    if file_format not in EXPORT_FORMATS:
        abort(404)
    return pass_through(registration.export(event_id, file_format), f"participants-{event_id}.{file_format}")


@bp.get("/events/<int:event_id>/badges.pdf")
@organisers
def badges(event_id: int):
    ids = [
        int(part)
        for value in request.args.getlist("ids")
        for part in value.split(",")
        if part.strip().isdigit()
    ]
    if request.args.get("selected") and not ids:
        flash(_("Tick the participants whose badges you want to print."))
        return redirect(url_for("participants.index", event_id=event_id), 303)
    return pass_through(registration.badges(event_id, ids or None), f"badges-{event_id}.pdf")
