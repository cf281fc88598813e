"""Kubernetes objects of a plan as plain manifests, for review, validation and scanners.

The offline plan records every Kubernetes resource exactly as the provider would receive it
(type token ``kubernetes:<group>/<version>:<Kind>`` plus its inputs). This module turns those
into ordinary manifests (``apiVersion``, ``kind``, ``metadata``, ...), writes them as one YAML
file per object (``mlstack render-k8s``) and tells built-in kinds from custom ones (so that
strict schema validation knows which objects it can check).

Helm releases are not objects: their manifests are rendered by Helm in the cluster, from the
pinned chart recorded in the plan, and are listed by :func:`helm_releases` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from mlstack.offline.plan import Plan, PlannedResource
from policy_pack.type_tokens import (
    KUBERNETES_HELM_PREFIX,
    KUBERNETES_KUSTOMIZE_PREFIX,
    KUBERNETES_YAML_PREFIX,
)

RENDER_HEADER = "# Rendered by mlstack render-k8s from the offline plan; do not edit.\n"
"""First line of every written file; stale files carrying it are replaced on the next run."""

_NOT_OBJECTS = (KUBERNETES_HELM_PREFIX, KUBERNETES_YAML_PREFIX, KUBERNETES_KUSTOMIZE_PREFIX)
_TYPE_TOKEN = re.compile(r"^kubernetes:(?P<api>[^:]+):(?P<kind>[A-Za-z0-9]+)$")


def api_version_and_kind(type_token: str) -> tuple[str, str] | None:
    """``("apps/v1", "Deployment")`` for ``kubernetes:apps/v1:Deployment``; ``None`` for
    anything that is not a Kubernetes object (providers, Helm releases, components)."""
    if type_token.startswith(_NOT_OBJECTS):
        return None
    match = _TYPE_TOKEN.match(type_token)
    if match is None or "/" not in match["api"]:
        return None
    api = match["api"]
    return (api.removeprefix("core/"), match["kind"])


def is_builtin(manifest: dict[str, Any]) -> bool:
    """Whether the object's kind ships with Kubernetes (core or a ``*.k8s.io`` /
    dotless group), as opposed to a custom resource such as an Argo Rollout."""
    api_version = str(manifest.get("apiVersion", ""))
    if "/" not in api_version:
        return True
    group = api_version.split("/", 1)[0]
    return "." not in group or group.endswith(".k8s.io")


def _clean(value: Any) -> Any:
    """Plan values as Kubernetes expects them: numbers travel as floats through the engine,
    so integral floats become ints again. Keys are sorted, so renders are byte-stable."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _clean(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def manifest_of(resource: PlannedResource) -> dict[str, Any] | None:
    """The manifest of one planned resource, or ``None`` when it is not a Kubernetes object."""
    if not resource.custom:
        return None
    parsed = api_version_and_kind(resource.type)
    if parsed is None:
        return None
    api_version, kind = parsed
    body = {k: v for k, v in _clean(resource.inputs).items() if k not in ("apiVersion", "kind")}
    manifest: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    manifest["metadata"] = body.pop("metadata", {})
    manifest.update(dict(sorted(body.items())))
    return manifest


def manifests(plan: Plan) -> list[dict[str, Any]]:
    """Every Kubernetes object of the plan, in plan order."""
    return [m for m in (manifest_of(r) for r in plan.resources) if m is not None]


def helm_releases(plan: Plan) -> list[dict[str, Any]]:
    """The Helm releases of the plan: name, namespace, chart, pinned version, repository."""
    return [
        {
            "name": r.inputs.get("name"),
            "namespace": r.inputs.get("namespace"),
            "chart": r.inputs.get("chart"),
            "version": r.inputs.get("version"),
            "repository": (r.inputs.get("repositoryOpts") or {}).get("repo"),
        }
        for r in plan.resources
        if r.type.startswith(KUBERNETES_HELM_PREFIX)
    ]


def file_name(manifest: dict[str, Any], taken: Iterable[str] = ()) -> str:
    """``<kind>-<name>.yaml`` in lower case; the namespace joins in when two objects of one
    kind share a name."""
    meta = manifest.get("metadata") or {}
    kind = str(manifest["kind"]).lower()
    name = f"{kind}-{meta.get('name', 'unnamed')}.yaml"
    if name in set(taken):
        name = f"{kind}-{meta.get('namespace', 'cluster')}-{meta.get('name', 'unnamed')}.yaml"
    return name


def to_yaml(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False, width=100)


def write_manifests(objects: list[dict[str, Any]], directory: Path) -> list[Path]:
    """Write one YAML file per object into ``directory`` (created if needed); files a
    previous run wrote there are removed first. Returns the written paths."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.yaml"):
        with stale.open() as handle:
            if handle.readline() == RENDER_HEADER:
                stale.unlink()
    written: list[Path] = []
    for manifest in objects:
        path = directory / file_name(manifest, [p.name for p in written])
        path.write_text(RENDER_HEADER + to_yaml(manifest))
        written.append(path)
    return written


SCANNED_AS_ANNOTATION = "mlstack.dev/scanned-as"
"""Marks an object rendered in another kind's shape for scanners (its real kind)."""


def as_deployment(workload: dict[str, Any]) -> dict[str, Any]:
    """A Deployment with the workload's selector and pod template: how schema validation
    and scanners that do not know Argo's Rollout get to check its pods."""
    metadata = dict(workload["metadata"])
    metadata["annotations"] = {
        **(metadata.get("annotations") or {}),
        SCANNED_AS_ANNOTATION: workload["kind"],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "selector": workload["spec"]["selector"],
            "template": workload["spec"]["template"],
        },
    }


def scannable(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects as scanners can read them: Argo Rollouts become the Deployment they run
    (same selector and pod template), everything else is unchanged."""
    return [as_deployment(o) if o.get("kind") == "Rollout" else o for o in objects]
