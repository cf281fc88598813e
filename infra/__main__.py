"""The mlstack Pulumi program: the stack's config, every top-level component, the exports.

Read top to bottom: config; the registry and the network every path uses; monitoring; the
SageMaker path (endpoint, autoscaling, alarms, drift, dashboard); the EKS path (cluster, Argo
Rollouts, Kubernetes serving); then every stack output in one place.
"""

import sys
from pathlib import Path

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
from infra.components.k8s_manifests import NetworkPeer
from infra.components.k8s_serving import KubernetesServing, KubernetesServingArgs
from infra.components.monitoring import (
    Dashboard,
    DashboardArgs,
    DashboardVariant,
    Monitoring,
    MonitoringArgs,
)
from infra.components.network import PRIVATE_NODE_ENDPOINT_SERVICES, Network, NetworkArgs
from infra.components.registry import Registry, RegistryArgs
from infra.components.s3 import bucket_and_key
from infra.config import PROJECT, load_stack_config
from infra.config.eks import NatMode
from infra.config.sagemaker import EndpointMode
from infra.loop import LoopPlatform, declare_model_loop, needs_eventbridge_topic_access
from infra.rollout import compile_kubernetes_strategy, sagemaker_deployment

# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------

config = load_stack_config()
tags = config.resource_tags()
sm, model = config.sagemaker, config.model
serverless = sm.mode is EndpointMode.SERVERLESS
endpoint_name = config.endpoint_name
# Looked up once: every ARN the components build is in the account's partition.
partition = aws.get_partition_output().partition

# ---------------------------------------------------------------------------------------------
# Registry and network: every delivery path uses them
# ---------------------------------------------------------------------------------------------

# Only the endpoint's execution role writes captured traffic; the role is declared with the
# endpoint below, the bucket policy that names it here.
capture_writer_arns, resolve_capture_writers = pulumi.deferred_output()
capture_prefix = sm.data_capture.s3_prefix if sm.enabled and sm.data_capture.enabled else None
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
        capture_prefix=capture_prefix,
        capture_writer_arns=capture_writer_arns,
        eventbridge_publishes=needs_eventbridge_topic_access([model]),
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
        endpoint_names=[endpoint_name] if sm.enabled else [],
        email_subscriptions=config.monitoring.email_subscriptions,
        https_subscriptions=config.monitoring.https_subscriptions,
        log_retention_days=config.monitoring.log_retention_days,
        eventbridge_publishes=needs_eventbridge_topic_access([model]),
        tags=tags,
    ),
)

# ---------------------------------------------------------------------------------------------
# SageMaker serving: endpoint, autoscaling, alarms, drift, dashboard
# ---------------------------------------------------------------------------------------------

