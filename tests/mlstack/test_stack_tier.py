"""Which stacks are production is declared in policy_pack/tiers.yaml, not in the stack file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mlstack.cli.app import app
from tests.conftest import edit_stack_file

runner = CliRunner()


def _relabel_production_as_staging(config: dict) -> None:
    config["mlstack:environment"] = "staging"
    config["mlstack:policy"]["enforcement"] = "advisory"


def test_production_file_claiming_staging_exits_two_naming_the_tier(project_copy: Path) -> None:
    edit_stack_file(project_copy, "production", _relabel_production_as_staging)
    for command in (["plan", "production"], ["check", "production"]):
        result = runner.invoke(app, [*command, "--project-dir", str(project_copy)])
        assert result.exit_code == 2, result.output
        assert "declares stack 'production' production" in result.output
        assert "mlstack:environment = staging" in result.output


def test_undeclared_stack_is_production(project_copy: Path) -> None:
    source = project_copy / "stacks" / "Pulumi.staging.yaml"
    (project_copy / "stacks" / "Pulumi.sandbox.yaml").write_text(source.read_text())
    result = runner.invoke(app, ["plan", "sandbox", "--project-dir", str(project_copy)])
    assert result.exit_code == 2
    assert "declares stack 'sandbox' production" in result.output


def test_the_plan_document_carries_the_declared_tier(shipped_plans: dict) -> None:
    assert shipped_plans["production"].to_json()["tier"] == "production"
    assert shipped_plans["staging"].to_json()["tier"] == "staging"
