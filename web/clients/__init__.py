"""Typed clients of the services' JSON APIs: one module per service, one function per API call.

Views call `registration.event(event_id)`, `certificates.record_scan(...)`, ... and never spell an API
path. `base` holds the HTTP plumbing (service token, language, request id, errors).
"""

from web.clients.base import ServiceClient, ServiceError, ServiceFailed, ServiceUnavailable, client, init_app

__all__ = ["ServiceClient", "ServiceError", "ServiceFailed", "ServiceUnavailable", "client", "init_app"]
