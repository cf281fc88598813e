"""`mlstack compare`: how two stacks differ, for environment parity reviews."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_USAGE

runner = CliRunner()


def test_compare_shows_sizing_and_rollout_differences() -> None:
    result = runner.invoke(app, ["compare", "staging", "production", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    changed = {f["label"] for f in document["facts"] if f["changed"]}
    assert {"timeline", "tier"} <= changed
    assert document["stacks"] == ["staging", "production"]
    assert document["summary"]["differ"] > 0
    assert document["summary"]["onlyInHead"] > 0  # production's VPC and EKS path
    assert {f["what"] for f in document["folded"]} >= {"tag data-classification"}


def test_compare_markdown_names_both_stacks() -> None:
    result = runner.invoke(app, ["compare", "staging", "production"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("### mlstack compare: staging → production")


def test_compare_rejects_the_same_stack_twice() -> None:
    result = runner.invoke(app, ["compare", "staging", "staging"])
    assert result.exit_code == EXIT_USAGE
    assert "two different stacks" in result.stderr
