"""What the cluster receives for the model server: pure builders of typed pulumi-kubernetes
Args (no resources declared here; :mod:`infra.components.k8s_serving` declares them).

The pod follows the serving image's contract: the server listens on 8080 (``PORT`` /
``SAGEMAKER_BIND_TO_PORT``), runs as ``serve``, answers ``GET /ping`` once the model is loaded
and exposes Prometheus metrics on ``GET /metrics``; the model is read from ``/opt/ml/model``
(``MODEL_DIR``), where init containers put it: an aws-cli container copies the artifact from
S3 (by its pinned version id when there is one), and a ``.tar.gz`` artifact is checked against
its pinned sha256 and unpacked by the serving image's own Python.

Argo Rollouts' ``Rollout`` and ``AnalysisTemplate`` are custom resources: their specs are
mappings, with the pod template typed (:class:`PodTemplateSpecArgs`) like a Deployment's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from infra.config.rollout import RollbackMetric
from infra.rollout import KubernetesStrategy

if TYPE_CHECKING:
    from infra.components.k8s_serving import KubernetesServingArgs

core = k8s.core.v1
meta = k8s.meta.v1


@dataclass(frozen=True)
class NetworkPeer:
    """Pods allowed to connect to the server: those of ``namespace`` carrying every label of
    ``pod_labels`` (all of the namespace's pods when empty)."""

    namespace: str
    pod_labels: Mapping[str, str] = field(default_factory=dict)


SERVING_PORT = 8080
"""The serving image's port (SageMaker's contract)."""
MODEL_DIR = "/opt/ml/model"
"""Where the serving image reads the model (``MODEL_DIR``)."""
RUN_AS_USER = 10001
"""UID and GID of every container: non-root, above the host's system and user ranges."""
CANARY_HASH_ARG = "canary-hash"
"""Analysis argument: the pod-template hash of the canary ReplicaSet."""
ARGO_API_VERSION = "argoproj.io/v1alpha1"
"""API version of Argo Rollouts' custom resources."""
SHA256_ENV = "MODEL_ARTIFACT_SHA256"
"""Environment variable of the unpack container holding the artifact's pinned sha256."""
UNPACK_SCRIPT = (
    "import hashlib, os, sys, tarfile\n"
    "archive, target = sys.argv[1], sys.argv[2]\n"
    f"expected = os.environ.get('{SHA256_ENV}', '')\n"
    "if expected:\n"
    "    digest = hashlib.sha256()\n"
    "    with open(archive, 'rb') as data:\n"
    "        while block := data.read(1 << 20):\n"
    "            digest.update(block)\n"
    "    if digest.hexdigest() != expected:\n"
    "        sys.exit(f'model artifact sha256 {digest.hexdigest()} is not the pinned '\n"
    "                 f'{expected}: refusing to unpack it')\n"
    "with tarfile.open(archive) as bundle:\n"
    "    bundle.extractall(target, filter='data')\n"
)
"""Verifies model.tar.gz against the pinned sha256 (when there is one; a mismatch fails the
init container, so the server never starts) and unpacks it with the serving image's Python;
the ``data`` filter refuses links and paths that leave the target directory."""
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""The label Kubernetes puts on every namespace with its name."""
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
"""Where the cluster DNS (CoreDNS, labelled as kube-dns) runs on EKS."""
ARCHIVE_DIR = "/model-archive"
"""Where the fetch container puts a ``.tar.gz`` artifact before it is unpacked."""


def container_security_context() -> core.SecurityContextArgs:
    """Every container: non-root, read-only root filesystem, no privileges or capabilities."""
    return core.SecurityContextArgs(
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        run_as_user=RUN_AS_USER,
        run_as_group=RUN_AS_USER,
        capabilities=core.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security_context() -> core.PodSecurityContextArgs:
    """The pod: non-root, RuntimeDefault seccomp, volumes owned by the server's group."""
    return core.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=RUN_AS_USER,
        run_as_group=RUN_AS_USER,
        fs_group=RUN_AS_USER,
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def init_resources() -> core.ResourceRequirementsArgs:
    """Requests and limits of the init containers (copy and unpack only)."""
    return core.ResourceRequirementsArgs(
        requests={"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
        limits={"cpu": "500m", "memory": "512Mi", "ephemeral-storage": "256Mi"},
    )


def labels(app_name: str) -> dict[str, str]:
    """Labels on every serving object."""
    return {
        "app.kubernetes.io/name": app_name,
        "app.kubernetes.io/component": "model-server",
        "app.kubernetes.io/part-of": "mlstack",
        "app.kubernetes.io/managed-by": "pulumi",
    }


MODEL_VERSION_LABEL = "mlstack.io/model-version"
"""Label of the workload and its pods: the model package version they serve (the policy pack
compares it with the SageMaker path's)."""


MODEL_LABEL = "mlstack.io/model"
"""Label of the workload and its pods in a stack of many models: the model's name (its
SageMaker resources carry it as the tag ``mlstack:model``)."""


def workload_labels(
    app_name: str, model_version: int | None, model_name: str | None = None
) -> dict[str, str]:
    """The kit's labels plus the served model's name and version, where they are known."""
    found = labels(app_name)
    if model_version is not None:
        found[MODEL_VERSION_LABEL] = str(model_version)
    if model_name is not None:
        found[MODEL_LABEL] = model_name
    return found


def selector(app_name: str) -> dict[str, str]:
    """The pod selector of the workload, services and policies."""
    return {"app.kubernetes.io/name": app_name}


def metadata(
    name: str,
    namespace: str,
    app_name: str,
    annotations: dict[str, Any] | None = None,
    model_version: int | None = None,
    model_name: str | None = None,
) -> meta.ObjectMetaArgs:
    """Name, namespace and the kit's labels of a namespaced object (with the served model's
    name and version for a workload, where they are known)."""
    return meta.ObjectMetaArgs(
        name=name,
        namespace=namespace,
        labels=workload_labels(app_name, model_version, model_name),
        annotations=annotations,
    )


def pulled_by_digest(image: str) -> bool:
    return "@sha256:" in image


def canary_service_name(app_name: str) -> str:
    return f"{app_name}-canary"


def analysis_template_name(app_name: str) -> str:
    return f"{app_name}-analysis"


def namespace_metadata(namespace: str, app_name: str) -> meta.ObjectMetaArgs:
    """The serving namespace, enforcing the restricted Pod Security Standard."""
    return meta.ObjectMetaArgs(
        name=namespace,
        labels={
            **labels(app_name),
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
        },
    )


def service_account_metadata(
    namespace: str, app_name: str, role_arn: pulumi.Input[str]
) -> meta.ObjectMetaArgs:
    """The server's service account, bound to ``role_arn`` through IRSA."""
    return metadata(
        app_name,
        namespace,
        app_name,
        annotations={
            "eks.amazonaws.com/role-arn": role_arn,
            "eks.amazonaws.com/sts-regional-endpoints": "true",
        },
    )


def _http_probe(period: int, failures: int) -> core.ProbeArgs:
    return core.ProbeArgs(
        http_get=core.HTTPGetActionArgs(path="/ping", port="http", scheme="HTTP"),
        period_seconds=period,
        timeout_seconds=2,
        failure_threshold=failures,
    )


def _mount(name: str, path: str, read_only: bool | None = None) -> core.VolumeMountArgs:
    return core.VolumeMountArgs(name=name, mount_path=path, read_only=read_only)


def model_is_archive(args: KubernetesServingArgs) -> bool:
    """Whether the artifact is a ``.tar.gz`` to unpack (not a prefix ending in ``/``)."""
    return not args.model_key.endswith("/")


def fetch_args(
    args: KubernetesServingArgs, source_uri: pulumi.Input[str], destination: str
) -> list[pulumi.Input[str]]:
    """aws-cli arguments that copy the artifact to ``destination``: the pinned S3 version
    (``s3api get-object --version-id``) when there is one, else the current object (or every
    object under a prefix)."""
    if args.model_artifact_version_id is not None:
        return [
            "s3api",
            "get-object",
            "--bucket",
            args.model_bucket,
            "--key",
            args.model_key,
            "--version-id",
            args.model_artifact_version_id,
            "--query",
            "VersionId",
            "--output",
            "text",
            destination,
        ]
    copy: list[pulumi.Input[str]] = ["s3", "cp", source_uri, destination, "--only-show-errors"]
    if not model_is_archive(args):
        copy.insert(2, "--recursive")
    return copy


def init_containers(
    args: KubernetesServingArgs, source_uri: pulumi.Input[str], region: pulumi.Input[str]
) -> list[core.ContainerArgs]:
    """Copy the model from ``source_uri`` into the pod (and verify and unpack a ``.tar.gz``)
    before the server starts."""
    unpack = model_is_archive(args)
    archive = f"{ARCHIVE_DIR}/model.tar.gz"
    fetch = core.ContainerArgs(
        name="fetch-model",
        image=args.model_fetcher_image,
        image_pull_policy=(
            "IfNotPresent" if pulled_by_digest(args.model_fetcher_image) else "Always"
        ),
        command=["aws"],
        args=fetch_args(args, source_uri, archive if unpack else MODEL_DIR),
        env=[
            core.EnvVarArgs(name="HOME", value="/tmp"),
            core.EnvVarArgs(name="AWS_REGION", value=region),
            core.EnvVarArgs(name="AWS_STS_REGIONAL_ENDPOINTS", value="regional"),
        ],
        resources=init_resources(),
        security_context=container_security_context(),
        volume_mounts=[
            _mount("model-archive", ARCHIVE_DIR) if unpack else _mount("model", MODEL_DIR),
            _mount("tmp", "/tmp"),
        ],
    )
    if not unpack:
        return [fetch]
    pinned = args.model_artifact_sha256
    unpack_container = core.ContainerArgs(
        name="unpack-model",
        image=args.image,
        command=["python3", "-c", UNPACK_SCRIPT, archive, MODEL_DIR],
        env=[core.EnvVarArgs(name=SHA256_ENV, value=pinned)] if pinned is not None else None,
        resources=init_resources(),
        security_context=container_security_context(),
        volume_mounts=[
            _mount("model-archive", ARCHIVE_DIR, read_only=True),
            _mount("model", MODEL_DIR),
            _mount("tmp", "/tmp"),
        ],
    )
    return [fetch, unpack_container]


def server_container(args: KubernetesServingArgs) -> core.ContainerArgs:
    """The model server: the serving image's contract, probes on ``/ping``, a drain pause."""
    env = [
        core.EnvVarArgs(name="PORT", value=str(SERVING_PORT)),
        core.EnvVarArgs(name="SAGEMAKER_BIND_TO_PORT", value=str(SERVING_PORT)),
        core.EnvVarArgs(name="MODEL_DIR", value=MODEL_DIR),
        core.EnvVarArgs(
            name="SERVING_GRACEFUL_TIMEOUT_SECONDS", value=str(args.graceful_timeout_seconds)
        ),
    ]
    if args.workers is not None:
        env.append(core.EnvVarArgs(name="SAGEMAKER_MODEL_SERVER_WORKERS", value=str(args.workers)))
    lifecycle = None
    if args.drain_seconds:
        # Keep serving while endpoints and kube-proxy stop routing new requests here.
        lifecycle = core.LifecycleArgs(
            pre_stop=core.LifecycleHandlerArgs(
                sleep=core.SleepActionArgs(seconds=args.drain_seconds)
            )
        )
    return core.ContainerArgs(
        name="model-server",
        image=args.image,
        image_pull_policy="IfNotPresent" if args.image_pinned_by_digest else "Always",
        args=["serve"],
        ports=[core.ContainerPortArgs(name="http", container_port=SERVING_PORT, protocol="TCP")],
        env=env,
        resources=core.ResourceRequirementsArgs(
            requests={"cpu": args.cpu_request, "memory": args.memory_request},
            limits={"cpu": args.cpu_limit, "memory": args.memory_limit},
        ),
        security_context=container_security_context(),
        volume_mounts=[_mount("model", MODEL_DIR, read_only=True), _mount("tmp", "/tmp")],
        # Up to 5 minutes to load a large model before liveness takes over.
        startup_probe=_http_probe(period=5, failures=60),
        readiness_probe=_http_probe(period=5, failures=2),
        liveness_probe=_http_probe(period=10, failures=3),
        lifecycle=lifecycle,
    )


def pod_template(
    args: KubernetesServingArgs,
    source_uri: pulumi.Input[str],
    region: pulumi.Input[str],
    hash_label: str,
) -> core.PodTemplateSpecArgs:
    """The hardened pod template of the workload, spread over zones and nodes per revision
    (``hash_label``)."""
    app_name = args.app_name
    volumes = [
        core.VolumeArgs(
            name="model",
            empty_dir=core.EmptyDirVolumeSourceArgs(size_limit=args.model_volume_size),
        ),
        core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="256Mi")),
    ]
    if model_is_archive(args):
        volumes.append(
            core.VolumeArgs(
                name="model-archive",
                empty_dir=core.EmptyDirVolumeSourceArgs(size_limit=args.model_volume_size),
            )
        )
    spread = [
        core.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable=when,
            label_selector=meta.LabelSelectorArgs(match_labels=selector(app_name)),
            match_label_keys=[hash_label],
        )
        for key, when in (
            ("topology.kubernetes.io/zone", "DoNotSchedule"),
            ("kubernetes.io/hostname", "ScheduleAnyway"),
        )
    ]
    return core.PodTemplateSpecArgs(
        metadata=meta.ObjectMetaArgs(
            labels=workload_labels(app_name, args.model_version, args.model_name),
            annotations={
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(SERVING_PORT),
                "prometheus.io/path": "/metrics",
            },
        ),
        spec=core.PodSpecArgs(
            service_account_name=app_name,
            # IRSA mounts its own projected token; the Kubernetes API token is not needed.
            automount_service_account_token=False,
            enable_service_links=False,
            security_context=pod_security_context(),
            termination_grace_period_seconds=(
                args.drain_seconds + args.graceful_timeout_seconds + 5
            ),
            topology_spread_constraints=spread,
            init_containers=init_containers(args, source_uri, region),
            containers=[server_container(args)],
            volumes=volumes,
        ),
    )


