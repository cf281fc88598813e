"""Benchmark the serving image against the Flask + gunicorn baseline, in one run.

``python -m benchmarks.serve.run`` (or ``make bench-serve``). Everything is measured on
this machine in this run, one worker each, with the example iris model:

- bare ``predict`` p50 for one row, in-process (the floor);
- each server's p50 latency at 1 connection, and its ratio to bare predict;
- throughput at saturation (16 connections), and ours over the baseline's;
- time from process start to the first 200 on ``/ping``;
- resident memory (RSS) per worker.

The baseline runs twice, with gunicorn's sync worker and with the gevent worker the
SageMaker containers use; ratios are taken against the faster of the two. Load comes from
``wrk`` (installed with apt-get when missing and possible) or, failing that, from a
multi-process Python generator in :mod:`benchmarks.serve.loadgen`. Each figure is the
median of ``--rounds`` rounds that interleave the servers, so background noise hits all
of them alike. Targets: throughput >= 2x baseline, p50 <= 2x bare predict, first 200 on
``/ping`` within 2 s. ``--strict`` exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run by path: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.serve import loadgen

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BODY = b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
CONTENT_TYPE = "application/json"
TARGET_THROUGHPUT_RATIO = 2.0
TARGET_P50_RATIO = 2.0
TARGET_FIRST_PING_SECONDS = 2.0
APP = "benchmarks.serve.baseline:app"


@dataclass
class Figures:
    """Measurements of one server over all rounds."""

    name: str
    first_ping_s: list[float] = field(default_factory=list)
    p50_c1_us: list[float] = field(default_factory=list)
    rps_c16: list[float] = field(default_factory=list)
    p99_c16_us: list[float] = field(default_factory=list)
    worker_rss_mib: list[float] = field(default_factory=list)
    failed_requests: int = 0

    def median(self, name: str) -> float:
        values = getattr(self, name)
        return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class ServerSpec:
    """How to start one contender."""

    name: str
    argv: list[str]
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_wrk() -> str | None:
    """Path to wrk, installing the Debian package when missing and running as root."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    sys.stderr.write("installing wrk with apt-get ...\n")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, **quiet)
    return shutil.which("wrk")


