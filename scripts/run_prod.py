"""`make run-prod`: the production topology on this one machine, without containers.

PostgreSQL (the local server, started if it is down; the databases created if missing) and a real Redis
(started if it is down), the migrations as a step of their own, then deploy/Procfile under honcho: the
gateway and every service under gunicorn with deploy/gunicorn.conf.py, two certificate workers and the mail
worker; and nginx in front of the gateway only, with TLS, from deploy/nginx.conf filled in under
var/nginx/. It waits until every /healthz answers through nginx and prints where to go. Ctrl-C stops
everything it started, PostgreSQL and Redis included if it started them.

Its settings come from eventops.config.Settings (the README's configuration table): <SERVICE>_DATABASE_URL
or DATABASE_URL (default: postgresql+psycopg://postgres@127.0.0.1:5432/eventops_<service>), REDIS_URL
(default redis://127.0.0.1:6379/0), NGINX_HOST, NGINX_PORT, PUBLIC_URL (default https://NGINX_HOST:NGINX_PORT),
<NAME>_PORT for the processes behind nginx, WEB_CONCURRENCY and GUNICORN_THREADS.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis
from honcho.environ import parse_procfile
from honcho.manager import Manager
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from eventops import tls
from eventops.config import DEFAULT_PUBLIC_URL, Settings, var_dir
from eventops.files import private_directory, restrict_umask
from scripts.run_local import APPS, ROOT, banner, migrate, port_is_free, say, url_host, wait_until_healthy

PYTHON = sys.executable
CERTIFICATE_WORKERS = 2
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"


# --- PostgreSQL ----------------------------------------------------------------------------------


def database_urls() -> dict[str, str]:
    """Each process's database: as configured, or a database of its own on the local PostgreSQL."""
    urls = {}
    for name in APPS:
        url = Settings.from_env(name).database_url
        urls[name] = f"{DEFAULT_POSTGRES}eventops_{name}" if url.startswith("sqlite") else url
    return urls


def postgres_answers(admin_url: str) -> bool:
    engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:  # refused, not started, not yet accepting: all "not up"
        return False
    finally:
        engine.dispose()


def start_postgres(admin_url: str) -> str:
    """Starts the newest local cluster (Debian's pg_ctlcluster), as .ci/run does; returns its version."""
    if make_url(admin_url).host not in LOCAL_HOSTS:
        raise SystemExit(f"run-prod: PostgreSQL at {make_url(admin_url).host} does not answer")
    clusters = sorted(
        Path("/etc/postgresql").glob("*/main"), key=lambda p: [int(x) for x in p.parent.name.split(".")]
    )
    if not clusters or not shutil.which("pg_ctlcluster"):
        raise SystemExit(
            "run-prod: PostgreSQL is not running and no local cluster was found; install it with\n"
            "    sudo apt-get install -y postgresql"
        )
    version = clusters[-1].parent.name
    say(f"starting PostgreSQL {version}/main")
    result = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"])
    deadline = time.monotonic() + 30
    while not postgres_answers(admin_url):
        if result.returncode != 0 or time.monotonic() > deadline:
            raise SystemExit(f"run-prod: PostgreSQL {version}/main did not start (as root, or as postgres?)")
        time.sleep(0.5)
    return version


def create_databases(urls: dict[str, str]) -> list[str]:
    """Creates every database that does not exist yet; returns the clusters this started."""
    started = []
    for url in dict.fromkeys(urls.values()):
        target = make_url(url)
        admin_url = target.set(database="postgres").render_as_string(hide_password=False)
        if not postgres_answers(admin_url) and (version := start_postgres(admin_url)):
            started.append(version)
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).scalar()
            if not exists:
                say(f"creating the database {target.database}")
                quoted = target.database.replace('"', '""')
                connection.execute(text(f'CREATE DATABASE "{quoted}"'))
        engine.dispose()
    return started


def stop_postgres(versions: list[str]) -> None:
    for version in versions:
        say(f"stopping PostgreSQL {version}/main (this started it)")
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop"])


# --- Redis ---------------------------------------------------------------------------------------


