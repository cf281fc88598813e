"""Pod hardening rules over every Kubernetes object in the plan that runs pods (Pod,
Deployment, StatefulSet, DaemonSet, Job, CronJob and Argo's Rollout), mirroring checkov's
CKV_K8S checks. Container-level settings win over pod-level ones, as in Kubernetes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from policy_pack.rules.base import (
    WORKLOAD,
    Inputs,
    ResourceRule,
    as_list,
    containers,
    get,
    is_false,
    is_set,
    is_true,
    is_unknown,
    number,
    pod_spec,
    strings,
)
from policy_pack.type_tokens import (
    KUBERNETES_SERVICE,
)

MIN_UID = 10000
"""Lowest UID a container may run as (CKV_K8S_40): above any host user's UID."""

ContainerCheck = Callable[[Mapping[str, Any], Mapping[str, Any]], str | None]
"""(pod spec, container) -> what is wrong, or None."""


def _per_container(
    check: ContainerCheck, init: bool = True
) -> Callable[[str, Inputs], Iterable[str]]:
    def run(type_token: str, inputs: Inputs) -> Iterable[str]:
        spec = pod_spec(type_token, inputs)
        if spec is None:
            return
        for container in containers(spec, init=init):
            problem = check(spec, container)
            if problem:
                yield f"container '{container.get('name', '?')}': {problem}"

    return run


