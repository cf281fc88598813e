"""``mlstack:model.qualityMonitoring``: model quality against ground truth labels."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.types import (
    FieldError,
    MetricName,
    ProcessingInstanceType,
    S3Key,
    S3Prefix,
    Section,
    raise_all,
)


class ProblemType(str, Enum):
    """What the model predicts (Model Monitor's MonitoringProblemType)."""

    BINARY = "BinaryClassification"
    MULTICLASS = "MulticlassClassification"
    REGRESSION = "Regression"


LOWER_IS_BETTER = frozenset({"mae", "mse", "rmse"})
"""Model quality metrics that alarm when they rise; all others alarm when they fall."""


class QualityMonitoringConfig(Section):
    """``mlstack:model.qualityMonitoring``: an hourly Model Monitor model-quality job that
    merges captured predictions with ground-truth labels from ``groundTruthPrefix`` and an
    alarm on ``metric``."""

    enabled: bool = False
    """Run the model-quality schedule. Default false; needs sagemaker.dataCapture."""
    problem_type: ProblemType = ProblemType.BINARY
    """BinaryClassification, MulticlassClassification or Regression. Default
    BinaryClassification."""
    ground_truth_prefix: S3Prefix = "ground-truth"
    """Key prefix of the ground-truth labels (Model Monitor's merge format). Default
    ground-truth."""
    baseline_constraints_uri: S3Key | None = None
    """constraints.json of a model-quality baseline. Default none: alarm only."""
    inference_attribute: str | None = None
    """Field of the prediction in the captured output (JSON). Default none: the output is
    the prediction."""
    probability_attribute: str | None = None
    """Field of the predicted probability in the captured output. Default none."""
    probability_threshold: Annotated[float, Field(ge=0, le=1)] = 0.5
    """Probability at or above which a binary prediction is the positive class. Default
    0.5."""
    metric: MetricName = "auc"
    """Model Monitor metric the alarm watches (auc, f1, accuracy, precision, recall, rmse,
    mae, ...). Default auc."""
    threshold: Annotated[float, Field(ge=0)] = 0.8
    """Alarm below this value (above it for mae, mse and rmse). Default 0.8."""
    instance_type: ProcessingInstanceType = "ml.m5.large"
    """Instance type of the monitoring job. Default ml.m5.large."""
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 20
    """Encrypted scratch volume of the job, GB. Default 20."""
    max_runtime_seconds: Annotated[int, Field(ge=1, le=3600)] = 1800
    """Stop a job after this many seconds (hourly schedule: at most 3600). Default 1800."""

    @model_validator(mode="after")
    def _regression_metric(self) -> QualityMonitoringConfig:
        classification_only = {"auc", "f1", "accuracy", "precision", "recall"}
        if self.problem_type is ProblemType.REGRESSION and self.metric in classification_only:
            raise_all(
                [FieldError("metric", self.metric, "a regression metric: mae, mse, rmse or r2")]
            )
        return self

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER
