"""`mlstack model promote STACK MODEL` in a stack of many models (moto on loopback): one line
of one model changes, the diff of the two plans changes that model's resources only, and the
reviewer's diff shows that model alone and counts the others as unchanged."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from typer.testing import CliRunner

from mlstack.attribution import group_by_model, models_by_urn
from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_USAGE
from mlstack.diff import diff_plans, render_markdown
from mlstack.offline.harness import run_plan
from mlstack.operations import Operation, operations, resource_key
from tests.conftest import edit_stack_file, make_project_copy
from tests.mlstack.models.conftest import (
    ARTIFACT,
    ARTIFACT_BODY,
    REGION,
    point_at_moto,
    unique,
    upload_artifact,
)
from tests.mlstack.models.test_model_promote import add_versions

runner = CliRunner()
STACK, MODEL = "platform", "sentiment"


def promote(project: Path, *args: str) -> Any:
    return runner.invoke(app, ["model", "promote", STACK, *args, "--project-dir", str(project)])


@dataclass(frozen=True)
class Promotion:
    """``mlstack model promote platform sentiment --version 9`` on a project copy: the stack
    file and the plan before and after."""

    group: str
    before_text: str
    after_text: str
    before: dict[str, Any]
    after: dict[str, Any]


@pytest.fixture(scope="module")
def promotion(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Promotion]:
    """Planned once for the module: the promotion's plans are what the tests below read."""
    tmp = tmp_path_factory.mktemp("promote-many")
    with pytest.MonkeyPatch.context() as monkeypatch:
        point_at_moto(moto_url, monkeypatch, tmp)
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        group = unique("sentiment")
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
        project = make_project_copy(tmp / "project")

        def use_group(config: dict[str, Any]) -> None:
            config["mlstack:models"][MODEL]["packageGroupName"] = group

        path = edit_stack_file(project, STACK, use_group)
        arns = add_versions(sagemaker, group, 9)
        sagemaker.update_model_package(ModelPackageArn=arns[-1], ModelApprovalStatus="Approved")
        before_text = path.read_text()
        before = run_plan(STACK, project).to_json()
        result = promote(project, MODEL, "--version", "9")
        assert result.exit_code == 0, result.output
        yield Promotion(
            group, before_text, path.read_text(), before, run_plan(STACK, project).to_json()
        )


def test_promoting_one_model_changes_only_its_resources(promotion: Promotion) -> None:
    changed_lines = [
        (a, b)
        for a, b in zip(
            promotion.before_text.splitlines(), promotion.after_text.splitlines(), strict=True
        )
        if a != b
    ]
    assert changed_lines == [("      packageVersion: 8", "      packageVersion: 9")]

    before, after = promotion.before, promotion.after
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


def test_the_diff_shows_the_promoted_model_alone(promotion: Promotion) -> None:
    diff = diff_plans(promotion.before, promotion.after, "main", "head")
    review = diff.review
    assert review is not None and review.grouped
    others = sorted(set(promotion.after["config"]["models"]) - {MODEL})
    assert [m.name for m in review.models] == [MODEL]
    assert sorted(review.unchanged_models) == others
    assert review.platform is not None and not review.platform.changed

    text = render_markdown(diff, "mlstack diff: platform")
    version = f"{promotion.group} v8 -> {promotion.group} v9"
    assert f"**Model `{MODEL}`**: 0 to create" in text
    assert f"| SageMaker | **model** | **{version}** |" in text
    assert f"**3 models unchanged**: {', '.join(review.unchanged_models)}" in text
    assert "**Platform**: unchanged (tier production, enforcement mandatory)" in text
    for other in others:
        assert f"Model `{other}`" not in text, other
    # The resources are listed under the model they belong to.
    resources = text[text.index(f"#### Model `{MODEL}`") :]
    assert "sentiment-inference-model" in resources and "#### Platform" not in resources

    summary = diff.to_json()["summary"]
    assert [m["name"] for m in summary["models"]] == [MODEL]
    assert sorted(summary["unchangedModels"]) == others
    assert {r["model"] for r in diff.to_json()["resources"]} == {MODEL}


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
