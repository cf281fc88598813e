"""Several workers share one port and one loaded model; a dead worker is replaced."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.serving.conftest import StartServer
from tests.serving.helpers import children, invoke, metric, wait_until

ROW = b"[[5.1, 3.5, 1.4, 0.2]]"


def test_two_workers_serve_and_metrics_add_up(
    start_server: StartServer, example_model_dir: Path
) -> None:
    server = start_server(example_model_dir, SAGEMAKER_MODEL_SERVER_WORKERS="2")
    wait_until(lambda: len(children(server.pid)) == 2, "two workers")
    for _ in range(20):
        assert invoke(server.port, ROW).status == 200
    # Whichever worker answers /metrics reports the requests of both.
    assert metric(server.port, "serving_requests_total") >= 20


def test_a_killed_worker_is_replaced(start_server: StartServer, example_model_dir: Path) -> None:
    server = start_server(example_model_dir, SAGEMAKER_MODEL_SERVER_WORKERS="2")
    wait_until(lambda: len(children(server.pid)) == 2, "two workers")
    victim = children(server.pid)[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(
        lambda: victim not in children(server.pid) and len(children(server.pid)) == 2,
        "a replacement worker",
    )
    wait_until(lambda: server.ping() == 200, "ping")
    assert invoke(server.port, ROW).status == 200
    assert '"msg":"worker exited"' in server.log()
