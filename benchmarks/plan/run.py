"""Benchmark: `mlstack plan --all` against the floor of importing the same Pulumi SDK modules.

The floor is a fresh process that imports exactly the ``pulumi*`` modules a plan loads and
does nothing else: no program could plan faster with these SDKs. Both are timed in the same
run, interleaved, and the ratio of medians is printed (target: at most 2.0x).

Run: ``make bench-plan`` (or ``.venv/bin/python -m benchmarks.plan.run --runs 7``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO = 2.0

LIST_MODULES = """
import json, sys
from mlstack.offline.harness import run_plan
from mlstack.offline.stack_files import load_project
for stack in load_project(__import__("pathlib").Path(%r)).stacks():
    run_plan(stack)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0].startswith("pulumi"))))
"""


def sdk_modules() -> list[str]:
    """The Pulumi SDK modules loaded by planning every stack."""
    out = subprocess.run(
        [sys.executable, "-c", LIST_MODULES % str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs of each command (default 5)"
    )
    args = parser.parse_args()

    modules = sdk_modules()
    floor = [sys.executable, "-c", "\n".join(f"import {m}" for m in modules)]
    plan = [str(Path(sys.executable).parent / "mlstack"), "plan", "--all"]
    timed(floor), timed(plan)  # warm the file cache for both
    floor_times, plan_times = [], []
    for _ in range(args.runs):
        floor_times.append(timed(floor))
        plan_times.append(timed(plan))

    floor_median = statistics.median(floor_times)
    plan_median = statistics.median(plan_times)
    ratio = plan_median / floor_median
    print(f"{'command':<40} {'median s':>9} {'min s':>7} {'max s':>7}")
    print(
        f"{'floor: import ' + str(len(modules)) + ' pulumi* modules':<40} "
        f"{floor_median:>9.3f} {min(floor_times):>7.3f} {max(floor_times):>7.3f}"
    )
    print(
        f"{'mlstack plan --all':<40} "
        f"{plan_median:>9.3f} {min(plan_times):>7.3f} {max(plan_times):>7.3f}"
    )
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(
        f"ratio plan/floor: {ratio:.2f}x "
        f"({verdict} the {TARGET_RATIO:.1f}x target, {args.runs} runs each)"
    )


if __name__ == "__main__":
    main()
