"""`mlstack model register` and `approve` against a real moto server."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_POLICY, EXIT_REMOTE, EXIT_USAGE

runner = CliRunner()
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlstack-serving"
BUCKET = "mlstack-artifacts-1a2b3c4"
IMAGE = f"{REPOSITORY}@sha256:{'ab' * 32}"
ARTIFACT = f"s3://{BUCKET}/models/churn/1.4.0/model.tar.gz"
STORES = ["--stack", "staging", "--repository-url", REPOSITORY, "--artifacts-bucket", BUCKET]


def register(group: str, *extra: str, image: str = IMAGE, artifact: str = ARTIFACT) -> Any:
    command = ["model", "register", *STORES, "--group", group, "--image", image]
    return runner.invoke(app, [*command, "--artifact", artifact, *extra])


def as_another_principal(monkeypatch: Any) -> None:
    """Credentials of an assumed role: a second person, to moto's STS."""
    credentials = boto3.client("sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/ml-reviewer", RoleSessionName="review"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])


def test_register_creates_a_version_pending_manual_approval(group: str, sagemaker: Any) -> None:
    result = register(group, "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert (created["group"], created["version"]) == (group, 1)
    described = sagemaker.describe_model_package(ModelPackageName=created["arn"])
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    container = described["InferenceSpecification"]["Containers"][0]
    assert (container["Image"], container["ModelDataUrl"]) == (IMAGE, ARTIFACT)


def test_register_numbers_versions_in_order(group: str) -> None:
    versions = [json.loads(register(group, "--json").stdout)["version"] for _ in range(2)]
    assert versions == [1, 2]


def test_approve_marks_the_version_approved(group: str, sagemaker: Any, monkeypatch: Any) -> None:
    arn = json.loads(register(group, "--json").stdout)["arn"]
    as_another_principal(monkeypatch)
    result = runner.invoke(app, ["model", "approve", group, "1", "--note", "eval ok"])
    assert result.exit_code == 0, result.output
    assert "Approved" in result.stdout
    assert sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == (
        "Approved"
    )


def test_register_rejects_an_unknown_group(aws_env: str) -> None:
    result = register("no-such-group")
    assert result.exit_code == EXIT_REMOTE
    assert "model package group 'no-such-group' does not exist" in result.stderr
    assert "Traceback" not in result.output


def test_approve_rejects_a_missing_version(group: str) -> None:
    register(group)
    result = runner.invoke(app, ["model", "approve", group, "7"])
    assert result.exit_code == EXIT_REMOTE
    assert f"'{group}' has no version 7 (latest is v1)" in result.stderr


def test_register_rejects_an_artifact_that_is_not_an_s3_uri(group: str) -> None:
    result = register(group, artifact="/tmp/model")
    assert result.exit_code == EXIT_USAGE
    assert "--artifact" in result.stderr


@pytest.mark.parametrize(
    "image",
    [
        "docker.io/attacker/evil:latest",
        f"{REPOSITORY}:1.4.0",
        f"123456789012.dkr.ecr.us-east-1.amazonaws.com/other@sha256:{'ab' * 32}",
    ],
    ids=["other-registry", "tag", "other-repository"],
)
def test_register_accepts_only_the_stacks_repository_by_digest(group: str, image: str) -> None:
    result = register(group, image=image)
    assert result.exit_code == EXIT_USAGE
    assert f"{REPOSITORY}@sha256:<64 hex digits>" in result.stderr


def test_register_accepts_only_the_stacks_bucket(group: str) -> None:
    result = register(group, artifact="s3://someone-elses-bucket/model.tar.gz")
    assert result.exit_code == EXIT_USAGE
    assert f"s3://{BUCKET}/" in result.stderr


def test_register_without_the_stacks_stores_asks_for_them(group: str) -> None:
    command = ["model", "register", "--stack", "staging", "--group", group]
    result = runner.invoke(app, [*command, "--image", IMAGE, "--artifact", ARTIFACT])
    assert result.exit_code == EXIT_USAGE
    assert "MLSTACK_REPOSITORY_URL" in result.stderr


def test_the_registering_principal_may_not_approve(group: str, sagemaker: Any) -> None:
    arn = json.loads(register(group, "--json").stdout)["arn"]
    result = runner.invoke(app, ["model", "approve", group, "1"])
    assert result.exit_code == EXIT_POLICY
    assert "may not also approve" in result.stderr
    assert sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == (
        "PendingManualApproval"
    )
    result = runner.invoke(app, ["model", "approve", group, "1", "--allow-self-approval"])
    assert result.exit_code == 0, result.output


def test_register_reports_an_unreachable_endpoint(aws_env: str, monkeypatch: Any) -> None:
    from tests.mlstack.models.conftest import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    result = register("churn")
    assert result.exit_code == EXIT_REMOTE
    assert "cannot reach AWS" in result.stderr
