"""The openai client over a bounded wire.

The openai client builds the request (URL, headers, body) and maps the answer and its errors; its own
timeouts are per read, so an endpoint that drips one byte every few seconds would hold it forever.
`BoundedTransport` is the httpx2 transport it sends through: every exchange goes over
`chat_http.exchange`, which ends at a TOTAL deadline (a watchdog shuts the socket), reads at most
`max_bytes`, asks for an uncompressed answer (no decompression bomb) and names the endpoint in every
error (`ChatHTTPError`).
"""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

import httpx2

from engine.prompting import chat_http


class BoundedTransport(httpx2.BaseTransport):
    """An httpx2 transport whose every request ends by `deadline` (time.monotonic()) or raises ChatHTTPError."""

    def __init__(self, deadline: float, *, max_bytes: int, where: str, total: float,
                 cancel: threading.Event | None = None) -> None:
        self.deadline, self.max_bytes, self.where, self.total, self.cancel = deadline, max_bytes, where, total, cancel

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = str(request.url)
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "accept-encoding")}
        headers["Accept-Encoding"] = "identity"
        status, resp_headers, data = chat_http.exchange(
            parts, request.method, path, request.read(), headers, self.deadline, self.max_bytes, self.where,
            self.total, self.cancel)
        # the body is handed over as read: never decoded again (a compressed answer fails as JSON, safely)
        resp_headers = {k: v for k, v in resp_headers.items()
                        if k not in ("content-encoding", "transfer-encoding", "content-length")}
        return httpx2.Response(status, headers=resp_headers, content=data, request=request)


__all__ = ["BoundedTransport"]
