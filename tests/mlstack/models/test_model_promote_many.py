"""`mlstack model promote STACK MODEL` in a stack of many models (moto on loopback): one line
of one model changes, and the diff of the two plans changes that model's resources only."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from mlstack.attribution import group_by_model, models_by_urn
from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_USAGE
from mlstack.offline.harness import run_plan
from mlstack.operations import Operation, operations, resource_key
from tests.conftest import edit_stack_file
from tests.mlstack.models.conftest import ARTIFACT, ARTIFACT_BODY, upload_artifact
from tests.mlstack.models.test_model_promote import add_versions

runner = CliRunner()
STACK, MODEL = "platform", "sentiment"


def promote(project: Path, *args: str) -> Any:
    return runner.invoke(app, ["model", "promote", STACK, *args, "--project-dir", str(project)])


def test_promoting_one_model_changes_only_its_resources(
    project: Path, sagemaker: Any, group: str
) -> None:
    def use_group(config: dict[str, Any]) -> None:
        config["mlstack:models"][MODEL]["packageGroupName"] = group

    path = edit_stack_file(project, STACK, use_group)
    arns = add_versions(sagemaker, group, 9)
    sagemaker.update_model_package(ModelPackageArn=arns[-1], ModelApprovalStatus="Approved")
    before_text = path.read_text()
    before = run_plan(STACK, project).to_json()

    result = promote(project, MODEL, "--version", "9")
    assert result.exit_code == 0, result.output
    changed_lines = [
        (a, b)
        for a, b in zip(before_text.splitlines(), path.read_text().splitlines(), strict=True)
        if a != b
    ]
    assert changed_lines == [("      packageVersion: 8", "      packageVersion: 9")]

    after = run_plan(STACK, project).to_json()
    changes = [c for c in operations(before, after) if c.operation is not Operation.SAME]
    owners = {
        resource_key(urn): model
        for document in (before, after)
        for urn, model in models_by_urn(document).items()
    }
    assert changes, "promotion changed nothing"
    assert {owners.get(c.key) for c in changes} == {MODEL}, [
        (c.key, owners.get(c.key)) for c in changes
    ]
    grouped, unchanged = group_by_model(changes, before, after)
    assert list(grouped) == [MODEL] and unchanged == 3


def test_a_stack_of_models_needs_the_model_named(project: Path, aws_env: str) -> None:
    before = (project / "stacks" / f"Pulumi.{STACK}.yaml").read_bytes()
    result = promote(project, "--version", "2")
    assert result.exit_code == EXIT_USAGE
    assert "name a model" in result.output and "sentiment" in result.output
    result = promote(project, "nope", "--version", "2")
    assert result.exit_code == EXIT_USAGE and "no model 'nope'" in result.output
    assert (project / "stacks" / f"Pulumi.{STACK}.yaml").read_bytes() == before


def test_promoting_a_model_on_eks_writes_its_artifact_pins_under_its_own_keys(
    project: Path, sagemaker: Any, group: str
) -> None:
    def use_group(config: dict[str, Any]) -> None:
        config["mlstack:models"]["ranking"]["packageGroupName"] = group

    path = edit_stack_file(project, STACK, use_group)
    arns = add_versions(sagemaker, group, 13)
    sagemaker.update_model_package(ModelPackageArn=arns[-1], ModelApprovalStatus="Approved")
    version_id = upload_artifact()
    others = yaml.safe_load(path.read_text())["config"]
    others["mlstack:models"].pop("ranking")

    result = promote(project, "ranking", "--version", "13")
    assert result.exit_code == 0, result.output
    after = yaml.safe_load(path.read_text())["config"]
    kubernetes = after["mlstack:models"].pop("ranking")["kubernetes"]
    assert kubernetes["modelArtifact"] == ARTIFACT
    assert kubernetes["modelArtifactVersionId"] == version_id
    assert kubernetes["modelArtifactSha256"] == hashlib.sha256(ARTIFACT_BODY).hexdigest()
    assert after == others
