"""The organiser's certificate pages: the event's policy, who is eligible and why (with overrides), issuing
with a progress bar, and the issued documents (download, ZIP, ФИС ФРДО, revoke, re-issue).

Every rule lives in the certificates service: these views read a form, call one client function and show
what comes back, the service's field errors next to the fields.
"""

from __future__ import annotations

import base64
from datetime import datetime

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from jinja2_fragments.flask import render_block
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from web.auth import organisers
from web.clients import ServiceError
from web.clients import certificates as certificates_api
from web.clients import registration as registration_api
from web.downloads import pass_through
from web.forms import Choice, form_page, submitted

bp = Blueprint("certificates", __name__)

KIND_LABELS = {
    "certificate": _l("certificate of professional development"),
    "statement": _l("statement of study"),
}
VALIDITY_LABELS = {"valid": _l("valid"), "revoked": _l("revoked"), "superseded": _l("superseded")}
RENDER_LABELS = {"pending": _l("being prepared"), "rendered": _l("ready"), "failed": _l("not prepared")}
COMPLETION_RULES = {
    "hours": _l("Enough academic hours attended"),
    "days": _l("Present every day"),
    "both": _l("Both: enough hours and every day"),
}
#: the eligibility list's filters, in the order of the tabs
FILTERS = ("all", "eligible", "not_eligible", "issued")


