"""`mlstack model promote` against a real moto server: a one-line, atomic stack file change,
and a stack file left byte-for-byte unchanged by every failure."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_REMOTE, EXIT_USAGE
from tests.conftest import edit_stack_file
from tests.mlstack.models.conftest import (
    ARTIFACT,
    ARTIFACT_BODY,
    DIGEST,
    REPOSITORY,
    SHIPPED_DIGEST,
    add_versions,
    free_port,
    upload_artifact,
)

runner = CliRunner()
SHIPPED_SHA256 = "9f2c3e5a1b7d4c6e8f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e"
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
    version_id = upload_artifact()
    result = promote(project, 5)
    assert result.exit_code == 0, result.output
    after = stack_file(project).read_text()
    sha256 = hashlib.sha256(ARTIFACT_BODY).hexdigest()
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
        (
            f"    modelArtifactSha256: {SHIPPED_SHA256}",
            f"    modelArtifactSha256: {sha256}",
        ),
        (
            "    modelArtifactVersionId: Fz3kQ0d1tOq6yXJp9wq2uJcV7rK1m8Lh",
            f"    modelArtifactVersionId: {version_id}",
        ),
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
    assert [new.split(":")[0] for _, new in changed] == [
        "    imageDigest",
        "    modelArtifact",
        "    modelArtifactSha256",
        "    modelArtifactVersionId",
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


def test_promote_pinned_by_version_id_alone_writes_only_the_version_id(
    project: Path, approved_v5: str
) -> None:
    use_group(project, approved_v5)
    edit_stack_file(
        project, STACK, lambda config: config["mlstack:kubernetes"].pop("modelArtifactSha256")
    )
    before = stack_file(project).read_text()
    version_id = upload_artifact()
    result = promote(project, 5)
    assert result.exit_code == 0, result.output
    after = stack_file(project).read_text()
    assert f"    modelArtifactVersionId: {version_id}" in after.splitlines()
    assert "modelArtifactSha256" not in after
    assert len(changed_lines(before, after)) == 7


@pytest.mark.parametrize(
    ("versioning", "message"),
    [
        (None, "does not exist: upload it there"),
        (False, "has no S3 version id (versioning is off on bucket 'unversioned-artifacts')"),
    ],
)
def test_promote_refuses_an_artifact_it_cannot_pin(
    project: Path, sagemaker: Any, group: str, versioning: bool | None, message: str
) -> None:
    artifact = (
        "s3://mlstack-artifacts/models/churn-classifier/v404/model.tar.gz"
        if versioning is None
        else "s3://unversioned-artifacts/models/churn-classifier/v5/model.tar.gz"
    )
    if versioning is not None:
        upload_artifact(artifact, versioning=versioning)
    (arn,) = add_versions(sagemaker, group, 1, artifact=artifact)
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    before = use_group(project, group)
    result = promote(project, 1)
    assert result.exit_code == EXIT_REMOTE, result.output
    assert f"the model artifact {artifact} {message}" in result.stderr
    assert "Traceback" not in result.output
    assert stack_file(project).read_bytes() == before