def ensure_redis(url: str) -> subprocess.Popen | None:
    """A real Redis at the URL: the one running there, or one started here (stopped on exit)."""
    if _redis_answers(url):
        return None
    parts = urlsplit(url)
    if parts.hostname not in LOCAL_HOSTS or not shutil.which("redis-server"):
        raise SystemExit(
            f"run-prod: Redis at {parts.hostname}:{parts.port} does not answer (apt-get install redis-server)"
        )
    folder = private_directory(var_dir() / "redis")
    port = str(parts.port or 6379)
    say(f"starting redis-server on 127.0.0.1:{port} (its files in {folder})")
    server = subprocess.Popen(
        ["redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", str(folder), "--appendonly", "yes"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches it through this launcher, after the workers have stopped
    )
    deadline = time.monotonic() + 30
    while not _redis_answers(url):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"run-prod: redis-server did not start on port {port}")
        time.sleep(0.2)
    return server


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


# --- nginx ---------------------------------------------------------------------------------------


def nginx_binary() -> str:
    """nginx from Debian's package; installed here when running as root (scripts/setup.sh does it too)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    if os.geteuid() == 0:
        say("nginx is not installed: installing Debian's nginx package")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"], env=env, check=True
        )
        return shutil.which("nginx") or "/usr/sbin/nginx"
    raise SystemExit("run-prod: nginx is not installed; install it with\n    sudo apt-get install -y nginx")


def nginx_site(settings: Settings, files: tls.TlsFiles, prefix: Path, public_host: str) -> str:
    """deploy/nginx.conf with its @NAME@ fields filled in for this machine."""
    values = {
        "LISTEN": f"{url_host(settings.nginx_host)}:{settings.nginx_port}",
        # The plain-HTTP redirect on a socket file: ports under 1024 need root, and this one has no use here
        # but to keep the template's redirect server exercised.
        "HTTP_LISTEN": f"unix:{prefix / 'http.sock'}",
        "SERVER_NAME": public_host,
        "TLS_CERTIFICATE": str(files.certificate),
        "TLS_KEY": str(files.key),
        "ACCESS_LOG": str(prefix / "access.log"),
        "STATIC_DIR": str(ROOT / "web" / "static"),
        **{
            name.upper(): f"127.0.0.1:{settings.ports[name]}"
            for name in ("registration", "certificates", "feedback")
        },
        "GATEWAY": f"127.0.0.1:{settings.ports['web']}",
    }
    site = NGINX_TEMPLATE.read_text()
    for name, value in values.items():
        site = site.replace(f"@{name}@", value)
    if "@" in "".join(line.split("#")[0] for line in site.splitlines()):
        raise SystemExit(f"run-prod: {NGINX_TEMPLATE} has a field this launcher does not fill in")
    return site


def nginx_main(prefix: Path, site: Path) -> str:
    """The main nginx.conf: a non-daemon child of this launcher, every file of its own under var/nginx/."""
    lines = [
        "daemon off;",
        "worker_processes 2;",
        f"pid {prefix / 'nginx.pid'};",
        "error_log stderr warn;",
        "events { worker_connections 1024; }",
        "http {",
        "    include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else "",
        "    default_type application/octet-stream;",
        "    sendfile on;",
        "    server_tokens off;",
        *(
            f"    {kind}_temp_path {prefix / (kind + '_temp')};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
        f"    include {site};",
        "}",
    ]
    if os.geteuid() == 0:
        # Workers would otherwise drop to nobody, who cannot read the private var/ folder.
        lines.insert(0, f"user {pwd.getpwuid(os.geteuid()).pw_name};")
    return "\n".join(line for line in lines if line) + "\n"


def prepare_nginx(settings: Settings, files: tls.TlsFiles, public_host: str) -> list[str]:
    """Writes var/nginx/, checks the configuration with `nginx -t`, returns the command that runs it."""
    binary = nginx_binary()
    prefix = private_directory(var_dir() / "nginx")
    site = prefix / "eventops.conf"
    site.write_text(nginx_site(settings, files, prefix, public_host))
    main = prefix / "nginx.conf"
    main.write_text(nginx_main(prefix, site))
    with contextlib.suppress(FileNotFoundError):
        (prefix / "http.sock").unlink()  # left by an nginx that was killed
    command = [binary, "-p", str(prefix), "-c", str(main)]
    check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"run-prod: nginx refuses {main}:\n{check.stderr}")
    return command


# --- the whole ------------------------------------------------------------------------------------


def environment(
    settings: Settings, databases: dict[str, str], redis_url: str, public_url: str
) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the gunicorns' alone (processes())
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            # The Procfile's `python` is this one, with EventOps installed.
            "PATH": f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
            "REDIS_URL": redis_url,
            "PUBLIC_URL": public_url,
            "SESSION_COOKIE_SECURE": "true",
            "PROXY_HOPS": "1",
            **{f"{name.upper()}_DATABASE_URL": url for name, url in databases.items()},
            **{f"{name.upper()}_PORT": str(port) for name, port in settings.ports.items()},
            **{f"{name.upper()}_URL": f"http://127.0.0.1:{settings.ports[name]}" for name in APPS},
        }
    )
    return env


def processes() -> dict[str, str]:
    """deploy/Procfile's processes, the certificate worker as many times as CERTIFICATE_WORKERS."""
    procfile = parse_procfile((ROOT / "deploy" / "Procfile").read_text())
    # The gunicorns' workers add up their metrics in files (deploy/gunicorn.conf.py: a subfolder each); the
    # RQ workers count in their own process, so they are not given the folder.
    metrics = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(private_directory(var_dir() / "metrics"))
    commands = {}
    for name, command in procfile.processes.items():
        if name in APPS:
            command = f"PROMETHEUS_MULTIPROC_DIR={shlex.quote(metrics)} {command}"
        copies = CERTIFICATE_WORKERS if name == "worker" else 1
        for copy in range(1, copies + 1):
            commands[f"{name}.{copy}" if copies > 1 else name] = command
    return commands


