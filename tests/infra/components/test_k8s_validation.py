"""Every built-in Kubernetes object of a plan passes strict schema validation against the
stack's own Kubernetes version; workloads of custom kinds are validated through their pod
template."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from infra.config.eks import KUBERNETES_VERSIONS
from mlstack.manifests import is_builtin
from mlstack.offline.plan import Plan
from tests.infra.eks_plans import (
    as_deployment,
    kubernetes_version,
    objects,
    workloads,
)


@pytest.fixture(params=["production", "staging-eks"])
def plan(request: pytest.FixtureRequest, shipped_plans: dict[str, Plan]) -> Plan:
    if request.param == "production":
        return shipped_plans["production"]
    return request.getfixturevalue("staging_eks_plan")


def _validate(obj: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(obj, version, strict=True)


def test_supported_versions_have_schemas_in_kubernetes_validate() -> None:
    for version in KUBERNETES_VERSIONS:
        _validate({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}, version)


def test_every_builtin_object_validates_strictly(plan: Plan) -> None:
    version = kubernetes_version(plan)
    builtin = [o for o in objects(plan) if is_builtin(o)]
    kinds = {o["kind"] for o in builtin}
    assert {"Namespace", "ServiceAccount", "Service", "HorizontalPodAutoscaler"} <= kinds
    assert {"PodDisruptionBudget", "NetworkPolicy"} <= kinds
    for obj in builtin:
        _validate(obj, version)


def test_workload_pod_templates_validate_strictly(plan: Plan) -> None:
    version = kubernetes_version(plan)
    found = workloads(plan)
    assert found
    for workload in found:
        _validate(as_deployment(workload), version)


def test_strict_validation_rejects_a_misspelt_field(plan: Plan) -> None:
    (workload, *_) = workloads(plan)
    broken = as_deployment(workload)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(broken, kubernetes_version(plan))


def test_custom_kinds_are_only_argo_rollouts_objects(plan: Plan) -> None:
    custom = {(o["apiVersion"], o["kind"]) for o in objects(plan) if not is_builtin(o)}
    assert custom <= {
        ("argoproj.io/v1alpha1", "Rollout"),
        ("argoproj.io/v1alpha1", "AnalysisTemplate"),
    }
