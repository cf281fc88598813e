"""The mlstack Pulumi program: the stack's config, every top-level component, the exports.

Read top to bottom: config; the registry and the network every path uses; monitoring; the
SageMaker path of each model (endpoint, autoscaling, alarms, drift; or its inference
component on a shared fleet); each model's loop (retraining, batch, quality monitors); the EKS
path (cluster, Argo Rollouts, each model's Kubernetes serving); one dashboard with a row per
model, its loop alarms under it; then every stack output in one place.

A stack serves the models of ``mlstack:models`` or, in a single-model stack, the one of
``mlstack:model``; each model's components are named ``<model>-<component>`` (the
single-model names when the model has ``legacyNames``) and tagged ``mlstack:model``.
"""

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if not __package__:
    # The language host runs this directory as a script; make `infra` importable as a package.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
import pulumi_aws as aws

from infra.components.alarms import (
    EndpointAlarms,
    EndpointAlarmsArgs,
    operational_alarms,
    rollback_alarm,
)
from infra.components.argo_rollouts import ArgoRollouts, ArgoRolloutsArgs
from infra.components.autoscaling import VariantAutoscaling, VariantAutoscalingArgs
from infra.components.cluster import Cluster, ClusterArgs
from infra.components.drift import DriftMonitor, DriftMonitorArgs
from infra.components.endpoint import (
    Endpoint,
    EndpointArgs,
    ModelSource,
    ProductionVariant,
    ShadowVariant,
)
from infra.components.fleet import (
    FleetModel,
    FleetModelArgs,
    SharedFleet,
    SharedFleetArgs,
    aws_native_provider,
)
from infra.components.interpolation import concat
from infra.components.k8s_manifests import NetworkPeer, dashboard_markdown
from infra.components.k8s_serving import KubernetesServing, KubernetesServingArgs
from infra.components.monitoring import (
    Dashboard,
    DashboardArgs,
    DashboardText,
    DashboardVariant,
    Monitoring,
    MonitoringArgs,
)
from infra.components.network import PRIVATE_NODE_ENDPOINT_SERVICES, Network, NetworkArgs
from infra.components.registry import Registry, RegistryArgs
from infra.components.s3 import bucket_and_key
from infra.config import PROJECT, load_stack_config
from infra.config.eks import NatMode
from infra.config.monitoring import DriftConfig
from infra.config.rollout import ROLLING_DEFAULT_STEP_PERCENT
from infra.config.sagemaker import EndpointMode
from infra.config.stack import ServedModel
from infra.loop import (
    LoopModel,
    LoopPlatform,
    declare_model_loop,
    needs_eventbridge_topic_access,
    read_definitions,
)
from infra.rollout import compile_kubernetes_strategy, sagemaker_deployment

# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------

config = load_stack_config()
tags = config.resource_tags()
served_models = config.served_models()
on_endpoints = [m for m in served_models if m.view.sagemaker.enabled and m.fleet is None]
on_fleets = [m for m in served_models if m.view.sagemaker.enabled and m.fleet is not None]
fleet_names = list(dict.fromkeys(m.fleet_name for m in on_fleets if m.fleet_name is not None))
# Each model's loop, and its committed pipeline definitions: a missing one stops the program
# here, before any resource is declared.
loop_models = {
    m.name: LoopModel(
        m.loop_name,
        m.view.model,
        m.key_path("model"),
    )
    for m in served_models
}
pipeline_definitions = read_definitions(config.stack, list(loop_models.values()))
# Looked up once: every ARN the components build is in the account's partition.
partition = aws.get_partition_output().partition

# ---------------------------------------------------------------------------------------------
# Registry and network: every delivery path uses them
# ---------------------------------------------------------------------------------------------

