"""The root of a stack's config, and the rules that span its sections.

Section rules live in each section's module; what needs two sections or the environment
(production minimums, the EKS path, the account) lives here. Every rule reports a
:class:`~infra.config.types.FieldError`; all of them are collected, so a user sees every
problem of a file at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Any

from pydantic import ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from infra.config.autoscaling import AutoscalingConfig
from infra.config.eks import EksConfig
from infra.config.errors import PROJECT
from infra.config.kubernetes import KubernetesServingConfig
from infra.config.model import ModelConfig
from infra.config.monitoring import MonitoringConfig
from infra.config.network import NatMode, NetworkConfig
from infra.config.policy import PolicyConfig, PolicyEnforcement
from infra.config.registry import RegistryConfig
from infra.config.rollout import RollbackMetric, RolloutPolicy, RolloutStrategy
from infra.config.sagemaker import EndpointMode, SageMakerConfig
from infra.config.types import (
    MAX_TAGS,
    AccountId,
    FieldError,
    Region,
    Section,
    raise_all,
    tag_problem,
)


class Environment(str, Enum):
    """How strict a stack is. ``production`` turns on the production minimums."""

    STAGING = "staging"
    PRODUCTION = "production"


PRODUCTION_MIN_BAKE_SECONDS = 300
"""Production bakes each step this long: alarms need minutes of traffic to see a bad version."""
PRODUCTION_MIN_TERMINATION_WAIT_SECONDS = 300
"""Production keeps the old fleet this long after the shift, so a late rollback is instant."""
PRODUCTION_MAX_5XX_ROLLBACK_PERCENT = 5.0
"""Production rolls back at or below this 5xx rate, in percent of invocations."""
PRODUCTION_MAX_LATENCY_ROLLBACK_FACTOR = 3
"""A latency rollback threshold is at most this many times the operational alarm's."""

LATENCY_METRICS = (RollbackMetric.LATENCY_P99, RollbackMetric.LATENCY_AVERAGE)
ERROR_METRICS = (RollbackMetric.ERRORS_5XX,)

OWNER_CHARACTERS = "1-128 letters, digits, spaces and _ . : / = + - @"


