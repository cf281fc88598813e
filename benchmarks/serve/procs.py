"""Processes for the serving benchmarks: ports, start and stop by PID, memory of a tree."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

#: A server that has not answered after this many seconds is stopped and reported.
START_LIMIT_SECONDS = 90.0
STOP_LIMIT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status(port: int, method: str, path: str, body: bytes | None = None,
           content_type: str = "application/json") -> int | None:  # fmt: skip
    """HTTP status of one request on a fresh connection; None when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def start(
    argv: list[str], env: dict[str, str], cwd: Path, ready: Callable[[], bool], name: str
) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server in its own session; returns it and the seconds until ``ready()``."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before it was ready")
        if time.perf_counter() - started > START_LIMIT_SECONDS:
            stop(process)
            raise RuntimeError(f"{name} was not ready within {START_LIMIT_SECONDS:.0f} s")
        time.sleep(0.005)
    return process, time.perf_counter() - started


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server by PID and wait; SIGKILL its process group if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_LIMIT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # Stragglers of the group (workers of a server that exited first), by their group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    """Direct children of ``pid``."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(part) for part in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue.extend(children(current))
    return pids


def _kib(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mib(pid: int) -> float:
    """Resident memory of one process, MiB."""
    return _kib(f"/proc/{pid}/status", "VmRSS") / 1024


def pss_mib(pid: int) -> float:
    """Proportional set size of one process (shared pages split among sharers), MiB."""
    return _kib(f"/proc/{pid}/smaps_rollup", "Pss") / 1024


def tree_rss_mib(pid: int) -> float:
    """RSS summed over a process tree, MiB (counts shared pages once per process)."""
    return sum(rss_mib(member) for member in tree(pid))


def tree_pss_mib(pid: int) -> float:
    """PSS summed over a process tree, MiB: what the tree costs the machine."""
    return sum(pss_mib(member) for member in tree(pid))
