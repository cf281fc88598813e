"""The EKS-side components declared on their own with their Args: cluster, Argo Rollouts and
Kubernetes serving (through a provider passed in resource options)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from infra.components.argo_rollouts import ArgoRollouts, ArgoRolloutsArgs
from infra.components.cluster import ADDON_VERSIONS, Cluster, ClusterArgs
from infra.components.errors import ResourceError
from infra.components.k8s_manifests import NetworkPeer
from infra.components.k8s_serving import KubernetesServing, KubernetesServingArgs
from infra.config.eks import CapacityType, EndpointAccess
from infra.config.rollout import RollbackAlarm, RollbackMetric, RolloutPolicy, RolloutStrategy
from infra.rollout import KubernetesStrategy, compile_kubernetes_strategy
from tests.infra.components.conftest import Declare, Declared

KEY = "arn:aws:kms:us-east-1:123456789012:key/test"
VERSION = next(iter(ADDON_VERSIONS))


def cluster_args(**changes: Any) -> ClusterArgs:
    fields: dict[str, Any] = {
        "cluster_name": "mlstack-test",
        "vpc_id": "vpc-1",
        "vpc_cidr": "10.0.0.0/16",
        "subnet_ids": ["subnet-1", "subnet-2"],
        "kms_key_arn": KEY,
        "admin_principal_arns": ("arn:aws:iam::123456789012:role/admin",),
        "partition": "aws",
        "kubernetes_version": VERSION,
        "endpoint_access": EndpointAccess.PRIVATE,
        "public_access_cidrs": (),
        "log_retention_days": 90,
        "node_instance_types": ("m6i.large",),
        "node_capacity_type": CapacityType.ON_DEMAND,
        "node_min_size": 2,
        "node_desired_size": 2,
        "node_max_size": 4,
        "node_disk_size_gib": 50,
        "deletion_protection": True,
    }
    return ClusterArgs(**{**fields, **changes})


def test_cluster_is_private_encrypted_and_logs_the_control_plane(declare: Declare) -> None:
    declared = declare(lambda: Cluster("cluster", cluster_args()))
    cluster = declared.one("aws:eks/cluster:Cluster").inputs
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster["vpcConfig"]["endpointPublicAccess"] is False
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster["deletionProtection"] is True
    assert len(cluster["enabledClusterLogTypes"]) == 5
    template = declared.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert template["metadataOptions"]["httpTokens"] == "required"
    attachments = declared.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert all(a.inputs["policyArn"].startswith("arn:aws:iam::aws:policy/") for a in attachments)
    secrets = json.loads(declared.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert secrets["Statement"][0]["Resource"] == KEY
    assert declared.one("pulumi:providers:kubernetes").inputs["enableServerSideApply"] == "true"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kubernetes_version": "1.20"}, "no pinned add-ons"),
        ({"admin_principal_arns": ()}, "admin principal"),
        ({"endpoint_access": EndpointAccess.PRIVATE_AND_PUBLIC}, "public_access_cidrs"),
        ({"public_access_cidrs": ("203.0.113.0/24",)}, "private-and-public"),
    ],
)
def test_cluster_rejects_invalid_combinations(
    declare: Declare, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ResourceError, match=message):
        declare(lambda: Cluster("cluster", cluster_args(**changes)))


def canary_strategy() -> KubernetesStrategy:
    return compile_kubernetes_strategy(rollout_policy(RolloutStrategy.CANARY))


def provider() -> k8s.Provider:
    return k8s.Provider("test-k8s", kubeconfig="{}")


def test_argo_rollouts_installs_through_the_given_provider(declare: Declare) -> None:
    def build() -> None:
        ArgoRollouts(
            "argo-rollouts",
            ArgoRolloutsArgs(strategy=canary_strategy(), controller_replicas=2),
            opts=pulumi.ResourceOptions(provider=provider()),
        )

    declared = declare(build)
    (provider_resource,) = declared.of_type("pulumi:providers:kubernetes")
    release = declared.one("kubernetes:helm.sh/v3:Release")
    assert release.provider is not None and release.provider.startswith(provider_resource.urn)
    values = release.inputs["values"]
    assert values["installCRDs"] is True
    assert values["dashboard"] == {"enabled": False}
    assert values["controller"]["pdb"]["enabled"] is True
    namespace = declared.one("kubernetes:core/v1:Namespace").inputs["metadata"]
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize(
    ("rollout", "replicas", "message"),
    [
        (RolloutStrategy.CANARY, 0, "controller_replicas"),
        (RolloutStrategy.ROLLING, 2, "needs no Argo Rollouts"),
    ],
)
def test_argo_rollouts_rejects_invalid_args(
    declare: Declare, rollout: RolloutStrategy, replicas: int, message: str
) -> None:
    args = ArgoRolloutsArgs(
        strategy=compile_kubernetes_strategy(rollout_policy(rollout)),
        controller_replicas=replicas,
    )
    with pytest.raises(ResourceError, match=message):
        declare(lambda: ArgoRollouts("argo-rollouts", args))


def rollout_policy(strategy: RolloutStrategy) -> RolloutPolicy:
    return RolloutPolicy(
        strategy=strategy,
        step_percent=20,
        rollback_alarms=[RollbackAlarm(metric=RollbackMetric.LATENCY_P99, threshold=300)],
    )


def serving_args(rollout: RolloutStrategy, **changes: Any) -> KubernetesServingArgs:
    fields: dict[str, Any] = {
        "strategy": compile_kubernetes_strategy(rollout_policy(rollout)),
        "partition": "aws",
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlstack:1.0.0",
        "image_pinned_by_digest": False,
        "model_bucket": "artifacts",
        "model_key": "models/churn/model.tar.gz",
        "kms_key_arn": KEY,
        "oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks/id/X",
        "oidc_issuer": "https://oidc.eks/id/X",
        "model_fetcher_image": "amazon/aws-cli:2.17.0",
        "namespace": "serving",
        "app_name": "model-server",
        "min_replicas": 2,
        "max_replicas": 4,
        "target_cpu_utilization_percent": 70,
        "cpu_request": "500m",
        "cpu_limit": "1",
        "memory_request": "1Gi",
        "memory_limit": "1Gi",
        "model_volume_size": "2Gi",
        "workers": None,
        "drain_seconds": 10,
        "graceful_timeout_seconds": 20,
        "prometheus_address": "http://prometheus.monitoring",
        "model_artifact_sha256": None,
        "model_artifact_version_id": None,
        "traffic_sources": (NetworkPeer("ingress", {"app": "router"}),),
        "metrics_scrapers": (NetworkPeer("monitoring"),),
        "vpc_cidr": "10.1.0.0/16",
        "s3_cidr_blocks": ["52.216.0.0/15"],
    }
    return KubernetesServingArgs(**{**fields, **changes})


def declare_serving(declare: Declare, args: KubernetesServingArgs) -> Declared:
    return declare(
        lambda: KubernetesServing("serving", args, opts=pulumi.ResourceOptions(provider=provider()))
    )


def test_serving_canary_declares_rollout_analysis_and_canary_service(declare: Declare) -> None:
    declared = declare_serving(declare, serving_args(RolloutStrategy.CANARY))
    custom = {
        r.inputs["kind"]: r.inputs
        for r in declared.of_type("kubernetes:argoproj.io/v1alpha1:Rollout")
    }
    custom.update(
        {
            r.inputs["kind"]: r.inputs
            for r in declared.of_type("kubernetes:argoproj.io/v1alpha1:AnalysisTemplate")
        }
    )
    rollout = custom["Rollout"]["spec"]
    assert rollout["strategy"]["canary"]["steps"][0] == {"setWeight": 20}
    assert rollout["strategy"]["canary"]["canaryService"] == "model-server-canary"
    pod = rollout["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    (metric,) = custom["AnalysisTemplate"]["spec"]["metrics"]
    assert metric["successCondition"] == "result[0] <= 300"
    assert len(declared.of_type("kubernetes:core/v1:Service")) == 2
    assert declared.of_type("kubernetes:apps/v1:Deployment") == []


def test_serving_rolling_declares_a_hardened_deployment(declare: Declare) -> None:
    declared = declare_serving(declare, serving_args(RolloutStrategy.ROLLING))
    spec = declared.one("kubernetes:apps/v1:Deployment").inputs["spec"]
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": "20%", "maxUnavailable": 0}
    assert "replicas" not in spec
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert [c["name"] for c in pod["initContainers"]] == ["fetch-model", "unpack-model"]
    hpa = declared.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert hpa["scaleTargetRef"]["kind"] == "Deployment"
    assert len(declared.of_type("kubernetes:core/v1:Service")) == 1
    policy = json.loads(declared.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == "arn:aws:s3:::artifacts/models/churn/model.tar.gz"
    trust = json.loads(declared.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["oidc.eks/id/X:sub"] == "system:serviceaccount:serving:model-server"


def test_serving_objects_go_through_the_given_provider(declare: Declare) -> None:
    declared = declare_serving(declare, serving_args(RolloutStrategy.ROLLING))
    (provider_resource,) = declared.of_type("pulumi:providers:kubernetes")
    kubernetes = [r for r in declared.resources if r.type.startswith("kubernetes:")]
    assert kubernetes
    assert all(r.provider and r.provider.startswith(provider_resource.urn) for r in kubernetes)


def test_serving_rejects_inverted_replica_bounds(declare: Declare) -> None:
    with pytest.raises(ResourceError, match="min_replicas"):
        declare_serving(declare, serving_args(RolloutStrategy.ROLLING, min_replicas=5))


def test_serving_rejects_a_rollout_without_checks_to_analyse(declare: Declare) -> None:
    unchecked = replace(
        compile_kubernetes_strategy(rollout_policy(RolloutStrategy.CANARY)), checks=()
    )
    with pytest.raises(ResourceError, match="rollback checks"):
        declare_serving(declare, serving_args(RolloutStrategy.CANARY, strategy=unchecked))
