"""Benchmark: `mlstack plan --all` against the floor of importing the same Pulumi SDK modules.

The floor is a fresh process that imports exactly the ``pulumi*`` modules a plan loads and
does nothing else, as the ``mlstack`` command runs (the cyclic collector off, the heap frozen
at exit: ``mlstack.cli.app.main``): no program could plan faster with these SDKs. Both are
timed in the same run, interleaved, and the ratio of medians is printed (target: at most
2.0x).

Then many models: one stack of 1, 10 and 50 generated models (``benchmarks/plan/models.py``,
in a temporary copy of the project), each planned in a fresh process, beside the same floor;
the marginal cost per model is (t50 - t1) / 49 (target: at most 60 ms). Last, ``mlstack
diff`` of a one-model change (one model's packageVersion) in the 50-model stack, against
its plan time (target: at most 1.5x). In process, after a warm-up plan, the same plans beside
the SDK's floors measured in the same runs (``benchmarks/plan/floor.py``): the resources of
the plans re-declared with their planned inputs and no program, and bare registrations.
``--profile`` adds where the 50-model plan spends its time (cProfile, in process).

Run: ``make bench-plan`` (or ``.venv/bin/python -m benchmarks.plan.run --runs 7``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.plan.floor import bare_project, replay_project, same_registrations
from benchmarks.plan.models import STACK, model_name, models_project, stack_text

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO = 2.0
MODEL_COUNTS = (1, 10, 50)
TARGET_MS_PER_MODEL = 60.0
TARGET_DIFF_RATIO = 1.5

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


def timed(command: list[str], cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd
    )
    return time.perf_counter() - start


def _row(label: str, times: list[float]) -> str:
    return f"{label:<40} {statistics.median(times):>9.3f} {min(times):>7.3f} {max(times):>7.3f}"


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], check=True, cwd=root, capture_output=True)


def bench_models(floor: list[str], runs: int, workdir: Path, profile: bool) -> None:
    """Plan time of 1, 10 and 50 models beside the floor; the marginal cost per model; the
    diff of a one-model change in the 50-model stack against its plan time."""
    mlstack = str(Path(sys.executable).parent / "mlstack")
    projects = {n: models_project(workdir / f"models-{n}", n) for n in MODEL_COUNTS}
    commands = {
        n: [mlstack, "plan", STACK, "--json", "--project-dir", str(p)] for n, p in projects.items()
    }
    # The diff has a copy of the largest stack of its own, committed, then one model bumped.
    last = MODEL_COUNTS[-1]
    changed = models_project(workdir / f"diff-{last}", last)
    _git(changed, "init", "-q")
    _git(changed, "add", "-A")
    author = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    _git(changed, *author, "commit", "-qm", "base")
    (changed / "stacks" / f"Pulumi.{STACK}.yaml").write_text(stack_text(last, bumped=last // 2))
    diff = [mlstack, "diff", STACK, "--base", "HEAD", "--json", "--project-dir", str(changed)]
    for command in [*commands.values(), diff]:
        timed(command)  # warm the file cache
    times: dict[int, list[float]] = {n: [] for n in MODEL_COUNTS}
    floor_times, diff_times = [], []
    # Interleaved, so that the plans and the diff (two plans side by side) share the load.
    for _ in range(runs):
        floor_times.append(timed(floor))
        for n, command in commands.items():
            times[n].append(timed(command))
        diff_times.append(timed(diff))

    print()
    print(f"one stack of N models (mlstack:models, generated), {runs} runs each")
    print(f"{'command':<40} {'median s':>9} {'min s':>7} {'max s':>7}")
    print(_row("floor: import the pulumi* modules", floor_times))
    for n in MODEL_COUNTS:
        print(_row(f"mlstack plan, {n} model(s)", times[n]))
    print(_row(f"mlstack diff, 1 of {MODEL_COUNTS[-1]} models changed", diff_times))
    first = MODEL_COUNTS[0]
    per_model_ms = (
        (statistics.median(times[last]) - statistics.median(times[first])) / (last - first) * 1000
    )
    verdict = "within" if per_model_ms <= TARGET_MS_PER_MODEL else "ABOVE"
    print(
        f"marginal cost per model: {per_model_ms:.0f} ms ({verdict} the "
        f"{TARGET_MS_PER_MODEL:.0f} ms target); floor {statistics.median(floor_times):.3f} s"
    )
    ratio = statistics.median(diff_times) / statistics.median(times[last])
    verdict = "within" if ratio <= TARGET_DIFF_RATIO else "ABOVE"
    print(
        f"diff/plan at {last} models: {ratio:.2f}x ({verdict} the {TARGET_DIFF_RATIO:.1f}x target)"
    )
    in_process(projects, runs, workdir)
    if profile:
        _profile(projects[last])


def in_process(projects: dict[int, Path], runs: int, workdir: Path) -> None:
    """The same plans in this process after a warm-up plan: the cost of the models alone,
    without interpreter start and imports (the floor), beside the SDK's floors in the same
    runs (``benchmarks/plan/floor.py``): the planned resources re-declared with their inputs
    and no program, and bare registrations of as many resources."""
    from mlstack.offline.harness import run_plan

    first, last = MODEL_COUNTS[0], MODEL_COUNTS[-1]
    plans = {n: run_plan(STACK, projects[n]) for n in (first, last)}  # imports and caches
    subjects: dict[tuple[str, int], Path] = {("plan", n): p for n, p in projects.items()}
    for n in (first, last):
        replay = replay_project(workdir / f"replay-{n}", plans[n])
        if not same_registrations(plans[n], run_plan(STACK, replay)):
            raise SystemExit(f"the replay of {n} model(s) did not register the plan's resources")
        subjects["replay", n] = replay
        subjects["bare", n] = bare_project(workdir / f"bare-{n}", len(plans[n].resources))
    wall: dict[tuple[str, int], list[float]] = {key: [] for key in subjects}
    cpu: dict[tuple[str, int], list[float]] = {key: [] for key in subjects}
    for _ in range(runs):
        for key, project in subjects.items():
            gc.collect()  # every sample starts from the same heap, the last plan's freed
            start, start_cpu = time.perf_counter(), time.process_time()
            run_plan(STACK, project)
            wall[key].append(time.perf_counter() - start)
            cpu[key].append(time.process_time() - start_cpu)

    def per_model_ms(kind: str, samples: dict[tuple[str, int], list[float]]) -> float:
        grown = statistics.median(samples[kind, last]) - statistics.median(samples[kind, first])
        return grown / (last - first) * 1000

    shown = ", ".join(f"{n} model(s) {statistics.median(wall['plan', n]):.3f} s" for n in projects)
    plan_ms, replay_ms = per_model_ms("plan", wall), per_model_ms("replay", wall)
    resources = (len(plans[last].resources) - len(plans[first].resources)) / (last - first)
    bare_ms = per_model_ms("bare", wall) / resources
    print(
        f"in process, after a warm-up plan: {shown}; {plan_ms:.0f} ms per model "
        f"({per_model_ms('plan', cpu):.0f} ms of CPU)"
    )
    print(
        f"SDK floor, same runs: the {resources:.0f} resources of a model re-declared with their "
        f"planned inputs and no program, {replay_ms:.0f} ms per model "
        f"({per_model_ms('replay', cpu):.0f} ms of CPU); plan/floor {plan_ms / replay_ms:.2f}x"
    )
    print(
        f"a bare registration (pulumi.CustomResource, 3 plain inputs): {bare_ms:.2f} ms, "
        f"{bare_ms * resources:.0f} ms for {resources:.0f}"
    )
    print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _profile(project: Path) -> None:
    """Where a plan of the largest stack spends its time, in this process."""
    import cProfile
    import pstats

    from mlstack.offline.harness import run_plan

    profiler = cProfile.Profile()
    profiler.enable()
    run_plan(STACK, project)
    profiler.disable()
    print()
    print(f"profile of one plan of {model_name(MODEL_COUNTS[-1] - 1)[:-3]}* x {MODEL_COUNTS[-1]}")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(r"pulumi|infra|mlstack", 15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs of each command (default 5)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile one plan of the 50-model stack"
    )
    args = parser.parse_args()

    modules = sdk_modules()
    imports = "\n".join(f"import {m}" for m in modules)
    floor = [sys.executable, "-c", f"import gc\ngc.disable()\n{imports}\ngc.freeze()"]
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
    with tempfile.TemporaryDirectory(prefix="mlstack-bench-") as workdir:
        bench_models(floor, args.runs, Path(workdir), args.profile)


if __name__ == "__main__":
    main()
