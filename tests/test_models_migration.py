"""Moving a shipped single-model stack to ``mlstack:models`` with one entry keeps every URN
and physical name: nothing is created, deleted or replaced (``mlstack model migrate``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlstack.diff import diff_plans, render_markdown
from mlstack.models.migrate import migrate_stack
from mlstack.offline.harness import run_plan
from mlstack.offline.plan import Plan
from mlstack.operations import Operation, operations
from tests.conftest import SHIPPED_STACKS, make_project_copy
from tests.mlstack.test_review import document

PHYSICAL_NAMES = {
    "aws:sagemaker/endpoint:Endpoint": "name",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "name",
    "aws:cloudwatch/logGroup:LogGroup": "name",
    "aws:appautoscaling/target:Target": "resourceId",
}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    root = make_project_copy(tmp_path_factory.mktemp("migrated") / "project")
    plans = {}
    for stack in SHIPPED_STACKS:
        path, name = migrate_stack(root, stack)
        assert name == "churn-classifier"
        assert "mlstack:models:" in path.read_text()
        plans[stack] = run_plan(stack, root)
    return plans


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_migration_keeps_every_urn(
    shipped_plans: dict[str, Plan], migrated: dict[str, Plan], stack: str
) -> None:
    before, after = shipped_plans[stack].to_json(), migrated[stack].to_json()
    changes = operations(before, after)
    moved = {
        c.key: c.operation
        for c in changes
        if c.operation in (Operation.CREATE, Operation.DELETE, Operation.REPLACE)
    }
    assert not moved, f"the migration would create, delete or replace: {moved}"
    assert {r["urn"] for r in before["resources"]} <= {
        u for r in after["resources"] for u in (r["urn"], *r["options"]["aliases"])
    }


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_migration_keeps_physical_names(
    shipped_plans: dict[str, Plan], migrated: dict[str, Plan], stack: str
) -> None:
    def names(plan: Plan) -> dict[str, object]:
        return {
            r.urn: r.inputs.get(PHYSICAL_NAMES[r.type])
            for r in plan.resources
            if r.type in PHYSICAL_NAMES
        }

    assert names(migrated[stack]) == names(shipped_plans[stack])


def test_migrated_resources_keep_their_tags(
    shipped_plans: dict[str, Plan], migrated: dict[str, Plan]
) -> None:
    # A migrated model keeps the single-model stack's tags: Model Monitor job definitions
    # (aws-native) are replaced when their tags change.
    before = shipped_plans["production"].of_type("aws:sagemaker/endpoint:Endpoint")[0]
    after = migrated["production"].of_type("aws:sagemaker/endpoint:Endpoint")[0]
    assert after.inputs["tags"] == before.inputs["tags"]
    assert "mlstack:model" not in after.inputs["tags"]
    assert list(migrated["production"].settings["models"]) == ["churn-classifier"]


def test_a_migrated_file_cannot_be_migrated_again(tmp_path: Path) -> None:
    from mlstack.models.stack_file import StackEditError

    root = make_project_copy(tmp_path / "project")
    migrate_stack(root, "staging")
    with pytest.raises(StackEditError, match="already set"):
        migrate_stack(root, "staging")


def test_the_reviewer_sees_no_change_in_a_migration(
    shipped_plans: dict[str, Plan], migrated: dict[str, Plan]
) -> None:
    before, after = (document(p) for p in (shipped_plans["production"], migrated["production"]))
    diff = diff_plans(before, after, "main", "migrated")
    review = diff.review
    assert review is not None and review.grouped
    # The single-model side is told as a stack of its one model, so every fact pairs.
    assert [f for f in review.facts if f.changed] == []
    assert review.models == () and review.unchanged_models == ("churn-classifier",)
    assert [h for h in diff.highlights if h.changed] == []
    assert "**1 model unchanged**: churn-classifier" in render_markdown(diff, "t")