class StackConfig(Section):
    """Everything a stack declares, validated. Build it with ``build_stack_config``."""

    stack: str
    """The stack's name (from the file name, not a key)."""
    environment: Environment
    """staging or production; production turns on the production minimums. Required."""
    region: Region
    """AWS region of every resource in the stack (aws:region). Required."""
    owner: str
    """Owning team, tagged on every resource as owner and paged by the alarms. Required."""
    account_id: AccountId | None = None
    """The AWS account the stack deploys to, 12 digits, quoted. Required when eks is enabled
    (admin principals must be in it). Default none."""
    tags: dict[str, str] = {}
    """Extra tags on every taggable resource; at most 47, the kit adds 3 of its own. An
    integer value is read as a string. Default none."""
    registry: RegistryConfig = RegistryConfig()
    model: ModelConfig = ModelConfig()
    sagemaker: SageMakerConfig = SageMakerConfig()
    rollout: RolloutPolicy = RolloutPolicy()
    autoscaling: AutoscalingConfig = AutoscalingConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    policy: PolicyConfig = PolicyConfig()
    network: NetworkConfig = NetworkConfig()
    eks: EksConfig = EksConfig()
    kubernetes: KubernetesServingConfig = KubernetesServingConfig()

    @field_validator("owner", mode="before")
    @classmethod
    def _owner_in_words(cls, value: Any) -> Any:
        # The owner is a tag value on every resource: the tag rules apply, plus a length.
        if isinstance(value, str) and (not 1 <= len(value) <= 128 or tag_problem("owner", value)):
            raise ValueError(f"the owning team: {OWNER_CHARACTERS}")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _integer_tag_values(cls, value: Any) -> Any:
        # YAML reads `cost-center: 1234` as a number; AWS stores every tag value as text.
        if isinstance(value, dict):
            return {
                k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
                for k, v in value.items()
            }
        return value

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> StackConfig:
        if not (info.context or {}).get("sections_valid", True):
            return self
        raise_all(
            [
                *self._production_rules(),
                *self._rollback_rules(),
                *self._eks_path_rules(),
                *self._cross_section_rules(),
                *self._tag_rules(),
            ]
        )
        return self

    def _production_rules(self) -> Iterator[FieldError]:
        if not self.is_production:
            return
        sagemaker = self.sagemaker
        if sagemaker.enabled and sagemaker.mode is EndpointMode.SERVERLESS:
            yield FieldError(
                "sagemaker.mode", "serverless", "production runs provisioned instances"
            )
        elif sagemaker.enabled and sagemaker.instance_count < 2:
            yield FieldError(
                "sagemaker.instanceCount",
                sagemaker.instance_count,
                "production needs at least 2 instances to survive an AZ outage",
            )
        if self.autoscaling.enabled and self.autoscaling.min_instances < 2:
            yield FieldError(
                "autoscaling.minInstances",
                self.autoscaling.min_instances,
                "production keeps at least 2 instances",
            )
        if self.policy.enforcement is not PolicyEnforcement.MANDATORY:
            yield FieldError(
                "policy.enforcement",
                self.policy.enforcement.value,
                "production enforces the policy pack: use mandatory",
            )

    def _rollback_rules(self) -> Iterator[FieldError]:
        """Production's rollback minimums: long enough bakes, an old fleet to return to, and
        alarms tight enough to catch a bad version."""
        if not self.is_production:
            return
        rollout = self.rollout
        if rollout.strategy is RolloutStrategy.ALL_AT_ONCE:
            yield FieldError(
                "rollout.strategy",
                rollout.strategy.value,
                "production needs canary, linear or rolling with rollback alarms",
            )
            return
        if rollout.bake_seconds < PRODUCTION_MIN_BAKE_SECONDS:
            yield FieldError(
                "rollout.bakeSeconds",
                rollout.bake_seconds,
                f"production bakes at least {PRODUCTION_MIN_BAKE_SECONDS} s: alarms need "
                "minutes of traffic to see a bad version",
            )
        if rollout.termination_wait_seconds < PRODUCTION_MIN_TERMINATION_WAIT_SECONDS:
            yield FieldError(
                "rollout.terminationWaitSeconds",
                rollout.termination_wait_seconds,
                f"production keeps the old fleet at least {PRODUCTION_MIN_TERMINATION_WAIT_SECONDS}"
                " s, so a late rollback is instant",
            )
        metrics = {alarm.metric for alarm in rollout.rollback_alarms}
        if not metrics & set(LATENCY_METRICS) or not metrics & set(ERROR_METRICS):
            yield FieldError(
                "rollout.rollbackAlarms",
                sorted(m.value for m in metrics),
                "production rolls back on at least a latency metric and errors-5xx",
            )
        operational = {
            RollbackMetric.LATENCY_P99: self.monitoring.alarms.latency_p99.threshold,
            RollbackMetric.LATENCY_AVERAGE: self.monitoring.alarms.latency_average.threshold,
        }
        factor = PRODUCTION_MAX_LATENCY_ROLLBACK_FACTOR
        for index, alarm in enumerate(rollout.rollback_alarms):
            path = f"rollout.rollbackAlarms[{index}].threshold"
            if (
                alarm.metric is RollbackMetric.ERRORS_5XX
                and alarm.threshold > PRODUCTION_MAX_5XX_ROLLBACK_PERCENT
            ):
                yield FieldError(
                    path,
                    alarm.threshold,
                    f"production rolls back at {PRODUCTION_MAX_5XX_ROLLBACK_PERCENT:g}% 5xx "
                    "errors or less: more lets a broken version through",
                )
            limit = operational.get(alarm.metric)
            if limit is not None and alarm.threshold > factor * limit:
                yield FieldError(
                    path,
                    alarm.threshold,
                    f"production rolls back at most {factor}x the {alarm.metric.value} alarm "
                    f"(monitoring.alarms: {limit:g} ms), so at most {factor * limit:g} ms",
                )

    def _eks_path_rules(self) -> Iterator[FieldError]:
        """The EKS path: cluster needs the VPC, admins of the stack's account and a pinned
        image; production spreads over three AZs without a single NAT and pins every image
        by digest."""
        eks, serving, network = self.eks, self.kubernetes, self.network
        if eks.enabled and not network.enabled:
            yield FieldError("eks.enabled", True, "the cluster runs in the VPC: enable network")
        if eks.enabled and not eks.admin_principal_arns:
            yield FieldError(
                "eks.adminPrincipalArns", [], "name 1-20 IAM principals, including the deployer"
            )
        if eks.enabled and self.account_id is None:
            yield FieldError(
                "accountId", None, 'the cluster\'s account, 12 digits quoted: "123456789012"'
            )
        if eks.enabled and self.account_id is not None:
            for index, arn in enumerate(eks.admin_principal_arns):
                account = arn.split(":")[4]
                if account != self.account_id and arn not in eks.external_admin_principal_arns:
                    yield FieldError(
                        f"eks.adminPrincipalArns[{index}]",
                        arn,
                        f"not in account {self.account_id}: list it in "
                        "eks.externalAdminPrincipalArns too, after review",
                    )
        if self.account_id is not None:
            for index, arn in enumerate(self.registry.model_writer_arns):
                if arn.split(":")[4] != self.account_id:
                    yield FieldError(
                        f"registry.modelWriterArns[{index}]",
                        arn,
                        f"a principal of account {self.account_id}: the stack's own release "
                        "pipeline publishes its models",
                    )
        if eks.enabled and serving.image_tag is None and serving.image_digest is None:
            yield FieldError(
                "kubernetes.imageDigest", None, "pin the serving image: set imageDigest or imageTag"
            )
        if not self.is_production:
            return
        if network.enabled and network.availability_zones < 3:
            yield FieldError(
                "network.availabilityZones",
                network.availability_zones,
                "production spreads over 3 AZs",
            )
        if network.enabled and network.nat is NatMode.SINGLE:
            yield FieldError(
                "network.nat", "single", "production needs per-az (or none): no single-AZ NAT"
            )
        if not eks.enabled:
            return
        for key in ("image_digest", "model_fetcher_image_digest"):
            if getattr(serving, key) is None:
                yield FieldError(
                    f"kubernetes.{to_camel(key)}", None, "production pins images by digest"
                )
        if not serving.artifact_pinned:
            yield FieldError(
                "kubernetes.modelArtifactSha256",
                None,
                "production pins the model artifact: set modelArtifactSha256 or "
                "modelArtifactVersionId (from the model package), so a replaced file is "
                "never loaded",
            )
        artifact = serving.model_artifact
        if not artifact.startswith("s3://") and not artifact.startswith(
            f"{self.registry.model_prefix}/"
        ):
            yield FieldError(
                "kubernetes.modelArtifact",
                artifact,
                f"under registry.modelPrefix ({self.registry.model_prefix}/), where the bucket "
                "policy lets only registry.modelWriterArns write",
            )
        if serving.min_replicas < 2:
            yield FieldError(
                "kubernetes.minReplicas", serving.min_replicas, "production keeps at least 2 pods"
            )
        if eks.node_group.min_size < 2:
            yield FieldError(
                "eks.nodeGroup.minSize",
                eks.node_group.min_size,
                "production keeps at least 2 nodes",
            )

    def _cross_section_rules(self) -> Iterator[FieldError]:
        sagemaker = self.sagemaker
        serverless = sagemaker.mode is EndpointMode.SERVERLESS
        if sagemaker.enabled and not self.model.has_source:
            yield FieldError(
                "model.packageVersion",
                None,
                "the endpoint needs a model: set packageVersion (or imageUri)",
            )
        if self.rollout.strategy is RolloutStrategy.ROLLING and (
            serverless or sagemaker.ab_variants
        ):
            yield FieldError(
                "rollout.strategy",
                "rolling",
                "rolling updates are not for serverless or multi-variant endpoints",
            )
        if serverless and self.model.shadow is not None:
            yield FieldError(
                "model.shadow", "set", "serverless endpoints cannot run a shadow variant"
            )
        scaling = self.autoscaling
        in_range = scaling.min_instances <= sagemaker.instance_count <= scaling.max_instances
        if sagemaker.enabled and not serverless and scaling.enabled and not in_range:
            yield FieldError(
                "sagemaker.instanceCount",
                sagemaker.instance_count,
                f"within autoscaling {scaling.min_instances}-{scaling.max_instances}",
            )
        if self.monitoring.drift.enabled and not (
            sagemaker.enabled and sagemaker.data_capture.enabled
        ):
            yield FieldError(
                "monitoring.drift.enabled",
                True,
                "drift monitoring reads captured data: enable sagemaker.dataCapture",
            )
        yield from self._loop_rules()

    def _loop_rules(self) -> Iterator[FieldError]:
        """The retraining loop: triggers need the alarm they listen to, monitors need the
        captured data they read."""
        model, sagemaker = self.model, self.sagemaker
        retraining = model.retraining
        if retraining.enabled and retraining.drift_trigger and not self.monitoring.drift.enabled:
            yield FieldError(
                "model.retraining.driftTrigger",
                True,
                "the drift trigger listens to the data-drift alarm: enable monitoring.drift "
                "or set driftTrigger: false",
            )
        captured = sagemaker.enabled and sagemaker.data_capture.enabled
        for key, section in (
            ("qualityMonitoring", model.quality_monitoring),
            ("explainability", model.explainability),
        ):
            if section.enabled and not captured:
                yield FieldError(
                    f"model.{key}.enabled",
                    True,
                    "the monitor reads the endpoint's captured data: enable sagemaker and "
                    "sagemaker.dataCapture",
                )

    def _tag_rules(self) -> Iterator[FieldError]:
        for key, value in self.tags.items():
            problem = tag_problem(key, value)
            if problem is not None:
                yield FieldError(f"tags.{key}", value, problem)
        total = len(self.resource_tags())
        if total > MAX_TAGS:
            kit = len(self.resource_tags()) - len(self.tags)
            yield FieldError(
                "tags",
                f"{len(self.tags)} tags",
                f"AWS allows {MAX_TAGS} tags per resource and the kit adds {kit}: "
                f"keep at most {MAX_TAGS - kit}",
            )

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def endpoint_name(self) -> str:
        """The SageMaker endpoint's name: ``sagemaker.endpointName`` or ``mlstack-<stack>``."""
        return self.sagemaker.endpoint_name or f"{PROJECT}-{self.stack}"

    @property
    def model_package_group_name(self) -> str:
        """The group the served versions come from (``model`` first, then ``registry``)."""
        return self.model.package_group_name or self.registry.model_package_group_name

    def resource_tags(self) -> dict[str, str]:
        """Tags applied to every taggable resource: the stack's own plus kit defaults."""
        return {
            "mlstack:stack": self.stack,
            "mlstack:environment": self.environment.value,
            "owner": self.owner,
            **self.tags,
        }
