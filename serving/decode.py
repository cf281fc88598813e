"""Request bodies to a two-dimensional array of rows (one row per instance).

Accepted bodies:

- ``application/json``: ``{"instances": [[...], ...]}`` or a bare list of rows.
- ``text/csv``: one row per line, comma-separated, no header.
- ``application/x-npy``: a NumPy ``.npy`` file of a numeric 2-D array (no pickles).

Numeric models (``dtype`` given) get rows parsed straight into that dtype: no Python
object is built per cell for large bodies, and a cell that is not a number (a string,
``null``, ``true``) is refused with :class:`BadRequest` before anything else is parsed.
Models that take other values (``dtype`` None: custom ``input_fn`` defaults, pipelines
that encode strings themselves) get ``float64`` when every cell is a number, else an
``object`` array with numbers where cells parse as numbers. Every decoder counts rows x
values *before* allocating them and refuses more than ``max_cells`` with
:class:`PayloadTooLarge` (413).
"""

from __future__ import annotations

import csv
import io
import math
import re
from itertools import chain
from typing import Any

import numpy as np
import orjson

from serving.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from serving.media import CSV, DECODABLE, JSON, NPY

#: Default cap on rows x values per request: a 6 MiB body of the example model's rows
#: (300,000 x 4) fits, 16 MB as float64.
DEFAULT_MAX_CELLS = 2_000_000
#: Bodies up to this many bytes are parsed through orjson (faster for small bodies; the
#: per-cell objects it builds are bounded by this size). Larger ones go straight to arrays.
SMALL_BODY_BYTES = 64 * 1024

Body = bytes | bytearray | memoryview

_SCALARS = (int, float, str, bool, type(None))
_NPY_KINDS = frozenset("biuf")
# Characters of a JSON document holding only numbers in nested lists (whitespace included).
_JSON_NUMERIC = b"0123456789.eE+-,[] \t\r\n"
_CSV_NUMERIC = b'0123456789.eE+-, \t\r\n"'
_BRACKETS_TO_SPACE = bytes.maketrans(b"[]", b"  ")
_INSTANCES = re.compile(rb'\A\s*\{\s*"instances"\s*:(.*)\}\s*\Z', re.DOTALL)
_NOT_CSV_NUMBER = re.compile(rb'[^0-9.eE+\-, \t\r\n"]')
_OPEN, _CLOSE, _COMMA, _NEWLINE = ord("["), ord("]"), ord(","), ord("\n")
_NEWLINES = re.compile(rb"\n{2,}")