@bp.app_template_filter("document_kind")
def document_kind(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@bp.app_template_filter("validity")
def validity(value: str) -> str:
    return str(VALIDITY_LABELS.get(value, value))


@bp.app_template_filter("render_state")
def render_state(value: str) -> str:
    return str(RENDER_LABELS.get(value, value))


@bp.app_template_filter("moment")
def moment(value: str | None) -> str:
    """An ISO timestamp from a service, as a person reads it (in the event's time zone)."""
    if not value:
        return ""
    return format_datetime(datetime.fromisoformat(value), "d MMM y, HH:mm")


# --- policy ------------------------------------------------------------------------------------


class PolicyForm(FlaskForm):
    """The certificate policy of an event. The service checks every value (hours of a ПК programme,
    the numbering templates, the images); what it refuses lands next to the field."""

    IMAGES = ("logo", "signature")

    programme_kind = Choice(
        _l("Programme"), choices=[SelectChoice("ПК", _l("Professional development (ПК): a certificate"))]
    )
    programme_title = StringField(
        _l("Programme title as printed"), validators=[InputRequired(), Length(max=500)]
    )
    academic_hours = IntegerField(_l("Programme hours (academic)"), validators=[InputRequired()])
    organisation = StringField(_l("Organisation as printed"), validators=[InputRequired(), Length(max=500)])
    place = StringField(_l("Place of issue"), validators=[Length(max=300)])
    organisation_key = StringField(
        _l("Numbering book"),
        validators=[Length(max=200)],
        description=_l("Events with the same book share one sequence of numbers per year."),
    )
    number_template = StringField(
        _l("Certificate number template"),
        validators=[InputRequired(), Length(max=60)],
        description=_l(
            "{year} is the year of issue, {seq:04} the organisation's next number with four digits."
        ),
    )
    statement_number_template = StringField(
        _l("Statement number template"), validators=[InputRequired(), Length(max=60)]
    )
    completion_rule = RadioField(
        _l("Who has completed the programme"),
        choices=[SelectChoice(value, text) for value, text in COMPLETION_RULES.items()],
        default="hours",
        validate_choice=False,  # the service knows the rules; an unknown one comes back next to the field
    )
    min_hours_percent = IntegerField(
        _l("Share of the programme hours needed, %"), validators=[InputRequired()]
    )
    door_counts_sessions = BooleanField(_l("An entry at the door counts that day's sessions as attended"))
    issue_statements = BooleanField(_l("Offer statements of study to those who did not complete"))
    signatory_name = StringField(_l("Signatory"), validators=[Length(max=200)])
    signatory_title = StringField(_l("Signatory's position"), validators=[Length(max=300)])
    logo = FileField(_l("Logo (PNG or JPEG, up to 1 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    signature = FileField(_l("Signature (PNG or JPEG, up to 1 MB)"))
    remove_signature = BooleanField(_l("Remove the signature"))

    def fill(self, policy: dict) -> None:
        for name, field in self._fields.items():
            if name in policy and name not in self.IMAGES:
                field.data = policy[name]

    def payload(self) -> dict:
        """The whole policy as the service takes it; images as base64 (None keeps, "" removes)."""
        skip = {"csrf_token", *self.IMAGES, *(f"remove_{image}" for image in self.IMAGES)}
        data = {
            # A text left out of the request is blank, not missing.
            name: "" if field.data is None and isinstance(field, StringField) else field.data
            for name, field in self._fields.items()
            if name not in skip
        }
        for image in self.IMAGES:
            upload = self[image].data
            content = upload.read() if upload and getattr(upload, "filename", "") else b""
            if content:
                data[image] = base64.b64encode(content).decode("ascii")
            else:
                data[image] = "" if self[f"remove_{image}"].data else None
        return data


@bp.route("/events/<int:event_id>/certificates/policy", methods=["GET", "POST"])
@organisers
def policy(event_id: int):
    event = registration_api.event(event_id)
    current = certificates_api.policy(event_id)
    form = PolicyForm()
    if request.method == "GET":
        form.fill(current or _new_policy(event))
    elif form.validate_on_submit() and submitted(form, certificates_api.save_policy, event_id) is not None:
        flash(_("The certificate policy has been saved."))
        return redirect(url_for("certificates.eligibility", event_id=event_id), 303)
    return form_page("certificates/policy.html", form, event=event, policy=current)


@bp.get("/events/<int:event_id>/certificates/policy/images/<any(logo, signature):image>")
@organisers
def policy_image(event_id: int, image: str):
    return pass_through(certificates_api.policy_image(event_id, image), image, inline=True)


def _new_policy(event: dict) -> dict:
    """What the form offers before the first save: the event's own title, hours, organiser and place."""
    return {
        "programme_kind": "ПК",
        "programme_title": event.get("title", ""),
        "academic_hours": event.get("academic_hours") or None,
        "organisation": event.get("organiser", ""),
        "place": event.get("place", ""),
        "number_template": "ПК-{year}-{seq:04}",
        "statement_number_template": "СО-{year}-{seq:04}",
        "completion_rule": "hours",
        "min_hours_percent": 75,
    }


# --- eligibility -------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/certificates/eligibility")
@organisers
def eligibility(event_id: int):
    show = request.args.get("show", "all")
    if show not in FILTERS:
        show = "all"
    # Three answers, asked side by side: the page waits for the slowest, not for their sum.
    whole_page = not request.htmx or request.htmx.history_restore_request
    event_soon = registration_api.event_soon(event_id) if whole_page else None
    found_soon = certificates_api.eligibility_soon(event_id)
    rules = certificates_api.policy(event_id)
    if rules is None:  # nothing to explain before the organiser says what completing means
        found_soon.cancel()  # refused anyway: no policy, no eligibility
        event = event_soon.result() if event_soon else registration_api.event(event_id)
        return render_template("certificates/eligibility.html", event=event, policy=None)
    found = found_soon.result()
    items = [item for item in found["items"] if _shown(item, show)]
    context = dict(
        event_id=event_id, items=items, summary=found["summary"], show=show, **row_context(event_id)
    )
    if not whole_page:
        return render_block("certificates/eligibility.html", "list", **context)
    event = event_soon.result()
    return render_template("certificates/eligibility.html", event=event, policy=rules, **context)


def row_context(event_id: int) -> dict:
    """What every row of the list needs, worked out once per list rather than once per row: its texts,
    translated, and the address the rows' links start with."""
    labels = {
        "eligible": _("may receive"),
        "not_eligible": _("may not receive"),
        "cancelled": _("registration cancelled"),
        "overridden": _("decided by hand"),
        "statement": str(KIND_LABELS["statement"]),
        "change": _("Change the decision"),
        **{key: str(text) for key, text in VALIDITY_LABELS.items()},
    }
    return {"labels": labels, "rows_url": url_for("certificates.eligibility", event_id=event_id)}


def _shown(item: dict, show: str) -> bool:
    if show == "eligible":
        return item["eligible"]
    if show == "not_eligible":
        return not item["eligible"]
    if show == "issued":
        return (item.get("certificate") or {}).get("validity") == "valid"
    return True


class OverrideForm(FlaskForm):
    #: "1" makes the participant eligible, "0" not eligible, "" goes back to what attendance says
    eligible = RadioField(
        _l("Decision"),
        default="",
        choices=[
            SelectChoice("1", _l("May receive the certificate")),
            SelectChoice("0", _l("May not receive the certificate")),
            SelectChoice("", _l("As attendance says")),
        ],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[Length(max=500)],
        description=_l("Who decided and why: it is kept with the decision."),
    )

    def payload(self) -> dict:
        # Whether a reason is needed (it is, unless going back to attendance) is the service's rule.
        return {"eligible": {"1": True, "0": False}.get(self.eligible.data), "reason": self.reason.data or ""}


@bp.route(
    "/events/<int:event_id>/certificates/eligibility/<int:participant_id>/override", methods=["GET", "POST"]
)
@organisers
def override(event_id: int, participant_id: int):
    item = _eligibility_item(event_id, participant_id)
    form = OverrideForm()
    if request.method == "GET":
        form.eligible.data = "0" if item["eligible"] else "1"
    elif (
        form.validate_on_submit()
        and submitted(form, certificates_api.set_override, event_id, participant_id) is not None
    ):
        if request.htmx:
            found = certificates_api.eligibility(event_id)
            changed = next(i for i in found["items"] if i["participant_id"] == participant_id)
            return render_block(
                "certificates/eligibility.html",
                "changed_row",
                event_id=event_id,
                item=changed,
                summary=found["summary"],
                oob=True,
                **row_context(event_id),
            )
        flash(_("The decision has been recorded."))
        return redirect(
            url_for("certificates.eligibility", event_id=event_id, _anchor=f"participant-{participant_id}"),
            303,
        )
    context = dict(event_id=event_id, item=item)
    if request.htmx:
        # htmx swaps only successful answers: a refused form comes back as 200 with its messages.
        return render_block("certificates/eligibility.html", "override_row", form=form, **context)
    return form_page("certificates/override.html", form, event=registration_api.event(event_id), **context)


def _eligibility_item(event_id: int, participant_id: int) -> dict:
    found = certificates_api.eligibility(event_id)
    item = next((i for i in found["items"] if i["participant_id"] == participant_id), None)
    if item is None:
        abort(404)
    return item


@bp.get("/events/<int:event_id>/certificates/eligibility/<int:participant_id>")
@organisers
def eligibility_row(event_id: int, participant_id: int):
    """One row of the list again (the override form's «Cancel» under htmx)."""
    return render_block(
        "certificates/eligibility.html",
        "row",
        event_id=event_id,
        item=_eligibility_item(event_id, participant_id),
        **row_context(event_id),
    )


# --- issuing -----------------------------------------------------------------------------------


@bp.post("/events/<int:event_id>/certificates/issue")
@organisers
def issue(event_id: int):
    started = certificates_api.issue(event_id, statements=request.form.get("statements") == "1")
    if request.htmx:
        return _progress(event_id, started["batch_id"])
    return redirect(url_for("certificates.batch", event_id=event_id, batch_id=started["batch_id"]), 303)


@bp.get("/events/<int:event_id>/certificates/batches/<int:batch_id>")
@organisers
def batch(event_id: int, batch_id: int):
    if request.htmx:
        return _progress(event_id, batch_id)
    return render_template(
        "certificates/batch.html",
        event=registration_api.event(event_id),
        batch=_batch_of(event_id, batch_id),
        batch_id=batch_id,
        event_id=event_id,
    )


#: fired when a batch is done, so every list on the page that shows documents draws itself again
ISSUED_EVENT = "certificates-issued"


def _progress(event_id: int, batch_id: int):
    progress = _batch_of(event_id, batch_id)
    response = make_response(
        render_template("certificates/_progress.html", batch=progress, batch_id=batch_id, event_id=event_id)
    )
    if progress["done"]:
        response.headers["HX-Trigger"] = ISSUED_EVENT
    return response


def _batch_of(event_id: int, batch_id: int) -> dict:
    progress = certificates_api.batch(batch_id)
    if progress["event_id"] != event_id:
        abort(404)  # another event's batch under this event's URL
    return progress


# --- issued documents ----------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/certificates")
@organisers
def issued(event_id: int):
    certificates = certificates_api.event_certificates(event_id)
    if request.htmx and not request.htmx.history_restore_request:  # a finished batch asks for the list again
        return render_block(
            "certificates/issued.html", "documents", certificates=certificates, event_id=event_id
        )
    running = _running_batch(certificates)
    return render_template(
        "certificates/issued.html",
        event=registration_api.event(event_id),
        certificates=certificates,
        event_id=event_id,
        running=running,
        running_batch=certificates_api.batch(running) if running else None,
    )


def _running_batch(certificates: list[dict]) -> int | None:
    """The newest batch still rendering, so an organiser who left the progress bar finds it again."""
    pending = [c["batch_id"] for c in certificates if c["status"] == "pending" and c["batch_id"]]
    return max(pending) if pending else None


def _certificate_of(event_id: int, certificate_id: int) -> dict:
    found = certificates_api.certificate(certificate_id)
    if found["event_id"] != event_id:
        abort(404)  # another event's certificate under this event's URL
    return found


@bp.get("/events/<int:event_id>/certificates/<int:certificate_id>.pdf")
@organisers
def download(event_id: int, certificate_id: int):
    found = _certificate_of(event_id, certificate_id)
    return pass_through(certificates_api.certificate_pdf(certificate_id), f"{found['number']}.pdf")


@bp.get("/events/<int:event_id>/certificates.zip")
@organisers
def download_all(event_id: int):
    return pass_through(certificates_api.certificates_zip(event_id), f"certificates-{event_id}.zip")


@bp.get("/events/<int:event_id>/frdo.xlsx")
@organisers
def frdo(event_id: int):
    return pass_through(certificates_api.frdo_xlsx(event_id), f"frdo-{event_id}.xlsx")


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])
    reason_public = BooleanField(_l("Show the reason on the verification page"))

    def payload(self) -> dict:
        # A reason is required: the service says so, next to the field, in the person's language.
        return {"reason": self.reason.data or "", "reason_public": self.reason_public.data}


@bp.route("/events/<int:event_id>/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"])
@organisers
def revoke(event_id: int, certificate_id: int):
    found = _certificate_of(event_id, certificate_id)
    form = RevokeForm()
    if form.validate_on_submit() and submitted(form, certificates_api.revoke, certificate_id) is not None:
        flash(_("Document № %(number)s has been revoked.", number=found["number"]))
        return redirect(url_for("certificates.issued", event_id=event_id), 303)
    return form_page(
        "certificates/revoke.html", form, event=registration_api.event(event_id), certificate=found
    )


@bp.post("/events/<int:event_id>/certificates/<int:certificate_id>/reissue")
@organisers
def reissue(event_id: int, certificate_id: int):
    found = _certificate_of(event_id, certificate_id)
    try:
        certificates_api.reissue(certificate_id)
    except ServiceError as exc:
        if exc.status not in (400, 409, 422):
            raise
        flash(exc.problem.get("detail") or _("The request could not be completed."))
    else:
        flash(
            _(
                "Document № %(number)s is being issued again with the current data; the old version "
                "is marked as superseded.",
                number=found["number"],
            )
        )
    return redirect(url_for("certificates.issued", event_id=event_id), 303)
