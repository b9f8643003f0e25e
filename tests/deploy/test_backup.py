"""`make backup` and `make restore` (scripts/backup.py) as an operator runs them, in processes of their own:
a system with participants, check-ins, a certificate and its PDF, a survey response and a staff account,
each service on a database of its own, is backed up, restored into new empty databases and an empty store,
and every row and every PDF byte is found there."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.support_s3 import S3Server
from eventops.config import REPO_ROOT
from eventops.db import make_engine
from eventops.migrate import upgrade
from services.certificates import storage
from tests.certificates.support import DAYS, Course, organiser_headers, store_pdfs
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    SERVICE_TOKEN,
    LiveServer,
    _service_metadata,
    create_service_app,
    make_settings,
)
from tests.feedback.support import Api

OWNERS = ("web", "registration", "certificates", "feedback")
BACKUP = [sys.executable, str(REPO_ROOT / "scripts" / "backup.py")]


@pytest.fixture
def databases(request, tmp_path) -> Iterator[callable]:
    """new(name) -> the URL of a new, empty database of the test's kind; dropped at the end."""
    kind = request.param
    made: list[str] = []
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT") if kind == "postgresql" else None

    def new(name: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / 'db' / (name + '.db')}"
        database = f"eventops_backup_{name}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        made.append(database)
        return make_url(POSTGRES_ADMIN_URL).set(database=database).render_as_string(hide_password=False)

    (tmp_path / "db").mkdir()
    yield new
    if admin is not None:
        with admin.connect() as connection:
            for database in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def environment(urls: dict[str, str], storage_dir: Path, var: Path) -> dict[str, str]:
    """The processes' environment for these databases and this PDF folder (what an operator exports)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "EVENTOPS_VAR_DIR": str(var)}
    env.pop("DATABASE_URL", None)
    env.pop("STORAGE_URL", None)
    env |= {f"{service.upper()}_DATABASE_URL": url for service, url in urls.items()}
    env |= {"STORAGE_DIR": str(storage_dir), "SERVICE_TOKEN": SERVICE_TOKEN, "SECRET_KEY": "k" * 40}
    return env


def run_backup(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*BACKUP, *args], env=env, capture_output=True, text=True, timeout=300)


def build_system(urls: dict[str, str], storage_dir: Path, tmp_path: Path) -> dict:
    """Participants, check-ins, a certificate with its PDF, a survey response and a staff account, made
    through the services' own APIs on their own databases; returns what was made."""
    from web.auth import hash_password
    from web.models import Role, StaffAccount

    registration = LiveServer(
        create_service_app("registration", make_settings("registration", urls["registration"], tmp_path))
    )
    try:
        certificates = create_service_app(
            "certificates", make_settings("certificates", urls["certificates"], storage_dir)
        )
        certificates.config["REGISTRATION_URL"] = registration.url
        course = Course.create(requests.Session(), registration.url, certificates)
        anna = course.add("Ёлкина", "Анна", "Сергеевна", gender="female")
        ivan = course.add("Иванов", "Иван", gender="male")
        course.attend_all_sessions([anna, ivan])
        course.attend([anna], DAYS[0])  # at the door, too
        course.set_policy()
        assert course.issue()["certificates"] == 2
        pdfs = store_pdfs(certificates)
    finally:
        registration.stop()

    feedback = Api(
        create_service_app("feedback", make_settings("feedback", urls["feedback"], tmp_path)).test_client()
    )
    survey = feedback.survey(event_id=course.event_id)
    rating = next(q["id"] for q in survey["questions"] if q["kind"] == "rating")
    answered = feedback.answer(survey["id"], anna, {rating: 5})
    assert answered.status_code == 200, answered.json

    engine = make_engine(urls["web"])
    with Session(engine) as session:
        session.add(
            StaffAccount(
                username="petrova",
                full_name="Петрова Ольга",
                role=Role.organiser,
                password_hash=hash_password("correct horse 42"),
            )
        )
        session.commit()
    engine.dispose()
    return {"event_id": course.event_id, "participants": (anna, ivan), "pdfs": pdfs}


