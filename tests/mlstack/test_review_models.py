"""The reviewer summary and diff of a stack of many models (stacks/Pulumi.platform.yaml): each
model told with its own facts after the platform's, the retraining loop per model, a change of
the platform apart from the models, and `mlstack compare` pairing the facts by model. The
promotion of one model is in tests/mlstack/models/test_model_promote_many.py."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from mlstack.compare import compare_plans, render_comparison
from mlstack.diff import diff_plans, render_markdown
from mlstack.offline.harness import run_plan
from mlstack.offline.plan import Plan
from mlstack.project import PROJECT_ROOT
from mlstack.review import review_plan
from tests.conftest import SHIPPED_STACKS, edit_stack_file, make_project_copy
from tests.golden import assert_golden
from tests.mlstack.test_review import NODE_PRICE, document

STACK = "platform"
QUALITY_MODEL = "churn"
"""The model the loop edit gives a model-quality monitor."""
ADDED_ADDRESS = "ml-platform-second@example.com"


def drift_monitor(resolved_model: dict[str, Any]) -> str:
    """The data-drift monitor a model's resolved ``drift`` gives in the summary, or none."""
    drift = resolved_model["drift"]
    if not drift["enabled"]:
        return "none"
    features = ", ".join(drift["watchedFeatures"])
    return f"data-drift hourly, alarm on baseline drift > {drift['driftThreshold']:g} on {features}"


def stack_file(stack: str = STACK) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(
        (PROJECT_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    )["config"]
    return config


def block(lines: list[str], header: str) -> list[str]:
    """The lines under ``header`` up to the next line as indented as it."""
    start = lines.index(header)
    indent = len(header) - len(header.lstrip())
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if len(lines[i]) - len(lines[i].lstrip()) <= indent
        ),
        len(lines),
    )
    return lines[start + 1 : end]


