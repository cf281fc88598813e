"""The offline plan: what a stack would deploy, in the JSON contract of ``mlstack plan``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pulumi.output import Unknown
from pulumi.runtime import rpc

from mlstack.offline.stack_files import SECRET_PLACEHOLDER

if TYPE_CHECKING:
    from mlstack.offline.mocks import RecordingMonitor

KNOWN_AFTER_APPLY = "(known after apply)"
"""How a value that only exists after deployment reads in a plan."""


class PlanDocumentError(Exception):
    """A plan document that cannot be read as a plan; the message says what is wrong."""


@dataclass(frozen=True)
class ResourceOptionsRecord:
    """The resource options of a registration that decide what a diff does."""

    aliases: tuple[str, ...] = ()
    """URNs this resource was known by before (the engine moves them instead of replacing)."""
    delete_before_replace: bool = False
    replace_on_changes: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Input name -> URNs whose outputs it was built from (how a replacement cascades)."""
    protect: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "aliases": list(self.aliases),
            "deleteBeforeReplace": self.delete_before_replace,
            "replaceOnChanges": list(self.replace_on_changes),
            "dependsOn": list(self.depends_on),
            "propertyDependencies": {k: list(v) for k, v in self.property_dependencies.items()},
            "protect": self.protect,
        }


@dataclass(frozen=True)
class PlannedResource:
    """One resource as the engine would receive it: the one plan record of the kit."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    inputs: dict[str, Any]
    options: ResourceOptionsRecord = field(default_factory=ResourceOptionsRecord)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "provider": self.provider,
            "inputs": self.inputs,
            "options": self.options.to_json(),
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
    settings: dict[str, Any] = field(default_factory=dict)
    """The stack's resolved config: every key of the stack file with every default filled
    in, keyed as in the file (``aws:region``, ``mlstack:rollout`` with camelCase keys);
    secrets stay placeholders. Emitted as ``"config"`` by :meth:`to_json`."""

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

    @classmethod
    def from_json(cls, document: Any) -> Plan:
        """A plan from its JSON document (``mlstack plan --json``, or one made elsewhere).

        Raises :class:`PlanDocumentError` naming what is missing."""
        if not isinstance(document, dict):
            raise PlanDocumentError("a plan document is a JSON object")
        missing = [k for k in ("stack", "resources") if k not in document]
        if missing:
            raise PlanDocumentError(f"the plan document has no {' or '.join(missing)}")
        resources = []
        for index, item in enumerate(document["resources"] or []):
            if not isinstance(item, dict) or not {"urn", "type"} <= set(item):
                raise PlanDocumentError(f"resources[{index}] needs at least 'urn' and 'type'")
            options = item.get("options") or {}
            resources.append(
                PlannedResource(
                    urn=str(item["urn"]),
                    type=str(item["type"]),
                    name=str(item.get("name") or str(item["urn"]).rsplit("::", 1)[-1]),
                    parent=item.get("parent"),
                    custom=bool(item.get("custom", True)),
                    provider=item.get("provider"),
                    inputs=dict(item.get("inputs") or {}),
                    options=ResourceOptionsRecord(
                        aliases=tuple(options.get("aliases") or ()),
                        delete_before_replace=bool(options.get("deleteBeforeReplace")),
                        replace_on_changes=tuple(options.get("replaceOnChanges") or ()),
                        depends_on=tuple(options.get("dependsOn") or ()),
                        property_dependencies={
                            str(k): tuple(v)
                            for k, v in (options.get("propertyDependencies") or {}).items()
                        },
                        protect=bool(options.get("protect")),
                    ),
                )
            )
        return cls(
            project=str(document.get("project") or "mlstack"),
            stack=str(document["stack"]),
            resources=resources,
            outputs=dict(document.get("outputs") or {}),
            tier=str(document.get("tier") or "production"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "tier": self.tier,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
            "policy": [p.to_json() for p in self.policy],
            "config": self.settings,
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
    settings: dict[str, Any] | None = None,
) -> Plan:
    """Assemble a plan from what the monitor recorded and the stack's resolved config."""
    return Plan(
        project=project,
        stack=stack,
        tier=tier,
        resources=tree_order(monitor.registrations),
        outputs=to_plain(monitor.stack_outputs, monitor.fingerprint),
        secret_keys=list(secret_keys),
        config=dict(config),
        settings=dict(settings or {}),
    )


def to_plain(value: Any, fingerprint: Callable[[Any], str] | None = None) -> Any:
    """Make deserialized property values JSON-friendly: unknowns and secrets become readable
    placeholders (a secret never reaches a plan), resources their type.

    A secret becomes ``fingerprint(<its plain value>)`` (``[secret:<fp>]``), or
    :data:`SECRET_PLACEHOLDER` without a fingerprint function or when its value is unknown."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN):
        return KNOWN_AFTER_APPLY
    if isinstance(value, dict):
        if rpc.is_rpc_secret(value):
            inner = to_plain(value.get("value"))
            if fingerprint is None or inner == KNOWN_AFTER_APPLY:
                return SECRET_PLACEHOLDER
            return fingerprint(inner)
        return {str(k): to_plain(v, fingerprint) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, fingerprint) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire format has only doubles; 600.0 was written as 600
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    urn = getattr(value, "urn", None)
    if urn is not None:
        return f"(resource {type(value).__name__})"
    return json.loads(json.dumps(value, default=str))
