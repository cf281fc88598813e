"""``mlstack:model.batch``: scheduled batch inference with the approved model version."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra.config.types import (
    FieldError,
    S3Prefix,
    ScheduleExpression,
    Section,
    TransformInstanceType,
    raise_all,
)


class BatchConfig(Section):
    """``mlstack:model.batch``: a batch transform over an input prefix into an output
    prefix of the artifacts bucket, on a schedule, with the same approved model package
    version as the online path (``model.packageVersion``), KMS-encrypted and network
    isolated. A failed run raises an alarm.
    """

    enabled: bool = False
    """Declare the batch pipeline and its schedule. Default false."""
    schedule: ScheduleExpression = "cron(0 2 * * ? *)"
    """When a batch run starts (EventBridge Scheduler, UTC). Default daily 02:00."""
    input_prefix: S3Prefix = "batch/input"
    """Key prefix of the records to score. Default batch/input."""
    output_prefix: S3Prefix = "batch/output"
    """Key prefix the predictions are written to. Default batch/output."""
    instance_type: TransformInstanceType = "ml.m5.large"
    """Instance type of the transform job. Default ml.m5.large."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Transform instances (1-100). Default 1."""
    content_type: Literal["text/csv", "application/json", "application/jsonlines"] = "text/csv"
    """MIME type of the input records. Default text/csv."""
    max_payload_mb: Annotated[int, Field(ge=1, le=100)] = 6
    """Largest mini-batch sent to the container, MB (1-100). Default 6."""
    max_runtime_seconds: Annotated[int, Field(ge=60, le=172800)] = 3600
    """Per-record-batch time limit of the container, seconds (60-172800). Default 3600."""

    @model_validator(mode="after")
    def _prefixes(self) -> BatchConfig:
        if self.enabled and self.input_prefix == self.output_prefix:
            raise_all(
                [
                    FieldError(
                        "outputPrefix",
                        self.output_prefix,
                        "write predictions under another prefix than inputPrefix",
                    )
                ]
            )
        return self
