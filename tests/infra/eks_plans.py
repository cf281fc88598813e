"""Lookups over plans of the EKS path, and the edit that turns EKS on for staging (two AZs, no
NAT, a tag-pinned image, a plain Deployment); the plans are fixtures in ``conftest.py``."""

from __future__ import annotations

from typing import Any

from mlstack.manifests import (
    as_deployment,  # noqa: F401  (re-exported for tests)
    manifests,
)
from mlstack.offline.plan import Plan, PlannedResource

STAGING_ADMIN = "arn:aws:iam::123456789012:role/mlstack-staging-deployer"


def enable_eks_on_staging(config: dict[str, Any]) -> None:
    """Staging with the EKS path: private-only VPC over two AZs, Kubernetes 1.34."""
    config["mlstack:accountId"] = "123456789012"
    config["mlstack:network"] = {"enabled": True, "availabilityZones": 2, "nat": "none"}
    config["mlstack:eks"] = {
        "enabled": True,
        "kubernetesVersion": "1.34",
        "adminPrincipalArns": [STAGING_ADMIN],
        "nodeGroup": {"minSize": 1, "desiredSize": 1, "maxSize": 2, "capacityType": "SPOT"},
    }
    config["mlstack:kubernetes"] = {
        "imageTag": "1.4.0",
        "modelArtifact": "models/churn-classifier/v4/",
        "minReplicas": 1,
        "maxReplicas": 2,
        "drainSeconds": 0,
    }


def kubernetes_version(plan: Plan) -> str:
    (cluster,) = plan.of_type("aws:eks/cluster:Cluster")
    return str(cluster.inputs["version"])


def objects(plan: Plan) -> list[dict[str, Any]]:
    return manifests(plan)


def one(plan: Plan, type_token: str) -> PlannedResource:
    (resource,) = plan.of_type(type_token)
    return resource


def workloads(plan: Plan) -> list[dict[str, Any]]:
    """Objects that run pods (Deployment, Rollout, ...)."""
    return [o for o in objects(plan) if "template" in (o.get("spec") or {})]
