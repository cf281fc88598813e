"""The offline plan: what a stack would deploy, in the JSON contract of ``mlstack plan``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mlstack.offline.mocks import RecordingMonitor, to_plain


@dataclass(frozen=True)
class PlannedResource:
    """One resource as the engine would receive it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    inputs: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "provider": self.provider,
            "inputs": self.inputs,
        }


@dataclass(frozen=True)
class PolicyResult:
    """One policy violation (filled in by the policy pack)."""

    policy: str
    level: str
    urn: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "level": self.level,
            "urn": self.urn,
            "message": self.message,
        }


@dataclass
class Plan:
    """A stack's resources, outputs and policy results."""

    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    tier: str = "production"
    """The stack's declared tier (``policy_pack/tiers.yaml``), not what its file says."""
    secret_keys: list[str] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    """The stack's config as the program received it (secrets are placeholders)."""
    policy: list[PolicyResult] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[PlannedResource]:
        """Resources of one type token, e.g. ``aws:kms/key:Key``, in registration order."""
        return [r for r in self.resources if r.type == type_token]

    def by_urn(self, urn: str) -> PlannedResource | None:
        return next((r for r in self.resources if r.urn == urn), None)

    def children(self, urn: str | None) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]

    def counts_by_type(self) -> Counter[str]:
        return Counter(r.type for r in self.resources)

    def has_mandatory_violation(self) -> bool:
        return any(p.level == "mandatory" for p in self.policy)

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "tier": self.tier,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
            "policy": [p.to_json() for p in self.policy],
        }


def tree_order(resources: list[PlannedResource]) -> list[PlannedResource]:
    """Parents before children, siblings by type then name: registration order depends on
    when each resource's inputs resolve, so it is not stable between runs; this order is."""
    by_parent: dict[str | None, list[PlannedResource]] = {}
    urns = {r.urn for r in resources}
    for resource in resources:
        parent = resource.parent if resource.parent in urns else None
        by_parent.setdefault(parent, []).append(resource)
    ordered: list[PlannedResource] = []

    def visit(parent: str | None) -> None:
        for child in sorted(by_parent.get(parent, []), key=lambda r: (r.type, r.name)):
            ordered.append(child)
            visit(child.urn)

    visit(None)
    return ordered


def build_plan(
    project: str,
    stack: str,
    tier: str,
    monitor: RecordingMonitor,
    config: dict[str, str],
    secret_keys: list[str],
) -> Plan:
    """Assemble a plan from what the monitor recorded."""
    resources = [
        PlannedResource(
            urn=reg.urn,
            type=reg.type,
            name=reg.name,
            parent=reg.parent,
            custom=reg.custom,
            provider=reg.provider,
            inputs=to_plain(reg.inputs),
        )
        for reg in monitor.registrations
    ]
    return Plan(
        project=project,
        stack=stack,
        tier=tier,
        resources=tree_order(resources),
        outputs=to_plain(monitor.stack_outputs),
        secret_keys=list(secret_keys),
        config=dict(config),
    )
