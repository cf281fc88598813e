"""Alarms reach people: every alarm notifies the stack's topic; each variant has the full set."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.offline.plan import Plan
from tests.conftest import edit_stack_file
from tests.infra.components.delivery_helpers import ALARM, TOPIC, alarms_by_name, only

STACKS = ("staging", "production")
FULL_SET = {
    "latency-p99",
    "latency-average",
    "overhead-latency",
    "errors-5xx",
    "errors-4xx",
    "model-errors",
    "cpu",
    "memory",
    "disk",
}
PlanEdited = Callable[[str, Callable[[dict[str, Any]], None]], Plan]


@pytest.mark.parametrize("stack", STACKS)
def test_every_alarm_notifies_the_topic_on_alarm_and_ok(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    topic = plan.outputs["alertTopicArn"]
    for alarm in plan.of_type(ALARM):
        assert alarm.inputs["alarmActions"] == [topic], alarm.name
        assert alarm.inputs["okActions"] == [topic], alarm.name
        assert alarm.inputs["actionsEnabled"] is True, alarm.name


@pytest.mark.parametrize("stack", STACKS)
def test_topic_is_encrypted_with_the_stack_key(shipped_plans: dict[str, Plan], stack: str) -> None:
    plan = shipped_plans[stack]
    assert only(plan, TOPIC).inputs["kmsMasterKeyId"] == plan.outputs["kmsKeyArn"]


@pytest.mark.parametrize("stack", STACKS)
def test_topic_subscriptions_come_from_config(shipped_plans: dict[str, Plan], stack: str) -> None:
    plan = shipped_plans[stack]
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscriptions
    assert {s.inputs["protocol"] for s in subscriptions} <= {"email", "https"}
    assert all(s.inputs["topic"] == plan.outputs["alertTopicArn"] for s in subscriptions)


@pytest.mark.parametrize("stack", STACKS)
def test_each_variant_has_the_full_alarm_set(shipped_plans: dict[str, Plan], stack: str) -> None:
    alarms = alarms_by_name(shipped_plans[stack])
    kinds = {
        a["tags"]["mlstack:alarm"]
        for a in alarms.values()
        if a["tags"]["mlstack:alarm-role"] == "operational"
        and a.get("dimensions", {}).get("VariantName") in (None, "AllTraffic")
        and a["name"].startswith(f"mlstack-{stack}-AllTraffic-")
    }
    assert kinds >= FULL_SET


def test_production_alarms_on_no_traffic(shipped_plans: dict[str, Plan]) -> None:
    alarm = alarms_by_name(shipped_plans["production"])["mlstack-production-AllTraffic-no-traffic"]
    assert alarm["comparisonOperator"] == "LessThanThreshold"
    assert alarm["treatMissingData"] == "breaching"
    assert "mlstack-staging-AllTraffic-no-traffic" not in alarms_by_name(shipped_plans["staging"])


def test_error_alarms_are_rates_with_metric_math(shipped_plans: dict[str, Plan]) -> None:
    alarm = alarms_by_name(shipped_plans["production"])["mlstack-production-AllTraffic-errors-5xx"]
    expression = next(q for q in alarm["metricQueries"] if q.get("expression"))
    assert "100 * errors / invocations" in expression["expression"]
    assert expression["returnData"] is True
    assert alarm["threshold"] == 0.5


def test_utilisation_alarms_read_the_instance_namespace(shipped_plans: dict[str, Plan]) -> None:
    alarms = alarms_by_name(shipped_plans["production"])
    for kind in ("cpu", "memory", "disk"):
        assert alarms[f"mlstack-production-AllTraffic-{kind}"]["namespace"] == (
            "/aws/sagemaker/Endpoints"
        )
    # ml.c5.xlarge has 4 vCPUs: 80% of the instance is 320 in CPUUtilization's unit.
    assert alarms["mlstack-production-AllTraffic-cpu"]["threshold"] == 320


def test_ab_variant_gets_its_own_alarm_set(plan_edited: PlanEdited) -> None:
    def ab(config: dict[str, Any]) -> None:
        config["mlstack:sagemaker"]["abVariants"] = [{"name": "challenger", "packageVersion": 5}]

    alarms = alarms_by_name(plan_edited("staging", ab))
    kinds = {a["tags"]["mlstack:alarm"] for n, a in alarms.items() if "-challenger-" in n}
    assert kinds >= FULL_SET


@pytest.mark.parametrize("stack", STACKS)
def test_dashboard_graphs_variants_and_alarm_states(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    body = json.loads(only(plan, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    text = json.dumps(body)
    for metric in ("Invocations", "ModelLatency", "Invocation5XXErrors", "CPUUtilization"):
        assert metric in text
    (states,) = [w for w in body["widgets"] if w["properties"].get("title") == "alarm states"]
    # Every endpoint alarm; a model's loop alarms (batch, quality, attribution) are its own.
    endpoint_alarms = [a for a in plan.of_type(ALARM) if not _in_loop(a)]
    assert len(states["properties"]["alarms"]) == len(endpoint_alarms)


LOOP_COMPONENTS = ("mlstack:batch:BatchInference", "mlstack:model_monitors:ModelMonitors")


def _in_loop(resource: Any) -> bool:
    return any(f"{t}::" in str(resource.parent) for t in LOOP_COMPONENTS)


@pytest.mark.parametrize("stack", STACKS)
def test_a_models_loop_alarms_sit_under_its_row_only_when_it_has_them(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    """Production's churn-classifier runs batch inference and both monitors: its three loop
    alarms, as planned, in a widget right under its graphs; staging's model has no loop and
    its dashboard no such widget."""
    plan = shipped_plans[stack]
    body = json.loads(only(plan, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    widgets = body["widgets"]
    loop_names = sorted(a.inputs["name"] for a in plan.of_type(ALARM) if _in_loop(a))
    loop_widgets = [
        w for w in widgets if w["properties"].get("title", "").endswith("monitor alarms")
    ]
    if stack == "staging":
        assert loop_names == [] and loop_widgets == []
        return
    assert loop_names == [
        "churn-classifier-production-attribution-drift",
        "churn-classifier-production-batch-failed",
        "churn-classifier-production-model-quality",
    ]
    (widget,) = loop_widgets
    assert widget["type"] == "alarm"
    assert widget["properties"]["title"].startswith("churn-classifier: ")
    shown = sorted(arn.rsplit(":alarm:", 1)[1] for arn in widget["properties"]["alarms"])
    assert shown == loop_names
    row = [w for w in widgets if w["type"] == "metric"]
    assert {w["y"] for w in row} == {0}
    assert widget["y"] == 6 and (widget["x"], widget["width"]) == (0, 24)
    states = next(w for w in widgets if w["properties"].get("title") == "alarm states")
    assert states["y"] == max(w["y"] + w["height"] for w in widgets if w is not states)
    cells = [(w["x"] + dx, w["y"] + dy) for w in widgets
             for dx in range(w["width"]) for dy in range(w["height"])]  # fmt: skip
    assert len(cells) == len(set(cells)), "stacked, no overlap"


def _eks_models(plan: Plan) -> dict[str, str]:
    """Each EKS-served model's Rollout or Deployment: namespace -> the analysis template's
    p99 query (the rollback check's PromQL), as planned."""
    out = {}
    for template in plan.of_type("kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"):
        namespace = template.inputs["metadata"]["namespace"]
        metrics = {m["name"]: m for m in template.inputs["spec"]["metrics"]}
        out[namespace] = metrics["latency-p99"]["provider"]["prometheus"]["query"]
    return out


@pytest.mark.parametrize("stack", ["production", "platform"])
def test_each_model_on_eks_has_a_row_saying_where_its_metrics_are(
    shipped_plans: dict[str, Plan], platform_plan: Plan, stack: str
) -> None:
    """CloudWatch has no metrics of the EKS path: each EKS model's row is text naming its
    namespace, Prometheus and the queries its rollback checks run (over every pod, not the
    canary's), and the command that shows its rollout."""
    plan = platform_plan if stack == "platform" else shipped_plans[stack]
    body = json.loads(only(plan, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    texts = [w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text"]
    canary_queries = _eks_models(plan)
    assert canary_queries, "the stack serves a model on EKS"
    assert len(texts) == len(canary_queries)
    for namespace, canary_query in canary_queries.items():
        (text,) = [t for t in texts if f"Namespace `{namespace}`" in t]
        assert "prometheus-server.monitoring.svc.cluster.local" in text
        assert f"kubectl argo rollouts get rollout model-server -n {namespace}" in text
        every_pod = canary_query.replace(',rollouts_pod_template_hash="{{args.canary-hash}}"', "")
        assert every_pod != canary_query
        assert f"| latency p99, ms | `{every_pod}` |" in text


@pytest.mark.parametrize("stack", STACKS)
def test_endpoint_log_group_has_retention_and_kms(
    shipped_plans: dict[str, Plan], stack: str
) -> None:
    plan = shipped_plans[stack]
    groups = {
        g.inputs.get("name"): g.inputs for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    group = groups[f"/aws/sagemaker/Endpoints/mlstack-{stack}"]
    assert group["kmsKeyId"] == plan.outputs["kmsKeyArn"]
    assert group["retentionInDays"] > 0


runner = CliRunner()


@pytest.mark.parametrize(
    ("alarm", "value", "key"),
    [
        ("errors5xx", 150, "mlstack:monitoring.alarms.errors5xx.threshold = 150"),
        ("latencyP99", 0, "mlstack:monitoring.alarms.latencyP99.threshold"),
        ("cpu", 101, "mlstack:monitoring.alarms.cpu.threshold = 101"),
    ],
)
def test_invalid_threshold_exits_two_naming_the_key(
    project_copy: Path, alarm: str, value: float, key: str
) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["mlstack:monitoring"].setdefault("alarms", {})[alarm] = {"threshold": value}

    edit_stack_file(project_copy, "production", edit)
    result = runner.invoke(app, ["plan", "production", "--project-dir", str(project_copy)])
    assert result.exit_code == 2
    assert key in result.stderr
    assert "Traceback" not in result.output


def test_invalid_alarm_period_exits_two_naming_the_key(project_copy: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["mlstack:monitoring"]["alarms"]["latencyP99"]["periodSeconds"] = 45

    edit_stack_file(project_copy, "production", edit)
    result = runner.invoke(app, ["plan", "production", "--project-dir", str(project_copy)])
    assert result.exit_code == 2
    assert "mlstack:monitoring.alarms.latencyP99.periodSeconds = 45" in result.stderr
