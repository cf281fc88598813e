"""Kubernetes serving: the model server on EKS, rolled out by the stack's rollout policy.

Declares a namespace (Pod Security Standard ``restricted`` enforced), a service account bound
to an IAM role through IRSA (read the model artifact and nothing else), the workload (an Argo
Rollouts ``Rollout`` with canary steps from :mod:`infra.rollout` and a Prometheus analysis that
aborts and rolls back, or a plain ``Deployment`` for rolling and all-at-once), stable and
canary Services, a HorizontalPodAutoscaler (autoscaling/v2), a PodDisruptionBudget and
NetworkPolicies (default deny; ingress only to the serving port).

The pod follows the serving image's contract: the server listens on 8080 (``PORT`` /
``SAGEMAKER_BIND_TO_PORT``), runs as ``serve``, answers ``GET /ping`` once the model is loaded
and exposes Prometheus metrics on ``GET /metrics``; the model is read from ``/opt/ml/model``
(``MODEL_DIR``), where init containers put it: an aws-cli container copies the artifact from
S3, and a ``.tar.gz`` artifact is unpacked by the serving image's own Python.

The object builders are pure functions of plain values (or Pulumi inputs) so that what the
cluster receives can be read, tested and rendered (``mlstack render-k8s``) without a cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.components.cluster import irsa_trust_policy
from infra.config.rollout import RollbackMetric, RolloutPolicy
from infra.rollout import KubernetesStrategy, compile_argo_canary, compile_kubernetes_strategy

SERVING_PORT = 8080
"""The serving image's port (SageMaker's contract)."""
MODEL_DIR = "/opt/ml/model"
"""Where the serving image reads the model (``MODEL_DIR``)."""
RUN_AS_USER = 10001
"""UID and GID of every container: non-root, above the host's system and user ranges."""
CANARY_HASH_ARG = "canary-hash"
"""Analysis argument: the pod-template hash of the canary ReplicaSet."""

CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": RUN_AS_USER,
    "runAsGroup": RUN_AS_USER,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
POD_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS_USER,
    "runAsGroup": RUN_AS_USER,
    "fsGroup": RUN_AS_USER,
    "seccompProfile": {"type": "RuntimeDefault"},
}
INIT_RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
    "limits": {"cpu": "500m", "memory": "512Mi", "ephemeral-storage": "256Mi"},
}
UNPACK_SCRIPT = (
    "import sys, tarfile\n"
    "with tarfile.open(sys.argv[1]) as archive:\n"
    "    archive.extractall(sys.argv[2], filter='data')\n"
)
"""Unpacks model.tar.gz with the serving image's Python; the ``data`` filter refuses links
and paths that leave the target directory."""


@dataclass(frozen=True)
class KubernetesServingArgs:
    """Inputs of :class:`KubernetesServing`."""

    policy: RolloutPolicy
    """The stack's rollout policy (``mlstack:rollout``). Required."""
    image: pulumi.Input[str]
    """Serving image reference, ``<repo>@sha256:...`` or ``<repo>:<tag>``. Required."""
    image_pinned_by_digest: bool
    """Whether ``image`` carries a digest (then pulled if not present, else always). Required."""
    model_bucket: pulumi.Input[str]
    """Bucket holding the model artifact. Required."""
    model_key: str
    """Key of the artifact (``.tar.gz``) or prefix (ending in ``/``). Required."""
    kms_key_arn: pulumi.Input[str]
    """KMS key the artifact is encrypted with (decrypt through S3 only). Required."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider. Required."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL. Required."""
    model_fetcher_image: str
    """aws-cli image reference for the fetch init container. Required."""
    namespace: str = "mlstack-serving"
    """Namespace of every serving object. Default mlstack-serving."""
    app_name: str = "model-server"
    """Name of the workload, services and policies. Default model-server."""
    min_replicas: int = 2
    """HorizontalPodAutoscaler minimum. Default 2."""
    max_replicas: int = 6
    """HorizontalPodAutoscaler maximum. Default 6."""
    target_cpu_utilization_percent: int = 70
    """CPU target, percent of the request. Default 70."""
    cpu_request: str = "500m"
    """Default 500m."""
    cpu_limit: str = "1"
    """Default 1."""
    memory_request: str = "1Gi"
    """Default 1Gi."""
    memory_limit: str = "1Gi"
    """Default 1Gi."""
    model_volume_size: str = "2Gi"
    """Size limit of the model volume. Default 2Gi."""
    workers: int | None = None
    """Server worker processes; none lets the server use its CPU limit. Default none."""
    drain_seconds: int = 10
    """preStop pause before SIGTERM, seconds. Default 10."""
    graceful_timeout_seconds: int = 20
    """In-flight requests' time after SIGTERM, seconds. Default 20."""
    prometheus_address: str = "http://prometheus-server.monitoring.svc.cluster.local"
    """Prometheus the canary analysis queries. Default the prometheus-community server."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for the IAM role. Default none."""


