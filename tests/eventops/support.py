"""What the cross-service tests share: every service's operations, read from its own /openapi.json, so that
a new endpoint is covered by the contracts the day it is published; and what a good problem looks like."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.conftest import create_service_app, make_settings

SERVICES = ("registration", "certificates", "feedback")
PROBLEM_MIME = "application/problem+json"
#: an id no test creates, still inside the 32-bit range every id column holds
MISSING_ID = 2_000_000_000
MISSING_TEXT = "no-such-thing-7f3a9c"

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
LATIN = re.compile("[a-z]", re.IGNORECASE)

#: values of each JSON type, in the order a wrong-typed body tries them for a property
WRONG_VALUES = ({"unexpected": "object"}, ["unexpected"], 12345, "unexpected", True)


@dataclass(frozen=True)
class Operation:
    """One method on one path of a service's published API."""

    service: str
    method: str
    path: str
    document: dict

    @property
    def id(self) -> str:
        return f"{self.service} {self.method.upper()} {self.path}"

    @property
    def spec(self) -> dict:
        return self.document["paths"][self.path][self.method]

    @property
    def path_parameters(self) -> list[dict]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == "path"]

    @property
    def has_integer_id(self) -> bool:
        return any(
            json_types(p.get("schema", {}), self.document) == {"integer"} for p in self.path_parameters
        )

    @property
    def json_body(self) -> dict | None:
        """The schema of the JSON request body, or None when the operation takes none."""
        content = self.spec.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return resolve(schema, self.document) if schema is not None else None

    def url(self, integer: int = MISSING_ID, text: str = MISSING_TEXT) -> str:
        """The path with every parameter filled: integers with `integer`, anything else with `text`."""
        url = self.path
        for parameter in self.path_parameters:
            is_integer = "integer" in (json_types(parameter.get("schema", {}), self.document) or ())
            url = url.replace("{" + parameter["name"] + "}", str(integer) if is_integer else text)
        return url


@cache
def published_document(service: str) -> dict:
    """The service's /openapi.json, from an app built on a throwaway database (nothing connects to it)."""
    folder = Path(tempfile.mkdtemp(prefix=f"eventops-openapi-{service}-"))
    app = create_service_app(service, make_settings(service, f"sqlite:///{folder}/none.db", folder))
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200, f"{service}: /openapi.json answered {response.status_code}"
    return response.get_json()


def operations(service: str) -> list[Operation]:
    document = published_document(service)
    methods = ("get", "post", "put", "patch", "delete")
    return [
        Operation(service, method, path, document)
        for path, item in sorted(document.get("paths", {}).items())
        for method in methods
        if method in item
    ]


def all_operations() -> list[Operation]:
    return [operation for service in SERVICES for operation in operations(service)]


# --- JSON Schema, as much of it as the contracts need ----------------------------------------------------


def resolve(schema: dict, document: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        node = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def json_types(schema: dict, document: dict) -> set[str] | None:
    """The JSON types a schema admits; None when it admits anything."""
    schema = resolve(schema, document)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            parts = [json_types(part, document) for part in schema[combinator]]
            return None if any(part is None for part in parts) else set().union(*parts)
    if "allOf" in schema:
        parts = [types for part in schema["allOf"] if (types := json_types(part, document)) is not None]
        return set.intersection(*parts) if parts else None
    if "enum" in schema:
        return {_json_type(value) for value in schema["enum"]}
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    if "properties" in schema or "additionalProperties" in schema:
        return {"object"}
    if "items" in schema:
        return {"array"}
    return None


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _admits(types: set[str], value) -> bool:
    kind = _json_type(value)
    return kind in types or (kind == "integer" and "number" in types)


def wrong_typed_body(schema: dict, document: dict) -> dict:
    """A body giving every declared property a value of a JSON type the property does not take."""
    body = {}
    for name, prop in resolve(schema, document).get("properties", {}).items():
        types = json_types(prop, document)
        if types is None:
            continue
        body[name] = next((v for v in WRONG_VALUES if not _admits(types, v)), None)
    return body


# --- problems --------------------------------------------------------------------------------------------


def problem_shape_errors(response) -> list[str]:
    """What is wrong with a response that should be an RFC 9457 problem document (empty: nothing)."""
    if response.mimetype != PROBLEM_MIME:
        return [f"answered {response.status_code} as {response.mimetype!r}, not {PROBLEM_MIME}"]
    body = response.get_json(silent=True)
    if not isinstance(body, dict):
        return ["the problem document is not a JSON object"]
    wrong = []
    for key in ("type", "title"):
        if not isinstance(body.get(key), str) or not body[key]:
            wrong.append(f"no {key!r}")
    if body.get("status") != response.status_code:
        wrong.append(f"'status' is {body.get('status')!r}, the response's is {response.status_code}")
    if not isinstance(body.get("detail"), str) or not body["detail"].strip():
        wrong.append("no 'detail' for a person")
    errors = body.get("errors", [])
    if not isinstance(errors, list):
        return [*wrong, "'errors' is not a list"]
    for error in errors:
        if not isinstance(error, dict) or not all(
            isinstance(error.get(key), str) and error[key] for key in ("field", "code", "message")
        ):
            wrong.append(f"an entry of 'errors' lacks field, code or message: {error!r}")
    return wrong


QUOTED = re.compile(r"'[^']*'|«[^»]*»|\"[^\"]*\"")


def wording_errors(body: dict, language: str) -> list[str]:
    """Texts for a person (the detail, each field's message) that are not in the language asked for."""
    texts = [("detail", body.get("detail"))]
    texts += [(f"errors[{e.get('field')}].message", e.get("message")) for e in body.get("errors") or []]
    wrong = []
    for where, text in texts:
        if isinstance(text, str):
            # Quoted values are data, not wording: an English message may list the allowed value «ПК».
            text = QUOTED.sub("", text)
        if not isinstance(text, str) or not text.strip():
            wrong.append(f"{where} is missing")
        elif language == "ru" and not CYRILLIC.search(text):
            wrong.append(f"{where} is not Russian: {text!r}")
        elif language == "en" and (CYRILLIC.search(text) or not LATIN.search(text)):
            wrong.append(f"{where} is not English: {text!r}")
    return wrong


def sample(body: str, name: str, **labels: str) -> float | None:
    """One sample's value from the Prometheus text format, or None if it is not there."""
    for line in body.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _space, value = line.rpartition(" ")
        found_name, _brace, found_labels = metric.partition("{")
        parsed = dict(re.findall(r'(\w+)="([^"]*)"', found_labels))
        if found_name == name and all(parsed.get(k) == v for k, v in labels.items()):
            return float(value)
    return None
