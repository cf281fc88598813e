"""The retraining pipeline's gate step (mlstack/pipelines/code/gate.py) against a moto
server: a run within the interval of another is refused; failed runs never block."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import boto3

from mlstack.pipelines.code.gate import blocking_runs, main
from mlstack.project import PROJECT_ROOT

DEFINITION = PROJECT_ROOT / "stacks/pipelines/production-churn-classifier.json"


def _pipeline(name: str) -> Any:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=DEFINITION.read_text(),
        RoleArn="arn:aws:iam::123456789012:role/pipeline",
        ClientRequestToken=uuid.uuid4().hex,
    )
    return sagemaker


def _gate(sagemaker: Any, name: str, own: str, out: Path) -> dict:
    return main(
        ["--pipeline-name", name, "--execution-arn", own, "--min-interval-hours", "24",
         "--trigger-reason", "drift-alarm"],
        client=sagemaker,
        output=out,
    )  # fmt: skip


def test_first_run_passes_and_second_is_refused(aws_env: str, tmp_path: Path) -> None:
    name = f"gate-{uuid.uuid4().hex[:8]}"
    sagemaker = _pipeline(name)
    first = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    report = _gate(sagemaker, name, first, tmp_path / "first")
    assert report == {"allowed": True, "blocking": [], "trigger": "drift-alarm"}
    assert json.loads((tmp_path / "first" / "gate.json").read_text())["allowed"] is True

    second = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    refused = _gate(sagemaker, name, second, tmp_path / "second")
    assert refused["allowed"] is False
    assert refused["blocking"] == [first]


def test_failed_and_old_runs_do_not_block() -> None:
    now = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)
    runs = [
        {"PipelineExecutionArn": "own", "PipelineExecutionStatus": "Executing", "StartTime": now},
        {
            "PipelineExecutionArn": "refused",
            "PipelineExecutionStatus": "Failed",
            "StartTime": now - dt.timedelta(hours=1),
        },
        {
            "PipelineExecutionArn": "old",
            "PipelineExecutionStatus": "Succeeded",
            "StartTime": now - dt.timedelta(hours=30),
        },
        {
            "PipelineExecutionArn": "recent",
            "PipelineExecutionStatus": "Succeeded",
            "StartTime": now - dt.timedelta(hours=2),
        },
    ]
    assert blocking_runs(runs, "own", now, 24) == ["recent"]
    assert blocking_runs(runs[:3], "own", now, 24) == []
