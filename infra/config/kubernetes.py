"""``mlstack:kubernetes``: the model server on EKS (used when ``mlstack:eks`` is enabled).

Split in two: :class:`KubernetesWorkloadConfig` is one model's workload (namespace, image,
artifact, replicas, resources), per model under ``mlstack:models.<name>.kubernetes``;
:class:`KubernetesPlatformConfig` is what every workload of the cluster shares (the
Prometheus the canary analysis queries, the model fetcher image). A single-model stack's
``mlstack:kubernetes`` holds both (:class:`KubernetesServingConfig`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from infra.config.types import (
    DnsLabel,
    FieldError,
    HttpUrl,
    ImageDigest,
    ImageReference,
    ImageTag,
    Quantity,
    S3Key,
    Section,
    quantity_value,
    raise_all,
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
    unpacked into /opt/ml/model; a prefix ending in ``/`` is copied as is. The pod's IAM role
    may read this and nothing else. Default models/model.tar.gz."""
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


class KubernetesServingConfig(KubernetesPlatformConfig, KubernetesWorkloadConfig):
    """``mlstack:kubernetes``: the model server on EKS (used when ``mlstack:eks`` is enabled)."""


WORKLOAD_FIELDS = tuple(KubernetesWorkloadConfig.model_fields)
"""Attribute names of the per-model part of ``mlstack:kubernetes``."""
