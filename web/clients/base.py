"""Calls from the gateway to the services' JSON APIs, with the service token and the person's language."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import requests
from flask import current_app, g
from flask_babel import get_locale
from flask_babel import gettext as _

from eventops.logs import REQUEST_ID_HEADER
from eventops.service_auth import DEVICE_HEADER, STAFF_HEADER, bearer

TIMEOUT_S = (2, 15)  # connect, read
#: copies a client keeps at most (kept()): a copy per personal link must not grow without bound
KEPT_MAX = 4096
#: helper threads for the calls a page makes side by side (ServiceClient.get_soon); the connection pool
#: of each client's requests.Session is safe to share between threads
_side_calls = ThreadPoolExecutor(max_workers=16, thread_name_prefix="service-call")


class ServiceError(Exception):
    """A service answered with an error; `problem` is its problem+json body."""

    def __init__(self, service: str, status: int, problem: dict):
        super().__init__(f"{service} answered {status}: {problem.get('detail') or problem.get('title')}")
        self.service, self.status, self.problem = service, status, problem

    def field_errors(self) -> dict[str, str]:
        return {e.get("field", ""): e.get("message", "") for e in self.problem.get("errors", [])}


class ServiceUnavailable(Exception):
    """A service could not be reached (down, timed out, or answered 502–504): asking again later may work."""

    def __init__(self, service: str, reason: str):
        super().__init__(f"{service} unavailable: {reason}")
        self.service = service


class ServiceFailed(ServiceUnavailable):
    """A service was reached and failed on this request (500): asking again with the same input will fail
    again. Pages treat it as an outage; the check-in screen tells it apart, so that a tablet stops
    resending it."""

    def __init__(self, service: str, status: int):
        super().__init__(service, f"HTTP {status}")
        self.status = status


#: answers that say the service is not there now, rather than that it failed on what it was sent
_UNREACHABLE = frozenset({502, 503, 504})
#: what requests raises when the request itself cannot be written (a lone surrogate, a control character
#: in a header): no service ever saw it, so it is the caller's input that is wrong
_UNSENDABLE = (
    UnicodeError,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidJSONError,
)


class ServiceClient:
    def __init__(self, name: str, base_url: str, token: str):
        self.name, self.base_url, self.token = name, base_url, token
        self.http = requests.Session()  # keeps connections open between requests
        # The services are at the configured URLs, never behind a proxy from the environment; and with
        # trust_env requests reads the whole environment again at every call (a few per page).
        self.http.trust_env = False
        self._kept: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._kept_lock = threading.Lock()
        self._fetch_locks: dict[Any, threading.Lock] = {}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = self._headers()
        headers.update(kwargs.pop("headers", {}))
        return self._send(method, path, headers, **kwargs)

    def _headers(self) -> dict[str, str]:
        """What every call carries, read from the current request: the token, the person's language, the
        request id, and the staff member and device for the services' audit trails."""
        headers = {
            **bearer(self.token),
            "Accept-Language": str(get_locale() or "ru"),
            REQUEST_ID_HEADER: g.get("request_id", ""),
        }
        staff = g.get("staff")
        if staff is not None:
            headers[STAFF_HEADER] = staff.username
        if g.get("device"):
            headers[DEVICE_HEADER] = g.device
        return headers

    def _send(self, method: str, path: str, headers: dict[str, str], **kwargs) -> requests.Response:
        # No Flask in here: `get_soon` runs it on a helper thread, outside the request.
        try:
            response = self.http.request(
                method, self.base_url + path, headers=headers, timeout=TIMEOUT_S, **kwargs
            )
        except _UNSENDABLE as exc:
            detail = _(
                "The request holds characters that cannot be sent, such as a broken Unicode character."
            )
            raise ServiceError(self.name, 422, {"title": "Unprocessable Content", "detail": detail}) from exc
        except requests.RequestException as exc:
            raise ServiceUnavailable(self.name, type(exc).__name__) from exc
        if response.status_code in _UNREACHABLE:
            raise ServiceUnavailable(self.name, f"HTTP {response.status_code}")
        if response.status_code >= 500:
            raise ServiceFailed(self.name, response.status_code)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.reason}
            raise ServiceError(self.name, response.status_code, problem)
        return response

    def get(self, path: str, **params) -> Any:
        return self.request("GET", path, params=params).json()

    def get_soon(self, path: str, **params) -> Future[Any]:
        """`get`, started now on a helper thread (its headers read here, from this request): a page that
        needs several answers waits for the slowest of them, not for their sum. `.result()` answers, or
        raises, as `get` would."""
        headers = self._headers()
        return _side_calls.submit(lambda: self._send("GET", path, headers, params=params).json())

    def post(self, path: str, json: Any = None, **kwargs) -> Any:
        response = self.request("POST", path, json=json, **kwargs)
        return response.json() if response.content else None

    def patch(self, path: str, json: Any) -> Any:
        return self.request("PATCH", path, json=json).json()

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def download(self, path: str, **params) -> requests.Response:
        """A file the service sends (an export, badges, a PDF), still streaming: pass it on with
        web.downloads.pass_through, which closes it."""
        return self.request("GET", path, params=params, stream=True)

    def kept(self, key: Any, ttl_s: float, fetch: Callable[[], Any]) -> Any:
        """`fetch()`'s answer, asked again only after `ttl_s`: for data that many requests need and that
        may be a little behind. The one cache of the gateway; it lives as long as the process, holds at
        most KEPT_MAX copies (the oldest go first) and keeps no None (a "not found" is asked again)."""
        with self._kept_lock:
            hit = self._kept.get(key)
            if hit is not None and time.monotonic() - hit[0] < ttl_s:
                return hit[1]
            fetching = self._fetch_locks.setdefault(key, threading.Lock())
        with fetching:  # one request when many threads find the same copy expired; other keys go on
            with self._kept_lock:
                hit = self._kept.get(key)
            if hit is None or time.monotonic() - hit[0] >= ttl_s:
                hit = (time.monotonic(), fetch())
                with self._kept_lock:
                    if hit[1] is not None:
                        self._kept[key] = hit
                        self._kept.move_to_end(key)
                        while len(self._kept) > KEPT_MAX:
                            self._kept.popitem(last=False)
                    if len(self._fetch_locks) > KEPT_MAX:
                        self._fetch_locks.clear()  # only ever a lock per key being fetched matters
            return hit[1]

    def health(self) -> tuple[bool, dict]:
        """The service's own /healthz, without raising: for the health page."""
        try:
            response = self.http.get(self.base_url + "/healthz", timeout=(1, 3))
            return response.status_code == 200, response.json()
        except (requests.RequestException, ValueError) as exc:
            return False, {"status": "down", "error": type(exc).__name__}


def client(name: str) -> ServiceClient:
    clients = current_app.extensions["service_clients"]
    return clients[name]


def init_app(app, token: str, urls: dict[str, str]) -> None:
    """One client per service, at the addresses the settings give (eventops.config reads them)."""
    app.extensions["service_clients"] = {
        name: ServiceClient(name, urls[name], token) for name in ("registration", "certificates", "feedback")
    }
