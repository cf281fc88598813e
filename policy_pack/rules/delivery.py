"""ML delivery rules over the whole stack: what no general-purpose scanner checks.

A production model must roll out progressively and roll itself back on alarms that exist,
capture its traffic, survive an instance or AZ failure, run an image that cannot change under
the same name, and be watched for drift wherever its traffic is captured.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policy_pack.rules.base import (
    Resource,
    Scope,
    StackContext,
    StackRule,
    Violation,
    as_list,
    containers,
    get,
    is_false,
    is_kubernetes_workload,
    is_set,
    is_unknown,
    kubernetes_kind,
    names_of,
    number,
    pod_spec,
    policy_statements,
    strings,
)
from policy_pack.type_tokens import (
    APPAUTOSCALING_TARGET,
    CLOUDWATCH_METRIC_ALARM,
    EC2_SUBNET,
    EKS_CLUSTER,
    EKS_NODE_GROUP,
    S3_BUCKET_POLICY,
    SAGEMAKER_DATA_QUALITY_JOB_DEFINITION,
    SAGEMAKER_ENDPOINT,
    SAGEMAKER_ENDPOINT_CONFIGURATION,
    SAGEMAKER_INFERENCE_COMPONENT,
    SAGEMAKER_MODEL,
    SAGEMAKER_MONITORING_SCHEDULE,
)

PROGRESSIVE_TRAFFIC = ("CANARY", "LINEAR")
MIN_PRODUCTION_INSTANCES = 2
MIN_PRODUCTION_ZONES = 2


MODEL_TAG = "mlstack:model"
"""Tag naming the model a resource serves (a stack of many models sets it)."""
FLEET_TAG = "mlstack:fleet"
"""Tag of a shared fleet's resources: its endpoint hosts inference components."""


def model_of(resource: Resource) -> str | None:
    """The model a resource serves, from its ``mlstack:model`` tag (a map of tags, or
    aws-native's list of key/value pairs), or its ``mlstack/model`` label; else None."""
    tags = resource.inputs.get("tags")
    if isinstance(tags, Mapping):
        value = tags.get(MODEL_TAG)
        return value if isinstance(value, str) else None
    for tag in as_list(tags):
        if get(tag, "key") == MODEL_TAG and isinstance(get(tag, "value"), str):
            return get(tag, "value")
    label = get(resource.inputs, "metadata", "labels", "mlstack/model")
    return label if isinstance(label, str) else None


def _violation(resource: Resource, message: str) -> Violation:
    """A violation of ``resource``, naming its model first where it serves one."""
    model = model_of(resource)
    return Violation(resource.urn, f"model '{model}': {message}" if model else message)


def _is_fleet(resource: Resource) -> bool:
    tags = resource.inputs.get("tags")
    return isinstance(tags, Mapping) and FLEET_TAG in tags


def _of(resources: Sequence[Resource], type_token: str) -> list[Resource]:
    return [r for r in resources if r.type == type_token]


def _matches(value: Any, names: set[str]) -> bool:
    """A reference matches when it names a known resource or is only known after deployment."""
    return is_unknown(value) or (isinstance(value, str) and value in names)


def _rollback_alarm_names(endpoint: Resource) -> list[Any]:
    alarms = get(endpoint.inputs, "deploymentConfig", "autoRollbackConfiguration", "alarms")
    return [get(a, "alarmName") for a in as_list(alarms)]


# --- rollout ---------------------------------------------------------------------------------


