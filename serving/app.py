"""The ASGI application: ``/ping``, ``/invocations`` and ``/metrics``.

Built once per worker process by :func:`create_app`, after the fork, around a model
that is already loaded, or around ``None`` while the main process is still loading it
(then ``/ping`` and ``/invocations`` answer 503).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from serving.batching import WorkQueue
from serving.errors import RequestTimeout, Unavailable
from serving.invocation import CustomInvoker, Invocation, Invoker, RowInvoker, wants_probabilities
from serving.limits import ConcurrencyLimiter, Slot, read_body
from serving.metrics import CONTENT_TYPE, Metrics
from serving.middleware import RequestContext
from serving.models import CustomModel, RowModel, ServedModel
from serving.responses import as_serving_error
from serving.settings import Settings

_READY = b'{"status":"ready"}'


@dataclass
class Context:
    """What the endpoints share within one worker."""

    settings: Settings
    model: ServedModel | None
    invoker: Invoker | None
    limiter: ConcurrencyLimiter
    metrics: Metrics

    def unavailable(self, message: str) -> Unavailable:
        return Unavailable(message, headers={"Retry-After": str(self.settings.retry_after_seconds)})


def make_invoker(model: ServedModel, settings: Settings, metrics: Metrics) -> Invoker:
    """The invocation strategy for ``model``, with its work queue."""
    queue_factory = partial(
        WorkQueue,
        threads=settings.predict_threads,
        max_rows=settings.max_batch_rows,
        on_batch=metrics.batch_rows.observe,
    )
    if isinstance(model, CustomModel):
        return CustomInvoker(model, queue_factory)  # user code: always on a thread
    if isinstance(model, RowModel):
        inline = partial(queue_factory, inline_budget_seconds=settings.inline_predict_ms / 1000)
        return RowInvoker(model, inline)
    raise TypeError(f"no invoker for {type(model).__name__}")


def create_app(settings: Settings, model: ServedModel | None, metrics: Metrics) -> Starlette:
    """The application for one worker; ``model`` must be ready, or None while loading."""
    invoker = make_invoker(model, settings, metrics) if model is not None else None
    context = Context(
        settings=settings,
        model=model,
        invoker=invoker,
        limiter=ConcurrencyLimiter(settings.max_concurrency, settings.retry_after_seconds),
        metrics=metrics,
    )
    routes = [
        Route("/ping", partial(ping, context), methods=["GET"]),
        Route("/invocations", partial(invocations, context), methods=["POST"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(RequestContext, metrics=metrics, access_log=settings.access_log)],
        exception_handlers={HTTPException: _typed},
    )


async def ping(context: Context, request: Request) -> Response:
    """200 when the model is loaded and this worker can predict, else 503."""
    if context.model is None or not context.model.ready:
        raise context.unavailable("the model is still loading")
    return Response(_READY, media_type="application/json")


async def invocations(context: Context, request: Request) -> Response:
    """Decode the body, predict, answer in the media type ``Accept`` asks for."""
    if context.invoker is None or context.model is None or not context.model.ready:
        raise context.unavailable("the model is still loading")
    settings = context.settings
    headers = request.headers
    content_type, accept = headers.get("content-type"), headers.get("accept")
    slot = Slot(context.limiter)
    try:
        context.invoker.check(content_type, accept)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.request_timeout_seconds
        reading = read_body(
            request.receive,
            headers.get("content-length"),
            settings.max_body_bytes,
            expect_continue=headers.get("expect", "").lower() == "100-continue",
        )
        body = await _before(deadline, reading)
        call = Invocation(
            body=body,
            content_type=content_type,
            accept=accept,
            probabilities=wants_probabilities(request.query_params, headers),
            deadline=deadline,
            slot=slot,
        )
        content, media = await context.invoker(call)
    finally:
        slot.close()
    return Response(content, media_type=media)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format, merged over all worker processes."""
    return Response(Metrics.render(), media_type=CONTENT_TYPE)


async def _before(deadline: float, reading: Coroutine[Any, Any, bytes]) -> bytes:
    """Await the body read, or raise :class:`RequestTimeout` (408) at ``deadline``."""
    try:
        if sys.version_info >= (3, 11):
            async with asyncio.timeout_at(deadline):
                return await reading
        remaining = deadline - asyncio.get_running_loop().time()
        return await asyncio.wait_for(reading, remaining)
    except (TimeoutError, asyncio.TimeoutError):
        raise RequestTimeout("the request body did not arrive in time") from None


def _typed(request: Request, exc: Exception) -> Response:
    """Re-raise routing errors as typed ones, for :class:`RequestContext` to answer."""
    raise as_serving_error(exc)
