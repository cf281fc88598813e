"""Typed, validated stack configuration: the only module that reads ``pulumi.Config``.

Every key the kit understands is declared here as a frozen pydantic model. Raw stack config
(``stacks/Pulumi.<stack>.yaml``) is validated before any resource is declared: unknown keys
(with a "did you mean" hint), wrong types, values outside AWS limits and cross-field rules all
raise :class:`ConfigError`, whose message names the stack file, the key path, the bad value
and what is allowed, in at most three lines.

Keys in YAML are camelCase (``stepPercent``); the Python attributes are snake_case.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

PROJECT = "mlstack"
"""The project name and config namespace: keys without a namespace belong to it."""

STACK_CONFIG_DIR = "stacks"


class ConfigError(pulumi.RunError):
    """A stack config value is missing or wrong. The message is short and user-facing.

    A ``RunError``, so that ``pulumi up`` prints the message without a traceback."""


class Environment(str, Enum):
    """How strict a stack is. ``production`` turns on the production minimums."""

    STAGING = "staging"
    PRODUCTION = "production"


class RolloutStrategy(str, Enum):
    """How a new model version replaces the old one (see ``infra/rollout.py``)."""

    ALL_AT_ONCE = "all-at-once"
    CANARY = "canary"
    LINEAR = "linear"
    ROLLING = "rolling"


class RollbackMetric(str, Enum):
    """A metric whose alarm rolls a deployment back. Thresholds: latency in milliseconds,
    error rates in percent of invocations."""

    LATENCY_P99 = "latency-p99"
    LATENCY_AVERAGE = "latency-average"
    ERRORS_5XX = "errors-5xx"
    ERRORS_4XX = "errors-4xx"
    MODEL_ERRORS = "model-errors"


class PolicyEnforcement(str, Enum):
    """How the policy pack treats a violated rule on this stack."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"


class EndpointMode(str, Enum):
    """How the SageMaker endpoint gets compute: ``provisioned`` instances (autoscaled) or
    ``serverless`` (memory and concurrency, for cheap stages; no data capture, no VPC)."""

    PROVISIONED = "provisioned"
    SERVERLESS = "serverless"


class _Section(BaseModel):
    """Base for every config object: frozen, camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=False,
    )


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


class RegistryConfig(_Section):
    """``mlstack:registry``: the image repository, model registry and artifacts bucket."""

    model_package_group_name: Annotated[
        str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    ] = "mlstack-models"
    """SageMaker model package group (the model registry), 1-63 alphanumerics and hyphens.
    Default mlstack-models."""

    keep_tagged_images: Annotated[int, Field(ge=1, le=1000)] = 50
    """Release images kept in ECR; older ones are expired by the lifecycle policy. Default 50."""
    untagged_image_expiry_days: Annotated[int, Field(ge=1, le=365)] = 7
    """Days before untagged images (build leftovers) are expired. Default 7."""
    noncurrent_artifact_expiry_days: Annotated[int, Field(ge=1, le=3650)] = 90
    """Days an overwritten model artifact version is kept in S3. Default 90."""
    kms_deletion_window_days: Annotated[int, Field(ge=7, le=30)] = 30
    """Waiting period before a deleted KMS key is destroyed (AWS allows 7-30). Default 30."""


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


class ShadowConfig(_Section):
    """``mlstack:model.shadow``: another model version that receives a copy of live traffic.
    Its responses are logged, never returned to callers."""

    package_version: Annotated[int, Field(ge=1)]
    """Version of the shadow model package in the same group."""
    sampling_percent: Annotated[int, Field(ge=1, le=100)] = 10
    """Percent of production requests copied to the shadow variant. Default 10."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of the shadow variant (same type as the production variant). Default 1."""


class ModelConfig(_Section):
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
            raise _FieldError(
                "imageUri", self.image_uri, "serve a packageVersion or an imageUri, not both"
            )
        if self.artifact_uri is not None and self.image_uri is None:
            raise _FieldError("artifactUri", self.artifact_uri, "artifactUri goes with imageUri")
        if self.shadow is not None and self.shadow.package_version == self.package_version:
            raise _FieldError(
                "shadow.packageVersion",
                self.shadow.package_version,
                "a shadow serves another version than packageVersion",
            )
        return self

    @property
    def has_source(self) -> bool:
        return self.package_version is not None or self.image_uri is not None


class ServerlessConfig(_Section):
    """``mlstack:sagemaker.serverless``: capacity of a serverless endpoint."""

    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    """Memory per invocation environment: 1024-6144 MB in 1024 MB steps. Default 2048."""
    max_concurrency: Annotated[int, Field(ge=1, le=200)] = 5
    """Concurrent invocations before throttling (1-200). Default 5."""


class DataCaptureConfig(_Section):
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


class AbVariantConfig(_Section):
    """One extra production variant for an A/B test, serving another package version."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    """Variant name; must stay the same across updates for blue/green deployments."""
    package_version: Annotated[int, Field(ge=1)]
    """Model package version this variant serves."""
    weight: Annotated[float, Field(gt=0, le=100)] = 1.0
    """Relative traffic weight against the primary variant's ``variantWeight``. Default 1."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of this variant (same type as the primary). Default 1."""


