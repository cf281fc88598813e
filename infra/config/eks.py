"""``mlstack:network``, ``mlstack:eks`` and ``mlstack:kubernetes``: the EKS path."""

from __future__ import annotations

import ipaddress
from enum import Enum
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.base import FieldError, Section
from infra.config.monitoring import LOG_RETENTION_DAYS
from infra.config.sagemaker import S3_KEY_PATTERN

# ---------------------------------------------------------------------------------------------
# Network, EKS and Kubernetes serving (the EKS path)
# ---------------------------------------------------------------------------------------------


class NatMode(str, Enum):
    """Outbound internet access from the private subnets.

    ``none``: no NAT gateway, AWS services only through VPC endpoints (most private);
    ``single``: one NAT gateway shared by every AZ (cheap, one AZ is a single point of
    failure); ``per-az``: one NAT gateway per AZ (highly available)."""

    NONE = "none"
    SINGLE = "single"
    PER_AZ = "per-az"


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

EC2_INSTANCE_TYPE_PATTERN = r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|metal|[0-9]*xlarge)$"
CIDR_PATTERN = r"^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$"
IAM_PRINCIPAL_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@/_-]+$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$"
"""A Kubernetes object name usable as a label value and in derived names (1-40 chars)."""
QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"
"""A Kubernetes resource quantity such as ``500m``, ``2`` or ``1Gi``."""
IMAGE_DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
IMAGE_REFERENCE_PATTERN = (
    r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
)
"""A container image with a registry host and a tag, e.g.
``public.ecr.aws/aws-cli/aws-cli:2.27.9``."""


def _check_cidr(path: str, value: str, *, private: bool) -> ipaddress.IPv4Network:
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
    cidr: Annotated[str, Field(pattern=CIDR_PATTERN)] = "10.0.0.0/16"
    """VPC IPv4 range, a private /16-/20. Default 10.0.0.0/16."""
    availability_zones: Annotated[int, Field(ge=2, le=3)] = 2
    """AZs with a private (and, with NAT, a public) subnet each: 2 or 3. Default 2;
    production needs 3."""
    nat: NatMode = NatMode.SINGLE
    """none, single or per-az NAT gateways. Default single; production needs none or per-az."""
    flow_log_retention_days: int = 365
    """Days the VPC flow log group keeps records (a CloudWatch value). Default 365."""

    @model_validator(mode="after")
    def _check_network(self) -> NetworkConfig:
        network = _check_cidr("cidr", self.cidr, private=True)
        if not 16 <= network.prefixlen <= 20:
            raise FieldError("cidr", self.cidr, "a VPC range from /16 to /20")
        if self.flow_log_retention_days not in LOG_RETENTION_DAYS:
            raise FieldError(
                "flowLogRetentionDays",
                self.flow_log_retention_days,
                "a CloudWatch retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
            )
        return self


