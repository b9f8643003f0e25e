"""Configuration from the environment (12-factor), with defaults that run on one laptop.

Every environment variable a process reads is read here, in `Settings.from_env`, and listed in the README's
configuration table. Nothing else in the code calls `os.environ`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eventops.files import private_directory

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PORTS = {"web": 8000, "registration": 5001, "certificates": 5002, "feedback": 5003}
SERVICES = ("registration", "certificates", "feedback")
DEFAULT_PUBLIC_URL = f"http://127.0.0.1:{DEFAULT_PORTS['web']}"
#: where `make run` starts its embedded Redis when REDIS_URL is not set
DEFAULT_EMBEDDED_REDIS_PORT = 6390
#: venue mode: the plain-HTTP port a tablet downloads the local CA certificate from
DEFAULT_VENUE_CA_PORT = 8080
#: `make run-prod`: where nginx listens (a port that needs no root)
DEFAULT_NGINX_PORT = 8443

_TRUE = ("1", "true", "yes", "on")


def var_dir(env: Mapping[str, str] | None = None) -> Path:
    """Local databases, secrets, uploads and PDFs: a folder only the processes' owner can open."""
    env = os.environ if env is None else env
    return private_directory(Path(env.get("EVENTOPS_VAR_DIR") or REPO_ROOT / "var"))


#: the shortest secret a process accepts (a generated one has 43 characters)
MIN_SECRET_LENGTH = 32


class InsecureSecret(ValueError):
    """A secret is empty or too short to protect anything: the process refuses to start with it."""


def check_secret(name: str, value: str) -> str:
    if len(value) < MIN_SECRET_LENGTH:
        raise InsecureSecret(
            f"{name} is {'empty' if not value else f'{len(value)} characters long'}: "
            f"at least {MIN_SECRET_LENGTH} are needed"
        )
    return value


def secret_from_file(name: str, env: Mapping[str, str] | None = None) -> str:
    """A random secret kept in var/ so that every local process shares it; created once, never in git."""
    path = var_dir(env) / name
    if not path.exists():
        _create_secret(path)
    secret = path.read_text().strip()
    check_secret(f"{path} (delete it to have a new one made, or set {name.upper()})", secret)
    return secret


