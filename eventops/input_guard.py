"""One guard in front of every service: input that no handler should ever see is refused before routing's
result reaches a handler, as a translated problem instead of a 500 from the database or the JSON parser.

- integers beyond what a database column holds (32-bit, PostgreSQL's INTEGER): 404 in a path (no such id
  can exist), 422 in a JSON body or an integer query parameter;
- control characters (C0, except tab, CR and LF) and lone surrogates in the path, the query, form fields,
  file names (checked when the form is read) and any JSON string or key: 422 naming the field;
- JSON nested deeper than MAX_JSON_DEPTH (Python's parser would overflow its stack), or not JSON at all: 400;
  numbers that are not finite (NaN, Infinity, 1e400): 422;
- a body of a type the operation does not take (a form where it takes JSON, JSON where it takes a file): 415.

The operations' shapes come from the service's OpenAPI document, so the guard knows which query parameters
are integers and which operations take JSON without any service telling it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask import Flask, Request, current_app, request
from flask_babel import gettext as _
from spectree import SpecTree
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from eventops.problems import Problem, field_error, invalid_request_detail

#: the integer range of a database id or count column (PostgreSQL INTEGER; SQLite holds more)
MIN_INT, MAX_INT = -(2**31), 2**31 - 1
#: JSON deeper than this is refused before parsing; real requests nest a handful of levels
MAX_JSON_DEPTH = 64
#: a problem names at most this many fields: enough to correct a form, not a flood
MAX_ERRORS = 50

#: C0 control characters but tab, LF and CR; and UTF-16 surrogates, which no valid text contains
FORBIDDEN_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` that still routes an id no column can hold, so that the guard answers 404 for it: a
    converter that refused it would make the router answer 405 when another method matches the path."""

    def to_python(self, value: str):
        if len(value.lstrip("0")) > len(str(MAX_INT)):  # never int() a 5000-digit number: out of range anyway
            return MAX_INT + 1
        return super().to_python(value)


class GuardedRequest(Request):
    """Checks a form's fields and file names when the form is read, not before: a service may refuse a large
    upload unread (registration's import answers 413 from the Content-Length alone)."""

    def _load_form_data(self) -> None:
        already_read = "form" in self.__dict__
        super()._load_form_data()
        if not already_read and (errors := list(_form_errors(self))):
            raise Problem(422, detail=invalid_request_detail(), errors=errors[:MAX_ERRORS])


