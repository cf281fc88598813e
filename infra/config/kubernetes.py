"""``mlstack:kubernetes``: the model server on EKS (used when ``mlstack:eks`` is enabled).

Split in two: :class:`KubernetesWorkloadConfig` is one model's workload (namespace, image,
artifact, replicas, resources), per model under ``mlstack:models.<name>.kubernetes``;
:class:`KubernetesPlatformConfig` is what every workload of the cluster shares (the
Prometheus the canary analysis queries, the model fetcher image). A single-model stack's
``mlstack:kubernetes`` holds both (:class:`KubernetesServingConfig`).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel

from infra.config.types import (
    DnsLabel,
    FieldError,
    HttpUrl,
    ImageDigest,
    ImageReference,
    ImageTag,
    LabelKey,
    LabelValue,
    NamespaceName,
    Quantity,
    S3Key,
    S3VersionId,
    Section,
    Sha256Hex,
    quantity_value,
    raise_all,
)

CLUSTER_SERVICE_HOST = re.compile(r"[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.cluster\.local)?")
"""``<service>.<namespace>.svc[.cluster.local]``: a Service inside the cluster."""


class NetworkPeerConfig(Section):
    """Pods allowed to reach the server's port 8080: every pod of ``namespace``, or only those
    carrying ``podLabels``."""

    namespace: NamespaceName
    """Namespace of the pods. Required."""
    pod_labels: Annotated[dict[LabelKey, LabelValue], Field(max_length=10)] = {}
    """Labels the pods must carry (all of them). Default none: every pod of the namespace."""


DEFAULT_TRAFFIC_SOURCES = (
    NetworkPeerConfig(
        namespace="ingress-nginx", pod_labels={"app.kubernetes.io/name": "ingress-nginx"}
    ),
)


class KubernetesWorkloadConfig(Section):
    """One model's workload on EKS: ``mlstack:models.<name>.kubernetes`` (or, in a
    single-model stack, part of ``mlstack:kubernetes``)."""

    namespace: DnsLabel = "mlstack-serving"
    """Namespace of the serving objects. Default mlstack-serving."""
    app_name: DnsLabel = "model-server"
    """Name of the workload, its services and policies. Default model-server."""
    image_tag: ImageTag | None = None
    """Tag of the serving image in the stack's ECR repository. Default none."""
    image_digest: ImageDigest | None = None
    """``sha256:`` digest of the serving image; pins it (wins over the tag). Production
    requires it. Default none."""
    model_artifact: S3Key = "models/model.tar.gz"
    """Model artifact: a key in the artifacts bucket or an ``s3://`` URI. A ``.tar.gz`` is
    unpacked into /opt/ml/model; a prefix ending in ``/`` is copied as is (and cannot be
    pinned). The pod's IAM role may read this and nothing else. Default models/model.tar.gz."""
    model_version: Annotated[int, Field(ge=1)] | None = None
    """Version of the registry's model package that modelArtifact and imageDigest come from,
    recorded on the workload as the label ``mlstack.io/model-version`` (``mlstack model
    promote`` writes all three with mlstack:model.packageVersion). Default none: the
    workload records no version, which the policy pack reports when SageMaker serves a
    package version beside it."""
    model_artifact_sha256: Sha256Hex | None = None
    """sha256 of the ``.tar.gz`` artifact (the model package's digest; ``sha256sum`` prints
    it). The pod refuses to start when the fetched file differs. Production requires this or
    modelArtifactVersionId. Default none."""
    model_artifact_version_id: S3VersionId | None = None
    """S3 version id of the ``.tar.gz`` artifact: the pod fetches that version only, and its
    IAM role may read no other. Production requires this or modelArtifactSha256. Default
    none."""
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    """Fewest pods (HorizontalPodAutoscaler minimum, 1-100). Default 2; production needs 2."""
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 6
    """Most pods (HorizontalPodAutoscaler maximum, 1-100). Default 6."""
    target_cpu_utilization_percent: Annotated[int, Field(ge=10, le=100)] = 70
    """Average CPU use, in percent of the request, that autoscaling aims for (10-100).
    Default 70."""
    cpu_request: Quantity = "500m"
    """CPU reserved per pod. Default 500m."""
    cpu_limit: Quantity = "1"
    """CPU cap per pod, at least cpuRequest. Default 1."""
    memory_request: Quantity = "1Gi"
    """Memory reserved per pod. Default 1Gi."""
    memory_limit: Quantity = "1Gi"
    """Memory cap per pod (OOM-kill above), at least memoryRequest. Default 1Gi."""
    model_volume_size: Quantity = "2Gi"
    """Size limit of the in-pod volume the model is copied to. Default 2Gi."""
    workers: Annotated[int, Field(ge=1, le=64)] | None = None
    """Server worker processes (``SAGEMAKER_MODEL_SERVER_WORKERS``). Default none: the
    server uses the CPUs its limit allows."""
    drain_seconds: Annotated[int, Field(ge=0, le=120)] = 10
    """Pause before SIGTERM, so load balancers and kube-proxy stop sending new requests,
    in seconds. Default 10."""
    graceful_timeout_seconds: Annotated[int, Field(ge=1, le=300)] = 20
    """Time in-flight requests get after SIGTERM (``SERVING_GRACEFUL_TIMEOUT_SECONDS``), in
    seconds. Default 20."""

    @property
    def artifact_pinned(self) -> bool:
        """Whether the artifact is pinned by a sha256 or an S3 version id."""
        return self.model_artifact_sha256 is not None or self.model_artifact_version_id is not None

    @model_validator(mode="after")
    def _check_serving(self) -> KubernetesWorkloadConfig:
        errors: list[FieldError] = []
        if self.min_replicas > self.max_replicas:
            errors.append(
                FieldError(
                    "maxReplicas", self.max_replicas, f"at least minReplicas ({self.min_replicas})"
                )
            )
        if self.image_tag == "latest":
            errors.append(FieldError("imageTag", "latest", "a release tag; ECR tags are immutable"))
        if not self.model_artifact.endswith((".tar.gz", "/")):
            errors.append(
                FieldError(
                    "modelArtifact", self.model_artifact, "a .tar.gz file or a prefix ending in /"
                )
            )
        if self.model_artifact.endswith("/"):
            for key in ("model_artifact_sha256", "model_artifact_version_id"):
                if getattr(self, key) is not None:
                    errors.append(
                        FieldError(
                            to_camel(key),
                            getattr(self, key),
                            "pins one .tar.gz artifact: modelArtifact is a prefix",
                        )
                    )
        for resource in ("cpu", "memory"):
            request = getattr(self, f"{resource}_request")
            limit = getattr(self, f"{resource}_limit")
            if quantity_value(limit) < quantity_value(request):
                errors.append(
                    FieldError(
                        f"{resource}Limit",
                        limit,
                        f"at least {resource}Request ({request}): Kubernetes refuses a pod "
                        "whose limit is below its request",
                    )
                )
        raise_all(errors)
        return self


