"""Argo Rollouts: the progressive-delivery controller, installed from its Helm chart.

Installed only when the stack's rollout strategy needs it (canary or linear); rolling and
all-at-once use a plain Deployment. The chart version is pinned: upgrading the controller is
a reviewed change like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from infra.components.errors import ResourceError
from infra.rollout import KubernetesStrategy

ARGO_HELM_REPOSITORY = "https://argoproj.github.io/argo-helm"
ARGO_ROLLOUTS_CHART = "argo-rollouts"
ARGO_ROLLOUTS_CHART_VERSION = "2.40.2"
"""Chart 2.40.2 ships Argo Rollouts v1.8.3."""

_HARDENED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


@dataclass(frozen=True)
class ArgoRolloutsArgs:
    """Inputs of :class:`ArgoRollouts`."""

    strategy: KubernetesStrategy
    """The serving workload's compiled rollout strategy; the controller is only for a
    ``Rollout``."""
    namespace: str = "argo-rollouts"
    """Namespace of the controller. Default argo-rollouts."""
    chart_version: str = ARGO_ROLLOUTS_CHART_VERSION
    """Pinned chart version. Default :data:`ARGO_ROLLOUTS_CHART_VERSION`."""
    controller_replicas: int = 2
    """Controller replicas (leader election keeps one active). Default 2."""
    labels: dict[str, str] = field(default_factory=dict)
    """Extra labels on the namespace. Default none."""


def helm_values(controller_replicas: int) -> dict:
    """Chart values: CRDs installed and kept, no dashboard, hardened controller pods (the
    namespace enforces the restricted Pod Security Standard), a disruption budget when the
    controller has replicas to spare."""
    return {
        "installCRDs": True,
        "keepCRDs": True,
        "dashboard": {"enabled": False},
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": _HARDENED_CONTAINER,
        "controller": {
            "replicas": controller_replicas,
            "metrics": {"enabled": True},
            "pdb": {"enabled": controller_replicas > 1, "maxUnavailable": 1},
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "256Mi"},
            },
        },
    }


class ArgoRollouts(pulumi.ComponentResource):
    """The controller's namespace and Helm release.

    ``opts.provider`` is the cluster's Kubernetes provider; the release also waits for
    ``opts.depends_on`` (nodes and add-ons: the chart waits for its pods). Raises
    :class:`ResourceError` for a strategy that is not a ``Rollout`` or no controller replica.

    Attributes: ``release`` (depend on it before declaring Rollouts: it installs the CRDs).
    Outputs: ``namespace``, ``chart_version``.
    """

    def __init__(
        self, name: str, args: ArgoRolloutsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:argo_rollouts:ArgoRollouts", name, None, opts)
        if not args.strategy.needs_argo_rollouts:
            raise ResourceError(
                f"ArgoRolloutsArgs: a {args.strategy.kind} strategy needs no Argo Rollouts; "
                "install the controller only for canary or linear rollouts",
                self,
            )
        if args.controller_replicas < 1:
            raise ResourceError(
                f"ArgoRolloutsArgs: controller_replicas {args.controller_replicas} must be >= 1",
                self,
            )
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": args.namespace,
                "labels": {
                    **args.labels,
                    "app.kubernetes.io/part-of": "mlstack",
                    "pod-security.kubernetes.io/enforce": "restricted",
                },
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="argo-rollouts",
            chart=ARGO_ROLLOUTS_CHART,
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=ARGO_HELM_REPOSITORY),
            namespace=namespace.metadata["name"],
            values=helm_values(args.controller_replicas),
            atomic=True,
            cleanup_on_fail=True,
            max_history=10,
            opts=pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None),
        )
        self.register_outputs(
            {"namespace": namespace.metadata["name"], "chart_version": args.chart_version}
        )
