"""``mlstack:model``: which model the SageMaker endpoint serves."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from infra.config.batch import BatchConfig
from infra.config.explainability import ExplainabilityConfig
from infra.config.quality_monitoring import QualityMonitoringConfig
from infra.config.retraining import RetrainingConfig
from infra.config.types import EcrImageUri, FieldError, S3Uri, SageMakerName, Section, raise_all


class ShadowConfig(Section):
    """``mlstack:model.shadow``: another model version that receives a copy of live traffic.
    Its responses are logged, never returned to callers."""

    package_version: Annotated[int, Field(ge=1)]
    """Version of the shadow model package in the same group. Required."""
    sampling_percent: Annotated[int, Field(ge=1, le=100)] = 10
    """Percent of production requests copied to the shadow variant (1-100). Default 10."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of the shadow variant (same type as the production variant). Default 1."""


class ModelConfig(Section):
    """``mlstack:model``: which model the endpoint serves.

    Either an approved version of the registry's model package group (``packageVersion``,
    promotion is a one-line change) or a container image plus artifact (``imageUri`` and
    optional ``artifactUri``).
    """

    package_version: Annotated[int, Field(ge=1)] | None = None
    """Version of the model package to serve; its ARN is derived from the account, region,
    group and version. Default none (then imageUri is required)."""
    package_group_name: SageMakerName | None = None
    """Model package group of that version. Default none: registry.modelPackageGroupName."""
    image_uri: EcrImageUri | None = None
    """ECR image (tag or digest) of the serving container, instead of a model package.
    Default none."""
    artifact_uri: S3Uri | None = None
    """s3:// URI of the model artifact (model.tar.gz) for imageUri. Default none."""
    shadow: ShadowConfig | None = None
    """Shadow variant of another package version. Default none."""
    retraining: RetrainingConfig = RetrainingConfig()
    """Retraining pipeline and its triggers."""
    batch: BatchConfig = BatchConfig()
    """Scheduled batch inference."""
    quality_monitoring: QualityMonitoringConfig = QualityMonitoringConfig()
    """Model-quality monitoring against ground truth."""
    explainability: ExplainabilityConfig = ExplainabilityConfig()
    """Clarify feature-attribution drift monitoring."""

    @model_validator(mode="after")
    def _one_source(self) -> ModelConfig:
        errors: list[FieldError] = []
        if self.package_version is not None and self.image_uri is not None:
            errors.append(
                FieldError(
                    "imageUri", self.image_uri, "serve a packageVersion or an imageUri, not both"
                )
            )
        if self.artifact_uri is not None and self.image_uri is None:
            errors.append(
                FieldError("artifactUri", self.artifact_uri, "artifactUri goes with imageUri")
            )
        if self.shadow is not None and self.shadow.package_version == self.package_version:
            errors.append(
                FieldError(
                    "shadow.packageVersion",
                    self.shadow.package_version,
                    "a shadow serves another version than packageVersion",
                )
            )
        if self.batch.enabled and self.package_version is None:
            errors.append(
                FieldError(
                    "batch.enabled",
                    True,
                    "batch inference serves the approved version: set packageVersion",
                )
            )
        raise_all(errors)
        return self

    @property
    def has_source(self) -> bool:
        return self.package_version is not None or self.image_uri is not None

    @property
    def pipeline_kinds(self) -> tuple[str, ...]:
        """The SageMaker pipelines the model declares, retraining first: ``retraining`` and
        ``batch`` when enabled (each from its definition file,
        :func:`infra.config.retraining.definition_file`, and named ``<loop name>-<kind>``)."""
        return tuple(
            kind
            for kind, enabled in (
                ("retraining", self.retraining.enabled),
                ("batch", self.batch.enabled),
            )
            if enabled
        )
