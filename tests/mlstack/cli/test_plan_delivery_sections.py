"""`mlstack plan` shows the rollout timeline (the summary's) and the alarms (the plan's)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mlstack.cli.app import app
from tests.conftest import edit_stack_file

runner = CliRunner()


def test_plan_shows_the_production_rollout_timeline() -> None:
    result = runner.invoke(app, ["plan", "production"], terminal_width=200)
    assert result.exit_code in (0, 1), result.output
    assert (
        "timeline: canary: 10% -> bake 600 s -> 100%, keep old fleet 600 s, timeout 7200 s"
    ) in result.stdout
    assert (
        "rollback alarms: latency-p99 > 500 ms, 2 of 2 x 60 s, errors-5xx > 1 %, 2 of 2 x 60 s"
    ) in result.stdout


def test_plan_timeline_follows_a_linear_stack_file(project_copy: Path) -> None:
    def linear(config: dict) -> None:
        config["mlstack:rollout"].update(strategy="linear", stepPercent=50)

    edit_stack_file(project_copy, "production", linear)
    result = runner.invoke(
        app, ["plan", "production", "--project-dir", str(project_copy)], terminal_width=200
    )
    assert "timeline: linear: 50% -> bake 600 s -> 100%" in result.stdout


def test_plan_lists_alarms_with_threshold_and_effects() -> None:
    result = runner.invoke(app, ["plan", "production"], terminal_width=250)
    lines = result.stdout.splitlines()
    rollback = next(line for line in lines if "mlstack-production-rollback-latency-p99:" in line)
    assert "above 500 ms" in rollback
    assert "roll back mlstack-production" in rollback
    assert "notify monitoring-alerts" in rollback
    p99 = next(line for line in lines if "mlstack-production-AllTraffic-latency-p99:" in line)
    assert "notify monitoring-alerts" in p99


def test_plan_prints_metric_math_verbatim() -> None:
    # Square brackets in expressions must not be eaten as console markup.
    result = runner.invoke(app, ["plan", "staging"], terminal_width=300)
    drift = next(line for line in result.stdout.splitlines() if "data-drift:" in line)
    assert "MAX([f0, f1])" in drift
