"""Registry: where images, model versions and artifacts live, all under one KMS key.

Declares a customer-managed KMS key with yearly rotation, an ECR repository for the serving
image (scan on push, immutable tags, KMS, lifecycle policy), a SageMaker model package group
(the model registry) and an S3 bucket for model artifacts and captured data (KMS, versioning,
public access blocked, TLS only, bucket-owner-enforced ownership, writes under the model and
capture prefixes only by the principals that own them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.errors import ResourceError
from infra.components.iam import account_root
from infra.components.interpolation import concat, json_document


@dataclass(frozen=True)
class RegistryArgs:
    """Inputs of :class:`Registry`. The stack config supplies every value but the tags."""

    key_alias: str
    """Alias of the KMS key, e.g. ``alias/registry-production``."""
    partition: pulumi.Input[str]
    """AWS partition of the account (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    model_package_group_name: str
    """Name of the SageMaker model package group (the model registry)."""
    keep_tagged_images: int
    """Release images kept in ECR before the oldest expire."""
    untagged_image_expiry_days: int
    """Days before untagged image layers expire."""
    noncurrent_artifact_expiry_days: int
    """Days an overwritten artifact version is kept."""
    kms_deletion_window_days: int
    """Days between scheduling the key's deletion and its destruction (7-30)."""
    model_prefix: str
    """Key prefix of model artifacts in the bucket (no trailing slash), e.g. ``models``."""
    model_writer_arns: Sequence[str]
    """The only principals that may write or delete under ``model_prefix``; empty: none."""
    capture_prefixes: Sequence[str]
    """Key prefixes of captured endpoint traffic; empty when nothing is captured."""
    capture_writer_arns: pulumi.Input[Sequence[str]]
    """The only principals that may write or delete under ``capture_prefixes`` (the SageMaker
    execution roles of the endpoints and fleets that capture); empty: none."""
    code_prefixes: Sequence[str] = ()
    """Key prefixes the retraining pipelines read step scripts from. Default none."""
    code_writer_arns: Sequence[str] = ()
    """The only principals that may write or delete under ``code_prefixes`` (the stack's
    release role); empty: none."""
    eventbridge_publishes: bool = False
    """Let EventBridge rules of this account use the key (to publish to the encrypted alert
    topic, e.g. approval notices). Default false."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every taggable child resource. Default none."""


def ecr_lifecycle_policy(keep_tagged_images: int, untagged_image_expiry_days: int) -> str:
    """The ECR lifecycle policy document: expire untagged layers first, then old releases."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Expire untagged images after {untagged_image_expiry_days}d",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_image_expiry_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the newest {keep_tagged_images} tagged images",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPatternList": ["*"],
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_tagged_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


def kms_key_policy(
    account_id: pulumi.Input[str],
    region: pulumi.Input[str],
    partition: pulumi.Input[str],
    eventbridge_publishes: bool = False,
) -> pulumi.Output[str]:
    """Key policy: the account administers the key through IAM; the AWS services the kit
    encrypts with (CloudWatch Logs, SNS fed by CloudWatch alarms and, with
    ``eventbridge_publishes``, by EventBridge rules) may use it, only from this account."""
    publishers = ["cloudwatch.amazonaws.com"]
    if eventbridge_publishes:
        publishers.append("events.amazonaws.com")
    root = account_root(partition, account_id)
    use = [
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:Describe*",
    ]
    return json_document(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersThroughIam",
                    "Effect": "Allow",
                    "Principal": {"AWS": root},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsEncryptsLogGroups",
                    "Effect": "Allow",
                    "Principal": {"Service": concat("logs.", region, ".amazonaws.com")},
                    "Action": use,
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": concat(
                                "arn:", partition, ":logs:", region, ":", account_id, ":log-group:*"
                            )
                        }
                    },
                },
                {
                    "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
                    "Effect": "Allow",
                    "Principal": {"Service": publishers[0] if len(publishers) == 1 else publishers},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ],
        },
        sort_keys=True,
    )


OBJECT_WRITE_ACTIONS = (
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectVersionTagging",
    "s3:ReplicateDelete",
    "s3:ReplicateObject",
    "s3:RestoreObject",
)
"""Every S3 action that creates, replaces, deletes or relabels an object or a version."""


def _deny_writes_but_by(
    sid: str, bucket_arn: pulumi.Input[str], prefix: str, writers: pulumi.Input[Sequence[str]]
) -> pulumi.Output[dict[str, Any]]:
    """Deny every object write under ``prefix`` to all principals but ``writers`` (to all
    of them when ``writers`` is empty)."""

    def statement(resolved: list[Any]) -> dict[str, Any]:
        arn, owners = resolved
        deny: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(OBJECT_WRITE_ACTIONS),
            "Resource": f"{arn}/{prefix}/*",
        }
        if owners:
            deny["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": sorted(owners)}}
        return deny

    return pulumi.Output.all(bucket_arn, writers).apply(statement)


def artifacts_bucket_policy(
    bucket_arn: pulumi.Input[str],
    model_prefix: str,
    model_writer_arns: pulumi.Input[Sequence[str]],
    capture_prefixes: Sequence[str],
    capture_writer_arns: pulumi.Input[Sequence[str]],
    code_prefixes: Sequence[str] = (),
    code_writer_arns: Sequence[str] = (),
) -> pulumi.Output[str]:
    """The artifacts bucket's policy: deny every request without TLS; deny writing or
    deleting model artifacts to all but ``model_writer_arns``, captured traffic to all but
    ``capture_writer_arns``, and pipeline step scripts to all but ``code_writer_arns``, so
    nothing else can swap a file under a running stack or what its pipelines run."""
    statements: list[Any] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, concat(bucket_arn, "/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        _deny_writes_but_by(
            "DenyModelWritesButByModelWriters", bucket_arn, model_prefix, model_writer_arns
        ),
    ]
    for index, capture_prefix in enumerate(capture_prefixes):
        statements.append(
            _deny_writes_but_by(
                # The first keeps the name it had when a stack captured under one prefix.
                "DenyCaptureWritesButByEndpointRole" + (str(index) if index else ""),
                bucket_arn,
                capture_prefix,
                capture_writer_arns,
            )
        )
    for index, code_prefix in enumerate(sorted(set(code_prefixes))):
        statements.append(
            _deny_writes_but_by(
                f"DenyCodeWritesButByCodeWriters{index}",
                bucket_arn,
                code_prefix,
                sorted(code_writer_arns),
            )
        )
    return json_document({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class Registry(pulumi.ComponentResource):
    """KMS key, ECR repository, model package group and artifacts bucket.

    Raises :class:`ResourceError` for a key deletion window outside 7-30 days.

    Outputs: ``kms_key_arn``, ``repository_url``, ``repository_arn``,
    ``model_package_group_name``, ``model_package_group_arn``, ``artifacts_bucket``,
    ``artifacts_bucket_arn``.
    """

    def __init__(
        self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:registry:Registry", name, None, opts)
        if not 7 <= args.kms_deletion_window_days <= 30:
            raise ResourceError(
                f"RegistryArgs: kms_deletion_window_days {args.kms_deletion_window_days} is "
                "outside KMS's 7-30 days",
                self,
            )
        child = pulumi.ResourceOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self))

        self.kms_key = aws.kms.Key(
            f"{name}-key",
            description=f"mlstack {name}: images, artifacts, captured data, logs and alerts",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=kms_key_policy(
                identity.account_id, region.region, args.partition, args.eventbridge_publishes
            ),
            tags=args.tags,
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=args.key_alias,
            target_key_id=self.kms_key.key_id,
            opts=child,
        )

        self.repository = aws.ecr.Repository(
            f"{name}-images",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(
                    encryption_type="KMS", kms_key=self.kms_key.arn
                )
            ],
            force_delete=False,
            tags=args.tags,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-images-lifecycle",
            repository=self.repository.name,
            policy=ecr_lifecycle_policy(args.keep_tagged_images, args.untagged_image_expiry_days),
            opts=child,
        )

        self.model_package_group = aws.sagemaker.ModelPackageGroup(
            f"{name}-models",
            model_package_group_name=args.model_package_group_name,
            model_package_group_description=f"Model versions served by mlstack ({name})",
            tags=args.tags,
            opts=child,
        )

        self.artifacts_bucket = self._artifacts_bucket(name, args, child)

        self.register_outputs(
            {
                "kms_key_arn": self.kms_key.arn,
                "repository_url": self.repository.repository_url,
                "repository_arn": self.repository.arn,
                "model_package_group_name": self.model_package_group.model_package_group_name,
                "model_package_group_arn": self.model_package_group.arn,
                "artifacts_bucket": self.artifacts_bucket.bucket,
                "artifacts_bucket_arn": self.artifacts_bucket.arn,
            }
        )

    def _artifacts_bucket(
        self, name: str, args: RegistryArgs, child: pulumi.ResourceOptions
    ) -> aws.s3.Bucket:
        bucket = aws.s3.Bucket(f"{name}-artifacts", force_destroy=False, tags=args.tags, opts=child)
        aws.s3.BucketOwnershipControls(
            f"{name}-artifacts-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-artifacts-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-artifacts-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=self.kms_key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-artifacts-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-artifacts-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.noncurrent_artifact_expiry_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=child,
        )
        # Named for its first statement; renaming it would replace the bucket's policy.
        aws.s3.BucketPolicy(
            f"{name}-artifacts-tls-only",
            bucket=bucket.id,
            policy=artifacts_bucket_policy(
                bucket.arn,
                args.model_prefix,
                list(args.model_writer_arns),
                args.capture_prefixes,
                args.capture_writer_arns,
                args.code_prefixes,
                args.code_writer_arns,
            ),
            opts=child,
        )
        return bucket
