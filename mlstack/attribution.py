"""Which model a planned resource serves, so a diff or a review can group changes by model.

A stack of many models tags every taggable per-model resource ``mlstack:model: <name>``
(aws-native resources carry it in their list of key/value tags). A resource without tags
belongs to the model of its nearest ancestor; a component belongs to the one model its tagged
descendants name (a component over several models, or none, belongs to no model). A
single-model stack tags nothing: there, the components named as the single-model program names
them (:data:`SINGLE_MODEL_COMPONENTS`) and everything under them belong to its one model, the
only entry of the plan document's resolved ``models``. Platform resources (registry, network,
cluster, alarm topic, dashboard, shared fleets) belong to no model: ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlstack.operations import Operation, ResourceChange, resource_key

MODEL_TAG = "mlstack:model"
"""The tag the program puts on every taggable resource of one model (infra/config/stack.py)."""
SINGLE_MODEL_COMPONENTS = frozenset({"sagemaker", "autoscaling", "alarms", "drift", "serving"})
"""Top-level components of one model in a single-model stack (the program's names)."""

Document = Mapping[str, Any]


def tagged_model(inputs: Mapping[str, Any]) -> str | None:
    """The ``mlstack:model`` tag of a resource's inputs (a map, or a list of key/value)."""
    tags = inputs.get("tags")
    if isinstance(tags, Mapping):
        value = tags.get(MODEL_TAG)
        return value if isinstance(value, str) else None
    if isinstance(tags, list):
        for tag in tags:
            if isinstance(tag, Mapping) and tag.get("key") == MODEL_TAG:
                value = tag.get("value")
                return value if isinstance(value, str) else None
    return None


def models_by_urn(document: Document) -> dict[str, str | None]:
    """Every resource URN of a plan document mapped to the model it serves, or None."""
    resources = [r for r in document.get("resources") or () if isinstance(r, Mapping)]
    parent = {str(r["urn"]): r.get("parent") for r in resources}
    own = {str(r["urn"]): tagged_model(r.get("inputs") or {}) for r in resources}

    # A component: the one model its tagged descendants name.
    below: dict[str, set[str]] = {}
    for urn, model in own.items():
        if model is None:
            continue
        ancestor = parent.get(urn)
        while ancestor in parent:
            below.setdefault(ancestor, set()).add(model)
            ancestor = parent.get(ancestor)
    single = _single_model(document)

    def resolve(urn: str) -> str | None:
        current: str | None = urn
        while current in parent:
            if own.get(current) is not None:
                return own[current]
            models = below.get(current, set())
            if len(models) == 1:
                return next(iter(models))
            if len(models) > 1:
                return None
            if single is not None and parent.get(current) not in parent:
                name = current.rsplit("::", 1)[-1]
                return single if name in SINGLE_MODEL_COMPONENTS else None
            current = parent.get(current)
        return None

    return {urn: resolve(urn) for urn in parent}


def model_of(document: Document, urn: str) -> str | None:
    """The model the resource ``urn`` of ``document`` serves, or None (platform)."""
    return models_by_urn(document).get(urn)


def _single_model(document: Document) -> str | None:
    """The model of a single-model stack (nothing tagged, one resolved model), else None."""
    models = (document.get("config") or {}).get("models") or {}
    if len(models) != 1:
        return None
    resources = document.get("resources") or ()
    if any(tagged_model(r.get("inputs") or {}) for r in resources if isinstance(r, Mapping)):
        return None
    return next(iter(models))


def owners_by_key(base: Document, head: Document) -> dict[str, str | None]:
    """The model of every resource of either plan by its key (the URN without stack and
    project, as :func:`mlstack.operations.operations` matches them): the head's answer, else
    the base's (a deleted resource). ``None``: the platform."""
    return {
        resource_key(urn): model
        for document in (base, head)
        for urn, model in models_by_urn(document).items()
    }


def group_by_model(
    changes: Iterable[ResourceChange], base: Document, head: Document
) -> tuple[dict[str | None, list[ResourceChange]], int]:
    """Changed resources grouped by model (``None``: the platform), and how many of the
    head's models have no change at all. ``changes`` are :func:`mlstack.operations.operations`
    results; resources are matched by their key (the URN without stack and project), in the
    head first, else in the base (a deleted resource)."""
    owners = owners_by_key(base, head)
    grouped: dict[str | None, list[ResourceChange]] = {}
    for change in changes:
        if change.operation is not Operation.SAME:
            grouped.setdefault(owners.get(change.key), []).append(change)
    models = set((head.get("config") or {}).get("models") or {})
    unchanged = len(models - {m for m in grouped if m is not None})
    return grouped, unchanged