class SageMakerConfig(_Section):
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
            raise _FieldError("abVariants", duplicates, "variant names must be unique")
        if self.mode is EndpointMode.SERVERLESS:
            if self.ab_variants:
                raise _FieldError(
                    "abVariants",
                    [v.name for v in self.ab_variants],
                    "a serverless endpoint has one variant: remove abVariants",
                )
            if self.data_capture.enabled:
                raise _FieldError(
                    "dataCapture.enabled",
                    True,
                    "serverless endpoints cannot capture data: set it to false",
                )
            if self.network_isolation:
                raise _FieldError(
                    "networkIsolation",
                    True,
                    "serverless endpoints do not support network isolation: set it to false",
                )
        return self


class RollbackAlarm(_Section):
    """One alarm that rolls a deployment back, watching the new fleet."""

    metric: RollbackMetric
    """Which metric the alarm watches."""
    threshold: Annotated[float, Field(gt=0)]
    """Milliseconds for latency metrics, percent of invocations for error rates."""
    evaluation_periods: Annotated[int, Field(ge=1, le=10)] = 2
    """Consecutive one-minute periods over the threshold before rolling back. Default 2."""

    @model_validator(mode="after")
    def _rates_are_percentages(self) -> RollbackAlarm:
        is_rate = self.metric not in (RollbackMetric.LATENCY_P99, RollbackMetric.LATENCY_AVERAGE)
        if is_rate and self.threshold > 100:
            raise ValueError(
                f"threshold {self.threshold:g} is a rate in percent of invocations: use 0-100"
            )
        return self


class RolloutPolicy(_Section):
    """``mlstack:rollout``: how a new model version goes live, compiled by ``infra/rollout.py``."""

    strategy: RolloutStrategy = RolloutStrategy.ALL_AT_ONCE
    """all-at-once, canary, linear or rolling. Default all-at-once."""
    step_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    """Canary size (1-50) or linear step (10-50), in percent of the fleet, required for both;
    rolling batch size (5-50, default 25)."""
    bake_seconds: Annotated[int, Field(ge=0, le=3600)] = 600
    """Wait between traffic shifts while alarms are watched (0-3600 s). Default 600."""
    termination_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Old fleet kept after full shift, for a quick rollback (0-3600 s). Default 300."""
    maximum_execution_timeout_seconds: Annotated[int, Field(ge=600, le=28800)] = 3600
    """Upper bound of the whole deployment (600-28800 s). Default 3600."""
    rollback_alarms: Annotated[list[RollbackAlarm], Field(max_length=10)] = []
    """Alarms that roll the deployment back (at most 10). Required for canary and linear."""

    @model_validator(mode="after")
    def _check_strategy_limits(self) -> RolloutPolicy:
        step = self.step_percent
        if self.strategy is RolloutStrategy.CANARY:
            if step is None or not 1 <= step <= 50:
                raise _FieldError("stepPercent", step, "a canary is 1-50 percent of the fleet")
        elif self.strategy is RolloutStrategy.LINEAR:
            if step is None or not 10 <= step <= 50:
                raise _FieldError("stepPercent", step, "a linear step is 10-50 percent")
        elif self.strategy is RolloutStrategy.ROLLING:
            if step is not None and not 5 <= step <= 50:
                raise _FieldError("stepPercent", step, "a rolling batch is 5-50 percent")
        elif step is not None and self.strategy is RolloutStrategy.ALL_AT_ONCE:
            raise _FieldError("stepPercent", step, "all-at-once shifts 100%: remove stepPercent")
        needs_alarms = self.strategy in (RolloutStrategy.CANARY, RolloutStrategy.LINEAR)
        if needs_alarms and not self.rollback_alarms:
            raise _FieldError(
                "rollbackAlarms",
                [],
                f"a {self.strategy.value} rollout needs 1-10 rollback alarms to stop a bad version",
            )
        metrics = [alarm.metric for alarm in self.rollback_alarms]
        duplicates = sorted({m.value for m in metrics if metrics.count(m) > 1})
        if duplicates:
            raise _FieldError("rollbackAlarms", duplicates, "each metric may appear once")
        return self


class AutoscalingConfig(_Section):
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
            raise _FieldError(
                "minInstances",
                self.min_instances,
                f"at most maxInstances ({self.max_instances})",
            )
        return self


LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""Retention periods CloudWatch Logs accepts, in days."""


class AlarmSpec(_Section):
    """One CloudWatch alarm's threshold and evaluation window."""

    threshold: Annotated[float, Field(ge=0)]
    """In the alarm's unit (see :class:`AlarmThresholds`)."""
    period_seconds: Annotated[int, Field(ge=10, le=86400)] = 60
    """Length of one evaluation period: 10, 30 or a multiple of 60 seconds. Default 60."""
    evaluation_periods: Annotated[int, Field(ge=1, le=100)] = 5
    """Periods looked at (1-100). Default 5."""
    datapoints_to_alarm: Annotated[int, Field(ge=1, le=100)] | None = None
    """Breaching periods among them that fire the alarm. Default: all of them."""

    @model_validator(mode="after")
    def _check_window(self) -> AlarmSpec:
        if self.period_seconds not in (10, 30) and self.period_seconds % 60:
            raise _FieldError(
                "periodSeconds", self.period_seconds, "10, 30 or a multiple of 60 seconds"
            )
        if self.period_seconds * self.evaluation_periods > 86400:
            raise _FieldError(
                "evaluationPeriods",
                self.evaluation_periods,
                "periodSeconds x evaluationPeriods must not exceed one day (86400 s)",
            )
        if self.datapoints_to_alarm is not None and (
            self.datapoints_to_alarm > self.evaluation_periods
        ):
            raise _FieldError(
                "datapointsToAlarm",
                self.datapoints_to_alarm,
                f"at most evaluationPeriods ({self.evaluation_periods})",
            )
        return self


