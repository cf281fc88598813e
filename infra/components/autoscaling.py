"""Autoscaling of a SageMaker variant: an Application Auto Scaling target on the variant's
desired instance count and a target-tracking policy on invocations per instance."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.components.errors import ResourceError

SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PREDEFINED_METRIC = "SageMakerVariantInvocationsPerInstance"


def variant_resource_id(endpoint_name: str, variant_name: str) -> str:
    """Application Auto Scaling's id of a SageMaker variant."""
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


@dataclass(frozen=True)
class VariantAutoscalingArgs:
    """Inputs of :class:`VariantAutoscaling`."""

    endpoint_name: pulumi.Input[str]
    """The endpoint (its output, so scaling is registered after the endpoint exists)."""
    variant_name: str
    """The variant whose instance count scales."""
    min_instances: int
    """Fewest instances."""
    max_instances: int
    """Most instances."""
    target_invocations_per_instance: int
    """Invocations per instance per minute to track."""
    scale_in_cooldown_seconds: int
    """Seconds between scale-ins."""
    scale_out_cooldown_seconds: int
    """Seconds between scale-outs."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags of the scalable target (the stack's tag scopes the deploy role's calls on it).
    Default none. A scaling policy takes no tags: it is judged by its target's."""


class VariantAutoscaling(pulumi.ComponentResource):
    """Scalable target and target-tracking policy. Outputs: ``resource_id``, ``policy_arn``.

    ``opts.depends_on`` (the endpoint) is what the scalable target waits for. Raises
    :class:`ResourceError` when ``min_instances`` is above ``max_instances``.
    """

    def __init__(
        self, name: str, args: VariantAutoscalingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:autoscaling:VariantAutoscaling", name, None, opts)
        if args.min_instances > args.max_instances:
            raise ResourceError(
                f"VariantAutoscalingArgs: min_instances {args.min_instances} is above "
                f"max_instances {args.max_instances}",
                self,
            )
        resource_id = pulumi.Output.from_input(args.endpoint_name).apply(
            lambda endpoint: variant_resource_id(endpoint, args.variant_name)
        )
        self.target = aws.appautoscaling.Target(
            f"{name}-target",
            service_namespace="sagemaker",
            scalable_dimension=SCALABLE_DIMENSION,
            resource_id=resource_id,
            min_capacity=args.min_instances,
            max_capacity=args.max_instances,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None),
        )
        self.policy = aws.appautoscaling.Policy(
            f"{name}-policy",
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration={
                "target_value": float(args.target_invocations_per_instance),
                "predefined_metric_specification": {"predefined_metric_type": PREDEFINED_METRIC},
                "scale_in_cooldown": args.scale_in_cooldown_seconds,
                "scale_out_cooldown": args.scale_out_cooldown_seconds,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"resource_id": resource_id, "policy_arn": self.policy.arn})
