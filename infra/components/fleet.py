"""Shared SageMaker fleets: one endpoint whose instances host several small models, each an
inference component with its own copies, compute reservation, scaling and rollout.

:class:`SharedFleet` declares the endpoint side (execution role, an endpoint configuration
without models but with managed instance scaling and data capture, the endpoint).
:class:`FleetModel` declares one model on it: the SageMaker model, the rollback alarms
(scoped to its inference component), the ``aws-native`` ``InferenceComponent`` (pulumi-aws
has no resource for it) and the target tracking of its copies.

Rollout on a shared fleet: a new version of one model updates that model's inference
component alone. SageMaker replaces its copies in rolling batches
(``InferenceComponentRollingUpdatePolicy``: batch size in percent of the copies, the wait
between batches, an execution timeout) and rolls the batches back by itself when one of the
model's rollback alarms fires (``AutoRollbackConfiguration``). Traffic shifting (canary,
linear) is endpoint-wide in SageMaker, so it is not offered per model: the config refuses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.alarms import AlarmDefinition, declare_alarm
from infra.components.endpoint import (
    ModelSource,
    data_capture_config,
    endpoint_execution_role,
    model_package_arn,
    rollback_alarm_name,
    supports_volume_kms,
)
from infra.components.network import vpc_config
from infra.components.s3 import s3_uri


def aws_native_provider(name: str, region: str) -> pulumi.ProviderResource:
    """The explicit aws-native provider of the inference components, in ``region``.

    pulumi_aws_native loads some 300 modules (about a second): it is imported here, only by
    a stack with a shared fleet, so no other stack's plan pays for it."""
    import pulumi_aws_native as aws_native

    return aws_native.Provider(name, region=region)


ROUTING_STRATEGY = "LEAST_OUTSTANDING_REQUESTS"
"""How the fleet spreads requests over a model's copies: the least busy copy first."""
COPY_SCALING_METRIC = "SageMakerInferenceComponentInvocationsPerCopy"
"""Predefined metric the copies of a model scale on."""


@dataclass(frozen=True)
class SharedFleetArgs:
    """Inputs of :class:`SharedFleet`; every field but the network and tags is required."""

    endpoint_name: str
    """Endpoint name; fixed, because the models' components and callers use it."""
    partition: pulumi.Input[str]
    instance_type: str
    """Instance type of the fleet, e.g. ``ml.m5.large``."""
    instance_count: int
    """Instances at creation."""
    min_instances: int
    """Fewest instances managed instance scaling keeps."""
    max_instances: int
    """Most instances managed instance scaling adds for the models' copies."""
    variant_name: str
    """The fleet's variant; stable across updates."""
    capture_prefix: str | None
    """Key prefix of captured data in the artifacts bucket; none turns capture off."""
    capture_sampling_percent: int
    kms_key_arn: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    artifacts_bucket: pulumi.Input[str]
    artifacts_bucket_arn: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    """Private subnets of the models (on each model). Default none: SageMaker's network."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    tags: dict[str, str] = field(default_factory=dict)


class SharedFleet(pulumi.ComponentResource):
    """Execution role, model-less endpoint configuration and endpoint of a shared fleet.

    Outputs: ``endpoint_name``, ``endpoint_arn``, ``role_arn``, ``capture_uri``."""

    def __init__(
        self, name: str, args: SharedFleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:fleet:SharedFleet", name, None, opts)
        self.args = args
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        self.account = aws.get_caller_identity_output(opts=invoke_opts).account_id
        self.region = aws.get_region_output(opts=invoke_opts).region
        self.endpoint_name = args.endpoint_name
        self.variant_name = args.variant_name
        self.capture_uri: pulumi.Output[str] | None = (
            s3_uri(args.artifacts_bucket, args.capture_prefix)
            if args.capture_prefix is not None
            else None
        )
        declared = endpoint_execution_role(
            name,
            args,
            description=f"SageMaker execution role of the shared fleet {args.endpoint_name}",
            region=self.region,
            account=self.account,
            parent=self,
        )
        self.role, self.role_policy = declared.role, declared.policy
        data_capture = (
            data_capture_config(self.capture_uri, args.capture_sampling_percent, args.kms_key_arn)
            if self.capture_uri is not None
            else None
        )
        self.endpoint_config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            execution_role_arn=self.role.arn,
            production_variants=[
                {
                    "variant_name": args.variant_name,
                    "instance_type": args.instance_type,
                    "initial_instance_count": args.instance_count,
                    "managed_instance_scaling": {
                        "status": "ENABLED",
                        "min_instance_count": args.min_instances,
                        "max_instance_count": args.max_instances,
                    },
                    "routing_configs": [{"routing_strategy": ROUTING_STRATEGY}],
                }
            ],
            kms_key_arn=args.kms_key_arn if supports_volume_kms(args.instance_type) else None,
            data_capture_config=data_capture,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy]),
        )
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=args.endpoint_name,
            endpoint_config_name=self.endpoint_config.name,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {
                "endpoint_name": self.endpoint.name,
                "endpoint_arn": self.endpoint.arn,
                "role_arn": self.role.arn,
                "capture_uri": self.capture_uri,
            }
        )


@dataclass(frozen=True)
class FleetModelArgs:
    """Inputs of :class:`FleetModel`; every field but the network and tags is required."""

    fleet: SharedFleet
    """The fleet the model runs on."""
    component_name: str
    """Inference component name (stable: alarms and callers use it)."""
    model_package_group_name: str
    source: ModelSource
    network_isolation: bool
    copies: int
    """Copies at creation."""
    cpu_cores: float
    """CPU cores reserved per copy."""
    memory_mb: int
    """Memory reserved per copy, MB."""
    step_percent: int
    """Rolling batch: percent of the model's copies replaced at a time."""
    bake_seconds: int
    """Wait after each batch while the rollback alarms are watched, seconds."""
    maximum_execution_timeout_seconds: int
    rollback_alarms: Sequence[AlarmDefinition]
    operational_alarms: Sequence[AlarmDefinition]
    """The model's operational alarm set (no instance alarms: the instances are the fleet's),
    scoped to its inference component."""
    topic_arn: pulumi.Input[str]
    min_copies: int | None
    """Copy autoscaling minimum; none turns copy autoscaling off."""
    max_copies: int
    target_invocations_per_copy: int
    scale_in_cooldown_seconds: int
    scale_out_cooldown_seconds: int
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    tags: dict[str, str] = field(default_factory=dict)


