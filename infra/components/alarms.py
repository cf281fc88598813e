"""CloudWatch alarms on SageMaker endpoints: rollback alarms on the new fleet and the
per-variant operational alarm set, all notifying the stack's SNS topic on ALARM and OK.

Alarm *definitions* (:class:`AlarmDefinition`) are plain data built from config; one function
(:func:`declare_alarm`) turns a definition into an ``aws.cloudwatch.MetricAlarm``. Alarm names
are explicit and stable (``<endpoint>-<variant>-<key>``) because the endpoint's
auto-rollback configuration and the dashboard refer to them by name.

Units: SageMaker reports ``ModelLatency`` and ``OverheadLatency`` in microseconds; config
thresholds are milliseconds and are multiplied by 1000 here. Error alarms are rates in percent
of invocations, computed with metric math. ``CPUUtilization`` is the sum over the instance's
vCPUs (400% on 4 vCPUs), so the configured percent of the instance is multiplied by the vCPU
count of the instance size. Both conversions live in ``infra/config/monitoring.py``
(:func:`to_metric_units`), which the tooling reads back to show thresholds in config units.

Missing data, chosen per alarm: latency and error alarms treat it as ``notBreaching`` (no
traffic means no latency and no errors); utilisation keeps its state (``missing``: instance
metrics pause during deployments); the no-traffic alarm treats it as ``breaching`` (no data
is exactly no invocations); drift treats it as ``notBreaching`` (the metrics come hourly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.errors import ResourceError
from infra.config.monitoring import AlarmSpec, AlarmThresholds, to_metric_units
from infra.config.rollout import ROLLBACK_PERIOD_SECONDS, RollbackAlarm, RollbackMetric

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
"""Invocation metrics: Invocations, ModelLatency, OverheadLatency, Invocation5XXErrors, ..."""
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
"""Instance metrics: CPUUtilization, MemoryUtilization, DiskUtilization."""
DRIFT_NAMESPACE = "/aws/sagemaker/Endpoints/data-metric"
"""Model Monitor's per-feature metrics for real-time endpoints."""

METRIC_TAG = "mlstack:alarm"
"""Tag naming the alarm's kind (``latency-p99``, ``errors-5xx``, ...), read by ``mlstack plan``."""
ROLE_TAG = "mlstack:alarm-role"
"""Tag: ``rollback`` for alarms that roll deployments back, ``operational`` otherwise."""


@dataclass(frozen=True)
class AlarmDefinition:
    """One alarm, independent of Pulumi: what it watches, its threshold and its window.

    Either ``metric_name`` (with ``statistic`` or ``extended_statistic``) or ``queries``
    (metric math; one query has ``return_data``) is set. ``dimensions`` are merged into every
    metric at declaration.
    """

    key: str
    description: str
    threshold: float
    comparison: str
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int | None
    treat_missing_data: str
    namespace: str = SAGEMAKER_NAMESPACE
    metric_name: str | None = None
    statistic: str | None = None
    extended_statistic: str | None = None
    queries: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def _window(spec: AlarmSpec) -> dict[str, Any]:
    return {
        "period_seconds": spec.period_seconds,
        "evaluation_periods": spec.evaluation_periods,
        "datapoints_to_alarm": spec.datapoints_to_alarm,
    }


def latency_alarm(key: str, metric: str, stat: str, threshold_ms: float, spec: AlarmSpec):
    """``metric`` (ModelLatency or OverheadLatency) above ``threshold_ms`` milliseconds."""
    percentile = stat.startswith("p")
    return AlarmDefinition(
        key=key,
        description=f"{metric} {stat} above {threshold_ms:g} ms",
        threshold=to_metric_units(metric, threshold_ms),
        comparison="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        metric_name=metric,
        statistic=None if percentile else stat,
        extended_statistic=stat if percentile else None,
        **_window(spec),
    )


def error_rate_alarm(key: str, metric: str, percent: float, spec: AlarmSpec) -> AlarmDefinition:
    """``metric`` / Invocations above ``percent`` percent, with metric math."""
    return AlarmDefinition(
        key=key,
        description=f"{metric} above {percent:g}% of invocations",
        threshold=percent,
        comparison="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        queries=(
            {"id": "errors", "metric_name": metric, "stat": "Sum"},
            {"id": "invocations", "metric_name": "Invocations", "stat": "Sum"},
            {
                "id": "rate",
                "expression": "IF(invocations > 0, 100 * errors / invocations, 0)",
                "label": f"{metric} rate (%)",
            },
        ),
        **_window(spec),
    )