def check_ports(settings: Settings) -> None:
    busy = [
        f"{name} (127.0.0.1:{port})"
        for name, port in settings.ports.items()
        if not port_is_free("127.0.0.1", port)
    ]
    if not port_is_free(settings.nginx_host, settings.nginx_port):
        busy.append(f"nginx ({settings.nginx_host}:{settings.nginx_port}; set NGINX_PORT)")
    if busy:
        raise SystemExit("run-prod: these ports are taken, is EventOps already running? " + ", ".join(busy))


def after_start(public_url: str, files: tls.TlsFiles, stop: threading.Event) -> None:
    # Every process through nginx: the gateway's /healthz, and each service's (allowed from this host).
    health = {"web": f"{public_url}/healthz"}
    health.update({name: f"{public_url}/healthz/{name}" for name in APPS if name != "web"})
    unhealthy = wait_until_healthy(health, stop, str(files.ca_certificate))
    if stop.is_set():
        return
    problems = [f"{name} is not healthy: see its log above" for name in unhealthy]
    lines = [
        f"CA certificate to trust: {files.ca_certificate}",
        "Staff accounts: python -m web.cli create-staff NAME --name 'Full Name' --role admin",
    ]
    headline = f"EventOps (production topology) is running: {public_url}"
    sys.stdout.write("\n" + banner(headline, None, [*lines, *problems]) + "\n")
    sys.stdout.flush()


def main() -> int:
    os.chdir(ROOT)
    restrict_umask()
    settings = Settings.from_env("web")
    public_url = settings.public_url
    if public_url == DEFAULT_PUBLIC_URL:
        public_url = f"https://{url_host(settings.nginx_host)}:{settings.nginx_port}"
    public_host = urlsplit(public_url).hostname or "localhost"
    check_ports(settings)

    databases = database_urls()
    started_postgres = create_databases(databases)
    redis_server = None
    try:
        redis_server = ensure_redis(settings.redis_url or DEFAULT_REDIS_URL)
        files = tls.server_files(
            var_dir() / "tls", [public_host, "localhost", "127.0.0.1", socket.gethostname()]
        )
        nginx = prepare_nginx(settings, files, public_host)
        env = environment(settings, databases, settings.redis_url or DEFAULT_REDIS_URL, public_url)
        # Migrations before any process starts, never inside one's start-up.
        migrate(env)

        manager = Manager()
        for name, command in processes().items():
            manager.add_process(name, command, env=env, cwd=str(ROOT))
        manager.add_process("nginx", shlex.join(nginx), env=env, cwd=str(ROOT))
        stop = threading.Event()
        helper = threading.Timer(1.0, after_start, args=(public_url, files, stop))
        helper.daemon = True
        helper.start()
        try:
            manager.loop()
        finally:
            stop.set()
        return manager.returncode or 0
    finally:
        if redis_server is not None:
            say("stopping redis-server (this started it)")
            redis_server.terminate()
            redis_server.wait(timeout=30)
        stop_postgres(started_postgres)


if __name__ == "__main__":
    sys.exit(main())
