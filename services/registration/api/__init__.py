"""Registration's JSON API under /api/v1: the spec every blueprint validates with, the blueprints, and
how a domain refusal becomes a problem document in the caller's language.

One module a part of the domain: events.py (events and their programme), participants.py (participants,
search, lookup, public registration, personal pages), imports.py (spreadsheets), documents.py (export,
badges), reference.py (regions and the other closed lists a form offers), mail.py (the outbox, letters
to participants, bulk-mail opt-out).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext

from eventops.openapi import make_spec
from eventops.problems import Problem, field_error, invalid_request_detail, problem_response
from services.registration.errors import Refusal

spec = make_spec("EventOps registration")

# The blueprints validate with `spec`, so they are imported once it exists.
from services.registration.api import documents, events, imports, mail, participants, reference  # noqa: E402

blueprints = [events.bp, participants.bp, imports.bp, documents.bp, reference.bp, mail.bp]


def problem_for(refusal: Refusal) -> Problem:
    """A domain refusal as a problem document, worded in the language the caller asked for."""
    message = refusal.message(gettext)
    errors = [
        {**field_error(error.field, error.code, error.wording.render(gettext)), **error.extra}
        for error in refusal.errors
    ]
    detail = message if refusal.message_is_detail or not errors else invalid_request_detail()
    return Problem(refusal.status, detail=detail, errors=errors)


def init_app(app: Flask) -> None:
    app.register_error_handler(Refusal, lambda refusal: problem_response(problem_for(refusal)))
