"""SageMaker delivery: model(s), execution role, endpoint configuration, rollback alarms and the
endpoint whose deployment config is compiled from the stack's rollout policy.

Update order on a new model version (``mlstack:model.packageVersion``): Pulumi creates a new
model and a new, auto-named endpoint configuration, points the rollback alarms at the new
configuration (the ``EndpointConfigName`` dimension: they watch the new fleet only), updates
the endpoint (SageMaker shifts traffic by the compiled blue/green or rolling policy and rolls
back by itself when an alarm fires), and only then deletes the old configuration and model.
The variant name never changes, as SageMaker's blue/green deployments require.

Network: ``EndpointArgs.subnet_ids`` and ``security_group_ids`` put the model containers in
private subnets (VPC config on every model); both empty (the default) means SageMaker's
managed network. Network isolation is on unless ``mlstack:sagemaker.networkIsolation`` is
false.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.alarms import declare_alarm, rollback_alarm
from infra.components.iam import service_trust_policy
from infra.config.model import ModelConfig
from infra.config.rollout import RolloutPolicy
from infra.config.sagemaker import EndpointMode, SageMakerConfig
from infra.rollout import compile_sagemaker

SHADOW_VARIANT_NAME = "Shadow"
"""Name of the shadow variant (stable across updates, like every variant name)."""

_LOCAL_NVME = re.compile(r"^ml\.([a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|trn1)\.")
"""Instance families with local NVMe storage: SageMaker rejects a volume KMS key for them
(their instance storage is encrypted by the hardware)."""


def supports_volume_kms(instance_type: str) -> bool:
    """Whether an endpoint configuration may name a storage-volume KMS key for this type."""
    return not _LOCAL_NVME.match(instance_type)


def model_package_arn(partition: str, region: str, account: str, group: str, version: int) -> str:
    """ARN of a versioned model package: ``...:model-package/<group>/<version>``."""
    return f"arn:{partition}:sagemaker:{region}:{account}:model-package/{group}/{version}"


def invoke_url(region: str, endpoint_name: str) -> str:
    """The SageMaker runtime URL that invokes the endpoint (SigV4-signed POST)."""
    return f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint_name}/invocations"


def rollback_alarm_name(endpoint_name: str, metric: str) -> str:
    """Stable name of the rollback alarm on ``metric`` (the endpoint refers to it by name)."""
    return f"{endpoint_name}-rollback-{metric}"


def execution_role_policy(
    *,
    partition: str,
    region: str,
    account: str,
    endpoint_name: str,
    repository_arn: str,
    bucket_arn: str,
    capture_prefix: str | None,
    kms_key_arn: str,
    vpc: bool,
) -> str:
    """Least privilege for the models: pull the kit's image, read artifacts, write captured
    data, use the stack's key, write the endpoint's logs and metrics, and read the rollback
    alarms. VPC networking permissions only when the models run in a VPC."""
    log_group = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "EcrAuthorization",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
        {
            "Sid": "PullServingImage",
            "Effect": "Allow",
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            "Resource": repository_arn,
        },
        {
            "Sid": "ReadArtifacts",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": f"{bucket_arn}/*",
        },
        {
            "Sid": "ListArtifacts",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": bucket_arn,
        },
        {
            "Sid": "UseStackKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
            "Resource": kms_key_arn,
        },
        {
            "Sid": "WriteEndpointLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": f"{log_group}{endpoint_name}:*",
        },
        {
            "Sid": "WriteEndpointMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        },
        {
            "Sid": "ReadRollbackAlarms",
            "Effect": "Allow",
            "Action": "cloudwatch:DescribeAlarms",
            "Resource": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{endpoint_name}-*",
        },
    ]
    if capture_prefix is not None:
        statements.append(
            {
                "Sid": "WriteCapturedData",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": f"{bucket_arn}/{capture_prefix}/*",
            }
        )
    if vpc:
        statements.append(
            {
                "Sid": "RunInPrivateSubnets",
                "Effect": "Allow",
                "Action": [
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
                "Resource": "*",
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


@dataclass(frozen=True)
class EndpointArgs:
    """Inputs of :class:`Endpoint`."""

    endpoint_name: str
    """Endpoint name; fixed, because alarms, the dashboard and callers use it."""
    model_package_group_name: str
    """Group the package versions in ``model`` come from."""
    model: ModelConfig
    """What to serve (``mlstack:model``)."""
    sagemaker: SageMakerConfig
    """Variants, capacity, isolation and data capture (``mlstack:sagemaker``)."""
    rollout: RolloutPolicy
    """How a new version goes live (``mlstack:rollout``), compiled by ``infra/rollout.py``."""
    kms_key_arn: pulumi.Input[str]
    """Key for volumes, captured data and the execution role's grants."""
    repository_arn: pulumi.Input[str]
    """The kit's ECR repository (the only one the role may pull from)."""
    artifacts_bucket: pulumi.Input[str]
    """Bucket name holding artifacts and captured data."""
    artifacts_bucket_arn: pulumi.Input[str]
    """ARN of that bucket."""
    topic_arn: pulumi.Input[str]
    """SNS topic the rollback alarms notify on ALARM and OK."""
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    """Private subnets for the model containers (network hook for the network component).
    Default none: SageMaker's managed network."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups for the model containers; required with ``subnet_ids``. Default none."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every taggable child. Default none."""


