"""Building answers: JSON bodies via orjson, and errors in their one JSON shape."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.responses import Response

from serving.errors import (
    MethodNotAllowed,
    NotFound,
    ServingError,
    error_payload,
    status_of,
)
from serving.media import JSON


def json_response(
    document: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A compact JSON answer."""
    return Response(orjson.dumps(document), status_code=status, headers=headers, media_type=JSON)


def as_serving_error(exc: BaseException) -> BaseException:
    """Starlette's routing exceptions (404, 405) as the server's typed errors."""
    if isinstance(exc, HTTPException):
        if exc.status_code == 405:
            return MethodNotAllowed("method not allowed", headers=dict(exc.headers or {}))
        if exc.status_code == 404:
            return NotFound("no such route; use /ping, /invocations or /metrics")
        error = ServingError(str(exc.detail), headers=dict(exc.headers or {}))
        error.status = exc.status_code
        error.kind = "http_error"
        return error
    return exc


def error_response(exc: BaseException, request_id: str) -> Response:
    """The answer for any exception: typed status (else 500) and the JSON error body."""
    exc = as_serving_error(exc)
    headers = exc.headers if isinstance(exc, ServingError) else None
    return json_response(error_payload(exc, request_id), status_of(exc), headers)
