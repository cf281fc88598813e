"""Bounds on connections, enforced where uvicorn parses HTTP.

uvicorn's httptools protocol has no limit on header size (llhttp accumulates a header
of any length), no deadline for headers to arrive (its keep-alive timer runs only
between requests) and no cap on open connections that leaves ``/ping`` its meaning
(``limit_concurrency`` answers 503 to every request alike). An ASGI middleware runs
only once the headers are complete, too late for all three, so
:func:`guarded_protocol` subclasses the protocol instead:

- headers (request line included) larger than ``max_header_bytes`` get 431 and the
  connection is closed, whatever has been buffered so far;
- headers that have not arrived ``header_timeout_seconds`` after the connection opened
  (or after the first byte of a request on a kept-alive connection) get 408 and the
  connection is closed: slow-header clients cannot hold connections;
- a connection beyond ``max_connections`` gets 503 and is closed at once.

A refused connection is half-closed after its answer and what the client still sends is
read and dropped for up to ``LINGER_SECONDS``, so the client reads the answer instead of
a reset.

It relies on uvicorn internals (``HttpToolsProtocol``'s parser callbacks and
``connections`` set), so pyproject.toml pins uvicorn to the minor version tested.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from serving.errors import PUBLIC_MESSAGES

#: Seconds a refused connection is drained before it is closed.
LINGER_SECONDS = 1.0


@dataclass
class ConnectionGuard:
    """Limits for one worker's connections and a count of the open ones.

    Defaults: 16 KiB of headers, 10 s for them to arrive, 512 connections.
    """

    max_header_bytes: int = 16_384
    header_timeout_seconds: float = 10.0
    max_connections: int = 512
    open: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        """True when one more connection would be refused."""
        return self.open >= self.max_connections

    def count(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1


def _raw_answer(status: bytes, kind: str, message: str, extra: bytes = b"") -> bytes:
    body = orjson.dumps({"error": message, "type": kind, "request_id": None})
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n" + extra
        + b"connection: close\r\n\r\n" + body
    )  # fmt: skip


_TOO_LARGE = _raw_answer(
    b"431 Request Header Fields Too Large", "header_too_large", "request headers are too large"
)
_TOO_SLOW = _raw_answer(
    b"408 Request Timeout", "request_timeout", "the request headers did not arrive in time"
)
_FULL = _raw_answer(
    b"503 Service Unavailable", "unavailable", PUBLIC_MESSAGES["unavailable"],
    b"retry-after: 1\r\n",
)  # fmt: skip


def guarded_protocol(guard: ConnectionGuard) -> type[HttpToolsProtocol]:
    """An ``HttpToolsProtocol`` subclass enforcing ``guard`` (pass as uvicorn's ``http``)."""

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        _guard = guard

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._header_bytes = 0
            self._in_headers = True
            self._header_timer: asyncio.TimerHandle | None = None
            self._counted = False
            self._refused = False
            if self._guard.full:
                self._guard.count("connections")
                self._refuse(_FULL)
                return
            self._counted = True
            self._guard.open += 1
            self._start_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_header_timer()
            if self._counted:
                self._counted = False
                self._guard.open -= 1
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused or self.transport.is_closing():
                return
            super().data_received(data)
            if self._in_headers:
                self._header_bytes += len(data)
                if self._header_bytes > self._guard.max_header_bytes:
                    self._guard.count("header_size")
                    self._refuse(_TOO_LARGE)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_headers = True
            self._header_bytes = 0
            if self._header_timer is None:  # a new request on a kept-alive connection
                self._start_header_timer()

        def on_headers_complete(self) -> None:
            self._in_headers = False
            self._stop_header_timer()
            super().on_headers_complete()

        def _start_header_timer(self) -> None:
            self._header_timer = self.loop.call_later(
                self._guard.header_timeout_seconds, self._headers_too_slow
            )

        def _stop_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self._in_headers and not self.transport.is_closing():
                self._guard.count("header_time")
                self._refuse(_TOO_SLOW)

        def _refuse(self, answer: bytes) -> None:
            self._stop_header_timer()
            self._in_headers = False
            self._refused = True
            self.transport.write(answer)
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)

    return GuardedHttpToolsProtocol


__all__ = ["ConnectionGuard", "guarded_protocol"]