# ---------------------------------------------------------------------------------------------
# Pure builders
# ---------------------------------------------------------------------------------------------


def labels(app_name: str) -> dict[str, str]:
    """Labels on every serving object."""
    return {
        "app.kubernetes.io/name": app_name,
        "app.kubernetes.io/component": "model-server",
        "app.kubernetes.io/part-of": "mlstack",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector(app_name: str) -> dict[str, str]:
    """The pod selector of the workload, services and policies."""
    return {"app.kubernetes.io/name": app_name}


def metadata(name: str, namespace: str | None, app_name: str, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels(app_name), **extra}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def pulled_by_digest(image: str) -> bool:
    return "@sha256:" in image


def model_read_policy(bucket: str, key: str, kms_key_arn: str, region: str) -> str:
    """Read the model artifact (one object, or the objects under one prefix) and nothing
    else; decrypt with the stack key only on S3's behalf."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadModelArtifact",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{key}" + ("*" if key.endswith("/") else ""),
        }
    ]
    if key.endswith("/"):
        statements.append(
            {
                "Sid": "ListModelPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": [f"{key}*"]}},
            }
        )
    statements.append(
        {
            "Sid": "DecryptModelArtifactThroughS3",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        }
    )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def _http_probe(period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": "/ping", "port": "http", "scheme": "HTTP"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def init_containers(
    *,
    fetcher_image: str,
    serving_image: Any,
    source_uri: Any,
    region: Any,
    unpack: bool,
) -> list[dict[str, Any]]:
    """Copy the model from S3 into the pod (and unpack a ``.tar.gz``) before the server
    starts."""
    target = "/model-archive/model.tar.gz" if unpack else MODEL_DIR
    copy = ["s3", "cp", source_uri, target, "--only-show-errors"]
    if not unpack:
        copy.insert(2, "--recursive")
    fetch = {
        "name": "fetch-model",
        "image": fetcher_image,
        "imagePullPolicy": "IfNotPresent" if pulled_by_digest(fetcher_image) else "Always",
        "command": ["aws"],
        "args": copy,
        "env": [
            {"name": "HOME", "value": "/tmp"},
            {"name": "AWS_REGION", "value": region},
            {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
        ],
        "resources": INIT_RESOURCES,
        "securityContext": CONTAINER_SECURITY_CONTEXT,
        "volumeMounts": [
            {"name": "model-archive", "mountPath": "/model-archive"}
            if unpack
            else {"name": "model", "mountPath": MODEL_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    if not unpack:
        return [fetch]
    unpack_container = {
        "name": "unpack-model",
        "image": serving_image,
        "command": ["python3", "-c", UNPACK_SCRIPT, "/model-archive/model.tar.gz", MODEL_DIR],
        "resources": INIT_RESOURCES,
        "securityContext": CONTAINER_SECURITY_CONTEXT,
        "volumeMounts": [
            {"name": "model-archive", "mountPath": "/model-archive", "readOnly": True},
            {"name": "model", "mountPath": MODEL_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    return [fetch, unpack_container]


def pod_template(
    args: KubernetesServingArgs,
    *,
    image: Any,
    pulled_by_tag_only: bool,
    source_uri: Any,
    region: Any,
    hash_label: str,
) -> dict[str, Any]:
    """The hardened pod template of the workload."""
    unpack = not args.model_key.endswith("/")
    env: list[dict[str, Any]] = [
        {"name": "PORT", "value": str(SERVING_PORT)},
        {"name": "SAGEMAKER_BIND_TO_PORT", "value": str(SERVING_PORT)},
        {"name": "MODEL_DIR", "value": MODEL_DIR},
        {"name": "SERVING_GRACEFUL_TIMEOUT_SECONDS", "value": str(args.graceful_timeout_seconds)},
    ]
    if args.workers is not None:
        env.append({"name": "SAGEMAKER_MODEL_SERVER_WORKERS", "value": str(args.workers)})
    server: dict[str, Any] = {
        "name": "model-server",
        "image": image,
        "imagePullPolicy": "Always" if pulled_by_tag_only else "IfNotPresent",
        "args": ["serve"],
        "ports": [{"name": "http", "containerPort": SERVING_PORT, "protocol": "TCP"}],
        "env": env,
        "resources": {
            "requests": {"cpu": args.cpu_request, "memory": args.memory_request},
            "limits": {"cpu": args.cpu_limit, "memory": args.memory_limit},
        },
        "securityContext": CONTAINER_SECURITY_CONTEXT,
        "volumeMounts": [
            {"name": "model", "mountPath": MODEL_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
        # Up to 5 minutes to load a large model before liveness takes over.
        "startupProbe": _http_probe(period=5, failures=60),
        "readinessProbe": _http_probe(period=5, failures=2),
        "livenessProbe": _http_probe(period=10, failures=3),
    }
    if args.drain_seconds:
        # Keep serving while endpoints and kube-proxy stop routing new requests here.
        server["lifecycle"] = {"preStop": {"sleep": {"seconds": args.drain_seconds}}}
    volumes: list[dict[str, Any]] = [
        {"name": "model", "emptyDir": {"sizeLimit": args.model_volume_size}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
    ]
    if unpack:
        volumes.append({"name": "model-archive", "emptyDir": {"sizeLimit": args.model_volume_size}})
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": selector(args.app_name)},
            "matchLabelKeys": [hash_label],
        }
        for key, when in (
            ("topology.kubernetes.io/zone", "DoNotSchedule"),
            ("kubernetes.io/hostname", "ScheduleAnyway"),
        )
    ]
    return {
        "metadata": {
            "labels": labels(args.app_name),
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(SERVING_PORT),
                "prometheus.io/path": "/metrics",
            },
        },
        "spec": {
            "serviceAccountName": args.app_name,
            # IRSA mounts its own projected token; the Kubernetes API token is not needed.
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": POD_SECURITY_CONTEXT,
            "terminationGracePeriodSeconds": args.drain_seconds + args.graceful_timeout_seconds + 5,
            "topologySpreadConstraints": spread,
            "initContainers": init_containers(
                fetcher_image=args.model_fetcher_image,
                serving_image=image,
                source_uri=source_uri,
                region=region,
                unpack=unpack,
            ),
            "containers": [server],
            "volumes": volumes,
        },
    }


def canary_service_name(app_name: str) -> str:
    return f"{app_name}-canary"


def analysis_template_name(app_name: str) -> str:
    return f"{app_name}-analysis"


def argo_canary(policy: RolloutPolicy, app_name: str) -> dict[str, Any]:
    """``spec.strategy.canary`` of the Rollout: the compiled core from :mod:`infra.rollout`
    (steps, surge-only, background analysis from the first bake), replica-weighted through
    the stable and canary Services, with the canary's pod-template hash passed to the
    analysis."""
    canary = compile_argo_canary(policy, analysis_template_name(app_name))
    canary["analysis"]["args"] = [
        {"name": CANARY_HASH_ARG, "valueFrom": {"podTemplateHashValue": "Latest"}}
    ]
    return {
        "stableService": app_name,
        "canaryService": canary_service_name(app_name),
        **canary,
    }


def _rate(metric: str, matchers: str) -> str:
    return f"sum(rate({metric}{{{matchers}}}[2m]))"


def analysis_query(metric: RollbackMetric, namespace: str) -> str:
    """PromQL for one rollback metric over the canary's pods, in the unit of its threshold
    (milliseconds or percent of invocations). No traffic reads as 0, not as a failure."""
    pods = f'namespace="{namespace}",rollouts_pod_template_hash="{{{{args.{CANARY_HASH_ARG}}}}}"'
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


def analysis_template(policy: RolloutPolicy, namespace: str, app_name: str, address: str) -> dict:
    """One metric per rollback alarm of the policy, measured every minute on the canary's
    pods; ``evaluationPeriods`` failed measurements fail the analysis, which aborts the
    rollout (the stable ReplicaSet takes all traffic back)."""
    metrics = [
        {
            "name": alarm.metric.value,
            "interval": "60s",
            "failureLimit": alarm.evaluation_periods - 1,
            "successCondition": f"result[0] <= {alarm.threshold:g}",
            "provider": {
                "prometheus": {
                    "address": address,
                    "query": analysis_query(alarm.metric, namespace),
                }
            },
        }
        for alarm in policy.rollback_alarms
    ]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": metadata(analysis_template_name(app_name), namespace, app_name),
        "spec": {"args": [{"name": CANARY_HASH_ARG}], "metrics": metrics},
    }


def workload(
    strategy: KubernetesStrategy,
    policy: RolloutPolicy,
    namespace: str,
    app_name: str,
    template: dict[str, Any],
) -> dict[str, Any]:
    """The Rollout (canary, linear) or Deployment (rolling, all-at-once). No ``replicas``:
    the HorizontalPodAutoscaler owns the count."""
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector(app_name)},
        "template": template,
        "revisionHistoryLimit": 5,
        "progressDeadlineSeconds": strategy.progress_deadline_seconds,
    }
    if strategy.kind == "Rollout":
        spec["progressDeadlineAbort"] = strategy.progress_deadline_abort
        spec["strategy"] = {"canary": argo_canary(policy, app_name)}
        api_version = "argoproj.io/v1alpha1"
    else:
        spec["strategy"] = strategy.strategy
        api_version = "apps/v1"
    return {
        "apiVersion": api_version,
        "kind": strategy.kind,
        "metadata": metadata(app_name, namespace, app_name),
        "spec": spec,
    }


def service(name: str, namespace: str, app_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(name, namespace, app_name),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(app_name),
            "ports": [
                {"name": "http", "port": SERVING_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def autoscaler(args: KubernetesServingArgs, workload_obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(args.app_name, args.namespace, args.app_name),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": workload_obj["apiVersion"],
                "kind": workload_obj["kind"],
                "name": args.app_name,
            },
            "minReplicas": args.min_replicas,
            "maxReplicas": args.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": args.target_cpu_utilization_percent,
                        },
                    },
                }
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def disruption_budget(namespace: str, app_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(app_name, namespace, app_name),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector(app_name)},
            # A pod that is not ready serves nothing: never let it block a node drain.
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def network_policies(namespace: str, app_name: str) -> list[dict[str, Any]]:
    """Default deny for the namespace, then the server: ingress to 8080 only; egress to DNS
    and HTTPS (S3, STS through endpoints or NAT)."""
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata("default-deny", namespace, app_name),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    server = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(app_name, namespace, app_name),
        "spec": {
            "podSelector": {"matchLabels": selector(app_name)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": SERVING_PORT}]}],
            "egress": [
                {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                {"ports": [{"protocol": "TCP", "port": 443}]},
            ],
        },
    }
    return [deny, server]


def namespace_object(namespace: str, app_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": namespace,
            "labels": {
                **labels(app_name),
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            },
        },
    }


def service_account(namespace: str, app_name: str, role_arn: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(
            app_name,
            namespace,
            app_name,
            annotations={
                "eks.amazonaws.com/role-arn": role_arn,
                "eks.amazonaws.com/sts-regional-endpoints": "true",
            },
        ),
        "automountServiceAccountToken": False,
    }


# ---------------------------------------------------------------------------------------------
# Component
# ---------------------------------------------------------------------------------------------


class KubernetesServing(pulumi.ComponentResource):
    """The model server on EKS: every object above, each through the cluster's provider
    (``opts.provider``); the workload waits for ``opts.depends_on`` (the Argo Rollouts
    release that installs the CRDs, or the cluster's nodes).

    Outputs: ``namespace``, ``workload_kind``, ``stable_service``, ``role_arn``.
    """

    def __init__(
        self, name: str, args: KubernetesServingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:k8s_serving:KubernetesServing", name, None, opts)
        # The workload (and its analysis) wait for these: the Rollout CRDs, or ready nodes.
        waits_for = list(opts.depends_on or []) if opts else []  # type: ignore[arg-type]
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        ns, app = args.namespace, args.app_name
        self.namespace = ns

        role = aws.iam.Role(
            f"{name}-model-reader",
            description=f"Pods of {ns}/{app}: read the model artifact",
            assume_role_policy=pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
                lambda parts: irsa_trust_policy(parts[0], parts[1], ns, app)
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-model-reader",
            role=role.id,
            policy=pulumi.Output.all(args.model_bucket, args.kms_key_arn, region).apply(
                lambda parts: model_read_policy(parts[0], args.model_key, parts[1], parts[2])
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        k8s_opts = pulumi.ResourceOptions(parent=self)
        namespace = self._declare(f"{name}-namespace", namespace_object(ns, app), k8s_opts)
        in_namespace = pulumi.ResourceOptions.merge(
            k8s_opts, pulumi.ResourceOptions(depends_on=[namespace])
        )
        self._declare(f"{name}-service-account", service_account(ns, app, role.arn), in_namespace)

        strategy = compile_kubernetes_strategy(args.policy)
        rollout = strategy.kind == "Rollout"
        self.workload_kind = strategy.kind
        image = args.image
        template = pod_template(
            args,
            image=image,
            pulled_by_tag_only=not args.image_pinned_by_digest,
            source_uri=pulumi.Output.concat("s3://", args.model_bucket, "/", args.model_key),
            region=region,
            hash_label="rollouts-pod-template-hash" if rollout else "pod-template-hash",
        )
        workload_obj = workload(strategy, args.policy, ns, app, template)
        after_crds = pulumi.ResourceOptions.merge(
            in_namespace, pulumi.ResourceOptions(depends_on=[namespace, *waits_for])
        )
        if rollout:
            self._declare(
                f"{name}-analysis",
                analysis_template(args.policy, ns, app, args.prometheus_address),
                after_crds,
            )
        self._declare(f"{name}-workload", workload_obj, after_crds)
        self._declare(f"{name}-stable", service(app, ns, app), in_namespace)
        if rollout:
            self._declare(
                f"{name}-canary", service(canary_service_name(app), ns, app), in_namespace
            )
        self._declare(f"{name}-autoscaler", autoscaler(args, workload_obj), in_namespace)
        self._declare(f"{name}-disruption-budget", disruption_budget(ns, app), in_namespace)
        for policy in network_policies(ns, app):
            suffix = "default-deny" if policy["metadata"]["name"] == "default-deny" else "ingress"
            self._declare(f"{name}-network-{suffix}", policy, in_namespace)

        self.register_outputs(
            {
                "namespace": ns,
                "workload_kind": strategy.kind,
                "stable_service": app,
                "role_arn": role.arn,
            }
        )

    @staticmethod
    def _declare(
        resource_name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions
    ) -> pulumi.CustomResource:
        """Declare one object through its typed class (custom kinds: CustomResource)."""
        kind, meta = obj["kind"], obj["metadata"]
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        if kind == "Namespace":
            return k8s.core.v1.Namespace(resource_name, metadata=meta, opts=opts)
        if kind == "ServiceAccount":
            return k8s.core.v1.ServiceAccount(
                resource_name,
                metadata=meta,
                automount_service_account_token=body["automountServiceAccountToken"],
                opts=opts,
            )
        typed = {
            ("v1", "Service"): k8s.core.v1.Service,
            ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
            (
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
            ): k8s.autoscaling.v2.HorizontalPodAutoscaler,
            ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
            ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
        }.get((obj["apiVersion"], kind))
        if typed is not None:
            return typed(resource_name, metadata=meta, spec=body["spec"], opts=opts)
        return k8s.apiextensions.CustomResource(
            resource_name,
            api_version=obj["apiVersion"],
            kind=kind,
            metadata=meta,
            spec=body["spec"],
            opts=opts,
        )