# Only the endpoints' execution roles write captured traffic; the roles are declared with the
# endpoints below, the bucket policy that names them here.
capture_writer_arns, resolve_capture_writers = pulumi.deferred_output()
capture_prefixes = sorted(
    {
        m.view.sagemaker.data_capture.s3_prefix
        for m in on_endpoints
        if m.view.sagemaker.data_capture.enabled
    }
    | {
        config.fleets[f].data_capture.s3_prefix
        for f in fleet_names
        if config.fleets[f].data_capture.enabled
    }
)
# Only the stack's release role uploads the step scripts its retraining pipelines run.
code_prefixes = sorted(
    {m.view.model.retraining.code_prefix for m in served_models if m.view.model.retraining.enabled}
)
# Approval notices of retraining pipelines publish to the encrypted alert topic.
eventbridge_publishes = needs_eventbridge_topic_access([m.view.model for m in served_models])
registry = Registry(
    "registry",
    RegistryArgs(
        key_alias=f"alias/registry-{config.stack}",
        partition=partition,
        model_package_group_name=config.registry.model_package_group_name,
        keep_tagged_images=config.registry.keep_tagged_images,
        untagged_image_expiry_days=config.registry.untagged_image_expiry_days,
        noncurrent_artifact_expiry_days=config.registry.noncurrent_artifact_expiry_days,
        kms_deletion_window_days=config.registry.kms_deletion_window_days,
        model_prefix=config.registry.model_prefix,
        model_writer_arns=tuple(config.registry.model_writer_arns),
        capture_prefixes=capture_prefixes,
        capture_writer_arns=capture_writer_arns,
        code_prefixes=code_prefixes,
        code_writer_arns=tuple(config.registry.code_writer_arns),
        eventbridge_publishes=eventbridge_publishes,
        tags=tags,
    ),
)

# The VPC; with it, the SageMaker models and the drift job run in its private subnets.
network: Network | None = None
if config.network.enabled:
    # Without NAT, EKS nodes reach the AWS APIs they need through interface endpoints.
    private_nodes = config.eks.enabled and config.network.nat is NatMode.NONE
    network = Network(
        "network",
        NetworkArgs(
            vpc_name=f"network-{config.stack}",
            kms_key_arn=registry.kms_key.arn,
            cidr=config.network.cidr,
            availability_zones=config.network.availability_zones,
            nat=config.network.nat,
            flow_log_retention_days=config.network.flow_log_retention_days,
            extra_interface_endpoints=PRIVATE_NODE_ENDPOINT_SERVICES if private_nodes else (),
            tags=tags,
        ),
    )
subnet_ids = [s.id for s in network.private_subnets] if network is not None else []
security_group_ids = [network.workload_security_group.id] if network is not None else []

# ---------------------------------------------------------------------------------------------
# Monitoring: the alert topic and the endpoints' log groups
# ---------------------------------------------------------------------------------------------

monitoring = Monitoring(
    "monitoring",
    MonitoringArgs(
        topic_display_name=f"{PROJECT} {config.stack} alerts",
        partition=partition,
        kms_key_arn=registry.kms_key.arn,
        endpoint_names=[m.view.endpoint_name for m in on_endpoints]
        + [config.fleets[f].endpoint_name or f for f in fleet_names],
        email_subscriptions=config.monitoring.email_subscriptions,
        https_subscriptions=config.monitoring.https_subscriptions,
        log_retention_days=config.monitoring.log_retention_days,
        eventbridge_publishes=eventbridge_publishes,
        tags=tags,
    ),
)

# ---------------------------------------------------------------------------------------------
# SageMaker serving: each model's endpoint (autoscaling, alarms, drift) or its inference
# component on a shared fleet
# ---------------------------------------------------------------------------------------------


@dataclass
class SageMakerModel:
    """What one model declared on SageMaker, for the dashboard and the exports."""

    endpoint: Endpoint | None
    drift: DriftMonitor | None
    capture_writer_arn: pulumi.Output[str] | None
    alarm_arns: list[pulumi.Output[str]]
    dashboard_variants: list[DashboardVariant]
    on_fleet: FleetModel | None = None


def drift_monitor(
    name: str,
    baseline: DriftConfig,
    endpoint: pulumi.Input[str],
    endpoint_name: str,
    capture_prefix: str,
    tags: dict[str, str],
) -> DriftMonitor | None:
    """The data-drift job over one endpoint's captured traffic (a dedicated endpoint's or a
    shared fleet's), alarming as ``<endpoint_name>-data-drift``; None until both baselines
    are set."""
    if not (
        baseline.enabled and baseline.baseline_statistics_uri and baseline.baseline_constraints_uri
    ):
        return None
    return DriftMonitor(
        name,
        DriftMonitorArgs(
            endpoint_name=endpoint,
            partition=partition,
            capture_prefix=capture_prefix,
            artifacts_bucket=registry.artifacts_bucket.bucket,
            artifacts_bucket_arn=registry.artifacts_bucket.arn,
            kms_key_arn=registry.kms_key.arn,
            topic_arn=monitoring.topic.arn,
            baseline_statistics_uri=baseline.baseline_statistics_uri,
            baseline_constraints_uri=baseline.baseline_constraints_uri,
            instance_type=baseline.instance_type,
            volume_size_gb=baseline.volume_size_gb,
            max_runtime_seconds=baseline.max_runtime_seconds,
            watched_features=baseline.watched_features,
            drift_threshold=baseline.drift_threshold,
            alarm_name=f"{endpoint_name}-data-drift",
            subnet_ids=subnet_ids,
            security_group_ids=security_group_ids,
            tags=tags,
        ),
    )