def _spec(
    threshold: float,
    period: int = 60,
    periods: int = 5,
    datapoints: int | None = 3,
    alias: str | None = None,
) -> Any:
    return Field(
        alias=alias,
        default_factory=lambda: AlarmSpec(
            threshold=threshold,
            period_seconds=period,
            evaluation_periods=periods,
            datapoints_to_alarm=datapoints,
        ),
    )


def _alias(model: type[BaseModel], name: str) -> str:
    return model.model_fields[name].alias or to_camel(name)


class AlarmThresholds(_Section):
    """``mlstack:monitoring.alarms``: one alarm per endpoint variant for each of these.

    Units: latencies in milliseconds; errors in percent of invocations; utilisation in percent
    of the instance; noTraffic in invocations (fires below it).
    """

    latency_p99: AlarmSpec = _spec(1000)
    """p99 ModelLatency, ms. Default 1000 ms, 3 of 5 one-minute periods."""
    latency_average: AlarmSpec = _spec(300)
    """Average ModelLatency, ms. Default 300 ms, 3 of 5 one-minute periods."""
    overhead_latency: AlarmSpec = _spec(100)
    """Average OverheadLatency (SageMaker's own time), ms. Default 100 ms, 3 of 5 minutes."""
    errors_5xx: AlarmSpec = _spec(1, alias="errors5xx")
    """Invocation5XXErrors / Invocations, percent. Default 1%, 3 of 5 one-minute periods."""
    errors_4xx: AlarmSpec = _spec(5, 300, 3, 3, alias="errors4xx")
    """Invocation4XXErrors / Invocations, percent. Default 5%, 3 five-minute periods."""
    model_errors: AlarmSpec = _spec(1)
    """InvocationModelErrors / Invocations, percent. Default 1%, 3 of 5 one-minute periods."""
    cpu: AlarmSpec = _spec(80, 300, 3, 3)
    """CPUUtilization normalised to the instance's vCPUs, percent. Default 80%, 15 minutes."""
    memory: AlarmSpec = _spec(85, 300, 3, 3)
    """MemoryUtilization, percent. Default 85%, 3 five-minute periods."""
    disk: AlarmSpec = _spec(85, 300, 3, 3)
    """DiskUtilization, percent. Default 85%, 3 five-minute periods."""
    no_traffic: AlarmSpec = _spec(1, 300, 3, 3)
    """Invocations below this over each period (production only). Default 1, 15 minutes."""

    @model_validator(mode="after")
    def _percentages(self) -> AlarmThresholds:
        for name in ("errors_5xx", "errors_4xx", "model_errors", "cpu", "memory", "disk"):
            spec: AlarmSpec = getattr(self, name)
            if spec.threshold > 100:
                raise _FieldError(
                    f"{_alias(type(self), name)}.threshold",
                    spec.threshold,
                    "a percentage: use 0-100",
                )
        for name in ("latency_p99", "latency_average", "overhead_latency", "no_traffic"):
            spec = getattr(self, name)
            if spec.threshold <= 0:
                raise _FieldError(
                    f"{_alias(type(self), name)}.threshold", spec.threshold, "above 0"
                )
        return self


class DriftConfig(_Section):
    """``mlstack:monitoring.drift``: hourly Model Monitor data-quality job on captured data."""

    enabled: bool = False
    """Run the data-quality schedule. Default false; needs data capture and baselines."""
    baseline_statistics_uri: Annotated[str, Field(pattern=S3_KEY_PATTERN)] | None = None
    """statistics.json of the baseline: ``s3://`` URI or key in the artifacts bucket."""
    baseline_constraints_uri: Annotated[str, Field(pattern=S3_KEY_PATTERN)] | None = None
    """constraints.json of the baseline: ``s3://`` URI or key in the artifacts bucket."""
    instance_type: Annotated[str, Field(pattern=INSTANCE_TYPE_PATTERN)] = "ml.m5.large"
    """Instance type of the monitoring job. Default ml.m5.large."""
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 20
    """Encrypted scratch volume of the job, GB. Default 20."""
    max_runtime_seconds: Annotated[int, Field(ge=1, le=3600)] = 1800
    """Stop a job after this many seconds (an hourly schedule allows at most 3600). Default
    1800."""
    watched_features: Annotated[list[str], Field(max_length=10)] = []
    """Features whose ``feature_baseline_drift_<name>`` metric the drift alarm watches
    (at most 10). Default none: the alarm is skipped, the schedule still reports."""
    drift_threshold: Annotated[float, Field(gt=0, le=1)] = 0.1
    """Baseline distance above which a watched feature alarms (0-1). Default 0.1."""

    @model_validator(mode="after")
    def _baselines(self) -> DriftConfig:
        if self.enabled:
            for key in ("baseline_statistics_uri", "baseline_constraints_uri"):
                if getattr(self, key) is None:
                    raise _FieldError(
                        to_camel(key), None, "drift monitoring compares against a baseline: set it"
                    )
        return self