def register(app: Flask, spec: SpecTree) -> None:
    """Call before the blueprints are registered: their `<int:...>` rules take the bounded converter."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.request_class = GuardedRequest
    app.extensions["eventops_input_guard"] = _Operations(spec)
    app.before_request(_guard)


# --- what each operation takes, from the OpenAPI document -------------------------------------------------


@dataclass
class _Operation:
    #: the media types its request body may have; empty: it takes no body (or is not in the document)
    body_types: frozenset[str] = frozenset()
    #: the query parameters that are integers
    integer_query: set[str] = field(default_factory=set)


class _Operations:
    def __init__(self, spec: SpecTree):
        self.spec = spec
        self.by_rule: dict[tuple[str, str], _Operation] | None = None

    def find(self, rule: str, method: str) -> _Operation:
        if self.by_rule is None:  # the document exists only once every blueprint is registered
            self.by_rule = self._read(self.spec.spec)
        return self.by_rule.get((_openapi_path(rule), method.lower()), _Operation())

    @staticmethod
    def _read(document: dict) -> dict[tuple[str, str], _Operation]:
        table = {}
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict):
                    continue
                content = operation.get("requestBody", {}).get("content", {})
                table[(path, method)] = _Operation(
                    body_types=frozenset(content),
                    integer_query={
                        p["name"]
                        for p in operation.get("parameters", [])
                        if p.get("in") == "query" and _admits_integer(p.get("schema", {}))
                    },
                )
        return table


def _openapi_path(rule: str) -> str:
    """/events/<int:event_id> -> /events/{event_id}"""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def _admits_integer(schema: dict) -> bool:
    if schema.get("type") == "integer" or "integer" in (schema.get("type") or []):
        return True
    return any(_admits_integer(part) for key in ("anyOf", "oneOf", "allOf") for part in schema.get(key, []))


# --- the guard ------------------------------------------------------------------------------------------


def _guard() -> None:
    if any(isinstance(v, int) and not MIN_INT <= v <= MAX_INT for v in (request.view_args or {}).values()):
        raise Problem(404, detail=_("Not found."))
    errors = list(_path_errors()) + list(_query_errors())
    if not errors and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        errors = list(_body_errors())
    if errors:
        raise Problem(422, detail=invalid_request_detail(), errors=errors[:MAX_ERRORS])


def _operation() -> _Operation:
    if request.url_rule is None:
        return _Operation()
    return current_app.extensions["eventops_input_guard"].find(request.url_rule.rule, request.method)


def _forbidden_character(name: str) -> dict:
    return field_error(
        name, "forbidden_character", _("Remove the control character (such as NUL) from this text.")
    )


def _out_of_range(name: str) -> dict:
    return field_error(
        name,
        "out_of_range",
        _("The number is out of range: from %(min)s to %(max)s.", min=MIN_INT, max=MAX_INT),
    )


def _path_errors() -> Iterator[dict]:
    if not FORBIDDEN_CHARACTER.search(request.path):
        return
    arguments = [k for k, v in (request.view_args or {}).items() if FORBIDDEN_CHARACTER.search(str(v))]
    yield _forbidden_character(arguments[0] if arguments else "path")


def _query_errors() -> Iterator[dict]:
    integers = _operation().integer_query if request.args else set()
    for name, values in request.args.lists():
        if FORBIDDEN_CHARACTER.search(name) or any(FORBIDDEN_CHARACTER.search(v) for v in values):
            yield _forbidden_character(_printable(name))
        elif name in integers and any(_integer_out_of_range(v) for v in values):
            yield _out_of_range(name)


def _integer_out_of_range(text: str) -> bool:
    text = text.strip()
    if not _INTEGER_TEXT.fullmatch(text):
        return False  # not a number at all: the validation of the parameter says so
    return len(text.lstrip("+-").lstrip("0")) > len(str(MAX_INT)) or not MIN_INT <= int(text) <= MAX_INT


def _body_errors() -> Iterator[dict]:
    # A body the handler's validation would not read (a form where JSON is expected) reaches it as None.
    takes = _operation().body_types
    if takes and request.mimetype not in takes and (request.mimetype or request.get_data(cache=True)):
        raise Problem(
            415,
            detail=_(
                "The request body is of a type this operation does not take; it takes %(types)s.",
                types=", ".join(sorted(takes)),
            ),
        )
    if request.is_json:
        yield from _json_errors()


def _json_errors() -> Iterator[dict]:
    data = request.get_data(cache=True)
    if not data.strip():
        return  # no body: the validation of required fields says what is missing
    if json_too_deep(data, MAX_JSON_DEPTH):
        raise Problem(400, detail=_("The request body is nested too deeply."))
    try:
        # Parsed once here; Flask keeps the result, so the handler's validation does not parse it again.
        body = request.get_json()
    except BadRequest:
        raise Problem(400, detail=_("The request body is not valid JSON.")) from None
    yield from _value_errors(body, ())


def json_too_deep(data: bytes, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects deeper than `limit`, read without parsing it."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS):
        depth = depth + 1 if byte in _OPENERS else depth - 1
        if depth > limit:
            return True
    return False


def _value_errors(value, path: tuple) -> Iterator[dict]:
    if isinstance(value, str):
        if FORBIDDEN_CHARACTER.search(value):
            yield _forbidden_character(_field(path))
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            yield _out_of_range(_field(path))
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield field_error(_field(path), "not_finite", _("A number is expected."))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _value_errors(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            if FORBIDDEN_CHARACTER.search(key):
                yield _forbidden_character(_field((*path, _printable(key))))
            else:
                yield from _value_errors(item, (*path, key))


def _form_errors(form_request: Request) -> Iterator[dict]:
    # A multipart part may come without a name (None): it is nobody's field, but it is checked all the same.
    for name, values in form_request.form.lists():
        if FORBIDDEN_CHARACTER.search(name or "") or any(FORBIDDEN_CHARACTER.search(v) for v in values):
            yield _forbidden_character(_printable(name or "") or "form")
    for name, uploads in form_request.files.lists():
        if any(FORBIDDEN_CHARACTER.search(upload.filename or "") for upload in uploads):
            yield _forbidden_character(_printable(name or "") or "form")


def _field(path: tuple) -> str:
    """Dotted, as pydantic's locations are reported (eventops.problems.pydantic_error)."""
    return ".".join(str(part) for part in path) or "body"


def _printable(name: str) -> str:
    return FORBIDDEN_CHARACTER.sub("\N{REPLACEMENT CHARACTER}", name)
