"""Plans of the EKS path shared by its tests: production as shipped, and a staging-like stack
with EKS turned on (two AZs, no NAT, a tag-pinned image, a plain Deployment)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mlstack.manifests import manifests
from mlstack.offline.harness import run_plan
from mlstack.offline.plan import Plan, PlannedResource
from tests.conftest import edit_stack_file, make_project_copy

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


def plan_with(stack: str, *edits: Any) -> Plan:
    """Plan a throwaway copy of the project after applying ``edits`` to a stack file."""
    scratch = Path(tempfile.mkdtemp(prefix="mlstack-eks-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    root = make_project_copy(scratch / "project")
    for edit in edits:
        edit_stack_file(root, stack, edit)
    return run_plan(stack, root)


@functools.cache
def staging_eks_plan() -> Plan:
    """Staging with EKS enabled (computed once per test session)."""
    return plan_with("staging", enable_eks_on_staging)


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


def as_deployment(workload: dict[str, Any]) -> dict[str, Any]:
    """A Deployment with the workload's selector and pod template: how schema validation
    and scanners that do not know Argo's Rollout get to check its pods."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": workload["metadata"],
        "spec": {
            "selector": workload["spec"]["selector"],
            "template": workload["spec"]["template"],
        },
    }