def serve_on_endpoint(served: ServedModel) -> SageMakerModel:
    """One model's dedicated endpoint: endpoint, autoscaling, alarms and drift."""
    config, model, name, tags = served.view, served.view.model, served.resource_name, served.tags
    sm = config.sagemaker
    serverless = sm.mode is EndpointMode.SERVERLESS
    endpoint_name = config.endpoint_name
    endpoint = Endpoint(
        name("sagemaker"),
        EndpointArgs(
            endpoint_name=endpoint_name,
            model_package_group_name=config.model_package_group_name,
            partition=partition,
            mode=sm.mode,
            instance_type=sm.instance_type,
            variants=[
                ProductionVariant(
                    sm.variant_name,
                    ModelSource(model.package_version, model.image_uri, model.artifact_uri),
                    sm.variant_weight,
                    sm.instance_count,
                ),
                *(
                    ProductionVariant(
                        v.name,
                        ModelSource(package_version=v.package_version),
                        v.weight,
                        v.instance_count,
                    )
                    for v in sm.ab_variants
                ),
            ],
            shadow=(
                ShadowVariant(
                    model.shadow.package_version,
                    model.shadow.sampling_percent,
                    model.shadow.instance_count,
                )
                if model.shadow is not None
                else None
            ),
            serverless_memory_size_mb=sm.serverless.memory_size_mb,
            serverless_max_concurrency=sm.serverless.max_concurrency,
            network_isolation=sm.network_isolation,
            capture_prefix=sm.data_capture.s3_prefix if sm.data_capture.enabled else None,
            capture_sampling_percent=sm.data_capture.sampling_percent,
            deployment=sagemaker_deployment(config.rollout),
            rollback_alarms=[rollback_alarm(a) for a in config.rollout.rollback_alarms],
            kms_key_arn=registry.kms_key.arn,
            repository_arn=registry.repository.arn,
            artifacts_bucket=registry.artifacts_bucket.bucket,
            artifacts_bucket_arn=registry.artifacts_bucket.arn,
            topic_arn=monitoring.topic.arn,
            subnet_ids=[] if serverless else subnet_ids,
            security_group_ids=[] if serverless else security_group_ids,
            tags=tags,
        ),
        # The log group must exist before SageMaker creates one without retention or KMS.
        opts=pulumi.ResourceOptions(depends_on=[monitoring]),
    )
    alarm_arns = [a.arn for a in endpoint.rollback_alarms]

    scaling = config.autoscaling
    if scaling.enabled and not serverless:
        VariantAutoscaling(
            name("autoscaling"),
            VariantAutoscalingArgs(
                endpoint_name=endpoint.endpoint.name,
                variant_name=sm.variant_name,
                min_instances=scaling.min_instances,
                max_instances=scaling.max_instances,
                target_invocations_per_instance=scaling.target_invocations_per_instance,
                scale_in_cooldown_seconds=scaling.scale_in_cooldown_seconds,
                scale_out_cooldown_seconds=scaling.scale_out_cooldown_seconds,
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(depends_on=[endpoint.endpoint]),
        )

    alarms = EndpointAlarms(
        name("alarms"),
        EndpointAlarmsArgs(
            endpoint_name=endpoint_name,
            variants=endpoint.variant_names,
            topic_arn=monitoring.topic.arn,
            definitions=operational_alarms(
                config.monitoring.alarms,
                None if serverless else sm.instance_type,
                no_traffic=config.is_production,
            ),
            tags=tags,
        ),
    )
    alarm_arns += [a.arn for a in alarms.alarms]

    drift = drift_monitor(
        name("drift"),
        config.monitoring.drift,
        endpoint.endpoint.name,
        endpoint_name,
        sm.data_capture.s3_prefix,
        tags,
    )
    if drift is not None and drift.alarm is not None:
        alarm_arns.append(drift.alarm.arn)
    variants = [
        DashboardVariant(endpoint_name, variant, instances=not serverless)
        for variant in endpoint.variant_names
    ]
    capture_writer = endpoint.role.arn if sm.data_capture.enabled else None
    return SageMakerModel(endpoint, drift, capture_writer, alarm_arns, variants)


def serve_on_fleet(served: ServedModel, fleet: SharedFleet) -> SageMakerModel:
    """One model's inference component on a shared fleet (its alarms scoped to it)."""
    config, model, settings = served.view, served.view.model, served.settings
    assert settings.fleet is not None  # on_fleets holds only models with a fleet
    rollout, scaling = config.rollout, config.autoscaling
    on_fleet = FleetModel(
        served.resource_name("inference"),
        FleetModelArgs(
            fleet=fleet,
            component_name=f"{fleet.endpoint_name}-{served.name}",
            model_package_group_name=config.model_package_group_name,
            source=ModelSource(model.package_version, model.image_uri, model.artifact_uri),
            network_isolation=config.sagemaker.network_isolation,
            copies=settings.fleet.copies,
            cpu_cores=settings.fleet.cpu_cores,
            memory_mb=settings.fleet.memory_mb,
            step_percent=rollout.step_percent or ROLLING_DEFAULT_STEP_PERCENT,
            bake_seconds=rollout.bake_seconds,
            maximum_execution_timeout_seconds=rollout.maximum_execution_timeout_seconds,
            rollback_alarms=[rollback_alarm(a) for a in rollout.rollback_alarms],
            operational_alarms=operational_alarms(
                config.monitoring.alarms, None, no_traffic=config.is_production
            ),
            topic_arn=monitoring.topic.arn,
            min_copies=scaling.min_instances if scaling.enabled else None,
            max_copies=scaling.max_instances,
            target_invocations_per_copy=scaling.target_invocations_per_instance,
            scale_in_cooldown_seconds=scaling.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds=scaling.scale_out_cooldown_seconds,
            subnet_ids=subnet_ids,
            security_group_ids=security_group_ids,
            tags=served.tags,
        ),
        provider=native_provider(),
    )
    alarm_arns = [a.arn for a in on_fleet.rollback_alarms + on_fleet.alarms]
    row = DashboardVariant(
        fleet.endpoint_name, fleet.variant_name, inference_component=on_fleet.component_name
    )
    return SageMakerModel(None, None, None, alarm_arns, [row], on_fleet)


_aws_native: list[pulumi.ProviderResource] = []


def native_provider() -> pulumi.ProviderResource:
    """The aws-native provider (inference components), in the stack's region; declared only
    by a stack with shared fleets, once."""
    if not _aws_native:
        _aws_native.append(aws_native_provider("aws-native", config.region))
    return _aws_native[0]


fleets: dict[str, SharedFleet] = {}
for fleet_name in fleet_names:
    fleet_config = config.fleets[fleet_name]
    capture = fleet_config.data_capture
    fleets[fleet_name] = SharedFleet(
        f"fleet-{fleet_name}",
        SharedFleetArgs(
            endpoint_name=fleet_config.endpoint_name or fleet_name,
            partition=partition,
            instance_type=fleet_config.instance_type,
            instance_count=fleet_config.instance_count,
            min_instances=fleet_config.min_instances,
            max_instances=fleet_config.max_instances,
            variant_name=fleet_config.variant_name,
            capture_prefix=capture.s3_prefix if capture.enabled else None,
            capture_sampling_percent=capture.sampling_percent,
            kms_key_arn=registry.kms_key.arn,
            repository_arn=registry.repository.arn,
            artifacts_bucket=registry.artifacts_bucket.bucket,
            artifacts_bucket_arn=registry.artifacts_bucket.arn,
            subnet_ids=subnet_ids,
            security_group_ids=security_group_ids,
            tags={**tags, "mlstack:fleet": fleet_name},
        ),
        opts=pulumi.ResourceOptions(depends_on=[monitoring]),
    )

fleet_drifts: dict[str, DriftMonitor] = {}
for fleet_name, fleet in fleets.items():
    baseline, capture = config.fleets[fleet_name].drift, config.fleets[fleet_name].data_capture
    fleet_drift = drift_monitor(
        f"fleet-{fleet_name}-drift",
        baseline,
        fleet.endpoint.name,
        fleet.endpoint_name,
        capture.s3_prefix,
        {**tags, "mlstack:fleet": fleet_name},
    )
    if fleet_drift is not None:
        fleet_drifts[fleet_name] = fleet_drift

sagemaker_models: dict[str, SageMakerModel] = {m.name: serve_on_endpoint(m) for m in on_endpoints}
for served in on_fleets:
    assert served.fleet_name is not None
    sagemaker_models[served.name] = serve_on_fleet(served, fleets[served.fleet_name])

resolve_capture_writers(
    pulumi.Output.all(
        *(m.capture_writer_arn for m in sagemaker_models.values() if m.capture_writer_arn),
        *(
            fleet.role.arn
            for fleet_name, fleet in fleets.items()
            if config.fleets[fleet_name].data_capture.enabled
        ),
    )
)

# ---------------------------------------------------------------------------------------------
# Each model's loop: retraining pipeline and triggers, batch inference, quality monitors
# ---------------------------------------------------------------------------------------------

model_loops = {}
for served in served_models:
    sagemaker_model = sagemaker_models.get(served.name)
    endpoint = sagemaker_model.endpoint if sagemaker_model is not None else None
    drift = sagemaker_model.drift if sagemaker_model is not None else None
    capture = served.view.sagemaker.data_capture
    loop = loop_models[served.name]
    model_loops[served.name] = declare_model_loop(
        loop.name,
        loop.settings,
        LoopPlatform(
            stack=config.stack,
            partition=partition,
            package_group_name=served.view.model_package_group_name,
            artifacts_bucket=registry.artifacts_bucket.bucket,
            artifacts_bucket_arn=registry.artifacts_bucket.arn,
            kms_key_arn=registry.kms_key.arn,
            repository_arns=[registry.repository.arn],
            topic_arn=monitoring.topic.arn,
            endpoint_name=endpoint.endpoint.name if endpoint is not None else None,
            capture_prefix=capture.s3_prefix if endpoint is not None and capture.enabled else None,
            drift_alarm_arn=drift.alarm.arn if drift is not None and drift.alarm else None,
            subnet_ids=subnet_ids,
            security_group_ids=security_group_ids,
            tags=served.tags,
        ),
        pipeline_definitions[loop.name],
    )

# ---------------------------------------------------------------------------------------------
# Kubernetes serving: cluster, Argo Rollouts, each model's server
# ---------------------------------------------------------------------------------------------

cluster: Cluster | None = None
k8s_servings: dict[str, KubernetesServing] = {}
on_eks = [m for m in served_models if m.view.eks.enabled]
if config.eks.enabled:
    if network is None:  # config validation makes this unreachable
        raise ValueError("mlstack:eks needs mlstack:network")
    eks, platform, nodes = config.eks, config.kubernetes, config.eks.node_group
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            cluster_name=f"{PROJECT}-{config.stack}",
            vpc_id=network.vpc.id,
            vpc_cidr=network.vpc_cidr,
            subnet_ids=network.private_subnet_ids,
            kms_key_arn=registry.kms_key.arn,
            admin_principal_arns=tuple(eks.admin_principal_arns),
            partition=partition,
            kubernetes_version=eks.kubernetes_version,
            endpoint_access=eks.endpoint_access,
            public_access_cidrs=tuple(eks.public_access_cidrs),
            log_retention_days=eks.control_plane_log_retention_days,
            node_instance_types=tuple(nodes.instance_types),
            node_capacity_type=nodes.capacity_type,
            node_min_size=nodes.min_size,
            node_desired_size=nodes.desired_size,
            node_max_size=nodes.max_size,
            node_disk_size_gib=nodes.disk_size_gib,
            deletion_protection=config.is_production,
            tags=tags,
        ),
    )

    # Compiled once per model: they decide whether Argo Rollouts is installed and shape each
    # workload.
    strategies = {m.name: compile_kubernetes_strategy(m.view.rollout) for m in on_eks}
    # The Rollout CRDs come with the controller: workloads wait for its release.
    workload_depends_on: list[pulumi.Resource] = list(cluster.ready)
    needing_argo = [s for s in strategies.values() if s.needs_argo_rollouts]
    if needing_argo:
        argo = ArgoRollouts(
            "argo-rollouts",
            ArgoRolloutsArgs(
                strategy=needing_argo[0], controller_replicas=2 if config.is_production else 1
            ),
            opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=cluster.ready),
        )
        workload_depends_on = [argo.release]

    fetcher = platform.model_fetcher_image
    if platform.model_fetcher_image_digest is not None:
        fetcher = f"{fetcher.rsplit(':', 1)[0]}@{platform.model_fetcher_image_digest}"
    for served in on_eks:
        serving = served.view.kubernetes
        if serving.image_digest is not None:
            image = concat(registry.repository.repository_url, "@", serving.image_digest)
        else:
            image = concat(registry.repository.repository_url, ":", serving.image_tag or "")
        model_bucket, model_key = bucket_and_key(
            serving.model_artifact, registry.artifacts_bucket.bucket
        )
        k8s_servings[served.name] = KubernetesServing(
            served.resource_name("serving"),
            KubernetesServingArgs(
                strategy=strategies[served.name],
                partition=partition,
                image=image,
                image_pinned_by_digest=serving.image_digest is not None,
                model_bucket=model_bucket,
                model_key=model_key,
                kms_key_arn=registry.kms_key.arn,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                model_fetcher_image=fetcher,
                model_version=serving.model_version,
                model_name=None if served.legacy_names else served.name,
                namespace=serving.namespace,
                app_name=serving.app_name,
                min_replicas=serving.min_replicas,
                max_replicas=serving.max_replicas,
                target_cpu_utilization_percent=serving.target_cpu_utilization_percent,
                cpu_request=serving.cpu_request,
                cpu_limit=serving.cpu_limit,
                memory_request=serving.memory_request,
                memory_limit=serving.memory_limit,
                model_volume_size=serving.model_volume_size,
                workers=serving.workers,
                drain_seconds=serving.drain_seconds,
                graceful_timeout_seconds=serving.graceful_timeout_seconds,
                prometheus_address=platform.prometheus_address,
                model_artifact_sha256=serving.model_artifact_sha256,
                model_artifact_version_id=serving.model_artifact_version_id,
                traffic_sources=tuple(
                    NetworkPeer(p.namespace, p.pod_labels) for p in platform.traffic_sources
                ),
                metrics_scrapers=tuple(
                    NetworkPeer(p.namespace, p.pod_labels) for p in platform.scrapers
                ),
                vpc_cidr=network.vpc_cidr,
                s3_cidr_blocks=network.s3_cidr_blocks,
                tags=served.tags,
            ),
            opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=workload_depends_on),
        )

