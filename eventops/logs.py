"""Structured logging: one JSON object per line on stderr, with the service and request id.

The request id follows one person's action everywhere: nginx sets it (or the gateway makes one), the gateway
sends it to the services (web.clients.base), a service puts it in the meta of the RQ jobs it queues
(eventops.queue.job_meta), and the worker binds it while the job runs, so every line logged for a
certificate render carries the id of the «Выдать» click that queued it.

Personal tokens never reach a log: a token is a key to someone's page (`/p/<token>`, the service's
`/participants/by-token/<token>`, an anonymous survey's `/s/<token>`), so every path and text written here
has them replaced. Verification codes stay: they are printed on the certificate for anyone to check.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-Id"
#: what an incoming request id may be (nginx's $request_id is 32 hex digits, ours 32 too): anything else, a
#: header a client made up to inject text into logs or to be very long, is replaced by a fresh one
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
#: the request id (and the RQ job, in a worker) of what this thread is doing now, for every log line
_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("log_context", default=None)
#: the same for every thread of the process: an RQ work horse does one job, in whatever threads it starts
_process_context: dict[str, str] = {}

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
            **_process_context,
            **(_context.get() or {}),
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


def request_id_from(header: str | None) -> str:
    """The incoming request id if it is a sane token, else a new one."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request (or job) this thread works for, if any."""
    return (_context.get() or {}).get("request_id") or _process_context.get("request_id")


@contextlib.contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Every line logged inside carries these fields (request_id, job_id); None values are left out."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


@contextlib.contextmanager
def bound_for_process(**fields: str | None) -> Iterator[None]:
    """`bound`, for every thread of the process (a work horse, and the threads its job starts)."""
    kept = dict(_process_context)
    _process_context.update({k: v for k, v in fields.items() if v})
    try:
        yield
    finally:
        _process_context.clear()
        _process_context.update(kept)


def log_requests(app: Flask) -> None:
    log = logging.getLogger("eventops.request")

    @app.before_request
    def start_timer():
        g.request_started = time.perf_counter()
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.log_context = _context.set({"request_id": g.request_id})

    @app.teardown_request
    def forget_request_id(_exc):
        # A server thread takes the next request after this one: it must not log under this one's id.
        token = g.pop("log_context", None)
        if token is not None:
            with contextlib.suppress(ValueError):  # set in another context (never, in practice)
                _context.reset(token)

    @app.after_request
    def log_request(response):
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if request.path not in ("/healthz", "/readyz", "/metrics"):  # probes and scrapes, every few seconds
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
