"""Errors as application/problem+json (RFC 9457), the one error format of every service API."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

PROBLEM_MIME = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    """Raise from a handler to answer with a problem document.

    `errors` lists what was wrong with the input, one entry per field: {"field", "code", "message"}.
    """

    def __init__(self, status: int, title: str, detail: str | None = None, *,
                 type: str = "about:blank", errors: list[dict] | None = None, **extra):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.type = status, title, detail, type
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


def problem_response(problem: Problem):
    response = jsonify(problem.to_dict())
    response.status_code = problem.status
    response.mimetype = PROBLEM_MIME
    return response


def register(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.response is not None and exc.response.mimetype == PROBLEM_MIME:
            return exc.response
        response = problem_response(Problem(exc.code or 500, exc.name, exc.description))
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if exc.get_headers() and dict(exc.get_headers()).get(header):
                response.headers[header] = dict(exc.get_headers())[header]
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        # Never leak a stack trace to a caller; the log keeps it.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(Problem(500, "Internal Server Error",
                                        "The service failed to handle this request."))
