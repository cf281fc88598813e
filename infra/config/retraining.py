"""``mlstack:model.retraining``: the model's retraining pipeline and what starts it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.errors import STACK_CONFIG_DIR
from infra.config.types import (
    EcrImageUri,
    FieldError,
    MetricName,
    ProcessingInstanceType,
    S3Prefix,
    ScheduleExpression,
    Section,
    TrainingInstanceType,
    raise_all,
)

PIPELINES_DIR = Path(STACK_CONFIG_DIR) / "pipelines"
"""Generated pipeline definitions, relative to the project root."""


def definition_file(stack: str, model: str, kind: str = "retraining") -> Path:
    """``stacks/pipelines/<stack>-<model>.json`` (retraining) or ``...-<kind>.json``."""
    suffix = "" if kind == "retraining" else f"-{kind}"
    return PIPELINES_DIR / f"{stack}-{model}{suffix}.json"


HYPERPARAMETER_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,256}")
MIN_INTERVAL_LIMIT_HOURS = 720


def schedule_interval_hours(expression: str) -> float | None:
    """Hours between two runs of a ``rate(...)`` expression; None for ``cron(...)``."""
    match = re.fullmatch(r"rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)", expression)
    if match is None:
        return None
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    return count * {"minute": 1 / 60, "hour": 1, "day": 24}[unit]


class RetrainingConfig(Section):
    """``mlstack:model.retraining``: a SageMaker Pipeline that processes data, trains,
    evaluates and registers a candidate as PendingManualApproval; started on a schedule and
    when the model's drift alarm fires, never twice within ``minIntervalHours``.

    The pipeline definition is generated from this section by ``make pipelines`` into
    ``stacks/pipelines/<stack>-<model>.json``; the scripts it runs are read from
    ``codePrefix`` in the artifacts bucket (uploaded by the deploy workflow).
    """

    enabled: bool = False
    """Declare the pipeline and its triggers. Default false."""
    processing_image: EcrImageUri | None = None
    """ECR image of the data processing, evaluation and interval-gate steps (Python 3.10 or
    newer with boto3, and joblib with the model's library for evaluate.py). Required when
    enabled; default none."""
    training_image: EcrImageUri | None = None
    """ECR image of the training step. Required when enabled; default none."""
    serving_image: EcrImageUri | None = None
    """ECR image registered with the candidate for serving. Default none: trainingImage."""
    processing_instance_type: ProcessingInstanceType = "ml.m5.xlarge"
    """Instance type of the processing and evaluation steps. Default ml.m5.xlarge."""
    training_instance_type: TrainingInstanceType = "ml.m5.xlarge"
    """Instance type of the training step. Default ml.m5.xlarge."""
    training_instance_count: Annotated[int, Field(ge=1, le=20)] = 1
    """Training instances (1-20). Default 1."""
    training_max_runtime_seconds: Annotated[int, Field(ge=60, le=432000)] = 14400
    """Stop training after this many seconds (60-432000, five days). Default 14400."""
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 30
    """Encrypted scratch volume of every step, GB. Default 30."""
    hyperparameters: Annotated[dict[str, str], Field(max_length=100)] = {}
    """Training hyperparameters, names to string values (at most 100). Default none."""
    input_prefix: S3Prefix = "datasets/raw"
    """Key prefix of the raw training data in the artifacts bucket. Default datasets/raw."""
    code_prefix: S3Prefix = "pipelines/code"
    """Key prefix of the step scripts (gate.py, preprocess.py, evaluate.py) in the artifacts
    bucket, each at <codePrefix>/<sha256>/<script>, uploaded by the deploy workflow. Default
    pipelines/code."""
    metric: MetricName = "auc"
    """Evaluation metric in evaluation.json (metrics.<metric>.value), higher is better.
    Default auc."""
    threshold: Annotated[float, Field(ge=0)] = 0.8
    """A candidate below this metric value is not registered. Default 0.8."""
    approved_metric: Annotated[float, Field(ge=0)] | None = None
    """The approved version's metric; a candidate must reach it too. Default none: only
    the threshold applies."""
    schedule: ScheduleExpression = "cron(0 3 ? * SUN *)"
    """When the pipeline runs (EventBridge Scheduler, UTC). Default Sundays 03:00."""
    schedule_window_minutes: Annotated[int, Field(ge=0, le=1440)] = 60
    """Flexible window of the schedule, minutes (0 runs exactly on time). Default 60."""
    drift_trigger: bool = True
    """Start the pipeline when the model's data-drift alarm goes to ALARM. Default true;
    needs monitoring.drift."""
    min_interval_hours: Annotated[int, Field(ge=1, le=MIN_INTERVAL_LIMIT_HOURS)] = 24
    """A run started less than this many hours after another stops at its first step, so a
    flapping alarm cannot start a pipeline storm (1-720). Default 24."""

    @model_validator(mode="after")
    def _complete(self) -> RetrainingConfig:
        errors: list[FieldError] = []
        if self.enabled:
            errors += [
                FieldError(key, None, "the pipeline needs it: an ECR image with tag or digest")
                for key, value in (
                    ("processingImage", self.processing_image),
                    ("trainingImage", self.training_image),
                )
                if value is None
            ]
        errors += [
            FieldError(f"hyperparameters.{name}", name, "1-256 letters, digits, _ . : -")
            for name in self.hyperparameters
            if not HYPERPARAMETER_NAME.fullmatch(name)
        ]
        hours = schedule_interval_hours(self.schedule)
        if hours is not None and hours < self.min_interval_hours:
            errors.append(
                FieldError(
                    "schedule",
                    self.schedule,
                    f"runs more often than minIntervalHours ({self.min_interval_hours}): "
                    "every other run would stop at the gate",
                )
            )
        raise_all(errors)
        return self
