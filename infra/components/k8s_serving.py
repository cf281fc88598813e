"""Kubernetes serving: the model server on EKS, rolled out by the compiled rollout strategy.

Declares a namespace (Pod Security Standard ``restricted`` enforced), a service account bound
to an IAM role through IRSA (read the model artifact and nothing else), the workload (an Argo
Rollouts ``Rollout`` with canary steps and a Prometheus analysis that aborts and rolls back,
or a plain ``Deployment`` for rolling and all-at-once), stable and canary Services, a
HorizontalPodAutoscaler (autoscaling/v2), a PodDisruptionBudget and NetworkPolicies (default
deny; the serving port only from the pods that route traffic and scrape metrics; egress only
to DNS and to HTTPS in the VPC and S3). The artifact is fetched by its pinned S3 version and
checked against its pinned sha256 where the stack gives them. What each object holds is built by
:mod:`infra.components.k8s_manifests`; this module only declares resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.components import k8s_manifests as manifests
from infra.components.cluster import irsa_trust_policy
from infra.components.errors import ResourceError
from infra.components.iam import policy_document, role_with_inline_policy
from infra.components.interpolation import concat
from infra.components.s3 import object_arn, s3_uri
from infra.rollout import KubernetesStrategy


@dataclass(frozen=True)
class KubernetesServingArgs:
    """Inputs of :class:`KubernetesServing`. The stack config supplies every value but the
    tags. Quantities are Kubernetes strings (``500m``, ``1Gi``); times are seconds."""

    strategy: KubernetesStrategy
    """The rollout strategy compiled by ``infra/rollout.py`` (Rollout or Deployment)."""
    partition: pulumi.Input[str]
    """AWS partition of the account (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    image: pulumi.Input[str]
    """Serving image reference, ``<repo>@sha256:...`` or ``<repo>:<tag>``."""
    image_pinned_by_digest: bool
    """Whether ``image`` carries a digest (then pulled if not present, else always)."""
    model_bucket: pulumi.Input[str]
    """Bucket holding the model artifact."""
    model_key: str
    """Key of the artifact (``.tar.gz``) or prefix (ending in ``/``)."""
    model_artifact_sha256: str | None
    """sha256 (64 hex digits) the ``.tar.gz`` must have before it is unpacked; none skips the
    check."""
    model_artifact_version_id: str | None
    """S3 version id of the ``.tar.gz`` to fetch (and the only one the pods may read); none
    fetches the current object."""
    kms_key_arn: pulumi.Input[str]
    """KMS key the artifact is encrypted with (decrypt through S3 only)."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    model_fetcher_image: str
    """aws-cli image reference for the fetch init container."""
    namespace: str
    """Namespace of every serving object, e.g. ``mlstack-serving``."""
    app_name: str
    """Name of the workload, services and policies, e.g. ``model-server``."""
    min_replicas: int
    """HorizontalPodAutoscaler minimum."""
    max_replicas: int
    """HorizontalPodAutoscaler maximum."""
    target_cpu_utilization_percent: int
    """CPU target, percent of the request."""
    cpu_request: str
    """CPU the scheduler reserves for the server, e.g. ``500m``; the autoscaler's 100%."""
    cpu_limit: str
    """CPU the server may use at most, e.g. ``1``."""
    memory_request: str
    """Memory reserved for the server, e.g. ``1Gi``."""
    memory_limit: str
    """Memory the server may use at most (OOM-killed beyond), e.g. ``1Gi``."""
    model_volume_size: str
    """Size limit of the model volume."""
    workers: int | None
    """Server worker processes; none lets the server use its CPU limit."""
    drain_seconds: int
    """preStop pause before SIGTERM, seconds; 0 skips it."""
    graceful_timeout_seconds: int
    """In-flight requests' time after SIGTERM, seconds."""
    prometheus_address: str
    """Prometheus the canary analysis queries (Rollout only)."""
    traffic_sources: tuple[manifests.NetworkPeer, ...]
    """Pods that may connect to the serving port to route requests."""
    metrics_scrapers: tuple[manifests.NetworkPeer, ...]
    """Pods that may connect to the serving port to scrape ``/metrics``."""
    vpc_cidr: pulumi.Input[str]
    """The VPC's range, where the interface endpoints (STS) live: HTTPS egress allowed."""
    s3_cidr_blocks: pulumi.Input[Sequence[str]]
    """S3's ranges (the gateway endpoint's prefix list): HTTPS egress allowed."""
    model_version: int | None = None
    """Model package version the artifact and image belong to, recorded as the label
    ``mlstack.io/model-version`` on the workload and its pods. Default none: not recorded."""
    model_name: str | None = None
    """The model's name in a stack of many models, recorded as the label ``mlstack.io/model``
    (the policy pack pairs the workload with that model's SageMaker path by it). Default
    none: a single-model stack."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for the IAM role. Default none."""


def model_read_policy(
    partition: pulumi.Input[str],
    bucket: pulumi.Input[str],
    key: str,
    kms_key_arn: pulumi.Input[str],
    region: pulumi.Input[str],
    version_id: str | None = None,
) -> pulumi.Output[str]:
    """Read the model artifact (one object, its pinned ``version_id`` only when given, or the
    objects under one prefix) and nothing else; decrypt with the stack key only on S3's
    behalf."""
    prefix = key.endswith("/")
    read: dict[str, Any] = {
        "Sid": "ReadModelArtifact",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": object_arn(partition, bucket, key + ("*" if prefix else "")),
    }
    if version_id is not None:
        read.update(
            Sid="ReadPinnedModelArtifactVersion",
            Action="s3:GetObjectVersion",
            Condition={"StringEquals": {"s3:VersionId": version_id}},
        )
    statements: list[dict[str, Any]] = [read]
    if prefix:
        statements.append(
            {
                "Sid": "ListModelPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": object_arn(partition, bucket),
                "Condition": {"StringLike": {"s3:prefix": [f"{key}*"]}},
            }
        )
    statements.append(
        {
            "Sid": "DecryptModelArtifactThroughS3",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": kms_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": concat("s3.", region, ".amazonaws.com")}
            },
        }
    )
    return policy_document(statements)


