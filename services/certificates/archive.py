"""An event's PDFs as one ZIP, streamed: the archive is written chunk by chunk while the client reads it,
so a thousand certificates never sit in memory at once.

The standard library writes ZIPs to a stream it cannot seek in (sizes and checksums then follow each file
in a data descriptor), so no extra package is needed.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import BinaryIO

from services.certificates import storage
from services.certificates.models import Certificate, CertificateStatus, Validity

log = logging.getLogger(__name__)
#: a file in the archive: its name there, and how to open its content
Entry = tuple[str, Callable[[], BinaryIO]]

CHUNK = 64 * 1024
#: files opened ahead of the one being written (object-store round trips overlap)
PREFETCH = 4


class _Pipe:
    """A write-only, unseekable file whose written bytes the generator hands on and forgets."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        if data:
            self.chunks.append(bytes(data))
            self.position += len(data)
        return len(data)

    def tell(self) -> int:
        # zipfile asks where it is to fill in offsets; it never seeks (seekable() is absent).
        return self.position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def safe_name(text: str) -> str:
    """A file name any system accepts: no path separators, no control or reserved characters."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", text).strip(" .")
    return cleaned[:150] or "document"


def event_entries(documents: Iterable[Certificate], store: storage.Store | Path) -> list[Entry]:
    """The ZIP's files for an event: each valid, rendered document's PDF, named by number and holder."""
    if isinstance(store, str | Path):
        store = storage.LocalStorage(store)
    documents = [
        c
        for c in documents
        if c.validity is Validity.valid and c.status is CertificateStatus.rendered and c.pdf_path
    ]
    stored = _stored(store, {c.pdf_path for c in documents})
    names: set[str] = set()
    entries = []
    for c in documents:
        if c.pdf_path not in stored:
            log.error("certificate %s is rendered but its PDF is missing", c.id)
            continue
        s = c.snapshot
        name = safe_name(" ".join(p for p in (c.number, s.get("surname"), s.get("first_name")) if p))
        if name in names:
            name = f"{name} ({c.id})"
        names.add(name)
        entries.append((f"{name}.pdf", partial(store.open, c.pdf_path)))
    return entries


def _stored(store: storage.Store, paths: set[str]) -> set[str]:
    """Which of these paths are stored, asked once per folder: an object store answers a listing of a
    thousand keys in one request, where a question per PDF would delay the first byte of the ZIP."""
    folders = {path.rpartition("/")[0] for path in paths}
    return paths & {found for folder in folders for found in store.paths(folder)}


def stream_zip(entries: Iterable[Entry], prefetch: int = PREFETCH) -> Iterator[bytes]:
    """ZIP bytes for (name in the archive, opener of the file) pairs.

    The next few files are opened ahead in threads while one is written: opening an object in an object
    store waits a round trip for its first byte, and a thousand round trips one after another would hold
    the download up for many seconds. Only `prefetch` files are open at once, each read as it is written.

    PDFs are compressed already; deflate at level 1 costs little and keeps the data descriptor layout
    that every unzip tool reads.
    """
    pipe = _Pipe()
    entries = iter(entries)
    opening: deque[tuple[str, Future]] = deque()
    with ThreadPoolExecutor(max_workers=max(1, prefetch), thread_name_prefix="zip-open") as pool:
        try:
            with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
                while True:
                    while len(opening) < max(1, prefetch) and (entry := next(entries, None)) is not None:
                        opening.append((entry[0], pool.submit(entry[1])))
                    if not opening:
                        break
                    name, future = opening.popleft()
                    with future.result() as source, archive.open(name, "w") as target:
                        while block := source.read(CHUNK):
                            target.write(block)
                            if pipe.chunks:
                                yield pipe.drain()
                    if pipe.chunks:
                        yield pipe.drain()
        finally:
            # The client went away (or a file failed): what was opened ahead is closed, not leaked.
            for _name, future in opening:
                future.add_done_callback(_close_opened)
    if pipe.chunks:  # the central directory, written when the archive closes
        yield pipe.drain()


def _close_opened(future: Future) -> None:
    if future.exception() is None:
        future.result().close()
