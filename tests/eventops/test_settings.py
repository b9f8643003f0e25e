"""Configuration is read in one place (eventops.config.Settings); every variable it reads is documented."""

from __future__ import annotations

import ast
import importlib.util
import ipaddress
import os
import re
import sys
from pathlib import Path

import pytest

from eventops.config import REPO_ROOT, SERVICES, Settings

#: folders whose code may read the environment itself: the launchers (they start processes with it)
#: and what only developers run (tests, benchmarks)
NOT_SOURCE = {"scripts", "deploy", "tests", "bench"}
SKIPPED = {".git", ".venv", "node_modules", "var", "__pycache__"}
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def source_files() -> list[Path]:
    files = []
    for folder, subfolders, names in os.walk(REPO_ROOT):
        here = Path(folder)
        subfolders[:] = [
            s for s in subfolders if s not in SKIPPED and not (here == REPO_ROOT and s in NOT_SOURCE)
        ]
        files += [here / name for name in names if name.endswith(".py")]
    return sorted(files)


def environment_reads(path: Path) -> list[int]:
    """Lines where the module touches os.environ / os.getenv (or imports them)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT_NAMES:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for alias in node.names if alias.name in ENVIRONMENT_NAMES]
    return sorted(lines)


def test_nothing_but_the_settings_reads_the_environment():
    config = REPO_ROOT / "eventops" / "config.py"
    files = source_files()
    assert config in files and len(files) > 20, "the source walk finds no source"
    readers = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in files
        if path != config and (lines := environment_reads(path))
    }
    assert not readers, f"read the environment outside eventops/config.py (add a Settings field): {readers}"


def test_the_environment_check_sees_every_way_of_reading_it(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nfrom os import getenv\na = os.environ.get('A')\nb = os.getenv('B')\nc = getenv('C')\n"
    )
    assert environment_reads(sample) == [2, 3, 4]


class RecordingEnvironment(dict):
    """An environment that remembers every name asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def readme_configuration_names() -> set[str]:
    """The variables the README's configuration table names, `<SERVICE>_X (WEB_, ...)` spelled out."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        tokens = re.findall(r"`([^`]+)`", line.split("|")[1])
        prefixes = [t for t in tokens if re.fullmatch(r"[A-Z]+_", t)]
        for token in tokens:
            if "<" in token:
                suffix = token.split(">", 1)[1]
                names |= {prefix[:-1] + suffix for prefix in prefixes}
            elif re.fullmatch(r"[A-Z][A-Z0-9_]*[A-Z0-9]", token):
                names.add(token)
    return names


def test_every_variable_the_settings_read_is_in_the_readme(tmp_path):
    env = RecordingEnvironment(EVENTOPS_VAR_DIR=str(tmp_path))
    for service in ("web", *SERVICES):
        Settings.from_env(service, env)
    assert {"DATABASE_URL", "REDIS_URL", "SERVICE_TOKEN", "BIND_HOST", "WEB_PORT"} <= env.read
    documented = readme_configuration_names()
    assert not env.read - documented, (
        f"add to the README's configuration table: {sorted(env.read - documented)}"
    )


def test_settings_come_from_the_environment_given(tmp_path):
    env = {
        "EVENTOPS_VAR_DIR": str(tmp_path),
        "FEEDBACK_DATABASE_URL": "postgresql+psycopg://db/feedback",
        "DATABASE_URL": "postgresql+psycopg://db/other",
        "PUBLIC_URL": "https://events.example.org/",
        "SESSION_COOKIE_SECURE": "true",
        "PROXY_HOPS": "1",
        "FEEDBACK_PORT": "6003",
        "EVENTOPS_SKIP": "worker, redis",
        "EVENTOPS_NO_DEMO": "1",
    }
    settings = Settings.from_env("feedback", env)
    assert settings.database_url == "postgresql+psycopg://db/feedback"
    assert Settings.from_env("web", env).database_url == "postgresql+psycopg://db/other"
    assert settings.public_url == "https://events.example.org"
    assert settings.session_cookie_secure is True and settings.proxy_hops == 1
    assert settings.ports["feedback"] == 6003 and settings.ports["web"] == 8000
    assert settings.skip_processes == {"worker", "redis"} and settings.load_demo is False
    assert settings.storage_dir == tmp_path / "storage"
    assert (
        settings.database_url
        != Settings.from_env("feedback", {"EVENTOPS_VAR_DIR": str(tmp_path)}).database_url
    )


# --- the launcher of `make run` ---------------------------------------------------------------------------


def load_run_local():
    spec = importlib.util.spec_from_file_location("run_local", REPO_ROOT / "scripts" / "run_local.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_make_run_takes_its_addresses_from_the_settings(tmp_path):
    run_local = load_run_local()
    settings = Settings.from_env(
        "web",
        {
            "EVENTOPS_VAR_DIR": str(tmp_path),
            "BIND_HOST": "127.0.0.3",
            "WEB_PORT": "8100",
            "REGISTRATION_PORT": "5101",
            "EMBEDDED_REDIS_PORT": "6391",
            "EVENTOPS_SKIP": "worker",
        },
    )
    env, commands, health = run_local.plan(settings, {"PATH": "/bin"})
    assert commands["web"][-4:] == ["--host", "127.0.0.3", "--port", "8100"]
    assert commands["registration"][-1] == "5101"
    assert "worker" not in commands
    assert "6391" in commands["redis"]
    assert env["WEB_URL"] == "http://127.0.0.3:8100" and env["REGISTRATION_URL"] == "http://127.0.0.3:5101"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6391/0" and env["PATH"] == "/bin"
    assert health["registration"] == "http://127.0.0.3:5101/healthz"


def test_make_run_keeps_the_development_servers_off_the_network(tmp_path):
    run_local = load_run_local()
    settings = Settings.from_env("web", {"EVENTOPS_VAR_DIR": str(tmp_path), "BIND_HOST": "0.0.0.0"})
    with pytest.raises(SystemExit, match="venue mode"):
        run_local.plan(settings, {})


def test_venue_mode_puts_gunicorn_with_tls_on_the_venue_address_and_the_rest_on_loopback(tmp_path):
    run_local = load_run_local()
    settings = Settings.from_env(
        "web", {"EVENTOPS_VAR_DIR": str(tmp_path), "VENUE_HOST": "192.168.7.20", "WEB_PORT": "8100"}
    )
    assert settings.venue and settings.venue_host == "192.168.7.20"
    venue = run_local.prepare_venue(settings)
    env, commands, health = run_local.plan(settings, {}, venue)
    assert env["PUBLIC_URL"] == env["WEB_URL"] == "https://192.168.7.20:8100"
    assert env["SESSION_COOKIE_SECURE"] == "true"
    web = commands["web"]
    assert web[0].endswith("gunicorn") and web[web.index("--bind") + 1] == "192.168.7.20:8100"
    assert web[web.index("--certfile") + 1] == str(venue.tls.certificate)
    assert commands["registration"][-4:-2] == ["--host", "127.0.0.1"]
    assert env["REGISTRATION_URL"] == "http://127.0.0.1:5001"
    assert health["web"] == "https://192.168.7.20:8100/healthz"


def test_venue_mode_finds_an_address_that_is_not_loopback():
    run_local = load_run_local()
    address = run_local.venue_address() if run_local.interface_addresses() else None
    if address is None:
        pytest.skip("this machine has no network interface with an IPv4 address")
    assert not ipaddress.ip_address(address).is_loopback


def test_make_run_refuses_to_skip_a_process_it_does_not_know(tmp_path):
    run_local = load_run_local()
    settings = Settings.from_env("web", {"EVENTOPS_VAR_DIR": str(tmp_path), "EVENTOPS_SKIP": "wrker"})
    with pytest.raises(SystemExit, match="wrker"):
        run_local.plan(settings, {})
