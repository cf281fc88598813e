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

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
CONTENT_TYPES = ["application/json"]
REGISTERED_BY = "mlstack:registeredBy"
"""Customer metadata key holding the principal that registered a version."""


class SelfApprovalError(AwsError):
    """The principal approving a version is the one that registered it."""


def check_image(image: str, repository_url: str) -> None:
    """``image`` must be the stack's repository pinned by digest: a tag can be moved under a
    running stack, another registry is outside the stack's control. Raises ``ValueError``."""
    repository, _, digest = image.partition("@")
    if repository != repository_url or not DIGEST.match(digest):
        raise ValueError(
            f"--image {image}: register an image of the stack's repository by digest, "
            f"{repository_url}@sha256:<64 hex digits> (see `docker inspect --format "
            "'{{index .RepoDigests 0}}'`)"
        )


def check_artifact(artifact: str, bucket: str) -> None:
    """``artifact`` must be an object in the stack's artifacts bucket. Raises ``ValueError``."""
    prefix = f"s3://{bucket}/"
    if not artifact.startswith(prefix) or len(artifact) == len(prefix) or " " in artifact:
        raise ValueError(
            f"--artifact {artifact}: upload the model artifact to the stack's artifacts "
            f"bucket and give its URI, {prefix}<key>/model.tar.gz"
        )


def principal(arn: str) -> str:
    """The identity behind a caller ARN: an assumed-role session is its role, so two
    sessions of one role are one principal."""
    match = re.match(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/", arn)
    if match:
        partition, account, role = match.groups()
        return f"arn:{partition}:iam::{account}:role/{role}"
    return arn


def caller(sts: Any) -> str:
    """The principal making the calls, as :func:`principal` names it."""
    with calling("asking AWS who is calling"):
        return principal(sts.get_caller_identity()["Arn"])


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


@dataclass(frozen=True)
class StackStores:
    """Where a stack keeps what it serves: its ECR repository and its artifacts bucket."""

    repository_url: str
    artifacts_bucket: str


def register(
    sagemaker: Any,
    sts: Any,
    group: str,
    image: str,
    artifact: str,
    stores: StackStores,
    description: str | None = None,
) -> ModelVersion:
    """Create a new version in ``group`` awaiting manual approval and return it.

    Only the stack's repository by digest and an artifact in the stack's bucket are accepted
    (``ValueError`` otherwise); the registering principal is recorded for :func:`approve`.
    Raises :class:`AwsError` when AWS fails.
    """
    problems = []
    for check, value, store in (
        (check_image, image, stores.repository_url),
        (check_artifact, artifact, stores.artifacts_bucket),
    ):
        try:
            check(value, store)
        except ValueError as err:
            problems.append(str(err))
    if problems:
        raise ValueError("\n".join(problems))
    _check_group(sagemaker, group)
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelApprovalStatus": PENDING,
        "CustomerMetadataProperties": {REGISTERED_BY: caller(sts)},
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


def _registered_by(sagemaker: Any, arn: str) -> str | None:
    with calling("reading who registered the version"):
        described = sagemaker.describe_model_package(ModelPackageName=arn)
    created = ((described.get("CreatedBy") or {}).get("IamIdentity") or {}).get("Arn")
    recorded = (described.get("CustomerMetadataProperties") or {}).get(REGISTERED_BY)
    found = recorded or created
    return principal(found) if found else None


def approve(
    sagemaker: Any,
    sts: Any,
    group: str,
    version: int,
    note: str | None = None,
    allow_self_approval: bool = False,
) -> ModelVersion:
    """Mark a version ``Approved`` (a no-op when it already is) and return it.

    A second person approves: the principal that registered the version may not, unless
    ``allow_self_approval`` (raises :class:`SelfApprovalError`)."""
    current = find(sagemaker, group, version)
    if current.status == APPROVED:
        return current
    if not allow_self_approval:
        approver = caller(sts)
        if _registered_by(sagemaker, current.arn) == approver:
            raise SelfApprovalError(
                f"{group} v{version} was registered by {approver}, who may not also approve "
                "it: ask a reviewer, or pass --allow-self-approval (recorded in the note)"
            )
    elif note is None:
        note = "self-approved"
    request: dict[str, Any] = {"ModelPackageArn": current.arn, "ModelApprovalStatus": APPROVED}
    if note:
        request["ApprovalDescription"] = note
    with calling(f"approving {group} v{version}"):
        sagemaker.update_model_package(**request)
    return find(sagemaker, group, version)
