"""Prometheus metrics of every process: `GET /metrics` on the gateway and each service, a small HTTP server
in each worker.

- Request latency by route (Flask's URL rule, e.g. `/p/<token>`, never the path: no token in a label) and
  status; queue lengths read from Redis at each scrape; job durations and outcomes (observed by a worker's
  own process after each forked horse has finished, from the job's timestamps in Redis: a horse exits after
  its job, and what it counted in its memory would die with it); check-ins recorded by outcome, certificates
  rendered.
- Under gunicorn several worker processes serve one app: with PROMETHEUS_MULTIPROC_DIR set (prometheus
  client's multiprocess mode, read by the library itself at import), each process writes its values to
  files there and /metrics adds up the files of them all (deploy/gunicorn.conf.py marks a dead worker's
  files). The folder must be empty when the server starts, and one per process group.
- /metrics needs no login but answers only a client on loopback that came straight, not through a proxy
  (nginx adds X-Forwarded-For), or a caller with the service token; anyone else gets 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

#: what this process counts (in multiprocess mode the values live in files; this registry still names them)
PROCESS = CollectorRegistry(auto_describe=True)

#: web pages and API calls take milliseconds to a few seconds; a ZIP download longer
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_JOB_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

REQUEST_LATENCY = Histogram(
    "eventops_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (the URL rule, not the path) and status.",
    ["service", "method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
    registry=PROCESS,
)
JOB_DURATION = Histogram(
    "eventops_job_duration_seconds",
    "Time an RQ job ran, by queue, job function and how it ended.",
    ["queue", "job", "status"],
    buckets=_JOB_BUCKETS,
    registry=PROCESS,
)
CHECKINS_RECORDED = Counter(
    "eventops_checkins_recorded_total",
    "Scans stored by the certificates service, by outcome (retries of a stored scan are not counted).",
    ["outcome"],
    registry=PROCESS,
)
CERTIFICATES_RENDERED = Counter(
    "eventops_certificates_rendered_total",
    "Certificate PDFs rendered and stored by the certificate workers.",
    registry=PROCESS,
)

#: a route label for a request no URL rule matched (a 404): the path itself could hold anything
UNMATCHED = "(unmatched)"


# --- scraping ----------------------------------------------------------------------------------------


class QueueLengths:
    """`eventops_queue_length{queue}`, read from Redis when scraped; no sample when Redis is away."""

    def __init__(self, connect: Callable[[], object], queues: Iterable[str]):
        self.connect, self.queues = connect, tuple(queues)

    def collect(self):
        from rq import Queue

        family = GaugeMetricFamily("eventops_queue_length", "Jobs waiting in an RQ queue.", labels=["queue"])
        try:
            connection = self.connect()
            for name in self.queues:
                family.add_metric([name], Queue(name, connection=connection).count)
        except Exception as exc:  # a scrape must not fail with Redis: readiness says Redis is down
            log.warning("queue length not read: %s", exc)
            return
        yield family


def exposition(multiproc_dir: Path | None, extra: Iterable[object] = ()) -> bytes:
    """This process's metrics (or all gunicorn workers' in multiprocess mode) and `extra` collectors."""
    registry = CollectorRegistry(auto_describe=False)
    if multiproc_dir is not None:
        MultiProcessCollector(registry, path=str(multiproc_dir))
    else:
        registry.register(PROCESS)
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


def may_scrape(remote_addr: str | None, forwarded: bool, authorization: str, token: str) -> bool:
    """A direct client on loopback (Prometheus on the same host), or one with the service token."""
    scheme, _space, given = authorization.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
        return True
    if forwarded or not remote_addr:
        return False
    try:
        return ipaddress.ip_address(remote_addr).is_loopback
    except ValueError:
        return False


# --- HTTP processes ----------------------------------------------------------------------------------


def init_app(app: Flask, service: str, queue_lengths: QueueLengths | None = None) -> None:
    """Time every request of `app` and serve /metrics."""

    @app.before_request
    def start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response):
        started = g.pop("metrics_started", None)
        if started is not None and request.endpoint != "metrics":
            rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
            REQUEST_LATENCY.labels(service, request.method, rule, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics", endpoint="metrics")
    def metrics():
        settings = current_app.config["SETTINGS"]
        # request.remote_addr is the client as the app sees it: behind ProxyFix, the forwarded address.
        forwarded = bool(request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"))
        if not may_scrape(
            request.remote_addr, forwarded, request.headers.get("Authorization", ""), settings.service_token
        ):
            abort(404)  # as if there were none: nothing to learn here from outside
        body = exposition(settings.metrics_multiproc_dir, [queue_lengths] if queue_lengths else [])
        return Response(
            body, mimetype=CONTENT_TYPE_LATEST.split(";")[0], headers={"Cache-Control": "no-store"}
        )


# --- workers -----------------------------------------------------------------------------------------


def serve_worker_metrics(port: int, host: str = "127.0.0.1", extra: Iterable[object] = ()) -> None:
    """A worker's /metrics on its own port (METRICS_PORT), in a thread of the worker's main process.

    A forking worker's main process outlives every job, so its own registry is enough there; the server
    answers everyone who reaches the port, so it listens on loopback unless BIND_HOST says otherwise.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PROCESS)
    for collector in extra:
        registry.register(collector)
    start_http_server(port, addr=host, registry=registry)
    log.info("metrics served", extra={"fields": {"port": port, "host": host}})


def observe_job(job, queue_name: str) -> None:
    """After a job's horse has ended: its duration and how it ended, from what RQ stored in Redis."""
    try:
        job.refresh()
    except Exception:  # the job's record expired or was deleted: nothing to observe
        return
    if job.started_at is None or job.ended_at is None:
        status = "abandoned"  # the horse died before RQ could record the end
        duration = 0.0
    else:
        status = job.get_status(refresh=False).value if job.get_status(refresh=False) else "unknown"
        duration = max(0.0, (job.ended_at - job.started_at).total_seconds())
    JOB_DURATION.labels(queue_name, job.func_name.rsplit(".", 1)[-1], status).observe(duration)
