"""``make bench-abuse``: hostile clients against one worker, and what they cost it.

``python -m benchmarks.serve.abuse``. Starts the server (one worker, default settings,
127.0.0.1 only) on the example model and runs each hostile case in turn, bounded in
count and time (the whole run takes about a minute). For each it prints the outcome and
the memory of the server's whole process tree (supervisor and worker, RSS summed):
idle before the case, the peak while it runs (sampled every 10 ms) and the level five
seconds after it ends. Targets: peak at most idle + 100 MiB while eight 6 MiB bodies
arrive at once, and back within 10% of idle five seconds after.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run by path: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.serve import procs
from benchmarks.serve.run import DEFAULT_IMAGE, PYTHON, REPO, make_model

MIB = 1024 * 1024
ROW = b"5.1,3.5,1.4,0.2"
SETTLE_SECONDS = 5.0
SETTLE_POLL_SECONDS = 0.05
TARGET_PEAK_OVER_IDLE_MIB = 100.0
TARGET_SETTLED_RATIO = 1.10
#: The server's defaults, which the connection cases wait out.
HEADER_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    case: str
    result: str
    idle_mib: float
    peak_mib: float
    settled_mib: float
    memory_target: bool


class Sampler:
    """Samples a process tree's RSS every 10 ms in a thread; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, procs.tree_rss_mib(self.pid))
            self._stop.wait(0.01)


def post(port: int, body: bytes, content_type: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/invocations", body=body,
                           headers={"Content-Type": content_type})  # fmt: skip
        response = connection.getresponse()
        response.read()
        return str(response.status)
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__
    finally:
        connection.close()


def statuses(results: Sequence[str]) -> str:
    return ", ".join(f"{count} x {status}" for status, count in sorted(Counter(results).items()))


def eight_bodies(body: bytes, content_type: str) -> Callable[[int], str]:
    def run(port: int) -> str:
        with ThreadPoolExecutor(8) as pool:
            return statuses(list(pool.map(lambda _: post(port, body, content_type), range(8))))

    return run


def huge_header(port: int) -> str:
    """Up to 64 MiB of one header, until the server answers or closes."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * (256 * 1024)
        try:
            while sent < 64 * MIB:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        try:
            answer = sock.recv(65536).split(b"\r\n", 1)[0].decode(errors="replace")
        except OSError as exc:
            answer = type(exc).__name__
    return f"{answer or 'closed'} after {sent // 1024} KiB sent"


def slow_headers(port: int) -> str:
    """300 connections that send headers a line at a time, never finishing."""
    socks = []
    for _ in range(300):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\n")
        socks.append(sock)
    deadline = time.monotonic() + HEADER_TIMEOUT_SECONDS + 2
    while time.monotonic() < deadline:
        for sock in socks:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                continue
        time.sleep(1.0)
    still_open = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            sock.recv(1, socket.MSG_PEEK)  # an answer or the end: the server cut it off
        except BlockingIOError:
            still_open += 1  # nothing sent and not closed: still open
        except OSError:
            pass
        sock.close()
    return f"{still_open} of 300 still open after {HEADER_TIMEOUT_SECONDS + 2:.0f} s"


def stalled_bodies(port: int) -> str:
    """150 connections that send one body byte each, then normal requests."""
    socks = []
    for _ in range(150):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                     b"Content-Length: 1000\r\n\r\n5")  # fmt: skip
        socks.append(sock)
    time.sleep(0.5)
    normal = [post(port, ROW, "text/csv") for _ in range(20)]
    for sock in socks:
        sock.close()
    return f"normal requests meanwhile: {statuses(normal)}"


def measure(
    name: str, port: int, pid: int, case: Callable[[int], str], *, until_settled: bool = False
) -> Outcome:
    """Run ``case`` and read the server's tree memory: idle (after a second of quiet), the
    peak while the case runs, and the level :data:`SETTLE_SECONDS` after it ends.

    With ``until_settled`` (the tests), the settled level is read as soon as it is within
    the target (idle x :data:`TARGET_SETTLED_RATIO`), and at :data:`SETTLE_SECONDS` at the
    latest: the same bound, without waiting out seconds a settled server does not need.
    """
    time.sleep(1.0)
    idle = procs.tree_rss_mib(pid)
    with Sampler(pid) as sampler:
        result = case(port)
    settled = _settled_mib(pid, idle * TARGET_SETTLED_RATIO if until_settled else None)
    peak = max(sampler.peak, settled)
    ok = peak <= idle + TARGET_PEAK_OVER_IDLE_MIB and settled <= idle * TARGET_SETTLED_RATIO
    return Outcome(name, result, idle, peak, settled, ok)


def _settled_mib(pid: int, target_mib: float | None) -> float:
    """The tree's memory :data:`SETTLE_SECONDS` after now, or as soon as it is at most
    ``target_mib`` (polled every :data:`SETTLE_POLL_SECONDS`) when a target is given."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while target_mib is not None and time.monotonic() < deadline:
        level = procs.tree_rss_mib(pid)
        if level <= target_mib:
            return level
        time.sleep(SETTLE_POLL_SECONDS)
    time.sleep(max(0.0, deadline - time.monotonic()))
    return procs.tree_rss_mib(pid)


