"""The production stack's loop resources: what each declares, how they connect, and that
every trigger's role may start its pipeline and nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlstack.offline.plan import Plan, PlannedResource

MODEL = "churn-classifier"


@pytest.fixture(scope="module")
def plan(shipped_plans: dict[str, Plan]) -> Plan:
    return shipped_plans["production"]


def _named(plan: Plan, name: str) -> PlannedResource:
    (found,) = [r for r in plan.resources if r.name == name]
    return found


def _policy(plan: Plan, role: str) -> list[dict[str, Any]]:
    return json.loads(_named(plan, f"{role}-policy").inputs["policy"])["Statement"]


def test_retraining_pipeline_has_its_parameters_filled(plan: Plan) -> None:
    pipeline = _named(plan, f"{MODEL}-retraining-pipeline")
    assert pipeline.inputs["pipelineName"] == f"{MODEL}-retraining"
    definition = json.loads(pipeline.inputs["pipelineDefinition"])
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert defaults["ArtifactsBucket"].startswith("registry-artifacts")
    assert defaults["KmsKeyId"].startswith("arn:aws:kms:us-east-1:")
    assert (
        defaults["ExecutionRoleArn"].endswith(
            _named(plan, f"{MODEL}-retraining-execution-role").inputs.get("name", "")
            or "execution-role"
        )
        or ":role/" in defaults["ExecutionRoleArn"]
    )


@pytest.mark.parametrize("trigger", ["retraining-schedule", "retraining-drift", "batch-schedule"])
def test_each_trigger_role_starts_one_pipeline_only(plan: Plan, trigger: str) -> None:
    (statement,) = _policy(plan, f"{MODEL}-{trigger}-role")
    assert statement["Action"] == "sagemaker:StartPipelineExecution"
    pipeline = "batch" if trigger.startswith("batch") else "retraining"
    assert statement["Resource"].endswith(f":pipeline/{MODEL}-{pipeline}")
    trust = json.loads(_named(plan, f"{MODEL}-{trigger}-role").inputs["assumeRolePolicy"])
    service = trust["Statement"][0]["Principal"]["Service"]
    assert service == ("events.amazonaws.com" if "drift" in trigger else "scheduler.amazonaws.com")


def test_schedule_targets_the_pipeline_with_its_reason(plan: Plan) -> None:
    schedule = _named(plan, f"{MODEL}-retraining-schedule").inputs
    assert schedule["scheduleExpression"] == "cron(0 3 ? * SUN *)"
    assert schedule["flexibleTimeWindow"] == {"mode": "FLEXIBLE", "maximumWindowInMinutes": 60}
    target = schedule["target"]
    assert target["arn"].endswith(f":pipeline/{MODEL}-retraining")
    assert target["sagemakerPipelineParameters"]["pipelineParameters"] == [
        {"name": "TriggerReason", "value": "schedule"}
    ]


def test_drift_rule_fires_on_ok_to_alarm_of_the_drift_alarm(plan: Plan) -> None:
    pattern = json.loads(_named(plan, f"{MODEL}-retraining-drift").inputs["eventPattern"])
    assert pattern["resources"] == [
        _named(plan, "drift-alarm").inputs.get("arn", pattern["resources"][0])
    ]
    assert pattern["resources"][0].endswith(":alarm:mlstack-production-data-drift")
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}, "previousState": {"value": ["OK"]}}
    target = _named(plan, f"{MODEL}-retraining-drift-start").inputs
    assert target["sagemakerPipelineTarget"]["pipelineParameterLists"] == [
        {"name": "TriggerReason", "value": "drift-alarm"}
    ]


def test_approval_notice_reaches_the_alert_topic(plan: Plan) -> None:
    pattern = json.loads(_named(plan, f"{MODEL}-retraining-approval").inputs["eventPattern"])
    assert pattern["detail"]["ModelApprovalStatus"] == ["PendingManualApproval"]
    assert pattern["detail"]["ModelPackageGroupName"] == [MODEL]
    target = _named(plan, f"{MODEL}-retraining-approval-notice").inputs
    assert target["arn"].endswith(":monitoring-alerts-610e373")
    template = target["inputTransformer"]["inputTemplate"]
    assert template == '"<group> v<version> awaiting approval: <metric> <value> vs <approved>"'
    topic_policy = json.loads(_named(plan, "monitoring-alerts-policy").inputs["policy"])
    publishers = topic_policy["Statement"][0]["Principal"]["Service"]
    assert "events.amazonaws.com" in publishers


def test_batch_serves_the_approved_version_isolated_and_encrypted(plan: Plan) -> None:
    model = _named(plan, f"{MODEL}-batch-model").inputs
    assert model["enableNetworkIsolation"] is True
    assert model["primaryContainer"]["modelPackageName"].endswith(f":model-package/{MODEL}/3")
    assert model["vpcConfig"]["subnets"]
    definition = json.loads(_named(plan, f"{MODEL}-batch-pipeline").inputs["pipelineDefinition"])
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert defaults["ModelName"].startswith(f"{MODEL}-batch-model")
    assert defaults["KmsKeyId"].startswith("arn:aws:kms:")
    alarm = _named(plan, f"{MODEL}-batch-failed").inputs
    assert (alarm["namespace"], alarm["metricName"]) == (
        "AWS/Sagemaker/ModelBuildingPipeline",
        "ExecutionFailed",
    )
    assert alarm["dimensions"] == {"PipelineName": f"{MODEL}-batch"}


def test_monitors_are_aws_native_with_schedules_and_alarms(plan: Plan) -> None:
    quality = _named(plan, f"{MODEL}-monitors-quality-job")
    assert quality.type == "aws-native:sagemaker:ModelQualityJobDefinition"
    job_input = quality.inputs["modelQualityJobInput"]
    assert job_input["groundTruthS3Input"]["s3Uri"].endswith("/ground-truth/churn-classifier")
    assert job_input["endpointInput"]["probabilityAttribute"] == "probability"
    explain = _named(plan, f"{MODEL}-monitors-explainability-job")
    spec = explain.inputs["modelExplainabilityAppSpecification"]
    assert spec["imageUri"].startswith("205585389593.dkr.ecr.us-east-1.amazonaws.com/")
    assert spec["configUri"].endswith("/clarify/analysis_config.json")
    kinds = {
        _named(plan, f"{MODEL}-monitors-{k}-schedule").inputs["monitoringScheduleConfig"][
            "monitoringType"
        ]
        for k in ("quality", "explainability")
    }
    assert kinds == {"ModelQuality", "ModelExplainability"}
    quality_alarm = _named(plan, f"{MODEL}-monitors-quality-alarm").inputs
    assert (quality_alarm["comparisonOperator"], quality_alarm["threshold"]) == (
        "LessThanThreshold",
        0.8,
    )
    drift = _named(plan, f"{MODEL}-monitors-attribution-alarm").inputs
    assert drift["threshold"] == 50
    statements = _policy(plan, f"{MODEL}-monitors-role")
    metrics = next(s for s in statements if s["Sid"] == "PublishDriftMetrics")
    assert metrics["Condition"]["StringLike"]["cloudwatch:namespace"] == "aws/sagemaker/*"


def test_staging_declares_no_loop(shipped_plans: dict[str, Plan]) -> None:
    names = {r.name for r in shipped_plans["staging"].resources}
    assert not {n for n in names if n.startswith(f"{MODEL}-")}


def test_a_missing_definition_names_the_fix(project_copy: Any) -> None:
    from typer.testing import CliRunner

    from mlstack.cli.app import app

    (project_copy / "stacks/pipelines/production-churn-classifier.json").unlink()
    result = CliRunner().invoke(app, ["plan", "production", "--project-dir", str(project_copy)])
    assert result.exit_code == 2, result.output
    assert (
        "mlstack:model.retraining: stacks/pipelines/production-churn-classifier.json is missing"
    ) in result.output
    assert "make pipelines" in result.output
