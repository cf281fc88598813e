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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from infra.components.alarms import AlarmDefinition, declare_alarm
from infra.components.errors import ResourceError
from infra.components.iam import (
    RoleWithPolicy,
    policy_document,
    role_with_inline_policy,
    service_trust_policy,
)
from infra.components.interpolation import concat
from infra.components.network import vpc_config
from infra.components.s3 import s3_uri
from infra.config.sagemaker import EndpointMode
from infra.rollout import SageMakerDeployment

SHADOW_VARIANT_NAME = "Shadow"
"""Name of the shadow variant (stable across updates, like every variant name)."""

_LOCAL_NVME = re.compile(r"^ml\.([a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|trn1)\.")
"""Instance families with local NVMe storage: SageMaker rejects a volume KMS key for them
(their instance storage is encrypted by the hardware)."""


def supports_volume_kms(instance_type: str) -> bool:
    """Whether an endpoint configuration may name a storage-volume KMS key for this type."""
    return not _LOCAL_NVME.match(instance_type)


def model_package_arn(
    partition: pulumi.Input[str],
    region: pulumi.Input[str],
    account: pulumi.Input[str],
    group: str,
    version: int,
) -> pulumi.Output[str]:
    """ARN of a versioned model package: ``...:model-package/<group>/<version>``."""
    return concat(
        "arn:", partition, ":sagemaker:", region, ":", account, f":model-package/{group}/{version}"
    )


def invoke_url(region: str, endpoint_name: str) -> str:
    """The SageMaker runtime URL that invokes the endpoint (SigV4-signed POST)."""
    return f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint_name}/invocations"


def rollback_alarm_name(endpoint_name: str, metric: str) -> str:
    """Stable name of the rollback alarm on ``metric`` (the endpoint refers to it by name)."""
    return f"{endpoint_name}-rollback-{metric}"


def data_capture_config(
    capture_uri: pulumi.Input[str], sampling_percent: int, kms_key_arn: pulumi.Input[str]
) -> dict[str, Any]:
    """An endpoint configuration's data capture: requests and responses (JSON and CSV),
    ``sampling_percent`` of them, to ``capture_uri`` encrypted with the stack's key."""
    return {
        "enable_capture": True,
        "initial_sampling_percentage": sampling_percent,
        "destination_s3_uri": capture_uri,
        "kms_key_id": kms_key_arn,
        "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
        "capture_content_type_header": {
            "json_content_types": ["application/json"],
            "csv_content_types": ["text/csv"],
        },
    }


class ExecutionRoleInputs(Protocol):
    """What an endpoint's execution role is built from (:class:`EndpointArgs` and the shared
    fleet's Args both have it)."""

    endpoint_name: str
    partition: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    artifacts_bucket_arn: pulumi.Input[str]
    capture_prefix: str | None
    kms_key_arn: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    tags: Mapping[str, str]


def endpoint_execution_role(
    name: str,
    args: ExecutionRoleInputs,
    *,
    description: str,
    region: pulumi.Input[str],
    account: pulumi.Input[str],
    parent: pulumi.Resource,
) -> RoleWithPolicy:
    """The SageMaker execution role of an endpoint's models (``<name>-role``), trusted by
    SageMaker in ``account``, with :func:`execution_role_policy` inline; sessions of 1 h."""
    return role_with_inline_policy(
        f"{name}-role",
        policy_name=f"{name}-role-policy",
        description=description,
        trust_policy=service_trust_policy("sagemaker.amazonaws.com", account),
        policy=execution_role_policy(
            partition=args.partition,
            region=region,
            account=account,
            endpoint_name=args.endpoint_name,
            repository_arn=args.repository_arn,
            bucket_arn=args.artifacts_bucket_arn,
            capture_prefix=args.capture_prefix,
            kms_key_arn=args.kms_key_arn,
            vpc=bool(args.subnet_ids),
        ),
        max_session_duration_seconds=3600,
        tags=args.tags,
        parent=parent,
    )