def utilisation_alarm(
    key: str, metric: str, percent: float, spec: AlarmSpec, instance_type: str | None = None
) -> AlarmDefinition:
    """Instance utilisation above ``percent`` of the instance; ``instance_type`` scales it to
    the metric's unit where needed (CPUUtilization is summed over the vCPUs)."""
    return AlarmDefinition(
        key=key,
        description=f"{metric} above {percent:g}% of the instance",
        threshold=to_metric_units(metric, percent, instance_type),
        comparison="GreaterThanThreshold",
        treat_missing_data="missing",
        namespace=INSTANCE_NAMESPACE,
        metric_name=metric,
        statistic="Average",
        **_window(spec),
    )


def no_traffic_alarm(spec: AlarmSpec) -> AlarmDefinition:
    """Fewer than ``threshold`` invocations per period: the endpoint gets no traffic at all."""
    return AlarmDefinition(
        key="no-traffic",
        description=f"fewer than {spec.threshold:g} invocations per {spec.period_seconds} s",
        threshold=spec.threshold,
        comparison="LessThanThreshold",
        treat_missing_data="breaching",
        metric_name="Invocations",
        statistic="Sum",
        **_window(spec),
    )


def operational_alarms(
    thresholds: AlarmThresholds, instance_type: str | None, *, no_traffic: bool
) -> list[AlarmDefinition]:
    """The full per-variant alarm set. ``instance_type`` None (serverless) skips the instance
    utilisation alarms; ``no_traffic`` adds the no-traffic alarm (production)."""
    t = thresholds
    definitions = [
        latency_alarm("latency-p99", "ModelLatency", "p99", t.latency_p99.threshold, t.latency_p99),
        latency_alarm(
            "latency-average",
            "ModelLatency",
            "Average",
            t.latency_average.threshold,
            t.latency_average,
        ),
        latency_alarm(
            "overhead-latency",
            "OverheadLatency",
            "Average",
            t.overhead_latency.threshold,
            t.overhead_latency,
        ),
        error_rate_alarm("errors-5xx", "Invocation5XXErrors", t.errors_5xx.threshold, t.errors_5xx),
        error_rate_alarm("errors-4xx", "Invocation4XXErrors", t.errors_4xx.threshold, t.errors_4xx),
        error_rate_alarm(
            "model-errors", "InvocationModelErrors", t.model_errors.threshold, t.model_errors
        ),
    ]
    if instance_type is not None:
        definitions += [
            utilisation_alarm("cpu", "CPUUtilization", t.cpu.threshold, t.cpu, instance_type),
            utilisation_alarm("memory", "MemoryUtilization", t.memory.threshold, t.memory),
            utilisation_alarm("disk", "DiskUtilization", t.disk.threshold, t.disk),
        ]
    if no_traffic:
        definitions.append(no_traffic_alarm(t.no_traffic))
    return definitions


def rollback_alarm(alarm: RollbackAlarm) -> AlarmDefinition:
    """The definition of one ``mlstack:rollout.rollbackAlarms`` entry (one-minute periods)."""
    spec = AlarmSpec(
        threshold=alarm.threshold,
        period_seconds=ROLLBACK_PERIOD_SECONDS,
        evaluation_periods=alarm.evaluation_periods,
    )
    metric = alarm.metric
    if metric is RollbackMetric.LATENCY_P99:
        definition = latency_alarm(metric.value, "ModelLatency", "p99", alarm.threshold, spec)
    elif metric is RollbackMetric.LATENCY_AVERAGE:
        definition = latency_alarm(metric.value, "ModelLatency", "Average", alarm.threshold, spec)
    else:
        source = {
            RollbackMetric.ERRORS_5XX: "Invocation5XXErrors",
            RollbackMetric.ERRORS_4XX: "Invocation4XXErrors",
            RollbackMetric.MODEL_ERRORS: "InvocationModelErrors",
        }[metric]
        definition = error_rate_alarm(metric.value, source, alarm.threshold, spec)
    return replace(definition, description=f"rollback: new fleet {definition.description}")