class MonitoringConfig(_Section):
    """``mlstack:monitoring``: alarms to people, the dashboard, drift and log retention."""

    email_subscriptions: Annotated[
        list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]], Field(max_length=20)
    ] = []
    """Email addresses subscribed to the alarm topic (each confirms once). Default none."""
    https_subscriptions: Annotated[
        list[Annotated[str, Field(pattern=r"^https://[^\s]+$")]], Field(max_length=20)
    ] = []
    """HTTPS endpoints (pager, chat webhooks) subscribed to the alarm topic. Default none."""
    log_retention_days: int = 90
    """Days the kit's CloudWatch log groups keep events (a CloudWatch value). Default 90."""
    alarms: AlarmThresholds = AlarmThresholds()
    """Per-variant alarm thresholds."""
    drift: DriftConfig = DriftConfig()
    """Data-quality monitoring."""

    @model_validator(mode="after")
    def _retention(self) -> MonitoringConfig:
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise _FieldError(
                "logRetentionDays",
                self.log_retention_days,
                "a CloudWatch retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
            )
        return self


# ---------------------------------------------------------------------------------------------
# Network, EKS and Kubernetes serving (the EKS path)
# ---------------------------------------------------------------------------------------------


class NatMode(str, Enum):
    """Outbound internet access from the private subnets.

    ``none``: no NAT gateway, AWS services only through VPC endpoints (most private);
    ``single``: one NAT gateway shared by every AZ (cheap, one AZ is a single point of
    failure); ``per-az``: one NAT gateway per AZ (highly available)."""

    NONE = "none"
    SINGLE = "single"
    PER_AZ = "per-az"


class EndpointAccess(str, Enum):
    """Who can reach the EKS API server: ``private`` (from inside the VPC only) or
    ``private-and-public`` (also from the internet, limited to ``publicAccessCidrs``)."""

    PRIVATE = "private"
    PRIVATE_AND_PUBLIC = "private-and-public"


class CapacityType(str, Enum):
    """EC2 purchase option of a managed node group."""

    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


KUBERNETES_VERSIONS = ("1.33", "1.34")
"""EKS Kubernetes versions the kit supports: each has pinned add-on versions in
``infra/components/cluster.py`` and a schema in the installed kubernetes-validate."""

EC2_INSTANCE_TYPE_PATTERN = r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|metal|[0-9]*xlarge)$"
CIDR_PATTERN = r"^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$"
IAM_PRINCIPAL_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@/_-]+$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$"
"""A Kubernetes object name usable as a label value and in derived names (1-40 chars)."""
QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"
"""A Kubernetes resource quantity such as ``500m``, ``2`` or ``1Gi``."""
IMAGE_DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
IMAGE_REFERENCE_PATTERN = (
    r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
)
"""A container image with a registry host and a tag, e.g.
``public.ecr.aws/aws-cli/aws-cli:2.27.9``."""


def _check_cidr(path: str, value: str, *, private: bool) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise _FieldError(path, value, "an IPv4 CIDR block with host bits zero") from None
    if private and not network.is_private:
        raise _FieldError(path, value, "a private (RFC 1918) range, e.g. 10.0.0.0/16")
    return network


class NetworkConfig(_Section):
    """``mlstack:network``: the VPC both serving targets run in (SageMaker in VPC mode, EKS)."""

    enabled: bool = False
    """Declare the VPC; SageMaker models then run in its private subnets. Default false."""
    cidr: Annotated[str, Field(pattern=CIDR_PATTERN)] = "10.0.0.0/16"
    """VPC IPv4 range, a private /16-/20. Default 10.0.0.0/16."""
    availability_zones: Annotated[int, Field(ge=2, le=3)] = 2
    """AZs with a private (and, with NAT, a public) subnet each: 2 or 3. Default 2;
    production needs 3."""
    nat: NatMode = NatMode.SINGLE
    """none, single or per-az NAT gateways. Default single; production needs none or per-az."""
    flow_log_retention_days: int = 365
    """Days the VPC flow log group keeps records (a CloudWatch value). Default 365."""

    @model_validator(mode="after")
    def _check_network(self) -> NetworkConfig:
        network = _check_cidr("cidr", self.cidr, private=True)
        if not 16 <= network.prefixlen <= 20:
            raise _FieldError("cidr", self.cidr, "a VPC range from /16 to /20")
        if self.flow_log_retention_days not in LOG_RETENTION_DAYS:
            raise _FieldError(
                "flowLogRetentionDays",
                self.flow_log_retention_days,
                "a CloudWatch retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
            )
        return self