def deployment_spec(
    strategy: KubernetesStrategy, app_name: str, template: core.PodTemplateSpecArgs
) -> k8s.apps.v1.DeploymentSpecArgs:
    """The Deployment (rolling, all-at-once). No ``replicas``: the HorizontalPodAutoscaler
    owns the count."""
    rolling = strategy.strategy["rollingUpdate"]
    return k8s.apps.v1.DeploymentSpecArgs(
        selector=meta.LabelSelectorArgs(match_labels=selector(app_name)),
        template=template,
        revision_history_limit=5,
        progress_deadline_seconds=strategy.progress_deadline_seconds,
        strategy=k8s.apps.v1.DeploymentStrategyArgs(
            type=strategy.strategy["type"],
            rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                max_surge=rolling["maxSurge"], max_unavailable=rolling["maxUnavailable"]
            ),
        ),
    )


def rollout_spec(
    strategy: KubernetesStrategy, app_name: str, template: core.PodTemplateSpecArgs
) -> dict[str, Any]:
    """The Argo Rollouts ``Rollout`` spec (canary, linear): the compiled canary steps,
    replica-weighted through the stable and canary Services, with the background analysis
    given the canary's pod-template hash. No ``replicas``: the autoscaler owns the count."""
    canary = strategy.canary(analysis_template_name(app_name))
    canary["analysis"]["args"] = [
        {"name": CANARY_HASH_ARG, "valueFrom": {"podTemplateHashValue": "Latest"}}
    ]
    return {
        "selector": {"matchLabels": selector(app_name)},
        "template": template,
        "revisionHistoryLimit": 5,
        "progressDeadlineSeconds": strategy.progress_deadline_seconds,
        "progressDeadlineAbort": strategy.progress_deadline_abort,
        "strategy": {
            "canary": {
                "stableService": app_name,
                "canaryService": canary_service_name(app_name),
                **canary,
            }
        },
    }


