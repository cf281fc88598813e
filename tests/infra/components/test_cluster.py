"""The cluster component's secure defaults, read from the offline plans."""

from __future__ import annotations

import json

import pytest

from infra.components.cluster import ADDON_VERSIONS, CONTROL_PLANE_LOG_TYPES
from infra.config.eks import KUBERNETES_VERSIONS
from mlstack.offline.plan import Plan
from tests.infra.conftest import PlanWith
from tests.infra.eks_plans import (
    STAGING_ADMIN,
    kubernetes_version,
    one,
)

CLUSTER = "aws:eks/cluster:Cluster"


@pytest.fixture(params=["production", "staging-eks"])
def plan(request: pytest.FixtureRequest, shipped_plans: dict[str, Plan]) -> Plan:
    if request.param == "production":
        return shipped_plans["production"]
    return request.getfixturevalue("staging_eks_plan")


def test_api_endpoint_is_private_by_default(plan: Plan) -> None:
    vpc = one(plan, CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    assert sorted(vpc["subnetIds"]) == sorted(plan.outputs["privateSubnetIds"])


def test_secrets_are_encrypted_with_the_stack_key(plan: Plan) -> None:
    (encryption,) = [one(plan, CLUSTER).inputs["encryptionConfig"]]
    assert encryption["resources"] == ["secrets"]
    assert encryption["provider"]["keyArn"] == plan.outputs["kmsKeyArn"]


def test_all_five_control_plane_log_types_go_to_an_encrypted_group(plan: Plan) -> None:
    cluster = one(plan, CLUSTER).inputs
    assert sorted(cluster["enabledClusterLogTypes"]) == sorted(CONTROL_PLANE_LOG_TYPES)
    assert len(CONTROL_PLANE_LOG_TYPES) == 5
    (group,) = [
        r.inputs
        for r in plan.of_type("aws:cloudwatch/logGroup:LogGroup")
        if r.inputs.get("name") == f"/aws/eks/{cluster['name']}/cluster"
    ]
    assert group["kmsKeyId"] == plan.outputs["kmsKeyArn"]
    assert group["retentionInDays"] > 0


def test_access_is_by_access_entries_for_the_configured_admins_only(plan: Plan) -> None:
    access = one(plan, CLUSTER).inputs["accessConfig"]
    assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entries = {r.inputs["principalArn"] for r in plan.of_type("aws:eks/accessEntry:AccessEntry")}
    policies = plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert {r.inputs["principalArn"] for r in policies} == entries
    assert all(r.inputs["accessScope"] == {"type": "cluster"} for r in policies)
    if plan.stack == "staging":
        assert entries == {STAGING_ADMIN}


def test_oidc_provider_trusts_the_cluster_issuer_for_sts(plan: Plan) -> None:
    provider = one(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider["url"].startswith("https://oidc.eks.")


def test_nodes_require_imdsv2_and_encrypt_their_volumes(plan: Plan) -> None:
    template = one(plan, "aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (volume,) = template["blockDeviceMappings"]
    assert volume["ebs"]["encrypted"] == "true"
    group = one(plan, "aws:eks/nodeGroup:NodeGroup").inputs
    assert group["launchTemplate"]["id"].startswith("lt-")
    assert "diskSize" not in group and "remoteAccess" not in group
    assert sorted(group["subnetIds"]) == sorted(plan.outputs["privateSubnetIds"])


def test_core_addons_are_pinned_for_the_configured_version(plan: Plan) -> None:
    version = kubernetes_version(plan)
    assert version in KUBERNETES_VERSIONS
    addons = {
        r.inputs["addonName"]: r.inputs["addonVersion"] for r in plan.of_type("aws:eks/addon:Addon")
    }
    assert addons == ADDON_VERSIONS[version]
    assert {"vpc-cni", "coredns", "kube-proxy"} <= set(addons)
    (cni,) = [
        r.inputs for r in plan.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "vpc-cni"
    ]
    assert json.loads(cni["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert cni["serviceAccountRoleArn"].startswith("arn:aws:iam::")


def test_every_supported_version_has_pinned_addons() -> None:
    assert set(ADDON_VERSIONS) == set(KUBERNETES_VERSIONS)


def test_kubernetes_resources_use_the_cluster_provider_explicitly(plan: Plan) -> None:
    (provider,) = [r for r in plan.resources if r.type == "pulumi:providers:kubernetes"]
    kube_resources = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert kube_resources
    for resource in kube_resources:
        assert resource.provider is not None
        assert resource.provider.startswith(provider.urn), resource.name


def test_kubeconfig_gets_tokens_from_aws_eks_get_token(plan: Plan) -> None:
    (provider,) = [r for r in plan.resources if r.type == "pulumi:providers:kubernetes"]
    config = json.loads(provider.inputs["kubeconfig"])
    (user,) = config["users"]
    exec_config = user["user"]["exec"]
    assert exec_config["command"] == "aws"
    assert exec_config["args"][:2] == ["eks", "get-token"]
    assert one(plan, CLUSTER).inputs["name"] in exec_config["args"]
    assert "token" not in user["user"]


def test_public_endpoint_only_by_opt_in_with_named_cidrs(plan_with: PlanWith) -> None:
    def public(config: dict) -> None:
        config["mlstack:eks"]["endpointAccess"] = "private-and-public"
        config["mlstack:eks"]["publicAccessCidrs"] = ["203.0.113.0/24"]

    plan = plan_with("production", public)
    vpc = one(plan, CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["endpointPrivateAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_staging_declares_no_cluster(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["staging"]
    assert not plan.of_type(CLUSTER)
    assert not [r for r in plan.resources if r.type.startswith("kubernetes:")]