class KubernetesServing(pulumi.ComponentResource):
    """The model server on EKS, each object through the cluster's provider
    (``opts.provider``); the workload waits for ``opts.depends_on`` (the Argo Rollouts
    release that installs the CRDs, or the cluster's nodes).

    Raises :class:`ResourceError` when the replica bounds are inverted, a prefix artifact is
    pinned, or a Rollout strategy has no rollback checks to analyse.

    Outputs: ``namespace``, ``workload_kind``, ``stable_service``, ``role_arn``.
    """

    def __init__(
        self, name: str, args: KubernetesServingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlstack:k8s_serving:KubernetesServing", name, None, opts)
        if args.min_replicas > args.max_replicas:
            raise ResourceError(
                f"KubernetesServingArgs: min_replicas {args.min_replicas} is above "
                f"max_replicas {args.max_replicas}",
                self,
            )
        pins = (args.model_artifact_sha256, args.model_artifact_version_id)
        if args.model_key.endswith("/") and any(pin is not None for pin in pins):
            raise ResourceError(
                "KubernetesServingArgs: a sha256 or version id pins one .tar.gz, not a prefix",
                self,
            )
        if args.strategy.needs_argo_rollouts and not args.strategy.checks:
            raise ResourceError(
                "KubernetesServingArgs: a canary Rollout needs rollback checks to analyse", self
            )
        self._name, self._args = name, args
        # The workload (and its analysis) wait for these: the Rollout CRDs, or ready nodes.
        depends_on = opts.depends_on if opts else None
        waits_for = (
            [depends_on] if isinstance(depends_on, pulumi.Resource) else list(depends_on or [])  # type: ignore[arg-type]
        )
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self.namespace = args.namespace
        self.workload_kind = args.strategy.kind

        role = self._model_reader_role(region)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=manifests.namespace_metadata(args.namespace, args.app_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=manifests.service_account_metadata(args.namespace, args.app_name, role.arn),
            automount_service_account_token=False,
            opts=in_namespace,
        )
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[namespace, *waits_for])
        api_version = self._workload(region, after_crds)
        self._services_and_policies(api_version, in_namespace)

        self.register_outputs(
            {
                "namespace": args.namespace,
                "workload_kind": args.strategy.kind,
                "stable_service": args.app_name,
                "role_arn": role.arn,
            }
        )

    def _model_reader_role(self, region: pulumi.Output[str]) -> aws.iam.Role:
        args = self._args
        return role_with_inline_policy(
            f"{self._name}-model-reader",
            description=f"Pods of {args.namespace}/{args.app_name}: read the model artifact",
            trust_policy=irsa_trust_policy(
                args.oidc_provider_arn, args.oidc_issuer, args.namespace, args.app_name
            ),
            policy=model_read_policy(
                args.partition,
                args.model_bucket,
                args.model_key,
                args.kms_key_arn,
                region,
                args.model_artifact_version_id,
            ),
            tags=args.tags,
            parent=self,
        ).role

    def _workload(self, region: pulumi.Output[str], opts: pulumi.ResourceOptions) -> str:
        """Declare the Rollout (with its AnalysisTemplate) or the Deployment; return its
        apiVersion."""
        args, name, app = self._args, self._name, self._args.app_name
        strategy = args.strategy
        source_uri = s3_uri(args.model_bucket, args.model_key)
        meta = manifests.metadata(
            app, args.namespace, app, model_version=args.model_version, model_name=args.model_name
        )
        if not strategy.needs_argo_rollouts:
            template = manifests.pod_template(args, source_uri, region, "pod-template-hash")
            k8s.apps.v1.Deployment(
                f"{name}-workload",
                metadata=meta,
                spec=manifests.deployment_spec(strategy, app, template),
                opts=opts,
            )
            return "apps/v1"
        template = manifests.pod_template(args, source_uri, region, "rollouts-pod-template-hash")
        k8s.apiextensions.CustomResource(
            f"{name}-analysis",
            api_version=manifests.ARGO_API_VERSION,
            kind="AnalysisTemplate",
            metadata=manifests.metadata(manifests.analysis_template_name(app), args.namespace, app),
            spec=manifests.analysis_template_spec(
                strategy, args.namespace, args.prometheus_address
            ),
            opts=opts,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-workload",
            api_version=manifests.ARGO_API_VERSION,
            kind="Rollout",
            metadata=meta,
            spec=manifests.rollout_spec(strategy, app, template),
            opts=opts,
        )
        return manifests.ARGO_API_VERSION

    def _services_and_policies(self, api_version: str, opts: pulumi.ResourceOptions) -> None:
        args, name, app, ns = self._args, self._name, self._args.app_name, self._args.namespace
        k8s.core.v1.Service(
            f"{name}-stable",
            metadata=manifests.metadata(app, ns, app),
            spec=manifests.service_spec(app),
            opts=opts,
        )
        if args.strategy.needs_argo_rollouts:
            k8s.core.v1.Service(
                f"{name}-canary",
                metadata=manifests.metadata(manifests.canary_service_name(app), ns, app),
                spec=manifests.service_spec(app),
                opts=opts,
            )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-autoscaler",
            metadata=manifests.metadata(app, ns, app),
            spec=manifests.autoscaler_spec(
                api_version,
                args.strategy.kind,
                app,
                args.min_replicas,
                args.max_replicas,
                args.target_cpu_utilization_percent,
            ),
            opts=opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-disruption-budget",
            metadata=manifests.metadata(app, ns, app),
            spec=manifests.disruption_budget_spec(app),
            opts=opts,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-default-deny",
            metadata=manifests.metadata("default-deny", ns, app),
            spec=manifests.default_deny_spec(),
            opts=opts,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-ingress",
            metadata=manifests.metadata(app, ns, app),
            spec=manifests.server_network_spec(
                app, args.traffic_sources, args.metrics_scrapers, args.vpc_cidr, args.s3_cidr_blocks
            ),
            opts=opts,
        )
