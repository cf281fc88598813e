"""Request bodies to rows: what is accepted and what is refused, and how."""

from __future__ import annotations

import io

import numpy as np
import pytest

from serving.decode import decode
from serving.errors import BadRequest, UnsupportedMediaType
from serving.media import CSV, JSON, NPY


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def huge_header_only() -> bytes:
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (100_000, 100_000)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def test_json_instances_and_bare_rows_decode_alike() -> None:
    wrapped = decode(b'{"instances": [[1, 2.5], [3, 4]]}', JSON)
    bare = decode(b"[[1, 2.5], [3, 4]]", JSON)
    assert wrapped.dtype == np.float64
    np.testing.assert_array_equal(wrapped, bare)
    assert wrapped.shape == (2, 2)


def test_json_rows_with_strings_become_an_object_array() -> None:
    rows = decode(b'[["red", 1.5], ["blue", 2]]', JSON)
    assert rows.dtype == object
    assert rows[0].tolist() == ["red", 1.5]


@pytest.mark.parametrize(
    "body",
    [
        b'{"instances": [1, 2, 3]}',  # one dimension
        b"[[1, 2], [3]]",  # ragged
        b"[]",
        b"[[]]",
        b'{"rows": [[1]]}',
        b'"text"',
        b"[[1, 2]",  # truncated
        b'[[{"a": 1}]]',
        b"\xff\xfe",
    ],
)
def test_malformed_json_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest):
        decode(body, JSON)


def test_csv_rows_without_header() -> None:
    rows = decode(b"5.1,3.5,1.4,0.2\r\n6.2,3.4,5.4,2.3\n\n", CSV)
    assert rows.shape == (2, 4)
    assert rows.dtype == np.float64


def test_csv_with_text_cells_keeps_numbers_as_numbers() -> None:
    rows = decode(b'red,1.5\n"blue, dark",2\n', CSV)
    assert rows.tolist() == [["red", 1.5], ["blue, dark", 2.0]]


@pytest.mark.parametrize("body", [b"1,2\n3\n", b"", b"\n\n", b"\xff,1\n", b"1,\x00\n"])
def test_malformed_csv_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest):
        decode(body, CSV)


def test_npy_numeric_matrix() -> None:
    array = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_array_equal(decode(npy(array), NPY), array)


@pytest.mark.parametrize(
    "body",
    [
        npy(np.array([[{"pickled": True}]], dtype=object)),
        npy(np.arange(4.0)),  # one dimension
        npy(np.array([["a", "b"]])),  # strings
        npy(np.zeros((2, 2)))[:-8],  # truncated data
        huge_header_only(),  # claims 80 GB, holds nothing
        b"not npy at all",
    ],
)
def test_unsafe_or_malformed_npy_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest):
        decode(body, NPY)


def test_unknown_media_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaType):
        decode(b"<xml/>", "application/xml")
