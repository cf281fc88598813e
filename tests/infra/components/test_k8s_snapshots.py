"""Golden file of the Kubernetes objects production deploys, so a review sees every change to
them (the same YAML ``mlstack render-k8s`` writes). Regenerate with ``make snapshots``."""

from __future__ import annotations

import pytest

from mlstack.manifests import file_name, manifests, to_yaml
from mlstack.offline.plan import Plan
from tests.golden import assert_golden


def rendered(plan: Plan) -> str:
    objects = sorted(manifests(plan), key=file_name)
    return "---\n" + "---\n".join(to_yaml(obj) for obj in objects)


@pytest.mark.golden
def test_production_objects_match_golden_file(shipped_plans: dict[str, Plan]) -> None:
    assert_golden("production/kubernetes.yaml", rendered(shipped_plans["production"]))
