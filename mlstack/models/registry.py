"""The SageMaker Model Registry: register a model version, approve it, look one up.

A model version is a versioned model package in a model package group. ``register`` creates
one awaiting approval (``PendingManualApproval``); only an ``Approved`` version may be
promoted into a stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from mlstack.models.aws import AwsError, calling, error_code

PENDING = "PendingManualApproval"
APPROVED = "Approved"
REJECTED = "Rejected"

IMAGE_PATTERN = re.compile(
    r"^[a-z0-9.\-]+(:[0-9]+)?/[a-z0-9._/\-]+(:[\w.\-]{1,128}|@sha256:[0-9a-f]{64})$"
)
"""A registry image reference with a tag or a digest, e.g.
``123456789012.dkr.ecr.us-east-1.amazonaws.com/churn@sha256:...``."""
ARTIFACT_PATTERN = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S+$")
"""An S3 object URI of the model artifact, e.g. ``s3://bucket/models/churn/model.tar.gz``."""
CONTENT_TYPES = ["application/json"]


@dataclass(frozen=True)
class ModelVersion:
    """One version of a model package group."""

    group: str
    version: int
    arn: str
    status: str
    image: str | None = None
    artifact: str | None = None

    def describe(self) -> str:
        return f"{self.group} v{self.version} ({self.status})"


def _check_group(sagemaker: Any, group: str) -> None:
    with calling(f"model package group '{group}'"):
        try:
            sagemaker.describe_model_package_group(ModelPackageGroupName=group)
        except ClientError as err:
            if error_code(err) not in ("ValidationException", "ResourceNotFound"):
                raise
            raise AwsError(
                f"model package group '{group}' does not exist in "
                f"{sagemaker.meta.region_name} (pulumi up creates the stack's group)"
            ) from None


def _version_of(summary: dict[str, Any]) -> int | None:
    version = summary.get("ModelPackageVersion")
    return int(version) if version is not None else None


def _from_description(group: str, described: dict[str, Any]) -> ModelVersion:
    containers = (described.get("InferenceSpecification") or {}).get("Containers") or [{}]
    return ModelVersion(
        group=group,
        version=int(described["ModelPackageVersion"]),
        arn=described["ModelPackageArn"],
        status=described.get("ModelApprovalStatus", "?"),
        image=containers[0].get("Image"),
        artifact=containers[0].get("ModelDataUrl"),
    )


def register(
    sagemaker: Any, group: str, image: str, artifact: str, description: str | None = None
) -> ModelVersion:
    """Create a new version in ``group`` awaiting manual approval and return it.

    Raises ``ValueError`` for a malformed image or artifact URI, :class:`AwsError` otherwise.
    """
    if not IMAGE_PATTERN.match(image):
        raise ValueError(f"--image {image!r}: expected REGISTRY/REPOSITORY:TAG or @sha256:DIGEST")
    if not ARTIFACT_PATTERN.match(artifact):
        raise ValueError(f"--artifact {artifact!r}: expected s3://BUCKET/KEY of the model artifact")
    _check_group(sagemaker, group)
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelApprovalStatus": PENDING,
        "InferenceSpecification": {
            "Containers": [{"Image": image, "ModelDataUrl": artifact}],
            "SupportedContentTypes": CONTENT_TYPES,
            "SupportedResponseMIMETypes": CONTENT_TYPES,
        },
    }
    if description:
        request["ModelPackageDescription"] = description
    with calling(f"registering a version in '{group}'"):
        arn = sagemaker.create_model_package(**request)["ModelPackageArn"]
        described = sagemaker.describe_model_package(ModelPackageName=arn)
    return _from_description(group, described)


def find(sagemaker: Any, group: str, version: int) -> ModelVersion:
    """Version ``version`` of ``group``; fails naming the latest version when it is missing."""
    _check_group(sagemaker, group)
    latest = 0
    with calling(f"listing the versions of '{group}'"):
        pages = sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group)
        for page in pages:
            for summary in page.get("ModelPackageSummaryList", []):
                number = _version_of(summary)
                if number is None:
                    continue
                latest = max(latest, number)
                if number == version:
                    described = sagemaker.describe_model_package(
                        ModelPackageName=summary["ModelPackageArn"]
                    )
                    return _from_description(group, described)
    existing = f"latest is v{latest}" if latest else "it has no versions yet"
    raise AwsError(f"model package group '{group}' has no version {version} ({existing})")


def approve(sagemaker: Any, group: str, version: int, note: str | None = None) -> ModelVersion:
    """Mark a version ``Approved`` (a no-op when it already is) and return it."""
    current = find(sagemaker, group, version)
    if current.status == APPROVED:
        return current
    request: dict[str, Any] = {"ModelPackageArn": current.arn, "ModelApprovalStatus": APPROVED}
    if note:
        request["ApprovalDescription"] = note
    with calling(f"approving {group} v{version}"):
        sagemaker.update_model_package(**request)
    return find(sagemaker, group, version)
