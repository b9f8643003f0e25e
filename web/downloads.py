"""Files a service makes (PDFs, ZIPs, spreadsheets) passed through to the browser as they arrive."""

from __future__ import annotations

import requests
from flask import Response, stream_with_context

CHUNK_BYTES = 64 * 1024


def pass_through(upstream: requests.Response, filename: str) -> Response:
    """Streams an open service response to the browser as a download, never holding it all in memory;
    the service's own file name wins when it gives one."""
    disposition = upstream.headers.get("Content-Disposition") or ""
    if not disposition.startswith("attachment"):
        disposition = f'attachment; filename="{filename}"'

    def body():
        try:
            yield from upstream.iter_content(CHUNK_BYTES)
        finally:
            upstream.close()

    headers = {
        "Content-Type": upstream.headers.get("Content-Type", "application/octet-stream"),
        "Content-Disposition": disposition,
        "Cache-Control": "private, no-store",  # personal data
        "X-Content-Type-Options": "nosniff",
    }
    if upstream.headers.get("Content-Length"):
        headers["Content-Length"] = upstream.headers["Content-Length"]
    return Response(stream_with_context(body()), headers=headers)
