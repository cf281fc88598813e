"""Network isolation of Kubernetes workloads: every namespace that runs pods denies all
traffic by default, NetworkPolicies allow only named peers (never every pod, namespace or
address), and no Ingress publishes the model server's ``/metrics``.

A NetworkPolicy cannot filter HTTP paths: the server answers ``/metrics`` on its serving port,
so that port is open only to the pods that route traffic and scrape metrics, and an Ingress
(reachable from outside the cluster) may route only the inference paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policy_pack.rules.base import (
    Inputs,
    Resource,
    ResourceRule,
    StackContext,
    StackRule,
    Violation,
    as_list,
    get,
    is_kubernetes_workload,
    is_set,
    is_unknown,
    number,
    strings,
)
from policy_pack.type_tokens import (
    KUBERNETES_INGRESS,
    KUBERNETES_NETWORK_POLICY,
)

EVERYWHERE = ("0.0.0.0/0", "::/0")
METRICS_PATH = "/metrics"
CATCH_ALL_PATHS = ("", "/", "/*", "/.*", "/(.*)")


def _empty_selector(selector: Any) -> bool:
    """A label selector that selects everything (``{}``: no labels, no expressions)."""
    return (
        isinstance(selector, Mapping)
        and not is_set(selector.get("matchLabels"))
        and not (is_set(selector.get("matchExpressions")))
    )


def _open_peer(peer: Any) -> str | None:
    """How ``peer`` admits everything, or None when it names its pods or addresses."""
    if not isinstance(peer, Mapping) or is_unknown(peer):
        return None
    cidr = get(peer, "ipBlock", "cidr")
    if cidr in EVERYWHERE:
        return f"ipBlock {cidr}"
    namespaces = peer.get("namespaceSelector")
    if namespaces is not None and _empty_selector(namespaces):
        return "every namespace (namespaceSelector {})"
    if not any(key in peer for key in ("ipBlock", "namespaceSelector", "podSelector")):
        return "an empty peer"
    return None


def _port(port: Mapping[str, Any]) -> str:
    value = get(port, "port", default="all")
    numeric = number(value)
    return f"{numeric:g}" if numeric is not None else str(value)


def _ports(rule: Mapping[str, Any]) -> str:
    ports = [_port(p) for p in as_list(rule.get("ports"))]
    return "port " + ", ".join(ports) if ports else "every port"


def _scoped_peers(_: str, inputs: Inputs) -> Iterable[str]:
    spec = get(inputs, "spec") or {}
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(as_list(spec.get(direction))):
            if not isinstance(rule, Mapping) or is_unknown(rule.get(key)):
                continue
            where = f"{direction}[{index}] ({_ports(rule)})"
            peers = as_list(rule.get(key))
            if not peers:
                yield f"{where} has no '{key}': it admits any address; name the peers"
            for peer in peers:
                problem = _open_peer(peer)
                if problem:
                    yield f"{where} admits {problem}: name the namespaces and pods instead"


def _namespace(resource: Resource) -> Any:
    return get(resource.inputs, "metadata", "namespace", default="default")


def _denies_everything(policy: Resource) -> bool:
    spec = get(policy.inputs, "spec") or {}
    if is_unknown(spec):
        return True
    types = set(strings(spec.get("policyTypes")))
    return (
        _empty_selector(spec.get("podSelector") or {})
        and {"Ingress", "Egress"} <= types
        and not as_list(spec.get("ingress"))
        and not as_list(spec.get("egress"))
    )


def _default_deny(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    denying = {
        _namespace(p)
        for p in resources
        if p.type == KUBERNETES_NETWORK_POLICY and _denies_everything(p)
    }
    for workload in resources:
        namespace = _namespace(workload)
        if not is_kubernetes_workload(workload.type) or is_unknown(namespace):
            continue
        if namespace not in denying and not any(is_unknown(n) for n in denying):
            yield Violation(
                workload.urn,
                f"namespace '{namespace}' has no default-deny NetworkPolicy: any pod may reach "
                "these pods and they may reach anything; add one with podSelector {} and "
                "policyTypes Ingress and Egress",
            )


def _exposes_metrics(path: Any, path_type: Any) -> bool:
    if not isinstance(path, str) or is_unknown(path):
        return False
    if path.startswith(METRICS_PATH):
        return True
    # Prefix "/" and catch-all ImplementationSpecific patterns cover /metrics.
    return path_type != "Exact" and path in CATCH_ALL_PATHS


def _ingress_metrics_private(_: str, inputs: Inputs) -> Iterable[str]:
    spec = get(inputs, "spec") or {}
    if is_set(spec.get("defaultBackend")):
        yield "defaultBackend routes every path, /metrics included: route named paths only"
    for rule in as_list(spec.get("rules")):
        for entry in as_list(get(rule, "http", "paths")):
            path, path_type = get(entry, "path", default="/"), get(entry, "pathType")
            if _exposes_metrics(path, path_type):
                yield f"path '{path}' ({path_type or 'ImplementationSpecific'}) publishes " + (
                    "/metrics: route only /invocations (and /ping) with pathType Exact or Prefix"
                )


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        name="k8s-network-policy-scoped",
        description="NetworkPolicies admit named peers only: no rule from or to every address, "
        "every namespace or an empty peer.",
        resource_types=(KUBERNETES_NETWORK_POLICY,),
        check=_scoped_peers,
        fix="name the peers by namespace and pod labels (mlstack:kubernetes.trafficSources "
        "and mlstack:kubernetes.metricsScrapers), or by the VPC and S3 ranges for egress",
    ),
    ResourceRule(
        name="k8s-ingress-metrics-private",
        description="No Ingress publishes the model server's /metrics (no catch-all path or "
        "default backend).",
        resource_types=(KUBERNETES_INGRESS,),
        check=_ingress_metrics_private,
        fix="route only /invocations and /ping through the Ingress; Prometheus scrapes "
        "/metrics inside the cluster",
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        name="k8s-namespace-default-deny",
        description="Every namespace that runs pods has a default-deny NetworkPolicy for "
        "ingress and egress.",
        check=_default_deny,
        fix="declare a NetworkPolicy with podSelector {} and policyTypes Ingress and Egress in "
        "the namespace, as the Kubernetes serving component does",
    ),
)
