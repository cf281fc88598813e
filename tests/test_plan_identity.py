"""`pulumi up` must see the same resources as before a refactoring: every URN kept (or aliased)
and every input unchanged, compared with plan documents saved under tests/snapshots/plans/.

After an intended change of resources or inputs, regenerate with `make snapshots` and review
the diff of the saved documents like any other change.
"""

from __future__ import annotations

import json

import pytest

from mlstack.offline.plan import Plan
from tests.conftest import SHIPPED_STACKS
from tests.golden import SNAPSHOTS, assert_golden, updating


def _document(plan: Plan) -> dict:
    return {"resources": plan.to_json()["resources"], "outputs": plan.outputs}


@pytest.mark.golden
@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_urns_and_inputs_match_the_saved_plan(shipped_plans: dict[str, Plan], stack: str) -> None:
    relative = f"plans/{stack}.json"
    current = _document(shipped_plans[stack])
    if updating():
        assert_golden(relative, current)
    saved = json.loads((SNAPSHOTS / relative).read_text())
    saved_inputs = {r["urn"]: r["inputs"] for r in saved["resources"]}
    current_inputs = {r["urn"]: r["inputs"] for r in current["resources"]}
    aliased = {alias for r in shipped_plans[stack].resources for alias in r.options.aliases}
    renamed = {
        r.urn for r in shipped_plans[stack].resources if set(r.options.aliases) & set(saved_inputs)
    }
    missing = sorted(set(saved_inputs) - set(current_inputs) - aliased)
    added = sorted(set(current_inputs) - set(saved_inputs) - renamed)
    assert not missing, f"URNs gone without an alias (a real stack would delete them): {missing}"
    assert not added, f"new URNs (a real stack would create them): {added}"
    changed = sorted(
        u for u in saved_inputs if u in current_inputs and saved_inputs[u] != current_inputs[u]
    )
    assert not changed, f"inputs changed: {changed}"
    assert current["outputs"] == saved["outputs"]
    assert_golden(relative, current)