def execution_role_policy(
    *,
    partition: pulumi.Input[str],
    region: pulumi.Input[str],
    account: pulumi.Input[str],
    endpoint_name: str,
    repository_arn: pulumi.Input[str],
    bucket_arn: pulumi.Input[str],
    capture_prefix: str | None,
    kms_key_arn: pulumi.Input[str],
    vpc: bool,
) -> pulumi.Output[str]:
    """Least privilege for the models: pull the kit's image, read artifacts, write captured
    data, use the stack's key, write the endpoint's logs and metrics, and read the rollback
    alarms. VPC networking permissions only when the models run in a VPC."""
    log_group = concat(
        "arn:", partition, ":logs:", region, ":", account, ":log-group:/aws/sagemaker/Endpoints/"
    )
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
            "Resource": concat(bucket_arn, "/*"),
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
            "Resource": concat(log_group, endpoint_name, ":*"),
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
            "Resource": concat(
                "arn:",
                partition,
                ":cloudwatch:",
                region,
                ":",
                account,
                ":alarm:",
                endpoint_name,
                "-*",
            ),
        },
    ]
    if capture_prefix is not None:
        statements.append(
            {
                "Sid": "WriteCapturedData",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": concat(bucket_arn, "/", capture_prefix, "/*"),
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
    return policy_document(statements)


@dataclass(frozen=True)
class ModelSource:
    """What a model serves: a version of the model package group, or an image (with an
    optional artifact). Exactly one of ``package_version`` and ``image_uri`` is set."""

    package_version: int | None = None
    """Version in :attr:`EndpointArgs.model_package_group_name`. Default none."""
    image_uri: str | None = None
    """Serving image, when no package version is given. Default none."""
    artifact_uri: str | None = None
    """``s3://`` URI of model.tar.gz for ``image_uri``. Default none (the image holds it)."""


@dataclass(frozen=True)
class ProductionVariant:
    """One production variant behind the endpoint."""

    name: str
    """Variant name; stable across updates (blue/green deployments require it)."""
    source: ModelSource
    """The variant's model."""
    weight: float
    """Relative traffic weight."""
    instance_count: int
    """Instances (ignored by serverless endpoints)."""


@dataclass(frozen=True)
class ShadowVariant:
    """A shadow variant that receives a copy of a share of the primary variant's requests."""

    package_version: int
    """Version of the package group the shadow serves."""
    sampling_percent: int
    """Share of the primary variant's requests copied to the shadow, percent."""
    instance_count: int
    """Instances of the shadow variant."""


@dataclass(frozen=True)
class EndpointArgs:
    """Inputs of :class:`Endpoint`. Every field but the network and tags is required: the
    stack config supplies them."""

    endpoint_name: str
    """Endpoint name; fixed, because alarms, the dashboard and callers use it."""
    model_package_group_name: str
    """Group the package versions of the variants come from."""
    partition: pulumi.Input[str]
    """AWS partition of the account (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    mode: EndpointMode
    """provisioned (instances) or serverless."""
    instance_type: str
    """Instance type of every instance-backed variant, e.g. ``ml.m5.large``."""
    variants: Sequence[ProductionVariant]
    """Production variants; the first is the primary (rollback alarms and shadow watch it)."""
    shadow: ShadowVariant | None
    """Shadow variant, or none."""
    serverless_memory_size_mb: int
    """Memory of a serverless variant, MB (serverless mode only)."""
    serverless_max_concurrency: int
    """Concurrent invocations of a serverless variant (serverless mode only)."""
    network_isolation: bool
    """Whether the model containers have no outbound network access (secure: true)."""
    capture_prefix: str | None
    """Key prefix of captured requests and responses in the artifacts bucket; none turns
    data capture off."""
    capture_sampling_percent: int
    """Share of requests captured, percent (with ``capture_prefix``)."""
    deployment: SageMakerDeployment
    """How a new version goes live, compiled from the rollout policy by ``infra/rollout.py``."""
    rollback_alarms: Sequence[AlarmDefinition]
    """Alarms on the new fleet that roll a deployment back (named by their ``key``)."""
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
    """Private subnets for the model containers (the network component's). Default none:
    SageMaker's managed network."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups for the model containers; required with ``subnet_ids``. Default none."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every taggable child. Default none."""


class Endpoint(pulumi.ComponentResource):
    """Model(s), least-privilege execution role, endpoint configuration, rollback alarms and
    the SageMaker endpoint.

    Raises :class:`ResourceError` for subnets without security groups (or the other
    way round), a serverless endpoint in a VPC, no variants, or a model source that names both
    or neither of a package version and an image.

    Outputs: ``endpoint_name``, ``endpoint_arn``, ``invoke_url``, ``model_package_arn``,
    ``endpoint_config_name``, ``variant_names``, ``rollback_alarm_names``, ``role_arn``,
    ``capture_uri``.
    """

    def __init__(
        self, name: str, args: EndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:endpoint:Endpoint", name, None, opts)
        self._validate(args)
        self._name = name
        self._args = args
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        self._account = aws.get_caller_identity_output(opts=invoke_opts).account_id
        self._region = aws.get_region_output(opts=invoke_opts).region
        self.endpoint_name = args.endpoint_name
        self.capture_uri: pulumi.Output[str] | None = (
            s3_uri(args.artifacts_bucket, args.capture_prefix)
            if args.capture_prefix is not None
            else None
        )
        primary = args.variants[0]
        self.model_package_arn: pulumi.Output[str] | None = (
            self._package_arn(primary.source.package_version)
            if primary.source.package_version is not None
            else None
        )
        self.variant_names = [v.name for v in args.variants]

        self.role, role_policy = self._execution_role()
        self.model, self.endpoint_config = self._endpoint_config(role_policy)
        self.rollback_alarms = self._rollback_alarms()
        self.rollback_alarm_names = [
            rollback_alarm_name(args.endpoint_name, a.key) for a in args.rollback_alarms
        ]
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=args.endpoint_name,
            endpoint_config_name=self.endpoint_config.name,
            deployment_config=args.deployment.deployment_config(
                [a.name for a in self.rollback_alarms]
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.invoke_url = self._region.apply(lambda r: invoke_url(r, args.endpoint_name))
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

    def _validate(self, args: EndpointArgs) -> None:
        if bool(args.subnet_ids) != bool(args.security_group_ids):
            raise ResourceError("EndpointArgs: subnet_ids and security_group_ids go together", self)
        if args.mode is EndpointMode.SERVERLESS and args.subnet_ids:
            raise ResourceError(
                "EndpointArgs: serverless endpoints do not run in a VPC; drop subnet_ids", self
            )
        if not args.variants:
            raise ResourceError("EndpointArgs: at least one production variant", self)
        for variant in args.variants:
            source = variant.source
            if (source.package_version is None) == (source.image_uri is None):
                raise ResourceError(
                    f"EndpointArgs: variant {variant.name} needs exactly one of "
                    "package_version and image_uri",
                    self,
                )

    def _package_arn(self, version: int) -> pulumi.Output[str]:
        return model_package_arn(
            self._args.partition,
            self._region,
            self._account,
            self._args.model_package_group_name,
            version,
        )

    def _execution_role(self) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        declared = endpoint_execution_role(
            self._name,
            self._args,
            description=f"SageMaker execution role of {self._args.endpoint_name}",
            region=self._region,
            account=self._account,
            parent=self,
        )
        return declared.role, declared.policy

    def _model(
        self, suffix: str, source: ModelSource, role_policy: aws.iam.RolePolicy
    ) -> aws.sagemaker.Model:
        args = self._args
        if source.package_version is not None:
            container: dict[str, Any] = {
                "model_package_name": self._package_arn(source.package_version)
            }
        else:
            container = {"image": source.image_uri, "mode": "SingleModel"}
            if source.artifact_uri:
                container["model_data_url"] = source.artifact_uri
        vpc = vpc_config(args.subnet_ids, args.security_group_ids)
        return aws.sagemaker.Model(
            f"{self._name}-{suffix}",
            execution_role_arn=self.role.arn,
            primary_container=container,
            enable_network_isolation=args.network_isolation,
            vpc_config=vpc,
            tags=args.tags,
            # The role's permissions must exist before SageMaker validates the model.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )

    def _endpoint_config(
        self, role_policy: aws.iam.RolePolicy
    ) -> tuple[aws.sagemaker.Model, aws.sagemaker.EndpointConfiguration]:
        args = self._args
        serverless = args.mode is EndpointMode.SERVERLESS
        primary, *others = args.variants
        primary_model = self._model("model", primary.source, role_policy)
        variants = [self._variant(primary, primary_model)]
        for variant in others:
            model = self._model(f"model-{variant.name}", variant.source, role_policy)
            variants.append(self._variant(variant, model))

        shadow_variants = None
        if args.shadow is not None:
            shadow_model = self._model(
                "model-shadow",
                ModelSource(package_version=args.shadow.package_version),
                role_policy,
            )
            shadow_variants = [
                {
                    "variant_name": SHADOW_VARIANT_NAME,
                    "model_name": shadow_model.name,
                    "instance_type": args.instance_type,
                    "initial_instance_count": args.shadow.instance_count,
                    # Relative to the production weight: this share of requests is copied.
                    "initial_variant_weight": round(
                        primary.weight * args.shadow.sampling_percent / 100, 4
                    ),
                }
            ]

        data_capture = (
            data_capture_config(self.capture_uri, args.capture_sampling_percent, args.kms_key_arn)
            if self.capture_uri is not None
            else None
        )

        # No volume to encrypt on serverless or on instances with local NVMe storage.
        volume_key = (
            None if serverless or not supports_volume_kms(args.instance_type) else args.kms_key_arn
        )
        # No explicit name: a change creates a new configuration, updates the endpoint, and
        # only then deletes the old one.
        config = aws.sagemaker.EndpointConfiguration(
            f"{self._name}-config",
            production_variants=variants,
            shadow_production_variants=shadow_variants,
            kms_key_arn=volume_key,
            data_capture_config=data_capture,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return primary_model, config

    def _rollback_alarms(self) -> list[aws.cloudwatch.MetricAlarm]:
        args = self._args
        dimensions = {
            "EndpointName": args.endpoint_name,
            "VariantName": args.variants[0].name,
            "EndpointConfigName": self.endpoint_config.name,
        }
        return [
            declare_alarm(
                f"{self._name}-rollback-{definition.key}",
                rollback_alarm_name(args.endpoint_name, definition.key),
                definition,
                dimensions,
                args.topic_arn,
                role="rollback",
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for definition in args.rollback_alarms
        ]

    def _variant(self, variant: ProductionVariant, model: aws.sagemaker.Model) -> dict[str, Any]:
        args = self._args
        declared: dict[str, Any] = {
            "variant_name": variant.name,
            "model_name": model.name,
            "initial_variant_weight": variant.weight,
        }
        if args.mode is EndpointMode.SERVERLESS:
            declared["serverless_config"] = {
                "memory_size_in_mb": args.serverless_memory_size_mb,
                "max_concurrency": args.serverless_max_concurrency,
            }
        else:
            declared["instance_type"] = args.instance_type
            declared["initial_instance_count"] = variant.instance_count
        return declared
