"""Drift: a data-quality job definition on the captured data and its hourly schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.offline.plan import Plan
from tests.conftest import edit_stack_file
from tests.infra.components.delivery_helpers import ENDPOINT, alarms_by_name, only

STACKS = ("staging", "production")
JOB = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"


@pytest.mark.parametrize("stack", STACKS)
def test_schedule_runs_the_job_definition_hourly(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    # The drift schedule; a model's quality and explainability monitors have their own.
    (schedule,) = [r for r in plan.of_type(SCHEDULE) if r.name == "drift-schedule"]
    config = schedule.inputs["monitoringScheduleConfig"]
    assert config["monitoringJobDefinitionName"] == plan.outputs["dataQualityJobDefinitionName"]
    assert config["monitoringType"] == "DataQuality"
    assert config["scheduleConfig"]["scheduleExpression"] == "cron(0 * ? * * *)"


@pytest.mark.parametrize("stack", STACKS)
def test_job_reads_the_captured_data_of_the_endpoint(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    job = only(plan, JOB).inputs
    endpoint = only(plan, ENDPOINT).inputs
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == endpoint["name"]
    capture = only(plan, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs[
        "dataCaptureConfig"
    ]
    assert capture["enableCapture"] is True
    assert capture["destinationS3Uri"] == plan.outputs["dataCaptureUri"]
    policy = next(p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if "drift" in p.name)
    bucket_prefix = plan.outputs["dataCaptureUri"].removeprefix("s3://")
    assert f"arn:aws:s3:::{bucket_prefix}/*" in policy.inputs["policy"]


@pytest.mark.parametrize("stack", STACKS)
def test_job_is_encrypted_and_uses_the_prebuilt_analyzer(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    job = only(plan, JOB).inputs
    key = plan.outputs["kmsKeyArn"]
    assert job["dataQualityJobOutputConfig"]["kmsKeyId"] == key
    assert job["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == key
    assert job["networkConfig"]["enableInterContainerTrafficEncryption"] is True
    image = job["dataQualityAppSpecification"]["imageUri"]
    assert image.startswith("156813124566.dkr.ecr.us-east-1.amazonaws.com/")
    assert "sagemaker-model-monitor-analyzer" in image
    baseline = job["dataQualityBaselineConfig"]
    bucket = plan.outputs["artifactsBucket"]
    assert baseline["statisticsResource"]["s3Uri"].startswith(f"s3://{bucket}/baselines/")
    assert baseline["constraintsResource"]["s3Uri"].endswith("constraints.json")


@pytest.mark.parametrize("stack", STACKS)
def test_drift_alarm_watches_the_schedule(shipped_plans: dict[str, Plan], stack: str) -> None:
    plan = shipped_plans[stack]
    alarm = alarms_by_name(plan)[f"mlstack-{stack}-data-drift"]
    dims = [q["metric"]["dimensions"] for q in alarm["metricQueries"] if q.get("metric")]
    assert dims
    assert all(d["ScheduleName"] == plan.outputs["monitoringScheduleName"] for d in dims)
    assert alarm["alarmActions"] == [plan.outputs["alertTopicArn"]]


def test_drift_without_data_capture_exits_two(project_copy: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["mlstack:sagemaker"]["dataCapture"]["enabled"] = False

    edit_stack_file(project_copy, "staging", edit)
    result = CliRunner().invoke(app, ["plan", "staging", "--project-dir", str(project_copy)])
    assert result.exit_code == 2
    assert "mlstack:monitoring.drift.enabled" in result.stderr
    assert "dataCapture" in result.stderr
