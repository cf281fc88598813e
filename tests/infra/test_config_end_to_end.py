"""End to end through `mlstack plan`: every problem of a file, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from mlstack.cli.app import app
from tests.conftest import edit_stack_file

runner = CliRunner()


def test_three_mistakes_exit_two_with_three_blocks(project_copy: Path) -> None:
    def three_mistakes(config: dict[str, Any]) -> None:
        config["aws:region"] = "US-EAST-1"
        config["mlstack:sagemaker"]["instanceType"] = "ml.c5.48xlarge"
        config["mlstack:kubernetes"]["memoryLimit"] = "1Gi"

    edit_stack_file(project_copy, "production", three_mistakes)
    result = runner.invoke(app, ["plan", "production", "--project-dir", str(project_copy)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    heads = [line for line in lines if line.removeprefix("error: ").startswith("stacks/")]
    assert len(heads) == 3, result.stderr
    assert 'aws:region = "US-EAST-1"' in result.stderr
    assert "write it in lower case: us-east-1" in result.stderr
    assert "mlstack:sagemaker.instanceType" in result.stderr
    assert "mlstack:kubernetes.memoryLimit" in result.stderr
