"""Smoke test of a deployed endpoint: it is InService, answers the example payload with
one prediction per row, and within the latency budget."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from mlstack.models.aws import AwsError, calling

EXAMPLE_PAYLOAD: dict[str, Any] = {"instances": [[5.1, 3.5, 1.4, 0.2]]}
"""One iris flower (sepal length, sepal width, petal length, petal width in cm): the
example model's input, in the serving contract's JSON form."""
DEFAULT_MAX_LATENCY_MS = 2000.0
"""Budget for one invocation as the client sees it (network included). Default 2000 ms."""
IN_SERVICE = "InService"


class SmokeError(Exception):
    """The endpoint answered, but not as a healthy endpoint of the kit would."""


@dataclass(frozen=True)
class SmokeResult:
    """What one smoke invocation observed."""

    endpoint: str
    variant: str | None
    latency_ms: float
    predictions: list[Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "variant": self.variant,
            "latencyMs": round(self.latency_ms, 1),
            "predictions": self.predictions,
        }


MAX_PREDICTION_DEPTH = 2
"""A prediction is a label or number, or a list of them (scores per class): one level deep."""


def _is_finite_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (int, str, bool))


def _is_prediction(value: Any, depth: int = 0) -> bool:
    """A finite number or label, or a list of them, nested at most one level."""
    if isinstance(value, list):
        return depth < MAX_PREDICTION_DEPTH - 1 and all(_is_prediction(v, depth + 1) for v in value)
    return _is_finite_scalar(value)


def check_response(body: bytes, rows: int) -> list[Any]:
    """The predictions of a response body; raises :class:`SmokeError` on a wrong shape.

    Expected: ``{"predictions": [one per row], "probabilities"?: [one list per row]}``.
    """
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SmokeError(f"response is not JSON: {body[:80]!r}") from None
    except RecursionError:
        raise SmokeError(
            "response nests deeper than any prediction: not the kit's answer"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("predictions"), list):
        raise SmokeError(f'response lacks a "predictions" list: {str(document)[:80]}')
    predictions = document["predictions"]
    if len(predictions) != rows:
        raise SmokeError(f"expected {rows} prediction(s) for {rows} row(s), got {len(predictions)}")
    if not all(_is_prediction(p) for p in predictions):
        raise SmokeError(
            "predictions must be finite numbers or labels, or one list of them per row: "
            f"{str(predictions)[:80]}"
        )
    probabilities = document.get("probabilities")
    if probabilities is not None and (
        not isinstance(probabilities, list) or len(probabilities) != rows
    ):
        raise SmokeError(f'"probabilities" must hold one list per row: {str(probabilities)[:80]}')
    return predictions


def smoke(
    sagemaker: Any,
    runtime: Any,
    endpoint: str,
    payload: dict[str, Any] = EXAMPLE_PAYLOAD,
    max_latency_ms: float = DEFAULT_MAX_LATENCY_MS,
    inference_component: str | None = None,
) -> SmokeResult:
    """Check ``endpoint`` end to end (with ``inference_component``, that model of a shared
    fleet); raises :class:`AwsError` or :class:`SmokeError`."""
    with calling(f"describing endpoint '{endpoint}'"):
        status = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
    if status != IN_SERVICE:
        raise SmokeError(f"endpoint '{endpoint}' is {status}, not {IN_SERVICE}")
    rows = len(payload.get("instances") or [])
    if rows == 0:
        raise AwsError('the payload must be {"instances": [[...], ...]} with at least one row')
    with calling(f"invoking endpoint '{endpoint}'"):
        started = time.perf_counter()
        target = {"InferenceComponentName": inference_component} if inference_component else {}
        response = runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="application/json",
            Accept="application/json",
            Body=json.dumps(payload).encode(),
            **target,
        )
        body = response["Body"].read()
        latency_ms = (time.perf_counter() - started) * 1000
    predictions = check_response(body, rows)
    if latency_ms > max_latency_ms:
        raise SmokeError(
            f"endpoint '{endpoint}' answered in {latency_ms:.0f} ms, over the "
            f"{max_latency_ms:g} ms budget"
        )
    return SmokeResult(
        endpoint=endpoint,
        variant=response.get("InvokedProductionVariant"),
        latency_ms=latency_ms,
        predictions=predictions,
    )
