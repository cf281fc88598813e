"""Plan section for the EKS path: the cluster's posture and the Kubernetes rollout."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from mlstack.manifests import helm_releases, manifests
from mlstack.offline.plan import Plan


def eks_summary(plan: Plan, console: Console) -> None:
    """Cluster version, API access, encryption, logs, nodes, then the workload's steps."""
    clusters = plan.of_type("aws:eks/cluster:Cluster")
    if not clusters:
        return
    table = Table(title="EKS", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    for cluster in clusters:
        inputs = cluster.inputs
        vpc = inputs.get("vpcConfig") or {}
        access = "private" if not vpc.get("endpointPublicAccess") else "private + public"
        encrypted = (inputs.get("encryptionConfig") or {}).get("resources") or []
        table.add_row("cluster", f"{inputs.get('name')} (Kubernetes {inputs.get('version')})")
        table.add_row("API endpoint", access)
        table.add_row("encrypted", ", ".join(encrypted) or "[red]nothing[/red]")
        table.add_row("control-plane logs", ", ".join(inputs.get("enabledClusterLogTypes") or []))
    for group in plan.of_type("aws:eks/nodeGroup:NodeGroup"):
        scaling = group.inputs.get("scalingConfig") or {}
        types = ", ".join(group.inputs.get("instanceTypes") or [])
        table.add_row(
            "node group",
            f"{types} x {scaling.get('minSize'):g}-{scaling.get('maxSize'):g}"
            f" ({group.inputs.get('capacityType')})",
        )
    for release in helm_releases(plan):
        table.add_row("helm release", f"{release['chart']} {release['version']}")
    for obj in manifests(plan):
        if obj["kind"] in ("Rollout", "Deployment"):
            strategy = obj["spec"].get("strategy") or {}
            steps = (strategy.get("canary") or {}).get("steps")
            if steps:
                shown = " -> ".join(
                    f"{s['setWeight']}%" if "setWeight" in s else f"pause {s['pause']['duration']}"
                    for s in steps
                )
            else:
                shown = f"RollingUpdate {strategy.get('rollingUpdate')}"
            table.add_row(f"{obj['kind']} {obj['metadata']['name']}", shown)
    console.print(table)
