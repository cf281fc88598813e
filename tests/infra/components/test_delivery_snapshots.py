"""Golden files of what a review must see change: the compiled deployment config, the endpoint
configuration and the alarm set of each stack.

Regenerate after an intended change with ``make snapshots`` and review the diff.
"""

from __future__ import annotations

from typing import Any

import pytest

from mlstack.offline.plan import Plan
from tests.golden import assert_golden
from tests.infra.components.delivery_helpers import ALARM, ENDPOINT_CONFIG, deployment_config, only

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


@pytest.mark.golden
@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("artefact", sorted(RENDERERS))
def test_matches_golden_file(shipped_plans: dict[str, Plan], stack: str, artefact: str) -> None:
    assert_golden(f"{stack}/{artefact}.json", RENDERERS[artefact](shipped_plans[stack]))
