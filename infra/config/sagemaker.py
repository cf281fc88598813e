"""``mlstack:model``, ``mlstack:sagemaker`` and ``mlstack:autoscaling``: what the SageMaker
endpoint serves, on what, and how it scales."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra.config.base import FieldError, Section


class EndpointMode(str, Enum):
    """How the SageMaker endpoint gets compute: ``provisioned`` instances (autoscaled) or
    ``serverless`` (memory and concurrency, for cheap stages; no data capture, no VPC)."""

    PROVISIONED = "provisioned"
    SERVERLESS = "serverless"


INSTANCE_TYPE_PATTERN = r"^ml\.[a-z0-9]+\.(nano|micro|small|medium|large|xlarge|[0-9]+xlarge)$"


NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
"""SageMaker resource names: 1-63 alphanumerics and hyphens, no leading or trailing hyphen."""
IMAGE_URI_PATTERN = (
    r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+"
    r"(:[\w.-]+|@sha256:[0-9a-f]{64})$"
)
"""An ECR image with a tag or a digest."""
S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"
S3_KEY_PATTERN = r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+|[A-Za-z0-9!_.*'()/-]+)$"
"""An ``s3://`` URI, or a key relative to the stack's artifacts bucket."""


class ShadowConfig(Section):
    """``mlstack:model.shadow``: another model version that receives a copy of live traffic.
    Its responses are logged, never returned to callers."""

    package_version: Annotated[int, Field(ge=1)]
    """Version of the shadow model package in the same group."""
    sampling_percent: Annotated[int, Field(ge=1, le=100)] = 10
    """Percent of production requests copied to the shadow variant. Default 10."""
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
    group and version. Default none (then ``imageUri`` is required)."""
    package_group_name: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None
    """Model package group of that version. Default: ``mlstack:registry.modelPackageGroupName``."""
    image_uri: Annotated[str, Field(pattern=IMAGE_URI_PATTERN)] | None = None
    """ECR image (tag or digest) of the serving container, instead of a model package."""
    artifact_uri: Annotated[str, Field(pattern=S3_URI_PATTERN)] | None = None
    """``s3://`` URI of the model artifact (model.tar.gz) for ``imageUri``. Default none."""
    shadow: ShadowConfig | None = None
    """Optional shadow variant of another package version. Default none."""

    @model_validator(mode="after")
    def _one_source(self) -> ModelConfig:
        if self.package_version is not None and self.image_uri is not None:
            raise FieldError(
                "imageUri", self.image_uri, "serve a packageVersion or an imageUri, not both"
            )
        if self.artifact_uri is not None and self.image_uri is None:
            raise FieldError("artifactUri", self.artifact_uri, "artifactUri goes with imageUri")
        if self.shadow is not None and self.shadow.package_version == self.package_version:
            raise FieldError(
                "shadow.packageVersion",
                self.shadow.package_version,
                "a shadow serves another version than packageVersion",
            )
        return self

    @property
    def has_source(self) -> bool:
        return self.package_version is not None or self.image_uri is not None


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
    s3_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")] = (
        "data-capture"
    )
    """Key prefix under the artifacts bucket. Default data-capture."""


class AbVariantConfig(Section):
    """One extra production variant for an A/B test, serving another package version."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
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
    endpoint_name: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None
    """Endpoint name (stable: alarms and callers use it). Default ``mlstack-<stack>``."""
    mode: EndpointMode = EndpointMode.PROVISIONED
    """provisioned or serverless. Default provisioned."""
    instance_type: Annotated[str, Field(pattern=INSTANCE_TYPE_PATTERN)] = "ml.m5.large"
    """Instance type of the production variant, e.g. ``ml.m5.large``. Default ml.m5.large."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Initial instance count of the production variant (1-100). Default 1."""
    variant_name: Annotated[str, Field(pattern=NAME_PATTERN)] = "AllTraffic"
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
    def _check_variants(self) -> SageMakerConfig:
        names = [self.variant_name, *(v.name for v in self.ab_variants)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise FieldError("abVariants", duplicates, "variant names must be unique")
        if self.mode is EndpointMode.SERVERLESS:
            if self.ab_variants:
                raise FieldError(
                    "abVariants",
                    [v.name for v in self.ab_variants],
                    "a serverless endpoint has one variant: remove abVariants",
                )
            if self.data_capture.enabled:
                raise FieldError(
                    "dataCapture.enabled",
                    True,
                    "serverless endpoints cannot capture data: set it to false",
                )
            if self.network_isolation:
                raise FieldError(
                    "networkIsolation",
                    True,
                    "serverless endpoints do not support network isolation: set it to false",
                )
        return self


class AutoscalingConfig(Section):
    """``mlstack:autoscaling``: Application Auto Scaling of the primary variant's instances,
    target tracking on invocations per instance. Ignored by serverless endpoints."""

    enabled: bool = True
    """Scale the instance count with traffic. Default true."""
    min_instances: Annotated[int, Field(ge=1, le=100)] = 1
    """Fewest instances (1-100). Default 1; production needs at least 2."""
    max_instances: Annotated[int, Field(ge=1, le=100)] = 4
    """Most instances (1-100). Default 4."""
    target_invocations_per_instance: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    """Invocations per instance per minute that scaling keeps the fleet at. Default 100."""
    scale_in_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Seconds after a scale-in before the next one (0-3600). Default 300."""
    scale_out_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    """Seconds after a scale-out before the next one (0-3600). Default 60."""

    @model_validator(mode="after")
    def _min_below_max(self) -> AutoscalingConfig:
        if self.min_instances > self.max_instances:
            raise FieldError(
                "minInstances",
                self.min_instances,
                f"at most maxInstances ({self.max_instances})",
            )
        return self