# ---------------------------------------------------------------------------------------------
# The dashboard: a row per model (graphs on SageMaker, where to look on EKS), its loop alarms
# under it, then every serving alarm
# ---------------------------------------------------------------------------------------------


def dashboard_rows(name: str, model: SageMakerModel) -> list[DashboardVariant]:
    """A model's rows; its loop alarms (when it has any) go under the first."""
    rows = [dataclasses.replace(v, model=name) for v in model.dashboard_variants]
    loop_alarms = model_loops[name].alarm_arns
    if loop_alarms:
        rows[0] = dataclasses.replace(rows[0], loop_alarm_arns=loop_alarms)
    return rows


def eks_row(served: ServedModel) -> DashboardText:
    """A model's EKS row: where its metrics are; its loop alarms under it when the model has
    no SageMaker row to carry them."""
    serving = served.view.kubernetes
    return DashboardText(
        dashboard_markdown(
            served.name,
            serving.namespace,
            serving.app_name,
            config.kubernetes.prometheus_address,
            argo_rollout=strategies[served.name].needs_argo_rollouts,
        ),
        model=served.name,
        loop_alarm_arns=()
        if served.name in sagemaker_models
        else model_loops[served.name].alarm_arns,
    )


eks_rows = [eks_row(m) for m in on_eks] if config.eks.enabled else []
dashboard: Dashboard | None = None
if sagemaker_models or eks_rows:
    fleet_rows = [
        DashboardVariant(fleet.endpoint_name, fleet.variant_name) for fleet in fleets.values()
    ]
    dashboard = Dashboard(
        "dashboard",
        DashboardArgs(
            dashboard_name=f"{PROJECT}-{config.stack}",
            variants=[v for n, m in sagemaker_models.items() for v in dashboard_rows(n, m)]
            + fleet_rows,
            alarm_arns=[arn for m in sagemaker_models.values() for arn in m.alarm_arns]
            + [d.alarm.arn for d in fleet_drifts.values() if d.alarm is not None],
            texts=eks_rows,
        ),
    )

