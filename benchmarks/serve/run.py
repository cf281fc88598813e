"""``make bench-serve``: the serving image beside the servers users would pick instead.

``python -m benchmarks.serve.run``. Everything is measured on this machine in this run,
each server with one worker serving the example iris model (``model.joblib``):

- mlstack: ``python -m serving serve`` with its defaults;
- Flask + gunicorn (gevent worker, as in SageMaker's own containers): the baseline;
- Seldon MLServer with its scikit-learn runtime, without and with adaptive batching
  (``max_batch_size`` 64, ``max_batch_time`` 5 ms), V2 inference protocol;
- LitServe with batching (``max_batch_size`` 64, ``batch_timeout`` 5 ms);
- KServe's Python model server (V1 protocol).

The peers run in virtualenvs of their own under ``.venv/peers/`` (created on first use,
with the same scikit-learn as the model was saved with); one that cannot be installed is
left out with a note. Load comes from ``wrk`` (installed with apt-get when missing and
possible): 1, 16 and 64 connections with bodies of 1, 100 and 1000 rows, the same rows
for every server in its own protocol. Rounds interleave the servers (in a rotating order)
so background load hits all alike; each figure is the median over rounds.

Reported per scenario: requests/s, rows/s, p50 and p99 latency, and mlstack's ratio to
the best peer. Per server: cold start (process start to the first successful
prediction) and memory under load, as PSS summed over the whole process tree
(supervisor, workers, helpers) and as RSS of the largest process (the worker).
Targets (peers only, the baseline aside): rows/s >= 1.5x the best peer in every
concurrent scenario, p99 no worse than the best peer's, cold start <= 0.75x and PSS <=
the best peer's. ``--strict`` exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run by path: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.serve import loadgen, procs

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PEERS_DIR = REPO / ".venv" / "peers"
PEER_APPS = Path(__file__).resolve().parent / "peers"
#: On PYTHONPATH, makes the server start without the explain extra's packages, as the
#: default image does (the development venv has them for the tests).
DEFAULT_IMAGE = Path(__file__).resolve().parent / "default_image"
ROW = [5.1, 3.5, 1.4, 0.2]
ROW_SIZES = (1, 100, 1000)
CONNECTIONS = (1, 16, 64)
TARGET_ROWS_RATIO = 1.5
SETTLE_SECONDS = 0.5
TARGET_COLD_START_RATIO = 0.75
BASELINE = "flask+gunicorn gevent"
OURS = "mlstack"


@dataclass(frozen=True)
class Contender:
    """One server: how to start it and how to ask it for predictions."""

    name: str
    argv: list[str]
    env: dict[str, str]
    path: str
    body: Callable[[int], bytes]
    cwd: Path = REPO


@dataclass
class Figures:
    """Everything measured for one contender, over all rounds."""

    rps: dict[tuple[int, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    p50_ms: dict[tuple[int, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    p99_ms: dict[tuple[int, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    cold_start_s: list[float] = field(default_factory=list)
    pss_mib: list[float] = field(default_factory=list)
    worker_rss_mib: list[float] = field(default_factory=list)
    failed: int = 0
    socket_errors: int = 0
    error: str | None = None


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def instances(rows: int) -> bytes:
    return json.dumps({"instances": [ROW] * rows}).encode()


def v2_inputs(rows: int) -> bytes:
    data = ROW * rows
    return json.dumps(
        {"inputs": [{"name": "x", "shape": [rows, 4], "datatype": "FP64", "data": data}]}
    ).encode()


# -- the servers -----------------------------------------------------------------------


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


def sklearn_version() -> str:
    from sklearn import __version__

    return __version__


#: Packages per peer venv. MLServer 1.7 fails to start its inference workers with uvloop
#: 0.22 and later, hence that pin.
PEER_PACKAGES = {
    "mlserver": ["mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop==0.21.0"],
    "litserve": ["litserve==0.2.19", "joblib"],
    "kserve": ["kserve==0.21.0", "joblib"],
}


def peer_python(peer: str) -> Path | None:
    """The peer's venv interpreter, creating the venv on first use; None if it fails."""
    venv = PEERS_DIR / peer
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if stamp.exists():
        return python
    sys.stderr.write(f"installing {peer} into {venv} (once) ...\n")
    packages = [*PEER_PACKAGES[peer], f"scikit-learn=={sklearn_version()}"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], check=False, **quiet)
    if made.returncode == 0:
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *packages], check=False, **quiet
        )
        if installed.returncode == 0:
            stamp.touch()
            return python
    sys.stderr.write(f"{peer} could not be installed: left out\n")
    return None


def mlserver_dir(root: Path, model_dir: Path, batching: bool) -> Path:
    """An MLServer repository: settings.json and the model's model-settings.json."""
    directory = root / ("mlserver-batching" if batching else "mlserver")
    (directory / "iris").mkdir(parents=True, exist_ok=True)
    shutil.copy(model_dir / "model.joblib", directory / "iris" / "model.joblib")
    model: dict[str, object] = {
        "name": "iris",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
    }
    if batching:
        model.update({"max_batch_size": 64, "max_batch_time": 0.005})
    (directory / "iris" / "model-settings.json").write_text(json.dumps(model))
    return directory


