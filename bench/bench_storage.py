"""The PDF store: writing certificate-sized PDFs into the local folder and into an S3-compatible store
(moto's server on loopback, through boto3), and streaming an event's ZIP out of each.

Figures: storage.<local|s3>_write_ms_p50 / _p95, storage.<local|s3>_zip_mb_s, and the ZIP stream's peak
Python memory (it must stay a few chunks, whatever the event's size). moto keeps objects in memory and
answers on loopback: the S3 figures are the client's own cost, not a real object store's network latency.

    BENCH_STORAGE_COUNT=300   PDFs written and zipped
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

from bench.support_s3 import S3Server

COUNT = int(os.environ.get("BENCH_STORAGE_COUNT", 300))
#: about what one rendered certificate weighs (fonts subset, a QR code, a logo)
PDF_BYTES = 80_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def documents(event_id: int, count: int) -> list[SimpleNamespace]:
    from services.certificates import storage
    from services.certificates.models import CertificateStatus, Validity

    return [
        SimpleNamespace(
            id=i,
            number=f"ПК-2026-{i:05}",
            snapshot={"surname": "Ёлкина", "first_name": "Анна"},
            validity=Validity.valid,
            status=CertificateStatus.rendered,
            pdf_path=storage.certificate_path(event_id, i),
        )
        for i in range(1, count + 1)
    ]


def measure(name: str, store) -> Iterator[dict]:
    from services.certificates import archive, storage

    pdf = b"%PDF-1.7 " + os.urandom(PDF_BYTES)
    writes, cpu = [], time.process_time()
    for i in range(1, COUNT + 1):
        started = time.perf_counter()
        store.write(storage.certificate_path(1, i), pdf)
        writes.append((time.perf_counter() - started) * 1000)
    write_cpu_ms = (time.process_time() - cpu) * 1000 / COUNT
    context = {"pdfs": COUNT, "pdf_bytes": len(pdf), "load_average_1min": round(os.getloadavg()[0], 1)}
    yield {
        "bench": f"storage.{name}_write_ms_p50",
        "value": round(percentile(writes, 0.5), 2),
        "unit": "ms",
        "p95_ms": round(percentile(writes, 0.95), 2),
        "cpu_ms_per_write": round(write_cpu_ms, 2),
        **context,
    }

    tracemalloc.start()
    started, cpu, sent = time.perf_counter(), time.process_time(), 0
    entries = archive.event_entries(documents(1, COUNT), store)
    for chunk in archive.stream_zip(entries):
        sent += len(chunk)
    elapsed, zip_cpu = time.perf_counter() - started, time.process_time() - cpu
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(entries) == COUNT
    yield {
        "bench": f"storage.{name}_zip_mb_s",
        "value": round(sent / elapsed / 1e6, 1),
        "unit": "MB/s",
        "zip_mb": round(sent / 1e6, 1),
        "seconds": round(elapsed, 2),
        "cpu_s": round(zip_cpu, 2),
        "peak_python_mb": round(peak / 1e6, 2),
        **context,
    }


def run() -> Iterator[dict]:
    from services.certificates import storage

    with tempfile.TemporaryDirectory(prefix="eventops-bench-storage-") as folder:
        yield from measure("local", storage.LocalStorage(Path(folder)))
    with (
        tempfile.TemporaryDirectory(prefix="eventops-bench-s3-") as folder,
        S3Server(Path(folder) / "moto.log") as s3,
    ):
        bucket = s3.create_bucket(f"bench-{uuid.uuid4().hex[:8]}")
        yield from measure("s3", storage.S3Storage(bucket, "bench", client=s3.client()))
