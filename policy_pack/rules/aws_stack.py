"""Rules over AWS resources that must come together: a bucket and its companions, a VPC and
its flow log. The physical names tie them (``bucket``, ``vpcId``); a name only known after
deployment matches any resource, so previews of new stacks never fail on it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from policy_pack.rules.base import (
    Resource,
    StackContext,
    StackRule,
    Violation,
    as_list,
    get,
    is_unknown,
    policy_statements,
    strings,
)
from policy_pack.type_tokens import (
    EC2_FLOW_LOG,
    EC2_VPC,
    S3_BUCKET_ENCRYPTION_TYPES,
    S3_BUCKET_POLICY,
    S3_BUCKET_PUBLIC_ACCESS_BLOCK,
    S3_BUCKET_TYPES,
    S3_BUCKET_VERSIONING_TYPES,
)


def _bucket_name(bucket: Resource) -> str | None:
    name = bucket.inputs.get("bucket")
    return name if isinstance(name, str) else bucket.id


def _companions(
    resources: Sequence[Resource], bucket: Resource, types: tuple[str, ...]
) -> list[Resource]:
    name = _bucket_name(bucket)
    found = []
    for resource in resources:
        if resource.type not in types:
            continue
        target = resource.inputs.get("bucket")
        if name is None or is_unknown(name) or is_unknown(target) or target == name:
            found.append(resource)
    return found


def _buckets(resources: Sequence[Resource]) -> list[Resource]:
    return [r for r in resources if r.type in S3_BUCKET_TYPES]


def _bucket_public_access_block(
    resources: Sequence[Resource], _: StackContext
) -> Iterable[Violation]:
    for bucket in _buckets(resources):
        if not _companions(resources, bucket, (S3_BUCKET_PUBLIC_ACCESS_BLOCK,)):
            yield Violation(bucket.urn, "bucket has no public access block: add one")


def _bucket_versioning(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    for bucket in _buckets(resources):
        inline = get(bucket.inputs, "versioning", "enabled") is True
        enabled = [
            c
            for c in _companions(resources, bucket, S3_BUCKET_VERSIONING_TYPES)
            if get(c.inputs, "versioningConfiguration", "status") in ("Enabled", None)
            or is_unknown(get(c.inputs, "versioningConfiguration", "status"))
        ]
        if not inline and not enabled:
            yield Violation(bucket.urn, "bucket versioning is off: add a BucketVersioning Enabled")


def _bucket_kms(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    for bucket in _buckets(resources):
        rules = [
            rule
            for config in _companions(resources, bucket, S3_BUCKET_ENCRYPTION_TYPES)
            for rule in as_list(config.inputs.get("rules"))
        ]
        algorithms = [
            get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") for rule in rules
        ]
        if not any(a in ("aws:kms", "aws:kms:dsse") or is_unknown(a) for a in algorithms):
            yield Violation(
                bucket.urn,
                "bucket is not encrypted with KMS by default: add a server-side encryption "
                "configuration with sse_algorithm='aws:kms' and the stack's key",
            )


def _denies_insecure_transport(policy: Resource) -> bool:
    for statement in policy_statements(policy.inputs.get("policy")):
        condition = get(statement, "Condition", "Bool", "aws:SecureTransport")
        if statement.get("Effect") == "Deny" and "false" in [
            str(v).lower() for v in strings(condition) or [condition]
        ]:
            return True
    return is_unknown(policy.inputs.get("policy"))


def _bucket_tls_only(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    for bucket in _buckets(resources):
        policies = _companions(resources, bucket, (S3_BUCKET_POLICY,))
        if not any(_denies_insecure_transport(p) for p in policies):
            yield Violation(
                bucket.urn,
                "bucket accepts plain HTTP: add a bucket policy denying aws:SecureTransport=false",
            )


def _vpc_flow_logs(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    logged = [get(r.inputs, "vpcId") for r in resources if r.type == EC2_FLOW_LOG]
    for vpc in resources:
        if vpc.type != EC2_VPC:
            continue
        if not any(v == vpc.id or is_unknown(v) or vpc.id is None for v in logged):
            yield Violation(vpc.urn, "VPC has no flow log: add an aws.ec2.FlowLog for it")


RULES: tuple[StackRule, ...] = (
    StackRule(
        name="s3-bucket-public-access-block",
        description="Every S3 bucket has a public access block.",
        check=_bucket_public_access_block,
        fix="give the bucket a public access block with all four flags, as the registry component"
        " does for the artifacts bucket",
        checkov_id="CKV2_AWS_6",
    ),
    StackRule(
        name="s3-bucket-versioning",
        description="Every S3 bucket keeps object versions.",
        check=_bucket_versioning,
        fix="turn on versioning for the bucket, as the registry component does "
        "(mlstack:registry.noncurrentArtifactExpiryDays)",
        checkov_id="CKV_AWS_21",
    ),
    StackRule(
        name="s3-bucket-kms-encryption",
        description="Every S3 bucket encrypts new objects with KMS by default.",
        check=_bucket_kms,
        fix="encrypt the bucket with the stack's KMS key, as the registry component does",
        checkov_id="CKV_AWS_145",
    ),
    StackRule(
        name="s3-bucket-tls-only",
        description="Every S3 bucket refuses requests without TLS.",
        check=_bucket_tls_only,
        fix="deny requests without TLS in the bucket policy, as the registry component does",
    ),
    StackRule(
        name="vpc-flow-logs",
        description="Every VPC records flow logs.",
        check=_vpc_flow_logs,
        fix="keep flow logs on for the VPC (network component, "
        "mlstack:network.flowLogRetentionDays)",
        checkov_id="CKV2_AWS_11",
    ),
)
