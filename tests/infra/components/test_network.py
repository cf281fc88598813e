"""The network component: VPC, private subnets per AZ, NAT per config, endpoints, flow logs."""

from __future__ import annotations

import ipaddress
import json

import pytest

from infra.components.network import (
    INTERFACE_ENDPOINT_SERVICES,
    PRIVATE_NODE_ENDPOINT_SERVICES,
    subnet_cidrs,
)
from mlstack.offline.plan import Plan
from tests.infra.eks_plans import one


def _private_subnets(plan: Plan) -> list[dict]:
    return [r.inputs for r in plan.of_type("aws:ec2/subnet:Subnet") if "-private-" in r.name]


def _endpoint_services(plan: Plan, kind: str) -> set[str]:
    return {
        r.inputs["serviceName"].removeprefix("com.amazonaws.us-east-1.")
        for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs["vpcEndpointType"] == kind
    }


def test_production_vpc_spans_three_azs_with_private_subnets(
    shipped_plans: dict[str, Plan],
) -> None:
    plan = shipped_plans["production"]
    vpc = one(plan, "aws:ec2/vpc:Vpc").inputs
    assert vpc["enableDnsHostnames"] is True and vpc["enableDnsSupport"] is True
    private = _private_subnets(plan)
    assert len(private) == 3
    assert len({s["availabilityZone"] for s in private}) == 3
    assert all(s["mapPublicIpOnLaunch"] is False for s in private)


def test_production_has_one_nat_gateway_per_az(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["production"]
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == 3
    private_tables = [
        r.inputs for r in plan.of_type("aws:ec2/routeTable:RouteTable") if "-private-" in r.name
    ]
    nat_ids = {t["routes"][0]["natGatewayId"] for t in private_tables}
    assert len(private_tables) == 3 and len(nat_ids) == 3


def test_endpoints_cover_sagemaker_ecr_logs_sts_and_s3(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["production"]
    interface = _endpoint_services(plan, "Interface")
    assert set(INTERFACE_ENDPOINT_SERVICES) <= interface
    assert {"sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr", "logs", "sts"} <= interface
    assert _endpoint_services(plan, "Gateway") == {"s3"}
    for endpoint in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
        if endpoint.inputs["vpcEndpointType"] == "Interface":
            assert endpoint.inputs["privateDnsEnabled"] is True


def test_flow_logs_go_to_an_encrypted_log_group_with_retention(
    shipped_plans: dict[str, Plan],
) -> None:
    plan = shipped_plans["production"]
    flow_log = one(plan, "aws:ec2/flowLog:FlowLog").inputs
    assert flow_log["trafficType"] == "ALL"
    assert flow_log["logDestinationType"] == "cloud-watch-logs"
    (group,) = [
        r.inputs for r in plan.of_type("aws:cloudwatch/logGroup:LogGroup") if "flow" in r.name
    ]
    assert group["kmsKeyId"] == plan.outputs["kmsKeyArn"]
    assert group["retentionInDays"] == 365
    role_policy = next(
        json.loads(r.inputs["policy"])
        for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name.startswith("network-flow-logs")
    )
    (statement,) = role_policy["Statement"]
    assert all(arn.startswith(flow_log["logDestination"]) for arn in statement["Resource"])


def test_default_security_group_has_no_rules(shipped_plans: dict[str, Plan]) -> None:
    default = one(shipped_plans["production"], "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not default.inputs.get("ingress") and not default.inputs.get("egress")


def test_sagemaker_models_run_in_the_private_subnets(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["production"]
    subnets = plan.outputs["privateSubnetIds"]
    models = plan.of_type("aws:sagemaker/model:Model")
    assert models
    for model in models:
        assert sorted(model.inputs["vpcConfig"]["subnets"]) == sorted(subnets)
        assert model.inputs["vpcConfig"]["securityGroupIds"]


def test_staging_declares_no_vpc(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["staging"]
    assert not plan.of_type("aws:ec2/vpc:Vpc")
    assert all("vpcConfig" not in m.inputs for m in plan.of_type("aws:sagemaker/model:Model"))


def test_vpc_without_nat_has_no_public_path_and_private_node_endpoints(
    staging_eks_plan: Plan,
) -> None:
    plan = staging_eks_plan
    for type_token in (
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/eip:Eip",
    ):
        assert not plan.of_type(type_token)
    assert len(plan.of_type("aws:ec2/subnet:Subnet")) == 2
    assert set(PRIVATE_NODE_ENDPOINT_SERVICES) <= _endpoint_services(plan, "Interface")


@pytest.mark.parametrize(("cidr", "azs"), [("10.0.0.0/16", 3), ("10.8.0.0/20", 2)])
def test_subnet_cidrs_do_not_overlap_and_stay_in_the_vpc(cidr: str, azs: int) -> None:
    private, public = subnet_cidrs(cidr, azs)
    networks = [ipaddress.IPv4Network(c) for c in private + public]
    assert len(private) == len(public) == azs
    assert all(n.subnet_of(ipaddress.IPv4Network(cidr)) for n in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])
    assert ipaddress.IPv4Network(private[0]).prefixlen < ipaddress.IPv4Network(public[0]).prefixlen
