"""``mlstack:sagemaker``: the SageMaker real-time endpoint the model is served from."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, model_validator

from infra.config.types import (
    FieldError,
    S3Prefix,
    SageMakerInstanceType,
    SageMakerName,
    Section,
    raise_all,
)


class EndpointMode(str, Enum):
    """How the SageMaker endpoint gets compute: ``provisioned`` instances (autoscaled) or
    ``serverless`` (memory and concurrency, for cheap stages; no data capture, no VPC)."""

    PROVISIONED = "provisioned"
    SERVERLESS = "serverless"


class ServerlessConfig(Section):
    """``mlstack:sagemaker.serverless``: capacity of a serverless endpoint."""

    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    """Memory per invocation environment: 1024-6144 MB in 1024 MB steps. Default 2048."""
    max_concurrency: Annotated[int, Field(ge=1, le=200)] = 5
    """Concurrent invocations before throttling (1-200). Default 5."""


class DataCaptureConfig(Section):
    """``mlstack:sagemaker.dataCapture``: requests and responses written to the artifacts
    bucket (KMS-encrypted) for drift monitoring and audits."""

    enabled: bool = True
    """Capture invocations. Default true (drift monitoring needs it)."""
    sampling_percent: Annotated[int, Field(ge=1, le=100)] = 100
    """Percent of invocations captured (1-100). Default 100."""
    s3_prefix: S3Prefix = "data-capture"
    """Key prefix under the artifacts bucket. Default data-capture."""


class AbVariantConfig(Section):
    """One extra production variant for an A/B test, serving another package version."""

    name: SageMakerName
    """Variant name; must stay the same across updates for blue/green deployments."""
    package_version: Annotated[int, Field(ge=1)]
    """Model package version this variant serves."""
    weight: Annotated[float, Field(gt=0, le=100)] = 1.0
    """Relative traffic weight against the primary variant's ``variantWeight``. Default 1."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of this variant (same type as the primary). Default 1."""


class SageMakerConfig(Section):
    """``mlstack:sagemaker``: the SageMaker real-time endpoint."""

    enabled: bool = True
    """Declare the SageMaker endpoint for this stack. Default true."""
    endpoint_name: SageMakerName | None = None
    """Endpoint name (stable: alarms and callers use it). Default ``mlstack-<stack>``."""
    mode: EndpointMode = EndpointMode.PROVISIONED
    """provisioned or serverless. Default provisioned."""
    instance_type: SageMakerInstanceType = "ml.m5.large"
    """Instance type of the production variant, e.g. ``ml.m5.large``. Default ml.m5.large."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Initial instance count of the production variant (1-100). Default 1."""
    variant_name: SageMakerName = "AllTraffic"
    """Name of the primary production variant. It must stay the same across updates, or
    SageMaker cannot run a blue/green or rolling deployment. Default AllTraffic."""
    variant_weight: Annotated[float, Field(gt=0, le=100)] = 1.0
    """Relative traffic weight of the primary variant (matters with abVariants). Default 1."""
    ab_variants: Annotated[list[AbVariantConfig], Field(max_length=9)] = []
    """Extra production variants for A/B tests (at most 9). Default none."""
    serverless: ServerlessConfig = ServerlessConfig()
    """Capacity when ``mode`` is serverless."""
    network_isolation: bool = True
    """No network access from the model container. Default true; serverless needs false."""
    data_capture: DataCaptureConfig = DataCaptureConfig()
    """Invocation capture for drift monitoring."""

    @model_validator(mode="after")
    def _check_variants(self, info: ValidationInfo) -> SageMakerConfig:
        errors: list[FieldError] = []
        names = [self.variant_name, *(v.name for v in self.ab_variants)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            errors.append(FieldError("abVariants", duplicates, "variant names must be unique"))
        # In production the stack reports "production runs provisioned instances"; what a
        # serverless endpoint would need on top would only send the user the wrong way.
        production = (info.context or {}).get("environment") == "production"
        if self.mode is EndpointMode.SERVERLESS and not production:
            if self.ab_variants:
                errors.append(
                    FieldError(
                        "abVariants",
                        [v.name for v in self.ab_variants],
                        "a serverless endpoint has one variant: remove abVariants",
                    )
                )
            if self.data_capture.enabled:
                errors.append(
                    FieldError(
                        "dataCapture.enabled",
                        True,
                        "serverless endpoints cannot capture data: set it to false",
                    )
                )
            if self.network_isolation:
                errors.append(
                    FieldError(
                        "networkIsolation",
                        True,
                        "serverless endpoints do not support network isolation: set it to false",
                    )
                )
        raise_all(errors)
        return self
