"""``mlstack:monitoring``: alarm thresholds, notifications, log retention and drift."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator
from pydantic.alias_generators import to_camel

from infra.config.types import (
    Email,
    FeatureName,
    FieldError,
    HttpsUrl,
    LogRetentionDays,
    ProcessingInstanceType,
    S3Key,
    Section,
    raise_all,
)

# ---------------------------------------------------------------------------------------------
# Units: the config's thresholds against the units CloudWatch metrics report
# ---------------------------------------------------------------------------------------------

MICROSECONDS_PER_MILLISECOND = 1000
LATENCY_METRICS = frozenset({"ModelLatency", "OverheadLatency"})
"""SageMaker reports these in microseconds; the config's thresholds are milliseconds."""
VCPU_SUMMED_METRICS = frozenset({"CPUUtilization"})
"""SageMaker sums these over the instance's vCPUs (400% on 4 vCPUs); the config's thresholds
are percent of the instance (per vCPU)."""
RATE_METRICS = frozenset({"Invocation5XXErrors", "Invocation4XXErrors", "InvocationModelErrors"})
"""Alarmed on as a rate in percent of invocations (metric math), as the config states it."""
PERCENT_METRICS = frozenset(
    {"CPUUtilization", "MemoryUtilization", "DiskUtilization", *RATE_METRICS}
)
COUNT_METRICS = frozenset({"Invocations"})

_SIZE_VCPUS = {"nano": 1, "micro": 1, "small": 1, "medium": 2, "large": 2, "xlarge": 4}


def vcpus(instance_type: str) -> int:
    """vCPUs of an ``ml.<family>.<size>`` instance by its size (``2xlarge`` is 8). Default 2."""
    size = instance_type.rsplit(".", 1)[-1]
    match = re.fullmatch(r"([0-9]+)xlarge", size)
    return int(match.group(1)) * 4 if match else _SIZE_VCPUS.get(size, 2)


def metric_scale(metric_name: str | None, instance_type: str | None = None) -> float | None:
    """Metric units per config unit of an alarm on ``metric_name`` (for metric math, the first
    metric queried). None when it depends on an instance type that is not known."""
    if metric_name in LATENCY_METRICS:
        return MICROSECONDS_PER_MILLISECOND
    if metric_name in VCPU_SUMMED_METRICS:
        return vcpus(instance_type) if instance_type else None
    return 1


def to_metric_units(
    metric_name: str | None, threshold: float, instance_type: str | None = None
) -> float:
    """A config threshold in the metric's units (what the alarm is declared with).

    Raises ValueError for a vCPU-summed metric without an instance type."""
    scale = metric_scale(metric_name, instance_type)
    if scale is None:
        raise ValueError(f"{metric_name} needs the instance type to scale its threshold")
    return threshold * scale


def to_config_units(
    metric_name: str | None, threshold: float, instance_type: str | None = None
) -> float | None:
    """An alarm's threshold as the config states it; None when the scale is not known."""
    scale = metric_scale(metric_name, instance_type)
    return None if scale is None else threshold / scale


def config_unit(metric_name: str | None) -> str:
    """The unit the config gives thresholds of ``metric_name`` in ("" for a plain number)."""
    if metric_name in LATENCY_METRICS:
        return "ms"
    if metric_name in PERCENT_METRICS:
        return "%"
    if metric_name in COUNT_METRICS:
        return "invocations"
    return ""


class AlarmSpec(Section):
    """One CloudWatch alarm's threshold and evaluation window."""

    threshold: Annotated[float, Field(ge=0)]
    """In the alarm's unit: milliseconds for latencies, percent for rates and utilisation,
    invocations for noTraffic. Each alarm has its own default (see the default column)."""
    period_seconds: Annotated[int, Field(ge=10, le=86400)] = 60
    """Length of one evaluation period: 10, 30 or a multiple of 60 seconds. Default: the
    alarm's own (60 or 300)."""
    evaluation_periods: Annotated[int, Field(ge=1, le=100)] = 5
    """Periods looked at (1-100). Default: the alarm's own (3 or 5)."""
    datapoints_to_alarm: Annotated[int, Field(ge=1, le=100)] | None = None
    """Breaching periods among them that fire the alarm. Default: the alarm's own (3); none
    means all of them."""

    @model_validator(mode="after")
    def _check_window(self) -> AlarmSpec:
        errors: list[FieldError] = []
        if self.period_seconds not in (10, 30) and self.period_seconds % 60:
            errors.append(
                FieldError(
                    "periodSeconds", self.period_seconds, "10, 30 or a multiple of 60 seconds"
                )
            )
        if self.period_seconds * self.evaluation_periods > 86400:
            errors.append(
                FieldError(
                    "evaluationPeriods",
                    self.evaluation_periods,
                    "periodSeconds x evaluationPeriods must not exceed one day (86400 s)",
                )
            )
        if self.datapoints_to_alarm is not None and (
            self.datapoints_to_alarm > self.evaluation_periods
        ):
            errors.append(
                FieldError(
                    "datapointsToAlarm",
                    self.datapoints_to_alarm,
                    f"at most evaluationPeriods ({self.evaluation_periods})",
                )
            )
        raise_all(errors)
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


