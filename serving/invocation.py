"""From a request body to a response body: decode, predict (queued), encode.

Two strategies share the work queue: :class:`RowInvoker` for the built-in formats
(the server decodes, merges concurrent requests and encodes) and :class:`CustomInvoker`
for ``code/inference.py`` (the user's handlers see one request at a time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from serving import explain as explain_module
from serving.batching import Outcome, WorkQueue
from serving.decode import DEFAULT_MAX_CELLS, Body, decode
from serving.encode import encode, encode_json
from serving.errors import (
    BadRequest,
    ClientClosedRequest,
    NotAcceptable,
    PayloadTooLarge,
    PredictTimeout,
    UnsupportedMediaType,
)
from serving.limits import Slot
from serving.media import DECODABLE, JSON, choose_answer_type, media_type
from serving.models.base import RowModel
from serving.models.custom import CustomModel
from serving.prediction import Prediction

#: Bodies larger than this (bytes) are decoded and encoded on a helper thread, so one big
#: request does not hold up the event loop.
INLINE_LIMIT_BYTES = 64 * 1024

CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
_TRUE = frozenset(("1", "true", "yes", "on"))
#: Default cap on the rows of one explained request (``SERVING_EXPLAIN_MAX_ROWS``).
DEFAULT_EXPLAIN_MAX_ROWS = 100


@dataclass(frozen=True)
class Invocation:
    """One request as the invokers see it. ``client_gone`` resolves if the client
    disconnects; a prediction that has not started by then is dropped."""

    body: Body
    content_type: str | None
    accept: str | None
    probabilities: bool
    deadline: float
    slot: Slot
    client_gone: asyncio.Future[None] | None = None
    explain: bool = False


def asks_for(option: str, query: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    """``?<option>=true`` or SageMaker custom attributes ``<option>=true``.

    SageMaker forwards ``CustomAttributes`` of ``InvokeEndpoint`` as the
    ``X-Amzn-SageMaker-Custom-Attributes`` header (``key=value`` pairs separated by ``;``
    or ``,``) and drops query strings, hence both.
    """
    if query.get(option, "").lower() in _TRUE:
        return True
    attributes = headers.get(CUSTOM_ATTRIBUTES, "")
    for pair in attributes.replace(",", ";").split(";"):
        name, _, value = pair.partition("=")
        if name.strip().lower() == option and value.strip().lower() in _TRUE:
            return True
    return False


def wants_probabilities(query: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    """``probabilities=true`` in the query or the custom attributes."""
    return asks_for("probabilities", query, headers)


def wants_explanation(query: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    """``explain=true`` in the query or the custom attributes."""
    return asks_for("explain", query, headers)


async def _await_until(future: asyncio.Future[Any], call: Invocation) -> Any:
    """The future's result, or :class:`PredictTimeout` (504) once the deadline passes, or
    :class:`ClientClosedRequest` when the client goes away first.

    Work that has started keeps its thread until it finishes; only the wait is abandoned.
    Work still queued is dropped by the queue when its future ends early.
    """
    loop = asyncio.get_running_loop()
    timer = loop.call_at(call.deadline, _fail, future, PredictTimeout, _LATE)
    gone = call.client_gone
    if gone is not None:
        gone.add_done_callback(lambda _: _fail(future, ClientClosedRequest, _GONE))
    try:
        return await future
    finally:
        timer.cancel()


_LATE = "the prediction did not finish in time"
_GONE = "the client disconnected before the answer was ready"


def _fail(future: asyncio.Future[Any], kind: type[Exception], message: str) -> None:
    if not future.done():
        future.set_exception(kind(message))


class RowInvoker:
    """Decode rows, predict them on the work queue (merged when possible), encode.

    Bodies over ``INLINE_LIMIT_BYTES`` are decoded and answers encoded on a helper
    thread; at most ``max_cells`` rows x values are accepted per request. Explanations
    (``explain``) run on a queue of their own, one at a time and never merged, for at
    most ``explain_max_rows`` rows per request.
    """

    def __init__(
        self,
        model: RowModel,
        queue_factory: Callable[..., WorkQueue],
        max_cells: int = DEFAULT_MAX_CELLS,
        explain_max_rows: int = DEFAULT_EXPLAIN_MAX_ROWS,
    ) -> None:
        self.model = model
        self.queue = queue_factory(self._run_batch)
        self.max_cells = max_cells
        self.dtype = model.input_dtype
        self.explain_max_rows = explain_max_rows
        self.explainer = model.explainer()
        self._explain_queue: WorkQueue | None = None
        self._queue_factory = queue_factory

    def check(self, content_type: str | None, accept: str | None, explain: bool = False) -> None:
        """Refuse what cannot be served before the body is read: unsupported media types
        (415, 406), explanations this server or model cannot give (400) or in CSV (406)."""
        media = media_type(content_type)
        if media not in DECODABLE:
            raise UnsupportedMediaType(
                f"content type {media!r} is not supported; use one of {', '.join(DECODABLE)}"
            )
        if not explain:
            choose_answer_type(accept)
            return
        if not explain_module.installed():
            raise BadRequest(explain_module.ENABLE)
        if self.explainer is None:
            raise BadRequest(
                f"explanations are available for joblib models (tree and linear); this is "
                f"a {self.model.format} model"
            )
        try:
            choose_answer_type(accept, (JSON,))
        except NotAcceptable:
            raise NotAcceptable(
                f"explanations are answered in JSON only, not in {accept!r}; "
                "send Accept: application/json"
            ) from None

    async def __call__(self, call: Invocation) -> tuple[bytes, str]:
        media_in = media_type(call.content_type)
        media_out = JSON if call.explain else choose_answer_type(call.accept)
        heavy = len(call.body) > INLINE_LIMIT_BYTES
        if heavy:
            rows = await asyncio.to_thread(decode, call.body, media_in, self.dtype, self.max_cells)
        else:
            rows = decode(call.body, media_in, self.dtype, self.max_cells)
        self.model.check_rows(rows)
        if call.probabilities and not self.model.supports_probabilities:
            raise BadRequest("this model cannot return probabilities")
        if call.explain:
            return await self._explained(rows, call), JSON
        key = (call.probabilities, rows.shape[1], rows.dtype.str) if self.model.batchable else None
        future = self.queue.submit(
            (rows, call.probabilities), key=key, rows=rows.shape[0], on_done=call.slot.hand_off()
        )
        prediction = await _await_until(future, call)
        if heavy:
            return await asyncio.to_thread(encode, prediction, media_out), media_out
        return encode(prediction, media_out), media_out

    def _run_batch(self, payloads: list[tuple[np.ndarray, bool]]) -> list[Outcome]:
        """In a worker thread: one model call for all payloads, or one each on failure."""
        if len(payloads) > 1:
            probabilities = payloads[0][1]
            try:
                prediction = self.model.predict(
                    np.concatenate([rows for rows, _ in payloads]), probabilities
                )
            except Exception:  # find out whose rows the model rejects
                pass
            else:
                outcomes: list[Outcome] = []
                start = 0
                for rows, _ in payloads:
                    outcomes.append((True, prediction.rows(start, start + rows.shape[0])))
                    start += rows.shape[0]
                return outcomes
        return [self._run_one(rows, probabilities) for rows, probabilities in payloads]

    def _run_one(self, rows: np.ndarray, probabilities: bool) -> Outcome:
        try:
            return True, self.model.predict(rows, probabilities)
        except Exception as exc:
            return False, exc

    async def _explained(self, rows: np.ndarray, call: Invocation) -> bytes:
        """Predict and explain ``rows`` on the explanation queue; the JSON answer."""
        if rows.shape[0] > self.explain_max_rows:
            raise PayloadTooLarge(
                f"explanations are computed for at most {self.explain_max_rows} rows per "
                f"request, this one holds {rows.shape[0]} (SERVING_EXPLAIN_MAX_ROWS)"
            )
        if self._explain_queue is None:
            # Its own queue: never merged, and its calls stay out of the prediction
            # queue's cost model and inline decision.
            self._explain_queue = self._queue_factory(
                self._run_explain, threads=1, max_rows=0, on_batch=None, inline_budget_seconds=0
            )
        future = self._explain_queue.submit(
            (rows, call.probabilities), key=None, rows=rows.shape[0], on_done=call.slot.hand_off()
        )
        prediction, explanation = await _await_until(future, call)
        return encode_explained(prediction, explanation)

    def _run_explain(self, payloads: list[tuple[np.ndarray, bool]]) -> list[Outcome]:
        assert self.explainer is not None  # checked before the body was read
        outcomes: list[Outcome] = []
        for rows, probabilities in payloads:
            try:
                prediction = self.model.predict(rows, probabilities)
                outcomes.append((True, (prediction, self.explainer.explain(rows))))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes


def encode_explained(prediction: Prediction, explanation: explain_module.Explanation) -> bytes:
    """The JSON answer with explanations: ``{"predictions": [...], "probabilities"?: ...,
    "explanations": {"output", "classes", "features", "base_values", "shap_values"}}``."""
    body = encode_json(prediction)
    return (
        body[:-1] + b',"explanations":' + orjson.dumps(explanation.document(), option=_NUMPY) + b"}"
    )


class CustomInvoker:
    """Hand the raw request to the user's handlers, one request per call."""

    def __init__(self, model: CustomModel, queue_factory: Callable[..., WorkQueue]) -> None:
        self.model = model
        self.queue = queue_factory(self._run_batch)

    def check(self, content_type: str | None, accept: str | None, explain: bool = False) -> None:
        """Only explanations are refused up front (400); ``input_fn`` / ``output_fn``
        decide the rest."""
        if explain:
            raise BadRequest(
                "explanations are available for joblib models (tree and linear), not for "
                "models served by code/inference.py"
            )

    async def __call__(self, call: Invocation) -> tuple[bytes, str]:
        payload = (call.body, media_type(call.content_type), call.accept)
        future = self.queue.submit(payload, key=None, on_done=call.slot.hand_off())
        return await _await_until(future, call)

    def _run_batch(self, payloads: list[tuple[bytes, str, str | None]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for body, content_type, accept in payloads:
            try:
                outcomes.append((True, self.model.transform(body, content_type, accept)))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes


Invoker = RowInvoker | CustomInvoker
_NUMPY = orjson.OPT_SERIALIZE_NUMPY
