"""PDFs in an S3-compatible object store: moto's standalone server as a process of its own on loopback,
reached through the real boto3 client.

The store itself (reads back, replaces whole, a missing key, keys that would leave the prefix), the ZIP of an
event streamed from it, and two certificate workers with folders of their own rendering into one bucket,
their PDFs downloaded by the participants and the organiser through the gateway.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import uuid
import zipfile
from functools import partial
from types import SimpleNamespace

import pytest
import requests
from rq import Queue

from bench.support_s3 import CREDENTIALS, S3Server
from eventops.config import Settings
from eventops.queue import connect
from services.certificates import archive, storage
from services.certificates.models import CertificateStatus, Validity
from services.certificates.tasks import QUEUE_NAME, enqueue_rendering
from tests.certificates.support import subprocess_env
from tests.certificates.test_worker import logged
from tests.conftest import (
    REDIS_URL,
    LiveServer,
    LiveSystem,
    create_service_app,
    make_settings,
)
from tests.web.support import logged_in_session
from tests.web.test_certificate_pages import (
    certificates_api,
    issue_all,
    make_trained_course,
    with_policy,
)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    with S3Server(log_path=tmp_path_factory.mktemp("s3") / "moto.log") as server:
        yield server


@pytest.fixture
def bucket(s3_server, monkeypatch) -> str:
    # The test process's own boto3 clients (storage.store in the in-process services) read these too.
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    return s3_server.create_bucket(f"pdfs-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(s3_server, bucket) -> storage.S3Storage:
    return storage.S3Storage(bucket, "eventops/prod", endpoint_url=s3_server.endpoint_url, region="us-east-1")


def keys(s3_server, bucket: str) -> list[str]:
    listing = s3_server.client().list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


# --- the store -----------------------------------------------------------------------------------


def test_a_written_pdf_reads_back_under_the_prefix(store, s3_server, bucket):
    path = storage.certificate_path(3, 41)
    assert not store.exists(path)
    store.write(path, b"%PDF-1.7 first")
    assert store.exists(path)
    with store.open(path) as file:
        assert file.read() == b"%PDF-1.7 first"
    assert keys(s3_server, bucket) == ["eventops/prod/certificates/3/41.pdf"]
    head = s3_server.client().head_object(Bucket=bucket, Key="eventops/prod/certificates/3/41.pdf")
    assert head["ContentType"] == "application/pdf"
    assert list(store.paths()) == ["certificates/3/41.pdf"]
    assert list(store.paths("certificates/3")) == ["certificates/3/41.pdf"]
    assert list(store.paths("certificates/4")) == []
    # The module's functions take a store as they take a folder.
    assert storage.exists(store, path) and storage.open(store, path).read() == b"%PDF-1.7 first"


def test_an_overwrite_is_seen_whole_or_not_at_all(store):
    """A reader racing the writer gets the old PDF or the new one, never a mix or a truncated one."""
    path = storage.certificate_path(1, 1)
    old, new = b"%PDF old " + b"o" * 2_000_000, b"%PDF new " + b"n" * 1_500_000
    store.write(path, old)
    seen: set[bytes] = set()
    done = threading.Event()

    def overwrite():
        try:
            for _ in range(6):
                store.write(path, new)
                store.write(path, old)
            store.write(path, new)
        finally:
            done.set()

    writer = threading.Thread(target=overwrite)
    writer.start()
    reads = 0
    while not done.is_set() or reads < 3:
        with store.open(path) as file:
            data = file.read()
        seen.add(data[:9])
        assert data in (old, new), f"a read of {len(data)} bytes is neither PDF"
        reads += 1
    writer.join()
    with store.open(path) as file:
        assert file.read() == new
    assert seen <= {b"%PDF old ", b"%PDF new "}


def test_a_missing_pdf_is_file_not_found(store):
    path = storage.certificate_path(9, 9)
    assert not store.exists(path)
    with pytest.raises(FileNotFoundError):
        store.open(path)
    with pytest.raises(FileNotFoundError):
        storage.open(store, path)


@pytest.mark.parametrize(
    "bad",
    [
        "../secret.pdf",
        "/etc/passwd",
        "certificates/../../x.pdf",
        "",
        "certificates//1.pdf",
        "certificates/./1.pdf",
        "certificates\\..\\1.pdf",
        "certificates/1\x00.pdf",
        "certificates/1\n.pdf",
    ],
)
def test_keys_cannot_leave_the_prefix(store, s3_server, bucket, bad):
    with pytest.raises(ValueError):
        store.write(bad, b"x")
    with pytest.raises(ValueError):
        store.open(bad)
    with pytest.raises(ValueError):
        store.exists(bad)
    assert keys(s3_server, bucket) == [], "nothing was stored"


def test_the_configuration_chooses_the_store(tmp_path, s3_server, bucket):
    base = dict(service_token="t" * 40, secret_key="s" * 40)
    local = Settings.from_env("certificates", {"EVENTOPS_VAR_DIR": str(tmp_path), **base})
    assert isinstance(storage.store(local), storage.LocalStorage)
    assert storage.store(local).root == tmp_path / "storage"
    for spelled in ("file:", ""):
        env = {"EVENTOPS_VAR_DIR": str(tmp_path), "STORAGE_URL": spelled, **base}
        assert isinstance(storage.store(Settings.from_env("certificates", env)), storage.LocalStorage)
    remote = Settings.from_env(
        "certificates",
        {
            "EVENTOPS_VAR_DIR": str(tmp_path),
            "STORAGE_URL": f"s3://{bucket}/a/b/",
            "S3_ENDPOINT_URL": s3_server.endpoint_url,
            "S3_REGION": "us-east-1",
            **base,
        },
    )
    chosen = storage.store(remote)
    assert isinstance(chosen, storage.S3Storage) and (chosen.bucket, chosen.prefix) == (bucket, "a/b/")
    assert storage.store(remote) is chosen, "one client per process, not one per PDF"
    chosen.write("certificates/1/2.pdf", b"%PDF")
    assert keys(s3_server, bucket) == ["a/b/certificates/1/2.pdf"]
    for wrong in ("s3://", "http://bucket/x", "/srv/storage", "s3:/bucket", "s3://bucket/../x"):
        with pytest.raises(ValueError):
            Settings.from_env(
                "certificates", {"EVENTOPS_VAR_DIR": str(tmp_path), "STORAGE_URL": wrong, **base}
            )


def document(event_id: int, certificate_id: int, surname: str):
    return SimpleNamespace(
        id=certificate_id,
        number=f"ПК-2026-{certificate_id:04}",
        snapshot={"surname": surname, "first_name": "Анна"},
        validity=Validity.valid,
        status=CertificateStatus.rendered,
        pdf_path=storage.certificate_path(event_id, certificate_id),
    )


def test_the_zip_of_an_event_streams_from_the_store(store):
    """The archive's first bytes leave before the last PDFs are fetched: nothing is gathered first, and
    only a few files are opened ahead of the one being written."""
    pdfs = {i: b"%PDF-1.7 " + os.urandom(300_000) for i in (1, 2, 3)}
    for certificate_id, pdf in pdfs.items():
        store.write(storage.certificate_path(7, certificate_id), pdf)
    documents = [document(7, i, s) for i, s in ((1, "Ёлкина"), (2, "Иванова"), (3, "Петрова"))]
    missing = document(7, 4, "Сидорова")  # rendered, says its row, but its PDF is not in the store
    entries = archive.event_entries([*documents, missing], store)
    assert [name for name, _ in entries] == [
        "ПК-2026-0001 Ёлкина Анна.pdf",
        "ПК-2026-0002 Иванова Анна.pdf",
        "ПК-2026-0003 Петрова Анна.pdf",
    ]
    opened = []

    def counted(name, opener):
        opened.append(name)
        return opener()

    stream = archive.stream_zip(
        [(name, partial(counted, name, opener)) for name, opener in entries], prefetch=2
    )
    first = next(stream)
    assert first.startswith(b"PK") and opened[0] == entries[0][0] and len(opened) <= 2
    data = first + b"".join(stream)
    archived = zipfile.ZipFile(io.BytesIO(data))
    assert [archived.read(name) for name, _ in entries] == [pdfs[1], pdfs[2], pdfs[3]]


def test_a_zip_download_broken_off_leaves_no_object_open(store):
    for i in range(1, 9):
        store.write(storage.certificate_path(8, i), b"%PDF-1.7 " + os.urandom(200_000))
    entries = archive.event_entries([document(8, i, "Ёлкина") for i in range(1, 9)], store)
    files = []

    def tracked(opener):
        files.append(opener())
        return files[-1]

    stream = archive.stream_zip([(name, partial(tracked, opener)) for name, opener in entries], prefetch=3)
    next(stream)
    stream.close()  # the browser went away after the first chunk
    assert 1 < len(files) <= 4, "a few files were opened ahead, not all of them"
    assert all(file.closed for file in files)


# --- two workers, one store, the gateway -----------------------------------------------------------


def live_system_on(database_url: str, tmp_path, storage_env: dict[str, str]) -> LiveSystem:
    """The services and the gateway over real HTTP, the certificate service keeping its PDFs in the store."""
    remote = dict(
        storage_url=storage_env["STORAGE_URL"],
        s3_endpoint_url=storage_env["S3_ENDPOINT_URL"],
        s3_region=storage_env["S3_REGION"],
    )
    system = LiveSystem(urls={})
    for service in ("registration", "certificates", "feedback"):
        overrides = remote if service == "certificates" else {}
        settings = make_settings(service, database_url, tmp_path / f"{service}-host", **overrides)
        app = create_service_app(service, settings)
        if service == "certificates":
            app.config["REGISTRATION_URL"] = system.urls["registration"]
        system.apps[service] = app
        system.servers[service] = LiveServer(app)
        system.urls[service] = system.servers[service].url
    from web.app import create_app as create_web_app
    from web.limits import limiter

    web_app = create_web_app(
        make_settings("web", database_url, tmp_path / "web-host", redis_url=None),
        service_urls=dict(system.urls),
    )
    with web_app.app_context():
        limiter.reset()
    system.apps["web"] = web_app
    system.servers["web"] = LiveServer(web_app)
    system.urls["web"] = system.servers["web"].url
    return system


def run_worker(processes, env: dict[str, str], log_path) -> None:
    """A real certificate worker process that renders what is queued, then quits."""
    with open(log_path, "ab") as log:
        worker = processes(
            [sys.executable, "-m", "services.certificates.worker", "--burst"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    assert worker.wait(timeout=240) == 0, log_path.read_text()[-3000:]


def local_pdfs(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.pdf")) if folder.exists() else []


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_two_workers_on_two_hosts_render_into_one_store_and_the_gateway_serves_both(
    database_url, redis_connection, tmp_path, processes, staff_factory, s3_server, bucket
):
    storage_env = s3_server.process_env(f"s3://{bucket}/eventops")
    system = live_system_on(database_url, tmp_path, storage_env)
    try:
        web = system.web_url
        organiser = logged_in_session(web, *staff_factory("organiser"))
        course = with_policy(system, make_trained_course(system))
        issue_all(system, organiser, course, statements=True)
        documents = certificates_api(system, "GET", f"/api/v1/events/{course.event_id}/certificates")["items"]
        by_holder = {d["participant_id"]: d for d in documents}
        elkin, smirnova = course.people["Ёлкин"], course.people["Смирнова"]
        assert set(by_holder) == {elkin["id"], smirnova["id"]}

        # One job per document, one worker per job: each host renders one of the two.
        queue = Queue(QUEUE_NAME, connection=connect(REDIS_URL))
        queue.empty()
        hosts = {"a": tmp_path / "host-a", "b": tmp_path / "host-b"}
        for host, holder in (("a", elkin), ("b", smirnova)):
            enqueue_rendering(queue, [by_holder[holder["id"]]["id"]], batch_size=1)
            env = {**subprocess_env(database_url, hosts[host] / "storage"), **storage_env}
            run_worker(processes, env, tmp_path / f"worker-{host}.log")
            rendered = logged(tmp_path / f"worker-{host}.log", "certificate rendered")
            assert rendered == {by_holder[holder["id"]]["id"]: 1}, f"host {host} rendered {rendered}"

        stored = keys(s3_server, bucket)
        assert stored == sorted(
            f"eventops/{storage.certificate_path(course.event_id, d['id'])}" for d in documents
        )
        for folder in (*hosts.values(), tmp_path / "certificates-host"):
            assert local_pdfs(folder) == [], f"{folder.name} kept a PDF of its own"

        # Each participant downloads theirs through the gateway, whichever host rendered it.
        client = s3_server.client()
        phone = requests.Session()
        for holder in (elkin, smirnova):
            pdf = phone.get(f"{web}/p/{holder['token']}/certificate.pdf", timeout=30)
            key = f"eventops/{storage.certificate_path(course.event_id, by_holder[holder['id']]['id'])}"
            assert pdf.status_code == 200, pdf.text[:300]
            assert pdf.content == client.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert pdf.content.startswith(b"%PDF-")

        # The organiser's ZIP of the event streams out of the store, through the gateway.
        zipped = organiser.get(f"{web}/events/{course.event_id}/certificates.zip", stream=True, timeout=60)
        assert zipped.status_code == 200
        assert "Content-Length" not in zipped.headers, "a streamed body, not one built before sending"
        archived = zipfile.ZipFile(io.BytesIO(b"".join(zipped.iter_content(64 * 1024))))
        assert len(archived.namelist()) == 2
        contents = sorted(archived.read(name) for name in archived.namelist())
        assert contents == sorted(client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in stored)
    finally:
        for server in system.servers.values():
            server.stop()
