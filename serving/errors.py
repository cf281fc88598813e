"""Typed errors and the one place that maps them to HTTP status codes.

Code anywhere in the server raises one of these; :func:`status_of` and
:func:`error_payload` turn it into the answer. Anything else that escapes a handler is a
bug or a model failure and becomes a 500 with the same JSON shape.
"""

from __future__ import annotations

from typing import Any


class SettingsError(ValueError):
    """A start-up setting (environment variable or flag) is malformed. Exit code 2."""


class ModelLoadError(RuntimeError):
    """The model directory cannot be turned into a model. The server exits with code 1."""


class ServingError(Exception):
    """Base of errors answered to a client. ``kind`` is the stable, machine-readable name."""

    status = 500
    kind = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ServingError):
    """The body cannot be decoded, or the model rejects its shape or values (400)."""

    status = 400
    kind = "bad_request"


class NotFound(ServingError):
    """No such route (404)."""

    status = 404
    kind = "not_found"


class MethodNotAllowed(ServingError):
    """The route exists but not for this method (405)."""

    status = 405
    kind = "method_not_allowed"


class NotAcceptable(ServingError):
    """No media type in ``Accept`` can be produced (406)."""

    status = 406
    kind = "not_acceptable"


class RequestTimeout(ServingError):
    """The body did not arrive before the request deadline (408)."""

    status = 408
    kind = "request_timeout"


class PayloadTooLarge(ServingError):
    """The body is larger than ``SERVING_MAX_BODY_BYTES`` (413)."""

    status = 413
    kind = "payload_too_large"


class UnsupportedMediaType(ServingError):
    """``Content-Type`` is not one the model accepts (415)."""

    status = 415
    kind = "unsupported_media_type"


class ClientClosedRequest(ServingError):
    """The client went away before the body arrived (499, only ever seen in logs)."""

    status = 499
    kind = "client_closed_request"


class ModelError(ServingError):
    """The model (or user inference code) failed on valid input (500)."""

    status = 500
    kind = "model_error"


class Unavailable(ServingError):
    """Not ready yet, shutting down, or over the concurrency limit (503, with Retry-After)."""

    status = 503
    kind = "unavailable"


class PredictTimeout(ServingError):
    """The prediction did not finish before the request deadline (504)."""

    status = 504
    kind = "timeout"


def status_of(exc: BaseException) -> int:
    """HTTP status for an exception: the typed status, else 500."""
    return exc.status if isinstance(exc, ServingError) else 500


#: What a caller is told for each 5xx type. The exception's own text (which may hold data
#: from the model, its code or the environment) goes only to the log, under the same
#: request id.
PUBLIC_MESSAGES = {
    "internal_error": "internal server error; see the server log for this request id",
    "model_error": "the model failed on this request; see the server log for this request id",
    "unavailable": "the server cannot take this request now; retry later",
    "timeout": "the prediction did not finish in time",
}


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """JSON body for an error answer: ``{"error", "type", "request_id"}``.

    4xx answers say what was wrong with the request. 5xx answers carry only a generic
    message for their type: the details are logged with the request id.
    """
    kind = exc.kind if isinstance(exc, ServingError) else "internal_error"
    if isinstance(exc, ServingError) and exc.status < 500:
        return {"error": exc.message, "type": kind, "request_id": request_id}
    message = PUBLIC_MESSAGES.get(kind, PUBLIC_MESSAGES["internal_error"])
    return {"error": message, "type": kind, "request_id": request_id}
