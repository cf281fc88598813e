"""`mlstack check` and `mlstack scan` on the shipped stacks, and on a stack edited to drop the
endpoint configuration's KMS key (an instance type with local NVMe storage, where the
endpoint component leaves the volume key out)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from tests.conftest import SHIPPED_STACKS, edit_stack_file, make_project_copy

runner = CliRunner()


def test_check_production_exits_zero() -> None:
    result = runner.invoke(app, ["check", "production"])
    assert result.exit_code == 0, result.output
    assert "0 mandatory" in result.stdout


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_scan_of_shipped_stack_passes(stack: str) -> None:
    result = runner.invoke(app, ["scan", stack])
    assert result.exit_code == 0, result.output
    assert f"{stack} terraform_json:" in result.stdout
    assert "0 failed" in result.stdout
    assert "FAILED" not in result.stdout


def test_scan_checks_the_pods_of_the_rollout() -> None:
    result = runner.invoke(app, ["scan", "production"])
    assert "Rollout model-server scanned as the Deployment it runs" in result.stdout
    covered = next(line for line in result.stdout.splitlines() if "objects checked" in line)
    match = re.search(r"Deployment\.[\w-]+\.model-server \((\d+)\)", covered)
    assert match and int(match[1]) >= 40, covered


@pytest.fixture(scope="module")
def no_kms_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project_copy(tmp_path_factory.mktemp("no-kms") / "project")

    def local_nvme(config: dict[str, Any]) -> None:
        config["mlstack:sagemaker"]["instanceType"] = "ml.c5d.xlarge"

    edit_stack_file(project, "production", local_nvme)
    return project


def test_check_rejects_endpoint_config_without_kms(no_kms_project: Path) -> None:
    result = runner.invoke(app, ["check", "production", "--project-dir", str(no_kms_project)])
    assert result.exit_code == 1, result.output
    assert "MANDATORY sagemaker-endpoint-config-kms [CKV_AWS_98]" in result.stdout
    assert "EndpointConfiguration" in result.stdout
    assert "fix:" in result.stdout


def test_scan_rejects_endpoint_config_without_kms(no_kms_project: Path) -> None:
    result = runner.invoke(app, ["scan", "production", "--project-dir", str(no_kms_project)])
    assert result.exit_code == 1, result.output
    assert "FAILED CKV_AWS_98" in result.stdout
    assert "aws_sagemaker_endpoint_configuration" in result.stdout


def test_check_unknown_stack_exits_two() -> None:
    result = runner.invoke(app, ["check", "nonexistent"])
    assert result.exit_code == 2
