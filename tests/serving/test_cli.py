"""``python -m serving``: flags override the environment; bad usage exits 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.serving.conftest import StartServer
from tests.serving.helpers import REPO, entrypoint_argv, free_port, invoke

PYTHON_M_SERVING = entrypoint_argv()[:-1]  # without "serve"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [*PYTHON_M_SERVING, *args], env={**os.environ, **env}, cwd=REPO,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_flags_override_environment_variables(
    start_server: StartServer, example_model_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    server = start_server(
        tmp_path / "not-a-model-dir",
        "--model-dir", str(example_model_dir), "--port", str(port), "--workers", "1",
        "--host", "127.0.0.1",
        wait=False,
    )  # fmt: skip
    server.port = port
    server.wait_for_ping(200)
    assert invoke(port, b"[[5.1, 3.5, 1.4, 0.2]]").json() == {"predictions": ["setosa"]}


def test_a_malformed_variable_exits_2_naming_it() -> None:
    result = run("serve", SAGEMAKER_MODEL_SERVER_WORKERS="many")
    assert result.returncode == 2
    assert "SAGEMAKER_MODEL_SERVER_WORKERS" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_command_exits_2() -> None:
    result = run()
    assert result.returncode == 2
    assert "serve" in result.stderr


def test_healthcheck_reflects_ping(start_server: StartServer, example_model_dir: Path) -> None:
    assert run("healthcheck", "--port", str(free_port())).returncode == 1
    server = start_server(example_model_dir)
    assert run("healthcheck", SAGEMAKER_BIND_TO_PORT=str(server.port)).returncode == 0
