"""deploy/compose.yaml and deploy/Dockerfile, checked against the code (no container engine runs here):
every process it names exists, every variable a process reads is set there or may keep its default, the
image has what WeasyPrint needs and Cyrillic fonts, and the migrations run as a step of their own."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from eventops.config import REPO_ROOT, SERVICES, variables_read

DEPLOY = REPO_ROOT / "deploy"
#: what the compose file runs from images of others; everything else is built from deploy/Dockerfile
INFRASTRUCTURE = {"postgres", "redis"}
#: the one-shot step before the processes
MIGRATE = "migrate"
#: which Settings each process reads (`Settings.from_env(...)` in its code)
SETTINGS_OF = {
    "web": ("web",),
    "registration": ("registration",),
    "certificates": ("certificates",),
    "feedback": ("feedback",),
    "worker": ("certificates",),
    "mailer": ("registration",),
    MIGRATE: ("web", *SERVICES),
}
#: variables a container may leave to the code's default, and why
MAY_KEEP_DEFAULT = {
    "DATABASE_URL": "each process has its own <SERVICE>_DATABASE_URL",
    "BIND_HOST": "`make run` only: under gunicorn --bind says it",
    "WEB_PORT": "`make run` only",
    "REGISTRATION_PORT": "`make run` only",
    "CERTIFICATES_PORT": "`make run` only",
    "FEEDBACK_PORT": "`make run` only",
    "EMBEDDED_REDIS_PORT": "`make run` only: REDIS_URL is set",
    "EVENTOPS_SKIP": "`make run` only",
    "EVENTOPS_NO_DEMO": "`make run` only",
    "RATELIMIT_ENABLED": "on by default, as production wants",
    "SMTP_HOST": "the mailer alone sends; the others never read it",
    "SMTP_PORT": "the mailer alone sends",
    "SMTP_SECURITY": "the mailer alone sends",
    "SMTP_USERNAME": "the mailer alone sends",
    "SMTP_PASSWORD": "the mailer alone sends",
    "MAIL_FROM": "the mailer alone sends",
    "MAIL_RATE": "the mailer alone sends",
    "DATABASE_POOL_SIZE": "10 kept per process: the README's connection budget counts with it",
    "EVENTOPS_VENUE": "`make run` only: venue mode",
    "VENUE_HOST": "`make run` only: venue mode",
    "VENUE_CA_PORT": "`make run` only: venue mode",
    "NGINX_HOST": "`make run-prod` only: nginx here runs on the host, outside the containers",
    "NGINX_PORT": "`make run-prod` only",
    "WEB_CONCURRENCY": "gunicorn's: a default from the CPUs (checked below for the gunicorn processes)",
    "GUNICORN_THREADS": "gunicorn's: has a default",
    "GUNICORN_TIMEOUT": "gunicorn's: has a default",
    "METRICS_PORT": "a worker serves /metrics only when a scraper is set up to read it",
    "PROMETHEUS_MULTIPROC_DIR": "the gunicorn processes' alone (set there); the RQ workers count in-process",
}
#: what the processes need in every container, whatever their defaults: a default here would be a
#: random secret, a database or a Redis of each container's own
MUST_BE_SET = {
    "SERVICE_TOKEN",
    "SECRET_KEY",
    "REDIS_URL",
    "PUBLIC_URL",
    "EVENTOPS_VAR_DIR",
    "STORAGE_DIR",
    "REGISTRATION_URL",
    "CERTIFICATES_URL",
    "FEEDBACK_URL",
}
#: WeasyPrint's libraries in Debian (text layout, font subsetting: five times slower without it)
WEASYPRINT_LIBRARIES = {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"}
#: a Russian text has these letters
CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя№«»"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    # one instruction per line: continuation lines joined
    return re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())


def built(compose: dict) -> dict[str, dict]:
    return {name: spec for name, spec in compose["services"].items() if "build" in spec}


def procfile_processes() -> set[str]:
    lines = (DEPLOY / "Procfile").read_text().splitlines()
    return {line.split(":", 1)[0] for line in lines if line and not line.startswith("#")}


def python_target(command: list[str]) -> tuple[str, str]:
    """("module", name) for `python -m name ...`, ("app", "module:factory()") for gunicorn."""
    words = shlex.split(command[-1]) if command[0] == "sh" else command
    if words[0] == "gunicorn":
        return "app", words[-1]
    if "-m" in words:
        return "module", words[words.index("-m") + 1]
    raise AssertionError(f"not a process of the code: {command}")


def test_every_process_named_is_one_of_the_code(compose):
    services = compose["services"]
    assert set(services) - set(built(compose)) == INFRASTRUCTURE
    assert set(built(compose)) == procfile_processes() | {MIGRATE}, (
        "the compose file runs the processes the Procfile (and `make run`) runs, and the migrations"
    )
    assert set(built(compose)) == set(SETTINGS_OF)
    for name, spec in built(compose).items():
        kind, target = python_target(spec["command"])
        if kind == "app":
            module, _, factory = target.partition(":")
            assert factory == "create_app()", target
            assert callable(importlib.import_module(module).create_app), name
        else:
            assert importlib.util.find_spec(target) is not None, f"{name}: no module {target}"
            assert callable(importlib.import_module(target).main), f"{name}: {target} has no main()"


def literal_reads(path: Path) -> set[str]:
    """The names config.py reads as literals (env.get("X"), env["X"]): a read that happens only under a
    condition would hide from the recording, but not from this."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        key = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "env" and node.args:
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "env":
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def test_the_list_of_variables_read_is_complete():
    read = set().union(*(variables_read(s) for s in ("web", *SERVICES)))
    assert {"SERVICE_TOKEN", "STORAGE_URL", "CERTIFICATES_DATABASE_URL", "SMTP_HOST"} <= read
    missing = literal_reads(REPO_ROOT / "eventops" / "config.py") - read
    assert not missing, f"config.py reads these only sometimes; variables_read() misses them: {missing}"


