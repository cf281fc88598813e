"""The deploy workflow uploads every step script a committed pipeline definition reads, to the
key the definition reads it from: the workflow's own upload command is run, as written in
deploy-stack.yml, for every stack deploy.yml deploys, against a moto server on loopback; the
expected keys come from parsing the definitions here, not from the code under test."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_REMOTE, EXIT_USAGE
from mlstack.project import PROJECT_ROOT
from tests.conftest import make_project_copy
from tests.mlstack.models.conftest import REGION

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
CODE = PROJECT_ROOT / "mlstack" / "pipelines" / "code"
runner = CliRunner()


def _steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for step in steps:
        found.append(step)
        if step["Type"] == "Condition":
            found += _steps(step["Arguments"]["IfSteps"]) + _steps(step["Arguments"]["ElseSteps"])
    return found


def scripts_read(definition: dict[str, Any]) -> set[str]:
    """Keys of the artifacts bucket that a definition's steps run as scripts: inputs mounted
    where a step's entrypoint runs a file."""
    keys = set()
    for step in _steps(definition["Steps"]):
        arguments = step["Arguments"]
        entrypoint = arguments.get("AppSpecification", {}).get("ContainerEntrypoint", [])
        for source in arguments.get("ProcessingInputs", []):
            mounted = source["S3Input"]["LocalPath"]
            run = [a for a in entrypoint if a.startswith(f"{mounted}/")]
            if not run:
                continue
            values = source["S3Input"]["S3Uri"]["Std:Join"]["Values"]
            assert values[:2] == ["s3:/", {"Get": "Parameters.ArtifactsBucket"}]
            key = "/".join(values[2:])
            assert [key.rsplit("/", 1)[1]] == [a.rsplit("/", 1)[1] for a in run]
            keys.add(key)
    return keys


def expected_keys(stack: str) -> set[str]:
    keys: set[str] = set()
    for path in (PROJECT_ROOT / "stacks" / "pipelines").glob(f"{stack}-*.json"):
        keys |= scripts_read(json.loads(path.read_text()))
    return keys


def _workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def deployed_stacks() -> list[str]:
    jobs = _workflow("deploy.yml")["jobs"].values()
    return [j["with"]["stack"] for j in jobs if str(j.get("uses", "")).endswith("deploy-stack.yml")]


def upload_steps() -> list[dict[str, Any]]:
    steps = _workflow("deploy-stack.yml")["jobs"]["deploy"]["steps"]
    return [s for s in steps if "upload-scripts" in s.get("run", "")]


def test_the_committed_definitions_read_scripts() -> None:
    """Guards the test below against passing on nothing."""
    assert len(expected_keys("production")) == 3
    assert "production" in deployed_stacks()


@pytest.fixture
def ops_project(tmp_path: Path) -> Path:
    """A checkout as the workflow sees it: the project, and the tooling venv it installs."""
    project = make_project_copy(tmp_path / "checkout")
    (project / ".venv-ops").symlink_to(PROJECT_ROOT / ".venv", target_is_directory=True)
    return project


def _run_step(step: dict[str, Any], project: Path, values: dict[str, str]) -> Any:
    """Run a workflow step's shell script with its env, expressions given by ``values``."""
    env = {**os.environ}
    for name, expression in step["env"].items():
        env[name] = values.get(expression, expression)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", step["run"]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("stack", deployed_stacks())
def test_the_workflow_uploads_every_script_a_committed_definition_reads(
    aws_env: str, ops_project: Path, stack: str
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    steps = upload_steps()
    assert steps, "deploy-stack.yml uploads the step scripts"
    # Before pulumi up, or after a first one: the same command (so it is run once here).
    assert len({step["run"] for step in steps}) == 1
    for step in steps[:1]:
        bucket = f"registry-artifacts-{uuid.uuid4().hex[:7]}"
        s3.create_bucket(Bucket=bucket)
        done = _run_step(
            step,
            ops_project,
            {
                "${{ inputs.stack }}": stack,
                "${{ steps.deployed.outputs.bucket }}": bucket,
                "${{ steps.up.outputs.artifactsBucket }}": bucket,
                ".": str(ops_project),
            },
        )
        assert done.returncode == 0, done.stdout + done.stderr
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        assert {o["Key"] for o in listed} == expected_keys(stack)
        for key in expected_keys(stack):
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            _, digest, name = key.rsplit("/", 2)
            assert body == (CODE / name).read_bytes()
            assert hashlib.sha256(body).hexdigest() == digest


def _upload(*args: str, project: Path = PROJECT_ROOT) -> Any:
    return runner.invoke(app, ["pipeline", "upload-scripts", *args, "--project-dir", str(project)])


def test_a_second_upload_leaves_the_same_bytes_alone(aws_env: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    bucket = f"registry-artifacts-{uuid.uuid4().hex[:7]}"
    s3.create_bucket(Bucket=bucket)
    first = _upload("production", "--bucket", bucket)
    assert first.exit_code == 0, first.output
    assert first.stdout.count("uploaded") == 3
    versions = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    second = _upload("production", "--bucket", bucket)
    assert second.exit_code == 0, second.output
    assert second.stdout.count("present") == 3 and "uploaded" not in second.stdout
    after = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert after == versions


def test_other_content_at_a_scripts_key_fails_the_upload(aws_env: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    bucket = f"registry-artifacts-{uuid.uuid4().hex[:7]}"
    s3.create_bucket(Bucket=bucket)
    key = sorted(expected_keys("production"))[0]
    s3.put_object(Bucket=bucket, Key=key, Body=b"print('not the release')\n")
    result = _upload("production", "--bucket", bucket)
    assert result.exit_code == EXIT_REMOTE
    assert f"s3://{bucket}/{key} exists with other content" in result.stderr
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == b"print('not the release')\n", "nothing overwritten"


def test_a_stale_definition_stops_the_upload_before_any_call(tmp_path: Path) -> None:
    project = make_project_copy(tmp_path / "project")
    path = project / "stacks/pipelines/production-churn-classifier.json"
    key = sorted(expected_keys("production"))[0]
    _, digest, _ = key.rsplit("/", 2)
    path.write_text(path.read_text().replace(digest, "0" * 64))
    result = _upload("production", "--bucket", "unused-bucket", project=project)
    assert result.exit_code == EXIT_USAGE
    assert "the committed definitions do not match the scripts" in result.stderr
    assert "run make pipelines" in result.stderr


def test_a_stack_without_pipelines_uploads_nothing(tmp_path: Path) -> None:
    result = _upload("staging", "--bucket", "unused-bucket")
    assert result.exit_code == 0, result.output
    assert "nothing to upload" in result.stdout
