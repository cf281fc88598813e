"""The loop's components one at a time: what they refuse, and what they declare for Args
the shipped stacks do not use (schedule-only retraining, an error metric, no VPC)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.components.batch import BatchInference, BatchInferenceArgs
from infra.components.errors import ResourceError
from infra.components.model_monitors import ModelMonitors, ModelMonitorsArgs, QualitySettings
from infra.components.retraining import Retraining, RetrainingArgs
from tests.infra.components.conftest import Declare

KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
BUCKET_ARN = "arn:aws:s3:::artifacts"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
DEFINITION = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": n, "Type": "String", "DefaultValue": ""}
            for n in ("ArtifactsBucket", "KmsKeyId", "ExecutionRoleArn", "ModelName")
        ],
        "Steps": [],
    }
)


def _monitors(**overrides: Any) -> ModelMonitorsArgs:
    values: dict[str, Any] = {
        "endpoint_name": "ep",
        "partition": "aws",
        "capture_prefix": "data-capture",
        "artifacts_bucket": "artifacts",
        "artifacts_bucket_arn": BUCKET_ARN,
        "kms_key_arn": KEY,
        "topic_arn": TOPIC,
        "alarm_prefix": "m-test",
        "quality": QualitySettings("Regression", "labels", "rmse", 3.0, lower_is_better=True),
    }
    values.update(overrides)
    return ModelMonitorsArgs(**values)


def test_monitors_refuse_nothing_to_monitor(declare: Declare) -> None:
    with pytest.raises(ResourceError, match="quality, explainability or both"):
        declare(lambda: ModelMonitors("m", _monitors(quality=None)))


def test_monitors_refuse_subnets_without_security_groups(declare: Declare) -> None:
    with pytest.raises(ResourceError, match="go together"):
        declare(lambda: ModelMonitors("m", _monitors(subnet_ids=["subnet-1"])))


def test_error_metric_alarms_when_it_rises(declare: Declare) -> None:
    declared = declare(lambda: ModelMonitors("m", _monitors()))
    alarm = declared.one("aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert (alarm["metricName"], alarm["comparisonOperator"]) == ("rmse", "GreaterThanThreshold")
    job = declared.one("aws-native:sagemaker:ModelQualityJobDefinition").inputs
    assert job["modelQualityAppSpecification"]["problemType"] == "Regression"
    assert "vpcConfig" not in job["networkConfig"]
    assert not declared.of_type("aws-native:sagemaker:ModelExplainabilityJobDefinition")


def _retraining(**overrides: Any) -> RetrainingArgs:
    values: dict[str, Any] = {
        "model": "m",
        "definition": DEFINITION,
        "partition": "aws",
        "model_package_group_name": "m",
        "artifacts_bucket": "artifacts",
        "artifacts_bucket_arn": BUCKET_ARN,
        "kms_key_arn": KEY,
        "repository_arns": ["arn:aws:ecr:us-east-1:123456789012:repository/m"],
        "input_prefix": "raw",
        "code_prefix": "code",
        "topic_arn": TOPIC,
        "schedule_expression": "rate(7 days)",
        "schedule_window_minutes": 0,
    }
    values.update(overrides)
    return RetrainingArgs(**values)


def test_schedule_only_retraining_has_no_drift_rule(declare: Declare) -> None:
    declared = declare(lambda: Retraining("r", _retraining()))
    rules = [r.name for r in declared.of_type("aws:cloudwatch/eventRule:EventRule")]
    assert rules == ["r-approval"]
    schedule = declared.one("aws:scheduler/schedule:Schedule").inputs
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    roles = sorted(r.name for r in declared.of_type("aws:iam/role:Role"))
    assert roles == ["r-execution-role", "r-schedule-role"]


def test_execution_role_registers_into_its_group_only(declare: Declare) -> None:
    declared = declare(lambda: Retraining("r", _retraining()))
    (policy,) = [
        r for r in declared.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name == "r-execution-role-policy"
    ]  # fmt: skip
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    register = statements["RegisterIntoThisGroup"]["Resource"]
    assert register == [
        "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/m",
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/m/*",
    ]
    assert statements["WriteRunOutputs"]["Resource"] == f"{BUCKET_ARN}/pipelines/m/*"


def test_batch_refuses_subnets_without_security_groups(declare: Declare) -> None:
    args = BatchInferenceArgs(
        model="m",
        definition=DEFINITION,
        partition="aws",
        model_package_group_name="m",
        package_version=2,
        artifacts_bucket="artifacts",
        artifacts_bucket_arn=BUCKET_ARN,
        kms_key_arn=KEY,
        repository_arns=[],
        artifact_prefixes=["models/m"],
        input_prefix="in",
        output_prefix="out",
        schedule_expression="cron(0 2 * * ? *)",
        topic_arn=TOPIC,
        alarm_name="m-batch-failed",
        subnet_ids=["subnet-1"],
    )
    with pytest.raises(ResourceError, match="go together"):
        declare(lambda: BatchInference("b", args))
