"""The rule types and the value helpers every rule uses.

Rules read resources exactly as the Pulumi engine hands them to a policy pack: a type token
(``aws:sagemaker/endpointConfiguration:EndpointConfiguration``) and the resource's inputs with
the engine's camelCase names (``kmsKeyArn``, ``productionVariants``). The offline plan records
the same names, so one rule function serves ``mlstack plan``/``mlstack check`` and the CrossGuard
pack run by ``pulumi preview --policy-pack policy_pack``.

A value the engine cannot know during a preview (an output of a resource not created yet)
arrives as an "unknown" placeholder. Rules treat an unknown value as set and never as a
violation: the real value is checked on the next preview after it exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from policy_pack.type_tokens import (
    KUBERNETES_HELM_PREFIX,
    KUBERNETES_PREFIX,
    KUBERNETES_YAML_PREFIX,
)

Inputs = Mapping[str, Any]

UNKNOWN_VALUES = frozenset(
    {
        # The offline plan's placeholder (mlstack/offline/mocks.py KNOWN_AFTER_APPLY).
        "(known after apply)",
        # pulumi-policy's sentinels for unknown bool, number, string, array, asset, archive
        # and object values (pulumi_policy/proxy.py).
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


class Scope(str, Enum):
    """Where a rule applies."""

    ALL = "all"
    """Every stack."""
    PRODUCTION = "production"
    """Only stacks whose ``mlstack:environment`` is production."""


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it: its URN, type token, logical name and inputs."""

    urn: str
    type: str
    name: str
    inputs: Inputs
    id: str | None = None
    """The physical id where the caller knows it (the offline plan does), else None."""


@dataclass(frozen=True)
class StackContext:
    """What a stack rule knows about the stack besides its resources."""

    stack: str
    environment: str | None
    """The stack's declared tier (staging, production) from ``tiers.yaml``; None when unknown."""
    configured_environment: str | None = None
    """``mlstack:environment`` as the stack file says, None when unset."""

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@dataclass(frozen=True)
class Violation:
    """One violation of a stack rule, tied to a resource where there is one."""

    urn: str | None
    message: str


@dataclass(frozen=True)
class ResourceRule:
    """A rule that checks every resource of the given types on its own."""

    name: str
    description: str
    resource_types: tuple[str, ...]
    check: Callable[[str, Inputs], Iterable[str]]
    """Yields one message per violation; each message says what to change."""
    fix: str
    """How to remediate a violation, in the kit's terms."""
    checkov_id: str | None = None
    """The equivalent checkov check, where one exists (several joined by ``/``)."""

    def applies_to(self, type_token: str) -> bool:
        return type_token in self.resource_types or (
            "*kubernetes-workload" in self.resource_types and is_kubernetes_workload(type_token)
        )


@dataclass(frozen=True)
class StackRule:
    """A rule over the whole stack: resources that must exist together or agree."""

    name: str
    description: str
    check: Callable[[Sequence[Resource], StackContext], Iterable[Violation]]
    fix: str
    checkov_id: str | None = None
    scope: Scope = Scope.ALL


Rule = ResourceRule | StackRule


# ---------------------------------------------------------------------------------------------
# Value helpers: work on plain dicts/lists and on pulumi-policy's read-only proxies alike.
# ---------------------------------------------------------------------------------------------


def is_unknown(value: Any) -> bool:
    """True for a value only known after deployment."""
    return isinstance(value, str) and value in UNKNOWN_VALUES


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """``value[path[0]][path[1]]...``, or ``default`` where any step is missing."""
    current = value
    for step in path:
        if isinstance(step, int):
            items = as_list(current)
            if step >= len(items):
                return default
            current = items[step]
        elif isinstance(current, Mapping):
            current = current.get(step)
        else:
            return default
        if current is None:
            return default
    return current


def as_list(value: Any) -> list[Any]:
    """A sequence as a list; a single mapping as a one-element list; anything else empty."""
    if value is None or isinstance(value, (str, bytes)):
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return []


def number(value: Any) -> float | None:
    """A numeric input as a number (the engine sends every number as a float), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def is_set(value: Any) -> bool:
    """A non-empty value, or an unknown one (set by a resource not created yet)."""
    return is_unknown(value) or value not in (None, "", [], {})


def is_true(value: Any) -> bool:
    """True, ``"true"``, or unknown."""
    return is_unknown(value) or value is True or (isinstance(value, str) and value == "true")


def is_false(value: Any) -> bool:
    """Explicitly false (``False`` or ``"false"``); missing and unknown are not."""
    return value is False or (isinstance(value, str) and value.lower() == "false")


def policy_statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM policy document given as JSON text or a mapping."""
    if isinstance(document, str):
        if is_unknown(document):
            return []
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return []
    return [s for s in as_list(get(document, "Statement")) if isinstance(s, Mapping)]


def names_of(resources: Iterable[Resource], type_token: str, prop: str = "name") -> set[str]:
    """The physical names (``prop``) of every resource of one type that has a known one."""
    found = set()
    for resource in resources:
        if resource.type == type_token:
            value = resource.inputs.get(prop)
            if isinstance(value, str) and not is_unknown(value):
                found.add(value)
    return found


def strings(value: Any) -> list[str]:
    """A string or a list of strings as a list of strings."""
    if isinstance(value, str):
        return [value]
    return [v for v in as_list(value) if isinstance(v, str)]


# ---------------------------------------------------------------------------------------------
# Kubernetes workloads
# ---------------------------------------------------------------------------------------------

KUBERNETES_WORKLOAD_KINDS = frozenset(
    {
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "Rollout",
        "ReplicationController",
    }
)
"""Kinds whose pod template is ``spec.template.spec`` (Argo's ``Rollout`` included)."""


def kubernetes_kind(type_token: str) -> str | None:
    """``Deployment`` for ``kubernetes:apps/v1:Deployment``; None for other providers."""
    if not type_token.startswith(KUBERNETES_PREFIX) or type_token.count(":") != 2:
        return None
    return type_token.rsplit(":", 1)[1]


def is_kubernetes_workload(type_token: str) -> bool:
    """True for Kubernetes objects that run pods (Pod, Deployment, Rollout, CronJob, ...)."""
    kind = kubernetes_kind(type_token)
    if kind is None or type_token.startswith((KUBERNETES_HELM_PREFIX, KUBERNETES_YAML_PREFIX)):
        return False
    return kind in KUBERNETES_WORKLOAD_KINDS or kind in ("Pod", "CronJob")


def pod_spec(type_token: str, inputs: Inputs) -> Mapping[str, Any] | None:
    """The pod spec of a Kubernetes workload, or None when it has none (e.g. workloadRef)."""
    kind = kubernetes_kind(type_token)
    if kind == "Pod":
        spec = get(inputs, "spec")
    elif kind == "CronJob":
        spec = get(inputs, "spec", "jobTemplate", "spec", "template", "spec")
    else:
        spec = get(inputs, "spec", "template", "spec")
    return spec if isinstance(spec, Mapping) else None


def containers(spec: Mapping[str, Any], init: bool = True) -> list[Mapping[str, Any]]:
    """The containers of a pod spec, init containers first when ``init``."""
    found = as_list(spec.get("initContainers")) if init else []
    found += as_list(spec.get("containers"))
    return [c for c in found if isinstance(c, Mapping)]


WORKLOAD = ("*kubernetes-workload",)
"""``resource_types`` marker: every Kubernetes object that runs pods."""
