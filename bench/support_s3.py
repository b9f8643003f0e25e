"""An S3-compatible object store on loopback for the tests and the benchmarks: moto's standalone server, as a
process of its own, reached through the real boto3 client as production reaches its store.

    with S3Server() as s3:
        s3.create_bucket("eventops-pdfs")
        env = {**os.environ, **s3.process_env("s3://eventops-pdfs/certificates-bench")}
        # ... start workers and services with `env`: they store PDFs in the bucket

The server keeps everything in memory and dies with the process that started it (or at `stop()`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

#: moto takes any credentials; these are what every process talking to it is given
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "eventops-test-key",
    "AWS_SECRET_ACCESS_KEY": "eventops-test-secret",
    # no developer's ~/.aws (a profile, a real endpoint) may leak into a run against the local server
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class S3Server:
    """`python -m moto.server` on a free port of 127.0.0.1."""

    def __init__(self, log_path: Path | str | None = None, start_timeout: float = 60) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None

    def start(self) -> S3Server:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=log,
                env={**os.environ, **CREDENTIALS},
                start_new_session=True,  # its own group: stopping it stops whatever it forked
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the S3 server quit at start (code {self.process.returncode})")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2),
            ):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the S3 server did not answer on {self.endpoint_url} in {self.start_timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client(self):
        """A boto3 client of this server, for a test to look into the bucket itself."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def process_env(self, storage_url: str) -> dict[str, str]:
        """What a process (service, worker) needs in its environment to keep its PDFs at `storage_url`."""
        return {
            **CREDENTIALS,
            "STORAGE_URL": storage_url,
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_REGION": REGION,
        }
