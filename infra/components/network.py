"""Network: the VPC both serving targets run in.

Declares a VPC with DNS support, one private subnet per availability zone for workloads
(SageMaker models in VPC mode, EKS nodes and pods), public subnets and NAT gateways only when
outbound internet access is configured, VPC endpoints for the AWS services the workloads call
(SageMaker API and runtime, ECR API and registry, CloudWatch Logs, STS as interface endpoints;
S3 as a gateway endpoint), a default security group with no rules, a security group for
workloads and VPC flow logs (all traffic) to a KMS-encrypted log group with retention.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.components.errors import ResourceError
from infra.components.iam import policy_document, role_with_inline_policy, service_trust_policy
from infra.components.interpolation import concat
from infra.config.eks import NatMode

INTERFACE_ENDPOINT_SERVICES: tuple[str, ...] = (
    "sagemaker.api",
    "sagemaker.runtime",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "sts",
)
"""AWS services reached through interface endpoints (``com.amazonaws.<region>.<service>``)."""

PRIVATE_NODE_ENDPOINT_SERVICES: tuple[str, ...] = ("ec2", "eks", "eks-auth", "autoscaling")
"""Extra interface endpoints EKS nodes need when the VPC has no NAT gateway."""


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of :class:`Network`."""

    vpc_name: str
    """``Name`` tag of the VPC, e.g. ``network-production``."""
    kms_key_arn: pulumi.Input[str]
    """KMS key that encrypts the flow log group (the registry's key). Required."""
    cidr: str
    """VPC IPv4 range (/16-/20), e.g. ``10.0.0.0/16``."""
    availability_zones: int
    """AZs with a private subnet each (2-3)."""
    nat: NatMode
    """NAT gateways: none, single or per-az."""
    flow_log_retention_days: int
    """Days the flow log group keeps records."""
    extra_interface_endpoints: tuple[str, ...] = ()
    """Interface endpoints beyond :data:`INTERFACE_ENDPOINT_SERVICES`. Default none."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every taggable child resource. Default none."""


def vpc_config(
    subnet_ids: Sequence[pulumi.Input[str]], security_group_ids: Sequence[pulumi.Input[str]]
) -> dict[str, list[pulumi.Input[str]]] | None:
    """The VPC config of a SageMaker model or job in those subnets with those security
    groups; None without subnets (it runs outside a VPC)."""
    if not subnet_ids:
        return None
    return {"subnets": list(subnet_ids), "security_group_ids": list(security_group_ids)}


def subnet_cidrs(cidr: str, availability_zones: int) -> tuple[list[str], list[str]]:
    """Private and public subnet ranges for ``availability_zones`` AZs.

    The VPC is cut in eighths: the first eighths are the private subnets (large: EKS gives
    every pod a VPC address), the last eighth holds the small public subnets (/24 for a /16
    VPC) that only carry NAT gateways.
    """
    network = ipaddress.IPv4Network(cidr)
    eighths = list(network.subnets(new_prefix=network.prefixlen + 3))
    public_pool = list(eighths[-1].subnets(new_prefix=network.prefixlen + 8))
    private = [str(eighths[i]) for i in range(availability_zones)]
    public = [str(public_pool[i]) for i in range(availability_zones)]
    return private, public