def prometheus_namespace(address: str) -> str | None:
    """The namespace of a Prometheus reached as ``http://<service>.<namespace>.svc...``;
    None for an address outside the cluster."""
    host = address.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    match = CLUSTER_SERVICE_HOST.fullmatch(host)
    return match.group(1) if match else None


class KubernetesPlatformConfig(Section):
    """What every model's workload on the cluster shares: ``mlstack:kubernetes`` in a stack
    with ``mlstack:models``."""

    prometheus_address: HttpUrl = "http://prometheus-server.monitoring.svc.cluster.local"
    """Prometheus that scrapes the pods; the canary analysis queries it. Default the
    prometheus-community chart's server in namespace monitoring."""
    model_fetcher_image: ImageReference = "public.ecr.aws/aws-cli/aws-cli:2.27.9"
    """aws-cli image of the init container that copies the model from S3. Default
    public.ecr.aws/aws-cli/aws-cli:2.27.9 (mirror it when the VPC has no NAT)."""
    model_fetcher_image_digest: ImageDigest | None = None
    """``sha256:`` digest pinning that image. Production requires it. Default none."""
    traffic_sources: Annotated[list[NetworkPeerConfig], Field(max_length=10)] = list(
        DEFAULT_TRAFFIC_SOURCES
    )
    """Pods that route requests to the servers (port 8080), as ``{namespace, podLabels}``
    (0-10); nothing else in the cluster may connect. Default the ingress-nginx controller:
    namespace ingress-nginx, pods labelled app.kubernetes.io/name: ingress-nginx."""
    metrics_scrapers: Annotated[list[NetworkPeerConfig], Field(max_length=10)] | None = None
    """Pods that scrape ``/metrics`` on port 8080, as ``{namespace, podLabels}`` (0-10).
    Default none: every pod of prometheusAddress's namespace (monitoring for the default
    address); required when prometheusAddress is not a Service in the cluster."""

    @property
    def scrapers(self) -> tuple[NetworkPeerConfig, ...]:
        """metricsScrapers, or every pod of the namespace prometheusAddress names."""
        if self.metrics_scrapers is not None:
            return tuple(self.metrics_scrapers)
        namespace = prometheus_namespace(self.prometheus_address)
        return (NetworkPeerConfig(namespace=namespace),) if namespace else ()

    @model_validator(mode="after")
    def _check_scrapers(self) -> KubernetesPlatformConfig:
        if self.metrics_scrapers is None and not prometheus_namespace(self.prometheus_address):
            raise_all(
                [
                    FieldError(
                        "metricsScrapers",
                        None,
                        "name the pods that scrape /metrics: prometheusAddress "
                        f"({self.prometheus_address}) is not a Service in the cluster",
                    )
                ]
            )
        return self


class KubernetesServingConfig(KubernetesPlatformConfig, KubernetesWorkloadConfig):
    """``mlstack:kubernetes``: the model server on EKS (used when ``mlstack:eks`` is enabled)."""


WORKLOAD_FIELDS = tuple(KubernetesWorkloadConfig.model_fields)
"""Attribute names of the per-model part of ``mlstack:kubernetes``."""
