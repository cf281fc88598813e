"""The Terraform JSON converter: types and attribute shapes from the pulumi-aws SDK."""

from __future__ import annotations

import pytest

from mlstack.offline.plan import Plan, PlannedResource
from mlstack.scan.terraform_json import args_class, convert_plan, shapes, terraform_type
from tests.conftest import SHIPPED_STACKS


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("aws:sagemaker/endpointConfiguration:EndpointConfiguration",
         "aws_sagemaker_endpoint_configuration"),
        ("aws:ec2/vpc:Vpc", "aws_vpc"),
        ("aws:ec2/launchTemplate:LaunchTemplate", "aws_launch_template"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "aws_cloudwatch_metric_alarm"),
        ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws_iam_openid_connect_provider"),
        ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
         "aws_s3_bucket_server_side_encryption_configuration"),
        ("kubernetes:apps/v1:Deployment", None),
    ],
)  # fmt: skip
def test_type_tokens_map_to_terraform_types(token: str, expected: str | None) -> None:
    assert terraform_type(token) == expected


def test_shapes_come_from_the_sdk() -> None:
    repository = shapes(args_class("aws:ecr/repository:Repository"))
    assert repository["encryptionConfigurations"].terraform_name == "encryption_configuration"
    assert repository["imageScanningConfiguration"].kind == "block"
    config = shapes(args_class("aws:sagemaker/endpointConfiguration:EndpointConfiguration"))
    assert config["productionVariants"].terraform_name == "production_variants"
    assert config["kmsKeyArn"].terraform_name == "kms_key_arn"
    versioning = shapes(args_class("aws:s3/bucketVersioning:BucketVersioning"))
    assert versioning["versioningConfiguration"].kind == "block"


def _resource(type_token: str, name: str, inputs: dict, custom: bool = True) -> PlannedResource:
    return PlannedResource(
        f"urn:pulumi:t::mlstack::{type_token}::{name}", type_token, name, None, custom, None, inputs
    )


def test_blocks_are_one_element_lists_and_references_resolve() -> None:
    plan = Plan("mlstack", "t", [
        _resource("aws:kms/key:Key", "key", {"enableKeyRotation": True}),
        _resource("aws:ecr/repository:Repository", "images", {
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "x"}],
        }),
    ], {})  # fmt: skip
    body = convert_plan(plan).document["resource"]["aws_ecr_repository"]["images"]
    assert body["image_scanning_configuration"] == [{"scan_on_push": True}]
    assert body["encryption_configuration"] == [{"encryption_type": "KMS", "kms_key": "x"}]


def test_unknown_and_non_aws_types_are_listed_not_dropped() -> None:
    plan = Plan("mlstack", "t", [
        _resource("mlstack:registry:Registry", "registry", {}, custom=False),
        _resource("kubernetes:core/v1:Namespace", "ns", {}),
        _resource("aws:madeup/thing:Thing", "thing", {}),
        _resource("random:index/randomId:RandomId", "rid", {}),
    ], {})  # fmt: skip
    conversion = convert_plan(plan)
    assert conversion.converted == {}
    assert len(conversion.not_converted) == 4
    assert conversion.unknown_types() == [
        "aws:madeup/thing:Thing",
        "random:index/randomId:RandomId",
    ]


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_aws_type_of_shipped_stacks_converts(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    conversion = convert_plan(shipped_plans[stack])
    assert conversion.unknown_types() == []
    aws = [r for r in shipped_plans[stack].resources if r.custom and r.type.startswith("aws:")]
    assert len(conversion.converted) == len(aws)
