"""Plan section for the EKS path: the cluster's posture and the Kubernetes rollout."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from infra.rollout import compile_kubernetes_strategy, timeline
from mlstack.manifests import helm_releases
from mlstack.offline.plan import Plan
from mlstack.review import rollout_policy, section, stack_models
from policy_pack.type_tokens import EKS_CLUSTER, EKS_NODE_GROUP


def kubernetes_rollout(settings: dict) -> str | None:
    """How the serving workload rolls out, from the resolved config: the Argo Rollout's
    steps (the rollout module's timeline) or the Deployment's surge."""
    policy = rollout_policy(settings)
    if policy is None:
        return None
    strategy = compile_kubernetes_strategy(policy)
    name = section(settings, "kubernetes").get("appName")
    if strategy.needs_argo_rollouts:
        return f"Rollout {name}: {timeline(policy).describe_steps()}"
    surge = strategy.strategy["rollingUpdate"]["maxSurge"]
    return f"Deployment {name}: RollingUpdate, {surge} surge, none unavailable"


def eks_summary(plan: Plan, console: Console) -> None:
    """Cluster version, API access, encryption, logs, nodes, then the workload's steps (each
    model's on EKS in a stack of many models)."""
    clusters = plan.of_type(EKS_CLUSTER)
    if not clusters:
        return
    table = Table(title="EKS", title_justify="left", show_header=False)
    table.add_column("what", overflow="fold")
    table.add_column("value", overflow="fold")
    for cluster in clusters:
        inputs = cluster.inputs
        vpc = inputs.get("vpcConfig") or {}
        access = "private" if not vpc.get("endpointPublicAccess") else "private + public"
        encrypted = (inputs.get("encryptionConfig") or {}).get("resources") or []
        table.add_row("cluster", f"{inputs.get('name')} (Kubernetes {inputs.get('version')})")
        table.add_row("API endpoint", access)
        table.add_row("encrypted", ", ".join(encrypted) or "[red]nothing[/red]")
        table.add_row("control-plane logs", ", ".join(inputs.get("enabledClusterLogTypes") or []))
    for group in plan.of_type(EKS_NODE_GROUP):
        scaling = group.inputs.get("scalingConfig") or {}
        types = ", ".join(group.inputs.get("instanceTypes") or [])
        table.add_row(
            "node group",
            f"{types} x {scaling.get('minSize'):g}-{scaling.get('maxSize'):g}"
            f" ({group.inputs.get('capacityType')})",
        )
    for release in helm_releases(plan):
        table.add_row("helm release", f"{release['chart']} {release['version']}")
    models = stack_models(plan.settings)
    if models is None:
        rollouts = [("rollout", kubernetes_rollout(plan.settings))]
    else:
        rollouts = [(f"rollout ({m.name})", kubernetes_rollout(m.view)) for m in models if m.on_eks]
    for label, rollout in rollouts:
        if rollout is not None:
            table.add_row(label, rollout)
    console.print(table)