def drift_alarm(features: Sequence[str], threshold: float) -> AlarmDefinition:
    """Any watched feature's baseline drift above ``threshold`` in an hourly run."""
    queries: list[dict[str, Any]] = [
        {
            "id": f"f{i}",
            "metric_name": f"feature_baseline_drift_{feature}",
            "stat": "Maximum",
        }
        for i, feature in enumerate(features)
    ]
    ids = ", ".join(q["id"] for q in queries)
    queries.append({"id": "drift", "expression": f"MAX([{ids}])", "label": "baseline drift"})
    return AlarmDefinition(
        key="data-drift",
        description=f"baseline drift above {threshold:g} on {', '.join(features)}",
        threshold=threshold,
        comparison="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        namespace=DRIFT_NAMESPACE,
        period_seconds=3600,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        queries=tuple(queries),
    )


def _query(
    query: Mapping[str, Any], definition: AlarmDefinition, dimensions: Mapping[str, Any]
) -> dict[str, Any]:
    if "expression" in query:
        return {
            "id": query["id"],
            "expression": query["expression"],
            "label": query.get("label"),
            "return_data": True,
        }
    return {
        "id": query["id"],
        "return_data": False,
        "metric": {
            "namespace": definition.namespace,
            "metric_name": query["metric_name"],
            "stat": query["stat"],
            "period": definition.period_seconds,
            "dimensions": dict(dimensions),
        },
    }


def declare_alarm(
    resource_name: str,
    alarm_name: str,
    definition: AlarmDefinition,
    dimensions: Mapping[str, Any],
    topic_arn: pulumi.Input[str],
    *,
    role: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """A ``MetricAlarm`` for ``definition`` that notifies ``topic_arn`` on ALARM and OK."""
    metric_args: dict[str, Any] = {}
    if definition.queries:
        metric_args["metric_queries"] = [
            _query(q, definition, dimensions) for q in definition.queries
        ]
    else:
        metric_args.update(
            namespace=definition.namespace,
            metric_name=definition.metric_name,
            period=definition.period_seconds,
            dimensions=dict(dimensions),
        )
        if definition.extended_statistic:
            metric_args["extended_statistic"] = definition.extended_statistic
        else:
            metric_args["statistic"] = definition.statistic
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        name=alarm_name,
        alarm_description=definition.description,
        comparison_operator=definition.comparison,
        threshold=definition.threshold,
        evaluation_periods=definition.evaluation_periods,
        datapoints_to_alarm=definition.datapoints_to_alarm,
        treat_missing_data=definition.treat_missing_data,
        actions_enabled=True,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags={**tags, METRIC_TAG: definition.key, ROLE_TAG: role},
        opts=opts,
        **metric_args,
    )


@dataclass(frozen=True)
class EndpointAlarmsArgs:
    """Inputs of :class:`EndpointAlarms`."""

    endpoint_name: str
    """The endpoint watched (a fixed name, so alarms never wait for the endpoint)."""
    variants: Sequence[str]
    """Production variant names; each gets the full alarm set."""
    topic_arn: pulumi.Input[str]
    """SNS topic notified on ALARM and OK."""
    definitions: Sequence[AlarmDefinition]
    """The alarm set of one variant, e.g. :func:`operational_alarms` of the stack's
    thresholds."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every alarm. Default none."""


class EndpointAlarms(pulumi.ComponentResource):
    """The operational alarm set of every variant of one endpoint.

    Raises :class:`ResourceError` without variants or with repeated alarm keys (their
    names would collide).

    Outputs: ``alarm_names`` (list) and ``alarm_arns`` (list).
    """

    def __init__(
        self, name: str, args: EndpointAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:alarms:EndpointAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if not args.variants:
            raise ResourceError("EndpointAlarmsArgs: at least one variant to watch", self)
        keys = [d.key for d in args.definitions]
        if len(set(keys)) != len(keys):
            raise ResourceError(f"EndpointAlarmsArgs: alarm keys must be unique, got {keys}", self)
        definitions = args.definitions
        self.alarms: list[aws.cloudwatch.MetricAlarm] = []
        self.alarm_names: list[str] = []
        for variant in args.variants:
            dimensions = {"EndpointName": args.endpoint_name, "VariantName": variant}
            for definition in definitions:
                alarm_name = f"{args.endpoint_name}-{variant}-{definition.key}"
                self.alarm_names.append(alarm_name)
                self.alarms.append(
                    declare_alarm(
                        f"{name}-{variant}-{definition.key}",
                        alarm_name,
                        definition,
                        dimensions,
                        args.topic_arn,
                        role="operational",
                        tags=args.tags,
                        opts=child,
                    )
                )
        self.register_outputs(
            {"alarm_names": self.alarm_names, "alarm_arns": [a.arn for a in self.alarms]}
        )
