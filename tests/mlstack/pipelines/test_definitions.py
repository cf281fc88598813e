"""The committed pipeline definitions: current with the stack files, and shaped as a
retraining run must be. Generated once per module (the sagemaker SDK is slow to import)."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from mlstack.pipelines.definitions import GeneratedPipeline, stack_pipelines
from mlstack.project import PROJECT_ROOT


@pytest.fixture(scope="module")
def generated() -> list[GeneratedPipeline]:
    """Every stack's definitions, generated with every network connection refused: building
    them must not reach AWS (or anything else)."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access while generating pipeline definitions")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        pipelines = stack_pipelines(PROJECT_ROOT, "production")
        pipelines += stack_pipelines(PROJECT_ROOT, "staging")
    assert attempts == [], f"generating the definitions tried to connect to {attempts}"
    return pipelines


def _steps(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for step in steps:
        found[step["Name"]] = step
        if step["Type"] == "Condition":
            found.update(_steps(step["Arguments"]["IfSteps"]))
            found.update(_steps(step["Arguments"]["ElseSteps"]))
    return found


def test_committed_definitions_are_current(generated: list[GeneratedPipeline]) -> None:
    assert {g.path.name for g in generated} == {
        "production-churn-classifier.json",
        "production-churn-classifier-batch.json",
    }
    for pipeline in generated:
        path = PROJECT_ROOT / pipeline.path
        assert path.exists(), f"{pipeline.path} is missing: make pipelines"
        assert path.read_text() == pipeline.text(), f"{pipeline.path} is stale: make pipelines"


def test_retraining_has_every_step_and_registers_for_approval() -> None:
    document = json.loads(
        (PROJECT_ROOT / "stacks/pipelines/production-churn-classifier.json").read_text()
    )
    steps = _steps(document["Steps"])
    kinds = {name: step["Type"] for name, step in steps.items()}
    assert kinds["Gate"] == kinds["Preprocess"] == kinds["Evaluate"] == "Processing"
    assert kinds["Train"] == "Training"
    assert kinds["MetricReached"] == "Condition"
    assert kinds["Register"] == "RegisterModel"
    register = steps["Register"]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["ModelPackageGroupName"] == "churn-classifier"
    assert register["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    container = register["InferenceSpecification"]["Containers"][0]
    assert container["Image"].endswith("churn-classifier-serving:1.4.0")
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert steps["Evaluate"]["PropertyFiles"][0]["PropertyFileName"] == "EvaluationReport"
    conditions = steps["MetricReached"]["Arguments"]["Conditions"]
    assert [c["RightValue"] for c in conditions] == [
        {"Get": "Parameters.Threshold"},
        {"Get": "Parameters.ApprovedMetric"},
    ]
    defaults = {p["Name"]: p.get("DefaultValue") for p in document["Parameters"]}
    assert defaults["Threshold"] == 0.85 and defaults["ApprovedMetric"] == 0.89
    train = steps["Train"]["Arguments"]
    assert train["HyperParameters"]["max_depth"] == "6"
    assert train["EnableNetworkIsolation"] is True
    assert train["OutputDataConfig"]["KmsKeyId"] == {"Get": "Parameters.KmsKeyId"}
    assert "mlstack-pipeline-execution-role" not in json.dumps(document)


def test_batch_transform_is_encrypted() -> None:
    document = json.loads(
        (PROJECT_ROOT / "stacks/pipelines/production-churn-classifier-batch.json").read_text()
    )
    (transform,) = document["Steps"]
    arguments = transform["Arguments"]
    assert arguments["ModelName"] == {"Get": "Parameters.ModelName"}
    assert arguments["TransformOutput"]["KmsKeyId"] == {"Get": "Parameters.KmsKeyId"}
    assert arguments["TransformResources"]["VolumeKmsKeyId"] == {"Get": "Parameters.KmsKeyId"}
