"""Registry declared on its own: a KMS key with rotation, an immutable scanned ECR repository,
the model package group and a private, encrypted artifacts bucket."""

from __future__ import annotations

import json

import pytest

from infra.components.errors import ResourceError
from infra.components.registry import Registry, RegistryArgs
from tests.infra.components.conftest import Declare


def registry_args(**changes: object) -> RegistryArgs:
    fields: dict[str, object] = {
        "key_alias": "alias/registry-test",
        "partition": "aws-cn",
        "model_package_group_name": "churn-models",
        "keep_tagged_images": 20,
        "untagged_image_expiry_days": 3,
        "noncurrent_artifact_expiry_days": 30,
        "kms_deletion_window_days": 30,
        "tags": {"team": "ml"},
    }
    fields.update(changes)
    return RegistryArgs(**fields)  # type: ignore[arg-type]


def test_registry_declares_key_repository_group_and_private_bucket(declare: Declare) -> None:
    declared = declare(lambda: Registry("registry", registry_args()))
    key = declared.one("aws:kms/key:Key").inputs
    assert key["enableKeyRotation"] is True
    assert declared.one("aws:kms/alias:Alias").inputs["name"] == "alias/registry-test"
    repository = declared.one("aws:ecr/repository:Repository").inputs
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    group = declared.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup").inputs
    assert group["modelPackageGroupName"] == "churn-models"
    block = declared.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "restrictPublicBuckets"))


def test_registry_key_policy_names_the_given_partition(declare: Declare) -> None:
    declared = declare(lambda: Registry("registry", registry_args()))
    policy = json.loads(declared.one("aws:kms/key:Key").inputs["policy"])
    root = policy["Statement"][0]["Principal"]["AWS"]
    assert root.startswith("arn:aws-cn:iam::")


@pytest.mark.parametrize("days", [6, 31])
def test_registry_rejects_a_key_deletion_window_outside_kms_limits(
    declare: Declare, days: int
) -> None:
    with pytest.raises(ResourceError, match="kms_deletion_window_days"):
        declare(lambda: Registry("registry", registry_args(kms_deletion_window_days=days)))
