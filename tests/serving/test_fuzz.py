"""Generated bodies and headers never make the server fail: no 5xx other than 503."""

from __future__ import annotations

import http.client
import json
import string
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serving.helpers import ServerProcess

CONTENT_TYPES = [
    "application/json", "text/csv", "application/x-npy", "application/json; charset=utf-8",
    "text/csv; header=present", "application/octet-stream", "text/plain", "", "*/*", "x/y",
]  # fmt: skip
ACCEPTS = ["application/json", "text/csv", "*/*", "text/*", "image/png", "", "text/csv;q=0"]
HEADER_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + " ;,=/*.-_+\"'", max_size=60
).map(str.strip)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip
# Rows as wide as the example model expects reach the model itself, not just the decoder.
model_rows = st.lists(st.lists(scalars, min_size=4, max_size=4), min_size=1, max_size=4)
rows = st.one_of(model_rows, st.lists(st.lists(scalars, max_size=6), max_size=6))
json_documents = st.one_of(
    rows,
    st.fixed_dictionaries({"instances": rows}),
    st.recursive(scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)),
).map(lambda document: json.dumps(document).encode())
cells = st.one_of(
    st.floats().map(repr), st.sampled_from(["1e999", "-inf", "nan", ""]), st.text(max_size=5)
)
csv_bodies = st.lists(
    st.one_of(st.lists(cells, min_size=4, max_size=4), st.lists(cells, max_size=5)), max_size=5
).map(lambda lines: "\n".join(",".join(row) for row in lines).encode("utf-8", "replace"))
npy_like = st.binary(max_size=200).map(lambda tail: b"\x93NUMPY\x01\x00" + tail)
bodies = st.one_of(json_documents, csv_bodies, npy_like, st.binary(max_size=300))


@pytest.fixture(scope="module")
def connection(example_server: ServerProcess) -> Iterator[http.client.HTTPConnection]:
    conn = http.client.HTTPConnection("127.0.0.1", example_server.port, timeout=30)
    yield conn
    conn.close()


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=bodies,
    content_type=st.one_of(st.sampled_from(CONTENT_TYPES), HEADER_TEXT),
    accept=st.one_of(st.none(), st.sampled_from(ACCEPTS), HEADER_TEXT),
    attributes=st.one_of(st.none(), st.just("probabilities=true"), HEADER_TEXT),
    query=st.sampled_from(["", "?probabilities=true", "?probabilities=%ff", "?x=1&&"]),
)
def test_no_server_errors(
    connection: http.client.HTTPConnection,
    body: bytes,
    content_type: str,
    accept: str | None,
    attributes: str | None,
    query: str,
) -> None:
    headers = {"Content-Type": content_type}
    if accept is not None:
        headers["Accept"] = accept
    if attributes is not None:
        headers["X-Amzn-SageMaker-Custom-Attributes"] = attributes
    connection.request("POST", "/invocations" + query, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    if response.getheader("connection", "").lower() == "close":
        connection.close()
    assert response.status < 500 or response.status == 503, payload
    if response.status >= 400:
        error = json.loads(payload)
        assert error["request_id"] == response.getheader("x-request-id")
