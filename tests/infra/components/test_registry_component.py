"""Registry declared on its own: a KMS key with rotation, an immutable scanned ECR repository,
the model package group and a private, encrypted artifacts bucket."""

from __future__ import annotations

import json

import pytest

from infra.components.errors import ResourceError
from infra.components.registry import Registry, RegistryArgs
from tests.infra.components.conftest import Declare, Declared

RELEASE_ROLE = "arn:aws:iam::123456789012:role/model-release"
ENDPOINT_ROLE = "arn:aws:iam::123456789012:role/sagemaker-role-abc1234"


def registry_args(**changes: object) -> RegistryArgs:
    fields: dict[str, object] = {
        "key_alias": "alias/registry-test",
        "partition": "aws-cn",
        "model_package_group_name": "churn-models",
        "keep_tagged_images": 20,
        "untagged_image_expiry_days": 3,
        "noncurrent_artifact_expiry_days": 30,
        "kms_deletion_window_days": 30,
        "model_prefix": "models",
        "model_writer_arns": (RELEASE_ROLE,),
        "capture_prefixes": ("data-capture",),
        "capture_writer_arns": [ENDPOINT_ROLE],
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


def _bucket_statements(declared: Declared) -> dict[str, dict]:
    policy = json.loads(declared.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def test_bucket_policy_keeps_model_and_capture_writes_to_their_owners(declare: Declare) -> None:
    statements = _bucket_statements(declare(lambda: Registry("registry", registry_args())))
    assert statements["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    for sid, prefix, owner in (
        ("DenyModelWritesButByModelWriters", "models", RELEASE_ROLE),
        ("DenyCaptureWritesButByEndpointRole", "data-capture", ENDPOINT_ROLE),
    ):
        deny = statements[sid]
        assert (deny["Effect"], deny["Principal"]) == ("Deny", "*")
        assert deny["Resource"].endswith(f"/{prefix}/*")
        assert {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(deny["Action"])
        assert not any("Get" in action or "List" in action for action in deny["Action"])
        assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [owner]}}


def test_bucket_policy_without_writers_denies_writes_to_everyone(declare: Declare) -> None:
    args = registry_args(model_writer_arns=(), capture_prefixes=())
    statements = _bucket_statements(declare(lambda: Registry("registry", args)))
    assert "Condition" not in statements["DenyModelWritesButByModelWriters"]
    assert "DenyCaptureWritesButByEndpointRole" not in statements
