"""`mlstack smoke STACK MODEL` in a stack of many models, against a real moto server: the
model's endpoint comes from the stack file (a shared fleet's model: the fleet's endpoint and
its inference component)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_USAGE
from mlstack.models.stack_file import read_stack_model
from tests.mlstack.models.conftest import queue_endpoint_result, reset_moto

runner = CliRunner()
STACK = "platform"


def create_endpoint(sagemaker: Any, name: str) -> None:
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/mlstack-model",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InitialInstanceCount": 2,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)


def test_a_model_resolves_to_its_endpoint_or_inference_component(project: Path) -> None:
    churn = read_stack_model(project, STACK, "churn")
    assert (churn.endpoint_name, churn.inference_component) == ("mlstack-platform-churn", None)
    sentiment = read_stack_model(project, STACK, "sentiment")
    assert sentiment.endpoint_name == "mlstack-platform-small-models"
    assert sentiment.inference_component == "mlstack-platform-small-models-sentiment"
    assert (sentiment.group, sentiment.version) == ("sentiment", 8)


def test_smoke_checks_a_model_on_a_shared_fleet(
    project: Path, sagemaker: Any, aws_env: str
) -> None:
    reset_moto(aws_env)
    create_endpoint(sagemaker, "mlstack-platform-small-models")
    queue_endpoint_result(aws_env, {"predictions": [1]})
    result = runner.invoke(
        app, ["smoke", STACK, "sentiment", "--json", "--project-dir", str(project)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["endpoint"] == "mlstack-platform-small-models"


def test_smoke_of_a_stack_of_models_needs_the_model(project: Path, aws_env: str) -> None:
    result = runner.invoke(app, ["smoke", STACK, "--project-dir", str(project)])
    assert result.exit_code == EXIT_USAGE
    assert "name a model" in result.stderr
