"""Policy rules over resources as the engine receives them (type token + camelCase inputs).

Each rule is plain Python with no Pulumi runtime, so the same rules run offline over a plan
(``infra/policy/evaluate.py``) and inside the CrossGuard pack (``infra/policy/__main__.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Inputs = dict[str, Any]


@dataclass(frozen=True)
class ResourceRule:
    """A rule that checks every resource of the given types on its own."""

    name: str
    description: str
    resource_types: tuple[str, ...]
    check: Callable[[str, Inputs], Iterable[str]]
    """Yields one message per violation; each message says what to change."""
    checkov_id: str | None = None
    """The equivalent checkov check, where one exists."""


def _kms_rotation(_: str, inputs: Inputs) -> Iterable[str]:
    if not inputs.get("enableKeyRotation"):
        yield "KMS key rotation is off: set enable_key_rotation=True"


def _ecr_immutable(_: str, inputs: Inputs) -> Iterable[str]:
    if inputs.get("imageTagMutability") != "IMMUTABLE":
        yield "ECR image tags are mutable: set image_tag_mutability='IMMUTABLE'"


def _ecr_scan_on_push(_: str, inputs: Inputs) -> Iterable[str]:
    if not (inputs.get("imageScanningConfiguration") or {}).get("scanOnPush"):
        yield "ECR scan on push is off: set image_scanning_configuration.scan_on_push=True"


def _s3_public_access_block(_: str, inputs: Inputs) -> Iterable[str]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    missing = [flag for flag in flags if inputs.get(flag) is not True]
    if missing:
        yield f"S3 public access is not fully blocked: set {', '.join(missing)} to true"


RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        name="kms-key-rotation",
        description="Customer-managed KMS keys rotate their key material.",
        resource_types=("aws:kms/key:Key",),
        check=_kms_rotation,
        checkov_id="CKV_AWS_7",
    ),
    ResourceRule(
        name="ecr-immutable-tags",
        description="ECR repositories use immutable tags, so a deployed tag never changes.",
        resource_types=("aws:ecr/repository:Repository",),
        check=_ecr_immutable,
        checkov_id="CKV_AWS_51",
    ),
    ResourceRule(
        name="ecr-scan-on-push",
        description="ECR repositories scan every pushed image for vulnerabilities.",
        resource_types=("aws:ecr/repository:Repository",),
        check=_ecr_scan_on_push,
        checkov_id="CKV_AWS_163",
    ),
    ResourceRule(
        name="s3-public-access-blocked",
        description="S3 public access blocks set all four flags.",
        resource_types=("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",),
        check=_s3_public_access_block,
        checkov_id=None,
    ),
)
