"""The retraining pipeline's first step: is this run allowed to train?

Run by the ``Gate`` processing step (``python3 gate.py --pipeline-name ... --execution-arn
... --min-interval-hours N --trigger-reason R``); uploaded with the other step scripts to the
model's ``codePrefix`` by the release workflow. Writes ``<output>/gate.json``:
``{"allowed": bool, "blocking": [arn, ...], "trigger": reason}``; the pipeline's
``IntervalElapsed`` condition ends the run when ``allowed`` is false.

A run is blocked when another execution of the same pipeline started less than
``--min-interval-hours`` ago and is still executing or succeeded. Runs that failed (the
gate's own refusals among them) do not block: a refused trigger never postpones the next
allowed one, and a failed training may be retried at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

BLOCKING_STATUSES = frozenset({"Executing", "Stopping", "Succeeded"})
OUTPUT = Path("/opt/ml/processing/gate")


def blocking_runs(
    executions: list[dict[str, Any]], own_arn: str, now: dt.datetime, min_interval_hours: float
) -> list[str]:
    """ARNs of other executions that started within the interval and still count."""
    since = now - dt.timedelta(hours=min_interval_hours)
    return [
        run["PipelineExecutionArn"]
        for run in executions
        if run["PipelineExecutionArn"] != own_arn
        and run.get("PipelineExecutionStatus") in BLOCKING_STATUSES
        and run["StartTime"] >= since
    ]


def main(argv: list[str] | None = None, client: Any = None, output: Path = OUTPUT) -> dict:
    parser = argparse.ArgumentParser(prog="gate.py")
    parser.add_argument("--pipeline-name", required=True)
    parser.add_argument("--execution-arn", required=True)
    parser.add_argument("--min-interval-hours", type=float, required=True)
    parser.add_argument("--trigger-reason", default="manual")
    args = parser.parse_args(argv)
    if client is None:
        import boto3

        client = boto3.client("sagemaker")
    now = dt.datetime.now(dt.timezone.utc)
    executions: list[dict[str, Any]] = []
    pages = client.get_paginator("list_pipeline_executions").paginate(
        PipelineName=args.pipeline_name,
        CreatedAfter=now - dt.timedelta(hours=args.min_interval_hours),
        SortBy="CreationTime",
        SortOrder="Descending",
    )
    for page in pages:
        executions += page["PipelineExecutionSummaries"]
    blocking = blocking_runs(executions, args.execution_arn, now, args.min_interval_hours)
    report = {"allowed": not blocking, "blocking": blocking, "trigger": args.trigger_reason}
    output.mkdir(parents=True, exist_ok=True)
    (output / "gate.json").write_text(json.dumps(report))
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