def _create_secret(path: Path) -> None:
    """Writes the secret whole into a temporary file, then links it into place: a process starting at the
    same moment sees no file or the complete secret, never an empty one. A link (a rename that does not
    replace) keeps the secret of whichever process came first, so all of them share one."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32))
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: its secret is the one
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def service_url(name: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    default = f"http://127.0.0.1:{DEFAULT_PORTS[name]}"
    return (env.get(f"{name.upper()}_URL") or default).rstrip("/")


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in _TRUE


def _names(value: str | None) -> frozenset[str]:
    return frozenset(name.strip() for name in (value or "").split(",") if name.strip())


def parse_storage_url(url: str | None) -> tuple[str, str] | None:
    """STORAGE_URL as (bucket, key prefix) of an object store, or None for the local folder (unset, empty or
    `file:`); ValueError for anything else."""
    if url is None or url.strip() in ("", "file:", "file://"):
        return None
    scheme, separator, rest = url.strip().partition("://")
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    if (
        scheme != "s3"
        or not separator
        or not bucket
        or (prefix and any(part in ("", ".", "..") for part in prefix.split("/")))
    ):
        raise ValueError(f"STORAGE_URL must be unset, file: or s3://bucket/prefix, not {url!r}")
    return bucket, prefix


SMTP_SECURITY = ("none", "starttls", "tls")
_SMTP_DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True)
class SmtpSettings:
    """Where the mail worker hands letters over, and how fast."""

    #: None: no SMTP server, letters are kept in the outbox for organisers to read (a laptop demo)
    host: str | None = None
    port: int = 25
    #: none (plain, loopback relays), starttls (upgrade on connect, usually 587) or tls (implicit, 465)
    security: str = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    #: the From: of every letter, e.g. "Курсы ЮРИУ <noreply@example.ru>"
    mail_from: str = "EventOps <noreply@localhost>"
    #: letters a second across all mail workers; 0 means as fast as the server takes them
    rate: float = 0.0

    def __post_init__(self) -> None:
        if self.security not in SMTP_SECURITY:
            raise ValueError(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}: {self.security!r}")
        if self.rate < 0:
            raise ValueError(f"MAIL_RATE must not be negative: {self.rate}")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        security = (env.get("SMTP_SECURITY") or "none").strip().lower()
        return cls(
            host=env.get("SMTP_HOST") or None,
            port=int(env.get("SMTP_PORT") or _SMTP_DEFAULT_PORTS.get(security, 25)),
            security=security,
            username=env.get("SMTP_USERNAME") or "",
            password=env.get("SMTP_PASSWORD") or "",
            mail_from=env.get("MAIL_FROM") or cls.mail_from,
            rate=float(env.get("MAIL_RATE") or 0),
        )


@dataclass(frozen=True)
class ServerSettings:
    """gunicorn's settings (deploy/gunicorn.conf.py), the same for the gateway and every service."""

    #: worker processes per gunicorn (gunicorn's own variable name)
    workers: int = field(default_factory=lambda: (os.cpu_count() or 1) * 2 + 1)
    #: threads per worker: one request waits on a slow service call while another proceeds
    threads: int = 2
    #: seconds a request may take before its worker is restarted
    timeout: int = 30
    #: the proxies whose X-Forwarded-* gunicorn believes (nginx on the same host by default)
    forwarded_allow_ips: str = "127.0.0.1"
    #: prometheus-client's multiprocess folder (PROMETHEUS_MULTIPROC_DIR): each gunicorn takes a subfolder
    metrics_dir: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        env = os.environ if env is None else env
        values = {
            "workers": env.get("WEB_CONCURRENCY"),
            "threads": env.get("GUNICORN_THREADS"),
            "timeout": env.get("GUNICORN_TIMEOUT"),
        }
        return cls(
            **{name: int(value) for name, value in values.items() if value},
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS") or cls.forwarded_allow_ips,
            metrics_dir=Path(folder) if (folder := env.get("PROMETHEUS_MULTIPROC_DIR")) else None,
        )


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
    #: PostgreSQL connections a process keeps open once used (a burst opens up to 20 more, then closes them)
    database_pool_size: int = 10
    #: where certificate PDFs are kept: None (or `file:`) for storage_dir on this host, `s3://bucket/prefix`
    #: for an S3-compatible object store that workers on many hosts share (credentials: AWS_* variables)
    storage_url: str | None = None
    #: the object store's address when it is not AWS (MinIO, Ceph, a cloud's S3 endpoint)
    s3_endpoint_url: str | None = None
    #: the object store's region (None: boto3's own default, AWS_DEFAULT_REGION)
    s3_region: str | None = None
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
    #: the port each HTTP process listens on (`make run`; under gunicorn its --bind says it)
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    #: `make run` only: the port of the embedded Redis it starts when REDIS_URL is not set
    embedded_redis_port: int = DEFAULT_EMBEDDED_REDIS_PORT
    #: `make run` only: processes not to start (web, registration, certificates, feedback, worker, mailer,
    #: redis)
    skip_processes: frozenset[str] = frozenset()
    #: `make run` only: load the demo course and the demo staff accounts
    load_demo: bool = True
    #: `make run` only: venue mode, the gateway faces the venue's Wi-Fi over HTTPS (README, "Venue mode")
    venue: bool = False
    #: venue mode: the address to face; None means the laptop's Wi-Fi/LAN address, found at start
    venue_host: str | None = None
    #: venue mode: the plain-HTTP port that serves only the local CA certificate, for tablets to install
    venue_ca_port: int = DEFAULT_VENUE_CA_PORT
    #: `make run-prod` only: the address and port nginx listens on with TLS
    nginx_host: str = "127.0.0.1"
    nginx_port: int = DEFAULT_NGINX_PORT
    #: gunicorn (`make run-prod`, venue mode's gateway, deploy/)
    server: ServerSettings = field(default_factory=lambda: ServerSettings())
    #: outgoing mail (registration's mail worker); without a host, letters stay in the outbox unsent
    smtp: SmtpSettings = field(default_factory=lambda: SmtpSettings())
    #: a worker's Prometheus /metrics port (certificate and mail workers); None: not served
    metrics_port: int | None = None
    #: prometheus-client's multiprocess folder under gunicorn (the library reads the same variable itself)
    metrics_multiproc_dir: Path | None = None

    def __post_init__(self) -> None:
        check_secret("SERVICE_TOKEN (the service token)", self.service_token)
        check_secret("SECRET_KEY (the session key)", self.secret_key)
        parse_storage_url(self.storage_url)  # a mistyped store stops the process at start, not at a write

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        """`env` defaults to the process's environment; tests pass a mapping of their own."""
        env = os.environ if env is None else env
        values = dict(
            service=service,
            database_url=(
                env.get(f"{service.upper()}_DATABASE_URL")
                or env.get("DATABASE_URL")
                or f"sqlite:///{var_dir(env) / (service + '.db')}"
            ),
            database_pool_size=int(env.get("DATABASE_POOL_SIZE") or 10),
            redis_url=env.get("REDIS_URL") or None,
            service_token=env.get("SERVICE_TOKEN") or secret_from_file("service_token", env),
            secret_key=env.get("SECRET_KEY") or secret_from_file("secret_key", env),
            storage_dir=Path(env.get("STORAGE_DIR") or var_dir(env) / "storage"),
            storage_url=env.get("STORAGE_URL") or None,
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
            s3_region=env.get("S3_REGION") or None,
            public_url=(env.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
            service_urls={name: service_url(name, env) for name in SERVICES},
            session_cookie_secure=_flag(env.get("SESSION_COOKIE_SECURE"), False),
            ratelimit_enabled=_flag(env.get("RATELIMIT_ENABLED"), True),
            proxy_hops=int(env.get("PROXY_HOPS") or 0),
            bind_host=env.get("BIND_HOST") or "127.0.0.1",
            ports={
                name: int(env.get(f"{name.upper()}_PORT") or port) for name, port in DEFAULT_PORTS.items()
            },
            embedded_redis_port=int(env.get("EMBEDDED_REDIS_PORT") or DEFAULT_EMBEDDED_REDIS_PORT),
            skip_processes=_names(env.get("EVENTOPS_SKIP")),
            load_demo=not _flag(env.get("EVENTOPS_NO_DEMO"), False),
            venue=_flag(env.get("EVENTOPS_VENUE"), False) or bool(env.get("VENUE_HOST")),
            venue_host=env.get("VENUE_HOST") or None,
            venue_ca_port=int(env.get("VENUE_CA_PORT") or DEFAULT_VENUE_CA_PORT),
            nginx_host=env.get("NGINX_HOST") or "127.0.0.1",
            nginx_port=int(env.get("NGINX_PORT") or DEFAULT_NGINX_PORT),
            server=ServerSettings.from_env(env),
            smtp=SmtpSettings.from_env(env),
            metrics_port=int(env["METRICS_PORT"]) if env.get("METRICS_PORT") else None,
            metrics_multiproc_dir=(
                Path(env["PROMETHEUS_MULTIPROC_DIR"]) if env.get("PROMETHEUS_MULTIPROC_DIR") else None
            ),
        )
        values.update(overrides)
        return cls(**values)


class _RecordingEnvironment(dict):
    """An environment that remembers every name asked of it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self.read.add(key)
        return super().__contains__(key)


def variables_read(service: str) -> frozenset[str]:
    """The environment variables `Settings.from_env(service)` reads: what a deployment (deploy/compose.yaml)
    sets or leaves to its default. Found by asking it, so the list cannot fall behind the code."""
    with tempfile.TemporaryDirectory() as folder:  # the generated secrets go there, not into var/
        env = _RecordingEnvironment(EVENTOPS_VAR_DIR=folder)
        Settings.from_env(service, env)
    return frozenset(env.read)
