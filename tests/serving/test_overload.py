"""Over the concurrency limit: 503 with Retry-After, not a queue; and the request deadline."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.serving.conftest import StartServer
from tests.serving.gated_model import make_gated_model, open_gate, predictions_started
from tests.serving.helpers import WAIT_LIMIT_SECONDS, Answer, invoke, wait_until


def test_over_the_limit_gets_503_with_retry_after(
    start_server: StartServer, tmp_path: Path
) -> None:
    model_dir = make_gated_model(tmp_path / "model", predicting=False)
    server = start_server(model_dir, SERVING_MAX_CONCURRENCY="1")
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(invoke, server.port, b'"first"')
        wait_until(lambda: predictions_started(model_dir) == 1, "first request predicting")

        refused = invoke(server.port, b'"second"')
        assert refused.status == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["type"] == "unavailable"
        assert server.ping() == 503  # honest: this worker cannot take an invocation now

        open_gate(model_dir, "predict")
        first: Answer = held.result(timeout=WAIT_LIMIT_SECONDS)
    assert first.status == 200
    assert server.ping() == 200
    assert invoke(server.port, b'"third"').status == 200


def test_a_prediction_past_the_deadline_gets_504_and_its_slot_back_when_done(
    start_server: StartServer, tmp_path: Path
) -> None:
    model_dir = make_gated_model(tmp_path / "model", predicting=False)
    server = start_server(
        model_dir, SAGEMAKER_MODEL_SERVER_TIMEOUT="0.5", SERVING_MAX_CONCURRENCY="1"
    )
    late = invoke(server.port, b'"slow"')
    assert late.status == 504
    assert late.json()["type"] == "timeout"
    # The model is still computing: its slot stays taken until it finishes.
    assert invoke(server.port, b'"next"').status == 503
    open_gate(model_dir, "predict")
    wait_until(lambda: invoke(server.port, b'"next"').status == 200, "slot released")


def test_a_failing_model_is_a_500_with_a_json_error_and_the_detail_in_the_log(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(make_gated_model(tmp_path / "model"))
    answer = invoke(server.port, b'"fail"')
    assert answer.status == 500
    error = answer.json()
    assert error["type"] == "model_error"
    assert "RuntimeError" not in error["error"]
    assert error["request_id"] == answer.headers["x-request-id"]
    wait_until(lambda: "the model broke" in server.log(), "the error logged")
    (line,) = [line for line in server.log().splitlines() if "the model broke" in line]
    assert error["request_id"] in line
    assert server.ping() == 200


def test_a_body_that_never_finishes_gets_408(
    start_server: StartServer, example_model_dir: Path
) -> None:
    server = start_server(example_model_dir, SAGEMAKER_MODEL_SERVER_TIMEOUT="0.5")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n[[5.1, 3.5"
        )
        head = sock.recv(65536).split(b"\r\n", 1)[0]
    assert head == b"HTTP/1.1 408 Request Timeout"