# ---------------------------------------------------------------------------------------------
# Stack outputs
# ---------------------------------------------------------------------------------------------

pulumi.export("kmsKeyArn", registry.kms_key.arn)
pulumi.export("repositoryUrl", registry.repository.repository_url)
pulumi.export("modelPackageGroupName", registry.model_package_group.model_package_group_name)
pulumi.export("artifactsBucket", registry.artifacts_bucket.bucket)
pulumi.export("alertTopicArn", monitoring.topic.arn)


def endpoint_outputs(endpoint: Endpoint, drift: DriftMonitor | None) -> dict[str, Any]:
    """One dedicated endpoint's outputs, keyed as the stack exports them."""
    outputs: dict[str, Any] = {
        "endpointName": endpoint.endpoint.name,
        "endpointArn": endpoint.endpoint.arn,
        "invokeUrl": endpoint.invoke_url,
        "modelPackageArn": endpoint.model_package_arn,
        "endpointConfigName": endpoint.endpoint_config.name,
        "rollbackAlarmNames": endpoint.rollback_alarm_names,
    }
    if endpoint.capture_uri is not None:
        outputs["dataCaptureUri"] = endpoint.capture_uri
    if drift is not None:
        outputs["dataQualityJobDefinitionName"] = drift.job_definition.name
        outputs["monitoringScheduleName"] = drift.schedule.name
    return outputs


