"""``mlstack pipeline start`` and ``status`` against a moto server on loopback (moto 5.2
implements CreatePipeline, StartPipelineExecution and ListPipelineExecutions)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_REMOTE, EXIT_USAGE
from mlstack.project import PROJECT_ROOT
from tests.conftest import edit_stack_file

runner = CliRunner()
MODEL = "churn-classifier"
ROLE = "arn:aws:iam::123456789012:role/pipeline"


@pytest.fixture
def production_pipelines(aws_env: str) -> Any:
    """The production stack's two pipelines, created from the committed definitions (moto
    keeps them for the session, so each is created once)."""
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    existing = {p["PipelineName"] for p in sagemaker.list_pipelines()["PipelineSummaries"]}
    for suffix, kind in (("", "retraining"), ("-batch", "batch")):
        name = f"{MODEL}-{kind}"
        if name in existing:
            continue
        definition = (
            PROJECT_ROOT / f"stacks/pipelines/production-{MODEL}{suffix}.json"
        ).read_text()
        sagemaker.create_pipeline(
            PipelineName=name,
            PipelineDefinition=definition,
            RoleArn=ROLE,
            ClientRequestToken=uuid.uuid4().hex,
        )
    return sagemaker


def _cli(*args: str) -> Any:
    return runner.invoke(app, ["pipeline", *args, "--project-dir", str(PROJECT_ROOT)])


def test_start_runs_the_retraining_pipeline_with_the_reason(production_pipelines: Any) -> None:
    result = _cli("start", "production", MODEL, "--reason", "manual-test")
    assert result.exit_code == 0, result.output
    assert "started churn-classifier-retraining" in result.output
    arn = result.output.split()[-1]
    described = production_pipelines.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionDisplayName"].startswith("manual-test-")


def test_status_lists_both_pipelines_newest_first(production_pipelines: Any) -> None:
    assert _cli("start", "production", MODEL).exit_code == 0
    result = _cli("status", "production", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {f"{MODEL}-retraining", f"{MODEL}-batch"}
    assert report[f"{MODEL}-retraining"], "the run just started is listed"
    text = _cli("status", "production", MODEL)
    assert "churn-classifier-retraining:" in text.output


def test_unknown_model_and_disabled_retraining_are_usage_errors(aws_env: str) -> None:
    unknown = _cli("start", "production", "no-such-model")
    assert unknown.exit_code == EXIT_USAGE
    assert "has no model 'no-such-model'" in unknown.output
    staging = _cli("start", "staging", MODEL)
    assert staging.exit_code == EXIT_USAGE
    assert "mlstack:model.retraining.enabled is false" in staging.output
    ranking = _cli("start", "platform", "ranking")
    assert ranking.exit_code == EXIT_USAGE
    assert "mlstack:models.ranking.retraining.enabled is false" in ranking.output


def test_a_model_of_a_stack_of_models_starts_its_own_pipeline(aws_env: str) -> None:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_pipeline(
        PipelineName="churn-retraining",
        PipelineDefinition=(PROJECT_ROOT / "stacks/pipelines/platform-churn.json").read_text(),
        RoleArn=ROLE,
        ClientRequestToken=uuid.uuid4().hex,
    )
    result = _cli("start", "platform", "churn")
    assert result.exit_code == 0, result.output
    assert "started churn-retraining" in result.output


def test_a_pipeline_aws_does_not_have_is_a_remote_error(aws_env: str, project_copy: Any) -> None:
    def retrain_a_ghost(config: dict[str, Any]) -> None:
        config["mlstack:registry"]["modelPackageGroupName"] = "ghost-classifier"
        config["mlstack:model"]["retraining"] = {
            "enabled": True,
            "processingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/p:1",
            "trainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1",
            "driftTrigger": False,
        }

    edit_stack_file(project_copy, "staging", retrain_a_ghost)
    result = runner.invoke(
        app,
        ["pipeline", "start", "staging", "ghost-classifier", "--project-dir", str(project_copy)],
    )
    assert result.exit_code == EXIT_REMOTE, result.output
    assert "could not start ghost-classifier-retraining" in result.output