def report(outcomes: list[Outcome], warm_up: tuple[float, float]) -> None:
    lines = [
        "bench-abuse: one worker, example model, default settings; memory = RSS summed over "
        "the server's process tree (MiB)",
        f"idle after 50 small requests: {warm_up[0]:.0f} MiB; after one 6 MiB request too: "
        f"{warm_up[1]:.0f} MiB (one-time: helper threads, library caches). Each case's idle "
        "is measured just before it.",
        f"targets: peak <= idle + {TARGET_PEAK_OVER_IDLE_MIB:.0f} MiB, settled "
        f"<= idle x {TARGET_SETTLED_RATIO:.2f} ({SETTLE_SECONDS:.0f} s after)",
        "",
        f"{'case':<38}{'idle':>7}{'peak':>7}{'settled':>9}  {'memory':<8} outcome",
    ]
    for o in outcomes:
        verdict = "met" if o.memory_target else "MISSED"
        lines.append(
            f"{o.case:<38}{o.idle_mib:>7.0f}{o.peak_mib:>7.0f}{o.settled_mib:>9.0f}  "
            f"{verdict:<8} {o.result}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


def numbers_csv() -> bytes:
    return b"\n".join([ROW] * (6 * MIB // (len(ROW) + 1) - 1))


def cases() -> list[tuple[str, Callable[[int], str]]]:
    strings_csv = b"\n".join([b"setosa,versicolor,virginica,petal"] * (6 * MIB // 34 - 1))
    json_rows = b"[" + b",".join([b"[" + ROW + b"]"] * (6 * MIB // (len(ROW) + 3) - 1)) + b"]"
    return [
        ("8 x 6 MiB CSV of strings at once", eight_bodies(strings_csv, "text/csv")),
        ("8 x 6 MiB CSV of numbers at once", eight_bodies(numbers_csv(), "text/csv")),
        ("8 x 6 MiB JSON of numbers at once", eight_bodies(json_rows, "application/json")),
        ("one header of up to 64 MiB", huge_header),
        ("300 slow-header connections", slow_headers),
        ("150 one-byte bodies + 20 normal", stalled_bodies),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-abuse", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-abuse-") as tmp:
        model_dir = Path(tmp)
        make_model(model_dir)
        port = procs.free_port()
        env = {
            "PATH": "/usr/bin:/bin", "MODEL_DIR": str(model_dir), "SERVING_HOST": "127.0.0.1",
            "SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
            "SERVING_LOG_LEVEL": "error", "PYTHONPATH": str(DEFAULT_IMAGE),
        }  # fmt: skip
        process, _ = procs.start(
            [PYTHON, "-m", "serving", "serve"], env, REPO,
            lambda: procs.status(port, "GET", "/ping") == 200, "serving",
        )  # fmt: skip
        try:
            for _ in range(50):  # warm up: first calls allocate what every call needs
                post(port, ROW, "text/csv")
            time.sleep(1.0)
            small = procs.tree_rss_mib(process.pid)
            post(port, numbers_csv(), "text/csv")
            time.sleep(SETTLE_SECONDS)
            warm_up = (small, procs.tree_rss_mib(process.pid))
            outcomes = []
            for name, case in cases():
                sys.stderr.write(f"{name} ...\n")
                outcomes.append(measure(name, port, process.pid, case))
        finally:
            procs.stop(process)
    report(outcomes, warm_up)
    return 0


if __name__ == "__main__":
    sys.exit(main())