def make_model(directory: Path) -> None:
    subprocess.run([PYTHON, "-m", "serving.example", str(directory)], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def bare_predict_p50_us(model_dir: Path, calls: int = 3000) -> float:
    """Median wall time of ``model.predict`` on one row, in this process."""
    import joblib
    import numpy as np

    model = joblib.load(model_dir / "model.joblib")
    row = np.asarray([[5.1, 3.5, 1.4, 0.2]])
    for _ in range(300):
        model.predict(row)
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        model.predict(row)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def ping_status(port: int) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def start(spec: ServerSpec, port: int) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server; returns it and the seconds from exec to the first 200 on /ping."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.update({key: value.replace("{port}", str(port)) for key, value in spec.env.items()})
    argv = [arg.replace("{port}", str(port)) for arg in spec.argv]
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    while ping_status(port) != 200:
        if process.poll() is not None:
            raise RuntimeError(f"{spec.name} exited with {process.returncode} before /ping")
        if time.perf_counter() - started > 60:
            stop(process)
            raise RuntimeError(f"{spec.name} did not answer /ping within 60 s")
        time.sleep(0.005)
    return process, time.perf_counter() - started


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server (by pid) and wait; SIGKILL its process group after 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_rss_mib(server_pid: int) -> float:
    """RSS of the (single) worker process under a pre-fork master."""
    workers = children(server_pid)
    return statistics.mean(rss_mib(pid) for pid in workers) if workers else rss_mib(server_pid)


def measure(
    spec: ServerSpec, figures: Figures, load: loadgen.LoadGenerator, seconds: float
) -> None:
    port = free_port()
    process, first_ping = start(spec, port)
    try:
        url = f"http://127.0.0.1:{port}/invocations"
        load.run(url, BODY, CONTENT_TYPE, connections=16, seconds=1.0)  # warm-up
        single = load.run(url, BODY, CONTENT_TYPE, connections=1, seconds=seconds)
        saturated = load.run(url, BODY, CONTENT_TYPE, connections=16, seconds=seconds)
        figures.first_ping_s.append(first_ping)
        figures.p50_c1_us.append(single.p50_us)
        figures.rps_c16.append(saturated.requests_per_second)
        figures.p99_c16_us.append(saturated.p99_us)
        figures.worker_rss_mib.append(worker_rss_mib(process.pid))
        figures.failed_requests += single.failed + saturated.failed
    finally:
        stop(process)


def contenders(model_dir: Path) -> list[ServerSpec]:
    env = {"MODEL_DIR": str(model_dir)}
    ours = ServerSpec(
        "serving (uvicorn)",
        [PYTHON, "-m", "serving", "serve"],
        {**env, "SAGEMAKER_BIND_TO_PORT": "{port}", "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
         "SERVING_HOST": "127.0.0.1", "SERVING_LOG_LEVEL": "warning"},
    )  # fmt: skip
    gunicorn = [PYTHON, "-m", "gunicorn", "-w", "1", "-b", "127.0.0.1:{port}", "--timeout", "60"]
    specs = [ours, ServerSpec("flask+gunicorn sync", [*gunicorn, "-k", "sync", APP], env)]
    try:
        import gevent  # noqa: F401

        specs.append(ServerSpec("flask+gunicorn gevent", [*gunicorn, "-k", "gevent", APP], env))
    except ImportError:
        sys.stderr.write("gevent is not installed: the gevent baseline is skipped\n")
    return specs


def report(bare_us: float, results: list[Figures], load_name: str, rounds: int) -> list[str]:
    """Print the table; returns the targets missed."""
    ours, baselines = results[0], results[1:]
    best = max(baselines, key=lambda figures: figures.median("rps_c16"))
    rows = [
        ("first 200 on /ping (s)", "first_ping_s", "{:.2f}"),
        ("p50 latency, 1 connection (us)", "p50_c1_us", "{:.0f}"),
        ("throughput, 16 connections (req/s)", "rps_c16", "{:.0f}"),
        ("p99 latency, 16 connections (us)", "p99_c16_us", "{:.0f}"),
        ("RSS per worker (MiB)", "worker_rss_mib", "{:.1f}"),
    ]
    names = [figures.name for figures in results]
    width = max(len(label) for label, _, _ in rows) + 2
    lines = [
        f"bench-serve: {rounds} round(s), load from {load_name}, one worker each, "
        f"median of rounds; example iris model (model.joblib)",
        "",
        f"{'bare predict p50, 1 row (us)':<{width}}{bare_us:>24.0f}",
        "",
        f"{'':<{width}}" + "".join(f"{name:>24}" for name in names),
    ]
    for label, attribute, fmt in rows:
        cells = "".join(f"{fmt.format(f.median(attribute)):>24}" for f in results)
        lines.append(f"{label:<{width}}{cells}")
    failed = "".join(f"{f.failed_requests:>24}" for f in results)
    lines.append(f"{'non-2xx or failed requests':<{width}}{failed}")
    throughput_ratio = ours.median("rps_c16") / best.median("rps_c16")
    p50_ratio = ours.median("p50_c1_us") / bare_us
    first_ping = ours.median("first_ping_s")
    checks = [
        (f"throughput vs {best.name}", f"{throughput_ratio:.2f}x", ">= 2x",
         throughput_ratio >= TARGET_THROUGHPUT_RATIO),
        ("p50 at 1 connection vs bare predict", f"{p50_ratio:.2f}x", "<= 2x",
         p50_ratio <= TARGET_P50_RATIO),
        ("first 200 on /ping", f"{first_ping:.2f} s", "<= 2 s",
         first_ping <= TARGET_FIRST_PING_SECONDS),
        ("requests that failed", str(ours.failed_requests), "0", ours.failed_requests == 0),
    ]  # fmt: skip
    lines += ["", "targets (serving):"]
    missed = []
    for label, value, target, ok in checks:
        lines.append(f"  {label:<40}{value:>10}   target {target:<8} {'met' if ok else 'MISSED'}")
        if not ok:
            missed.append(label)
    overhead = ours.median("p50_c1_us") - bare_us
    lines.append(f"  (server overhead over bare predict at p50: {overhead:.0f} us)")
    sys.stdout.write("\n".join(lines) + "\n")
    return missed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-serve", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per load run (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    wrk = ensure_wrk() if args.loadgen in ("auto", "wrk") else None
    if args.loadgen == "wrk" and wrk is None:
        parser.error("wrk is not installed and could not be installed")
    load: loadgen.LoadGenerator = loadgen.Wrk(wrk) if wrk else loadgen.PythonLoad()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        model_dir = Path(tmp)
        make_model(model_dir)
        specs = contenders(model_dir)
        results = [Figures(spec.name) for spec in specs]
        bare: list[float] = []
        for round_index in range(args.rounds):
            sys.stderr.write(f"round {round_index + 1}/{args.rounds} ...\n")
            bare.append(bare_predict_p50_us(model_dir))
            for spec, figures in zip(specs, results, strict=True):
                measure(spec, figures, load, args.seconds)
        missed = report(statistics.median(bare), results, load.name, args.rounds)
    if missed and args.strict:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
