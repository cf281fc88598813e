"""SIGTERM with requests in flight: stop accepting, answer every one, exit 0 in time."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.serving.conftest import StartServer
from tests.serving.gated_model import make_gated_model, open_gate, predictions_started
from tests.serving.helpers import WAIT_LIMIT_SECONDS, invoke, metric, wait_until

IN_FLIGHT = 6
#: Docker, Kubernetes and SageMaker send SIGKILL 30 s after SIGTERM.
KILL_AFTER_SECONDS = 30


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def test_sigterm_loses_no_request_in_flight(start_server: StartServer, tmp_path: Path) -> None:
    model_dir = make_gated_model(tmp_path / "model", predicting=False)
    server = start_server(model_dir, SERVING_PREDICT_THREADS="2")
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        pending = [pool.submit(invoke, server.port, f'"{n}"'.encode()) for n in range(IN_FLIGHT)]
        # Two are inside the model, the rest queued behind them: all are in flight.
        wait_until(lambda: predictions_started(model_dir) == 2, "two predictions running")
        wait_until(
            lambda: metric(server.port, "serving_requests_in_flight") == IN_FLIGHT,
            "all requests in flight",
        )

        assert server.process is not None
        server.process.send_signal(15)
        wait_until(lambda: refuses_connections(server.port), "listener closed")
        open_gate(model_dir, "predict")
        answers = [future.result(timeout=WAIT_LIMIT_SECONDS) for future in pending]

    assert [answer.status for answer in answers] == [200] * IN_FLIGHT
    assert sorted(answer.json()["echo"] for answer in answers) == [str(n) for n in range(IN_FLIGHT)]
    assert server.process.wait(timeout=KILL_AFTER_SECONDS) == 0
    assert '"msg":"stopped"' in server.log()


def test_sigterm_while_idle_exits_0(start_server: StartServer, example_model_dir: Path) -> None:
    server = start_server(example_model_dir, SAGEMAKER_MODEL_SERVER_WORKERS="2")
    assert server.stop() == 0
