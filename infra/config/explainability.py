"""``mlstack:model.explainability``: SageMaker Clarify feature-attribution drift."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from infra.config.types import (
    FeatureName,
    FieldError,
    ProcessingInstanceType,
    S3Key,
    Section,
    raise_all,
)


class ExplainabilityConfig(Section):
    """``mlstack:model.explainability``: an hourly Clarify model-explainability job on the
    endpoint's captured data (KernelSHAP against a SHAP baseline) and an alarm when a watched
    feature's global SHAP value moves away from its baseline value."""

    enabled: bool = False
    """Run the explainability schedule. Default false; needs sagemaker.dataCapture."""
    analysis_config_uri: S3Key | None = None
    """Clarify analysis_config.json (headers, SHAP baseline, label): s3:// URI or key in
    the artifacts bucket. Required when enabled; default none."""
    baseline_constraints_uri: S3Key | None = None
    """constraints.json of the SHAP baselining job. Default none."""
    watched_features: Annotated[dict[FeatureName, float], Field(max_length=10)] = {}
    """Features to alarm on, each with its baseline global SHAP value (above 0; 1-10 when
    enabled). Default none."""
    drift_percent: Annotated[float, Field(gt=0, le=1000)] = 50
    """Alarm when a watched feature's global SHAP value differs from its baseline by more
    than this percent. Default 50."""
    instance_type: ProcessingInstanceType = "ml.m5.xlarge"
    """Instance type of the Clarify job. Default ml.m5.xlarge."""
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 20
    """Encrypted scratch volume of the job, GB. Default 20."""
    max_runtime_seconds: Annotated[int, Field(ge=1, le=3600)] = 1800
    """Stop a job after this many seconds (hourly schedule: at most 3600). Default 1800."""

    @model_validator(mode="after")
    def _complete(self) -> ExplainabilityConfig:
        errors: list[FieldError] = []
        if self.enabled and self.analysis_config_uri is None:
            errors.append(
                FieldError("analysisConfigUri", None, "Clarify needs its analysis config: set it")
            )
        if self.enabled and not self.watched_features:
            errors.append(
                FieldError(
                    "watchedFeatures",
                    {},
                    "name 1-10 features with their baseline SHAP values: without them "
                    "attribution drift is measured but never alarms",
                )
            )
        errors += [
            FieldError(f"watchedFeatures.{name}", value, "a baseline SHAP value above 0")
            for name, value in self.watched_features.items()
            if value <= 0
        ]
        raise_all(errors)
        return self
