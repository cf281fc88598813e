"""The load generator for bench-serve: wrk with a Lua script.

It keeps ``connections`` HTTP/1.1 connections busy for ``seconds`` with the same POST
and reports the median and 99th percentile latency and the rate of successful requests.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Protocol

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = {content_type}
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{{"p50_us": %d, "p99_us": %d, "requests": %d, "duration_us": %d, "status": %d, '
    .. '"socket": %d}}\\n',
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
"""


@dataclass(frozen=True)
class Result:
    """One load run."""

    p50_us: float
    p99_us: float
    requests_per_second: float
    failed: int
    socket_errors: int = 0


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
            # wrk counts answers of any status as requests; socket errors are not among them.
            requests_per_second=(summary["requests"] - summary["status"])
            / (summary["duration_us"] / 1e6),
            failed=summary["status"] + summary["socket"],
            socket_errors=summary["socket"],
        )


__all__ = ["LoadGenerator", "Result", "Wrk"]
