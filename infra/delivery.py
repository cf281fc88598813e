"""Wiring of the SageMaker delivery path and the stack's monitoring, called by ``__main__``.

Declares, in dependency order: the alert topic and log groups (:class:`Monitoring`), the
endpoint with its rollback alarms (:class:`Endpoint`), autoscaling of the primary variant,
the per-variant alarm set, drift monitoring and the dashboard. ``__main__`` exports what
:class:`Delivery` exposes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from infra.components.alarms import EndpointAlarms, EndpointAlarmsArgs
from infra.components.autoscaling import VariantAutoscaling, VariantAutoscalingArgs
from infra.components.drift import DriftMonitor, DriftMonitorArgs
from infra.components.endpoint import Endpoint, EndpointArgs
from infra.components.monitoring import (
    Dashboard,
    DashboardArgs,
    DashboardVariant,
    Monitoring,
    MonitoringArgs,
)
from infra.components.registry import Registry
from infra.config import StackConfig
from infra.config.sagemaker import EndpointMode


@dataclass
class Delivery:
    """What the program exports from the SageMaker path and monitoring."""

    monitoring: Monitoring
    endpoint: Endpoint | None = None
    drift: DriftMonitor | None = None
    dashboard: Dashboard | None = None
    alarm_arns: list[pulumi.Output[str]] = field(default_factory=list)


def deploy(
    config: StackConfig,
    registry: Registry,
    tags: dict[str, str],
    *,
    subnet_ids: Sequence[pulumi.Input[str]] = (),
    security_group_ids: Sequence[pulumi.Input[str]] = (),
) -> Delivery:
    """Declare the SageMaker delivery path and monitoring for ``config``.

    ``subnet_ids`` / ``security_group_ids`` put the models and the drift job in private
    subnets (the network component's outputs); empty means SageMaker's managed network.
    """
    sm = config.sagemaker
    endpoint_name = config.endpoint_name
    monitoring_config = config.monitoring
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            kms_key_arn=registry.kms_key.arn,
            endpoint_names=[endpoint_name] if sm.enabled else [],
            email_subscriptions=monitoring_config.email_subscriptions,
            https_subscriptions=monitoring_config.https_subscriptions,
            log_retention_days=monitoring_config.log_retention_days,
            tags=tags,
        ),
    )
    delivery = Delivery(monitoring=monitoring)
    if not sm.enabled:
        return delivery

    serverless = sm.mode is EndpointMode.SERVERLESS
    endpoint = Endpoint(
        "sagemaker",
        EndpointArgs(
            endpoint_name=endpoint_name,
            model_package_group_name=config.model_package_group_name,
            model=config.model,
            sagemaker=sm,
            rollout=config.rollout,
            kms_key_arn=registry.kms_key.arn,
            repository_arn=registry.repository.arn,
            artifacts_bucket=registry.artifacts_bucket.bucket,
            artifacts_bucket_arn=registry.artifacts_bucket.arn,
            topic_arn=monitoring.topic.arn,
            subnet_ids=[] if serverless else list(subnet_ids),
            security_group_ids=[] if serverless else list(security_group_ids),
            tags=tags,
        ),
        # The log group must exist before SageMaker creates one without retention or KMS.
        opts=pulumi.ResourceOptions(depends_on=[monitoring]),
    )
    delivery.endpoint = endpoint
    delivery.alarm_arns += [a.arn for a in endpoint.rollback_alarms]

    scaling = config.autoscaling
    if scaling.enabled and not serverless:
        VariantAutoscaling(
            "autoscaling",
            VariantAutoscalingArgs(
                endpoint_name=endpoint.endpoint.name,
                variant_name=sm.variant_name,
                min_instances=scaling.min_instances,
                max_instances=scaling.max_instances,
                target_invocations_per_instance=scaling.target_invocations_per_instance,
                scale_in_cooldown_seconds=scaling.scale_in_cooldown_seconds,
                scale_out_cooldown_seconds=scaling.scale_out_cooldown_seconds,
                depends_on=[endpoint.endpoint],
            ),
        )

    alarms = EndpointAlarms(
        "alarms",
        EndpointAlarmsArgs(
            endpoint_name=endpoint_name,
            variants=endpoint.variant_names,
            topic_arn=monitoring.topic.arn,
            thresholds=monitoring_config.alarms,
            instance_type=None if serverless else sm.instance_type,
            no_traffic=config.is_production,
            tags=tags,
        ),
    )
    delivery.alarm_arns += [a.arn for a in alarms.alarms]

    drift = monitoring_config.drift
    if drift.enabled and drift.baseline_statistics_uri and drift.baseline_constraints_uri:
        delivery.drift = DriftMonitor(
            "drift",
            DriftMonitorArgs(
                endpoint_name=endpoint.endpoint.name,
                capture_prefix=sm.data_capture.s3_prefix,
                artifacts_bucket=registry.artifacts_bucket.bucket,
                artifacts_bucket_arn=registry.artifacts_bucket.arn,
                kms_key_arn=registry.kms_key.arn,
                topic_arn=monitoring.topic.arn,
                baseline_statistics_uri=drift.baseline_statistics_uri,
                baseline_constraints_uri=drift.baseline_constraints_uri,
                instance_type=drift.instance_type,
                volume_size_gb=drift.volume_size_gb,
                max_runtime_seconds=drift.max_runtime_seconds,
                watched_features=drift.watched_features,
                drift_threshold=drift.drift_threshold,
                alarm_name=f"{endpoint_name}-data-drift",
                subnet_ids=list(subnet_ids),
                security_group_ids=list(security_group_ids),
                tags=tags,
            ),
        )
        if delivery.drift.alarm is not None:
            delivery.alarm_arns.append(delivery.drift.alarm.arn)

    delivery.dashboard = Dashboard(
        "dashboard",
        DashboardArgs(
            variants=[
                DashboardVariant(endpoint_name, variant, instances=not serverless)
                for variant in endpoint.variant_names
            ],
            alarm_arns=delivery.alarm_arns,
        ),
    )
    return delivery


def export(delivery: Delivery) -> None:
    """Stack outputs of the SageMaker path and monitoring."""
    pulumi.export("alertTopicArn", delivery.monitoring.topic.arn)
    endpoint = delivery.endpoint
    if endpoint is not None:
        pulumi.export("endpointName", endpoint.endpoint.name)
        pulumi.export("endpointArn", endpoint.endpoint.arn)
        pulumi.export("invokeUrl", endpoint.invoke_url)
        pulumi.export("modelPackageArn", endpoint.model_package_arn)
        pulumi.export("endpointConfigName", endpoint.endpoint_config.name)
        pulumi.export("rollbackAlarmNames", endpoint.rollback_alarm_names)
        if endpoint.capture_uri is not None:
            pulumi.export("dataCaptureUri", endpoint.capture_uri)
    if delivery.drift is not None:
        pulumi.export("dataQualityJobDefinitionName", delivery.drift.job_definition.name)
        pulumi.export("monitoringScheduleName", delivery.drift.schedule.name)
    if delivery.dashboard is not None:
        pulumi.export("dashboardName", delivery.dashboard.dashboard.dashboard_name)
