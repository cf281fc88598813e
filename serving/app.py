"""The ASGI application: ``/ping``, ``/invocations`` and ``/metrics``.

Built once per worker process by :func:`create_app`, after the fork, around a model
that is already loaded, or around ``None`` while the main process is still loading it
(then ``/ping`` and ``/invocations`` answer 503).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from serving.batching import WorkQueue
from serving.connections import ConnectionGuard
from serving.errors import RequestTimeout, ServingError, Unavailable
from serving.invocation import (
    INLINE_LIMIT_BYTES,
    CustomInvoker,
    Invocation,
    Invoker,
    RowInvoker,
    wants_explanation,
    wants_probabilities,
)
from serving.limits import ConcurrencyLimiter, Slot, read_body
from serving.memory import TRIM_AFTER_BYTES, trim
from serving.metrics import CONTENT_TYPE, Metrics
from serving.middleware import RequestContext
from serving.models import CustomModel, RowModel, ServedModel
from serving.responses import as_serving_error
from serving.settings import Settings

T = TypeVar("T")
_READY = b'{"status":"ready"}'
#: Seconds after a large request before free memory is handed back to the kernel, so the
#: answer is sent first and concurrent large requests share one trim.
TRIM_DELAY_SECONDS = 0.2


@dataclass
class Context:
    """What the endpoints share within one worker."""

    settings: Settings
    model: ServedModel | None
    invoker: Invoker | None
    limiter: ConcurrencyLimiter
    metrics: Metrics
    connections: ConnectionGuard | None = None
    large: asyncio.Semaphore = field(default_factory=asyncio.Semaphore)
    trim_scheduled: bool = False

    def unavailable(self, message: str) -> Unavailable:
        return Unavailable(message, headers={"Retry-After": str(self.settings.retry_after_seconds)})

    def overloaded(self) -> str | None:
        """Why this worker cannot take another invocation now, or None when it can."""
        if self.limiter.in_flight >= self.limiter.limit:
            return "every concurrency slot is taken"
        if self.connections is not None and self.connections.full:
            return "the worker is at its connection limit"
        return None

    def trim_soon(self) -> None:
        """Hand free heap pages back to the kernel shortly (once for a burst)."""
        if not self.trim_scheduled:
            self.trim_scheduled = True
            asyncio.get_running_loop().call_later(TRIM_DELAY_SECONDS, self._trim)

    def _trim(self) -> None:
        self.trim_scheduled = False
        trim()


def make_invoker(model: ServedModel, settings: Settings, metrics: Metrics) -> Invoker:
    """The invocation strategy for ``model``, with its work queue."""
    queue_factory = partial(
        WorkQueue,
        threads=settings.predict_threads,
        max_rows=settings.max_batch_rows,
        budget_seconds=settings.batch_budget_ms / 1000,
        on_batch=metrics.batch_rows.observe,
        on_dropped=lambda: metrics.abandoned.inc(),
    )
    if isinstance(model, CustomModel):
        return CustomInvoker(model, queue_factory)  # user code: always on a thread
    if isinstance(model, RowModel):
        inline = partial(queue_factory, inline_budget_seconds=settings.inline_predict_ms / 1000)
        return RowInvoker(
            model, inline, max_cells=settings.max_cells, explain_max_rows=settings.explain_max_rows
        )
    raise TypeError(f"no invoker for {type(model).__name__}")


def create_app(
    settings: Settings,
    model: ServedModel | None,
    metrics: Metrics,
    connections: ConnectionGuard | None = None,
) -> Starlette:
    """The application for one worker; ``model`` must be ready, or None while loading.

    ``connections`` is the worker's connection guard, so ``/ping`` can report a worker
    at its connection limit.
    """
    invoker = make_invoker(model, settings, metrics) if model is not None else None
    context = Context(
        settings=settings,
        model=model,
        invoker=invoker,
        limiter=ConcurrencyLimiter(settings.max_concurrency, settings.retry_after_seconds),
        metrics=metrics,
        connections=connections,
        large=asyncio.Semaphore(settings.large_concurrency),
    )
    routes = [
        Route("/ping", partial(ping, context), methods=["GET"]),
        Route("/invocations", partial(invocations, context), methods=["POST"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestContext, metrics=metrics, access_log=settings.access_log)],
        exception_handlers={HTTPException: _typed},
    )
    # "/ping/" would otherwise be redirected to a Location built from the Host header.
    app.router.redirect_slashes = False
    return app


async def ping(context: Context, request: Request) -> Response:
    """200 when the model is loaded and this worker can take an invocation, else 503."""
    if context.model is None or not context.model.ready:
        raise context.unavailable("the model is still loading")
    reason = context.overloaded()
    if reason is not None:
        raise context.unavailable(f"overloaded: {reason}")
    return Response(_READY, media_type="application/json")


async def invocations(context: Context, request: Request) -> Response:
    """Decode the body, predict, answer in the media type ``Accept`` asks for.

    Requests with a large body (or one of unknown length), and every request for
    explanations, take a turn first, so only ``SERVING_LARGE_CONCURRENCY`` of them are in
    memory (or explaining) at once.
    """
    if context.invoker is None or context.model is None or not context.model.ready:
        raise context.unavailable("the model is still loading")
    headers = request.headers
    explain = wants_explanation(request.query_params, headers)
    context.invoker.check(headers.get("content-type"), headers.get("accept"), explain)
    deadline = asyncio.get_running_loop().time() + context.settings.request_timeout_seconds
    length = headers.get("content-length")
    small = length is not None and length.isdigit() and int(length) <= INLINE_LIMIT_BYTES
    if small and not explain:
        return await _invoke(context, request, deadline, explain)
    try:
        await _before(deadline, context.large.acquire(), RequestTimeout, _LARGE_BUSY)
    except RequestTimeout:
        raise context.unavailable(_LARGE_BUSY) from None
    try:
        return await _invoke(context, request, deadline, explain)
    finally:
        context.large.release()


_LARGE_BUSY = "busy with other large requests"


async def _invoke(context: Context, request: Request, deadline: float, explain: bool) -> Response:
    settings = context.settings
    headers = request.headers
    content_type, accept = headers.get("content-type"), headers.get("accept")
    loop = asyncio.get_running_loop()
    now = loop.time()
    reading = read_body(
        request.receive,
        headers.get("content-length"),
        settings.max_body_bytes,
        expect_continue=headers.get("expect", "").lower() == "100-continue",
    )
    body_deadline = min(deadline, now + settings.body_timeout_seconds)
    body = await _before(body_deadline, reading, RequestTimeout, _BODY_LATE)
    # Only now, with the whole body here, does the request count against the limit: a
    # slow or stalled sender holds a connection, never a slot.
    slot = Slot(context.limiter)
    gone = loop.create_future()
    watcher = loop.create_task(_watch_disconnect(request.receive, gone))
    try:
        call = Invocation(
            body=body,
            content_type=content_type,
            accept=accept,
            probabilities=wants_probabilities(request.query_params, headers),
            explain=explain,
            deadline=deadline,
            slot=slot,
            client_gone=gone,
        )
        content, media = await context.invoker(call)
    finally:
        watcher.cancel()
        slot.close()
        if len(body) >= TRIM_AFTER_BYTES:
            context.trim_soon()
    return Response(content, media_type=media)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format, merged over all worker processes."""
    return Response(Metrics.render(), media_type=CONTENT_TYPE)


async def _watch_disconnect(receive: Any, gone: asyncio.Future[None]) -> None:
    """Resolve ``gone`` when the client disconnects (the body has been read by then)."""
    message = await receive()
    if message["type"] == "http.disconnect" and not gone.done():
        gone.set_result(None)


_BODY_LATE = "the request body did not arrive in time"


async def _before(
    deadline: float, waiting: Coroutine[Any, Any, T], error: type[ServingError], message: str
) -> T:
    """Await ``waiting``, or raise ``error`` (with ``Connection: close``: the rest of
    the body may still be on its way) at ``deadline``."""
    try:
        if sys.version_info >= (3, 11):
            async with asyncio.timeout_at(deadline):
                return await waiting
        remaining = deadline - asyncio.get_running_loop().time()
        return await asyncio.wait_for(waiting, remaining)
    except (TimeoutError, asyncio.TimeoutError):
        raise error(message, headers={"Connection": "close"}) from None


def _typed(request: Request, exc: Exception) -> Response:
    """Re-raise routing errors as typed ones, for :class:`RequestContext` to answer."""
    raise as_serving_error(exc)
