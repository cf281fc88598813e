"""``make bench-explain``: what ``?explain=true`` costs beside a plain prediction.

``python -m benchmarks.serve.explain``. Starts the server (one worker, default settings,
127.0.0.1 only) on the example model (a 100-tree random forest, four features), times
the first explanation (it imports shap), then loads the server with ``wrk`` at one
connection with bodies of 1, 10 and 100 rows, plain and explained, in interleaved
rounds. Prints requests/s, p50 and p99 per case, the cost of explaining per row
((p50 explained - p50 plain) / rows, medians over rounds), and the marginal cost of a
row explained and predicted (the p50 slope from 10 to 100 rows).
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run by path: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.serve import loadgen, procs
from benchmarks.serve.run import PYTHON, REPO, ROW, ensure_wrk, instances, make_model

ROW_SIZES = (1, 10, 100)
MODES = ("plain", "explain")


def first_explanation(port: int) -> tuple[int | None, float]:
    """Status and seconds of the first explanation (shap is imported then: a long timeout)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    try:
        connection.request("POST", "/invocations?explain=true", body=instances(1),
                           headers={"Content-Type": "application/json"})  # fmt: skip
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    except (OSError, http.client.HTTPException):
        return None, time.perf_counter() - started
    finally:
        connection.close()


def bare_cpu_ms_per_row(model_dir: Path, rows: int = 100, calls: int = 20) -> dict[str, float]:
    """CPU milliseconds per row of ``predict`` and of the server's explainer, in this
    process (CPU time, so other load on the machine shows less than in wall time)."""
    import joblib
    import numpy as np

    from serving.explain import Explainer

    model = joblib.load(model_dir / "model.joblib")
    batch = np.tile(np.asarray(ROW, dtype=np.float64), (rows, 1))
    explainer = Explainer(model, model_dir)
    explainer.explain(batch[:1])  # imports shap and builds the explainer
    costs = {}
    for name, work in (("predict", model.predict), ("explain", explainer.explain)):
        started = time.process_time()
        for _ in range(calls):
            work(batch)
        costs[name] = (time.process_time() - started) * 1000 / calls / rows
    return costs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-explain", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per load run (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    args = parser.parse_args(argv)
    wrk = ensure_wrk()
    if wrk is None:
        parser.error("bench-explain needs wrk (apt-get install wrk)")
    load = loadgen.Wrk(wrk)
    p50: dict[tuple[str, int], list[float]] = defaultdict(list)
    p99: dict[tuple[str, int], list[float]] = defaultdict(list)
    rps: dict[tuple[str, int], list[float]] = defaultdict(list)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="bench-explain-") as tmp:
        model_dir = Path(tmp)
        make_model(model_dir)
        port = procs.free_port()
        env = {
            "PATH": "/usr/bin:/bin", "MODEL_DIR": str(model_dir), "SERVING_HOST": "127.0.0.1",
            "SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
            "SERVING_LOG_LEVEL": "error",
        }  # fmt: skip
        process, _ = procs.start(
            [PYTHON, "-m", "serving", "serve"], env, REPO,
            lambda: procs.status(port, "GET", "/ping") == 200, "serving",
        )  # fmt: skip
        try:
            first, first_seconds = first_explanation(port)
            if first != 200:
                parser.error(f"the first explanation answered {first}: is shap installed?")
            urls = {
                "plain": f"http://127.0.0.1:{port}/invocations",
                "explain": f"http://127.0.0.1:{port}/invocations?explain=true",
            }
            for index in range(args.rounds):
                sys.stderr.write(f"round {index + 1}/{args.rounds} ...\n")
                order = MODES if index % 2 == 0 else MODES[::-1]
                for rows in ROW_SIZES:
                    for mode in order:
                        result = load.run(urls[mode], instances(rows), "application/json", 1,
                                          args.seconds)  # fmt: skip
                        p50[(mode, rows)].append(result.p50_us / 1000)
                        p99[(mode, rows)].append(result.p99_us / 1000)
                        rps[(mode, rows)].append(result.requests_per_second)
                        failed += result.failed
        finally:
            procs.stop(process)
        bare = bare_cpu_ms_per_row(model_dir)
    median = statistics.median
    lines = [
        f"bench-explain: {args.rounds} interleaved round(s) of {args.seconds:g} s per case, "
        "wrk, 1 connection, one worker, example model (100-tree forest, 4 features)",
        f"first explanation (imports shap, builds the explainer): {first_seconds:.2f} s",
        "",
        f"{'rows':>5} {'mode':<8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'explain ms/row':>16}",
    ]
    for rows in ROW_SIZES:
        for mode in MODES:
            key = (mode, rows)
            extra = ""
            if mode == "explain":
                per_row = (median(p50[key]) - median(p50[("plain", rows)])) / rows
                extra = f"{per_row:>16.3f}"
            lines.append(
                f"{rows:>5} {mode:<8}{median(rps[key]):>9.0f}{median(p50[key]):>9.2f}"
                f"{median(p99[key]):>9.2f}{extra}"
            )
    small, large = ROW_SIZES[1], ROW_SIZES[-1]
    slopes = {
        mode: (median(p50[(mode, large)]) - median(p50[(mode, small)])) / (large - small)
        for mode in MODES
    }
    lines.append(
        f"marginal cost per row ({small} -> {large} rows, p50): explained "
        f"{slopes['explain']:.3f} ms, plain {slopes['plain']:.3f} ms; fixed cost of explaining "
        f"one request: {median(p50[('explain', 1)]) - median(p50[('plain', 1)]):.2f} ms"
    )
    lines.append(
        f"in-process CPU per row (100-row calls): explain {bare['explain']:.3f} ms, "
        f"predict {bare['predict']:.4f} ms"
    )
    lines.append(f"failed requests: {failed}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
