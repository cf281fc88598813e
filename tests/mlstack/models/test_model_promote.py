"""`mlstack model promote` against a real moto server: a one-line, atomic stack file change,
and a stack file left byte-for-byte unchanged by every failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_REMOTE, EXIT_USAGE
from tests.conftest import edit_stack_file
from tests.mlstack.models.conftest import free_port

runner = CliRunner()
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:2.0.0"
ARTIFACT = "s3://mlstack-artifacts/models/churn/2.0.0/model.tar.gz"
STACK = "production"


def stack_file(project: Path) -> Path:
    return project / "stacks" / f"Pulumi.{STACK}.yaml"


def use_group(project: Path, group: str) -> bytes:
    """Point the stack at ``group`` and return the file's bytes."""

    def edit(config: dict[str, Any]) -> None:
        config["mlstack:model"]["packageGroupName"] = group

    edit_stack_file(project, STACK, edit)
    return stack_file(project).read_bytes()


def add_versions(sagemaker: Any, group: str, count: int) -> list[str]:
    return [
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": ARTIFACT}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
        )["ModelPackageArn"]
        for _ in range(count)
    ]


def promote(project: Path, version: int, *extra: str) -> Any:
    return runner.invoke(
        app,
        [
            "model",
            "promote",
            STACK,
            "--version",
            str(version),
            "--project-dir",
            str(project),
            *extra,
        ],
    )


@pytest.fixture
def approved_v5(sagemaker: Any, group: str) -> str:
    """``group`` holds versions 1-5; version 5 is approved."""
    arns = add_versions(sagemaker, group, 5)
    sagemaker.update_model_package(ModelPackageArn=arns[-1], ModelApprovalStatus="Approved")
    return group


def test_promote_changes_only_the_version_line(project: Path, approved_v5: str) -> None:
    before = use_group(project, approved_v5).decode()
    result = promote(project, 5)
    assert result.exit_code == 0, result.output
    after = stack_file(project).read_text()
    changed = [
        (old, new)
        for old, new in zip(before.splitlines(), after.splitlines(), strict=True)
        if old != new
    ]
    assert changed == [("    packageVersion: 3", "    packageVersion: 5")]
    assert "-    packageVersion: 3\n+    packageVersion: 5" in result.stdout
    assert f"promoted {STACK} to {approved_v5} v5 (Approved)" in result.stderr


def test_promote_leaves_no_temporary_file(project: Path, approved_v5: str) -> None:
    use_group(project, approved_v5)
    assert promote(project, 5).exit_code == 0
    assert sorted(p.name for p in (project / "stacks").iterdir()) == [
        "Pulumi.platform.yaml",
        "Pulumi.production.yaml",
        "Pulumi.staging.yaml",
        "stack-config.schema.json",
    ]


def test_promote_dry_run_prints_the_diff_and_keeps_the_file(
    project: Path, approved_v5: str
) -> None:
    before = use_group(project, approved_v5)
    result = promote(project, 5, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "+    packageVersion: 5" in result.stdout
    assert stack_file(project).read_bytes() == before


def test_promote_rejects_an_unapproved_version(project: Path, approved_v5: str) -> None:
    before = use_group(project, approved_v5)
    result = promote(project, 4)
    assert result.exit_code == EXIT_REMOTE
    assert f"{approved_v5} v4 (PendingManualApproval) is not approved" in result.stderr
    assert stack_file(project).read_bytes() == before


def test_promote_rejects_a_version_that_does_not_exist(project: Path, approved_v5: str) -> None:
    before = use_group(project, approved_v5)
    result = promote(project, 9)
    assert result.exit_code == EXIT_REMOTE
    assert "has no version 9 (latest is v5)" in result.stderr
    assert stack_file(project).read_bytes() == before


def test_promote_rejects_an_unknown_group(project: Path, aws_env: str) -> None:
    before = use_group(project, "no-such-group")
    result = promote(project, 5)
    assert result.exit_code == EXIT_REMOTE
    assert "model package group 'no-such-group' does not exist" in result.stderr
    assert stack_file(project).read_bytes() == before


def test_promote_reports_a_network_failure(
    project: Path, approved_v5: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = use_group(project, approved_v5)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    result = promote(project, 5)
    assert result.exit_code == EXIT_REMOTE
    assert "cannot reach AWS" in result.stderr
    assert "Traceback" not in result.output
    assert stack_file(project).read_bytes() == before


def test_promote_rejects_a_version_the_config_forbids(
    project: Path, approved_v5: str, sagemaker: Any
) -> None:
    def add_shadow(config: dict[str, Any]) -> None:
        config["mlstack:model"]["shadow"] = {"packageVersion": 5}

    use_group(project, approved_v5)
    edit_stack_file(project, STACK, add_shadow)
    before = stack_file(project).read_bytes()
    result = promote(project, 5)
    assert result.exit_code == EXIT_USAGE
    assert "shadow.packageVersion" in result.stderr
    assert stack_file(project).read_bytes() == before


def test_promote_to_the_current_version_changes_nothing(
    project: Path, sagemaker: Any, group: str
) -> None:
    arns = add_versions(sagemaker, group, 3)
    sagemaker.update_model_package(ModelPackageArn=arns[2], ModelApprovalStatus="Approved")
    before = use_group(project, group)
    result = promote(project, 3)
    assert result.exit_code == 0, result.output
    assert "nothing to change" in result.stderr
    assert stack_file(project).read_bytes() == before
