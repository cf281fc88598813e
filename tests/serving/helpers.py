"""Start the real server on loopback, talk HTTP to it, stop it by PID."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "serving" / "Dockerfile"
#: Functional deadlines (a hung server fails the test instead of hanging it), not timings.
START_DEADLINE_SECONDS = 60.0
STOP_DEADLINE_SECONDS = 40.0
WAIT_LIMIT_SECONDS = 30.0
POLL_SECONDS = 0.01


def entrypoint_argv() -> list[str]:
    """ENTRYPOINT + CMD of serving/Dockerfile, with this interpreter for ``python``.

    The image cannot be built here, so tests run exactly the command it would run.
    """
    entrypoint: list[str] = []
    command: list[str] = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("ENTRYPOINT "):
            entrypoint = json.loads(line.removeprefix("ENTRYPOINT "))
        elif line.startswith("CMD "):
            command = json.loads(line.removeprefix("CMD "))
    argv = entrypoint + command
    if not argv or argv[0] != "python":
        raise AssertionError(f"unexpected ENTRYPOINT/CMD in {DOCKERFILE}: {argv}")
    return [sys.executable, *argv[1:]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Answer:
    """One request on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


def invoke(
    port: int, body: bytes, content_type: str = "application/json", **headers: str
) -> Answer:
    """POST /invocations; keyword headers use ``_`` for ``-`` (``Accept``, ...)."""
    sent = {"Content-Type": content_type}
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    return call(port, "POST", "/invocations", body, sent)


def metric(port: int, name: str) -> float:
    """Sum of all samples of ``name`` (without labels) on /metrics."""
    text = call(port, "GET", "/metrics").body.decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class ServerProcess:
    """``python -m serving serve`` as a child process on a free loopback port."""

    def __init__(self, model_dir: Path, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.env = {
            **os.environ,
            "MODEL_DIR": str(model_dir),
            "SAGEMAKER_BIND_TO_PORT": str(self.port),
            "SERVING_HOST": "127.0.0.1",
            "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> ServerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*entrypoint_argv(), *args], env=self.env, cwd=REPO, stdout=log, stderr=log
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def ping(self) -> int | None:
        try:
            return call(self.port, "GET", "/ping", timeout=5).status
        except OSError:
            return None

    def wait_for_ping(self, status: int = 200) -> None:
        """Poll /ping until it answers ``status``; fail if the process dies or hangs."""
        assert self.process is not None
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while self.ping() != status:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"/ping never answered {status}:\n{self.log()}")
            time.sleep(0.02)

    def stop(self) -> int:
        """SIGTERM by PID; returns the exit code (SIGKILL and fail if it hangs)."""
        assert self.process is not None
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"server ignored SIGTERM:\n{self.log()}") from None

    def kill(self) -> None:
        """Last resort for a hung server: SIGKILL it and its workers, by PID."""
        assert self.process is not None
        for pid in [*children(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def children(pid: int) -> list[int]:
    """Direct child PIDs of ``pid`` (the server's workers)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after WAIT_LIMIT_SECONDS."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(POLL_SECONDS)