def decode(
    body: Body,
    media: str,
    dtype: np.dtype[Any] | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> np.ndarray:
    """Decode ``body`` of media type ``media`` into a 2-D array with at least one row.

    ``dtype`` is the model's numeric input type (None: any scalars); ``max_cells`` caps
    rows x values (default :data:`DEFAULT_MAX_CELLS`).
    """
    if media == JSON:
        rows = decode_json(body, dtype, max_cells)
    elif media == CSV:
        rows = decode_csv(body, dtype, max_cells)
    elif media == NPY:
        rows = decode_npy(body, dtype, max_cells)
    else:
        raise UnsupportedMediaType(
            f"content type {media!r} is not supported; use one of {', '.join(DECODABLE)}"
        )
    if rows.shape[0] == 0:
        raise BadRequest("the request holds no rows")
    if rows.shape[1] == 0:
        raise BadRequest("the rows hold no values")
    return rows


def _check_cells(rows: int, width: int, max_cells: int) -> None:
    if rows * width > max_cells:
        raise PayloadTooLarge(
            f"the request holds {rows} rows of {width} values ({rows * width} values); "
            f"at most {max_cells} are accepted per request (SERVING_MAX_CELLS)"
        )


# -- JSON ------------------------------------------------------------------------------


def decode_json(
    body: Body, dtype: np.dtype[Any] | None = None, max_cells: int = DEFAULT_MAX_CELLS
) -> np.ndarray:
    """``{"instances": rows}`` or a bare list of rows to an array."""
    span = _rows_span(body)
    if span is not None:
        text = span.tobytes()  # the one copy: bytes has translate, memoryview does not
        numeric = not text.translate(None, _JSON_NUMERIC)
        if numeric and len(text) > SMALL_BODY_BYTES:
            return _numeric_json_rows(text, dtype or np.dtype(np.float64), max_cells)
        if numeric:
            return _small_numeric_rows(text, dtype or np.dtype(np.float64), max_cells)
        if dtype is not None:
            raise BadRequest(f"rows must hold only numbers for this model; {_offender(text)}")
        del text
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
    return rows_to_array(document, dtype, max_cells)


def _rows_span(body: Body) -> memoryview | None:
    """The bytes of the rows list: the whole body, or the value of a lone ``instances``."""
    view = memoryview(body)
    match = _INSTANCES.match(view)
    if match is not None:
        return view[match.start(1) : match.end(1)]
    first = _first_non_space(view)
    return view if first == _OPEN else None


def _first_non_space(view: memoryview) -> int | None:
    for byte in view[:64]:
        if byte not in b" \t\r\n":
            return byte
    return None


def _offender(text: bytes) -> str:
    """Words for the first non-numeric thing in a JSON rows list."""
    found = []
    for token, words in ((b"null", "null"), (b'"', "strings"), (b"{", "objects"),
                         (b"true", "true/false"), (b"false", "true/false")):  # fmt: skip
        position = text.find(token)
        if position >= 0:
            found.append((position, words))
    if not found:
        return "found a value that is not a number"
    return f"found {min(found)[1]}"


def _small_numeric_rows(text: bytes, dtype: np.dtype[Any], max_cells: int) -> np.ndarray:
    """A small body of numbers only: orjson, then one flat pass into ``dtype``."""
    try:
        rows = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    try:
        width = len(rows[0])
        if all(type(row) is list and len(row) == width for row in rows):
            _check_cells(len(rows), width, max_cells)
            flat = np.fromiter(chain.from_iterable(rows), dtype=dtype, count=len(rows) * width)
            return flat.reshape(len(rows), width)
    except (TypeError, ValueError, IndexError):
        pass  # not a list of equally long rows of numbers: say what is wrong, below
    if not isinstance(rows, list):
        raise BadRequest("instances must be a list of rows")
    return rows_to_array(rows, dtype, max_cells)


def _numeric_json_rows(text: bytes, dtype: np.dtype[Any], max_cells: int) -> np.ndarray:
    """Rows of numbers straight to ``dtype``: structure checked on the bytes with NumPy,
    values parsed by ``np.fromstring``; no per-cell Python objects."""
    chars = np.frombuffer(text, dtype=np.uint8)
    opens = np.flatnonzero(chars == _OPEN)
    closes = np.flatnonzero(chars == _CLOSE)
    if len(opens) != len(closes) or len(opens) < 2:
        raise BadRequest("instances must be a list of rows (2 dimensions)")
    row_opens, row_closes = opens[1:], closes[:-1]
    # One outer list around rows that neither nest nor overlap: [ [..] , [..] ].
    if not (
        opens[0] < row_opens[0]
        and row_closes[-1] < closes[-1]
        and np.all(row_opens < row_closes)
        and np.all(row_closes[:-1] < row_opens[1:])
    ):
        raise BadRequest("instances must be a list of rows (2 dimensions) of numbers")
    commas = np.flatnonzero(chars == _COMMA)
    del chars
    inside = np.searchsorted(commas, row_closes) - np.searchsorted(commas, row_opens)
    width = int(inside[0]) + 1
    if np.any(inside != inside[0]):
        index = int(np.flatnonzero(inside != inside[0])[0])
        raise BadRequest(f"row {index} has {int(inside[index]) + 1} values, row 0 has {width}")
    between = np.searchsorted(commas, row_opens[1:]) - np.searchsorted(commas, row_closes[:-1])
    if np.any(between != 1) or len(commas) != len(row_opens) * (width - 1) + len(between):
        raise BadRequest("rows must be separated by exactly one comma")
    rows = len(row_opens)
    _check_cells(rows, width, max_cells)
    del commas, opens, closes, row_opens, row_closes, inside, between
    return _parse_values(text.translate(_BRACKETS_TO_SPACE), rows, width, dtype)


def _parse_values(text: bytes, rows: int, width: int, dtype: np.dtype[Any]) -> np.ndarray:
    """``rows`` x ``width`` numbers separated by commas (and whitespace) into ``dtype``."""
    # np.fromstring reads an empty field as -1, so empty fields are refused first.
    compact = text.translate(None, b" \t\r\n")
    if b",," in compact or compact.startswith(b",") or compact.endswith(b","):
        raise BadRequest("rows must hold only numbers (a value is missing)")
    del compact
    try:
        values = np.fromstring(text, dtype=dtype, sep=",")
    except ValueError:
        raise BadRequest("rows must hold only numbers") from None
    if values.size != rows * width:
        raise BadRequest("rows must hold only numbers (a value is missing or malformed)")
    return values.reshape(rows, width)


def rows_to_array(
    rows: list[Any], dtype: np.dtype[Any] | None = None, max_cells: int = DEFAULT_MAX_CELLS
) -> np.ndarray:
    """A list of equally long lists of scalars to a 2-D array.

    With ``dtype``, every cell must be a number (bools count as 0 and 1); without, cells
    that are not numbers give an ``object`` array.
    """
    if not rows:
        raise BadRequest("instances must hold at least one row")
    first = rows[0]
    if isinstance(first, list):
        _check_cells(len(rows), len(first), max_cells)
    target = dtype or np.dtype(np.float64)
    try:
        array = np.asarray(rows, dtype=target)
    except (ValueError, TypeError, OverflowError):
        array = None
    if array is not None:
        if array.ndim != 2:
            raise BadRequest(
                f"instances must be a list of rows (2 dimensions), got {array.ndim} dimension(s)"
            )
        # NumPy turns JSON null into NaN; a missing value is the client's to fix.
        if dtype is not None and array.dtype.kind == "f" and _holds_null(array, rows):
            raise BadRequest("rows must hold only numbers for this model; found null")
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
            if dtype is not None and (value is None or isinstance(value, str)):
                found = "null" if value is None else "strings"
                raise BadRequest(f"rows must hold only numbers for this model; found {found}")
    array = np.empty((len(rows), width or 0), dtype=object)
    for index, row in enumerate(rows):
        array[index, :] = row
    return array


def _holds_null(array: np.ndarray, rows: list[Any]) -> bool:
    return bool(np.isnan(array).any()) and any(v is None for row in rows for v in row)


# -- CSV -------------------------------------------------------------------------------


def decode_csv(
    body: Body, dtype: np.dtype[Any] | None = None, max_cells: int = DEFAULT_MAX_CELLS
) -> np.ndarray:
    """Comma-separated rows (no header) to an array."""
    data = bytes(body)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        raise BadRequest("CSV body holds a NUL character")
    newline = data.find(b"\n")
    first_line = data if newline < 0 else data[:newline]
    _check_cells(data.count(b"\n") + 1, first_line.count(b",") + 1, max_cells)
    # Deleting the numeric characters is one pass without the regex engine's per-byte work.
    if not data.translate(None, _CSV_NUMERIC):
        return _numeric_csv(data, dtype or np.dtype(np.float64))
    if dtype is not None:
        offender = _NOT_CSV_NUMBER.search(data)
        assert offender is not None
        line = data.count(b"\n", 0, offender.start()) + 1
        raise BadRequest(f"CSV line {line} holds a value that is not a number")
    return _mixed_csv(data)


def _numeric_csv(data: bytes, dtype: np.dtype[Any]) -> np.ndarray:
    """Lines of comma-separated numbers straight to ``dtype``; empty lines are skipped."""
    if b'"' in data:  # quoted numbers: rare enough for NumPy's general reader
        return _quoted_numeric_csv(data, dtype)
    text = data.replace(b"\r\n", b"\n")
    if b"\n\n" in text:  # empty lines are rare: the substitution costs more than the look
        text = _NEWLINES.sub(b"\n", text)
    text = text.strip(b"\n")
    if not text.strip():
        raise BadRequest("the CSV body holds no rows")
    chars = np.frombuffer(text, dtype=np.uint8)
    newlines = np.flatnonzero(chars == _NEWLINE)
    commas = np.flatnonzero(chars == _COMMA)
    del chars
    starts = np.concatenate(([0], newlines + 1))
    ends = np.append(newlines, len(text))
    per_line = np.searchsorted(commas, ends) - np.searchsorted(commas, starts)
    width = int(per_line[0]) + 1
    if np.any(per_line != per_line[0]):
        line = int(np.flatnonzero(per_line != per_line[0])[0])
        raise BadRequest(
            f"CSV line {line + 1} has {int(per_line[line]) + 1} fields, line 1 has {width}"
        )
    del newlines, commas, starts, ends, per_line
    return _parse_values(text.replace(b"\n", b","), text.count(b"\n") + 1, width, dtype)


def _quoted_numeric_csv(data: bytes, dtype: np.dtype[Any]) -> np.ndarray:
    if not data.strip():
        raise BadRequest("the CSV body holds no rows")
    try:
        return np.loadtxt(
            io.BytesIO(data), delimiter=",", dtype=dtype, ndmin=2, quotechar='"', encoding=None
        )
    except ValueError as exc:
        raise BadRequest(f"body is not valid CSV of numbers: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:200]


def _mixed_csv(data: bytes) -> np.ndarray:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"CSV body is not UTF-8: {exc.reason} at byte {exc.start}") from None
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
    array = np.empty((len(lines), width), dtype=object)
    for index, row in enumerate(lines):
        array[index, :] = [_cell(value) for value in row]
    return array


def _cell(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


# -- npy -------------------------------------------------------------------------------


def decode_npy(
    body: Body, dtype: np.dtype[Any] | None = None, max_cells: int = DEFAULT_MAX_CELLS
) -> np.ndarray:
    """A ``.npy`` file of a numeric (bool, int, uint, float) 2-D array, read without pickle.

    The header's shape must be two non-negative sizes whose data the body holds exactly,
    checked before any array is allocated, so a small body cannot claim a huge shape.
    """
    stream = io.BytesIO(body)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, file_dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, file_dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except Exception as exc:  # numpy raises ValueError, EOFError, SyntaxError, ...
        raise BadRequest(f"body is not a valid .npy file: {_first_line(exc)}") from None
    kind_ok = file_dtype.kind in _NPY_KINDS
    if not kind_ok or file_dtype.fields is not None or file_dtype.subdtype is not None:
        raise BadRequest(f".npy arrays must be numeric, got dtype {file_dtype.str}")
    if len(shape) != 2:
        raise BadRequest(f".npy array must have 2 dimensions (rows, values), got {len(shape)}")
    if not all(isinstance(size, int) and size >= 0 for size in shape):
        raise BadRequest(f".npy shape must be two sizes of 0 or more, got {shape}")
    expected = math.prod(shape) * file_dtype.itemsize
    remaining = len(body) - stream.tell()
    if remaining != expected:
        raise BadRequest(f".npy header promises {expected} data bytes, the body has {remaining}")
    _check_cells(shape[0], shape[1], max_cells)
    data = np.frombuffer(body, dtype=file_dtype, count=math.prod(shape), offset=stream.tell())
    rows = data.reshape(shape, order="F" if fortran else "C")
    return rows if dtype is None else rows.astype(dtype, copy=False)
