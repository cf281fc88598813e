"""Request bodies to rows: what is accepted and what is refused, and how."""

from __future__ import annotations

import io

import numpy as np
import pytest

from serving.decode import decode
from serving.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
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


F64 = np.dtype(np.float64)
LARGE = 70 * 1024  # over SMALL_BODY_BYTES: parsed straight into an array


def large_json(rows: list[str]) -> bytes:
    body = ("[" + ",".join(rows) + "]").encode()
    assert len(body) > 64 * 1024
    return body


def test_large_numeric_json_is_parsed_straight_into_the_models_dtype() -> None:
    rows = [f"[{i}.5, -2e-3, {i}]" for i in range(LARGE // 16)]
    body = large_json(rows)
    array = decode(b'{"instances": ' + body + b"}", JSON, np.dtype(np.float32))
    assert array.dtype == np.float32
    expected = np.asarray([[i + 0.5, -2e-3, i] for i in range(len(rows))], dtype=np.float32)
    np.testing.assert_array_equal(array, expected)


@pytest.mark.parametrize(
    ("last_row", "words"),
    [
        ("[1, 2]", "has 2 values"),
        ("[1, 2, [3]]", "2 dimensions"),
        ("[1, , 3]", "only numbers"),
        ("[1, 2, 3e]", "only numbers"),
        ("[1, 2, 3]]", "2 dimensions"),
    ],
)
def test_large_json_with_a_bad_row_is_refused_in_words(last_row: str, words: str) -> None:
    body = large_json(["[1.5, 2.5, 3.5]"] * (LARGE // 15) + [last_row])
    with pytest.raises(BadRequest, match=words):
        decode(body, JSON, F64)


@pytest.mark.parametrize(
    ("body", "words"),
    [(b"[[1, null]]", "null"), (b'[[1, "2"]]', "strings"), (b"[[1, true]]", "true/false")],
)
def test_numeric_models_refuse_cells_that_are_not_numbers(body: bytes, words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        decode(body, JSON, F64)
    with pytest.raises(BadRequest, match=words):
        decode(large_json([body.decode()[1:-1]] * (LARGE // 8)), JSON, F64)


def test_strings_are_still_accepted_for_models_that_take_them() -> None:
    assert decode(b'[["red", 1]]', JSON, None).tolist() == [["red", 1.0]]
    assert decode(b"red,1\n", CSV, None).tolist() == [["red", 1.0]]


@pytest.mark.parametrize("media", [JSON, CSV, NPY])
def test_more_cells_than_the_cap_is_payload_too_large(media: str) -> None:
    array = np.ones((30, 4))
    bodies = {
        JSON: str(array.tolist()).encode(),
        CSV: b"\n".join(b"1,1,1,1" for _ in range(30)),
        NPY: npy(array),
    }
    with pytest.raises(PayloadTooLarge, match="120 values"):
        decode(bodies[media], media, F64, max_cells=100)
    assert decode(bodies[media], media, F64, max_cells=120).shape == (30, 4)


def test_npy_with_negative_sizes_is_a_bad_request() -> None:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": (-1, -4)}
    )
    with pytest.raises(BadRequest, match="0 or more"):
        decode(buffer.getvalue() + b"\x00" * 32, NPY, F64)


def test_numeric_csv_is_parsed_straight_into_the_models_dtype() -> None:
    body = b"\r\n".join(f"{i}.5,-2e-3,{i}".encode() for i in range(5000)) + b"\r\n\r\n"
    array = decode(b"\n" + body, CSV, np.dtype(np.float32))
    assert array.dtype == np.float32
    expected = np.asarray([[i + 0.5, -2e-3, i] for i in range(5000)], dtype=np.float32)
    np.testing.assert_array_equal(array, expected)
    assert decode(b'"1.5",2\n', CSV, F64).tolist() == [[1.5, 2.0]]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"1,2,3\n4,5\n", "line 2 has 2 fields"),
        (b"1,,3\n", "missing"),
        (b"1, ,3\n", "missing"),
        (b"1,2,\n", "missing"),
        (b",2,3\n", "missing"),
        (b"1,2 3\n", "only numbers"),
    ],
)
def test_numeric_csv_with_a_bad_line_is_refused_in_words(body: bytes, words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        decode(body, CSV, F64)
