"""``mlstack:network``: the VPC both serving targets run in."""

from __future__ import annotations

import ipaddress
from enum import Enum
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.types import Cidr, FieldError, LogRetentionDays, Section


class NatMode(str, Enum):
    """Outbound internet access from the private subnets.

    ``none``: no NAT gateway, AWS services only through VPC endpoints (most private);
    ``single``: one NAT gateway shared by every AZ (cheap, one AZ is a single point of
    failure); ``per-az``: one NAT gateway per AZ (highly available)."""

    NONE = "none"
    SINGLE = "single"
    PER_AZ = "per-az"


def check_cidr(path: str, value: str, *, private: bool) -> ipaddress.IPv4Network:
    """``value`` as a network; a FieldError at ``path`` when it is not a valid (private) one."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise FieldError(path, value, "an IPv4 CIDR block with host bits zero") from None
    if private and not network.is_private:
        raise FieldError(path, value, "a private (RFC 1918) range, e.g. 10.0.0.0/16")
    return network


class NetworkConfig(Section):
    """``mlstack:network``: the VPC both serving targets run in (SageMaker in VPC mode, EKS)."""

    enabled: bool = False
    """Declare the VPC; SageMaker models then run in its private subnets. Default false."""
    cidr: Cidr = "10.0.0.0/16"
    """VPC IPv4 range, a private (RFC 1918) /16 to /20. Default 10.0.0.0/16."""
    availability_zones: Annotated[int, Field(ge=2, le=3)] = 2
    """AZs with a private (and, with NAT, a public) subnet each: 2 or 3. Default 2;
    production needs 3."""
    nat: NatMode = NatMode.SINGLE
    """none, single or per-az NAT gateways. Default single; production needs none or per-az."""
    flow_log_retention_days: LogRetentionDays = 365
    """Days the VPC flow log group keeps records (a CloudWatch value). Default 365."""

    @model_validator(mode="after")
    def _check_network(self) -> NetworkConfig:
        network = check_cidr("cidr", self.cidr, private=True)
        if not 16 <= network.prefixlen <= 20:
            raise FieldError("cidr", self.cidr, "a VPC range from /16 to /20")
        return self
