"""Where certificate PDFs are kept: a folder on this host (the default) or an S3-compatible object store that
workers on many hosts share, chosen by configuration (STORAGE_URL).

Callers get the store from `store(settings)` and use its three operations, write, open and exists; the
module-level functions of the same names take either a store or a local folder, as the callers written
before the object store did. Paths are relative (`certificates/<event>/<id>.pdf`) and may not climb out of
the store: a path read from a database row never reaches outside it.
"""

from __future__ import annotations

import builtins
import io
import os
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from eventops.config import Settings, parse_storage_url

#: bytes read from the object store at a time while a PDF or a ZIP is streamed
CHUNK = 64 * 1024


def certificate_path(event_id: int, certificate_id: int) -> str:
    """The one place a certificate's PDF lives: certificates/<event_id>/<certificate_id>.pdf."""
    return f"certificates/{int(event_id)}/{int(certificate_id)}.pdf"


def checked_path(relative_path: str) -> PurePosixPath:
    """The path as parts that stay inside the store; ValueError for anything else.

    No absolute path, no "..", no empty or "." parts (an object store would keep `a//b` and `a/./b` as
    other keys than `a/b`), no backslash and no control character (a key must mean the same thing on
    every system that lists the store).
    """
    if not isinstance(relative_path, str) or not relative_path:
        raise ValueError(f"not a storage path: {relative_path!r}")
    parts = relative_path.split("/")
    if (
        relative_path.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
        or any(ch == "\\" or ord(ch) < 32 or ord(ch) == 127 for ch in relative_path)
    ):
        raise ValueError(f"not a storage path: {relative_path!r}")
    return PurePosixPath(*parts)


class Store(Protocol):
    """Where PDFs are kept. A reader sees a file whole or not at all, never half of one."""

    def write(self, relative_path: str, data: bytes) -> None: ...

    def open(self, relative_path: str) -> BinaryIO:
        """The stored file for reading (binary); FileNotFoundError when it is not there."""
        ...

    def exists(self, relative_path: str) -> bool: ...

    def paths(self, under: str = "") -> Iterator[str]:
        """Every stored path, or those in the folder `under` (one listing instead of a question per file:
        the backup copies the store, the ZIP of an event finds its PDFs)."""
        ...


class LocalStorage:
    """A folder on this host: files written atomically, readable by the service's user alone."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _resolve(self, relative_path: str) -> Path:
        return self.root.joinpath(*checked_path(relative_path).parts)

    def write(self, relative_path: str, data: bytes) -> None:
        """The bytes go to a temporary file in the same folder, reach the disk (fsync), and only then take
        the final name (rename is atomic within one file system). A crash leaves at most a stray
        temporary file."""
        path = self._resolve(relative_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(tmp, 0o600)  # personal data: for the service alone
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, relative_path: str) -> BinaryIO:
        return builtins.open(self._resolve(relative_path), "rb")

    def exists(self, relative_path: str) -> bool:
        return self._resolve(relative_path).is_file()

    def paths(self, under: str = "") -> Iterator[str]:
        folder = self._resolve(under) if under.strip("/") else self.root
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            # Temporary files of a write in progress (or of one a crash interrupted) are not stored files.
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()


class _ObjectBody(io.RawIOBase):
    """An object's body as a plain binary file, read from the network as the caller reads it."""

    def __init__(self, body) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.body.close()
        super().close()


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, Ceph, Yandex Object Storage...) under a key prefix.

    A PUT replaces an object whole (a reader gets the old or the new one, never a mix), which is the
    atomic write the folder gets from a rename. Credentials come from the usual AWS variables or files,
    read by boto3 itself.
    """

    def __init__(self, bucket: str, prefix: str = "", *, client=None, endpoint_url=None, region=None) -> None:
        if client is None:
            import boto3  # only processes configured for an object store pay for importing it
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                # Path-style addressing works with every S3-compatible server, virtual hosts need DNS.
                config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
            )
        self.client, self.bucket = client, bucket
        prefix = prefix.strip("/")
        self.prefix = "/".join(checked_path(prefix).parts) + "/" if prefix else ""

    def __repr__(self) -> str:
        return f"S3Storage(s3://{self.bucket}/{self.prefix})"

    def key(self, relative_path: str) -> str:
        return self.prefix + "/".join(checked_path(relative_path).parts)

    def write(self, relative_path: str, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"a stored file is bytes, not {type(data).__name__}")
        content_type = "application/pdf" if relative_path.endswith(".pdf") else "application/octet-stream"
        self.client.put_object(
            Bucket=self.bucket, Key=self.key(relative_path), Body=bytes(data), ContentType=content_type
        )

    def open(self, relative_path: str) -> BinaryIO:
        key = self.key(relative_path)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"s3://{self.bucket}/{key}") from None
        return io.BufferedReader(_ObjectBody(response["Body"]), CHUNK)  # type: ignore[return-value]

    def exists(self, relative_path: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(relative_path))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def paths(self, under: str = "") -> Iterator[str]:
        under = under.strip("/")
        prefix = self.key(under) + "/" if under else self.prefix
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]


def store(settings: Settings) -> Store:
    """The store this process is configured for: the one function callers get it from."""
    return _configured(
        settings.storage_url, settings.s3_endpoint_url, settings.s3_region, settings.storage_dir
    )


@cache
def _configured(url: str | None, endpoint_url: str | None, region: str | None, storage_dir: Path) -> Store:
    # One client per configuration and process: a boto3 client costs tens of milliseconds to make, and is
    # safe to share between threads (the worker stores PDFs from a thread of its own).
    parsed = parse_storage_url(url)
    if parsed is None:
        return LocalStorage(storage_dir)
    bucket, prefix = parsed
    return S3Storage(bucket, prefix, endpoint_url=endpoint_url, region=region)


def _store_of(where: Store | Path | str) -> Store:
    return LocalStorage(where) if isinstance(where, str | os.PathLike) else where


# The operations on a store or on a local folder (callers that pass `settings.storage_dir` get the folder).


def write(where: Store | Path | str, relative_path: str, data: bytes) -> None:
    """Store data so that a reader sees either the old file or the whole new one, never half of it."""
    _store_of(where).write(relative_path, data)


def open(where: Store | Path | str, relative_path: str) -> BinaryIO:
    """The stored file for reading (binary); FileNotFoundError when it is not there."""
    return _store_of(where).open(relative_path)


def exists(where: Store | Path | str, relative_path: str) -> bool:
    return _store_of(where).exists(relative_path)