@dataclass(frozen=True)
class _Source:
    package_version: int | None = None
    image_uri: str | None = None
    artifact_uri: str | None = None


class Endpoint(pulumi.ComponentResource):
    """Model(s), least-privilege execution role, endpoint configuration, rollback alarms and
    the SageMaker endpoint.

    Outputs: ``endpoint_name``, ``endpoint_arn``, ``invoke_url``, ``model_package_arn``,
    ``endpoint_config_name``, ``variant_names``, ``rollback_alarm_names``, ``role_arn``,
    ``capture_uri``.
    """

    def __init__(
        self, name: str, args: EndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:endpoint:Endpoint", name, None, opts)
        if bool(args.subnet_ids) != bool(args.security_group_ids):
            raise ValueError("EndpointArgs: subnet_ids and security_group_ids go together")
        sm = args.sagemaker
        serverless = sm.mode is EndpointMode.SERVERLESS
        if serverless and args.subnet_ids:
            raise ValueError("EndpointArgs: serverless endpoints do not run in a VPC")
        child = pulumi.ResourceOptions(parent=self)
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke_opts)
        region = aws.get_region_output(opts=invoke_opts)
        partition = aws.get_partition_output(opts=invoke_opts)
        self.endpoint_name = args.endpoint_name
        capture = sm.data_capture if sm.data_capture.enabled else None
        self.capture_uri: pulumi.Output[str] | None = (
            pulumi.Output.concat("s3://", args.artifacts_bucket, "/", capture.s3_prefix)
            if capture
            else None
        )

        self.role = aws.iam.Role(
            f"{name}-role",
            description=f"SageMaker execution role of {args.endpoint_name}",
            assume_role_policy=identity.account_id.apply(
                lambda account: service_trust_policy("sagemaker.amazonaws.com", account)
            ),
            max_session_duration=3600,
            tags=args.tags,
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=self.role.id,
            policy=pulumi.Output.all(
                partition.partition,
                region.region,
                identity.account_id,
                args.repository_arn,
                args.artifacts_bucket_arn,
                args.kms_key_arn,
            ).apply(
                lambda p: execution_role_policy(
                    partition=p[0],
                    region=p[1],
                    account=p[2],
                    endpoint_name=args.endpoint_name,
                    repository_arn=p[3],
                    bucket_arn=p[4],
                    capture_prefix=capture.s3_prefix if capture else None,
                    kms_key_arn=p[5],
                    vpc=bool(args.subnet_ids),
                )
            ),
            opts=child,
        )

        def package_arn(version: int) -> pulumi.Output[str]:
            return pulumi.Output.all(partition.partition, region.region, identity.account_id).apply(
                lambda p: model_package_arn(
                    p[0], p[1], p[2], args.model_package_group_name, version
                )
            )

        def declare_model(suffix: str, source: _Source) -> aws.sagemaker.Model:
            if source.package_version is not None:
                container: dict[str, Any] = {
                    "model_package_name": package_arn(source.package_version)
                }
            else:
                container = {"image": source.image_uri, "mode": "SingleModel"}
                if source.artifact_uri:
                    container["model_data_url"] = source.artifact_uri
            vpc = None
            if args.subnet_ids:
                vpc = {
                    "subnets": list(args.subnet_ids),
                    "security_group_ids": list(args.security_group_ids),
                }
            return aws.sagemaker.Model(
                f"{name}-{suffix}",
                execution_role_arn=self.role.arn,
                primary_container=container,
                enable_network_isolation=sm.network_isolation,
                vpc_config=vpc,
                tags=args.tags,
                # The role's permissions must exist before SageMaker validates the model.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
            )

        model = args.model
        primary = _Source(model.package_version, model.image_uri, model.artifact_uri)
        self.model = declare_model("model", primary)
        self.model_package_arn: pulumi.Output[str] | None = (
            package_arn(model.package_version) if model.package_version is not None else None
        )

        variants = [
            self._variant(sm.variant_name, self.model, sm.variant_weight, sm.instance_count, sm)
        ]
        for ab in sm.ab_variants:
            ab_source = _Source(package_version=ab.package_version)
            ab_model = declare_model(f"model-{ab.name}", ab_source)
            variants.append(self._variant(ab.name, ab_model, ab.weight, ab.instance_count, sm))
        self.variant_names = [sm.variant_name, *(v.name for v in sm.ab_variants)]

        shadow_variants = None
        if model.shadow is not None:
            shadow_model = declare_model(
                "model-shadow", _Source(package_version=model.shadow.package_version)
            )
            shadow_variants = [
                {
                    "variant_name": SHADOW_VARIANT_NAME,
                    "model_name": shadow_model.name,
                    "instance_type": sm.instance_type,
                    "initial_instance_count": model.shadow.instance_count,
                    # Relative to the production weight: this share of requests is copied.
                    "initial_variant_weight": round(
                        sm.variant_weight * model.shadow.sampling_percent / 100, 4
                    ),
                }
            ]

        data_capture = None
        if capture is not None and self.capture_uri is not None:
            data_capture = {
                "enable_capture": True,
                "initial_sampling_percentage": capture.sampling_percent,
                "destination_s3_uri": self.capture_uri,
                "kms_key_id": args.kms_key_arn,
                "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
                "capture_content_type_header": {
                    "json_content_types": ["application/json"],
                    "csv_content_types": ["text/csv"],
                },
            }

        # No volume to encrypt on serverless or on instances with local NVMe storage.
        volume_key = (
            None if serverless or not supports_volume_kms(sm.instance_type) else (args.kms_key_arn)
        )
        # No explicit name: a change creates a new configuration, updates the endpoint, and
        # only then deletes the old one.
        self.endpoint_config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            production_variants=variants,
            shadow_production_variants=shadow_variants,
            kms_key_arn=volume_key,
            data_capture_config=data_capture,
            tags=args.tags,
            opts=child,
        )

        self.rollback_alarms = [
            declare_alarm(
                f"{name}-rollback-{alarm.metric.value}",
                rollback_alarm_name(args.endpoint_name, alarm.metric.value),
                rollback_alarm(alarm),
                {
                    "EndpointName": args.endpoint_name,
                    "VariantName": sm.variant_name,
                    "EndpointConfigName": self.endpoint_config.name,
                },
                args.topic_arn,
                role="rollback",
                tags=args.tags,
                opts=child,
            )
            for alarm in args.rollout.rollback_alarms
        ]
        self.rollback_alarm_names = [
            rollback_alarm_name(args.endpoint_name, a.metric.value)
            for a in args.rollout.rollback_alarms
        ]

        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=args.endpoint_name,
            endpoint_config_name=self.endpoint_config.name,
            deployment_config=compile_sagemaker(
                args.rollout, [a.name for a in self.rollback_alarms]
            ),
            tags=args.tags,
            opts=child,
        )
        self.invoke_url = region.region.apply(lambda r: invoke_url(r, args.endpoint_name))
        self.register_outputs(
            {
                "endpoint_name": self.endpoint.name,
                "endpoint_arn": self.endpoint.arn,
                "invoke_url": self.invoke_url,
                "model_package_arn": self.model_package_arn,
                "endpoint_config_name": self.endpoint_config.name,
                "variant_names": self.variant_names,
                "rollback_alarm_names": self.rollback_alarm_names,
                "role_arn": self.role.arn,
                "capture_uri": self.capture_uri,
            }
        )

    @staticmethod
    def _variant(
        variant_name: str,
        model: aws.sagemaker.Model,
        weight: float,
        instance_count: int,
        sm: SageMakerConfig,
    ) -> dict[str, Any]:
        variant: dict[str, Any] = {
            "variant_name": variant_name,
            "model_name": model.name,
            "initial_variant_weight": weight,
        }
        if sm.mode is EndpointMode.SERVERLESS:
            variant["serverless_config"] = {
                "memory_size_in_mb": sm.serverless.memory_size_mb,
                "max_concurrency": sm.serverless.max_concurrency,
            }
        else:
            variant["instance_type"] = sm.instance_type
            variant["initial_instance_count"] = instance_count
        return variant
