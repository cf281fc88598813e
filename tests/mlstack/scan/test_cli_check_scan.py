"""`mlstack check` and `mlstack scan` on the shipped stacks, on production moved to a GPU
instance type with instance store (no volume key possible), and on a plan missing the key."""

from __future__ import annotations

import json
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


class Scans(dict):
    """`mlstack scan` of a shipped stack, run on first use and kept (checkov is slow)."""

    def __missing__(self, stack: str) -> Any:
        self[stack] = runner.invoke(app, ["scan", stack])
        return self[stack]


@pytest.fixture(scope="module")
def scans() -> Scans:
    return Scans()


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_scan_of_shipped_stack_passes(scans: dict[str, Any], stack: str) -> None:
    result = scans[stack]
    assert result.exit_code == 0, result.output
    assert f"{stack} terraform_json:" in result.stdout
    assert "0 failed" in result.stdout
    assert "FAILED" not in result.stdout


def test_scan_checks_the_pods_of_the_rollout(scans: dict[str, Any]) -> None:
    result = scans["production"]
    assert "Rollout model-server scanned as the Deployment it runs" in result.stdout
    covered = next(line for line in result.stdout.splitlines() if "objects checked" in line)
    match = re.search(r"Deployment\.[\w-]+\.model-server \((\d+)\)", covered)
    assert match and int(match[1]) >= 40, covered


@pytest.fixture(scope="module")
def gpu_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Production on ml.g5.xlarge: instance store, where AWS refuses a volume KMS key."""
    project = make_project_copy(tmp_path_factory.mktemp("gpu") / "project")

    def gpu(config: dict[str, Any]) -> None:
        config["mlstack:sagemaker"]["instanceType"] = "ml.g5.xlarge"

    edit_stack_file(project, "production", gpu)
    return project


def test_gpu_instance_store_plans_and_checks_clean_in_production(gpu_project: Path) -> None:
    """Once refused by sagemaker-endpoint-config-kms with a fix AWS would not accept."""
    for command in ("plan", "check"):
        result = runner.invoke(app, [command, "production", "--project-dir", str(gpu_project)])
        assert result.exit_code == 0, result.output


def test_gpu_instance_store_scan_exempts_the_volume_key_check(gpu_project: Path) -> None:
    result = runner.invoke(app, ["scan", "production", "--project-dir", str(gpu_project)])
    assert result.exit_code == 0, result.output
    assert "CKV_AWS_98 not applicable to sagemaker-config" in result.stdout


def test_check_still_rejects_a_missing_key_where_aws_takes_one(tmp_path: Path) -> None:
    config = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    variants = [{"variantName": "AllTraffic", "instanceType": "ml.m5.large"}]
    document = {
        "stack": "production",
        "resources": [
            {"urn": f"urn:pulumi:production::mlstack::{config}::cfg", "type": config,
             "inputs": {"productionVariants": variants}},
        ],
    }  # fmt: skip
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(app, ["check", "--plan", str(path)])
    assert result.exit_code == 1
    assert "MANDATORY sagemaker-endpoint-config-kms [CKV_AWS_98]" in result.stdout
    assert "mlstack:sagemaker.instanceType" in result.stdout


def test_check_unknown_stack_exits_two() -> None:
    result = runner.invoke(app, ["check", "nonexistent"])
    assert result.exit_code == 2