def flow_log_role_policy(log_group_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Least privilege for the flow log service: write to its one log group."""
    return policy_document(
        [
            {
                "Sid": "WriteFlowLogs",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                ],
                "Resource": [log_group_arn, concat(log_group_arn, ":*")],
            }
        ]
    )


class Network(pulumi.ComponentResource):
    """VPC, private (and public) subnets, NAT, VPC endpoints and flow logs.

    Raises :class:`ResourceError` for a range outside /16-/20 or 2-3 availability zones.

    Outputs: ``vpc_id``, ``vpc_cidr``, ``private_subnet_ids``, ``workload_security_group_id``,
    ``s3_cidr_blocks`` (the S3 gateway endpoint's prefix-list ranges).
    """

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:network:Network", name, None, opts)
        prefix = ipaddress.IPv4Network(args.cidr).prefixlen
        if not 16 <= prefix <= 20:
            raise ResourceError(f"NetworkArgs: cidr {args.cidr} must be a /16 to /20", self)
        if not 2 <= args.availability_zones <= 3:
            raise ResourceError(
                f"NetworkArgs: availability_zones {args.availability_zones} must be 2 or 3", self
            )
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        identity = aws.get_caller_identity_output(opts=invoke)
        zones = aws.get_availability_zones_output(state="available", opts=invoke)
        private_cidrs, public_cidrs = subnet_cidrs(args.cidr, args.availability_zones)
        self.vpc_cidr = args.cidr

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**args.tags, "Name": args.vpc_name},
            opts=child,
        )
        # The default security group allows all traffic between its members: strip its rules
        # so nothing can rely on it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=self.vpc.id, tags=args.tags, opts=child
        )

        self.private_subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{index}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zones.names[index],
                map_public_ip_on_launch=False,
                tags={
                    **args.tags,
                    "Name": f"{name}-private-{index}",
                    "kubernetes.io/role/internal-elb": "1",
                },
                opts=child,
            )
            for index, cidr in enumerate(private_cidrs)
        ]
        private_tables = self._egress(name, args, public_cidrs, zones, child)

        self._security_groups(name, args, child)
        self._service_endpoints(name, args, region, private_tables, child)
        self._flow_logs(name, args, identity.account_id, child)

        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        # The S3 prefix list's ranges: Kubernetes NetworkPolicies cannot name a prefix list.
        self.s3_cidr_blocks: pulumi.Output[list[str]] = self.s3_endpoint.cidr_blocks
        self.register_outputs(
            {
                "vpc_id": self.vpc.id,
                "vpc_cidr": args.cidr,
                "private_subnet_ids": self.private_subnet_ids,
                "workload_security_group_id": self.workload_security_group.id,
                "s3_cidr_blocks": self.s3_cidr_blocks,
            }
        )

    def _security_groups(self, name: str, args: NetworkArgs, child: pulumi.ResourceOptions) -> None:
        """HTTPS into the service endpoints from the VPC; the workloads' group: nothing in,
        HTTPS out."""
        self.endpoint_security_group = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            description="HTTPS from the VPC to the AWS service endpoints",
            vpc_id=self.vpc.id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="HTTPS from inside the VPC",
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[args.cidr],
                )
            ],
            tags=args.tags,
            opts=child,
        )
        self.workload_security_group = aws.ec2.SecurityGroup(
            f"{name}-workloads",
            description="Model containers: no inbound, HTTPS out to AWS services",
            vpc_id=self.vpc.id,
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description="HTTPS to AWS services (VPC endpoints, S3, NAT)",
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=["0.0.0.0/0"],
                )
            ],
            tags=args.tags,
            opts=child,
        )

    def _service_endpoints(
        self,
        name: str,
        args: NetworkArgs,
        region: pulumi.Output[str],
        private_tables: list[aws.ec2.RouteTable],
        child: pulumi.ResourceOptions,
    ) -> None:
        """Interface endpoints for the AWS APIs the workloads call, and the S3 gateway."""
        services = dict.fromkeys((*INTERFACE_ENDPOINT_SERVICES, *args.extra_interface_endpoints))
        for service in services:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=self.vpc.id,
                service_name=concat("com.amazonaws.", region, ".", service),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[subnet.id for subnet in self.private_subnets],
                security_group_ids=[self.endpoint_security_group.id],
                tags=args.tags,
                opts=child,
            )
        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.id,
            service_name=concat("com.amazonaws.", region, ".s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_tables],
            tags=args.tags,
            opts=child,
        )

    def _egress(
        self,
        name: str,
        args: NetworkArgs,
        public_cidrs: list[str],
        zones: pulumi.Output,
        child: pulumi.ResourceOptions,
    ) -> list[aws.ec2.RouteTable]:
        """Route tables of the private subnets, with NAT gateways (and their public subnets
        and internet gateway) when the stack allows outbound internet access."""
        count = len(self.private_subnets)
        nat_gateways: list[aws.ec2.NatGateway] = []
        if args.nat is not NatMode.NONE:
            gateway = aws.ec2.InternetGateway(
                f"{name}-igw", vpc_id=self.vpc.id, tags=args.tags, opts=child
            )
            public_table = aws.ec2.RouteTable(
                f"{name}-public",
                vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
                tags=args.tags,
                opts=child,
            )
            nat_count = count if args.nat is NatMode.PER_AZ else 1
            for index in range(nat_count):
                subnet = aws.ec2.Subnet(
                    f"{name}-public-{index}",
                    vpc_id=self.vpc.id,
                    cidr_block=public_cidrs[index],
                    availability_zone=zones.names[index],
                    map_public_ip_on_launch=False,
                    tags={
                        **args.tags,
                        "Name": f"{name}-public-{index}",
                        "kubernetes.io/role/elb": "1",
                    },
                    opts=child,
                )
                aws.ec2.RouteTableAssociation(
                    f"{name}-public-{index}",
                    subnet_id=subnet.id,
                    route_table_id=public_table.id,
                    opts=child,
                )
                address = aws.ec2.Eip(
                    f"{name}-nat-{index}", domain="vpc", tags=args.tags, opts=child
                )
                nat_gateways.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{index}",
                        allocation_id=address.id,
                        subnet_id=subnet.id,
                        tags=args.tags,
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                    )
                )
        tables = []
        for index, subnet in enumerate(self.private_subnets):
            routes = []
            if nat_gateways:
                nat = nat_gateways[index % len(nat_gateways)]
                routes.append(
                    aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)
                )
            table = aws.ec2.RouteTable(
                f"{name}-private-{index}",
                vpc_id=self.vpc.id,
                routes=routes,
                tags=args.tags,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=child,
            )
            tables.append(table)
        return tables

    def _flow_logs(
        self,
        name: str,
        args: NetworkArgs,
        account_id: pulumi.Output[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.kms_key_arn,
            tags=args.tags,
            opts=child,
        )
        role = role_with_inline_policy(
            f"{name}-flow-logs",
            trust_policy=service_trust_policy("vpc-flow-logs.amazonaws.com", account_id),
            policy=flow_log_role_policy(log_group.arn),
            tags=args.tags,
            parent=self,
        ).role
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=args.tags,
            opts=child,
        )
