"""Cluster: an EKS cluster declared with pulumi-aws, and a Kubernetes provider built from it.

Secure by default, after terraform-aws-modules/terraform-aws-eks:

- the API server is private (reachable from the VPC only) unless a stack opts into a public
  endpoint with named CIDRs;
- Kubernetes secrets are envelope-encrypted with the stack's KMS key;
- all five control-plane log types go to a KMS-encrypted log group with retention;
- access is granted through access entries (authentication mode ``API``), to the admins the
  stack names, never implicitly to whoever created the cluster;
- an IAM OIDC provider enables IAM roles for service accounts (IRSA);
- managed node groups use a launch template that requires IMDSv2 (hop limit 1, so pods cannot
  borrow the node's role) and encrypts the root volume;
- core add-ons (vpc-cni with network policy enforcement, coredns, kube-proxy,
  metrics-server) at pinned versions.

The Kubernetes provider's kubeconfig authenticates with ``aws eks get-token``: no
long-lived credential is stored in the state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.components.errors import ResourceError
from infra.components.iam import (
    managed_policy_arn,
    policy_document,
    role_with_inline_policy,
    service_trust_policy,
)
from infra.components.interpolation import concat, json_document
from infra.config.eks import CapacityType, EndpointAccess

CONTROL_PLANE_LOG_TYPES: tuple[str, ...] = (
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
)
"""Every EKS control-plane log type."""

ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.33": {
        "vpc-cni": "v1.20.4-eksbuild.2",
        "kube-proxy": "v1.33.0-eksbuild.2",
        "coredns": "v1.12.1-eksbuild.2",
        "metrics-server": "v0.8.0-eksbuild.1",
    },
    "1.34": {
        "vpc-cni": "v1.20.4-eksbuild.2",
        "kube-proxy": "v1.34.0-eksbuild.2",
        "coredns": "v1.12.3-eksbuild.1",
        "metrics-server": "v0.8.0-eksbuild.1",
    },
}
"""Pinned EKS add-on versions per Kubernetes version. Upgrade them with the cluster: list
the candidates with ``aws eks describe-addon-versions --kubernetes-version <v> --addon-name
<name>``, change them here in a reviewed pull request."""

ADDONS_BEFORE_NODES: tuple[str, ...] = ("vpc-cni", "kube-proxy")
"""Add-ons that must exist before nodes join (networking); the others need running nodes."""

VPC_CNI_CONFIGURATION = json.dumps({"enableNetworkPolicy": "true"}, sort_keys=True)
"""vpc-cni enforces NetworkPolicy objects (its network policy agent); without it they are
ignored."""


@dataclass(frozen=True)
class ClusterArgs:
    """Inputs of :class:`Cluster`. The stack config supplies every value but the tags."""

    cluster_name: str
    """Physical name of the EKS cluster (also names its log group). Required."""
    vpc_id: pulumi.Input[str]
    """VPC of the cluster. Required."""
    vpc_cidr: str
    """The VPC's range: the private API endpoint accepts HTTPS from it. Required."""
    subnet_ids: pulumi.Input[list[str]]
    """Private subnets for the control plane's network interfaces and the nodes. Required."""
    kms_key_arn: pulumi.Input[str]
    """KMS key for secrets encryption and the control-plane log group. Required."""
    admin_principal_arns: tuple[str, ...]
    """IAM principals given cluster-admin through access entries. Required (at least one)."""
    partition: pulumi.Input[str]
    """AWS partition of the account (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    kubernetes_version: str
    """Kubernetes minor version, e.g. ``1.33``; must be a key of :data:`ADDON_VERSIONS`."""
    endpoint_access: EndpointAccess
    """private (secure) or private-and-public API endpoint."""
    public_access_cidrs: tuple[str, ...]
    """CIDRs allowed to a public endpoint (private-and-public only; may be empty)."""
    log_retention_days: int
    """Days the control-plane log group keeps events."""
    node_instance_types: tuple[str, ...]
    """Instance types of the managed node group, e.g. ``("m6i.large",)``."""
    node_capacity_type: CapacityType
    """ON_DEMAND or SPOT."""
    node_min_size: int
    """Fewest nodes."""
    node_desired_size: int
    """Nodes at creation (autoscalers own the count afterwards)."""
    node_max_size: int
    """Most nodes."""
    node_disk_size_gib: int
    """Root volume per node, GiB (gp3, encrypted)."""
    deletion_protection: bool
    """Refuse to delete the cluster until this is turned off."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every taggable child resource. Default none."""


