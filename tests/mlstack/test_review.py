"""The reviewer summary that leads `mlstack plan` and `mlstack diff` (mlstack.review)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from mlstack.cli.plan_cmd import plan_json
from mlstack.cli.render import render_plan
from mlstack.diff import PlanDiff, diff_plans, render_markdown
from mlstack.diff_data import prices
from mlstack.offline.harness import run_plan
from mlstack.offline.plan import Plan
from mlstack.project import PROJECT_ROOT
from mlstack.review import resolved_config, review_plan, serving_paths
from tests.conftest import edit_stack_file, make_project_copy

NODE_PRICE = 0.192
"""m6i.xlarge on-demand in us-east-1 (prices.json, from Karpenter's generated tables)."""


def document(plan: Plan) -> dict[str, Any]:
    return {**plan.to_json(), "secretKeys": list(plan.secret_keys)}


@pytest.fixture(scope="module")
def piped_plan() -> str:
    """`mlstack plan production --tree | cat`: stdout is a pipe, not a terminal."""
    done = subprocess.run(
        [sys.executable, "-m", "mlstack", "plan", "production", "--tree"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Production planned after a model version bump, and after a VPC range change."""

    def plan_with(name: str, edit: Any) -> dict[str, Any]:
        project = make_project_copy(tmp_path_factory.mktemp(name) / "project")
        edit_stack_file(project, "production", edit)
        return document(run_plan("production", project))

    def bump(config: dict[str, Any]) -> None:
        config["mlstack:model"]["packageVersion"] += 1

    def cidr(config: dict[str, Any]) -> None:
        config["mlstack:network"]["cidr"] = "10.41.0.0/16"

    return {"bump": plan_with("bump", bump), "cidr": plan_with("cidr", cidr)}


@pytest.fixture(scope="module")
def bump_diff(shipped_plans: dict[str, Plan], edited: dict[str, dict[str, Any]]) -> PlanDiff:
    return diff_plans(document(shipped_plans["production"]), edited["bump"], "main", "head")


def test_piped_plan_opens_with_the_summary_and_cuts_nothing(piped_plan: str) -> None:
    lines = piped_plan.splitlines()
    assert "stack production" in lines[0]
    assert lines[1] == "summary of stack production"
    assert lines[3:5] == ["    tier: production", "    enforcement: mandatory"]
    assert "…" not in piped_plan
    # The longest type token stays whole in the counts table.
    assert (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        in (piped_plan)
    )
    assert "registry (Registry)" in piped_plan  # --tree shows the tree


def test_summary_shows_each_serving_path(piped_plan: str, shipped_plans: dict[str, Plan]) -> None:
    created = len(shipped_plans["production"].resources)
    for expected in (
        "model: churn-classifier v3",
        "instances: 3 x ml.c5.xlarge (AllTraffic)",
        "autoscaling: 3-12 instances",
        "model: churn-classifier v3 (models/churn-classifier/v3/model.tar.gz)",
        "image: sha256:d638e3b111b9f11c273400aa1afc8f8d94ce2f03a0fdb3643f5b610bc2bf566e",
        "replicas: 3-12 pods (HPA at 60% CPU)",
        "nodes: 3 x m6i.xlarge (3-9, ON_DEMAND)",
        "timeline: canary: 10% -> bake 600 s -> 100%, keep old fleet 600 s, timeout 7200 s",
        "rollback alarms: latency-p99 > 500 ms, 2 of 2 x 60 s, errors-5xx > 1 %, 2 of 2 x 60 s",
        f"EKS nodes: 3 x m6i.xlarge at ${NODE_PRICE:.3f}/h = ${3 * NODE_PRICE:.3f}/h",
        f"operations: {created} to create, 0 to update, 0 to replace, 0 to delete",
    ):
        assert expected in piped_plan, expected


def test_without_tree_one_hint_stands_for_the_tree(shipped_plans: dict[str, Plan]) -> None:
    console = Console(record=True, width=80)
    render_plan(shipped_plans["staging"], console)
    text = console.export_text()
    assert "mlstack plan staging --tree shows them" in text
    assert "registry (Registry)" not in text
    assert text.index("summary of stack staging") < text.index("resource tree:")


def test_json_carries_every_summary_line(shipped_plans: dict[str, Plan], piped_plan: str) -> None:
    summary = plan_json(shipped_plans["production"])["summary"]
    assert summary["tier"] == "production" and summary["enforcement"] == "mandatory"
    assert summary["operations"]["create"] == len(shipped_plans["production"].resources)
    for fact in summary["facts"]:
        assert f"{fact['label']}: {fact['value']}" in piped_plan, fact
    eks = next(p for p in summary["paths"] if p["kind"] == "EKS")
    assert eks["model"] == "churn-classifier v3 (models/churn-classifier/v3/model.tar.gz)"
    assert summary["cost"]["fleets"][1]["hourly"] == pytest.approx(3 * NODE_PRICE)


def test_serving_paths_follow_the_resolved_config(shipped_plans: dict[str, Plan]) -> None:
    staging = serving_paths(shipped_plans["staging"].settings)
    production = serving_paths(shipped_plans["production"].settings)
    assert [p.kind for p in staging] == ["SageMaker"]
    assert [p.kind for p in production] == ["SageMaker", "EKS"]


def test_diff_opens_with_a_tier_change(shipped_plans: dict[str, Plan]) -> None:
    diff = diff_plans(
        document(shipped_plans["staging"]),
        document(shipped_plans["production"]),
        "staging",
        "production",
    )
    lines = render_markdown(diff, "t").splitlines()
    assert lines[0] == "**⚠️ tier changes: staging -> production**"
    assert lines[1] == "**⚠️ enforcement changes: advisory -> mandatory**"


def test_a_new_stack_leads_with_its_tier_not_a_change_from_unknown(
    shipped_plans: dict[str, Plan],
) -> None:
    """The diff of a stack that does not exist at the base ref (``mlstack diff`` plans an
    empty base for it)."""
    empty: dict[str, Any] = {"resources": [], "policy": []}
    diff = diff_plans(empty, document(shipped_plans["production"]), "main", "working tree")
    lines = render_markdown(diff, "t").splitlines()
    assert lines[0] == "**⚠️ new stack: production tier, mandatory enforcement**"
    assert not any("unknown" in line for line in lines[:3])


def test_version_bump_shows_base_to_head_and_the_replacements(bump_diff: PlanDiff) -> None:
    assert bump_diff.review is not None
    facts = {(f.group, f.label): f for f in bump_diff.review.facts}
    model = facts[("SageMaker", "model")]
    assert (model.base, model.head) == ("churn-classifier v3", "churn-classifier v4")
    assert not facts[("stack", "tier")].changed
    totals = bump_diff.review.operations.totals
    assert totals["replace"] >= 2 and totals["update"] >= 1
    text = render_markdown(bump_diff, "t")
    assert "| SageMaker | **model** | **churn-classifier v3 -> churn-classifier v4** |" in text
    assert "**⚠️" not in text.splitlines()[0]  # no tier change leads
    summary = bump_diff.to_json()["summary"]
    assert summary["operations"]["replace"] == totals["replace"]
    assert any(f["label"] == "model" and f["changed"] for f in summary["facts"])


def test_version_bump_cost_before_after_and_during(bump_diff: PlanDiff) -> None:
    review = bump_diff.review
    assert review is not None and review.deploys
    cost = bump_diff.to_json()["summary"]["cost"]
    # No source of SageMaker hosting prices yet: unknown, never zero.
    assert cost["hourlyBefore"] is None and cost["hourlyAfter"] is None
    assert cost["duringRollout"] is None and cost["duringRolloutSeconds"] == 1200
    assert (
        "**Cost (on-demand, us-east-1)**: unknown -> unknown; during the rollout +unknown "
        "(second fleet for 1200 s)"
    ) in render_markdown(bump_diff, "t")
    eks = [f for f in review.facts if f.group == "cost" and f.label == "EKS nodes"]
    assert eks[0].head == f"3 x m6i.xlarge at ${NODE_PRICE:.3f}/h = ${3 * NODE_PRICE:.3f}/h"


def test_known_prices_give_the_cost_of_the_second_fleet(
    bump_diff: PlanDiff, shipped_plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(Path(prices.__file__).with_name("prices.json").read_text())
    data["sagemaker"] = {"us-east-1": {"ml.c5.xlarge": 0.204}}
    monkeypatch.setattr(prices, "_document", lambda: data)
    base = review_plan(document(shipped_plans["production"])).summary
    assert base.cost.hourly == pytest.approx(3 * 0.204 + 3 * NODE_PRICE)
    # Canary: 600 s of bake, then the old fleet kept 600 s: 3 instances for 1200 s.
    assert base.cost.second_fleet == pytest.approx(3 * 0.204 * 1200 / 3600)


def test_unknown_instance_type_reads_unknown(shipped_plans: dict[str, Plan]) -> None:
    doc = document(shipped_plans["staging"])
    doc["config"] = json.loads(json.dumps(doc["config"]))
    doc["config"]["mlstack:sagemaker"]["instanceType"] = "ml.p5.48xlarge"
    lines = review_plan(doc).lines()
    assert "    SageMaker AllTraffic: 1 x ml.p5.48xlarge at unknown = unknown" in lines
    assert "    hourly (on-demand): unknown" in lines
    assert not any("$0.000" in line for line in lines)


def test_replaced_vpc_is_marked_stateful(
    shipped_plans: dict[str, Plan], edited: dict[str, dict[str, Any]]
) -> None:
    diff = diff_plans(document(shipped_plans["production"]), edited["cidr"], "main", "head")
    assert diff.review is not None
    marked = {(c.name, c.operation.value) for c in diff.review.operations.marked}
    assert ("network-vpc", "replace") in marked
    assert diff.review.operations.totals["replace"] >= len(marked)
    text = render_markdown(diff, "t")
    assert "> ⚠️ replace network-vpc (Vpc): stateful" in text


def test_a_plan_made_at_an_older_ref_is_resolved_by_the_config_loader(
    shipped_plans: dict[str, Plan],
) -> None:
    plan = shipped_plans["production"]
    older = {**document(plan), "config": dict(plan.config)}  # the raw CLI encoding
    assert resolved_config(older) == plan.settings
    assert review_plan(older).summary.facts() == review_plan(document(plan)).summary.facts()


def test_a_plan_made_before_the_models_key_tells_the_same_loop(
    shipped_plans: dict[str, Plan],
) -> None:
    """Without ``models`` in its resolved config, a single-model stack's data-drift monitor is
    read from ``mlstack:monitoring.drift``."""
    current = document(shipped_plans["production"])
    older = {**current, "config": {k: v for k, v in current["config"].items() if k != "models"}}
    monitors = [f for f in review_plan(older).summary.facts() if f.label == "monitors"]
    assert monitors == [f for f in review_plan(current).summary.facts() if f.label == "monitors"]
    assert "data-drift hourly" in monitors[0].value
