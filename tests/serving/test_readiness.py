"""/ping says 503 while the model loads, and the port accepts connections meanwhile."""

from __future__ import annotations

from pathlib import Path

from tests.serving.conftest import StartServer
from tests.serving.gated_model import make_gated_model, open_gate
from tests.serving.helpers import call, invoke


def test_not_ready_503_while_a_slow_model_loads(start_server: StartServer, tmp_path: Path) -> None:
    model_dir = make_gated_model(tmp_path / "model", loaded=False)
    server = start_server(model_dir, wait=False)
    server.wait_for_ping(503)

    ping = call(server.port, "GET", "/ping")
    assert ping.status == 503
    assert ping.json()["type"] == "unavailable"
    early = invoke(server.port, b'"hello"')
    assert early.status == 503
    assert early.headers["retry-after"] == "1"

    open_gate(model_dir, "load")
    server.wait_for_ping(200)
    answer = invoke(server.port, b'"hello"')
    assert answer.status == 200
    assert answer.json() == {"model": "gated-model", "echo": "hello"}


def test_a_model_that_cannot_load_stops_the_server_with_code_1(
    start_server: StartServer, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    server = start_server(empty, wait=False)
    assert server.process is not None
    assert server.process.wait(timeout=60) == 1
    assert "holds none of model.joblib" in server.log()
