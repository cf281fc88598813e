"""Predictions to response bodies: JSON (default) or CSV, as the request's Accept asks."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import orjson

from serving.media import CSV, JSON
from serving.prediction import Prediction

_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def encode(prediction: Prediction, media: str) -> bytes:
    """Encode ``prediction`` as ``media`` (``application/json`` or ``text/csv``).

    JSON: ``{"predictions": [...]}``, plus ``"probabilities": [[...], ...]`` when present.
    CSV: one line per row, the output(s) then the class probabilities, if any.
    """
    if media == CSV:
        return encode_csv(prediction)
    if media == JSON:
        return encode_json(prediction)
    raise ValueError(f"cannot encode {media!r}")


def encode_json(prediction: Prediction) -> bytes:
    """``{"predictions": [...], "probabilities"?: [[...]]}`` as compact UTF-8 JSON."""
    document: dict[str, Any] = {"predictions": _jsonable(prediction.outputs)}
    if prediction.probabilities is not None:
        document["probabilities"] = _jsonable(prediction.probabilities)
    try:
        return orjson.dumps(document, option=_NUMPY)
    except orjson.JSONEncodeError:  # a dtype orjson does not know (float128, datetime, ...)
        return orjson.dumps({key: _plain(value) for key, value in document.items()})


def encode_csv(prediction: Prediction) -> bytes:
    """One CSV line per row: outputs, then probabilities. Strings are quoted when needed."""
    outputs = prediction.outputs.reshape(len(prediction), -1)
    if prediction.probabilities is not None:
        probabilities = prediction.probabilities.reshape(len(prediction), -1)
        outputs = np.concatenate([outputs.astype(object), probabilities.astype(object)], axis=1)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(outputs.tolist())
    return buffer.getvalue().encode()


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def _jsonable(array: np.ndarray) -> Any:
    # orjson serialises numeric, C-contiguous arrays natively; everything else via lists.
    if array.dtype.kind in "biuf" and array.flags.c_contiguous:
        return array
    return array.tolist()