class NodeGroupConfig(_Section):
    """``mlstack:eks.nodeGroup``: the managed node group the serving pods run on."""

    instance_types: Annotated[
        list[Annotated[str, Field(pattern=EC2_INSTANCE_TYPE_PATTERN)]],
        Field(min_length=1, max_length=10),
    ] = ["m6i.large"]
    """EC2 instance types (1-10), e.g. ``m6i.large``. Default [m6i.large]."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """ON_DEMAND or SPOT. Default ON_DEMAND."""
    min_size: Annotated[int, Field(ge=1, le=450)] = 2
    """Fewest nodes. Default 2."""
    desired_size: Annotated[int, Field(ge=1, le=450)] = 2
    """Nodes at creation (the group keeps later changes by autoscalers). Default 2."""
    max_size: Annotated[int, Field(ge=1, le=450)] = 4
    """Most nodes. Default 4."""
    disk_size_gib: Annotated[int, Field(ge=20, le=16384)] = 50
    """Encrypted gp3 root volume per node, in GiB. Default 50."""

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise _FieldError(
                "desiredSize",
                self.desired_size,
                f"minSize <= desiredSize <= maxSize (got {self.min_size}/{self.max_size})",
            )
        return self


class EksConfig(_Section):
    """``mlstack:eks``: the EKS cluster (private API, encrypted secrets, full audit logs)."""

    enabled: bool = False
    """Declare the EKS cluster and the Kubernetes serving path. Needs ``mlstack:network``.
    Default false."""
    kubernetes_version: str = "1.33"
    """Kubernetes minor version, one of ``KUBERNETES_VERSIONS``. Default 1.33."""
    endpoint_access: EndpointAccess = EndpointAccess.PRIVATE
    """private or private-and-public API endpoint. Default private."""
    public_access_cidrs: Annotated[
        list[Annotated[str, Field(pattern=CIDR_PATTERN)]], Field(max_length=40)
    ] = []
    """IPv4 ranges allowed to the public endpoint; required with private-and-public, never
    0.0.0.0/0. Default none."""
    admin_principal_arns: Annotated[
        list[Annotated[str, Field(pattern=IAM_PRINCIPAL_ARN_PATTERN)]], Field(max_length=20)
    ] = []
    """IAM roles or users given cluster-admin through access entries (1-20 when enabled).
    The identity that runs ``pulumi up`` must be one of them. Default none."""
    control_plane_log_retention_days: int = 90
    """Days the control-plane log group keeps events (a CloudWatch value). Default 90."""
    node_group: NodeGroupConfig = NodeGroupConfig()
    """The managed node group."""

    @model_validator(mode="after")
    def _check_eks(self) -> EksConfig:
        if self.kubernetes_version not in KUBERNETES_VERSIONS:
            raise _FieldError(
                "kubernetesVersion",
                self.kubernetes_version,
                "a supported EKS version: " + ", ".join(KUBERNETES_VERSIONS),
            )
        public = self.endpoint_access is EndpointAccess.PRIVATE_AND_PUBLIC
        if public and not self.public_access_cidrs:
            raise _FieldError(
                "publicAccessCidrs", [], "a public endpoint needs the CIDRs allowed to reach it"
            )
        if not public and self.public_access_cidrs:
            raise _FieldError(
                "publicAccessCidrs",
                self.public_access_cidrs,
                "only with endpointAccess: private-and-public",
            )
        for index, cidr in enumerate(self.public_access_cidrs):
            network = _check_cidr(f"publicAccessCidrs[{index}]", cidr, private=False)
            if network.prefixlen == 0:
                raise _FieldError(
                    f"publicAccessCidrs[{index}]", cidr, "not the whole internet: name your ranges"
                )
        if self.control_plane_log_retention_days not in LOG_RETENTION_DAYS:
            raise _FieldError(
                "controlPlaneLogRetentionDays",
                self.control_plane_log_retention_days,
                "a CloudWatch retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
            )
        return self


class KubernetesServingConfig(_Section):
    """``mlstack:kubernetes``: the model server on EKS (used when ``mlstack:eks`` is enabled)."""

    namespace: Annotated[str, Field(pattern=DNS_LABEL_PATTERN)] = "mlstack-serving"
    """Namespace of the serving objects. Default mlstack-serving."""
    app_name: Annotated[str, Field(pattern=DNS_LABEL_PATTERN)] = "model-server"
    """Name of the workload, its services and policies. Default model-server."""
    image_tag: Annotated[str, Field(pattern=IMAGE_TAG_PATTERN)] | None = None
    """Tag of the serving image in the stack's ECR repository. Default none."""
    image_digest: Annotated[str, Field(pattern=IMAGE_DIGEST_PATTERN)] | None = None
    """``sha256:`` digest of the serving image; pins it (wins over the tag). Production
    requires it. Default none."""
    model_artifact: Annotated[str, Field(pattern=S3_KEY_PATTERN)] = "models/model.tar.gz"
    """Model artifact: a key in the artifacts bucket or an ``s3://`` URI. A ``.tar.gz`` is
    unpacked into /opt/ml/model; a prefix ending in ``/`` is copied as is. The pod's IAM role
    may read this and nothing else. Default models/model.tar.gz."""
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    """Fewest pods (HorizontalPodAutoscaler minimum). Default 2."""
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 6
    """Most pods (HorizontalPodAutoscaler maximum). Default 6."""
    target_cpu_utilization_percent: Annotated[int, Field(ge=10, le=100)] = 70
    """Average CPU use, in percent of the request, that autoscaling aims for. Default 70."""
    cpu_request: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "500m"
    """CPU reserved per pod. Default 500m."""
    cpu_limit: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "1"
    """CPU cap per pod. Default 1."""
    memory_request: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "1Gi"
    """Memory reserved per pod. Default 1Gi."""
    memory_limit: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "1Gi"
    """Memory cap per pod (OOM-kill above). Default 1Gi."""
    model_volume_size: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "2Gi"
    """Size limit of the in-pod volume the model is copied to. Default 2Gi."""
    workers: Annotated[int, Field(ge=1, le=64)] | None = None
    """Server worker processes (``SAGEMAKER_MODEL_SERVER_WORKERS``). Default none: the
    server uses the CPUs its limit allows."""
    drain_seconds: Annotated[int, Field(ge=0, le=120)] = 10
    """Pause before SIGTERM, so load balancers and kube-proxy stop sending new requests,
    in seconds. Default 10."""
    graceful_timeout_seconds: Annotated[int, Field(ge=1, le=300)] = 20
    """Time in-flight requests get after SIGTERM (``SERVING_GRACEFUL_TIMEOUT_SECONDS``), in
    seconds. Default 20."""
    prometheus_address: Annotated[str, Field(pattern=r"^https?://[^\s]+$")] = (
        "http://prometheus-server.monitoring.svc.cluster.local"
    )
    """Prometheus that scrapes the pods; the canary analysis queries it. Default the
    prometheus-community chart's server in namespace monitoring."""
    model_fetcher_image: Annotated[str, Field(pattern=IMAGE_REFERENCE_PATTERN)] = (
        "public.ecr.aws/aws-cli/aws-cli:2.27.9"
    )
    """aws-cli image of the init container that copies the model from S3. Default
    public.ecr.aws/aws-cli/aws-cli:2.27.9 (mirror it when the VPC has no NAT)."""
    model_fetcher_image_digest: Annotated[str, Field(pattern=IMAGE_DIGEST_PATTERN)] | None = None
    """``sha256:`` digest pinning that image. Production requires it. Default none."""

    @model_validator(mode="after")
    def _check_serving(self) -> KubernetesServingConfig:
        if self.min_replicas > self.max_replicas:
            raise _FieldError(
                "maxReplicas", self.max_replicas, f"at least minReplicas ({self.min_replicas})"
            )
        if self.image_tag == "latest":
            raise _FieldError("imageTag", "latest", "a release tag; ECR tags are immutable")
        if not self.model_artifact.endswith((".tar.gz", "/")):
            raise _FieldError(
                "modelArtifact", self.model_artifact, "a .tar.gz file or a prefix ending in /"
            )
        return self


