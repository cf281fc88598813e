"""Wiring of the network and the EKS path from the stack's config (called by ``__main__``).

- :func:`deploy_network`: the VPC, when ``mlstack:network`` is enabled; SageMaker models then
  run in its private subnets.
- :func:`deploy_eks`: when ``mlstack:eks`` is enabled, the cluster, Argo Rollouts (canary and
  linear strategies only) and the model server, rolled out by ``mlstack:rollout``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.components.argo_rollouts import ArgoRollouts, ArgoRolloutsArgs
from infra.components.cluster import Cluster, ClusterArgs
from infra.components.k8s_serving import KubernetesServing, KubernetesServingArgs
from infra.components.network import PRIVATE_NODE_ENDPOINT_SERVICES, Network, NetworkArgs
from infra.components.registry import Registry
from infra.config import PROJECT, StackConfig
from infra.config.eks import NatMode
from infra.rollout import compile_kubernetes_strategy


@dataclass(frozen=True)
class EksPath:
    """What the EKS path declared (for exports)."""

    cluster: Cluster
    serving: KubernetesServing
    argo_rollouts: ArgoRollouts | None


def deploy_network(config: StackConfig, registry: Registry, tags: dict[str, str]) -> Network | None:
    """The VPC, or ``None`` when ``mlstack:network`` is disabled."""
    network = config.network
    if not network.enabled:
        return None
    private_nodes = config.eks.enabled and network.nat is NatMode.NONE
    return Network(
        "network",
        NetworkArgs(
            kms_key_arn=registry.kms_key.arn,
            cidr=network.cidr,
            availability_zones=network.availability_zones,
            nat=network.nat,
            flow_log_retention_days=network.flow_log_retention_days,
            extra_interface_endpoints=PRIVATE_NODE_ENDPOINT_SERVICES if private_nodes else (),
            tags=tags,
        ),
    )


def sagemaker_network(network: Network | None) -> dict[str, list[pulumi.Input[str]]]:
    """Keyword arguments that put the SageMaker models in the VPC (empty without one)."""
    if network is None:
        return {}
    return {
        "subnet_ids": [subnet.id for subnet in network.private_subnets],
        "security_group_ids": [network.workload_security_group.id],
    }


def model_location(artifact: str, default_bucket: pulumi.Input[str]) -> tuple:
    """``(bucket, key)`` of the model artifact: an ``s3://`` URI, or a key in the stack's
    artifacts bucket."""
    if artifact.startswith("s3://"):
        bucket, _, key = artifact.removeprefix("s3://").partition("/")
        return bucket, key
    return default_bucket, artifact


def deploy_eks(
    config: StackConfig, registry: Registry, network: Network | None, tags: dict[str, str]
) -> EksPath | None:
    """The cluster and the Kubernetes serving path, or ``None`` when EKS is disabled."""
    eks, serving = config.eks, config.kubernetes
    if not eks.enabled:
        return None
    if network is None:  # config validation makes this unreachable
        raise ValueError("mlstack:eks needs mlstack:network")
    group = eks.node_group
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            cluster_name=f"{PROJECT}-{config.stack}",
            vpc_id=network.vpc.id,
            vpc_cidr=network.vpc_cidr,
            subnet_ids=network.private_subnet_ids,
            kms_key_arn=registry.kms_key.arn,
            admin_principal_arns=tuple(eks.admin_principal_arns),
            kubernetes_version=eks.kubernetes_version,
            endpoint_access=eks.endpoint_access,
            public_access_cidrs=tuple(eks.public_access_cidrs),
            log_retention_days=eks.control_plane_log_retention_days,
            node_instance_types=tuple(group.instance_types),
            node_capacity_type=group.capacity_type,
            node_min_size=group.min_size,
            node_desired_size=group.desired_size,
            node_max_size=group.max_size,
            node_disk_size_gib=group.disk_size_gib,
            deletion_protection=config.is_production,
            tags=tags,
        ),
    )
    argo = None
    if compile_kubernetes_strategy(config.rollout).kind == "Rollout":
        argo = ArgoRollouts(
            "argo-rollouts",
            ArgoRolloutsArgs(
                provider=cluster.provider,
                controller_replicas=2 if config.is_production else 1,
                depends_on=cluster.ready,
            ),
        )
    if serving.image_digest is not None:
        image = pulumi.Output.concat(registry.repository.repository_url, "@", serving.image_digest)
    else:
        image = pulumi.Output.concat(
            registry.repository.repository_url, ":", serving.image_tag or ""
        )
    fetcher = serving.model_fetcher_image
    if serving.model_fetcher_image_digest is not None:
        fetcher = f"{fetcher.rsplit(':', 1)[0]}@{serving.model_fetcher_image_digest}"
    bucket, key = model_location(serving.model_artifact, registry.artifacts_bucket.bucket)
    kubernetes_serving = KubernetesServing(
        "serving",
        KubernetesServingArgs(
            provider=cluster.provider,
            policy=config.rollout,
            image=image,
            image_pinned_by_digest=serving.image_digest is not None,
            model_bucket=bucket,
            model_key=key,
            kms_key_arn=registry.kms_key.arn,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            model_fetcher_image=fetcher,
            namespace=serving.namespace,
            app_name=serving.app_name,
            min_replicas=serving.min_replicas,
            max_replicas=serving.max_replicas,
            target_cpu_utilization_percent=serving.target_cpu_utilization_percent,
            cpu_request=serving.cpu_request,
            cpu_limit=serving.cpu_limit,
            memory_request=serving.memory_request,
            memory_limit=serving.memory_limit,
            model_volume_size=serving.model_volume_size,
            workers=serving.workers,
            drain_seconds=serving.drain_seconds,
            graceful_timeout_seconds=serving.graceful_timeout_seconds,
            prometheus_address=serving.prometheus_address,
            depends_on=[argo.release] if argo is not None else cluster.ready,
            tags=tags,
        ),
    )
    return EksPath(cluster=cluster, serving=kubernetes_serving, argo_rollouts=argo)


def export(network: Network | None, path: EksPath | None) -> None:
    """Stack outputs of the network and the EKS path."""
    if network is not None:
        pulumi.export("vpcId", network.vpc.id)
        pulumi.export("privateSubnetIds", network.private_subnet_ids)
    if path is not None:
        pulumi.export("eksClusterName", path.cluster.cluster.name)
        pulumi.export("eksOidcProviderArn", path.cluster.oidc_provider_arn)
        pulumi.export("kubernetesNamespace", path.serving.namespace)
        pulumi.export("kubernetesWorkloadKind", path.serving.workload_kind)


__all__ = ["EksPath", "deploy_eks", "deploy_network", "export", "sagemaker_network"]
