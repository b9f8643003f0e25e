"""Mail to participants: the organiser's outbox (statuses, the server's answer, resend one or all failed, read
a letter) and their letter to a filtered group; and, under the personal token, a participant's opt-out of
bulk mail (the link in every bulk letter and its List-Unsubscribe header).

Registration writes and sends the letters; the gateway only passes on what the organiser chose. The
"checked in or not" filter is the one thing registration cannot know: the gateway asks certificates who
has any check-in and passes those ids on.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from web.auth import organisers
from web.clients import ServiceUnavailable
from web.clients import certificates as certificates_api
from web.clients import feedback as feedback_api
from web.clients import mail as mail_api
from web.clients import registration as registration_api
from web.formatting import PARTICIPANT_STATUSES
from web.forms import Choice, form_page, submitted
from web.limits import limiter
from web.views.personal import _holder

bp = Blueprint("mail", __name__)

MESSAGE_STATUSES = {
    "held": _l("not sent (no mail server)"),
    "queued": _l("queued"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "bounced": _l("bounced"),
}
MESSAGE_KINDS = {
    "confirmation": _l("registration confirmation"),
    "certificate_ready": _l("certificate ready"),
    "survey_invitation": _l("survey invitation"),
    "survey_reminder": _l("survey reminder"),
    "organiser": _l("organisers' message"),
}
#: statuses the outbox page keeps refreshing for
IN_PROGRESS = ("queued", "sending")


@bp.app_template_filter("mail_status")
def mail_status(value: str) -> str:
    return str(MESSAGE_STATUSES.get(value, value))


@bp.app_template_filter("mail_kind")
def mail_kind(value: str) -> str:
    return str(MESSAGE_KINDS.get(value, value))


def _regions() -> list[SelectChoice]:
    return [SelectChoice("", _l("any region"))] + [
        SelectChoice(region["code"], region["name"]) for region in registration_api.regions()
    ]


def _statuses() -> list[SelectChoice]:
    return [SelectChoice("", _l("any status except cancelled"))] + [
        SelectChoice(value, label) for value, label in PARTICIPANT_STATUSES.items()
    ]


class LetterForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=20_000)])
    region_code = Choice(_l("Region"), choices=_regions, default="")
    organisation = StringField(_l("Organisation contains"), validators=[Length(max=500)])
    status = Choice(_l("Registration status"), choices=_statuses, default="")
    checked_in = RadioField(
        _l("Attendance"),
        choices=[
            SelectChoice("", _l("everyone")),
            SelectChoice("yes", _l("checked in at least once")),
            SelectChoice("no", _l("never checked in")),
        ],
        default="",
        validate_choice=True,
    )

    def audience_words(self) -> str:
        words = []
        for field in (self.region_code, self.status):
            if field.data:
                choices = field.choices() if callable(field.choices) else field.choices
                words.append({c.value: c.label for c in choices}.get(field.data, field.data))
        if self.organisation.data:
            words.append(_("organisation «%(name)s»", name=self.organisation.data.strip()))
        if self.checked_in.data:
            words.append({c.value: c.label for c in self.checked_in.choices}[self.checked_in.data])
        return ", ".join(str(word) for word in words) or _("all participants")

    #: set by the view: the checked-in filter asks certificates about this event
    event_id: int = 0

    def payload(self) -> dict:
        data = {
            "subject": self.subject.data,
            "body": self.body.data,
            "region_code": self.region_code.data or None,
            "organisation": self.organisation.data or None,
            "status": self.status.data or None,
            "audience": self.audience_words(),
            "created_by": g.staff.full_name or g.staff.username,
        }
        if self.checked_in.data:
            present = checked_in_ids(self.event_id)
            data["participant_ids" if self.checked_in.data == "yes" else "excluded_ids"] = present
        return data


def checked_in_ids(event_id: int) -> list[int]:
    """Participants with a check-in on any day, as the certificates service counts attendance."""
    attendance = certificates_api.attendance(event_id)
    return sorted(p["participant_id"] for p in attendance.get("participants", []) if p.get("days"))


@bp.get("/events/<int:event_id>/mail")
@organisers
def outbox(event_id: int):
    event = registration_api.event(event_id)
    status = request.args.get("status") or None
    if status not in (None, *MESSAGE_STATUSES):
        abort(404)
    box = mail_api.outbox(event_id, status)
    refreshing = any(box["counts"].get(state) for state in IN_PROGRESS)
    context = dict(event=event, box=box, status=status, refreshing=refreshing)
    if not request.headers.get("HX-Request"):
        try:
            context["surveys"] = [s for s in feedback_api.surveys(event_id) if s["status"] == "open"]
        except ServiceUnavailable:
            context["surveys"] = []  # the outbox still opens; survey letters wait for the service
    if request.headers.get("HX-Request"):
        return render_block("mail/outbox.html", "letters", **context)
    return render_template("mail/outbox.html", **context)


@bp.get("/events/<int:event_id>/mail/messages/<int:message_id>")
@organisers
def letter(event_id: int, message_id: int):
    event = registration_api.event(event_id)
    return render_template("mail/letter.html", event=event, letter=mail_api.message(event_id, message_id))


@bp.post("/events/<int:event_id>/mail/messages/<int:message_id>/resend")
@organisers
def resend(event_id: int, message_id: int):
    queued = mail_api.resend_message(event_id, message_id)
    flash(_("The letter is queued again.") if queued["messages"] else _("This letter cannot be resent now."))
    return redirect(request.form.get("back") or url_for("mail.outbox", event_id=event_id), 303)


@bp.post("/events/<int:event_id>/mail/resend-failed")
@organisers
def resend_failed(event_id: int):
    queued = mail_api.resend_failed(event_id)
    flash(
        ngettext("%(num)d letter is queued again.", "%(num)d letters are queued again.", queued["messages"])
    )
    return redirect(url_for("mail.outbox", event_id=event_id), 303)


@bp.post("/events/<int:event_id>/mail/certificates-ready")
@organisers
def certificates_ready(event_id: int):
    """«Ваше удостоверение готово» to every holder of a valid certificate whose PDF is ready; registration
    writes one letter per certificate number, so pressing again tells only those issued since."""
    ready = [
        {"participant_id": c["participant_id"], "number": c["number"]}
        for c in certificates_api.event_certificates(event_id)
        if c["kind"] == "certificate" and c["validity"] == "valid" and c["status"] == "rendered"
    ]
    queued = mail_api.certificates_ready(event_id, ready) if ready else {"messages": 0}
    flash(
        ngettext(
            "%(num)d participant is told their certificate is ready.",
            "%(num)d participants are told their certificate is ready.",
            queued["messages"],
        )
    )
    return redirect(url_for("mail.outbox", event_id=event_id), 303)


@bp.post("/events/<int:event_id>/mail/surveys/<int:survey_id>")
@organisers
def survey_letters(event_id: int, survey_id: int):
    """Invite every participant (not cancelled) to an open survey, or remind, once, those who have not
    answered it; for an anonymous survey nobody knows who answered, so its reminder goes to all."""
    reminder = request.form.get("reminder") == "1"
    survey = feedback_api.survey(survey_id)
    if survey["event_id"] != event_id or survey["status"] != "open":
        abort(404)
    ids = [p["id"] for p in registration_api.participants(event_id) if p["status"] != "cancelled"]
    if reminder and not survey["anonymous"]:
        # One call a participant: feedback has no list of who answered (fine for a course; see the report).
        ids = [pid for pid in ids if _progress(pid, event_id, survey_id) != "answered"]
    queued = mail_api.survey_invitations(
        event_id,
        f"survey-{survey_id}",
        survey["title"],
        ids,
        reminder=reminder,
        anonymous=survey["anonymous"],
    )
    flash(ngettext("%(num)d letter is written.", "%(num)d letters are written.", queued["messages"]))
    return redirect(url_for("mail.outbox", event_id=event_id), 303)


def _progress(participant_id: int, event_id: int, survey_id: int) -> str:
    for item in feedback_api.participant_surveys(participant_id, event_id):
        if item["id"] == survey_id:
            return item["progress"]
    return "not_started"


@bp.route("/events/<int:event_id>/mail/new", methods=["GET", "POST"])
@organisers
def compose(event_id: int):
    event = registration_api.event(event_id)
    form = LetterForm()
    form.event_id = event_id
    if form.validate_on_submit():
        try:
            queued = submitted(form, mail_api.send_campaign, event_id)
        except ServiceUnavailable as exc:
            if exc.service != "certificates":
                raise
            form.checked_in.errors = [
                _("Attendance is not available right now: send to everyone, or try again in a minute.")
            ]
            queued = None
        if queued is not None:
            flash(
                ngettext(
                    "The letter is written to %(num)d participant.",
                    "The letter is written to %(num)d participants.",
                    queued["messages"],
                )
                + (
                    " "
                    + ngettext(
                        "%(num)d opted out of organisers' messages and will not get it.",
                        "%(num)d opted out of organisers' messages and will not get it.",
                        queued["skipped"],
                    )
                    if queued["skipped"]
                    else ""
                )
            )
            return redirect(url_for("mail.outbox", event_id=event_id), 303)
    return form_page("mail/compose.html", form, event=event)


# --- the participant's choice, under their personal token ---------------------------------------


@bp.route("/p/<token>/mail/unsubscribe", methods=["GET", "POST"])
@limiter.limit("60 per minute")
def unsubscribe(token: str):
    """GET asks; POST opts out: from the page's button, or a mail client's one-click POST (RFC 8058), which
    carries no CSRF token: the secret token in the address is what authorises it (see web.app)."""
    participant, event = _holder(token)
    if request.method == "POST":
        mail_api.set_opted_out(token, request.form.get("opted_out", "1") != "0")
    opted_out = mail_api.opted_out(token)
    return render_template(
        "mail/unsubscribe.html", participant=participant, event=event, token=token, opted_out=opted_out
    )