def _rate(metric: str, matchers: str) -> str:
    return f"sum(rate({metric}{{{matchers}}}[2m]))"


def analysis_query(metric: RollbackMetric, namespace: str) -> str:
    """PromQL for one rollback metric over the canary's pods, in the unit of its threshold
    (milliseconds or percent of invocations). No traffic reads as 0, not as a failure."""
    canary = f'rollouts_pod_template_hash="{{{{args.{CANARY_HASH_ARG}}}}}"'
    return serving_query(metric, f'namespace="{namespace}",{canary}')


def serving_query(metric: RollbackMetric, pods: str) -> str:
    """PromQL for one serving metric over the pods the label matchers ``pods`` select (e.g.
    ``namespace="churn"``), in the unit of a rollback threshold: milliseconds or percent
    of invocations. No traffic reads as 0."""
    invocations = f'{pods},route="/invocations"'
    total = _rate("serving_requests_total", invocations)
    if metric is RollbackMetric.LATENCY_P99:
        buckets = (
            f"sum by (le) (rate(serving_request_duration_seconds_bucket{{{invocations}}}[2m]))"
        )
        value = f"1000 * histogram_quantile(0.99, {buckets})"
    elif metric is RollbackMetric.LATENCY_AVERAGE:
        value = f"1000 * {_rate('serving_request_duration_seconds_sum', invocations)} / " + _rate(
            "serving_request_duration_seconds_count", invocations
        )
    elif metric is RollbackMetric.MODEL_ERRORS:
        errors = _rate("serving_errors_total", f'{pods},type="model_error"')
        value = f"100 * ({errors} or vector(0)) / {total}"
    else:
        codes = "5.." if metric is RollbackMetric.ERRORS_5XX else "4.."
        errors = _rate("serving_requests_total", f'{invocations},code=~"{codes}"')
        value = f"100 * ({errors} or vector(0)) / {total}"
    # NaN (0/0, an empty histogram) fails ">= 0" and falls through to 0.
    return f"({value} >= 0) or vector(0)"