def _effective(spec: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    value = get(container, "securityContext", key)
    return value if value is not None else get(spec, "securityContext", key)


def _probe(kind: str) -> ContainerCheck:
    def check(_: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
        return None if is_set(container.get(kind)) else f"no {kind}: add one (e.g. GET /ping)"

    return check


def _resource(section: str, resource: str) -> ContainerCheck:
    def check(_: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
        if is_set(get(container, "resources", section, resource)):
            return None
        return f"no {resource} {section}: set resources.{section}.{resource}"

    return check


def _no_privilege_escalation(_: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    if is_false(get(container, "securityContext", "allowPrivilegeEscalation")):
        return None
    return "privilege escalation allowed: set securityContext.allowPrivilegeEscalation=false"


def _read_only_root(_: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    if is_true(get(container, "securityContext", "readOnlyRootFilesystem", default=False)):
        return None
    return "writable root filesystem: set securityContext.readOnlyRootFilesystem=true"


def _non_root(spec: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    uid = number(_effective(spec, container, "runAsUser"))
    if is_true(_effective(spec, container, "runAsNonRoot") or False):
        return None if uid != 0 else "runs as UID 0: set securityContext.runAsUser >= 10000"
    if uid is not None and uid > 0:
        return None
    return "may run as root: set securityContext.runAsNonRoot=true"


def _high_uid(spec: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    raw = _effective(spec, container, "runAsUser")
    uid = number(raw)
    if is_unknown(raw) or (uid is not None and uid >= MIN_UID):
        return None
    return f"runs as UID {raw}: set securityContext.runAsUser >= {MIN_UID}"


def _dropped(container: Mapping[str, Any]) -> list[str]:
    return [c.upper() for c in strings(get(container, "securityContext", "capabilities", "drop"))]


def _drop_net_raw(_: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    dropped = _dropped(container)
    if "ALL" in dropped or "NET_RAW" in dropped:
        return None
    return "NET_RAW not dropped: set securityContext.capabilities.drop=['ALL']"


def _drop_all(_: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    if "ALL" in _dropped(container):
        return None
    return "capabilities not minimised: set securityContext.capabilities.drop=['ALL']"


def _image_digest(_: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    image = container.get("image")
    if is_unknown(image) or (isinstance(image, str) and "@sha256:" in image):
        return None
    return f"image '{image}' is not pinned: use <repository>@sha256:<digest>"


def _seccomp(spec: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    profile = get(container, "securityContext", "seccompProfile", "type") or get(
        spec, "securityContext", "seccompProfile", "type"
    )
    if profile in ("RuntimeDefault", "Localhost") or is_unknown(profile):
        return None
    return "no seccomp profile: set securityContext.seccompProfile.type='RuntimeDefault'"


def _no_token_automount(type_token: str, inputs: Inputs) -> Iterable[str]:
    spec = pod_spec(type_token, inputs)
    if spec is not None and not is_false(spec.get("automountServiceAccountToken")):
        yield "the pod mounts a Kubernetes API token it does not need: set " + (
            "automountServiceAccountToken=false (IRSA's web identity token is mounted anyway)"
        )


SHA256_ENV = "MODEL_ARTIFACT_SHA256"
"""Environment variable through which a later init container receives the artifact's pinned
sha256 and verifies the fetched file before anything reads it (the kit's unpack step)."""
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _command_line(container: Mapping[str, Any]) -> list[str]:
    return strings(container.get("command")) + strings(container.get("args"))


def _fetches_from_s3(words: list[str]) -> bool:
    text = " ".join(words)
    return "s3://" in text or "get-object" in words or " s3 cp " in f" {text} "


def _version_pinned(words: list[str]) -> bool:
    text = " ".join(words)
    if "--version-id" in words:
        index = words.index("--version-id")
        value = words[index + 1] if index + 1 < len(words) else ""
        return is_unknown(value) or (bool(value) and not value.startswith("-"))
    return re.search(r"--version-id[ =][^\s-]", text) is not None


def _verifies_sha256(container: Mapping[str, Any]) -> bool:
    for variable in as_list(container.get("env")):
        if get(variable, "name") == SHA256_ENV:
            value = get(variable, "value")
            return is_unknown(value) or (
                isinstance(value, str) and bool(SHA256_HEX.fullmatch(value))
            )
    return "sha256sum -c" in " ".join(_command_line(container))


def _artifact_pinned(type_token: str, inputs: Inputs) -> Iterable[str]:
    spec = pod_spec(type_token, inputs)
    init = [
        c for c in as_list(spec.get("initContainers") if spec else None) if isinstance(c, Mapping)
    ]
    for index, container in enumerate(init):
        words = _command_line(container)
        if not _fetches_from_s3(words) or _version_pinned(words):
            continue
        if any(_verifies_sha256(later) for later in init[index:]):
            continue
        shown = next((w for w in words if "s3://" in w), "an S3 object")
        yield f"init container '{container.get('name', '?')}' copies {shown} unpinned: " + (
            "a file replaced in the bucket would be loaded by the next pod; fetch it by "
            "--version-id or verify its sha256 before the server starts"
        )


HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
EXPOSED_SERVICE_TYPES = ("LoadBalancer", "NodePort")


def _no_host_namespaces(type_token: str, inputs: Inputs) -> Iterable[str]:
    spec = pod_spec(type_token, inputs)
    for key in HOST_NAMESPACES:
        if spec is not None and is_true(spec.get(key)):
            yield f"the pod shares the node's {key.removeprefix('host')} namespace: set {key}=false"


def _no_host_path(type_token: str, inputs: Inputs) -> Iterable[str]:
    spec = pod_spec(type_token, inputs)
    for volume in as_list(spec.get("volumes") if spec is not None else None):
        if is_set(get(volume, "hostPath")):
            yield f"volume '{get(volume, 'name') or '?'}' mounts a path of the node: " + (
                "use emptyDir, a ConfigMap or a PersistentVolumeClaim"
            )


def _no_added_capabilities(_: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    added = strings(get(container, "securityContext", "capabilities", "add"))
    return f"adds capabilities {', '.join(added)}: remove capabilities.add" if added else None


def _privileged(_: Mapping[str, Any], container: Mapping[str, Any]) -> str | None:
    if is_true(get(container, "securityContext", "privileged")):
        return "runs privileged: remove securityContext.privileged"
    return None


def _service_not_exposed(_: str, inputs: Inputs) -> Iterable[str]:
    kind = get(inputs, "spec", "type")
    if kind in EXPOSED_SERVICE_TYPES:
        yield f"Service of type {kind} exposes the model server outside the cluster: use " + (
            "ClusterIP behind the ingress or mesh that routes traffic"
        )


def _rule(
    name: str,
    description: str,
    check: Callable[[str, Inputs], Iterable[str]],
    fix: str,
    ckv: str | None,
) -> ResourceRule:
    return ResourceRule(
        name=name,
        description=description,
        resource_types=WORKLOAD,
        check=check,
        fix=fix,
        checkov_id=ckv,
    )


RULES: tuple[ResourceRule, ...] = (
    _rule(
        "k8s-liveness-probe",
        "Every serving container has a liveness probe.",
        _per_container(_probe("livenessProbe"), init=False),
        "add livenessProbe (httpGet /ping) to the container",
        "CKV_K8S_8",
    ),
    _rule(
        "k8s-readiness-probe",
        "Every serving container has a readiness probe.",
        _per_container(_probe("readinessProbe"), init=False),
        "add readinessProbe (httpGet /ping) to the container",
        "CKV_K8S_9",
    ),
    _rule(
        "k8s-cpu-requests",
        "Every container requests CPU.",
        _per_container(_resource("requests", "cpu")),
        "set mlstack:kubernetes.cpuRequest",
        "CKV_K8S_10",
    ),
    _rule(
        "k8s-cpu-limits",
        "Every container has a CPU limit.",
        _per_container(_resource("limits", "cpu")),
        "set mlstack:kubernetes.cpuLimit",
        "CKV_K8S_11",
    ),
    _rule(
        "k8s-memory-requests",
        "Every container requests memory.",
        _per_container(_resource("requests", "memory")),
        "set mlstack:kubernetes.memoryRequest",
        "CKV_K8S_12",
    ),
    _rule(
        "k8s-memory-limits",
        "Every container has a memory limit.",
        _per_container(_resource("limits", "memory")),
        "set mlstack:kubernetes.memoryLimit (at least memoryRequest)",
        "CKV_K8S_13",
    ),
    _rule(
        "k8s-no-privilege-escalation",
        "No container may gain more privileges than its parent process.",
        _per_container(_no_privilege_escalation),
        "set securityContext.allowPrivilegeEscalation=false",
        "CKV_K8S_20",
    ),
    _rule(
        "k8s-read-only-root-filesystem",
        "Containers run with a read-only root filesystem.",
        _per_container(_read_only_root),
        "set securityContext.readOnlyRootFilesystem=true (mount emptyDir for scratch space)",
        "CKV_K8S_22",
    ),
    _rule(
        "k8s-non-root",
        "Containers never run as root.",
        _per_container(_non_root),
        "set securityContext.runAsNonRoot=true",
        "CKV_K8S_23",
    ),
    _rule(
        "k8s-drop-net-raw",
        "Containers drop the NET_RAW capability.",
        _per_container(_drop_net_raw),
        "set securityContext.capabilities.drop=['ALL']",
        "CKV_K8S_28",
    ),
    _rule(
        "k8s-seccomp-runtime-default",
        "Pods run under the runtime's default seccomp profile.",
        _per_container(_seccomp),
        "set securityContext.seccompProfile.type='RuntimeDefault'",
        "CKV_K8S_31",
    ),
    _rule(
        "k8s-drop-all-capabilities",
        "Containers drop every Linux capability.",
        _per_container(_drop_all),
        "set securityContext.capabilities.drop=['ALL']",
        "CKV_K8S_37",
    ),
    _rule(
        "k8s-no-service-account-token",
        "Pods do not mount a Kubernetes API token they do not use.",
        _no_token_automount,
        "set automountServiceAccountToken=false in the pod spec",
        "CKV_K8S_38",
    ),
    _rule(
        "k8s-high-uid",
        f"Containers run as a UID of at least {MIN_UID}, above any host user.",
        _per_container(_high_uid),
        f"set securityContext.runAsUser >= {MIN_UID}",
        "CKV_K8S_40",
    ),
    _rule(
        "k8s-no-host-namespaces",
        "Pods never share the node's network, PID or IPC namespace.",
        _no_host_namespaces,
        "set hostNetwork, hostPID and hostIPC to false in the pod spec",
        "CKV_K8S_17/CKV_K8S_18/CKV_K8S_19",
    ),
    _rule(
        "k8s-no-host-path",
        "Pods never mount paths of the node (hostPath volumes).",
        _no_host_path,
        "replace hostPath volumes with emptyDir, ConfigMap or PersistentVolumeClaim volumes",
        None,
    ),
    _rule(
        "k8s-no-added-capabilities",
        "Containers add no Linux capability and never run privileged.",
        _per_container(lambda spec, c: _no_added_capabilities(spec, c) or _privileged(spec, c)),
        "remove securityContext.capabilities.add and securityContext.privileged",
        "CKV_K8S_25/CKV_K8S_16",
    ),
    ResourceRule(
        name="k8s-service-not-exposed",
        description="Services stay inside the cluster (no LoadBalancer or NodePort type).",
        resource_types=(KUBERNETES_SERVICE,),
        check=_service_not_exposed,
        fix="use type ClusterIP; route outside traffic through the cluster's ingress",
    ),
    _rule(
        "k8s-model-artifact-pinned",
        "Pods that fetch their model from S3 fetch one pinned version (--version-id) or "
        "verify its sha256 before the server starts.",
        _artifact_pinned,
        "set mlstack:kubernetes.modelArtifactSha256 or mlstack:kubernetes.modelArtifactVersionId "
        "(from the model package) for a .tar.gz artifact",
        None,
    ),
    _rule(
        "k8s-image-digest",
        "Container images are pinned by digest.",
        _per_container(_image_digest),
        "set mlstack:kubernetes.imageDigest and mlstack:kubernetes.modelFetcherImageDigest",
        "CKV_K8S_43",
    ),
)
