"""Request bodies to a two-dimensional array of rows (one row per instance).

Accepted bodies:

- ``application/json``: ``{"instances": [[...], ...]}`` or a bare list of rows.
- ``text/csv``: one row per line, comma-separated, no header.
- ``application/x-npy``: a NumPy ``.npy`` file of a numeric 2-D array (no pickles).

Numeric rows become ``float64``; rows holding strings (categorical features for a
pipeline that encodes them) become an ``object`` array with numbers where cells parse as
numbers. Anything else raises :class:`BadRequest` with a message saying what is wrong.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np
import orjson

from serving.errors import BadRequest, UnsupportedMediaType
from serving.media import CSV, DECODABLE, JSON, NPY

_SCALARS = (int, float, str, bool, type(None))
_NPY_KINDS = frozenset("biuf")


def decode(body: bytes, media: str) -> np.ndarray:
    """Decode ``body`` of media type ``media`` into a 2-D array with at least one row."""
    if media == JSON:
        rows = decode_json(body)
    elif media == CSV:
        rows = decode_csv(body)
    elif media == NPY:
        rows = decode_npy(body)
    else:
        raise UnsupportedMediaType(
            f"content type {media!r} is not supported; use one of {', '.join(DECODABLE)}"
        )
    if rows.shape[0] == 0:
        raise BadRequest("the request holds no rows")
    if rows.shape[1] == 0:
        raise BadRequest("the rows hold no values")
    return rows


def decode_json(body: bytes) -> np.ndarray:
    """``{"instances": rows}`` or a bare list of rows to an array."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    if isinstance(document, dict):
        if "instances" not in document:
            raise BadRequest('JSON body must be {"instances": [[...], ...]} or a list of rows')
        document = document["instances"]
    if not isinstance(document, list):
        raise BadRequest("instances must be a list of rows")
    return rows_to_array(document)


def rows_to_array(rows: list[Any]) -> np.ndarray:
    """A list of equally long lists of scalars to a 2-D array (float64 when possible)."""
    if not rows:
        raise BadRequest("instances must hold at least one row")
    try:
        array = np.asarray(rows, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        array = None
    if array is not None:
        if array.ndim != 2:
            raise BadRequest(
                f"instances must be a list of rows (2 dimensions), got {array.ndim} dimension(s)"
            )
        return array
    width = None
    for index, row in enumerate(rows):
        if not isinstance(row, list):
            raise BadRequest(f"row {index} is not a list of values")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise BadRequest(f"row {index} has {len(row)} values, row 0 has {width}")
        for value in row:
            if not isinstance(value, _SCALARS):
                raise BadRequest(f"row {index} holds a nested value; rows must hold scalars")
    array = np.empty((len(rows), width or 0), dtype=object)
    for index, row in enumerate(rows):
        array[index, :] = row
    return array


def decode_csv(body: bytes) -> np.ndarray:
    """Comma-separated rows (no header) to an array."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"CSV body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    if "\x00" in text:
        raise BadRequest("CSV body holds a NUL character")
    try:
        lines = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise BadRequest(f"body is not valid CSV: {exc}") from None
    if not lines:
        raise BadRequest("the CSV body holds no rows")
    width = len(lines[0])
    for index, row in enumerate(lines):
        if len(row) != width:
            raise BadRequest(f"CSV line {index + 1} has {len(row)} fields, line 1 has {width}")
    try:
        return np.asarray(lines, dtype=np.float64)
    except (ValueError, OverflowError):
        pass
    array = np.empty((len(lines), width), dtype=object)
    for index, row in enumerate(lines):
        array[index, :] = [_cell(value) for value in row]
    return array


def _cell(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def decode_npy(body: bytes) -> np.ndarray:
    """A ``.npy`` file of a numeric (bool, int, uint, float) 2-D array, read without pickle.

    The header is checked against the body length before any array is allocated, so a
    small body cannot claim a huge shape.
    """
    stream = io.BytesIO(body)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except Exception as exc:  # numpy raises ValueError, EOFError, SyntaxError, ...
        raise BadRequest(f"body is not a valid .npy file: {exc}") from None
    if dtype.kind not in _NPY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise BadRequest(f".npy arrays must be numeric, got dtype {dtype.str}")
    if len(shape) != 2:
        raise BadRequest(f".npy array must have 2 dimensions (rows, values), got {len(shape)}")
    expected = math.prod(shape) * dtype.itemsize
    remaining = len(body) - stream.tell()
    if remaining != expected:
        raise BadRequest(f".npy header promises {expected} data bytes, the body has {remaining}")
    data = np.frombuffer(body, dtype=dtype, count=math.prod(shape), offset=stream.tell())
    return data.reshape(shape, order="F" if fortran else "C")