def gunicorn_variables() -> dict[str, bool]:
    """The variables deploy/gunicorn.conf.py reads, each with whether it has a default."""
    found = {}
    for node in ast.walk(ast.parse((DEPLOY / "gunicorn.conf.py").read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "getenv")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found[node.args[0].value] = len(node.args) > 1 or bool(node.keywords)
    return found


def test_every_variable_a_process_reads_is_set_or_may_keep_its_default(compose):
    for name, spec in built(compose).items():
        environment = spec["environment"]
        assert isinstance(environment, dict), f"{name}: environment as a mapping"
        read = set().union(*(variables_read(service) for service in SETTINGS_OF[name]))
        unset = read - set(environment) - set(MAY_KEEP_DEFAULT)
        assert not unset, f"{name} reads {sorted(unset)}: set them in compose.yaml or say why not"
        assert set(environment) >= MUST_BE_SET, f"{name} lacks {sorted(MUST_BE_SET - set(environment))}"
        for service in SETTINGS_OF[name]:
            assert environment.get(f"{service.upper()}_DATABASE_URL", "").startswith("postgresql+psycopg://")
        if spec["command"][0] == "gunicorn":
            # several workers per gunicorn: /metrics adds them up only in multiprocess mode
            assert environment.get("PROMETHEUS_MULTIPROC_DIR"), f"{name}: metrics of one worker only"
            for variable, has_default in gunicorn_variables().items():
                assert has_default or variable in environment, f"{name}: gunicorn reads {variable}"
    assert {"SMTP_HOST", "MAIL_FROM"} <= set(built(compose)["mailer"]["environment"]), "the mailer sends"
    web = built(compose)["web"]["environment"]
    for secret in ("SERVICE_TOKEN", "SECRET_KEY"):
        assert web[secret].startswith("${") and ":?" in web[secret], f"{secret} from .env, required"


def test_the_service_and_its_workers_share_the_pdfs(compose):
    services = built(compose)
    for name in ("certificates", "worker"):
        environment = services[name]["environment"]
        assert environment["STORAGE_URL"] == "${STORAGE_URL:-}", "an object store when configured"
        mounts = dict(volume.split(":")[::-1][:2] for volume in services[name].get("volumes", []))
        assert mounts.get(environment["STORAGE_DIR"]) == "storage", f"{name}: the storage volume"
    assert "/srv/var" in {v.split(":")[1] for v in services["web"]["volumes"]}, "the gateway's uploads"


def test_migrations_run_as_their_own_step_before_every_process(compose):
    services = built(compose)
    step = services[MIGRATE]
    assert step["command"] == ["python", "-m", "eventops.cli", "migrate"]
    assert step["restart"] == "no", "a one-shot step, not restarted"
    assert step["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, spec in services.items():
        if name == MIGRATE:
            continue
        assert spec["depends_on"][MIGRATE]["condition"] == "service_completed_successfully", name
        assert "migrate" not in " ".join(spec["command"]), f"{name} migrates at start-up"


def apt_packages(dockerfile: str) -> set[str]:
    packages = set()
    for line in dockerfile.splitlines():
        for install in re.findall(r"apt-get install ([^&]+)", line):
            packages |= {word for word in install.split() if not word.startswith("-")}
    return packages


def test_the_image_installs_weasyprints_libraries_and_the_code(dockerfile):
    packages = apt_packages(dockerfile)
    assert packages >= WEASYPRINT_LIBRARIES, f"missing {WEASYPRINT_LIBRARIES - packages}"
    assert re.search(r"^FROM python:3\.(1[1-9])", dockerfile, re.M), "Python 3.11 or newer"
    assert "pip install --no-cache-dir -c constraints.txt ." in dockerfile, "the pinned versions"
    for folder in ("eventops", "services", "web", "deploy"):
        assert re.search(rf"^COPY {folder} {folder}$", dockerfile, re.M), f"the image lacks {folder}/"
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M), "not as root"
    assert re.search(r"chown nobody:nogroup /srv/var /srv/storage", dockerfile), "its folders, its user's"


def package_fonts(package: str) -> list[Path]:
    listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
    if listing.returncode != 0:
        return []
    return [Path(line) for line in listing.stdout.splitlines() if line.endswith((".ttf", ".otf"))]


def test_the_images_fonts_have_cyrillic_letters_and_the_certificates_family(dockerfile):
    """The font packages the image installs, looked into where this machine has them (Debian here as
    there): their fonts cover Russian, and one of them is the family certificates are set in."""
    if shutil.which("dpkg") is None:
        pytest.skip("needs a Debian system to look into the font packages")
    from fontTools.ttLib import TTFont

    fonts = [
        font
        for package in apt_packages(dockerfile)
        if package.startswith("fonts-")
        for font in package_fonts(package)
    ]
    assert fonts, "the image installs no font package this machine has (scripts/setup.sh installs them)"
    families = set()
    for path in fonts:
        font = TTFont(path, lazy=True)
        cmap = font.getBestCmap()
        family = font["name"].getDebugName(1)
        missing = [ch for ch in CYRILLIC if ord(ch) not in cmap]
        if family.startswith(("PT ", "DejaVu Serif", "DejaVu Sans")):
            assert not missing, f"{path.name} ({family}) lacks {''.join(missing)}"
            families.add(family)
    css = (REPO_ROOT / "services" / "certificates" / "templates" / "certificate.css").read_text()
    first_family = re.search(r'font-family:\s*"([^"]+)"', css).group(1)
    assert first_family in families, f"certificates are set in {first_family}; the image has {families}"
