"""Errors as application/problem+json (RFC 9457), the one error format of every service API.

Every `detail` and every per-field `message` is for a person: it is a gettext message, rendered in the
language the caller asked for (Accept-Language; Russian by default). `title` stays the HTTP status phrase.
Raise a field problem with `invalid(...)`; spectree's validation errors become the same shape through
`validation_errors(...)` (see eventops.openapi).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_MIME = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    """Raise from a handler to answer with a problem document.

    `errors` lists what was wrong with the input, one entry per field: {"field", "code", "message"}.
    """

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        type: str = "about:blank",
        errors: list[dict] | None = None,
        **extra,
    ):
        title = title or HTTP_STATUS_CODES.get(status, "Error")
        super().__init__(detail or title)
        self.status, self.title, self.type = status, title, type
        self.detail = str(detail) if detail is not None else None
        self.errors = errors or []
        self.extra = extra

    def to_dict(self) -> dict:
        body = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def field_error(field: str, code: str, message: str) -> dict:
    """One entry of a problem's `errors`: which field, a stable code for programs, a message for people."""
    return {"field": field, "code": code, "message": str(message)}


def invalid_request_detail() -> str:
    return _("The request has errors: correct the marked fields.")


def invalid(field: str, code: str, message: str, *, status: int = 422, detail: str | None = None) -> Problem:
    """The one way to refuse input because of one field: `raise invalid("email", "duplicate", _("..."))`."""
    return Problem(
        status, detail=detail or invalid_request_detail(), errors=[field_error(field, code, message)]
    )


def not_found(detail: str) -> Problem:
    return Problem(404, detail=detail)


# --- pydantic's own error kinds, in words -------------------------------------------------------------
# Errors a service raises itself (PydanticCustomError) already carry a translated message; these are the
# ones pydantic raises, keyed by its error type. Each takes the error's context (min_length, le, ...).

_PYDANTIC_MESSAGES: dict[str, Callable[[dict], str]] = {
    "missing": lambda c: _("This field is required."),
    "blank": lambda c: _("Fill in this field."),
    "string_type": lambda c: _("Text is expected."),
    "string_too_short": lambda c: _("Too short: at least %(n)s characters.", n=c.get("min_length")),
    "string_too_long": lambda c: _("Too long: at most %(n)s characters.", n=c.get("max_length")),
    "string_pattern_mismatch": lambda c: _("The value is in a wrong format."),
    "int_parsing": lambda c: _("A whole number is expected."),
    "int_type": lambda c: _("A whole number is expected."),
    "int_from_float": lambda c: _("A whole number is expected."),
    "float_parsing": lambda c: _("A number is expected."),
    "float_type": lambda c: _("A number is expected."),
    "greater_than_equal": lambda c: _("Must be at least %(n)s.", n=c.get("ge")),
    "greater_than": lambda c: _("Must be greater than %(n)s.", n=c.get("gt")),
    "less_than_equal": lambda c: _("Must be at most %(n)s.", n=c.get("le")),
    "less_than": lambda c: _("Must be less than %(n)s.", n=c.get("lt")),
    "bool_parsing": lambda c: _("Yes or no (true/false) is expected."),
    "bool_type": lambda c: _("Yes or no (true/false) is expected."),
    "date_from_datetime_parsing": lambda c: _("Invalid date: YYYY-MM-DD is expected."),
    "date_parsing": lambda c: _("Invalid date: YYYY-MM-DD is expected."),
    "date_type": lambda c: _("Invalid date: YYYY-MM-DD is expected."),
    "datetime_parsing": lambda c: _("Invalid date and time: YYYY-MM-DDTHH:MM is expected."),
    "datetime_from_date_parsing": lambda c: _("Invalid date and time: YYYY-MM-DDTHH:MM is expected."),
    "datetime_type": lambda c: _("Invalid date and time: YYYY-MM-DDTHH:MM is expected."),
    "time_parsing": lambda c: _("Invalid time: HH:MM is expected."),
    "time_type": lambda c: _("Invalid time: HH:MM is expected."),
    "enum": lambda c: _("Not an allowed value; allowed: %(values)s.", values=c.get("expected")),
    "literal_error": lambda c: _("Not an allowed value; allowed: %(values)s.", values=c.get("expected")),
    "model_attributes_type": lambda c: _("A JSON object is expected."),
    "model_type": lambda c: _("A JSON object is expected."),
    "dict_type": lambda c: _("A JSON object is expected."),
    "list_type": lambda c: _("A list is expected."),
    "too_long": lambda c: _("Too many items: at most %(n)s.", n=c.get("max_length")),
    "too_short": lambda c: _("Too few items: at least %(n)s.", n=c.get("min_length")),
    "json_invalid": lambda c: _("The request body is not valid JSON."),
    "json_type": lambda c: _("The request body is not valid JSON."),
    "extra_forbidden": lambda c: _("This field is not expected here."),
    "uuid_parsing": lambda c: _("The value is in a wrong format."),
    "value_error": lambda c: _("Not an allowed value."),
}


def pydantic_error(error: dict) -> dict:
    """One pydantic error (an item of ValidationError.errors()) as a translated field error."""
    field = ".".join(str(part) for part in error.get("loc", ())) or "body"
    code, context = error.get("type", "invalid"), error.get("ctx") or {}
    if code == "string_too_short" and context.get("min_length") == 1:
        code = "blank"  # "at least 1 character" is a clumsy way to say "fill it in"
    wording = _PYDANTIC_MESSAGES.get(code)
    message = wording(context) if wording else error.get("msg") or _("Not an allowed value.")
    return field_error(field, code, message)


def validation_problem(errors: list[dict]) -> Problem:
    """A 422 for a whole pydantic ValidationError: `validation_problem(exc.errors())`."""
    return Problem(422, detail=invalid_request_detail(), errors=[pydantic_error(e) for e in errors])


# --- the error handlers of every service --------------------------------------------------------------


def problem_response(problem: Problem):
    response = jsonify(problem.to_dict())
    response.status_code = problem.status
    response.mimetype = PROBLEM_MIME
    return response


def _http_detail(status: int) -> str:
    details = {
        400: _("The request could not be understood."),
        401: _("A valid service token is required."),
        403: _("This action is not allowed."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        409: _("The request conflicts with the current state."),
        413: _("The request is too large."),
        415: _("This content type is not supported."),
        429: _("Too many requests. Wait a minute and try again."),
    }
    return details.get(status, _("The request could not be completed."))


def register(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.response is not None and exc.response.mimetype == PROBLEM_MIME:
            return exc.response
        status = exc.code or 500
        response = problem_response(Problem(status, exc.name, _http_detail(status)))
        headers = dict(exc.get_headers() or [])
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if headers.get(header):
                response.headers[header] = headers[header]
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        # Never leak a stack trace to a caller; the log keeps it.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(Problem(500, detail=_("The service failed to handle this request.")))
