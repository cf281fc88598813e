"""``mlstack:eks``: the EKS cluster (private API, encrypted secrets, full audit logs)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.network import NatMode, check_cidr
from infra.config.types import (
    Cidr,
    Ec2InstanceType,
    FieldError,
    IamPrincipalArn,
    LogRetentionDays,
    Section,
    raise_all,
)


class EndpointAccess(str, Enum):
    """Who can reach the EKS API server: ``private`` (from inside the VPC only) or
    ``private-and-public`` (also from the internet, limited to ``publicAccessCidrs``)."""

    PRIVATE = "private"
    PRIVATE_AND_PUBLIC = "private-and-public"


class CapacityType(str, Enum):
    """EC2 purchase option of a managed node group."""

    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


KUBERNETES_VERSIONS = ("1.33", "1.34")
"""EKS Kubernetes versions the kit supports: each has pinned add-on versions in
``infra/components/cluster.py`` and a schema in the installed kubernetes-validate."""


class NodeGroupConfig(Section):
    """``mlstack:eks.nodeGroup``: the managed node group the serving pods run on."""

    instance_types: Annotated[list[Ec2InstanceType], Field(min_length=1, max_length=10)] = [
        "m6i.large"
    ]
    """EC2 instance types (1-10), e.g. ``m6i.large``. Default [m6i.large]."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """ON_DEMAND or SPOT. Default ON_DEMAND."""
    min_size: Annotated[int, Field(ge=1, le=450)] = 2
    """Fewest nodes (1-450). Default 2; production needs at least 2."""
    desired_size: Annotated[int, Field(ge=1, le=450)] = 2
    """Nodes at creation, between minSize and maxSize (the group keeps later changes by
    autoscalers). Default 2."""
    max_size: Annotated[int, Field(ge=1, le=450)] = 4
    """Most nodes (1-450). Default 4."""
    disk_size_gib: Annotated[int, Field(ge=20, le=16384)] = 50
    """Encrypted gp3 root volume per node, in GiB. Default 50."""

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise FieldError(
                "desiredSize",
                self.desired_size,
                f"minSize <= desiredSize <= maxSize (got {self.min_size}/{self.max_size})",
            )
        return self


class EksConfig(Section):
    """``mlstack:eks``: the EKS cluster (private API, encrypted secrets, full audit logs)."""

    enabled: bool = False
    """Declare the EKS cluster and the Kubernetes serving path. Needs ``mlstack:network``.
    Default false."""
    kubernetes_version: str = "1.33"
    """Kubernetes minor version, a quoted string: 1.33 or 1.34. Default 1.33."""
    endpoint_access: EndpointAccess = EndpointAccess.PRIVATE
    """private or private-and-public API endpoint. Default private."""
    public_access_cidrs: Annotated[list[Cidr], Field(max_length=40)] = []
    """IPv4 ranges allowed to the public endpoint; required with private-and-public, never
    0.0.0.0/0. Default none."""
    admin_principal_arns: Annotated[list[IamPrincipalArn], Field(max_length=20)] = []
    """IAM roles or users given cluster-admin through access entries (1-20 when enabled), in
    the stack's account (mlstack:accountId) unless also listed in externalAdminPrincipalArns.
    The identity that runs pulumi up must be one of them. Default none."""
    external_admin_principal_arns: Annotated[list[IamPrincipalArn], Field(max_length=20)] = []
    """Reviewed allow-list of admin principals from other accounts: each must also be in
    adminPrincipalArns. Default none."""
    control_plane_log_retention_days: LogRetentionDays = 90
    """Days the control-plane log group keeps events (a CloudWatch value). Default 90."""
    node_group: NodeGroupConfig = NodeGroupConfig()
    """The managed node group (see the nodeGroup keys)."""

    @model_validator(mode="after")
    def _check_eks(self) -> EksConfig:
        errors: list[FieldError] = []
        if self.kubernetes_version not in KUBERNETES_VERSIONS:
            errors.append(
                FieldError(
                    "kubernetesVersion",
                    self.kubernetes_version,
                    "a supported EKS version: " + ", ".join(KUBERNETES_VERSIONS),
                )
            )
        public = self.endpoint_access is EndpointAccess.PRIVATE_AND_PUBLIC
        if public and not self.public_access_cidrs:
            errors.append(
                FieldError(
                    "publicAccessCidrs", [], "a public endpoint needs the CIDRs allowed to reach it"
                )
            )
        if not public and self.public_access_cidrs:
            errors.append(
                FieldError(
                    "publicAccessCidrs",
                    self.public_access_cidrs,
                    "only with endpointAccess: private-and-public",
                )
            )
        for index, cidr in enumerate(self.public_access_cidrs):
            path = f"publicAccessCidrs[{index}]"
            try:
                network = check_cidr(path, cidr, private=False)
            except FieldError as err:
                errors.append(err)
                continue
            if network.prefixlen == 0:
                errors.append(FieldError(path, cidr, "not the whole internet: name your ranges"))
        for index, arn in enumerate(self.external_admin_principal_arns):
            if arn not in self.admin_principal_arns:
                errors.append(
                    FieldError(
                        f"externalAdminPrincipalArns[{index}]",
                        arn,
                        "list it in adminPrincipalArns too: this list only allows other accounts",
                    )
                )
        raise_all(errors)
        return self


__all__ = [
    "KUBERNETES_VERSIONS",
    "CapacityType",
    "EksConfig",
    "EndpointAccess",
    "NatMode",  # re-exported: components import it from here
    "NodeGroupConfig",
]