def _progressive_rollout(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    # A shared fleet's models roll out one inference component at a time (SageMaker's
    # rolling update of its copies, with the model's rollback alarms).
    for component in _of(resources, SAGEMAKER_INFERENCE_COMPONENT):
        rolling = get(component.inputs, "deploymentConfig", "rollingUpdatePolicy")
        if not is_set(rolling):
            yield _violation(
                component,
                "production inference component has no rolling update policy: set the "
                "model's rollout.strategy to rolling",
            )
        if not _rollback_alarm_names(component):
            yield _violation(
                component,
                "production inference component has no auto-rollback alarms: list them in "
                "the model's rollout.rollbackAlarms",
            )
    for endpoint in _of(resources, SAGEMAKER_ENDPOINT):
        if _is_fleet(endpoint):
            continue
        config = endpoint.inputs.get("deploymentConfig")
        traffic = get(config, "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "type")
        rolling = is_set(get(config, "rollingUpdatePolicy"))
        if not rolling and traffic not in PROGRESSIVE_TRAFFIC and not is_unknown(traffic):
            shown = traffic or "no deployment config"
            yield _violation(
                endpoint,
                f"production endpoint deploys {shown}: set mlstack:rollout.strategy to canary, "
                "linear or rolling",
            )
        if not _rollback_alarm_names(endpoint):
            yield _violation(
                endpoint,
                "production endpoint has no auto-rollback alarms: list them in "
                "mlstack:rollout.rollbackAlarms",
            )


def _rollback_alarms_exist(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    alarms = names_of(resources, CLOUDWATCH_METRIC_ALARM)
    deployed = _of(resources, SAGEMAKER_ENDPOINT) + _of(resources, SAGEMAKER_INFERENCE_COMPONENT)
    for endpoint in deployed:
        for name in _rollback_alarm_names(endpoint):
            if not _matches(name, alarms):
                yield _violation(
                    endpoint,
                    f"rollback alarm '{name}' is not declared in this stack: a deployment could "
                    "never roll back on it; declare it or remove it from the rollout",
                )


# --- data capture and drift ------------------------------------------------------------------


def _captures(config: Resource) -> bool:
    capture = config.inputs.get("dataCaptureConfig")
    if not isinstance(capture, Mapping) or is_false(capture.get("enableCapture")):
        return False
    percent = capture.get("initialSamplingPercentage")
    return is_unknown(percent) or (number(percent) or 0) > 0


def _production_data_capture(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    for config in _of(resources, SAGEMAKER_ENDPOINT_CONFIGURATION):
        if not _captures(config):
            yield _violation(
                config,
                "production endpoint configuration captures no traffic: enable data capture "
                "with a sampling percentage above 0",
            )


def _endpoint_names_using(resources: Sequence[Resource], config: Resource) -> list[Any]:
    config_name = config.inputs.get("name")
    return [
        endpoint.inputs.get("name")
        for endpoint in _of(resources, SAGEMAKER_ENDPOINT)
        if _matches(endpoint.inputs.get("endpointConfigName"), {config_name})
        or not isinstance(config_name, str)
        or is_unknown(config_name)
    ]


def _drift_monitoring(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    jobs = _of(resources, SAGEMAKER_DATA_QUALITY_JOB_DEFINITION)
    scheduled = [
        get(s.inputs, "monitoringScheduleConfig", "monitoringJobDefinitionName")
        for s in _of(resources, SAGEMAKER_MONITORING_SCHEDULE)
    ]
    for config in _of(resources, SAGEMAKER_ENDPOINT_CONFIGURATION):
        if not _captures(config):
            continue
        endpoints = _endpoint_names_using(resources, config)
        if not endpoints:
            continue
        watching = [
            job
            for job in jobs
            if any(
                _matches(
                    get(job.inputs, "dataQualityJobInput", "endpointInput", "endpointName"),
                    {e} if isinstance(e, str) else set(),
                )
                or is_unknown(e)
                for e in endpoints
            )
        ]
        active = [
            job
            for job in watching
            if any(_matches(name, {job.inputs.get("name")}) for name in scheduled)
            or is_unknown(job.inputs.get("name"))
        ]
        if not active:
            yield _violation(
                config,
                "traffic is captured but nothing watches it for drift: add a Model Monitor "
                "data-quality job definition on the endpoint and a monitoring schedule for it",
            )


# --- availability ----------------------------------------------------------------------------


def _min_instances(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    for config in _of(resources, SAGEMAKER_ENDPOINT_CONFIGURATION):
        for variant in as_list(config.inputs.get("productionVariants")):
            name = get(variant, "variantName") or "?"
            if is_set(get(variant, "serverlessConfig")):
                yield _violation(
                    config,
                    f"variant '{name}' is serverless: production serves from at least "
                    f"{MIN_PRODUCTION_INSTANCES} provisioned instances",
                )
                continue
            managed_low = number(get(variant, "managedInstanceScaling", "minInstanceCount"))
            if managed_low is not None and managed_low < MIN_PRODUCTION_INSTANCES:
                yield _violation(
                    config,
                    f"shared fleet variant '{name}' may scale down to {managed_low:g} "
                    f"instance(s): set the fleet's minInstances >= {MIN_PRODUCTION_INSTANCES}",
                )
            count = number(get(variant, "initialInstanceCount"))
            if count is not None and count < MIN_PRODUCTION_INSTANCES:
                yield _violation(
                    config,
                    f"variant '{name}' starts with {count:g} instance(s): set "
                    f"mlstack:sagemaker.instanceCount >= {MIN_PRODUCTION_INSTANCES}",
                )
    for target in _of(resources, APPAUTOSCALING_TARGET):
        low = number(target.inputs.get("minCapacity"))
        if low is not None and low < MIN_PRODUCTION_INSTANCES:
            yield _violation(
                target,
                f"autoscaling may scale down to {low:g}: set its minimum capacity >= "
                f"{MIN_PRODUCTION_INSTANCES}",
            )
    for group in _of(resources, EKS_NODE_GROUP):
        low = number(get(group.inputs, "scalingConfig", "minSize"))
        if low is not None and low < MIN_PRODUCTION_INSTANCES:
            yield _violation(
                group,
                f"node group may shrink to {low:g} node(s): set its minimum size >= "
                f"{MIN_PRODUCTION_INSTANCES}",
            )
    for hpa in resources:
        if kubernetes_kind(hpa.type) == "HorizontalPodAutoscaler":
            low = number(get(hpa.inputs, "spec", "minReplicas", default=1))
            if low is not None and low < MIN_PRODUCTION_INSTANCES:
                yield _violation(
                    hpa,
                    f"the autoscaler may scale down to {low:g} pod(s): set minReplicas >= "
                    f"{MIN_PRODUCTION_INSTANCES}",
                )


def _zones_of(subnet_ids: list[str], zones_by_subnet: dict[str, Any]) -> set[str] | None:
    """Distinct AZs of the subnets, or None when any subnet cannot be resolved."""
    zones = set()
    for subnet in subnet_ids:
        zone = zones_by_subnet.get(subnet)
        if not isinstance(zone, str) or is_unknown(zone):
            return None
        zones.add(zone)
    return zones


def _multi_az(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    zones_by_subnet = {
        s.id: s.inputs.get("availabilityZone") for s in _of(resources, EC2_SUBNET) if s.id
    }
    users: list[tuple[Resource, Any]] = [
        (m, get(m.inputs, "vpcConfig", "subnets")) for m in _of(resources, SAGEMAKER_MODEL)
    ]
    users += [(g, g.inputs.get("subnetIds")) for g in _of(resources, EKS_NODE_GROUP)]
    users += [(c, get(c.inputs, "vpcConfig", "subnetIds")) for c in _of(resources, EKS_CLUSTER)]
    for resource, raw in users:
        if raw is None or is_unknown(raw):
            continue
        subnets = strings(raw)
        if any(is_unknown(s) for s in subnets):
            continue
        zones = _zones_of(subnets, zones_by_subnet)
        count = len(zones) if zones is not None else len(set(subnets))
        if count < MIN_PRODUCTION_ZONES:
            yield _violation(
                resource,
                f"runs in {count} availability zone(s): give it subnets in at least "
                f"{MIN_PRODUCTION_ZONES} zones",
            )


# --- image pinning ---------------------------------------------------------------------------


def _pinned(image: Any) -> bool:
    return is_unknown(image) or (isinstance(image, str) and "@sha256:" in image)


def _image_digest(resources: Sequence[Resource], _: StackContext) -> Iterable[Violation]:
    for model in _of(resources, SAGEMAKER_MODEL):
        model_containers = as_list(model.inputs.get("primaryContainer")) + as_list(
            model.inputs.get("containers")
        )
        for container in model_containers:
            if is_set(get(container, "modelPackageName")):
                continue  # a registered model version pins its image
            image = get(container, "image")
            if not _pinned(image):
                yield _violation(
                    model,
                    f"serving image '{image}' is not pinned: deploy <repository>@sha256:<digest> "
                    "or a registered model package version",
                )
    for workload in resources:
        if not is_kubernetes_workload(workload.type):
            continue
        spec = pod_spec(workload.type, workload.inputs)
        for container in containers(spec or {}, init=False):
            if not _pinned(container.get("image")):
                yield _violation(
                    workload,
                    f"container '{container.get('name', '?')}' runs image "
                    f"'{container.get('image')}' by tag: pin it by digest",
                )


# --- one model version on both serving paths -------------------------------------------------

MODEL_VERSION_LABEL = "mlstack.io/model-version"
"""Label the kit puts on its workload: the model package version the pods serve."""
KIT_WORKLOAD_LABELS = {
    "app.kubernetes.io/component": "model-server",
    "app.kubernetes.io/part-of": "mlstack",
}
"""Labels marking the kit's model server among the stack's workloads."""
PACKAGE_VERSION = re.compile(r":model-package/[^/]+/([0-9]+)$")


def _package_version(model: Resource) -> int | None:
    """The model package version a SageMaker model serves, None for an image or unknown ARN."""
    arn = get(model.inputs, "primaryContainer", "modelPackageName")
    match = PACKAGE_VERSION.search(arn) if isinstance(arn, str) else None
    return int(match.group(1)) if match else None


def _sagemaker_version(resources: Sequence[Resource]) -> tuple[Resource, int] | None:
    """The model of the first production variant (the primary) and the package version it
    serves; a name only known after deployment falls back to the one model no other variant
    or shadow names."""
    models = _of(resources, SAGEMAKER_MODEL)
    for config in _of(resources, SAGEMAKER_ENDPOINT_CONFIGURATION):
        variants = as_list(config.inputs.get("productionVariants"))
        if not variants:
            continue
        primary = get(variants[0], "modelName")
        others = {
            get(v, "modelName")
            for v in variants[1:] + as_list(config.inputs.get("shadowProductionVariants"))
        }
        if is_unknown(primary):
            candidates = [m for m in models if m.inputs.get("name") not in others]
        else:
            candidates = [m for m in models if m.inputs.get("name") == primary]
        if len(candidates) == 1:
            version = _package_version(candidates[0])
            if version is not None:
                return candidates[0], version
    return None


def _eks_versions(resources: Sequence[Resource]) -> Iterable[tuple[Resource, int | None]]:
    """Each of the kit's model-server workloads and the version its label records."""
    for workload in resources:
        if not is_kubernetes_workload(workload.type):
            continue
        labels = get(workload.inputs, "metadata", "labels") or {}
        if not isinstance(labels, Mapping) or any(
            labels.get(k) != v for k, v in KIT_WORKLOAD_LABELS.items()
        ):
            continue
        recorded = labels.get(MODEL_VERSION_LABEL)
        if is_unknown(recorded):
            continue
        yield workload, int(recorded) if str(recorded).isdigit() else None


MODEL_LABEL = "mlstack.io/model"
"""Label of the kit's workload in a stack of many models: the model's name."""
MODEL_TAG = "mlstack:model"
"""Tag of a model's AWS resources in a stack of many models: the model's name."""


def _of_model(resources: Sequence[Resource], name: str) -> list[Resource]:
    """The resources tagged as ``name``'s (its endpoint configuration and models)."""
    return [
        r
        for r in resources
        if isinstance(r.inputs.get("tags"), Mapping) and r.inputs["tags"].get(MODEL_TAG) == name
    ]


def _same_model_version(
    resources: Sequence[Resource], context: StackContext
) -> Iterable[Violation]:
    for workload, recorded in _eks_versions(resources):
        labels = get(workload.inputs, "metadata", "labels") or {}
        name = labels.get(MODEL_LABEL) if isinstance(labels, Mapping) else None
        served = _sagemaker_version(resources if name is None else _of_model(resources, name))
        if served is None:
            continue
        _, version = served
        model = "" if name is None else f"model '{name}': "
        promote = f"mlstack model promote {context.stack}{'' if name is None else ' ' + name}"
        if recorded is None:
            yield Violation(
                workload.urn,
                f"{model}SageMaker serves model version {version}; the EKS workload records no "
                "version: set mlstack:kubernetes.modelVersion with the artifact and image "
                f"digest of version {version} ({promote} --version {version} writes them)",
            )
        elif recorded != version:
            yield Violation(
                workload.urn,
                f"{model}SageMaker serves model version {version} but EKS serves version "
                f"{recorded}: promote both paths with `{promote} --version {version}` (or set "
                "the model's packageVersion and kubernetes.modelVersion to one version)",
            )


# --- artifact write protection ---------------------------------------------------------------

OWNER_CONDITIONS = ("ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike")
"""Negated operators that exempt named principals (``aws:PrincipalArn``) from a Deny."""


def _fetched_objects(workload: Resource) -> list[tuple[str, str]]:
    """``(bucket, key)`` of every S3 object a workload's init containers fetch."""
    spec = pod_spec(workload.type, workload.inputs) or {}
    found = []
    for container in as_list(spec.get("initContainers")):
        words = strings(get(container, "command")) + strings(get(container, "args"))
        for word in words:
            if word.startswith("s3://"):
                bucket, _, key = word.removeprefix("s3://").partition("/")
                found.append((bucket, key))
        if "--bucket" in words[:-1] and "--key" in words[:-1]:
            found.append((words[words.index("--bucket") + 1], words[words.index("--key") + 1]))
    return found


def _denies_writes(statement: Mapping[str, Any], bucket: str, key: str) -> bool:
    """A Deny of PutObject on ``bucket/key`` to everyone but principals named by ARN."""
    if statement.get("Effect") != "Deny" or get(statement, "Principal") not in ("*", {"AWS": "*"}):
        return False
    actions = strings(statement.get("Action"))
    if not any(a in ("s3:*", "s3:Put*", "s3:PutObject*", "s3:PutObject") for a in actions):
        return False
    target = f"{bucket}/{key}"
    if not any(
        fnmatch.fnmatchcase(target, r.split(":::", 1)[-1])
        for r in strings(statement.get("Resource"))
    ):
        return False
    condition = statement.get("Condition")
    if condition is None:
        return True
    if not isinstance(condition, Mapping) or set(condition) - set(OWNER_CONDITIONS):
        return False
    return all(
        isinstance(test, Mapping) and set(test) == {"aws:PrincipalArn"}
        for test in condition.values()
    )


def _artifact_write_protected(
    resources: Sequence[Resource], _: StackContext
) -> Iterable[Violation]:
    policies = _of(resources, S3_BUCKET_POLICY)
    for workload in resources:
        if not is_kubernetes_workload(workload.type):
            continue
        for bucket, key in _fetched_objects(workload):
            if is_unknown(bucket) or is_unknown(key):
                continue
            guarding = [p for p in policies if _matches(p.inputs.get("bucket"), {bucket})]
            if not guarding:
                continue  # a bucket outside the stack: the pinned version or digest protects it
            statements = [
                s
                for p in guarding
                if not is_unknown(p.inputs.get("policy"))
                for s in policy_statements(p.inputs.get("policy"))
            ]
            if any(is_unknown(p.inputs.get("policy")) for p in guarding) or any(
                _denies_writes(s, bucket, key) for s in statements
            ):
                continue
            yield Violation(
                workload.urn,
                f"s3://{bucket}/{key} may be overwritten by any principal allowed s3:PutObject: "
                "deny writes under the model prefix in the bucket policy to all but the model "
                "writers",
            )


def _declared_tier(resources: Sequence[Resource], context: StackContext) -> Iterable[Violation]:
    configured = context.configured_environment
    if configured is not None and configured != context.environment:
        yield Violation(
            None,
            f"stack '{context.stack}' is declared {context.environment} in policy_pack/"
            f"tiers.yaml but its stack file says mlstack:environment: {configured}",
        )


RULES: tuple[StackRule, ...] = (
    StackRule(
        name="stack-tier-declared",
        description="A stack file's mlstack:environment matches the tier declared for the "
        "stack in policy_pack/tiers.yaml (a pull request cannot relabel production).",
        check=_declared_tier,
        fix="set mlstack:environment to the declared tier; tiers change only in "
        "policy_pack/tiers.yaml",
    ),
    StackRule(
        name="production-progressive-rollout",
        description="A production endpoint rolls out canary, linear or rolling, with "
        "auto-rollback alarms; a model on a shared fleet rolls its inference component's "
        "copies with auto-rollback alarms.",
        check=_progressive_rollout,
        fix="set mlstack:rollout.strategy (each model's rollout.strategy) to canary, linear or "
        "rolling (rolling on a shared fleet) and list rollbackAlarms",
        scope=Scope.PRODUCTION,
    ),
    StackRule(
        name="rollback-alarms-exist",
        description="Every alarm an endpoint rolls back on is declared in the same stack.",
        check=_rollback_alarms_exist,
        fix="declare the alarm in the stack (mlstack:rollout.rollbackAlarms) or drop the name",
    ),
    StackRule(
        name="production-data-capture",
        description="Production endpoint configurations capture a sample of their traffic.",
        check=_production_data_capture,
        fix="set mlstack:sagemaker.dataCapture.enabled: true",
        scope=Scope.PRODUCTION,
    ),
    StackRule(
        name="production-min-two-instances",
        description="Production serves from at least two instances, and never scales below.",
        check=_min_instances,
        fix="set mlstack:sagemaker.instanceCount and every autoscaling minimum to 2 or more",
        scope=Scope.PRODUCTION,
    ),
    StackRule(
        name="production-multi-az",
        description="Production models and nodes run in subnets of at least two AZs.",
        check=_multi_az,
        fix="set mlstack:network.availabilityZones: 3",
        scope=Scope.PRODUCTION,
    ),
    StackRule(
        name="production-image-digest",
        description="Production serves an image pinned by digest (or a registered model "
        "package version).",
        check=_image_digest,
        fix="set mlstack:model.packageVersion (SageMaker) and mlstack:kubernetes.imageDigest (EKS)",
        scope=Scope.PRODUCTION,
    ),
    StackRule(
        name="serving-paths-same-model-version",
        description="SageMaker and EKS serve the same model version (a violation in "
        "production, a warning at advisory enforcement).",
        check=_same_model_version,
        fix="promote with `mlstack model promote STACK [MODEL] --version N`, which sets "
        "mlstack:model.packageVersion and mlstack:kubernetes.modelVersion, modelArtifact and "
        "imageDigest together",
    ),
    StackRule(
        name="production-model-artifact-write-protected",
        description="The bucket policy of a stack's own bucket denies writing the model "
        "artifact an EKS workload fetches to all but named principals.",
        check=_artifact_write_protected,
        fix="list the release role in mlstack:registry.modelWriterArns and keep "
        "mlstack:kubernetes.modelArtifact under mlstack:registry.modelPrefix",
        scope=Scope.PRODUCTION,
    ),
    StackRule(
        name="drift-monitoring-with-capture",
        description="Wherever traffic is captured, a scheduled Model Monitor job watches it "
        "for drift.",
        check=_drift_monitoring,
        fix="set mlstack:monitoring.drift.enabled: true with its baselines (or turn off "
        "mlstack:sagemaker.dataCapture)",
    ),
)
