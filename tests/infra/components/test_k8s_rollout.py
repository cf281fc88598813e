"""The Kubernetes workload follows the stack's rollout policy: Argo Rollout canary steps and
analysis for canary and linear, a plain Deployment for rolling and all-at-once."""

from __future__ import annotations

from typing import Any

import pytest

from infra.components.argo_rollouts import ARGO_ROLLOUTS_CHART_VERSION
from infra.config import build_stack_config
from infra.config.rollout import RollbackMetric, RolloutPolicy
from infra.rollout import compile_argo_canary_steps, traffic_steps
from mlstack.offline.plan import Plan
from tests.infra.config_helpers import raw_config
from tests.infra.conftest import PlanWith
from tests.infra.eks_plans import enable_eks_on_staging, objects

RELEASE = "kubernetes:helm.sh/v3:Release"


def _policy(stack: str) -> RolloutPolicy:
    raw, region = raw_config(stack)
    return build_stack_config(stack, raw, region).rollout


def _kind(plan: Plan, kind: str) -> list[dict[str, Any]]:
    return [o for o in objects(plan) if o["kind"] == kind]


def test_production_serves_through_an_argo_rollout_with_the_policy_steps(
    shipped_plans: dict[str, Plan],
) -> None:
    plan = shipped_plans["production"]
    policy = _policy(plan.stack)
    (rollout,) = _kind(plan, "Rollout")
    assert rollout["apiVersion"] == "argoproj.io/v1alpha1"
    canary = rollout["spec"]["strategy"]["canary"]
    assert canary["steps"] == compile_argo_canary_steps(policy)
    weights = [s["setWeight"] for s in canary["steps"] if "setWeight" in s]
    assert weights == [step.weight_percent for step in traffic_steps(policy)]
    assert weights[0] == policy.step_percent and weights[-1] == 100
    pauses = [s["pause"]["duration"] for s in canary["steps"] if "pause" in s]
    assert pauses == [f"{policy.bake_seconds}s"]
    assert not _kind(plan, "Deployment")


def test_rollout_is_valid_without_a_traffic_router(shipped_plans: dict[str, Plan]) -> None:
    (rollout,) = _kind(shipped_plans["production"], "Rollout")
    spec = rollout["spec"]
    canary = spec["strategy"]["canary"]
    # Argo rejects these without trafficRouting ("can only be used with traffic routing").
    assert "trafficRouting" not in canary
    assert "scaleDownDelaySeconds" not in canary and "dynamicStableScale" not in canary
    # progressDeadlineAbort belongs to the Rollout spec, not to the canary strategy.
    assert spec["progressDeadlineAbort"] is True and "progressDeadlineAbort" not in canary
    assert canary["maxUnavailable"] == 0
    assert canary["stableService"] != canary["canaryService"]
    services = {s["metadata"]["name"] for s in _kind(shipped_plans["production"], "Service")}
    assert {canary["stableService"], canary["canaryService"]} <= services
    assert "replicas" not in spec  # the HorizontalPodAutoscaler owns the count


def test_analysis_watches_every_rollback_alarm_and_aborts(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["production"]
    policy = _policy(plan.stack)
    (rollout,) = _kind(plan, "Rollout")
    (template,) = _kind(plan, "AnalysisTemplate")
    analysis = rollout["spec"]["strategy"]["canary"]["analysis"]
    assert analysis["templates"] == [{"templateName": template["metadata"]["name"]}]
    assert analysis["startingStep"] == 1
    (arg,) = analysis["args"]
    assert arg["valueFrom"] == {"podTemplateHashValue": "Latest"}
    assert template["spec"]["args"] == [{"name": arg["name"]}]
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    assert set(metrics) == {a.metric.value for a in policy.rollback_alarms}
    for alarm in policy.rollback_alarms:
        metric = metrics[alarm.metric.value]
        assert metric["successCondition"] == f"result[0] <= {alarm.threshold:g}"
        assert metric["failureLimit"] == alarm.evaluation_periods - 1
        query = metric["provider"]["prometheus"]["query"]
        assert f"{{{{args.{arg['name']}}}}}" in query
        assert 'route="/invocations"' in query
    assert (
        "histogram_quantile(0.99"
        in metrics[RollbackMetric.LATENCY_P99.value]["provider"]["prometheus"]["query"]
    )
    assert (
        'code=~"5.."' in metrics[RollbackMetric.ERRORS_5XX.value]["provider"]["prometheus"]["query"]
    )


def test_argo_rollouts_is_installed_from_a_pinned_chart(shipped_plans: dict[str, Plan]) -> None:
    (release,) = shipped_plans["production"].of_type(RELEASE)
    assert release.inputs["chart"] == "argo-rollouts"
    assert release.inputs["version"] == ARGO_ROLLOUTS_CHART_VERSION
    assert release.inputs["repositoryOpts"]["repo"] == "https://argoproj.github.io/argo-helm"
    values = release.inputs["values"]
    assert values["installCRDs"] is True and values["dashboard"] == {"enabled": False}
    # The chart reads pod hardening from top-level keys, not from "controller".
    assert values["containerSecurityContext"]["readOnlyRootFilesystem"] is True
    assert values["containerSecurityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert values["podSecurityContext"]["runAsNonRoot"] is True
    (namespace,) = [
        o
        for o in objects(shipped_plans["production"])
        if o["kind"] == "Namespace" and o["metadata"]["name"] == release.inputs["namespace"]
    ]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_linear_policy_compiles_to_one_step_per_shift(plan_with: PlanWith) -> None:
    def linear(config: dict[str, Any]) -> None:
        config["mlstack:rollout"]["strategy"] = "linear"
        config["mlstack:rollout"]["stepPercent"] = 25
        config["mlstack:rollout"]["bakeSeconds"] = 300

    plan = plan_with("production", linear)
    (rollout,) = _kind(plan, "Rollout")
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    assert [s["setWeight"] for s in steps if "setWeight" in s] == [25, 50, 75, 100]
    assert [s["pause"]["duration"] for s in steps if "pause" in s] == ["300s"] * 3


@pytest.mark.parametrize(("strategy", "surge"), [("rolling", "25%"), ("all-at-once", "100%")])
def test_rolling_and_all_at_once_compile_to_a_plain_deployment(
    strategy: str, surge: str, plan_with: PlanWith, request: pytest.FixtureRequest
) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["mlstack:rollout"]["strategy"] = strategy
        if strategy == "all-at-once":
            config["mlstack:rollout"].pop("stepPercent", None)
        else:
            config["mlstack:rollout"]["stepPercent"] = 25

    plan = (
        plan_with("staging", enable_eks_on_staging, edit)
        if strategy == "rolling"
        else request.getfixturevalue("staging_eks_plan")
    )
    (deployment,) = _kind(plan, "Deployment")
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": surge, "maxUnavailable": 0},
    }
    assert not _kind(plan, "Rollout") and not _kind(plan, "AnalysisTemplate")
    assert not plan.of_type(RELEASE)
    services = _kind(plan, "Service")
    assert [s["metadata"]["name"] for s in services] == [deployment["metadata"]["name"]]