class FleetModel(pulumi.ComponentResource):
    """One model on a shared fleet: model, rollback alarms, inference component, copy scaling.

    Outputs: ``component_name``, ``model_package_arn``, ``rollback_alarm_names``."""

    def __init__(
        self,
        name: str,
        args: FleetModelArgs,
        provider: pulumi.ProviderResource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlstack:fleet:FleetModel", name, None, opts)
        fleet = args.fleet
        self.component_name = args.component_name
        self.model_package_arn: pulumi.Output[str] | None = None
        if args.source.package_version is not None:
            self.model_package_arn = model_package_arn(
                fleet.args.partition,
                fleet.region,
                fleet.account,
                args.model_package_group_name,
                args.source.package_version,
            )
            container: dict[str, Any] = {"model_package_name": self.model_package_arn}
        else:
            container = {"image": args.source.image_uri, "mode": "SingleModel"}
            if args.source.artifact_uri:
                container["model_data_url"] = args.source.artifact_uri
        vpc = vpc_config(args.subnet_ids, args.security_group_ids)
        self.model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=fleet.role.arn,
            primary_container=container,
            enable_network_isolation=args.network_isolation,
            vpc_config=vpc,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[fleet.role_policy]),
        )
        dimensions = {"InferenceComponentName": args.component_name}
        self.rollback_alarms = [
            declare_alarm(
                f"{name}-rollback-{definition.key}",
                rollback_alarm_name(args.component_name, definition.key),
                definition,
                dimensions,
                args.topic_arn,
                role="rollback",
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for definition in args.rollback_alarms
        ]
        self.rollback_alarm_names = [
            rollback_alarm_name(args.component_name, a.key) for a in args.rollback_alarms
        ]
        self.alarms = [
            declare_alarm(
                f"{name}-{definition.key}",
                f"{args.component_name}-{definition.key}",
                definition,
                dimensions,
                args.topic_arn,
                role="operational",
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for definition in args.operational_alarms
        ]
        deployment: dict[str, Any] = {
            "rolling_update_policy": {
                "maximum_batch_size": {"type": "CAPACITY_PERCENT", "value": args.step_percent},
                "rollback_maximum_batch_size": {"type": "CAPACITY_PERCENT", "value": 100},
                "wait_interval_in_seconds": args.bake_seconds,
                "maximum_execution_timeout_in_seconds": args.maximum_execution_timeout_seconds,
            }
        }
        if self.rollback_alarms:
            deployment["auto_rollback_configuration"] = {
                "alarms": [{"alarm_name": a.name} for a in self.rollback_alarms]
            }
        from pulumi_aws_native import sagemaker as native_sagemaker

        self.component = native_sagemaker.InferenceComponent(
            f"{name}-component",
            inference_component_name=args.component_name,
            endpoint_name=fleet.endpoint.name,
            variant_name=fleet.variant_name,
            specification={
                "model_name": self.model.name,
                "compute_resource_requirements": {
                    "number_of_cpu_cores_required": args.cpu_cores,
                    "min_memory_required_in_mb": args.memory_mb,
                },
            },
            runtime_config={"copy_count": args.copies},
            deployment_config=deployment,
            tags=[{"key": k, "value": v} for k, v in args.tags.items()],
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        if args.min_copies is not None:
            target = aws.appautoscaling.Target(
                f"{name}-copies",
                service_namespace="sagemaker",
                resource_id=f"inference-component/{args.component_name}",
                scalable_dimension="sagemaker:inference-component:DesiredCopyCount",
                min_capacity=args.min_copies,
                max_capacity=args.max_copies,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.component]),
            )
            aws.appautoscaling.Policy(
                f"{name}-copies-policy",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                target_tracking_scaling_policy_configuration={
                    "target_value": args.target_invocations_per_copy,
                    "predefined_metric_specification": {
                        "predefined_metric_type": COPY_SCALING_METRIC
                    },
                    "scale_in_cooldown": args.scale_in_cooldown_seconds,
                    "scale_out_cooldown": args.scale_out_cooldown_seconds,
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {
                "component_name": self.component_name,
                "model_package_arn": self.model_package_arn,
                "rollback_alarm_names": self.rollback_alarm_names,
            }
        )