class NodeGroupConfig(Section):
    """``mlstack:eks.nodeGroup``: the managed node group the serving pods run on."""

    instance_types: Annotated[
        list[Annotated[str, Field(pattern=EC2_INSTANCE_TYPE_PATTERN)]],
        Field(min_length=1, max_length=10),
    ] = ["m6i.large"]
    """EC2 instance types (1-10), e.g. ``m6i.large``. Default [m6i.large]."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """ON_DEMAND or SPOT. Default ON_DEMAND."""
    min_size: Annotated[int, Field(ge=1, le=450)] = 2
    """Fewest nodes. Default 2."""
    desired_size: Annotated[int, Field(ge=1, le=450)] = 2
    """Nodes at creation (the group keeps later changes by autoscalers). Default 2."""
    max_size: Annotated[int, Field(ge=1, le=450)] = 4
    """Most nodes. Default 4."""
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
    """Kubernetes minor version, one of ``KUBERNETES_VERSIONS``. Default 1.33."""
    endpoint_access: EndpointAccess = EndpointAccess.PRIVATE
    """private or private-and-public API endpoint. Default private."""
    public_access_cidrs: Annotated[
        list[Annotated[str, Field(pattern=CIDR_PATTERN)]], Field(max_length=40)
    ] = []
    """IPv4 ranges allowed to the public endpoint; required with private-and-public, never
    0.0.0.0/0. Default none."""
    admin_principal_arns: Annotated[
        list[Annotated[str, Field(pattern=IAM_PRINCIPAL_ARN_PATTERN)]], Field(max_length=20)
    ] = []
    """IAM roles or users given cluster-admin through access entries (1-20 when enabled).
    The identity that runs ``pulumi up`` must be one of them. Default none."""
    control_plane_log_retention_days: int = 90
    """Days the control-plane log group keeps events (a CloudWatch value). Default 90."""
    node_group: NodeGroupConfig = NodeGroupConfig()
    """The managed node group."""

    @model_validator(mode="after")
    def _check_eks(self) -> EksConfig:
        if self.kubernetes_version not in KUBERNETES_VERSIONS:
            raise FieldError(
                "kubernetesVersion",
                self.kubernetes_version,
                "a supported EKS version: " + ", ".join(KUBERNETES_VERSIONS),
            )
        public = self.endpoint_access is EndpointAccess.PRIVATE_AND_PUBLIC
        if public and not self.public_access_cidrs:
            raise FieldError(
                "publicAccessCidrs", [], "a public endpoint needs the CIDRs allowed to reach it"
            )
        if not public and self.public_access_cidrs:
            raise FieldError(
                "publicAccessCidrs",
                self.public_access_cidrs,
                "only with endpointAccess: private-and-public",
            )
        for index, cidr in enumerate(self.public_access_cidrs):
            network = _check_cidr(f"publicAccessCidrs[{index}]", cidr, private=False)
            if network.prefixlen == 0:
                raise FieldError(
                    f"publicAccessCidrs[{index}]", cidr, "not the whole internet: name your ranges"
                )
        if self.control_plane_log_retention_days not in LOG_RETENTION_DAYS:
            raise FieldError(
                "controlPlaneLogRetentionDays",
                self.control_plane_log_retention_days,
                "a CloudWatch retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
            )
        return self


class KubernetesServingConfig(Section):
    """``mlstack:kubernetes``: the model server on EKS (used when ``mlstack:eks`` is enabled)."""

    namespace: Annotated[str, Field(pattern=DNS_LABEL_PATTERN)] = "mlstack-serving"
    """Namespace of the serving objects. Default mlstack-serving."""
    app_name: Annotated[str, Field(pattern=DNS_LABEL_PATTERN)] = "model-server"
    """Name of the workload, its services and policies. Default model-server."""
    image_tag: Annotated[str, Field(pattern=IMAGE_TAG_PATTERN)] | None = None
    """Tag of the serving image in the stack's ECR repository. Default none."""
    image_digest: Annotated[str, Field(pattern=IMAGE_DIGEST_PATTERN)] | None = None
    """``sha256:`` digest of the serving image; pins it (wins over the tag). Production
    requires it. Default none."""
    model_artifact: Annotated[str, Field(pattern=S3_KEY_PATTERN)] = "models/model.tar.gz"
    """Model artifact: a key in the artifacts bucket or an ``s3://`` URI. A ``.tar.gz`` is
    unpacked into /opt/ml/model; a prefix ending in ``/`` is copied as is. The pod's IAM role
    may read this and nothing else. Default models/model.tar.gz."""
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    """Fewest pods (HorizontalPodAutoscaler minimum). Default 2."""
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 6
    """Most pods (HorizontalPodAutoscaler maximum). Default 6."""
    target_cpu_utilization_percent: Annotated[int, Field(ge=10, le=100)] = 70
    """Average CPU use, in percent of the request, that autoscaling aims for. Default 70."""
    cpu_request: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "500m"
    """CPU reserved per pod. Default 500m."""
    cpu_limit: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "1"
    """CPU cap per pod. Default 1."""
    memory_request: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "1Gi"
    """Memory reserved per pod. Default 1Gi."""
    memory_limit: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "1Gi"
    """Memory cap per pod (OOM-kill above). Default 1Gi."""
    model_volume_size: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "2Gi"
    """Size limit of the in-pod volume the model is copied to. Default 2Gi."""
    workers: Annotated[int, Field(ge=1, le=64)] | None = None
    """Server worker processes (``SAGEMAKER_MODEL_SERVER_WORKERS``). Default none: the
    server uses the CPUs its limit allows."""
    drain_seconds: Annotated[int, Field(ge=0, le=120)] = 10
    """Pause before SIGTERM, so load balancers and kube-proxy stop sending new requests,
    in seconds. Default 10."""
    graceful_timeout_seconds: Annotated[int, Field(ge=1, le=300)] = 20
    """Time in-flight requests get after SIGTERM (``SERVING_GRACEFUL_TIMEOUT_SECONDS``), in
    seconds. Default 20."""
    prometheus_address: Annotated[str, Field(pattern=r"^https?://[^\s]+$")] = (
        "http://prometheus-server.monitoring.svc.cluster.local"
    )
    """Prometheus that scrapes the pods; the canary analysis queries it. Default the
    prometheus-community chart's server in namespace monitoring."""
    model_fetcher_image: Annotated[str, Field(pattern=IMAGE_REFERENCE_PATTERN)] = (
        "public.ecr.aws/aws-cli/aws-cli:2.27.9"
    )
    """aws-cli image of the init container that copies the model from S3. Default
    public.ecr.aws/aws-cli/aws-cli:2.27.9 (mirror it when the VPC has no NAT)."""
    model_fetcher_image_digest: Annotated[str, Field(pattern=IMAGE_DIGEST_PATTERN)] | None = None
    """``sha256:`` digest pinning that image. Production requires it. Default none."""

    @model_validator(mode="after")
    def _check_serving(self) -> KubernetesServingConfig:
        if self.min_replicas > self.max_replicas:
            raise FieldError(
                "maxReplicas", self.max_replicas, f"at least minReplicas ({self.min_replicas})"
            )
        if self.image_tag == "latest":
            raise FieldError("imageTag", "latest", "a release tag; ECR tags are immutable")
        if not self.model_artifact.endswith((".tar.gz", "/")):
            raise FieldError(
                "modelArtifact", self.model_artifact, "a .tar.gz file or a prefix ending in /"
            )
        return self