class AlarmThresholds(Section):
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
        errors: list[FieldError] = []
        for name in ("errors_5xx", "errors_4xx", "model_errors", "cpu", "memory", "disk"):
            spec: AlarmSpec = getattr(self, name)
            if spec.threshold > 100:
                errors.append(
                    FieldError(
                        f"{_alias(type(self), name)}.threshold",
                        spec.threshold,
                        "a percentage: use 0-100",
                    )
                )
        for name in ("latency_p99", "latency_average", "overhead_latency", "no_traffic"):
            spec = getattr(self, name)
            if spec.threshold <= 0:
                errors.append(
                    FieldError(f"{_alias(type(self), name)}.threshold", spec.threshold, "above 0")
                )
        raise_all(errors)
        return self


class DriftConfig(Section):
    """``mlstack:monitoring.drift``: hourly Model Monitor data-quality job on captured data."""

    enabled: bool = False
    """Run the data-quality schedule. Default false; needs data capture and baselines."""
    baseline_statistics_uri: S3Key | None = None
    """statistics.json of the baseline: s3:// URI or key in the artifacts bucket. Required
    when enabled; default none."""
    baseline_constraints_uri: S3Key | None = None
    """constraints.json of the baseline: s3:// URI or key in the artifacts bucket. Required
    when enabled; default none."""
    instance_type: ProcessingInstanceType = "ml.m5.large"
    """Instance type of the monitoring job. Default ml.m5.large."""
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 20
    """Encrypted scratch volume of the job, GB. Default 20."""
    max_runtime_seconds: Annotated[int, Field(ge=1, le=3600)] = 1800
    """Stop a job after this many seconds (an hourly schedule allows at most 3600). Default
    1800."""
    watched_features: Annotated[list[FeatureName], Field(max_length=10)] = []
    """Features whose feature_baseline_drift_<name> metric the drift alarm watches (1-10
    when enabled). Default none."""
    drift_threshold: Annotated[float, Field(gt=0, le=1)] = 0.1
    """Baseline distance above which a watched feature alarms (0-1). Default 0.1."""

    @model_validator(mode="after")
    def _baselines(self) -> DriftConfig:
        if not self.enabled:
            return self
        errors = [
            FieldError(to_camel(key), None, "drift monitoring compares against a baseline: set it")
            for key in ("baseline_statistics_uri", "baseline_constraints_uri")
            if getattr(self, key) is None
        ]
        if not self.watched_features:
            errors.append(
                FieldError(
                    "watchedFeatures",
                    [],
                    "name 1-10 features: without them drift is measured but never alarms",
                )
            )
        raise_all(errors)
        return self


class MonitoringConfig(Section):
    """``mlstack:monitoring``: alarms to people, the dashboard, drift and log retention."""

    secret_fields = frozenset({"https_subscriptions"})

    email_subscriptions: Annotated[list[Email], Field(max_length=20)] = []
    """Email addresses subscribed to the alarm topic (each confirms once). Default none."""
    https_subscriptions: Annotated[list[HttpsUrl], Field(max_length=20)] = []
    """HTTPS endpoints (pager, chat webhooks) subscribed to the alarm topic; the only key that
    may be a secure: value (webhook URLs carry tokens). Default none."""
    log_retention_days: LogRetentionDays = 90
    """Days the kit's CloudWatch log groups keep events (a CloudWatch value). Default 90."""
    alarms: AlarmThresholds = AlarmThresholds()
    """Per-variant alarm thresholds."""
    drift: DriftConfig = DriftConfig()
    """Data-quality monitoring."""
