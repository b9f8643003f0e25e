"""Files a service makes (PDFs, ZIPs, spreadsheets, images) passed through to the browser as they arrive."""

from __future__ import annotations

from urllib.parse import quote

import requests
from flask import Response, stream_with_context

CHUNK_BYTES = 64 * 1024


def pass_through(upstream: requests.Response, filename: str, inline: bool = False) -> Response:
    """Streams an open service response to the browser, never holding it all in memory: as a download
    (the service's own file name wins when it gives one), or `inline` for an image shown in a page."""
    disposition = upstream.headers.get("Content-Disposition") or ""
    if inline:
        disposition = "inline"
    elif not disposition.startswith("attachment"):
        disposition = attachment(filename)

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


def attachment(filename: str) -> str:
    """A Content-Disposition for any file name: an ASCII fallback and the UTF-8 name (RFC 6266), since
    a number such as «ПК-2026-0001» cannot travel in a plain header."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
