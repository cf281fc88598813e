"""One promotion, both serving paths: after `mlstack model promote production --version 5`
the offline diff replaces the SageMaker model and updates the EKS Rollout to the package's
artifact (with its new S3 version id and sha256 pins) and image, and both paths serve v5
by the policy pack's count."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import boto3
import pytest

from mlstack.checks import evaluate
from mlstack.offline.harness import run_plan
from mlstack.offline.plan import Plan
from mlstack.operations import Operation, operations
from tests.mlstack.models.conftest import (
    ARTIFACT,
    ARTIFACT_BODY,
    DIGEST,
    REGION,
    add_versions,
    reset_moto,
)
from tests.mlstack.models.test_model_promote import STACK, promote

MODEL = "aws:sagemaker/model:Model"
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
VERSION_RULE = "serving-paths-same-model-version"
SHIPPED_GROUP = "churn-classifier"


@pytest.fixture
def shipped_group_v5(sagemaker: Any, aws_env: str) -> str:
    """The shipped stacks' group, in a freshly reset moto, with an approved version 5."""
    reset_moto(aws_env)
    sagemaker.create_model_package_group(ModelPackageGroupName=SHIPPED_GROUP)
    arns = add_versions(sagemaker, SHIPPED_GROUP, 5)
    sagemaker.update_model_package(ModelPackageArn=arns[-1], ModelApprovalStatus="Approved")
    return SHIPPED_GROUP


def test_promotion_changes_the_sagemaker_model_and_the_eks_workload(
    project: Path, shipped_group_v5: str, shipped_plans: dict[str, Plan]
) -> None:
    assert promote(project, 5).exit_code == 0
    after = run_plan(STACK, project)
    changes = {c.type: c for c in operations(shipped_plans[STACK].to_json(), after.to_json())}

    model = changes[MODEL]
    assert model.operation is Operation.REPLACE
    (package,) = [c for c in model.inputs if c.path == "primaryContainer.modelPackageName"]
    assert str(package.base).endswith(f"/{shipped_group_v5}/3")
    assert str(package.head).endswith(f"/{shipped_group_v5}/5")

    rollout = changes[ROLLOUT]
    assert rollout.operation is Operation.UPDATE
    heads = {c.path: c.head for c in rollout.inputs}
    assert heads["metadata.labels.mlstack.io/model-version"] == "5"
    assert any(str(v).endswith(f"@{DIGEST}") for v in heads.values()), heads
    values = {str(v) for v in heads.values()}
    bucket, _, key = ARTIFACT.removeprefix("s3://").partition("/")
    assert {bucket, key} <= values, heads
    # The init containers fetch and verify the new artifact by its new pins.
    pinned = boto3.client("s3", region_name=REGION).head_object(Bucket=bucket, Key=key)
    assert {pinned["VersionId"], hashlib.sha256(ARTIFACT_BODY).hexdigest()} <= values, heads

    assert [p for p in evaluate(after) if p.policy == VERSION_RULE] == []


def test_the_shipped_production_stack_serves_one_version_on_both_paths(
    shipped_plans: dict[str, Plan],
) -> None:
    plan = shipped_plans["production"]
    assert [p for p in evaluate(plan) if p.policy == VERSION_RULE] == []
    (rollout,) = plan.of_type(ROLLOUT)
    labels: dict[str, Any] = rollout.inputs["metadata"]["labels"]
    assert labels["mlstack.io/model-version"] == "3"
    assert (
        rollout.inputs["spec"]["template"]["metadata"]["labels"]["mlstack.io/model-version"] == "3"
    )


def test_a_hand_edited_eks_version_is_a_production_violation(plan_edited: Any) -> None:
    def eks_on_v2(config: dict[str, Any]) -> None:
        config["mlstack:kubernetes"]["modelVersion"] = 2

    plan = plan_edited(STACK, eks_on_v2)
    (violation,) = [p for p in evaluate(plan) if p.policy == VERSION_RULE]
    assert violation.level == "mandatory"
    assert "SageMaker serves model version 3 but EKS serves version 2" in violation.message