def contenders(model_dir: Path, scratch: Path) -> list[Contender]:
    env = {"MODEL_DIR": str(model_dir), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    found = [
        Contender(
            OURS, [PYTHON, "-m", "serving", "serve"],
            {**env, "SAGEMAKER_BIND_TO_PORT": "{port}", "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
             "SERVING_HOST": "127.0.0.1", "SERVING_LOG_LEVEL": "warning",
             "PYTHONPATH": str(DEFAULT_IMAGE)},
            "/invocations", instances,
        ),
        Contender(
            BASELINE,
            [PYTHON, "-m", "gunicorn", "-w", "1", "-k", "gevent", "-b", "127.0.0.1:{port}",
             "--timeout", "60", "benchmarks.serve.baseline:app"],
            {**env, "PYTHONPATH": str(REPO)}, "/invocations", instances,
        ),
    ]  # fmt: skip
    mlserver = peer_python("mlserver")
    if mlserver is not None:
        for batching in (False, True):
            directory = mlserver_dir(scratch, model_dir, batching)
            name = "mlserver sklearn" + (" batching" if batching else "")
            found.append(Contender(
                name, [str(mlserver.parent / "mlserver"), "start", str(directory)],
                {**env, "MLSERVER_HTTP_PORT": "{port}", "MLSERVER_GRPC_PORT": "{port2}",
                 "MLSERVER_METRICS_PORT": "{port3}", "MLSERVER_HOST": "127.0.0.1",
                 "MLSERVER_PARALLEL_WORKERS": "1"},
                "/v2/models/iris/infer", v2_inputs, cwd=directory,
            ))  # fmt: skip
    litserve = peer_python("litserve")
    if litserve is not None:
        found.append(Contender(
            "litserve batching", [str(litserve), str(PEER_APPS / "litserve_app.py")],
            {**env, "PORT": "{port}"}, "/predict", instances,
        ))  # fmt: skip
    kserve = peer_python("kserve")
    if kserve is not None:
        found.append(Contender(
            "kserve", [str(kserve), str(PEER_APPS / "kserve_app.py")],
            {**env, "PORT": "{port}", "GRPC_PORT": "{port2}"},
            "/v1/models/iris:predict", instances,
        ))  # fmt: skip
    return found


# -- measuring -------------------------------------------------------------------------


def run_one(
    contender: Contender, figures: Figures, load: loadgen.LoadGenerator, seconds: float
) -> None:
    """Start the contender, load it in every scenario, record, stop it."""
    ports = {"{port}": procs.free_port(), "{port2}": procs.free_port(),
             "{port3}": procs.free_port()}  # fmt: skip

    def fill(text: str) -> str:
        for key, value in ports.items():
            text = text.replace(key, str(value))
        return text

    port = ports["{port}"]
    one_row = contender.body(1)
    ready = lambda: procs.status(port, "POST", contender.path, one_row) == 200  # noqa: E731
    process, cold_start = procs.start(
        [fill(arg) for arg in contender.argv],
        {key: fill(value) for key, value in contender.env.items()},
        contender.cwd, ready, contender.name,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}{contender.path}"
        figures.cold_start_s.append(cold_start)
        for rows in ROW_SIZES:
            body = contender.body(rows)
            load.run(url, body, "application/json", connections=16, seconds=0.5)  # warm-up
            for connections in CONNECTIONS:
                # wrk drops its connections mid-request when a run ends; let every server
                # finish that work before the next run counts.
                time.sleep(SETTLE_SECONDS)
                result = load.run(url, body, "application/json", connections, seconds)
                figures.rps[(connections, rows)].append(result.requests_per_second)
                figures.p50_ms[(connections, rows)].append(result.p50_us / 1000)
                figures.p99_ms[(connections, rows)].append(result.p99_us / 1000)
                figures.failed += result.failed
                figures.socket_errors += result.socket_errors
        # Memory after the heaviest scenario, still holding what serving it took.
        tree = procs.tree(process.pid)
        figures.pss_mib.append(sum(procs.pss_mib(pid) for pid in tree))
        figures.worker_rss_mib.append(max(procs.rss_mib(pid) for pid in tree))
    finally:
        procs.stop(process)


def bare_predict_ms(model_dir: Path, rows: int, calls: int = 50) -> float:
    """Median wall time of ``model.predict`` on ``rows`` rows, in this process."""
    import joblib
    import numpy as np

    model = joblib.load(model_dir / "model.joblib")
    batch = np.asarray([ROW] * rows)
    for _ in range(5):
        model.predict(batch)
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        model.predict(batch)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


# -- reporting -------------------------------------------------------------------------


def report(results: dict[str, Figures], bare: dict[int, float], header: str) -> list[str]:
    """Print the tables; returns the targets missed."""
    names = [name for name, figures in results.items() if figures.error is None]
    peers = [name for name in names if name not in (OURS, BASELINE)]
    ours = results[OURS]
    lines = [header, ""]
    lines.append(
        f"{'scenario':<15}{'server':<26}{'req/s':>9}{'rows/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
    )
    missed: list[str] = []
    for connections in CONNECTIONS:
        for rows in ROW_SIZES:
            key = (connections, rows)
            scenario = f"c={connections} rows={rows}"
            for name in names:
                f = results[name]
                rps = median(f.rps[key])
                lines.append(
                    f"{scenario:<15}{name:<26}{rps:>9.0f}{rps * rows:>11.0f}"
                    f"{median(f.p50_ms[key]):>9.1f}{median(f.p99_ms[key]):>9.1f}"
                )
                scenario = ""
            # A peer that answered nothing in a scenario has no latency to compare with.
            served = [name for name in peers if median(results[name].rps[key]) > 0]
            if not served:
                continue
            best = max(served, key=lambda name: median(results[name].rps[key]))
            best_p99 = min(served, key=lambda name: median(results[name].p99_ms[key]))
            ratio = median(ours.rps[key]) / median(results[best].rps[key])
            p99_ratio = median(ours.p99_ms[key]) / median(results[best_p99].p99_ms[key])
            lines.append(
                f"{'':<15}{'mlstack / best peer':<26}rows/s {ratio:.2f}x ({best}), "
                f"p99 {p99_ratio:.2f}x ({best_p99})"
            )
            if connections > 1 and ratio < TARGET_ROWS_RATIO:
                missed.append(f"rows/s at {connections} connections, {rows} rows: {ratio:.2f}x")
            if p99_ratio > 1.0:
                missed.append(f"p99 at {connections} connections, {rows} rows: {p99_ratio:.2f}x")
    lines += ["", f"{'server':<26}{'cold start s':>13}{'PSS tree MiB':>14}{'RSS worker MiB':>16}"]
    for name in names:
        f = results[name]
        lines.append(
            f"{name:<26}{median(f.cold_start_s):>13.2f}{median(f.pss_mib):>14.0f}"
            f"{median(f.worker_rss_mib):>16.0f}"
        )
    if peers:
        cold = min(peers, key=lambda name: median(results[name].cold_start_s))
        lean = min(peers, key=lambda name: median(results[name].pss_mib))
        cold_ratio = median(ours.cold_start_s) / median(results[cold].cold_start_s)
        pss_ratio = median(ours.pss_mib) / median(results[lean].pss_mib)
        lines.append(f"{'mlstack / best peer':<26}{cold_ratio:>12.2f}x{pss_ratio:>13.2f}x"
                     f"   (cold start vs {cold}, PSS vs {lean})")  # fmt: skip
        if cold_ratio > TARGET_COLD_START_RATIO:
            missed.append(f"cold start: {cold_ratio:.2f}x the best peer")
        if pss_ratio > 1.0:
            missed.append(f"PSS: {pss_ratio:.2f}x the best peer")
    lines.append("")
    lines.append("bare model.predict in-process (ms): " + ", ".join(
        f"{rows} rows {ms:.1f}" for rows, ms in bare.items()))  # fmt: skip
    for name, figures in results.items():
        if figures.error is not None:
            lines.append(f"left out: {name}: {figures.error}")
        elif figures.failed:
            lines.append(
                f"{name}: {figures.failed} failed requests "
                f"({figures.socket_errors} socket errors, the rest non-2xx answers)"
            )
    lines.append("")
    lines.append("targets missed: " + ("; ".join(missed) if missed else "none"))
    sys.stdout.write("\n".join(lines) + "\n")
    return missed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-serve", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per load run (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--only", nargs="*", help="servers to run (default all)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    wrk = ensure_wrk()
    if wrk is None:
        parser.error("bench-serve needs wrk (apt-get install wrk)")
    load = loadgen.Wrk(wrk)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        model_dir = Path(tmp) / "model"
        make_model(model_dir)
        servers = contenders(model_dir, Path(tmp))
        if args.only:
            servers = [s for s in servers if s.name in args.only or s.name == OURS]
        results = {server.name: Figures() for server in servers}
        for index in range(args.rounds):
            order = servers[index % len(servers) :] + servers[: index % len(servers)]
            for server in order:
                sys.stderr.write(f"round {index + 1}/{args.rounds}: {server.name} ...\n")
                figures = results[server.name]
                if figures.error is not None:
                    continue
                try:
                    run_one(server, figures, load, args.seconds)
                except (RuntimeError, subprocess.CalledProcessError, ValueError) as exc:
                    figures.error = str(exc)
        bare = {rows: bare_predict_ms(model_dir, rows) for rows in ROW_SIZES}
    minutes = (time.monotonic() - started) / 60
    header = (
        f"bench-serve: {args.rounds} interleaved round(s) of {args.seconds:g} s per scenario "
        f"(shortened to keep the run near {minutes:.0f} min; figures are medians over rounds), "
        f"wrk, one worker per server, example iris model; mlstack with default settings"
    )
    missed = report(results, bare, header)
    return 1 if missed and args.strict else 0


def make_model(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run([PYTHON, "-m", "serving.example", str(directory)], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
