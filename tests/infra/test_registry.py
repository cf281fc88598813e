"""Registry component defaults: encryption, immutability, scanning, lifecycle, public access."""

from __future__ import annotations

import json

import pytest

from mlstack.offline.plan import Plan, PlannedResource
from tests.conftest import SHIPPED_STACKS


def only(plan: Plan, type_token: str) -> PlannedResource:
    (resource,) = plan.of_type(type_token)
    return resource


@pytest.fixture(params=SHIPPED_STACKS)
def plan(request: pytest.FixtureRequest, shipped_plans: dict[str, Plan]) -> Plan:
    return shipped_plans[request.param]


def test_children_are_parented_to_the_component(plan: Plan) -> None:
    component = only(plan, "mlstack:registry:Registry")
    children = plan.children(component.urn)
    assert len(children) >= 12
    assert all(child.name.startswith(f"{component.name}-") for child in children)


def test_kms_key_rotates(plan: Plan) -> None:
    key = only(plan, "aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert 7 <= key.inputs["deletionWindowInDays"] <= 30
    policy = json.loads(key.inputs["policy"])
    root = [
        s
        for s in policy["Statement"]
        if s["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    ]
    assert root, "the account must administer its key through IAM"


def test_ecr_repository_is_immutable_scanned_and_kms_encrypted(plan: Plan) -> None:
    repository = only(plan, "aws:ecr/repository:Repository")
    key_arn = only(plan, "aws:kms/key:Key")
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    (encryption,) = repository.inputs["encryptionConfigurations"]
    assert encryption["encryptionType"] == "KMS"
    assert encryption["kmsKey"].startswith("arn:aws:kms:")
    assert key_arn.type == "aws:kms/key:Key"
    assert repository.inputs.get("forceDelete") is False


def test_ecr_lifecycle_expires_untagged_then_old_images(plan: Plan) -> None:
    lifecycle = only(plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    rules = json.loads(lifecycle.inputs["policy"])["rules"]
    assert [r["selection"]["tagStatus"] for r in rules] == ["untagged", "tagged"]
    assert rules[1]["selection"]["countType"] == "imageCountMoreThan"


def test_model_package_group_is_named_from_config(plan: Plan) -> None:
    group = only(plan, "aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert group.inputs["modelPackageGroupName"] == "churn-classifier"


def test_artifacts_bucket_is_kms_encrypted(plan: Plan) -> None:
    encryption = only(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    (rule,) = encryption.inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"].startswith("arn:aws:kms:")
    assert rule["bucketKeyEnabled"] is True


def test_artifacts_bucket_is_versioned_private_and_tls_only(plan: Plan) -> None:
    versioning = only(plan, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    block = only(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block.inputs[flag] is True
    ownership = only(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    policy = json.loads(only(plan, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_the_owners_write_models_and_captured_traffic(plan: Plan) -> None:
    policy = json.loads(only(plan, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    models = statements["DenyModelWritesButByModelWriters"]
    assert models["Resource"].endswith("/models/*") and "s3:PutObject" in models["Action"]
    assert models["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [
        "arn:aws:iam::123456789012:role/mlstack-model-release"
    ]
    capture = statements["DenyCaptureWritesButByEndpointRole"]
    assert capture["Resource"].endswith("/data-capture/*")
    (writer,) = capture["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    (model,) = [m for m in plan.of_type("aws:sagemaker/model:Model") if m.name == "sagemaker-model"]
    assert writer == model.inputs["executionRoleArn"], "the endpoint's own execution role"


def test_every_taggable_resource_carries_the_stack_tags(plan: Plan) -> None:
    tagged = [r for r in plan.resources if r.custom and "tags" in r.inputs]
    assert len(tagged) >= 4
    for resource in tagged:
        tags = resource.inputs["tags"]
        if isinstance(tags, list):  # pulumi-aws-native: CloudFormation's [{key, value}]
            tags = {t["key"]: t["value"] for t in tags}
        assert tags["mlstack:stack"] == plan.stack
        assert tags["owner"] == "ml-platform"