@pytest.fixture(scope="module")
def platform_doc(platform_plan: Plan) -> dict[str, Any]:
    return document(platform_plan)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The platform stack planned after a change of the platform alone (one more address on
    the alert topic), and after giving one model a model-quality monitor (its loop)."""

    def plan_with(name: str, edit: Any) -> dict[str, Any]:
        project = make_project_copy(tmp_path_factory.mktemp(name) / "project")
        edit_stack_file(project, STACK, edit)
        return document(run_plan(STACK, project))

    def alerts(config: dict[str, Any]) -> None:
        config["mlstack:monitoring"]["emailSubscriptions"].append(ADDED_ADDRESS)

    def loop(config: dict[str, Any]) -> None:
        config["mlstack:models"][QUALITY_MODEL]["qualityMonitoring"] = {
            "enabled": True,
            "probabilityAttribute": "probability",
        }

    return {"alerts": plan_with("alerts", alerts), "loop": plan_with("loop", loop)}


def test_the_summary_tells_each_model_after_the_platform(platform_doc: dict[str, Any]) -> None:
    config = stack_file()
    models, defaults = config["mlstack:models"], config["mlstack:modelDefaults"]
    lines = review_plan(platform_doc).lines()
    assert lines[1:4] == ["  stack", "    tier: production", "    enforcement: mandatory"]
    platform = block(lines, "  platform")
    assert f"    models: {', '.join(sorted(models))}" in platform
    fleet = config["mlstack:fleets"]["small-models"]
    on_fleet = sorted(n for n, m in models.items() if "fleet" in m)
    assert (
        f"    fleet small-models: {fleet['instanceCount']} x {fleet['instanceType']} "
        f"(mlstack-platform-small-models), managed scaling "
        f"{fleet['minInstances']}-{fleet['maxInstances']} instances, "
        f"shared by {', '.join(on_fleet)}"
    ) in platform
    assert any(
        line.startswith("    EKS nodes: 3 x m6i.xlarge") and line.endswith("shared by ranking")
        for line in platform
    ), platform

    for name, model in models.items():
        facts = block(lines, f"  model {name}")
        assert f"      model: {model['packageGroupName']} v{model['packageVersion']}" in facts
        strategy = model.get("rollout", {}).get("strategy") or defaults["rollout"]["strategy"]
        assert any(f.startswith(f"      timeline: {strategy}: ") for f in facts), (name, facts)
        assert any(f.startswith("      rollback alarms: latency-p99 > 500 ms") for f in facts)
        monitors = drift_monitor(platform_doc["config"]["models"][name])
        assert "    loop" in facts and f"      monitors: {monitors}" in facts
        if "fleet" in model:
            share = model["fleet"]
            assert any(
                f.startswith("      fleet: small-models (shared")
                and f.endswith(
                    f"{share['copies']} copies x {share['cpuCores']:g} CPU, {share['memoryMb']} MB"
                )
                for f in facts
            ), (name, facts)
            assert "      hourly (on-demand): its share of fleet small-models" in facts
    churn = block(lines, "  model churn")
    sagemaker = models["churn"]["sagemaker"]
    assert (
        f"      instances: {sagemaker['instanceCount']} x {sagemaker['instanceType']} "
        "(AllTraffic)" in churn
    )
    assert "      autoscaling: 3-12 instances" in churn
    ranking = block(lines, "  model ranking")
    kubernetes = models["ranking"]["kubernetes"]
    assert "    EKS" in ranking and not any(f.startswith("      nodes:") for f in ranking)
    replicas = f"      replicas: {kubernetes['minReplicas']}-{kubernetes['maxReplicas']} pods"
    assert any(f.startswith(replicas) for f in ranking), ranking


def test_the_json_summary_carries_every_model(platform_doc: dict[str, Any]) -> None:
    review = review_plan(platform_doc)
    summary = review.to_json()
    names = list(platform_doc["config"]["models"])
    assert [m["name"] for m in summary["models"]] == names
    for model in summary["models"]:
        assert model["paths"] and {p["modelName"] for p in model["paths"]} == {model["name"]}
        assert model["rollout"]["rollbackAlarms"] and model["loop"]["model"] == model["name"]
    assert summary["rollout"] is None  # each model has its own
    assert summary["platform"]["fleet small-models"].endswith("language-id, sentiment")
    nodes = next(f for f in summary["cost"]["fleets"] if f["label"] == "EKS nodes")
    assert nodes["hourly"] == pytest.approx(3 * NODE_PRICE)
    text = "\n".join(review.lines())
    for fact in summary["facts"]:
        assert f"{fact['label']}: {fact['value']}" in text, fact
    assert {f.get("model") for f in summary["facts"]} == {None, *names}


@pytest.mark.golden
@pytest.mark.parametrize("stack", [*SHIPPED_STACKS, STACK])
def test_summary_text_matches_its_golden_file(
    stack: str, shipped_plans: dict[str, Plan], platform_doc: dict[str, Any]
) -> None:
    doc = platform_doc if stack == STACK else document(shipped_plans[stack])
    assert_golden(f"summaries/{stack}.txt", "\n".join(review_plan(doc).lines()) + "\n")


def test_loop_facts_per_model(
    shipped_plans: dict[str, Plan], edited: dict[str, dict[str, Any]]
) -> None:
    # A single-model stack: its one model's loop, without a model heading.
    loop = block(review_plan(document(shipped_plans["production"])).lines(), "  loop")
    assert loop[0].startswith("    retraining: pipeline churn-classifier-retraining, ")
    assert loop[1].startswith("    retraining triggers: schedule cron(0 3 ? * SUN *) UTC, ")
    assert "data-drift alarm OK -> ALARM" in loop[1]
    assert loop[2].startswith("    batch: pipeline churn-classifier-batch, schedule cron(0 2 ")
    assert loop[3] == (
        "    monitors: data-drift hourly, alarm on baseline drift > 0.1 on tenure_months, "
        "monthly_charges; model-quality hourly, alarm on auc < 0.8; "
        "explainability hourly, alarm on global SHAP moves > 50% from baseline"
    )
    # A stack of many models: each model's own loop.
    review = review_plan(edited["loop"])
    lines = review.lines()
    for name, resolved in edited["loop"]["config"]["models"].items():
        monitors = [f for f in block(lines, f"  model {name}") if "monitors:" in f]
        expected = drift_monitor(resolved)
        if name == QUALITY_MODEL:
            expected = f"{expected}; model-quality hourly, alarm on auc < 0.8"
        assert monitors == [f"      monitors: {expected}"], name
    loops = {m["name"]: m["loop"] for m in review.to_json()["models"]}
    assert [m["kind"] for m in loops[QUALITY_MODEL]["monitors"]] == ["data-drift", "model-quality"]
    assert [m["kind"] for m in loops["ranking"]["monitors"]] == ["data-drift"]
    assert loops["sentiment"]["monitors"] == []


def test_a_platform_change_is_told_apart_from_the_models(
    platform_doc: dict[str, Any], edited: dict[str, dict[str, Any]]
) -> None:
    diff = diff_plans(platform_doc, edited["alerts"], "main", "head")
    review = diff.review
    assert review is not None and review.grouped
    assert review.models == ()
    assert sorted(review.unchanged_models) == sorted(platform_doc["config"]["models"])
    assert review.platform is not None
    assert [(c.type, c.operation.value) for c in review.platform.changes] == [
        ("aws:sns/topicSubscription:TopicSubscription", "create")
    ]
    text = render_markdown(diff, "mlstack diff: platform")
    assert "**4 models unchanged**: " in text
    assert "**Platform**: 1 to create, 0 to update, 0 to replace, 0 to delete" in text
    assert (
        "| platform | **alerts** | **1 email address, 0 HTTPS endpoints -> "
        "2 email addresses, 0 HTTPS endpoints** |"
    ) in text
    assert "Model `" not in text
    assert ADDED_ADDRESS not in text  # subscribers are counted, never listed
    created = text[text.index("#### Platform") :]
    assert created.startswith("#### Platform\n\n##### Created (1)\n\n- `monitoring-alerts-email-1`")
    assert [r["model"] for r in diff.to_json()["resources"]] == [None]


def test_the_lead_lines_stay_first_in_a_stack_of_models(
    platform_doc: dict[str, Any], shipped_plans: dict[str, Plan]
) -> None:
    diff = diff_plans(document(shipped_plans["staging"]), platform_doc, "staging", "platform")
    lines = render_markdown(diff, "t").splitlines()
    assert lines[0] == "**⚠️ tier changes: staging -> production**"
    assert lines[1] == "**⚠️ enforcement changes: advisory -> mandatory**"


def test_compare_pairs_the_facts_by_model(
    platform_doc: dict[str, Any], edited: dict[str, dict[str, Any]]
) -> None:
    comparison = compare_plans(platform_doc, edited["loop"], "platform", "edited")
    changed = [f for f in comparison.facts if f.changed]
    assert [(f.model, f.group, f.label) for f in changed] == [(QUALITY_MODEL, "loop", "monitors")]
    assert all(f.model is not None for f in comparison.facts if f.group in ("SageMaker", "loop"))
    text = render_comparison(comparison, "compare")
    drift = drift_monitor(platform_doc["config"]["models"][QUALITY_MODEL])
    assert f"| {QUALITY_MODEL} loop | monitors | {drift} -> {drift}; model-quality hourly" in text
    facts = comparison.to_json()["facts"]
    assert {f.get("model") for f in facts if f["changed"]} == {QUALITY_MODEL}
