"""Per-request bookkeeping: request id, metrics, logs, and the last line of error handling.

A pure ASGI middleware (no per-request task or body copy) so it costs microseconds.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.errors import ServingError, status_of
from serving.metrics import Metrics, route_label
from serving.responses import as_serving_error, error_response

log = logging.getLogger("serving.access")

REQUEST_ID_HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-Id`` when it is a sane token, else a new random id."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            if _VALID_ID.fullmatch(value):
                return value.decode()
            break
    return uuid.uuid4().hex


class RequestContext:
    """Gives every request an id (echoed as ``X-Request-Id``), counts and times it, logs
    errors (and every request with ``SERVING_ACCESS_LOG``), and turns any exception that
    got this far into the JSON error answer instead of a dropped connection."""

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = request_id_from(scope["headers"])
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        route = route_label(scope["path"])
        status = 0
        id_header = (REQUEST_ID_HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        counts_in_flight = route == "/invocations"
        if counts_in_flight:
            self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            state["error"] = exc
            if status == 0:
                await error_response(exc, request_id)(scope, receive, send_with_id)
            else:
                status = status_of(exc)
        finally:
            if counts_in_flight:
                self.metrics.in_flight.dec()
            seconds = time.perf_counter() - start
            self.metrics.observe(route, status, seconds)
            if status >= 400:
                self._record_error(scope, state, status, seconds)
            elif self.access_log:
                self._log(logging.INFO, scope, state, status, seconds)
            # The exception's traceback reaches this frame and so ``state``: drop the
            # reference, or the cycle keeps the request's body alive until a collection.
            state.pop("error", None)

    def _record_error(
        self, scope: Scope, state: dict[str, Any], status: int, seconds: float
    ) -> None:
        exc = state.get("error")
        typed = as_serving_error(exc) if exc is not None else None
        kind = typed.kind if isinstance(typed, ServingError) else "internal_error"
        self.metrics.error(status, kind)
        if status >= 500 and status != 503:
            self._log(logging.ERROR, scope, state, status, seconds, kind, exc_info=exc)
        else:
            self._log(logging.INFO, scope, state, status, seconds, kind)

    @staticmethod
    def _log(
        level: int,
        scope: Scope,
        state: dict[str, Any],
        status: int,
        seconds: float,
        kind: str | None = None,
        exc_info: BaseException | None = None,
    ) -> None:
        fields = {
            "request_id": state["request_id"],
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        }
        if kind is not None:
            fields["error_type"] = kind
            exc = state.get("error")
            if exc is not None:
                fields["error"] = str(exc)[:500]
        log.log(level, "request", extra=fields, exc_info=exc_info)
