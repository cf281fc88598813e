"""`mlstack serve`: the serving image's server, started by the CLI, drains on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from serving.example import train, write_joblib
from tests.serving.helpers import call, free_port, invoke

MLSTACK = str(Path(sys.executable).parent / "mlstack")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("model")
    write_joblib(train(), directory)
    return directory


def _wait_for_ping(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(3000):
        if process.poll() is not None:
            raise AssertionError(f"mlstack serve exited with {process.returncode}")
        try:
            if call(port, "GET", "/ping", timeout=5).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError("/ping never answered 200")


def test_serve_answers_and_drains_on_sigterm(model_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SERVING_HOST": "127.0.0.1"}
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [
                MLSTACK,
                "serve",
                "--model-dir",
                str(model_dir),
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        _wait_for_ping(port, process)
        answer = invoke(port, b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}')
        assert answer.status == 200
        assert answer.json() == {"predictions": ["setosa"]}
    finally:
        os.kill(process.pid, signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0
    with pytest.raises(OSError):
        call(port, "GET", "/ping", timeout=2)


def test_serve_rejects_a_missing_model_dir(tmp_path: Path) -> None:
    result = subprocess.run(
        [MLSTACK, "serve", "--model-dir", str(tmp_path / "absent")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "python -m serving.example" in result.stderr