endpoint: Endpoint | None = None
drift: DriftMonitor | None = None
dashboard: Dashboard | None = None
if sm.enabled:
    endpoint = Endpoint(
        "sagemaker",
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
            capture_prefix=capture_prefix,
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
    resolve_capture_writers(endpoint.role.arn.apply(lambda arn: [arn]))
    alarm_arns = [a.arn for a in endpoint.rollback_alarms]

    if config.autoscaling.enabled and not serverless:
        VariantAutoscaling(
            "autoscaling",
            VariantAutoscalingArgs(
                endpoint_name=endpoint.endpoint.name,
                variant_name=sm.variant_name,
                min_instances=config.autoscaling.min_instances,
                max_instances=config.autoscaling.max_instances,
                target_invocations_per_instance=config.autoscaling.target_invocations_per_instance,
                scale_in_cooldown_seconds=config.autoscaling.scale_in_cooldown_seconds,
                scale_out_cooldown_seconds=config.autoscaling.scale_out_cooldown_seconds,
            ),
            opts=pulumi.ResourceOptions(depends_on=[endpoint.endpoint]),
        )

    alarms = EndpointAlarms(
        "alarms",
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

    baseline = config.monitoring.drift
    if baseline.enabled and baseline.baseline_statistics_uri and baseline.baseline_constraints_uri:
        drift = DriftMonitor(
            "drift",
            DriftMonitorArgs(
                endpoint_name=endpoint.endpoint.name,
                partition=partition,
                capture_prefix=sm.data_capture.s3_prefix,
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
        if drift.alarm is not None:
            alarm_arns.append(drift.alarm.arn)

    dashboard = Dashboard(
        "dashboard",
        DashboardArgs(
            dashboard_name=f"{PROJECT}-{config.stack}",
            variants=[
                DashboardVariant(endpoint_name, variant, instances=not serverless)
                for variant in endpoint.variant_names
            ],
            alarm_arns=alarm_arns,
        ),
    )

else:
    resolve_capture_writers(pulumi.Output.from_input([]))

# ---------------------------------------------------------------------------------------------
# The model's loop: retraining pipeline and triggers, batch inference, quality monitors
# ---------------------------------------------------------------------------------------------

model_loop = declare_model_loop(
    config.model_package_group_name,
    model,
    LoopPlatform(
        stack=config.stack,
        partition=partition,
        artifacts_bucket=registry.artifacts_bucket.bucket,
        artifacts_bucket_arn=registry.artifacts_bucket.arn,
        kms_key_arn=registry.kms_key.arn,
        repository_arns=[registry.repository.arn],
        topic_arn=monitoring.topic.arn,
        endpoint_name=endpoint.endpoint.name if endpoint is not None else None,
        capture_prefix=sm.data_capture.s3_prefix if sm.data_capture.enabled else None,
        drift_alarm_arn=drift.alarm.arn if drift is not None and drift.alarm else None,
        subnet_ids=subnet_ids,
        security_group_ids=security_group_ids,
        tags=tags,
    ),
)

# ---------------------------------------------------------------------------------------------
# Kubernetes serving: cluster, Argo Rollouts, the model server
# ---------------------------------------------------------------------------------------------

cluster: Cluster | None = None
k8s_serving: KubernetesServing | None = None
if config.eks.enabled:
    if network is None:  # config validation makes this unreachable
        raise ValueError("mlstack:eks needs mlstack:network")
    eks, serving, nodes = config.eks, config.kubernetes, config.eks.node_group
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

    # Compiled once: it decides whether Argo Rollouts is installed and shapes the workload.
    strategy = compile_kubernetes_strategy(config.rollout)
    # The Rollout CRDs come with the controller: workloads wait for its release.
    workload_depends_on: list[pulumi.Resource] = list(cluster.ready)
    if strategy.needs_argo_rollouts:
        argo = ArgoRollouts(
            "argo-rollouts",
            ArgoRolloutsArgs(
                strategy=strategy, controller_replicas=2 if config.is_production else 1
            ),
            opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=cluster.ready),
        )
        workload_depends_on = [argo.release]

    if serving.image_digest is not None:
        image = pulumi.Output.concat(registry.repository.repository_url, "@", serving.image_digest)
    else:
        image = pulumi.Output.concat(
            registry.repository.repository_url, ":", serving.image_tag or ""
        )
    fetcher = serving.model_fetcher_image
    if serving.model_fetcher_image_digest is not None:
        fetcher = f"{fetcher.rsplit(':', 1)[0]}@{serving.model_fetcher_image_digest}"
    model_bucket, model_key = bucket_and_key(
        serving.model_artifact, registry.artifacts_bucket.bucket
    )
    k8s_serving = KubernetesServing(
        "serving",
        KubernetesServingArgs(
            strategy=strategy,
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
            prometheus_address=serving.prometheus_address,
            model_artifact_sha256=serving.model_artifact_sha256,
            model_artifact_version_id=serving.model_artifact_version_id,
            traffic_sources=tuple(
                NetworkPeer(p.namespace, p.pod_labels) for p in serving.traffic_sources
            ),
            metrics_scrapers=tuple(
                NetworkPeer(p.namespace, p.pod_labels) for p in serving.scrapers
            ),
            vpc_cidr=network.vpc_cidr,
            s3_cidr_blocks=network.s3_cidr_blocks,
            tags=tags,
        ),
        opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=workload_depends_on),
    )

# ---------------------------------------------------------------------------------------------
# Stack outputs
# ---------------------------------------------------------------------------------------------

pulumi.export("kmsKeyArn", registry.kms_key.arn)
pulumi.export("repositoryUrl", registry.repository.repository_url)
pulumi.export("modelPackageGroupName", registry.model_package_group.model_package_group_name)
pulumi.export("artifactsBucket", registry.artifacts_bucket.bucket)
pulumi.export("alertTopicArn", monitoring.topic.arn)
if endpoint is not None:
    pulumi.export("endpointName", endpoint.endpoint.name)
    pulumi.export("endpointArn", endpoint.endpoint.arn)
    pulumi.export("invokeUrl", endpoint.invoke_url)
    pulumi.export("modelPackageArn", endpoint.model_package_arn)
    pulumi.export("endpointConfigName", endpoint.endpoint_config.name)
    pulumi.export("rollbackAlarmNames", endpoint.rollback_alarm_names)
    if endpoint.capture_uri is not None:
        pulumi.export("dataCaptureUri", endpoint.capture_uri)
if drift is not None:
    pulumi.export("dataQualityJobDefinitionName", drift.job_definition.name)
    pulumi.export("monitoringScheduleName", drift.schedule.name)
if model_loop.retraining is not None:
    pulumi.export("retrainingPipelineName", model_loop.retraining.pipeline.pipeline_name)
if model_loop.batch is not None:
    pulumi.export("batchPipelineName", model_loop.batch.pipeline.pipeline_name)
if dashboard is not None:
    pulumi.export("dashboardName", dashboard.dashboard.dashboard_name)
if network is not None:
    pulumi.export("vpcId", network.vpc.id)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
if cluster is not None and k8s_serving is not None:
    pulumi.export("eksClusterName", cluster.cluster.name)
    pulumi.export("eksOidcProviderArn", cluster.oidc_provider_arn)
    pulumi.export("kubernetesNamespace", k8s_serving.namespace)
    pulumi.export("kubernetesWorkloadKind", k8s_serving.workload_kind)
