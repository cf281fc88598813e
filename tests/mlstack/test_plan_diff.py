"""mlstack.diff: resource matching, input paths, highlights, secrets, Markdown."""

from __future__ import annotations

import copy
import json
from typing import Any

from infra.config import RolloutPolicy
from infra.rollout import timeline
from mlstack.diff import MAX_MARKDOWN_CHARS, diff_plans, render_markdown
from mlstack.offline.plan import Plan
from mlstack.offline.stack_files import SECRET_PLACEHOLDER
from mlstack.operations import diff_inputs, resource_key


def document(plan: Plan) -> dict[str, Any]:
    return {**plan.to_json(), "config": dict(plan.config), "secretKeys": list(plan.secret_keys)}


def resource(urn_stack: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:{urn_stack}::mlstack::aws:s3/bucket:Bucket::{name}",
        "type": "aws:s3/bucket:Bucket",
        "name": name,
        "inputs": inputs,
    }


def test_resource_key_drops_stack_and_project() -> None:
    key = resource_key("urn:pulumi:production::mlstack::a:b/c:D$aws:kms/key:Key::registry-key")
    assert key == "a:b/c:D$aws:kms/key:Key::registry-key"


def test_input_paths_reach_into_lists_and_json_strings() -> None:
    base = {"variants": [{"count": 1}], "policy": json.dumps({"Statement": [{"Effect": "Allow"}]})}
    head = {"variants": [{"count": 2}], "policy": json.dumps({"Statement": [{"Effect": "Deny"}]})}
    paths = {path: (old, new) for path, old, new in diff_inputs(base, head)}
    assert paths == {
        "policy.Statement[0].Effect": ("Allow", "Deny"),
        "variants[0].count": (1, 2),
    }


def test_shipped_plan_against_itself_has_no_changes(shipped_plans: dict[str, Plan]) -> None:
    doc = document(shipped_plans["production"])
    diff = diff_plans(doc, copy.deepcopy(doc), "a", "b")
    assert diff.is_empty
    assert diff.unchanged == len(doc["resources"])
    assert not any(h.changed for h in diff.highlights)


def test_created_updated_and_deleted_are_told_apart() -> None:
    base = {"resources": [resource("s", "kept", {"x": 1}), resource("s", "gone", {})]}
    head = {"resources": [resource("s", "kept", {"x": 2}), resource("s", "new", {})]}
    diff = diff_plans(base, head, "a", "b")
    assert [(c.name, c.operation.value) for c in diff.changes] == [
        ("kept", "update"),
        ("new", "create"),
        ("gone", "delete"),
    ]


def test_model_version_change_is_highlighted(shipped_plans: dict[str, Plan]) -> None:
    base = document(shipped_plans["production"])
    head = copy.deepcopy(base)
    model = json.loads(head["config"]["mlstack:model"])
    model["packageVersion"] += 1
    head["config"]["mlstack:model"] = json.dumps(model)
    changed = [h for h in diff_plans(base, head, "a", "b").highlights if h.changed]
    assert [h.label for h in changed] == ["model package version"]


def test_secrets_are_never_rendered() -> None:
    base = {"resources": [resource("s", "db", {"password": SECRET_PLACEHOLDER, "size": 1})]}
    head = {"resources": [resource("s", "db", {"password": SECRET_PLACEHOLDER, "size": 2})]}
    head["config"] = {"mlstack:model": json.dumps({"packageVersion": 3})}
    head["secretKeys"] = ["mlstack:model"]
    text = render_markdown(diff_plans(base, head, "a", "b"), "t")
    json_text = json.dumps(diff_plans(base, head, "a", "b").to_json())
    assert SECRET_PLACEHOLDER not in text
    assert "packageVersion" not in json_text
    assert "v3" not in text


def test_markdown_is_cut_to_fit_a_comment() -> None:
    many = {f"k{i}": "x" * 100 for i in range(1000)}
    base = {"resources": [resource("s", "big", {})]}
    head = {"resources": [resource("s", "big", many)]}
    text = render_markdown(diff_plans(base, head, "a", "b"), "t")
    assert len(text) <= MAX_MARKDOWN_CHARS + 200
    assert "Diff cut to fit a comment" in text


def test_alarm_thresholds_and_windows_read_in_config_units(
    shipped_plans: dict[str, Plan],
) -> None:
    base = document(shipped_plans["production"])
    head = copy.deepcopy(base)
    for resource in head["resources"]:
        if resource["name"] == "alarms-AllTraffic-latency-p99":
            resource["inputs"]["threshold"] = 600_000  # microseconds, as CloudWatch has it
    diff = diff_plans(base, head, "a", "b")
    (changed,) = [h for h in diff.highlights if h.changed]
    assert changed.label == "alarm · mlstack-production-AllTraffic-latency-p99"
    assert changed.base == "ModelLatency p99 > 500 ms, 3 of 5 x 60 s"
    assert changed.head == "ModelLatency p99 > 600 ms, 3 of 5 x 60 s"
    text = render_markdown(diff, "t")
    assert "`threshold`: `500000` → `600000` (500 ms -> 600 ms as configured)" in text
    cpu = next(h for h in diff.highlights if h.label.endswith("-AllTraffic-cpu"))
    assert cpu.head == "CPUUtilization Average > 80 %, 3 of 3 x 300 s"  # 320 on 4 vCPUs


def test_rollout_fact_is_the_rollout_modules_timeline(shipped_plans: dict[str, Plan]) -> None:
    rollout = {
        "strategy": "canary",
        "stepPercent": 10,
        "bakeSeconds": 600,
        "rollbackAlarms": [{"metric": "latency-p99", "threshold": 500}],
    }
    config = {**shipped_plans["staging"].settings, "mlstack:rollout": rollout}
    doc = {"resources": [], "config": config}
    review = diff_plans(doc, doc, "a", "b").review
    assert review is not None
    facts = {f.label: f.head for f in review.facts if f.group == "rollout"}
    policy = RolloutPolicy.model_validate_json(json.dumps(rollout))
    assert facts["timeline"].startswith(f"canary: {timeline(policy).describe_steps()}")
    assert facts["timeline"] == (
        "canary: 10% -> bake 600 s -> 100%, keep old fleet 300 s, timeout 3600 s"
    )
    assert facts["rollback alarms"] == "latency-p99 > 500 ms, 2 of 2 x 60 s"
