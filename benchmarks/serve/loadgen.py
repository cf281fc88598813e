"""Load generators for bench-serve: wrk, or a multi-process Python fallback.

Both keep ``connections`` HTTP/1.1 connections busy for ``seconds`` with the same POST
and report the median and 99th percentile latency and the request rate.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = {content_type}
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{{"p50_us": %d, "p99_us": %d, "requests": %d, "duration_us": %d, "failed": %d}}\\n',
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
"""


@dataclass(frozen=True)
class Result:
    """One load run."""

    p50_us: float
    p99_us: float
    requests_per_second: float
    failed: int


class LoadGenerator(Protocol):
    name: str

    def run(
        self, url: str, body: bytes, content_type: str, connections: int, seconds: float
    ) -> Result: ...


class Wrk:
    """wrk 4 with a Lua script that prints its summary as JSON (one thread)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = "wrk"

    def run(
        self, url: str, body: bytes, content_type: str, connections: int, seconds: float
    ) -> Result:
        script = _WRK_SCRIPT.format(
            body=json.dumps(body.decode()), content_type=json.dumps(content_type)
        )
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as handle:
            handle.write(script)
            handle.flush()
            output = subprocess.run(
                [self.path, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                 "--timeout", "10s", "-s", handle.name, url],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
        summary = json.loads(output.strip().splitlines()[-1])
        return Result(
            p50_us=summary["p50_us"],
            p99_us=summary["p99_us"],
            requests_per_second=summary["requests"] / (summary["duration_us"] / 1e6),
            failed=summary["failed"],
        )


class PythonLoad:
    """One process per connection, each sending requests back to back on a kept-alive
    connection (reopened when the server closes it, as gunicorn's sync worker does)."""

    name = "python load generator"

    def run(
        self, url: str, body: bytes, content_type: str, connections: int, seconds: float
    ) -> Result:
        parts = urlsplit(url)
        args = (parts.hostname, parts.port, parts.path, body, content_type, seconds)
        context = multiprocessing.get_context("spawn")
        with context.Pool(connections) as pool:
            outcomes = pool.starmap(_client, [args] * connections)
        latencies = sorted(value for samples, _ in outcomes for value in samples)
        failed = sum(count for _, count in outcomes)
        if not latencies:
            return Result(float("nan"), float("nan"), 0.0, failed)
        return Result(
            p50_us=statistics.median(latencies) * 1e6,
            p99_us=latencies[int(len(latencies) * 0.99) - 1] * 1e6,
            requests_per_second=len(latencies) / seconds,
            failed=failed,
        )


def _client(
    host: str, port: int, path: str, body: bytes, content_type: str, seconds: float
) -> tuple[list[float], int]:
    headers = {"Content-Type": content_type}
    connection = http.client.HTTPConnection(host, port, timeout=10)
    samples: list[float] = []
    failed = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failed += 1
            if response.getheader("connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            failed += 1
            connection.close()
            continue
        samples.append(time.perf_counter() - start)
    connection.close()
    return samples, failed


__all__ = ["LoadGenerator", "PythonLoad", "Result", "Wrk"]
