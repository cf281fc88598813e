"""Bounds on one worker's work: concurrent invocations and request body size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from serving.errors import BadRequest, ClientClosedRequest, PayloadTooLarge, Unavailable

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class ConcurrencyLimiter:
    """Admits at most ``limit`` invocations at once; the rest are refused at the door.

    Refusing (503 with ``Retry-After``) instead of queueing keeps latency bounded under
    overload and lets the caller's retry or the load balancer pick a less busy worker.
    Not thread-safe: used from the event loop only.
    """

    def __init__(self, limit: int, retry_after_seconds: int = 1) -> None:
        self.limit = limit
        self.in_flight = 0
        self._retry_after = str(retry_after_seconds)

    def acquire(self) -> None:
        """Take a slot or raise :class:`Unavailable` (503) when all are taken."""
        if self.in_flight >= self.limit:
            raise Unavailable(
                f"too many requests in flight (limit {self.limit} per worker); retry later",
                headers={"Retry-After": self._retry_after},
            )
        self.in_flight += 1

    def release(self) -> None:
        """Give a slot back; call exactly once per successful :meth:`acquire`."""
        self.in_flight -= 1


class Slot:
    """One admitted invocation: acquires a limiter slot on creation (or raises 503).

    The request's handler calls :meth:`close` when it ends; if the work queue took the
    slot over with :meth:`hand_off`, the slot is released only when the model call
    finishes, even if the request stopped waiting for it (timeout), so the limit counts
    real work.
    """

    __slots__ = ("_handed_off", "_limiter", "_open")

    def __init__(self, limiter: ConcurrencyLimiter) -> None:
        limiter.acquire()
        self._limiter = limiter
        self._open = True
        self._handed_off = False

    def hand_off(self) -> Callable[[], None]:
        """Transfer the release to the caller of the returned function."""
        self._handed_off = True
        return self._release

    def close(self) -> None:
        """End of the request: release unless handed off."""
        if not self._handed_off:
            self._release()

    def _release(self) -> None:
        if self._open:
            self._open = False
            self._limiter.release()


#: How much of an oversized body is read and dropped so the client, still sending, can
#: read the 413 instead of a connection reset. Past this the connection is just closed.
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024


async def read_body(
    receive: Receive, content_length: str | None, max_bytes: int, expect_continue: bool = False
) -> bytes | bytearray:
    """Read a request body of at most ``max_bytes`` bytes, else raise 413.

    A declared ``Content-Length`` over the limit is refused before anything is stored;
    chunked bodies are counted as they arrive. A declared length is read into one buffer
    of that size, so a large body is held once, not once per chunk and again joined.
    Unless the client asked for ``Expect: 100-continue`` (then it has sent nothing yet),
    the rest of an oversized body is read and dropped (up to ``DRAIN_LIMIT_BYTES``),
    because a client that is still sending when the server closes gets a reset instead
    of the answer.
    """
    too_large = PayloadTooLarge(
        f"request body is larger than {max_bytes} bytes", headers={"Connection": "close"}
    )
    declared: int | None = None
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise BadRequest(f"invalid Content-Length {content_length!r}") from None
        if declared > max_bytes:
            if not expect_continue:
                await _drain(receive, 0)
            raise too_large
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientClosedRequest("client disconnected before sending the whole body")
    first: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(first) > max_bytes:
            raise too_large
        return first  # the common case: the whole body in one message, kept without a copy
    buffer = bytearray(declared) if declared is not None else bytearray()
    size = 0
    chunk, more = first, True
    while True:
        if chunk:
            end = size + len(chunk)
            if end > max_bytes:
                del buffer[:]
                if more:
                    await _drain(receive, end)
                raise too_large
            if declared is not None and end <= declared:
                buffer[size:end] = chunk
            else:
                buffer += chunk
            size = end
        if not more:
            break
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientClosedRequest("client disconnected before sending the whole body")
        chunk, more = message.get("body", b""), message.get("more_body", False)
    if size < len(buffer):
        del buffer[size:]
    return buffer


async def _drain(receive: Receive, size: int) -> None:
    while size <= DRAIN_LIMIT_BYTES:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
