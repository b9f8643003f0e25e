"""Structured logging: one JSON object per line on stderr, with the service and request id.

Personal tokens never reach a log: a token is a key to someone's page (`/p/<token>`, the service's
`/participants/by-token/<token>`, an anonymous survey's `/s/<token>`), so every path and text written here
has them replaced. Verification codes stay: they are printed on the certificate for anyone to check.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-Id"

#: a path segment that carries a personal token, and the token after it (up to the next separator)
PERSONAL_TOKEN = re.compile(r"(/(?:p|s|by-token)/)[^/?#\s\"'<>]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """The text with every personal token in a path replaced by [redacted]."""
    return PERSONAL_TOKEN.sub(rf"\g<1>{REDACTED}", text)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(service: str, level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def log_requests(app: Flask) -> None:
    log = logging.getLogger("eventops.request")

    @app.before_request
    def start_timer():
        g.request_started = time.perf_counter()
        g.request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if request.path != "/healthz":
            log.info(
                "request",
                extra={
                    "fields": {
                        "method": request.method,
                        "path": redact(request.path),
                        "status": response.status_code,
                        "ms": round(elapsed_ms, 1),
                        "request_id": g.get("request_id"),
                    }
                },
            )
        return response