def kubeconfig(
    cluster_name: pulumi.Input[str],
    endpoint: pulumi.Input[str],
    ca_data: pulumi.Input[str],
    region: pulumi.Input[str],
) -> pulumi.Output[str]:
    """A kubeconfig for the cluster that gets short-lived tokens from ``aws eks get-token``."""
    return json_document(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": "aws"}}
            ],
            "current-context": cluster_name,
            "users": [
                {
                    "name": "aws",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster_name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def irsa_trust_policy(
    oidc_provider_arn: pulumi.Input[str], issuer_url: pulumi.Input[str], namespace: str, sa: str
) -> pulumi.Output[str]:
    """Trust policy letting exactly one Kubernetes service account assume a role via IRSA."""

    def condition(issuer: str) -> dict[str, Any]:
        host = issuer.removeprefix("https://")
        return {
            "StringEquals": {
                f"{host}:sub": f"system:serviceaccount:{namespace}:{sa}",
                f"{host}:aud": "sts.amazonaws.com",
            }
        }

    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": pulumi.Output.from_input(issuer_url).apply(condition),
            }
        ]
    )


def secrets_key_policy(key_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """What the cluster role needs on the KMS key to envelope-encrypt secrets."""
    return policy_document(
        [
            {
                "Sid": "EncryptKubernetesSecrets",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                "Resource": key_arn,
            }
        ]
    )


def cluster_trust_policy() -> pulumi.Output[str]:
    """EKS assumes the cluster role (and tags its sessions)."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ]
    )


def cluster_admin_policy_arn(partition: pulumi.Input[str]) -> pulumi.Output[str]:
    """The EKS access policy that makes a principal cluster-admin."""
    return concat("arn:", partition, ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")


class Cluster(pulumi.ComponentResource):
    """EKS cluster, node group, add-ons, OIDC provider and a Kubernetes provider.

    Raises :class:`ResourceError` for a Kubernetes version without pinned add-ons, no
    admin principal, or public access CIDRs that do not match the endpoint access.

    Attributes for consumers: ``provider`` (pass it to every Kubernetes resource), ``ready``
    (resources to depend on before workloads that need nodes), ``oidc_provider_arn``,
    ``oidc_issuer``. Outputs: ``cluster_name``, ``endpoint``, ``oidc_provider_arn``,
    ``oidc_issuer``, ``node_group_name``.
    """

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:cluster:Cluster", name, None, opts)
        self._validate(args)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region

        self.cluster = self._control_plane(name, args, child)

        self.oidc_issuer = self.cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=self.oidc_issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=args.tags,
            opts=child,
        )
        self.oidc_provider_arn = self.oidc_provider.arn

        admin_policies = self._access_entries(name, args, child)
        addons_before, addons_after = self._addons(name, args, child)
        self.node_group = self._node_group(name, args, child, addons_before)
        addons_after += self._addons_after_nodes(name, args)
        self.ready: list[pulumi.Resource] = [self.node_group, *addons_before, *addons_after]

        config = kubeconfig(
            self.cluster.name,
            self.cluster.endpoint,
            self.cluster.certificate_authority.apply(lambda ca: ca.data),
            region,
        )
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=config,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=admin_policies),
        )

        self.register_outputs(
            {
                "cluster_name": self.cluster.name,
                "endpoint": self.cluster.endpoint,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer": self.oidc_issuer,
                "node_group_name": self.node_group.node_group_name,
            }
        )

    def _validate(self, args: ClusterArgs) -> None:
        if args.kubernetes_version not in ADDON_VERSIONS:
            raise ResourceError(
                f"ClusterArgs: Kubernetes {args.kubernetes_version} has no pinned add-ons: use "
                "one of " + ", ".join(ADDON_VERSIONS),
                self,
            )
        if not args.admin_principal_arns:
            raise ResourceError("ClusterArgs: a cluster needs at least one admin principal", self)
        public = args.endpoint_access is EndpointAccess.PRIVATE_AND_PUBLIC
        if public and not args.public_access_cidrs:
            raise ResourceError(
                "ClusterArgs: a public endpoint needs public_access_cidrs (never the internet)",
                self,
            )
        if args.public_access_cidrs and not public:
            raise ResourceError(
                "ClusterArgs: public_access_cidrs need endpoint_access private-and-public", self
            )

    def _control_plane(
        self, name: str, args: ClusterArgs, child: pulumi.ResourceOptions
    ) -> aws.eks.Cluster:
        """The cluster role (secrets key only), its log group, the API's security group and
        the EKS cluster itself."""
        public = args.endpoint_access is EndpointAccess.PRIVATE_AND_PUBLIC
        declared = role_with_inline_policy(
            f"{name}-role",
            policy_name=f"{name}-role-secrets-key",
            trust_policy=cluster_trust_policy(),
            policy=secrets_key_policy(args.kms_key_arn),
            tags=args.tags,
            parent=self,
        )
        role, key_policy = declared.role, declared.policy
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-role-cluster-policy",
            role=role.name,
            policy_arn=managed_policy_arn(args.partition, "AmazonEKSClusterPolicy"),
            opts=child,
        )
        # EKS writes to this group by name; declaring it first sets retention and encryption.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.kms_key_arn,
            tags=args.tags,
            opts=child,
        )
        api_security_group = aws.ec2.SecurityGroup(
            f"{name}-api",
            description="HTTPS to the private Kubernetes API from inside the VPC",
            vpc_id=args.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="Kubernetes API from the VPC",
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[args.vpc_cidr],
                )
            ],
            tags=args.tags,
            opts=child,
        )
        return aws.eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            role_arn=role.arn,
            version=args.kubernetes_version,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                security_group_ids=[api_security_group.id],
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=list(args.public_access_cidrs) if public else None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.kms_key_arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            # Core add-ons are managed below at pinned versions, not bootstrapped unmanaged.
            bootstrap_self_managed_addons=False,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=args.deletion_protection,
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[cluster_policy, key_policy, log_group]
            ),
        )

    def _addons_after_nodes(self, name: str, args: ClusterArgs) -> list[pulumi.Resource]:
        """The pinned add-ons that need running nodes (CoreDNS, metrics-server, ...)."""
        added: list[pulumi.Resource] = []
        for addon_name, version in ADDON_VERSIONS[args.kubernetes_version].items():
            if addon_name in ADDONS_BEFORE_NODES:
                continue
            added.append(
                aws.eks.Addon(
                    f"{name}-{addon_name}",
                    cluster_name=self.cluster.name,
                    addon_name=addon_name,
                    addon_version=version,
                    resolve_conflicts_on_create="OVERWRITE",
                    resolve_conflicts_on_update="OVERWRITE",
                    tags=args.tags,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.node_group]),
                )
            )
        return added

    def _access_entries(
        self, name: str, args: ClusterArgs, child: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        associations: list[pulumi.Resource] = []
        for index, principal in enumerate(args.admin_principal_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                type="STANDARD",
                tags=args.tags,
                opts=child,
            )
            associations.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{index}",
                    cluster_name=self.cluster.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=cluster_admin_policy_arn(args.partition),
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=child,
                )
            )
        return associations

    def _addons(
        self, name: str, args: ClusterArgs, child: pulumi.ResourceOptions
    ) -> tuple[list[pulumi.Resource], list[pulumi.Resource]]:
        """The networking add-ons nodes need to join; vpc-cni runs on its own IRSA role."""
        versions = ADDON_VERSIONS[args.kubernetes_version]
        cni_role = aws.iam.Role(
            f"{name}-vpc-cni",
            assume_role_policy=irsa_trust_policy(
                self.oidc_provider_arn, self.oidc_issuer, "kube-system", "aws-node"
            ),
            tags=args.tags,
            opts=child,
        )
        cni_policy = aws.iam.RolePolicyAttachment(
            f"{name}-vpc-cni",
            role=cni_role.name,
            policy_arn=managed_policy_arn(args.partition, "AmazonEKS_CNI_Policy"),
            opts=child,
        )
        before: list[pulumi.Resource] = [
            aws.eks.Addon(
                f"{name}-vpc-cni",
                cluster_name=self.cluster.name,
                addon_name="vpc-cni",
                addon_version=versions["vpc-cni"],
                service_account_role_arn=cni_role.arn,
                configuration_values=VPC_CNI_CONFIGURATION,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cni_policy]),
            ),
            aws.eks.Addon(
                f"{name}-kube-proxy",
                cluster_name=self.cluster.name,
                addon_name="kube-proxy",
                addon_version=versions["kube-proxy"],
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                tags=args.tags,
                opts=child,
            ),
        ]
        return before, []

    def _node_group(
        self,
        name: str,
        args: ClusterArgs,
        child: pulumi.ResourceOptions,
        depends_on: list[pulumi.Resource],
    ) -> aws.eks.NodeGroup:
        role = aws.iam.Role(
            f"{name}-nodes",
            assume_role_policy=service_trust_policy("ec2.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-nodes-{suffix}",
                role=role.name,
                policy_arn=managed_policy_arn(args.partition, policy),
                opts=child,
            )
            for suffix, policy in (
                ("worker", "AmazonEKSWorkerNodePolicy"),
                ("ecr-pull", "AmazonEC2ContainerRegistryPullOnly"),
            )
        ]
        template = aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            description=f"EKS nodes of {args.cluster_name}: IMDSv2 only, encrypted root volume",
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                # One hop: the node reaches IMDS, containers do not (they use IRSA).
                http_put_response_hop_limit=1,
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args.node_disk_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=args.tags)
                for kind in ("instance", "volume")
            ],
            tags=args.tags,
            opts=child,
        )
        return aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=self.cluster.name,
            node_role_arn=role.arn,
            subnet_ids=args.subnet_ids,
            version=self.cluster.version,
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type=args.node_capacity_type.value,
            instance_types=list(args.node_instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.node_min_size,
                desired_size=args.node_desired_size,
                max_size=args.node_max_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            labels={"mlstack/node-group": name},
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*attachments, *depends_on],
                # Autoscalers change the desired size; the stack sets it only at creation.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
