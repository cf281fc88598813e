"""Golden file of the Kubernetes objects production deploys, so a review sees every change to
them (the same YAML ``mlstack render-k8s`` writes).

Regenerate after an intended change with ``MLSTACK_UPDATE_SNAPSHOTS=1 pytest
tests/infra/components/test_k8s_snapshots.py`` and commit the diff under tests/snapshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlstack.manifests import file_name, manifests, to_yaml
from mlstack.offline.plan import Plan

GOLDEN = Path(__file__).resolve().parents[2] / "snapshots" / "production" / "kubernetes.yaml"


def rendered(plan: Plan) -> str:
    objects = sorted(manifests(plan), key=file_name)
    return "---\n" + "---\n".join(to_yaml(obj) for obj in objects)


def test_production_objects_match_golden_file(shipped_plans: dict[str, Plan]) -> None:
    text = rendered(shipped_plans["production"])
    if os.environ.get("MLSTACK_UPDATE_SNAPSHOTS") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
        return
    assert GOLDEN.exists(), f"missing golden file {GOLDEN}: run with MLSTACK_UPDATE_SNAPSHOTS=1"
    assert text == GOLDEN.read_text(), (
        "tests/snapshots/production/kubernetes.yaml differs from the plan: review the change, "
        "then regenerate with MLSTACK_UPDATE_SNAPSHOTS=1"
    )