class PolicyConfig(_Section):
    """``mlstack:policy``: how the policy pack enforces its rules on this stack."""

    enforcement: PolicyEnforcement = PolicyEnforcement.ADVISORY
    """mandatory (violations fail the plan) or advisory. Production must be mandatory."""


class StackConfig(_Section):
    """Everything a stack declares, validated. Build it with :func:`load_stack_config`."""

    stack: str
    environment: Environment
    region: str
    owner: str
    tags: dict[str, str] = {}
    registry: RegistryConfig = RegistryConfig()
    model: ModelConfig = ModelConfig()
    sagemaker: SageMakerConfig = SageMakerConfig()
    rollout: RolloutPolicy = RolloutPolicy()
    autoscaling: AutoscalingConfig = AutoscalingConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    policy: PolicyConfig = PolicyConfig()
    network: NetworkConfig = NetworkConfig()
    eks: EksConfig = EksConfig()
    kubernetes: KubernetesServingConfig = KubernetesServingConfig()

    @model_validator(mode="after")
    def _production_minimums(self) -> StackConfig:
        if self.environment is not Environment.PRODUCTION:
            return self
        if self.sagemaker.enabled and self.sagemaker.mode is EndpointMode.SERVERLESS:
            raise _FieldError(
                "sagemaker.mode", "serverless", "production runs provisioned instances"
            )
        if self.sagemaker.enabled and self.sagemaker.instance_count < 2:
            raise _FieldError(
                "sagemaker.instanceCount",
                self.sagemaker.instance_count,
                "production needs at least 2 instances to survive an AZ outage",
            )
        if self.rollout.strategy is RolloutStrategy.ALL_AT_ONCE:
            raise _FieldError(
                "rollout.strategy",
                self.rollout.strategy.value,
                "production needs canary, linear or rolling with rollback alarms",
            )
        metrics = {alarm.metric for alarm in self.rollout.rollback_alarms}
        latency = {RollbackMetric.LATENCY_P99, RollbackMetric.LATENCY_AVERAGE}
        if len(metrics) < 2 or not metrics & latency or RollbackMetric.ERRORS_5XX not in metrics:
            raise _FieldError(
                "rollout.rollbackAlarms",
                sorted(m.value for m in metrics),
                "production rolls back on at least a latency metric and errors-5xx",
            )
        if self.autoscaling.enabled and self.autoscaling.min_instances < 2:
            raise _FieldError(
                "autoscaling.minInstances",
                self.autoscaling.min_instances,
                "production keeps at least 2 instances",
            )
        if self.policy.enforcement is not PolicyEnforcement.MANDATORY:
            raise _FieldError(
                "policy.enforcement",
                self.policy.enforcement.value,
                "production enforces the policy pack: use mandatory",
            )
        return self

    @model_validator(mode="after")
    def _eks_path_rules(self) -> StackConfig:
        """The EKS path: cluster needs the VPC, admins and a pinned image; production
        spreads over three AZs without a single NAT and pins every image by digest."""
        eks, serving, network = self.eks, self.kubernetes, self.network
        if eks.enabled and not network.enabled:
            raise _FieldError("eks.enabled", True, "the cluster runs in the VPC: enable network")
        if eks.enabled and not eks.admin_principal_arns:
            raise _FieldError(
                "eks.adminPrincipalArns", [], "name 1-20 IAM principals, including the deployer"
            )
        if eks.enabled and serving.image_tag is None and serving.image_digest is None:
            raise _FieldError(
                "kubernetes.imageDigest", None, "pin the serving image: set imageDigest or imageTag"
            )
        if self.environment is not Environment.PRODUCTION:
            return self
        if network.enabled and network.availability_zones < 3:
            raise _FieldError(
                "network.availabilityZones",
                network.availability_zones,
                "production spreads over 3 AZs",
            )
        if network.enabled and network.nat is NatMode.SINGLE:
            raise _FieldError(
                "network.nat", "single", "production needs per-az (or none): no single-AZ NAT"
            )
        if not eks.enabled:
            return self
        for key in ("image_digest", "model_fetcher_image_digest"):
            if getattr(serving, key) is None:
                raise _FieldError(
                    f"kubernetes.{to_camel(key)}", None, "production pins images by digest"
                )
        if serving.min_replicas < 2:
            raise _FieldError(
                "kubernetes.minReplicas", serving.min_replicas, "production keeps at least 2 pods"
            )
        if eks.node_group.min_size < 2:
            raise _FieldError(
                "eks.nodeGroup.minSize",
                eks.node_group.min_size,
                "production keeps at least 2 nodes",
            )
        return self

    @model_validator(mode="after")
    def _cross_section_rules(self) -> StackConfig:
        sagemaker = self.sagemaker
        serverless = sagemaker.mode is EndpointMode.SERVERLESS
        if sagemaker.enabled and not self.model.has_source:
            raise _FieldError(
                "model.packageVersion",
                None,
                "the endpoint needs a model: set packageVersion (or imageUri)",
            )
        if self.rollout.strategy is RolloutStrategy.ROLLING and (
            serverless or sagemaker.ab_variants
        ):
            raise _FieldError(
                "rollout.strategy",
                "rolling",
                "rolling updates are not for serverless or multi-variant endpoints",
            )
        if serverless and self.model.shadow is not None:
            raise _FieldError(
                "model.shadow", "set", "serverless endpoints cannot run a shadow variant"
            )
        scaling = self.autoscaling
        in_range = scaling.min_instances <= sagemaker.instance_count <= scaling.max_instances
        if sagemaker.enabled and not serverless and scaling.enabled and not in_range:
            raise _FieldError(
                "sagemaker.instanceCount",
                sagemaker.instance_count,
                f"within autoscaling {scaling.min_instances}-{scaling.max_instances}",
            )
        if self.monitoring.drift.enabled and not (
            sagemaker.enabled and sagemaker.data_capture.enabled
        ):
            raise _FieldError(
                "monitoring.drift.enabled",
                True,
                "drift monitoring reads captured data: enable sagemaker.dataCapture",
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def endpoint_name(self) -> str:
        """The SageMaker endpoint's name: ``sagemaker.endpointName`` or ``mlstack-<stack>``."""
        return self.sagemaker.endpoint_name or f"{PROJECT}-{self.stack}"

    @property
    def model_package_group_name(self) -> str:
        """The group the served versions come from (``model`` first, then ``registry``)."""
        return self.model.package_group_name or self.registry.model_package_group_name

    def resource_tags(self) -> dict[str, str]:
        """Tags applied to every taggable resource: the stack's own plus kit defaults."""
        return {
            "mlstack:stack": self.stack,
            "mlstack:environment": self.environment.value,
            "owner": self.owner,
            **self.tags,
        }


# Object sections: the config key (camelCase, without namespace) and its model.
OBJECT_SECTIONS: dict[str, type[_Section]] = {
    "tags": _Section,  # placeholder: validated as a plain string map below
    "registry": RegistryConfig,
    "sagemaker": SageMakerConfig,
    "rollout": RolloutPolicy,
    "model": ModelConfig,
    "autoscaling": AutoscalingConfig,
    "monitoring": MonitoringConfig,
    "policy": PolicyConfig,
    "network": NetworkConfig,
    "eks": EksConfig,
    "kubernetes": KubernetesServingConfig,
}
SCALAR_KEYS = ("environment", "owner")
KNOWN_KEYS = (*SCALAR_KEYS, *OBJECT_SECTIONS)

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class _FieldError(ValueError):
    """Raised inside validators to point at a key other than the one being validated."""

    def __init__(self, path: str, value: Any, allowed: str) -> None:
        super().__init__(allowed)
        self.path = path
        self.value = value
        self.allowed = allowed


def stack_file(stack: str) -> str:
    """The stack file path as users see it, relative to the project root."""
    return f"{STACK_CONFIG_DIR}/Pulumi.{stack}.yaml"


def _render(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _config_error(stack: str, key_path: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{stack_file(stack)}: {PROJECT}:{key_path} = {_render(value)}\n  {allowed}")


def _aliases(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that owns the last element of ``loc`` (used for "did you mean")."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or isinstance(part, int):
            continue
        field = next(
            (f for n, f in current.model_fields.items() if part in (n, f.alias)),
            None,
        )
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _translate(
    stack: str, section: str, model: type[BaseModel], err: ValidationError
) -> ConfigError:
    """Turn the first pydantic error into the kit's three-line message."""
    first = err.errors(include_url=False)[0]
    ctx_error = (first.get("ctx") or {}).get("error")
    loc = tuple(first["loc"])
    parts = [section] if section else []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    path = ".".join(parts)
    if isinstance(ctx_error, _FieldError):
        target = ".".join(p for p in (path, ctx_error.path) if p)
        return _config_error(stack, target, ctx_error.value, ctx_error.allowed)
    value = first.get("input")
    if first["type"] == "extra_forbidden":
        owner = _model_at(model, loc)
        known = _aliases(owner) if owner else []
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean '{guess[0]}'? " if guess else ""
        return ConfigError(
            f"{stack_file(stack)}: {PROJECT}:{path}: unknown key\n"
            f"  {hint}allowed keys: {', '.join(known)}"
        )
    message = str(first["msg"]).removeprefix("Value error, ")
    return _config_error(stack, path, value, message)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _all_project_keys() -> list[str]:
    """Every config key set for this program in the project namespace, without the prefix.

    The Python language host passes config as ``PULUMI_CONFIG``; the offline plan sets it
    with ``pulumi.runtime.set_all_config``. Both are read so typos are found either way.
    """
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{PROJECT}:"
    return sorted(k[len(prefix) :] for k in keys if k.startswith(prefix))


def _parse_object(stack: str, key: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw  # a plain string: the model reports the wrong type


def _validate_section(stack: str, key: str, model: type[_Section], raw: str | None) -> Any:
    if raw is None:
        return model()
    data = _parse_object(stack, key, raw)
    if not isinstance(data, Mapping):
        raise _config_error(stack, key, data, "expected an object (a YAML mapping)")
    try:
        return model.model_validate_json(json.dumps(data))
    except ValidationError as err:
        raise _translate(stack, key, model, err) from None


def _validate_tags(stack: str, raw: str | None) -> dict[str, str]:
    if raw is None:
        return {}
    data = _parse_object(stack, "tags", raw)
    if not isinstance(data, Mapping):
        raise _config_error(stack, "tags", data, "expected a mapping of tag name to string")
    for name, value in data.items():
        if not isinstance(value, str):
            raise _config_error(stack, f"tags.{name}", value, "tag values are strings")
        if len(name) > 128 or len(value) > 256 or name.lower().startswith("aws:"):
            raise _config_error(
                stack, f"tags.{name}", value, "AWS tags: key 1-128 chars not 'aws:', value <=256"
            )
    return dict(data)


def build_stack_config(
    stack: str, raw: Mapping[str, str | None], region: str | None
) -> StackConfig:
    """Validate raw config values (key without namespace -> the CLI's string encoding).

    Separated from :func:`load_stack_config` so tests and tools can validate a stack file
    without a Pulumi runtime.
    """
    unknown = [k for k in raw if k not in KNOWN_KEYS and raw[k] is not None]
    if unknown:
        key = unknown[0]
        guess = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
        hint = f"did you mean '{PROJECT}:{guess[0]}'? " if guess else ""
        raise ConfigError(
            f"{stack_file(stack)}: {PROJECT}:{key}: unknown key\n"
            f"  {hint}allowed keys: {', '.join(KNOWN_KEYS)}"
        )
    if not region:
        raise ConfigError(
            f"{stack_file(stack)}: aws:region is not set\n  set it, e.g. aws:region: us-east-1"
        )
    environment = raw.get("environment")
    allowed_envs = ", ".join(e.value for e in Environment)
    if environment not in {e.value for e in Environment}:
        raise _config_error(stack, "environment", environment, f"one of: {allowed_envs}")
    owner = raw.get("owner")
    if not owner or not re.fullmatch(r"[A-Za-z0-9 ._:/=+@-]{1,128}", owner):
        raise _config_error(stack, "owner", owner, "the owning team, 1-128 tag-safe characters")
    sections = {
        key: _validate_section(stack, key, model, raw.get(key))
        for key, model in OBJECT_SECTIONS.items()
        if key != "tags"
    }
    try:
        return StackConfig(
            stack=stack,
            environment=Environment(environment),
            region=region,
            owner=owner,
            tags=_validate_tags(stack, raw.get("tags")),
            **sections,
        )
    except ValidationError as err:
        raise _translate(stack, "", StackConfig, err) from None


def load_stack_config() -> StackConfig:
    """Read and validate the current stack's config through ``pulumi.Config``.

    Raises :class:`ConfigError` with a short message on any problem.
    """
    stack = pulumi.get_stack()
    config = pulumi.Config(PROJECT)
    raw = {key: config.get(key) for key in _all_project_keys()}
    region = pulumi.Config("aws").get("region")
    return build_stack_config(stack, raw, region)
