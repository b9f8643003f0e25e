"""Configuration from the environment (12-factor), with defaults that run on one laptop."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PORTS = {"web": 8000, "registration": 5001, "certificates": 5002, "feedback": 5003}


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

    @classmethod
    def from_env(cls, service: str, **overrides) -> "Settings":
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
        )
        values.update(overrides)
        return cls(**values)