def rows(url: str, service: str) -> dict[str, list[tuple]]:
    """Every row of every table of the service, in primary-key order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in _service_metadata(service).sorted_tables
            }
    finally:
        engine.dispose()


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("databases", ["postgresql", "sqlite"], indirect=True)
def test_a_backup_restores_into_empty_databases_with_everything_in_it(databases, tmp_path):
    urls = {service: databases(service) for service in OWNERS}
    for service, url in urls.items():
        upgrade(service, url)
    source_store = tmp_path / "storage"
    made = build_system(urls, source_store, tmp_path)
    before = {service: rows(url, service) for service, url in urls.items()}
    assert len(before["registration"]["participants"]) == 2
    assert len(before["certificates"]["checkins"]) >= 2 * len(DAYS) * 2
    assert len(before["certificates"]["certificates"]) == 2
    assert len(before["feedback"]["responses"]) == 1 and before["feedback"]["answers"]
    assert [row[1] for row in before["web"]["staff_accounts"]] == ["petrova"]

    env = environment(urls, source_store, tmp_path / "var")
    made_backup = run_backup("backup", "--to", str(tmp_path / "backups"), env=env)
    assert made_backup.returncode == 0, made_backup.stderr
    folder = Path(made_backup.stdout.strip())
    assert folder.parent == tmp_path / "backups" and folder.name.endswith("Z")
    assert private(folder) and all(private(p) for p in folder.rglob("*")), "personal data: owner only"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(s for db in manifest["databases"] for s in db["services"]) == sorted(OWNERS)
    for database in manifest["databases"]:
        (service,) = database["services"]
        assert database["migration_heads"][service] == manifest["versions"]["code_migration_heads"][service]
        assert "k" * 40 not in json.dumps(database), "no secret in the manifest"
    pdf_paths = {storage.certificate_path(made["event_id"], cid) for cid in made["pdfs"]}
    assert set(manifest["store"]["files"]) == pdf_paths

    # The system is gone; new, empty databases and an empty PDF folder are given to the processes.
    shutil.rmtree(source_store)
    targets = {service: databases(f"{service}_restored") for service in OWNERS}
    restored_store = tmp_path / "restored-storage"
    target_env = environment(targets, restored_store, tmp_path / "var")
    restored = run_backup("restore", str(folder), env=target_env)
    assert restored.returncode == 0, restored.stderr

    for service in OWNERS:
        assert rows(targets[service], service) == before[service], f"{service}: rows differ after the restore"
    for certificate_id, pdf in made["pdfs"].items():
        path = storage.certificate_path(made["event_id"], certificate_id)
        assert storage.open(restored_store, path).read() == pdf

    # The restored certificate service serves the PDF from the restored store.
    app = create_service_app(
        "certificates", make_settings("certificates", targets["certificates"], restored_store)
    )
    anna = made["participants"][0]
    download = app.test_client().get(
        f"/api/v1/events/{made['event_id']}/participants/{anna}/certificate.pdf", headers=organiser_headers()
    )
    assert download.status_code == 200
    anna_certificate = next(r for r in before["certificates"]["certificates"] if anna in r)
    assert download.data == made["pdfs"][anna_certificate[0]]

    # A second restore would overwrite what is there now: refused, nothing touched, unless --force.
    again = run_backup("restore", str(folder), env=target_env)
    assert again.returncode == 1 and "not empty" in again.stderr
    forced = run_backup("restore", str(folder), "--force", env=target_env)
    assert forced.returncode == 0, forced.stderr
    assert rows(targets["registration"], "registration") == before["registration"]


@pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
def test_a_damaged_or_unfinished_backup_is_not_restored(databases, tmp_path):
    urls = {service: databases(service) for service in OWNERS}
    for service, url in urls.items():
        upgrade(service, url)
    store = tmp_path / "storage"
    storage.write(store, storage.certificate_path(1, 1), b"%PDF-1.7 one")
    env = environment(urls, store, tmp_path / "var")
    made = run_backup("backup", env=env)
    assert made.returncode == 0, made.stderr
    folder = Path(made.stdout.strip())
    assert folder.parent == tmp_path / "var" / "backups", "var/backups by default"

    (folder / "store" / storage.certificate_path(1, 1)).write_bytes(b"%PDF-1.7 two")
    targets = {service: databases(f"{service}_restored") for service in OWNERS}
    target_env = environment(targets, tmp_path / "restored", tmp_path / "var")
    damaged = run_backup("restore", str(folder), env=target_env)
    assert damaged.returncode == 1 and "damaged" in damaged.stderr
    assert not any(Path(make_url(url).database).exists() for url in targets.values()), "nothing written"
    unfinished = run_backup("restore", str(folder.parent / f".{folder.name}.partial"), env=target_env)
    assert unfinished.returncode == 1 and "not a backup" in unfinished.stderr


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    with S3Server(log_path=tmp_path_factory.mktemp("s3") / "moto.log") as server:
        yield server


@pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
def test_the_object_store_is_backed_up_and_restored_under_another_prefix(databases, tmp_path, s3_server):
    bucket = s3_server.create_bucket(f"backup-{uuid.uuid4().hex[:12]}")
    urls = {service: databases(service) for service in OWNERS}
    for service, url in urls.items():
        upgrade(service, url)
    env = environment(urls, tmp_path / "unused", tmp_path / "var") | s3_server.process_env(
        f"s3://{bucket}/live"
    )
    source = storage.S3Storage(bucket, "live", client=s3_server.client())
    pdfs = {storage.certificate_path(4, i): b"%PDF-1.7 " + os.urandom(50_000) for i in (1, 2, 3)}
    for path, pdf in pdfs.items():
        source.write(path, pdf)

    made = run_backup("backup", "--to", str(tmp_path / "backups"), env=env)
    assert made.returncode == 0, made.stderr
    folder = Path(made.stdout.strip())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["store"]["kind"] == "s3" and manifest["store"]["location"] == f"s3://{bucket}/live/"
    assert set(manifest["store"]["files"]) == set(pdfs)

    targets = {service: databases(f"{service}_restored") for service in OWNERS}
    target_store = s3_server.process_env(f"s3://{bucket}/restored")
    restored = run_backup(
        "restore", str(folder), env=environment(targets, tmp_path / "unused", tmp_path / "var") | target_store
    )
    assert restored.returncode == 0, restored.stderr
    target = storage.S3Storage(bucket, "restored", client=s3_server.client())
    assert sorted(target.paths()) == sorted(pdfs)
    for path, pdf in pdfs.items():
        assert target.open(path).read() == pdf

    # New, empty databases, but the store still holds the restored PDFs: the restore refuses it.
    fresh = environment({s: databases(f"{s}_again") for s in OWNERS}, tmp_path / "unused", tmp_path / "var")
    again = run_backup("restore", str(folder), env=fresh | target_store)
    assert again.returncode == 1 and f"s3://{bucket}/restored/" in again.stderr
