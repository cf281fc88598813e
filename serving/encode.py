"""Predictions to response bodies: JSON (default) or CSV, as the request's Accept asks."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from serving.media import CSV, JSON
from serving.prediction import Prediction

_NUMPY = orjson.OPT_SERIALIZE_NUMPY
#: Outputs with more rows than this, of labels rather than numbers, are encoded per
#: distinct label instead of per row: no Python object per row for a large answer.
MANY_ROWS = 4096
#: ... when they hold at most this many distinct labels.
FEW_LABELS = 1024
#: Labels encoded in at most this many bytes are joined through a padded NumPy table;
#: longer ones by ``bytes.join``.
SHORT_LABEL_BYTES = 32
#: Rows compared at a time when checking that every label was found.
CHECK_ROWS = 65_536


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
    labels = _per_label(prediction.outputs, orjson.dumps, b",")
    if labels is not None:
        body = b'{"predictions":[' + labels + b"]"
        if prediction.probabilities is not None:
            proba = _jsonable(prediction.probabilities)
            body += b',"probabilities":' + orjson.dumps(proba, option=_NUMPY)
        return body + b"}"
    document: dict[str, Any] = {"predictions": _jsonable(prediction.outputs)}
    if prediction.probabilities is not None:
        document["probabilities"] = _jsonable(prediction.probabilities)
    try:
        return orjson.dumps(document, option=_NUMPY)
    except orjson.JSONEncodeError:  # a dtype orjson does not know (float128, datetime, ...)
        return orjson.dumps({key: _plain(value) for key, value in document.items()})


def encode_csv(prediction: Prediction) -> bytes:
    """One CSV line per row: outputs, then probabilities. Strings are quoted when needed."""
    if prediction.probabilities is None:
        labels = _per_label(prediction.outputs, _csv_cell, b"\n")
        if labels is not None:
            return labels + b"\n"
    outputs = prediction.outputs.reshape(len(prediction), -1)
    if prediction.probabilities is not None:
        probabilities = prediction.probabilities.reshape(len(prediction), -1)
        outputs = np.concatenate([outputs.astype(object), probabilities.astype(object)], axis=1)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(outputs.tolist())
    return buffer.getvalue().encode()


def _per_label(
    outputs: np.ndarray, encode_one: Callable[[Any], bytes], separator: bytes
) -> bytes | None:
    """Many rows of few distinct labels, each encoded once and joined by index; None
    when ``outputs`` is not such an array (numbers, few rows, many distinct values)."""
    if outputs.ndim != 1 or outputs.dtype.kind not in "OUS" or len(outputs) <= MANY_ROWS:
        return None
    try:
        labels, index = _label_index(outputs)
    except TypeError:  # mixed types that cannot be ordered
        return None
    if len(labels) > FEW_LABELS:
        return None
    encoded = [encode_one(label.item() if isinstance(label, np.generic) else label)
               for label in labels]  # fmt: skip
    if max(map(len, encoded)) > SHORT_LABEL_BYTES:
        return separator.join(map(encoded.__getitem__, index.tolist()))
    return _join_by_index(encoded, index, separator)


def _join_by_index(encoded: list[bytes], index: np.ndarray, separator: bytes) -> bytes:
    """``separator.join(encoded[i] for i in index)`` through one padded byte table: each
    row's bytes are its label's row of the table, cut to the label's length. Costs two
    bytes per row per byte of the longest label instead of a Python int and a list slot
    per row (for 400,000 rows of iris labels about 10 MiB instead of 25)."""
    pieces = [piece + separator for piece in encoded]
    width = max(map(len, pieces))
    table = np.zeros((len(pieces), width), dtype=np.uint8)
    lengths = np.empty(len(pieces), dtype=np.int64)
    for row, piece in enumerate(pieces):
        table[row, : len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        lengths[row] = len(piece)
    keep = np.arange(width, dtype=np.int64) < lengths[:, None]  # per label, which bytes
    joined = table[index][keep[index]].tobytes()
    return joined[: len(joined) - len(separator)]


def _label_index(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct labels and each row's position among them.

    Labels are usually all seen in the first rows: looked up by binary search and
    checked in slices, that takes no sorted copy of the whole output.
    """
    labels = np.unique(outputs[:MANY_ROWS])
    index = np.minimum(np.searchsorted(labels, outputs), len(labels) - 1)
    for start in range(0, len(outputs), CHECK_ROWS):
        part = slice(start, start + CHECK_ROWS)
        if not np.array_equal(labels[index[part]], outputs[part]):
            return np.unique(outputs, return_inverse=True)  # a label the first rows lacked
    return labels, index


def _csv_cell(value: Any) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([value])
    return buffer.getvalue().encode()


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def _jsonable(array: np.ndarray) -> Any:
    # orjson serialises numeric, C-contiguous arrays natively; everything else via lists.
    if array.dtype.kind in "biuf" and array.flags.c_contiguous:
        return array
    return array.tolist()
