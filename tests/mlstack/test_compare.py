"""Comparing two stacks: numeric list order, pairing by name, config units, alarm windows and
expected differences folded. Replays of `mlstack compare staging production` sorting list
positions as text, pairing unrelated alarms, printing `ModelLatency ... 1000000` and
`CPUUtilization 160 -> 320`, and saying "for 5 periods" of an alarm that is 3 of 5."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mlstack.cli.compare_cmd import plan_document
from mlstack.compare import StackComparison, compare_plans, render_comparison
from mlstack.offline.plan import Plan
from mlstack.operations import diff_inputs

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.fixture(scope="module")
def comparison(shipped_plans: dict[str, Plan]) -> StackComparison:
    staging, production = (plan_document(shipped_plans[s]) for s in ("staging", "production"))
    return compare_plans(staging, production, "staging", "production")


@pytest.fixture(scope="module")
def markdown(comparison: StackComparison) -> str:
    return render_comparison(comparison, "mlstack compare: staging → production")


def _highlight(comparison: StackComparison, label: str) -> Any:
    return next(h for h in comparison.highlights if h.label == label)


def _doc(stack: str, inputs: dict[str, Any], type_token: str = ALARM) -> dict[str, Any]:
    urn = f"urn:pulumi:{stack}::mlstack::{type_token}::thing"
    resource = {"urn": urn, "type": type_token, "name": "thing", "inputs": inputs}
    return {"stack": stack, "resources": [resource], "policy": []}


def test_list_positions_sort_numerically() -> None:
    base = _doc("staging", {"items": [f"a{i}" for i in range(12)]})
    head = _doc("production", {"items": [f"b{i}" for i in range(12)]})
    (resource,) = compare_plans(base, head, "staging", "production").resources
    assert [i.path for i in resource.inputs] == [f"items[{i}]" for i in range(12)]


def test_alarms_in_a_list_pair_by_name_not_position(comparison: StackComparison) -> None:
    (dashboard,) = [r for r in comparison.resources if r.type.endswith(":Dashboard")]
    states = [i for i in dashboard.inputs if i.path.startswith("dashboardBody.widgets[5].prop")]
    (added,) = states
    assert added.base is None and added.head.endswith("-AllTraffic-no-traffic")
    assert added.path == "dashboardBody.widgets[5].properties.alarms[11]"


def test_dashboard_widgets_pair_by_title(comparison: StackComparison) -> None:
    """Production's loop alarms widget, under its model's row, and its EKS row (a text
    widget, named by its heading) are two additions: the widgets after them pair with
    staging's by title, not by position."""
    (dashboard,) = [r for r in comparison.resources if r.type.endswith(":Dashboard")]
    added = [
        i
        for i in dashboard.inputs
        if i.path.startswith(("dashboardBody.widgets[3].", "dashboardBody.widgets[4]."))
    ]
    assert added and all(i.base is None for i in added)
    assert any(i.path == "dashboardBody.widgets[4].properties.markdown" for i in added)
    others = {i.path for i in dashboard.inputs} - {i.path for i in added}
    assert others == {
        "dashboardBody.widgets[5].properties.alarms[11]",
        "dashboardBody.widgets[5].y",
    }


def test_named_elements_pair_by_name_when_reordered() -> None:
    alarms = [{"alarmName": "latency"}, {"alarmName": "errors"}]
    variants = [
        {"variantName": "AllTraffic", "instanceType": "ml.m5.large"},
        {"variantName": "Shadow", "instanceType": "ml.m5.large"},
    ]
    base = {"alarms": alarms, "productionVariants": variants}
    head = copy.deepcopy({"alarms": alarms[::-1], "productionVariants": variants[::-1]})
    head["productionVariants"][0]["instanceType"] = "ml.c5.xlarge"  # now Shadow's
    assert diff_inputs(base, head) == [
        ("productionVariants[0].instanceType", "ml.m5.large", "ml.c5.xlarge")
    ]


def test_alarms_pair_by_name_across_stacks(comparison: StackComparison) -> None:
    labels = {h.label: h for h in comparison.highlights if h.label.startswith("alarm · ")}
    assert "alarm · mlstack-{stack}-AllTraffic-cpu" in labels
    only_one_side = [label for label, h in labels.items() if h.base is None or h.head is None]
    # Production alone alarms on no traffic and runs the retraining loop's batch and monitors.
    assert sorted(only_one_side) == [
        "alarm · churn-classifier-{stack}-attribution-drift",
        "alarm · churn-classifier-{stack}-batch-failed",
        "alarm · churn-classifier-{stack}-model-quality",
        "alarm · mlstack-{stack}-AllTraffic-no-traffic",
    ]


def test_thresholds_read_in_config_units(comparison: StackComparison, markdown: str) -> None:
    latency = _highlight(comparison, "alarm · mlstack-{stack}-AllTraffic-latency-p99")
    assert latency.base == "ModelLatency p99 > 1000 ms, 3 of 5 x 60 s"
    assert latency.head == "ModelLatency p99 > 500 ms, 3 of 5 x 60 s"
    cpu = _highlight(comparison, "alarm · mlstack-{stack}-AllTraffic-cpu")
    assert cpu.base == cpu.head == "CPUUtilization Average > 80 %, 3 of 3 x 300 s"
    assert "1000000" not in "".join(str(h.base) + str(h.head) for h in comparison.highlights)
    assert "(1000 ms -> 500 ms as configured)" in markdown
    assert "`160` → `320`" not in markdown
    assert "alarm thresholds scaled to each instance size" in markdown


def test_alarm_windows_read_m_of_n(comparison: StackComparison, markdown: str) -> None:
    errors = _highlight(comparison, "alarm · mlstack-{stack}-AllTraffic-errors-5xx")
    assert errors.head == "Invocation5XXErrors rate > 0.5 %, 3 of 5 x 60 s"
    assert "periods" not in markdown
    (rollback,) = [f for f in comparison.facts if f.label == "rollback alarms"]
    assert rollback.head is not None and "latency-p99 > 500 ms, 2 of 2 x 60 s" in rollback.head


def test_names_and_tags_fold_into_one_line_each(comparison: StackComparison, markdown: str) -> None:
    folded = {f.what: f for f in comparison.folded}
    names = next(f for what, f in folded.items() if what.startswith("names"))
    assert (names.base, names.head) == ("staging", "production") and names.values > 50
    tag = folded["tag data-classification"]
    assert (tag.base, tag.head) == ("internal", "confidential") and tag.resources > 20
    paths = [i.path for r in comparison.resources for i in r.inputs]
    assert not [p for p in paths if p.startswith("tags.")]
    assert "mlstack-staging" not in markdown and "mlstack-production" not in markdown
    assert markdown.count("data-classification") == 1


def test_per_endpoint_resources_pair_across_stacks(comparison: StackComparison) -> None:
    assert comparison.of_presence("base") == []
    (logs,) = [r for r in comparison.of_presence("both") if r.name.startswith("monitoring-logs")]
    assert [(i.path, i.base, i.head) for i in logs.inputs] == [("retentionInDays", 30, 365)]


def test_secrets_are_not_compared_across_stacks(comparison: StackComparison) -> None:
    assert any("not compared across stacks" in note for note in comparison.notes)
    assert not [i for r in comparison.resources for i in r.inputs if i.secret]
