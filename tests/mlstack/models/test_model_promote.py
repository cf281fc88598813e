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
from tests.mlstack.models.conftest import (
    ARTIFACT,
    DIGEST,
    REPOSITORY,
    SHIPPED_DIGEST,
    add_versions,
    free_port,
)

runner = CliRunner()
STACK = "production"


def stack_file(project: Path) -> Path:
    return project / "stacks" / f"Pulumi.{STACK}.yaml"


def use_group(project: Path, group: str) -> bytes:
    """Point the stack at ``group`` (one added line) and return the file's bytes."""
    path = stack_file(project)
    text = path.read_text()
    line = "    packageVersion: 3\n"
    path.write_text(text.replace(line, f"{line}    packageGroupName: {group}\n", 1))
    return path.read_bytes()


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


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    return [
        (old, new)
        for old, new in zip(before.splitlines(), after.splitlines(), strict=True)
        if old != new
    ]


def test_promote_moves_both_serving_paths_and_the_baselines(
    project: Path, approved_v5: str
) -> None:
    before = use_group(project, approved_v5).decode()
    result = promote(project, 5)
    assert result.exit_code == 0, result.output
    after = stack_file(project).read_text()
    assert changed_lines(before, after) == [
        ("    packageVersion: 3", "    packageVersion: 5"),
        (
            "      baselineStatisticsUri: baselines/churn-classifier/v3/statistics.json",
            "      baselineStatisticsUri: baselines/churn-classifier/v5/statistics.json",
        ),
        (
            "      baselineConstraintsUri: baselines/churn-classifier/v3/constraints.json",
            "      baselineConstraintsUri: baselines/churn-classifier/v5/constraints.json",
        ),
        (
            f"    imageDigest: {SHIPPED_DIGEST}",
            f"    imageDigest: {DIGEST}",
        ),
        (
            "    modelArtifact: models/churn-classifier/v3/model.tar.gz",
            f"    modelArtifact: {ARTIFACT}",
        ),
        ("    modelVersion: 3", "    modelVersion: 5"),
    ]
    assert "-    packageVersion: 3\n+    packageVersion: 5" in result.stdout
    assert f"promoted {STACK} to {approved_v5} v5 (Approved)" in result.stderr


def test_promote_adds_the_workload_version_where_it_is_missing(
    project: Path, approved_v5: str
) -> None:
    use_group(project, approved_v5)
    edit_stack_file(project, STACK, lambda config: config["mlstack:kubernetes"].pop("modelVersion"))
    before = stack_file(project).read_text()
    result = promote(project, 5)
    assert result.exit_code == 0, result.output
    added = set(stack_file(project).read_text().splitlines()) - set(before.splitlines())
    assert "    modelVersion: 5" in added
    assert "+    modelVersion: 5" in result.stdout


def test_promote_of_a_stack_without_eks_changes_only_the_version_line(
    project: Path, approved_v5: str
) -> None:
    def eks_off(config: dict[str, Any]) -> None:
        config["mlstack:eks"]["enabled"] = False
        config["mlstack:monitoring"]["drift"]["baselineStatisticsUri"] = "baselines/stats.json"
        config["mlstack:monitoring"]["drift"]["baselineConstraintsUri"] = "baselines/cons.json"

    use_group(project, approved_v5)
    edit_stack_file(project, STACK, eks_off)
    before = stack_file(project).read_text()
    result = promote(project, 5)
    assert result.exit_code == 0, result.output
    assert changed_lines(before, stack_file(project).read_text()) == [
        ("    packageVersion: 3", "    packageVersion: 5")
    ]
    assert "baselineStatisticsUri (baselines/stats.json) has no v3 path segment" in result.stderr


def test_promote_refuses_a_package_whose_image_is_not_pinned_by_digest(
    project: Path, sagemaker: Any, group: str
) -> None:
    (arn,) = add_versions(sagemaker, group, 1, image=f"{REPOSITORY}:2.0.0")
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    before = use_group(project, group)
    result = promote(project, 1)
    assert result.exit_code == EXIT_REMOTE, result.output
    assert "not pinned by digest" in result.stderr
    assert stack_file(project).read_bytes() == before


def test_promote_leaves_no_temporary_file(project: Path, approved_v5: str) -> None:
    use_group(project, approved_v5)
    assert promote(project, 5).exit_code == 0
    assert sorted(p.name for p in (project / "stacks").iterdir()) == [
        "Pulumi.platform.yaml",
        "Pulumi.production.yaml",
        "Pulumi.staging.yaml",
        "pipelines",
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
    arns = add_versions(sagemaker, group, 3, image=f"{REPOSITORY}@{SHIPPED_DIGEST}")
    sagemaker.update_model_package(ModelPackageArn=arns[2], ModelApprovalStatus="Approved")
    path = stack_file(project)
    shipped = "models/churn-classifier/v3/model.tar.gz"
    path.write_text(
        path.read_text().replace(f"modelArtifact: {shipped}", f"modelArtifact: {ARTIFACT}")
    )
    before = use_group(project, group)
    result = promote(project, 3)
    assert result.exit_code == 0, result.output
    assert "nothing to change" in result.stderr
    assert stack_file(project).read_bytes() == before


def test_promote_to_the_current_version_brings_eks_up_to_it(
    project: Path, sagemaker: Any, group: str
) -> None:
    arns = add_versions(sagemaker, group, 3)
    sagemaker.update_model_package(ModelPackageArn=arns[2], ModelApprovalStatus="Approved")
    before = use_group(project, group).decode()
    result = promote(project, 3)
    assert result.exit_code == 0, result.output
    changed = changed_lines(before, stack_file(project).read_text())
    assert [new for _, new in changed] == [
        f"    imageDigest: {DIGEST}",
        f"    modelArtifact: {ARTIFACT}",
    ]


def test_promote_refuses_a_package_image_outside_the_stacks_repository(
    project: Path, approved_v5: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = use_group(project, approved_v5)
    other = "123456789012.dkr.ecr.us-east-1.amazonaws.com/another-repository"
    monkeypatch.setenv("MLSTACK_REPOSITORY_URL", other)
    result = promote(project, 5)
    assert result.exit_code == EXIT_REMOTE, result.output
    assert f"outside the stack's repository {other}" in result.stderr
    assert stack_file(project).read_bytes() == before
