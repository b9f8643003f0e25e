"""gunicorn settings shared by the gateway and the services in production.

Run one process group per service, e.g.
    gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:5001 'services.registration.app:create_app()'
"""

import multiprocessing
import os

from eventops.files import PRIVATE_UMASK, restrict_umask

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Threads let one worker wait on a slow service call while another request proceeds.
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
# No access log of gunicorn's own: it would write personal tokens in paths as they are. Every process logs
# each request itself, as JSON with the request id, tokens redacted (eventops.logs).
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's own files (sockets, heartbeat files); the hook below covers what the application writes.
umask = PRIVATE_UMASK


def post_fork(server, worker):
    """Each worker writes databases, uploads and PDFs for its owner only (gunicorn's `umask` setting does
    not reach the application)."""
    restrict_umask()


def child_exit(server, worker):
    """prometheus-client's multiprocess mode: a finished worker's live gauges stop counting in /metrics
    (its counters and histograms stay in the sums, as they should)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
