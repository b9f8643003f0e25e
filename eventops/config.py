"""Configuration from the environment (12-factor), with defaults that run on one laptop.

Every environment variable a process reads is read here, in `Settings.from_env`, and listed in the README's
configuration table. Nothing else in the code calls `os.environ`.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PORTS = {"web": 8000, "registration": 5001, "certificates": 5002, "feedback": 5003}
SERVICES = ("registration", "certificates", "feedback")
DEFAULT_PUBLIC_URL = f"http://127.0.0.1:{DEFAULT_PORTS['web']}"

_TRUE = ("1", "true", "yes", "on")


def var_dir() -> Path:
    path = Path(os.environ.get("EVENTOPS_VAR_DIR", REPO_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_from_file(name: str) -> str:
    """A random secret kept in var/ so that every local process shares it; created once, never in git."""
    path = var_dir() / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def service_url(name: str) -> str:
    default = f"http://127.0.0.1:{DEFAULT_PORTS[name]}"
    return os.environ.get(f"{name.upper()}_URL", default).rstrip("/")


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in _TRUE


@dataclass(frozen=True)
class Settings:
    """What one process needs to know about its surroundings."""

    #: which process this is: web, registration, certificates or feedback
    service: str
    database_url: str
    #: None means: use the embedded Redis (see eventops.queue)
    redis_url: str | None
    service_token: str
    secret_key: str
    storage_dir: Path
    testing: bool = False
    #: the gateway's address as people reach it: printed in QR codes, badges, certificates and links
    public_url: str = DEFAULT_PUBLIC_URL
    #: where each service is reached by the others and by the gateway
    service_urls: dict[str, str] = field(
        default_factory=lambda: {name: f"http://127.0.0.1:{DEFAULT_PORTS[name]}" for name in SERVICES}
    )
    #: the gateway's session cookie is sent over HTTPS only (set behind TLS)
    session_cookie_secure: bool = False
    #: rate limits on login and the public pages (tests of other things switch them off)
    ratelimit_enabled: bool = True
    #: how many proxies (nginx) stand in front of the gateway; their X-Forwarded-* headers are trusted
    proxy_hops: int = 0
    #: the address the HTTP processes listen on
    bind_host: str = "127.0.0.1"

    @classmethod
    def from_env(cls, service: str, **overrides) -> Settings:
        env = os.environ
        values = dict(
            service=service,
            database_url=(
                env.get(f"{service.upper()}_DATABASE_URL")
                or env.get("DATABASE_URL")
                or f"sqlite:///{var_dir() / (service + '.db')}"
            ),
            redis_url=env.get("REDIS_URL") or None,
            service_token=env.get("SERVICE_TOKEN") or secret_from_file("service_token"),
            secret_key=env.get("SECRET_KEY") or secret_from_file("secret_key"),
            storage_dir=Path(env.get("STORAGE_DIR", var_dir() / "storage")),
            public_url=(env.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
            service_urls={name: service_url(name) for name in SERVICES},
            session_cookie_secure=_flag(env.get("SESSION_COOKIE_SECURE"), False),
            ratelimit_enabled=_flag(env.get("RATELIMIT_ENABLED"), True),
            proxy_hops=int(env.get("PROXY_HOPS") or 0),
            bind_host=env.get("BIND_HOST") or "127.0.0.1",
        )
        values.update(overrides)
        return cls(**values)
