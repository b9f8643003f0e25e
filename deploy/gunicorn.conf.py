"""gunicorn settings shared by the gateway and the services in production.

Run one process group per service, e.g.
    gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:5001 'services.registration.app:create_app()'
"""

import os
import shutil

from eventops.config import ServerSettings
from eventops.files import PRIVATE_UMASK, restrict_umask

# WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_TIMEOUT, FORWARDED_ALLOW_IPS (README's configuration table)
_server = ServerSettings.from_env()
workers = _server.workers
# Threads let one worker wait on a slow service call while another request proceeds.
threads = _server.threads
timeout = _server.timeout
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
# No access log of gunicorn's own: it would write personal tokens in paths as they are. Every process logs
# each request itself, as JSON with the request id, tokens redacted (eventops.logs).
accesslog = None
errorlog = "-"
forwarded_allow_ips = _server.forwarded_allow_ips
# No runtime control socket: its default path (~/.gunicorn/gunicorn.ctl) is shared by every gunicorn of
# a user, and the gateway and three services run side by side.
control_socket_disable = True
# gunicorn's own files (sockets, heartbeat files); the hook below covers what the application writes.
umask = PRIVATE_UMASK


def on_starting(server):
    """prometheus-client's multiprocess mode: the gateway and each service are gunicorns side by side, and
    one's /metrics must not add up another's files, nor those of an earlier run. So each takes a subfolder
    of PROMETHEUS_MULTIPROC_DIR named after its port, emptied at start; its workers, forked after this and
    importing the library afresh, read the subfolder from the environment."""
    if _server.metrics_dir is None:
        return
    port = str(server.cfg.bind[0]).rsplit(":", 1)[-1]
    folder = _server.metrics_dir / f"gunicorn-{port}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def post_fork(server, worker):
    """Each worker writes databases, uploads and PDFs for its owner only (gunicorn's `umask` setting does
    not reach the application)."""
    restrict_umask()


def child_exit(server, worker):
    """prometheus-client's multiprocess mode: a finished worker's live gauges stop counting in /metrics
    (its counters and histograms stay in the sums, as they should)."""
    if _server.metrics_dir is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
