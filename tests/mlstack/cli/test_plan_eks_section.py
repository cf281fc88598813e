"""The EKS section of ``mlstack plan``'s readable output."""

from __future__ import annotations

from rich.console import Console

from mlstack.cli.render_eks import eks_summary
from mlstack.offline.plan import Plan


def _text(plan: Plan) -> str:
    console = Console(record=True, width=200)
    eks_summary(plan, console)
    return console.export_text()


def test_production_shows_cluster_posture_and_canary_steps(shipped_plans: dict[str, Plan]) -> None:
    text = _text(shipped_plans["production"])
    assert "mlstack-production (Kubernetes 1.33)" in text
    assert "private" in text and "secrets" in text
    assert "api, audit, authenticator, controllerManager, scheduler" in text
    assert "Rollout model-server: 10% -> bake 600 s -> 100%" in text


def test_stack_without_eks_prints_nothing(shipped_plans: dict[str, Plan]) -> None:
    assert _text(shipped_plans["staging"]).strip() == ""


def test_a_stack_of_models_shows_each_eks_models_rollout(platform_plan: Plan) -> None:
    text = _text(platform_plan)
    assert "rollout (ranking)" in text
    assert "Rollout model-server: 10% -> bake 600 s -> 100%" in text
    assert "rollout (churn)" not in text  # served by SageMaker alone
