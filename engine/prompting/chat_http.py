"""A bounded client for OpenAI-compatible `/chat/completions` endpoints.

The openai client builds the request and maps the answer; it sends through
`engine.prompting.openai_transport.BoundedTransport`, whose wire (`exchange`, standard library) is here.

Every request has a TOTAL deadline (not a per-read timeout): a watchdog shuts the socket down when
it passes, so an endpoint that hangs, or drips one byte every few seconds, is abandoned at the
deadline. The answer body is read in chunks and refused beyond `max_bytes`. HTTP 429 and 5xx are
retried at most `max_retries` times, honouring `Retry-After` only when the wait fits in the
deadline. Every error names the endpoint. A `cancel` event abandons the request at once.
"""
from __future__ import annotations

import email.utils
import http.client
import json
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import SplitResult, urlsplit

DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: largest answer body read from an endpoint (bytes)
MAX_ANSWER_BYTES = 2_000_000
CHUNK = 16_384


class ChatHTTPError(RuntimeError):
    """The endpoint could not be used; the message names it and says why."""


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class _Watchdog:
    """Shuts a connection's socket down at a monotonic deadline or when `cancel` is set."""

    def __init__(self, conn: http.client.HTTPConnection, deadline: float,
                 cancel: threading.Event | None) -> None:
        self.conn, self.deadline, self.cancel = conn, deadline, cancel
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="llm-watchdog")
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            left = self.deadline - time.monotonic()
            if left <= 0 or (self.cancel is not None and self.cancel.is_set()):
                self.fired = True
                sock = self.conn.sock
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            self._stop.wait(min(left, 0.05))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1.0)


def post_chat(base_url: str | None, api_key: str | None, body: dict[str, Any], deadline: float, *,
              max_bytes: int = MAX_ANSWER_BYTES, max_retries: int = 1,
              cancel: threading.Event | None = None, limit_s: float | None = None) -> dict[str, Any]:
    """POST `body` to `{base_url}/chat/completions` and return the parsed JSON answer.

    deadline: time.monotonic() value by which everything (retries and waits included) ends;
    limit_s: the limit to name in messages (default: the time left at the call).
    Raises ChatHTTPError naming the endpoint.
    """
    base = (base_url or DEFAULT_BASE_URL).rstrip("/")
    where = base
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChatHTTPError(f"the language model endpoint {where!r} is not an http(s) URL")
    total = limit_s if limit_s is not None else round(max(0.0, deadline - time.monotonic()), 1)
    import httpx2
    import openai

    from engine.prompting.openai_transport import BoundedTransport

    transport = BoundedTransport(deadline, max_bytes=max_bytes, where=where, total=total, cancel=cancel)
    with httpx2.Client(transport=transport) as http:
        client = openai.OpenAI(base_url=base, api_key=api_key or "not-needed", max_retries=0,
                               timeout=max(0.01, deadline - time.monotonic()), http_client=http)
        for attempt in range(1 + max_retries):
            if deadline - time.monotonic() <= 0:
                raise ChatHTTPError(f"the language model at {where} did not answer within {total:g} s")
            try:
                raw = client.chat.completions.with_raw_response.create(**body)
                data = raw.http_response.content
            except ChatHTTPError:
                raise
            except openai.APIStatusError as e:
                status, resp_headers = e.status_code, {k.lower(): v for k, v in e.response.headers.items()}
                message = _error_text(e.response.content)
            except openai.APIConnectionError as e:  # includes APITimeoutError
                if isinstance(e.__cause__, ChatHTTPError):
                    raise e.__cause__ from None
                raise ChatHTTPError(f"cannot reach the language model at {where}: "
                                    f"{_short(str(e.__cause__ or e)) or type(e).__name__}") from None
            except openai.OpenAIError as e:
                raise ChatHTTPError(f"the language model at {where} could not be used: {_short(str(e))}") from None
            else:
                try:
                    doc = json.loads(data)
                except (ValueError, RecursionError):
                    raise ChatHTTPError(f"the language model at {where} answered with invalid JSON") from None
                if not isinstance(doc, dict):
                    raise ChatHTTPError(f"the language model at {where} answered without a message")
                return doc
            retryable = status == 429 or status >= 500
            if retryable and attempt < max_retries:
                wait = _retry_after(resp_headers.get("retry-after"), time.time())
                wait = min(0.5 * 2 ** attempt, 4.0) if wait is None else wait
                if time.monotonic() + wait >= deadline:
                    raise ChatHTTPError(f"the language model at {where} answered HTTP {status}"
                                        f"{' (rate limited)' if status == 429 else ''} and asks to retry in "
                                        f"{wait:g} s, after the {total:g} s deadline: {message}")
                if cancel is not None:
                    if cancel.wait(wait):
                        raise ChatHTTPError(f"the request to {where} was cancelled")
                else:
                    time.sleep(wait)
                continue
            raise ChatHTTPError(f"the language model endpoint {where} answered HTTP {status}"
                                f"{' (rate limited)' if status == 429 else ''}: {message}")
    raise ChatHTTPError(f"the language model at {where} failed")  # pragma: no cover - loop always returns/raises