def loop_outputs(name: str) -> dict[str, Any]:
    """One model's pipeline outputs, keyed as the stack exports them."""
    loop, outputs = model_loops[name], {}
    if loop.retraining is not None:
        outputs["retrainingPipelineName"] = loop.retraining.pipeline.pipeline_name
    if loop.batch is not None:
        outputs["batchPipelineName"] = loop.batch.pipeline.pipeline_name
    return outputs


if not config.models:
    # A single-model stack exports its model's outputs at the top level, as it always has.
    for sagemaker_model in sagemaker_models.values():
        if sagemaker_model.endpoint is not None:
            for key, value in endpoint_outputs(
                sagemaker_model.endpoint, sagemaker_model.drift
            ).items():
                pulumi.export(key, value)
    for served in served_models:
        for key, value in loop_outputs(served.name).items():
            pulumi.export(key, value)
else:
    per_model: dict[str, dict[str, Any]] = {}
    for served in served_models:
        outputs: dict[str, Any] = {}
        sagemaker_model = sagemaker_models.get(served.name)
        if sagemaker_model is not None and sagemaker_model.endpoint is not None:
            outputs.update(endpoint_outputs(sagemaker_model.endpoint, sagemaker_model.drift))
        if sagemaker_model is not None and sagemaker_model.on_fleet is not None:
            fleet = fleets[served.fleet_name or ""]
            outputs.update(
                endpointName=fleet.endpoint.name,
                inferenceComponentName=sagemaker_model.on_fleet.component_name,
                modelPackageArn=sagemaker_model.on_fleet.model_package_arn,
                rollbackAlarmNames=sagemaker_model.on_fleet.rollback_alarm_names,
            )
        if served.name in k8s_servings:
            outputs.update(
                kubernetesNamespace=k8s_servings[served.name].namespace,
                kubernetesWorkloadKind=k8s_servings[served.name].workload_kind,
            )
        outputs.update(loop_outputs(served.name))
        per_model[served.name] = outputs
    pulumi.export("models", per_model)
if dashboard is not None:
    pulumi.export("dashboardName", dashboard.dashboard.dashboard_name)
if network is not None:
    pulumi.export("vpcId", network.vpc.id)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
if cluster is not None and k8s_servings:
    pulumi.export("eksClusterName", cluster.cluster.name)
    pulumi.export("eksOidcProviderArn", cluster.oidc_provider_arn)
    if not config.models:
        k8s_serving = next(iter(k8s_servings.values()))
        pulumi.export("kubernetesNamespace", k8s_serving.namespace)
        pulumi.export("kubernetesWorkloadKind", k8s_serving.workload_kind)
