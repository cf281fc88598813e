"""`mlstack model register` and `approve` against a real moto server."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_REMOTE, EXIT_USAGE

runner = CliRunner()
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1.4.0"
ARTIFACT = "s3://mlstack-artifacts/models/churn/1.4.0/model.tar.gz"


def register(group: str, *extra: str) -> Any:
    return runner.invoke(
        app,
        ["model", "register", "--group", group, "--image", IMAGE, "--artifact", ARTIFACT, *extra],
    )


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


def test_approve_marks_the_version_approved(group: str, sagemaker: Any) -> None:
    arn = json.loads(register(group, "--json").stdout)["arn"]
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
    result = runner.invoke(
        app,
        ["model", "register", "--group", group, "--image", IMAGE, "--artifact", "/tmp/model"],
    )
    assert result.exit_code == EXIT_USAGE
    assert "--artifact" in result.stderr


def test_register_reports_an_unreachable_endpoint(aws_env: str, monkeypatch: Any) -> None:
    from tests.mlstack.models.conftest import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    result = register("churn")
    assert result.exit_code == EXIT_REMOTE
    assert "cannot reach AWS" in result.stderr