def _error_text(data: bytes) -> str:
    try:
        doc = json.loads(data)
        msg = doc.get("error", {}).get("message") if isinstance(doc, dict) else None
        if isinstance(msg, str):
            return _short(msg)
    except (ValueError, AttributeError, RecursionError):
        pass
    return _short(data[:400].decode("utf-8", "replace")) or "(no message)"


def _short(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _proxy_for(parts: SplitResult) -> SplitResult | None:
    """The proxy URL (parsed) for this endpoint from HTTP(S)_PROXY / NO_PROXY, or None."""
    import urllib.request

    host = parts.hostname or ""
    try:
        if urllib.request.proxy_bypass(host):
            return None
    except OSError:
        pass
    url = urllib.request.getproxies().get(parts.scheme)
    return urlsplit(url) if url else None


def _connection(parts: SplitResult, path: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """A connection to the endpoint (through the environment's proxy, if any) and the request path."""
    proxy = _proxy_for(parts)
    host = parts.hostname
    if not host:
        raise ChatHTTPError(f"the language model endpoint {parts.geturl()!r} has no host name")
    if parts.scheme == "https":
        ctx = ssl.create_default_context()
        if proxy is not None and proxy.hostname:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                proxy.hostname, proxy.port or 80, timeout=timeout, context=ctx)
            conn.set_tunnel(host, parts.port or 443)
            return conn, path
        return http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=ctx), path
    if proxy is not None and proxy.hostname:
        conn = http.client.HTTPConnection(proxy.hostname, proxy.port or 80, timeout=timeout)
        netloc = host + (f":{parts.port}" if parts.port else "")
        return conn, f"http://{netloc}{path}"
    return http.client.HTTPConnection(host, parts.port, timeout=timeout), path


def exchange(parts: SplitResult, method: str, path: str, payload: bytes, headers: dict[str, str], deadline: float,
             max_bytes: int, where: str, total: float,
             cancel: threading.Event | None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP exchange that ends by `deadline` (time.monotonic()): (status, lower-case headers, body).

    parts: the endpoint URL split (`urllib.parse.urlsplit`); path: the request path with its query.
    At most `max_bytes` of body are read. Raises ChatHTTPError naming `where`.
    """
    left = max(0.01, deadline - time.monotonic())
    conn, path = _connection(parts, path, left)
    dog = _Watchdog(conn, deadline, cancel)
    try:
        conn.connect()
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        length = resp.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise ChatHTTPError(f"the language model at {where} sent an answer of {int(length)} bytes; "
                                f"at most {max_bytes} are read")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() >= deadline:
                raise TimeoutError()
            chunk = resp.read1(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise ChatHTTPError(f"the language model at {where} sent more than {max_bytes} bytes; "
                                    f"the answer was abandoned")
            chunks.append(chunk)
        if dog.fired:
            raise TimeoutError()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, b"".join(chunks)
    except ChatHTTPError:
        raise
    except TimeoutError:
        if cancel is not None and cancel.is_set():
            raise ChatHTTPError(f"the request to {where} was cancelled") from None
        raise ChatHTTPError(f"the language model at {where} did not answer within {total:g} s") from None
    except (OSError, http.client.HTTPException) as e:
        if dog.fired:
            if cancel is not None and cancel.is_set():
                raise ChatHTTPError(f"the request to {where} was cancelled") from None
            raise ChatHTTPError(f"the language model at {where} did not answer within {total:g} s") from None
        raise ChatHTTPError(f"cannot reach the language model at {where}: {_short(str(e)) or type(e).__name__}") \
            from None
    finally:
        dog.stop()
        conn.close()


__all__ = ["ChatHTTPError", "DEFAULT_BASE_URL", "MAX_ANSWER_BYTES", "post_chat"]