def dashboard_markdown(
    model: str, namespace: str, app_name: str, prometheus_address: str, argo_rollout: bool
) -> str:
    """The dashboard row of a model served on EKS: its metrics are in Prometheus, not
    CloudWatch, so the row says where and gives the queries (the rollback checks' own, over
    every pod of the namespace) and the command that shows the rollout."""
    pods = f'namespace="{namespace}"'
    requests = _rate("serving_requests_total", f'{pods},route="/invocations"')
    status = (
        f"kubectl argo rollouts get rollout {app_name} -n {namespace}"
        if argo_rollout
        else f"kubectl rollout status deployment/{app_name} -n {namespace}"
    )
    rows = [
        ("invocations per second", requests),
        ("5xx, % of invocations", serving_query(RollbackMetric.ERRORS_5XX, pods)),
        ("latency p99, ms", serving_query(RollbackMetric.LATENCY_P99, pods)),
    ]
    return "\n".join(
        [
            f"### {model} on EKS",
            f"Namespace `{namespace}`, workload `{app_name}`. Its metrics are in Prometheus "
            f"({prometheus_address}), not CloudWatch.",
            "",
            "| metric | PromQL |",
            "|---|---|",
            *(f"| {label} | `{query}` |" for label, query in rows),
            "",
            f"Rollout: `{status}`",
        ]
    )


