"""OpenAPI for every service API (spectree, pydantic models), with validation errors as problem+json."""

from __future__ import annotations

from flask import Flask, jsonify
from spectree import SpecTree

from eventops.problems import PROBLEM_MIME, validation_problem


def _problem_on_invalid_request(request, response, validation_error, _instance, _adapter=None):
    """spectree's hook, the one for every service: a validation error becomes an RFC 9457 document with
    one translated entry per field (eventops.problems.pydantic_error)."""
    if validation_error is None or response is None:
        return
    body = validation_problem(validation_error.errors()).to_dict()
    response.set_data(jsonify(body).get_data())
    response.mimetype = PROBLEM_MIME


def make_spec(title: str) -> SpecTree:
    return SpecTree(
        "flask",
        title=title,
        version="v1",
        path="apidoc",
        mode="strict",
        annotations=True,
        validation_error_status=422,
        before=_problem_on_invalid_request,
    )


def register(app: Flask, spec: SpecTree) -> None:
    spec.register(app)

    @app.get("/openapi.json")
    def openapi_json():
        return jsonify(spec.spec)
