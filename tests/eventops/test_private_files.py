"""What holds personal data or secrets on this machine (var/, its databases, uploads, PDFs and secrets) is
readable by the owner of the processes only."""

from __future__ import annotations

import importlib.util
import os
import stat

import pytest
from sqlalchemy import text

from eventops import config, files
from eventops.db import make_engine


@pytest.fixture
def lax_umask():
    """A typical login umask (022): what the code must not rely on to keep files private."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_var_is_created_for_its_owner_only(tmp_path, lax_umask):
    var = tmp_path / "var"
    assert config.var_dir({"EVENTOPS_VAR_DIR": str(var)}) == var
    assert mode(var) == 0o700


def test_an_existing_var_open_to_others_is_closed(tmp_path, lax_umask):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    config.var_dir({"EVENTOPS_VAR_DIR": str(var)})
    assert mode(var) == 0o700


def test_secrets_are_for_their_owner_only(tmp_path, lax_umask):
    config.secret_from_file("service_token", {"EVENTOPS_VAR_DIR": str(tmp_path)})
    assert mode(tmp_path / "service_token") == 0o600


def test_sqlite_databases_and_their_journals_are_for_their_owner_only(tmp_path, lax_umask):
    path = tmp_path / "certificates.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        journals = [p for p in tmp_path.iterdir() if p != path]
        assert {p.name for p in journals} >= {"certificates.db-wal", "certificates.db-shm"}
        assert {p.name: mode(p) for p in [path, *journals]} == {p.name: 0o600 for p in [path, *journals]}
    engine.dispose()


def test_an_existing_database_open_to_others_is_closed(tmp_path, lax_umask):
    path = tmp_path / "feedback.db"
    path.touch(mode=0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


def test_a_database_in_a_missing_folder_is_left_to_fail_on_connect(tmp_path):
    """Health checks report it as down; creating the engine must not fail first."""
    make_engine(f"sqlite:///{tmp_path}/missing/none.db").dispose()
    assert not (tmp_path / "missing").exists()


def test_private_files_and_folders_for_the_services(tmp_path, lax_umask):
    folder = files.private_directory(tmp_path / "storage" / "pdf")
    upload = files.private_file(folder / "upload.xlsx")
    assert (mode(folder), mode(upload)) == (0o700, 0o600)


# --- the processes' umask: what a service creates without eventops is private too ------------------------


def current_umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_gunicorn_runs_every_worker_with_a_private_umask(lax_umask):
    namespace = {}
    exec((config.REPO_ROOT / "deploy" / "gunicorn.conf.py").read_text(), namespace)
    assert namespace["umask"] == files.PRIVATE_UMASK == 0o077
    namespace["post_fork"](None, None)
    assert current_umask() == 0o077


@pytest.mark.parametrize("name", ["Procfile", "compose.yaml"])
def test_the_production_worker_runs_with_a_private_umask(name):
    lines = (config.REPO_ROOT / "deploy" / name).read_text().splitlines()
    worker = [
        line for line in lines if "services.certificates.worker" in line and not line.lstrip().startswith("#")
    ]
    assert worker and all("umask 077 && exec" in line for line in worker), worker


def test_make_run_starts_every_process_with_a_private_umask(monkeypatch, lax_umask):
    spec = importlib.util.spec_from_file_location("run_local", config.REPO_ROOT / "scripts" / "run_local.py")
    run_local = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_local)
    seen = {}

    class Manager:  # stands in for honcho: records the umask its children would inherit
        returncode = 0

        def add_process(self, name, *_args, **_kwargs):
            seen.setdefault("processes", []).append(name)

        def loop(self):
            seen["umask"] = current_umask()

    monkeypatch.setattr(run_local, "Manager", Manager)
    monkeypatch.setattr(run_local, "check_ports", lambda *args: None)
    monkeypatch.setattr(run_local, "migrate", lambda env: None)
    monkeypatch.setattr(run_local, "after_start", lambda *args: None)
    assert run_local.main() == 0
    assert "web" in seen["processes"]
    assert seen["umask"] == 0o077