def analysis_template_spec(
    strategy: KubernetesStrategy, namespace: str, prometheus_address: str
) -> dict[str, Any]:
    """One metric per rollback check, measured every minute on the canary's pods;
    ``evaluation_periods`` failed measurements fail the analysis, which aborts the rollout
    (the stable ReplicaSet takes all traffic back)."""
    metrics = [
        {
            "name": check.metric.value,
            "interval": "60s",
            "failureLimit": check.evaluation_periods - 1,
            "successCondition": f"result[0] <= {check.threshold:g}",
            "provider": {
                "prometheus": {
                    "address": prometheus_address,
                    "query": analysis_query(check.metric, namespace),
                }
            },
        }
        for check in strategy.checks
    ]
    return {"args": [{"name": CANARY_HASH_ARG}], "metrics": metrics}


def service_spec(app_name: str) -> core.ServiceSpecArgs:
    """A ClusterIP Service on the serving port of the app's pods (stable or canary)."""
    return core.ServiceSpecArgs(
        type="ClusterIP",
        selector=selector(app_name),
        ports=[
            core.ServicePortArgs(name="http", port=SERVING_PORT, target_port="http", protocol="TCP")
        ],
    )


def autoscaler_spec(
    api_version: str,
    kind: str,
    app_name: str,
    min_replicas: int,
    max_replicas: int,
    target_cpu_utilization_percent: int,
) -> k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs:
    """CPU-based scaling of the workload; scale-down waits 5 minutes of lower load."""
    hpa = k8s.autoscaling.v2
    return hpa.HorizontalPodAutoscalerSpecArgs(
        scale_target_ref=hpa.CrossVersionObjectReferenceArgs(
            api_version=api_version, kind=kind, name=app_name
        ),
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        metrics=[
            hpa.MetricSpecArgs(
                type="Resource",
                resource=hpa.ResourceMetricSourceArgs(
                    name="cpu",
                    target=hpa.MetricTargetArgs(
                        type="Utilization", average_utilization=target_cpu_utilization_percent
                    ),
                ),
            )
        ],
        behavior=hpa.HorizontalPodAutoscalerBehaviorArgs(
            scale_down=hpa.HPAScalingRulesArgs(stabilization_window_seconds=300)
        ),
    )


