"""Golden files of what a review must see change: the compiled deployment config, the endpoint
configuration and the alarm set of each stack.

Regenerate after an intended change with ``MLSTACK_UPDATE_SNAPSHOTS=1 pytest
tests/infra/components/test_delivery_snapshots.py`` and commit the diff under tests/snapshots/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlstack.offline.plan import Plan
from tests.infra.components.delivery_helpers import ALARM, ENDPOINT_CONFIG, deployment_config, only

SNAPSHOTS = Path(__file__).resolve().parents[2] / "snapshots"
STACKS = ("staging", "production")


def alarm_set(plan: Plan) -> dict[str, Any]:
    alarms = {}
    for alarm in plan.of_type(ALARM):
        inputs = {k: v for k, v in alarm.inputs.items() if k not in ("tags", "name")}
        inputs["kind"] = alarm.inputs["tags"]["mlstack:alarm"]
        inputs["role"] = alarm.inputs["tags"]["mlstack:alarm-role"]
        alarms[alarm.inputs["name"]] = inputs
    return dict(sorted(alarms.items()))


RENDERERS = {
    "deployment-config": deployment_config,
    "endpoint-configuration": lambda plan: only(plan, ENDPOINT_CONFIG).inputs,
    "alarms": alarm_set,
}


def check_snapshot(path: Path, value: Any) -> None:
    text = json.dumps(value, indent=2, sort_keys=True) + "\n"
    if os.environ.get("MLSTACK_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"missing golden file {path}: run with MLSTACK_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), (
        f"{path.relative_to(SNAPSHOTS.parent.parent)} differs from the plan: review the change, "
        "then regenerate with MLSTACK_UPDATE_SNAPSHOTS=1"
    )


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("artefact", sorted(RENDERERS))
def test_matches_golden_file(shipped_plans: dict[str, Plan], stack: str, artefact: str) -> None:
    check_snapshot(
        SNAPSHOTS / stack / f"{artefact}.json", RENDERERS[artefact](shipped_plans[stack])
    )
