"""Fixtures for the serving tests: the example model and running servers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from serving.example import train, write_joblib, write_onnx
from tests.serving.helpers import ServerProcess

StartServer = Callable[..., ServerProcess]


@pytest.fixture(scope="session")
def example_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the example iris model as model.joblib and model.onnx."""
    directory = tmp_path_factory.mktemp("example-model")
    model = train()
    write_joblib(model, directory)
    assert write_onnx(model, directory) is not None, "the onnx extra must be installed"
    return directory


def _server_factory(tmp: Path) -> tuple[StartServer, list[ServerProcess]]:
    started: list[ServerProcess] = []

    def start(model_dir: Path, *args: str, wait: bool = True, **env: str) -> ServerProcess:
        server = ServerProcess(model_dir, tmp / f"server-{len(started)}.log", **env)
        started.append(server.start(*args))
        if wait:
            server.wait_for_ping(200)
        return server

    return start, started


def _stop_all(started: list[ServerProcess]) -> None:
    for server in started:
        if server.process is not None and server.process.poll() is None:
            with contextlib.suppress(AssertionError):
                server.stop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start servers for one test; all are stopped (by PID) afterwards."""
    start, started = _server_factory(tmp_path)
    yield start
    _stop_all(started)


@pytest.fixture(scope="module")
def example_server(
    example_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One server on the example model (joblib), shared by a test module."""
    start, started = _server_factory(tmp_path_factory.mktemp("example-server"))
    yield start(example_model_dir)
    _stop_all(started)