def disruption_budget_spec(app_name: str) -> k8s.policy.v1.PodDisruptionBudgetSpecArgs:
    """At most one pod down at a time for voluntary disruptions."""
    return k8s.policy.v1.PodDisruptionBudgetSpecArgs(
        max_unavailable=1,
        selector=meta.LabelSelectorArgs(match_labels=selector(app_name)),
        # A pod that is not ready serves nothing: never let it block a node drain.
        unhealthy_pod_eviction_policy="AlwaysAllow",
    )


def _ports(*ports: tuple[str, int]) -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
    return [k8s.networking.v1.NetworkPolicyPortArgs(protocol=p, port=n) for p, n in ports]


def default_deny_spec() -> k8s.networking.v1.NetworkPolicySpecArgs:
    """Deny all ingress and egress in the namespace unless another policy allows it."""
    return k8s.networking.v1.NetworkPolicySpecArgs(
        pod_selector=meta.LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
    )


def _peer(peer: NetworkPeer) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """The pods of one namespace (those with ``pod_labels`` only, when given)."""
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=meta.LabelSelectorArgs(
            match_labels={NAMESPACE_NAME_LABEL: peer.namespace}
        ),
        pod_selector=(
            meta.LabelSelectorArgs(match_labels=dict(peer.pod_labels)) if peer.pod_labels else None
        ),
    )


def _ip_blocks(cidrs: Sequence[str]) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    return [
        k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))
        for cidr in cidrs
    ]


def server_network_spec(
    app_name: str,
    traffic_sources: Sequence[NetworkPeer],
    metrics_scrapers: Sequence[NetworkPeer],
    vpc_cidr: pulumi.Input[str],
    s3_cidr_blocks: pulumi.Input[Sequence[str]],
) -> k8s.networking.v1.NetworkPolicySpecArgs:
    """The server: port 8080 only from the pods that route traffic and those that scrape
    ``/metrics``; egress only to DNS (kube-dns) and to HTTPS in the VPC (the interface
    endpoints: STS for IRSA) and in S3's ranges (the gateway endpoint's prefix list, which a
    NetworkPolicy cannot name), nothing on the internet."""
    net = k8s.networking.v1
    serving = _ports(("TCP", SERVING_PORT))
    ingress = [
        net.NetworkPolicyIngressRuleArgs(from_=[_peer(p) for p in peers], ports=serving)
        for peers in (traffic_sources, metrics_scrapers)
        if peers
    ]
    https_to = pulumi.Output.all(vpc_cidr, s3_cidr_blocks).apply(
        lambda cidrs: _ip_blocks([cidrs[0], *cidrs[1]])
    )
    return net.NetworkPolicySpecArgs(
        pod_selector=meta.LabelSelectorArgs(match_labels=selector(app_name)),
        policy_types=["Ingress", "Egress"],
        ingress=ingress,
        egress=[
            net.NetworkPolicyEgressRuleArgs(
                to=[
                    net.NetworkPolicyPeerArgs(
                        namespace_selector=meta.LabelSelectorArgs(
                            match_labels={NAMESPACE_NAME_LABEL: DNS_NAMESPACE}
                        ),
                        pod_selector=meta.LabelSelectorArgs(match_labels=DNS_POD_LABELS),
                    )
                ],
                ports=_ports(("UDP", 53), ("TCP", 53)),
            ),
            net.NetworkPolicyEgressRuleArgs(to=https_to, ports=_ports(("TCP", 443))),
        ],
    )
