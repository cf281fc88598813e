"""The SageMaker hosting contract, code by code, against a real server process."""

from __future__ import annotations

import http.client
import io

import numpy as np
import pytest

from tests.serving.helpers import ServerProcess, call, invoke

SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.2, 3.4, 5.4, 2.3]
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def port(example_server: ServerProcess) -> int:
    return example_server.port


def assert_json_error(answer, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()
    assert error["error"] and error["type"]
    assert error["request_id"] == answer.headers["x-request-id"]
    return error


def test_ping_is_200_once_loaded(port: int) -> None:
    assert call(port, "GET", "/ping").status == 200


def test_json_instances(port: int) -> None:
    answer = invoke(port, b'{"instances": [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]]}')
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"predictions": ["setosa", "virginica"]}


def test_bare_list_of_rows(port: int) -> None:
    assert invoke(port, b"[[5.1, 3.5, 1.4, 0.2]]").json() == {"predictions": ["setosa"]}


def test_csv_in_csv_out(port: int) -> None:
    answer = invoke(port, b"5.1,3.5,1.4,0.2\n6.2,3.4,5.4,2.3\n", "text/csv", Accept="text/csv")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.body == b"setosa\nvirginica\n"


def test_npy_in_json_out(port: int) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([SETOSA, VIRGINICA]))
    answer = invoke(port, buffer.getvalue(), "application/x-npy")
    assert answer.json() == {"predictions": ["setosa", "virginica"]}


def test_probabilities_on_request(port: int) -> None:
    by_query = call(
        port, "POST", "/invocations?probabilities=true", b"[[5.1, 3.5, 1.4, 0.2]]",
        {"Content-Type": "application/json"},
    )  # fmt: skip
    by_attribute = invoke(
        port, b"[[5.1, 3.5, 1.4, 0.2]]",
        X_Amzn_SageMaker_Custom_Attributes="trace=1;probabilities=true",
    )  # fmt: skip
    for answer in (by_query, by_attribute):
        document = answer.json()
        assert document["predictions"] == ["setosa"]
        (probabilities,) = document["probabilities"]
        assert len(probabilities) == 3
        assert sum(probabilities) == pytest.approx(1.0)
        assert max(probabilities) == probabilities[0]


def test_probabilities_in_csv(port: int) -> None:
    answer = call(
        port, "POST", "/invocations?probabilities=1", b"5.1,3.5,1.4,0.2\n",
        {"Content-Type": "text/csv", "Accept": "text/csv"},
    )  # fmt: skip
    label, *probabilities = answer.body.decode().strip().split(",")
    assert label == "setosa"
    assert len(probabilities) == 3


def test_413_for_a_7_mib_body(port: int) -> None:
    body = b"[" + b"[5.1, 3.5, 1.4, 0.2]," * (7 * MIB // 21) + b"[5.1, 3.5, 1.4, 0.2]]"
    assert len(body) > 7 * MIB - 64
    assert_json_error(invoke(port, body), 413)


def test_413_for_an_oversized_chunked_body(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    chunk = b" " * MIB
    connection.request(
        "POST", "/invocations", body=iter([chunk] * 7),
        headers={"Content-Type": "application/json"}, encode_chunked=True,
    )  # fmt: skip
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_a_body_just_under_the_limit_is_accepted(port: int) -> None:
    rows = b"[" + b",".join([b"[5.1,3.5,1.4,0.2]"] * 300_000) + b"]"
    assert 5 * MIB < len(rows) < 6 * MIB
    answer = invoke(port, rows)
    assert answer.status == 200
    assert len(answer.json()["predictions"]) == 300_000


def test_415_for_an_unknown_content_type(port: int) -> None:
    error = assert_json_error(invoke(port, b"<rows/>", "application/xml"), 415)
    assert "application/json" in error["error"]


def test_400_for_malformed_json(port: int) -> None:
    error = assert_json_error(invoke(port, b'{"instances": [[5.1, 3.5'), 400)
    assert error["type"] == "bad_request"


def test_400_for_rows_of_the_wrong_width(port: int) -> None:
    error = assert_json_error(invoke(port, b"[[1, 2, 3]]"), 400)
    assert "4 values" in error["error"]


def test_400_for_values_the_model_rejects(port: int) -> None:
    assert_json_error(invoke(port, b'[["a", "b", "c", "d"]]'), 400)
    assert_json_error(invoke(port, b"[[1e400, 1, 1, 1]]"), 400)


def test_406_when_accept_asks_for_something_else(port: int) -> None:
    assert_json_error(invoke(port, b"[[5.1, 3.5, 1.4, 0.2]]", Accept="image/png"), 406)


def test_404_and_405_are_json_too(port: int) -> None:
    assert_json_error(call(port, "GET", "/predict"), 404)
    assert_json_error(call(port, "GET", "/invocations"), 405)


def test_request_id_is_echoed_when_sane_and_made_up_otherwise(port: int) -> None:
    sane = invoke(port, b"[[1]]", X_Request_Id="abc-123")
    assert sane.headers["x-request-id"] == "abc-123"
    assert sane.json()["request_id"] == "abc-123"
    odd = invoke(port, b"[[1]]", X_Request_Id="no spaces <allowed>")
    assert odd.headers["x-request-id"] != "no spaces <allowed>"


def test_metrics_expose_counts_latency_in_flight_errors_and_load_time(port: int) -> None:
    invoke(port, b"[[5.1, 3.5, 1.4, 0.2]]")
    invoke(port, b"not json")
    answer = call(port, "GET", "/metrics")
    assert answer.status == 200
    text = answer.body.decode()
    assert 'serving_requests_total{code="200",route="/invocations"}' in text
    assert 'serving_request_duration_seconds_bucket{le="0.005",route="/invocations"}' in text
    assert "serving_requests_in_flight" in text
    assert 'serving_errors_total{code="400",type="bad_request"}' in text
    load_line = next(
        line for line in text.splitlines() if line.startswith("serving_model_load_seconds ")
    )
    assert float(load_line.split()[1]) > 0
