"""The rollout policy: one spec (``mlstack:rollout``), compiled to SageMaker and to Kubernetes.

Pure Python: no Pulumi resources, no cloud calls. The spec is
:class:`infra.config.RolloutPolicy` (validated against AWS's limits in ``infra/config/``);
this module only translates it.

Public API (stable; the SageMaker endpoint and the EKS serving path both import it):

``Step(weight_percent, bake_seconds)``
    One traffic shift to the new version, then a bake while the alarms are watched.
``traffic_steps(policy) -> list[Step]``
    The target-neutral shift schedule; the last step always reaches 100 percent.
``sagemaker_deployment(policy) -> SageMakerDeployment``
    The endpoint's update policy; ``.deployment_config(alarm_names)`` adds the rollback alarms.
``SageMakerDeployment.deployment_config(alarm_names) -> dict``
    The endpoint's ``deployment_config`` in the shape of pulumi_aws's
    ``EndpointDeploymentConfigArgsDict`` (snake_case keys; alarm names may be Outputs).
``compile_argo_canary_steps(policy) -> list[dict]``
    Argo Rollouts ``spec.strategy.canary.steps`` (``setWeight`` / ``pause``).
``compile_argo_canary(policy, analysis_template=None) -> dict``
    The whole ``spec.strategy.canary`` block, with background analysis when a template is named.
``compile_kubernetes_strategy(policy) -> KubernetesStrategy``
    Compiled once by the program and given to Argo Rollouts' installation and the workload:
    ``Rollout`` with canary steps for canary and linear, a plain ``Deployment`` with a
    ``RollingUpdate`` strategy for rolling and all-at-once.
``timeline(policy) -> Timeline``
    The rollout as a reader sees it, straight from the spec (the tooling prints it).
``timeline_from_sagemaker(deployment_config) -> Timeline``
    Read a compiled (camelCase, as in a plan) deployment config back into a :class:`Timeline`.
``Timeline.describe(labels) -> str``
    ``10% -> bake 600 s -> 100%, keep old fleet 600 s, rollback on: latency-p99, errors-5xx``.
``Timeline.describe_steps() -> str``
    The shifts and bakes alone: ``10% -> bake 600 s -> 100%``.
``Timeline.second_fleet_seconds``
    How long a blue/green deployment runs two fleets: every bake, then the old fleet's grace.

Semantics shared by both targets (SageMaker deployment guardrails as the reference):

* all-at-once: 100 percent at once, then a bake of ``bake_seconds`` watching the alarms.
* canary: ``step_percent`` first, bake, then the rest at once.
* linear: ``step_percent`` more every step, with a bake after each step but the last.
* rolling: batches of ``step_percent`` of the capacity (default 25), a bake after every batch.

After the full shift the old fleet is kept ``termination_wait_seconds`` (blue/green only), and
the whole deployment is bounded by ``maximum_execution_timeout_seconds``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.config.rollout import (
    ROLLING_DEFAULT_STEP_PERCENT,
    RollbackMetric,
    RolloutPolicy,
    RolloutStrategy,
)

_SAGEMAKER_TRAFFIC_TYPES = {
    RolloutStrategy.ALL_AT_ONCE: "ALL_AT_ONCE",
    RolloutStrategy.CANARY: "CANARY",
    RolloutStrategy.LINEAR: "LINEAR",
}


@dataclass(frozen=True)
class Step:
    """One traffic shift: the new version serves ``weight_percent`` of the traffic (or of the
    capacity, for rolling), then bakes ``bake_seconds`` while the rollback alarms are watched."""

    weight_percent: int
    bake_seconds: int


def rolling_batch_percent(policy: RolloutPolicy) -> int:
    """Batch size of a rolling update in percent of capacity. Default
    :data:`~infra.config.rollout.ROLLING_DEFAULT_STEP_PERCENT`."""
    return policy.step_percent or ROLLING_DEFAULT_STEP_PERCENT


def traffic_steps(policy: RolloutPolicy) -> list[Step]:
    """The shift schedule of ``policy``; the last step always reaches 100 percent."""
    bake = policy.bake_seconds
    strategy = policy.strategy
    if strategy is RolloutStrategy.ALL_AT_ONCE:
        return [Step(100, bake)]
    if strategy is RolloutStrategy.CANARY:
        return [Step(_step(policy), bake), Step(100, 0)]
    if strategy is RolloutStrategy.LINEAR:
        return _ramp(_step(policy), bake, bake_after_last=False)
    return _ramp(rolling_batch_percent(policy), bake, bake_after_last=True)


def _step(policy: RolloutPolicy) -> int:
    if policy.step_percent is None:  # config validation makes this unreachable
        raise ValueError(f"a {policy.strategy.value} rollout needs stepPercent")
    return policy.step_percent


def _ramp(step: int, bake: int, *, bake_after_last: bool) -> list[Step]:
    weights = [*range(step, 100, step), 100]
    return [Step(w, bake if (w < 100 or bake_after_last) else 0) for w in weights]


# ---------------------------------------------------------------------------------------------
# SageMaker
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SageMakerDeployment:
    """The endpoint's deployment policy compiled from the rollout policy; the rollback
    alarms are added by :meth:`deployment_config` once the endpoint has declared them."""

    update_policy: Mapping[str, Any]
    """``blue_green_update_policy`` or ``rolling_update_policy`` (snake_case, one key)."""

    def deployment_config(self, alarm_names: Sequence[Any] = ()) -> dict[str, Any]:
        """``deployment_config`` of the endpoint, in the shape of pulumi_aws's
        ``EndpointDeploymentConfigArgsDict``. ``alarm_names`` (strings or Outputs) roll the
        deployment back; none means no ``auto_rollback_configuration``."""
        config: dict[str, Any] = dict(self.update_policy)
        if alarm_names:
            config["auto_rollback_configuration"] = {
                "alarms": [{"alarm_name": name} for name in alarm_names]
            }
        return config


def sagemaker_deployment(policy: RolloutPolicy) -> SageMakerDeployment:
    """Compile ``policy`` for a SageMaker endpoint: a rolling update, or blue/green traffic
    shifting (all at once, canary or linear)."""
    if policy.strategy is RolloutStrategy.ROLLING:
        return SageMakerDeployment(
            {
                "rolling_update_policy": {
                    "maximum_batch_size": {
                        "type": "CAPACITY_PERCENT",
                        "value": rolling_batch_percent(policy),
                    },
                    "wait_interval_in_seconds": policy.bake_seconds,
                    "maximum_execution_timeout_in_seconds": (
                        policy.maximum_execution_timeout_seconds
                    ),
                    # Roll back by bringing the whole old fleet up at once: the fastest recovery.
                    "rollback_maximum_batch_size": {"type": "CAPACITY_PERCENT", "value": 100},
                }
            }
        )
    routing: dict[str, Any] = {
        "type": _SAGEMAKER_TRAFFIC_TYPES[policy.strategy],
        "wait_interval_in_seconds": policy.bake_seconds,
    }
    if policy.strategy is RolloutStrategy.CANARY:
        routing["canary_size"] = {"type": "CAPACITY_PERCENT", "value": _step(policy)}
    elif policy.strategy is RolloutStrategy.LINEAR:
        routing["linear_step_size"] = {"type": "CAPACITY_PERCENT", "value": _step(policy)}
    return SageMakerDeployment(
        {
            "blue_green_update_policy": {
                "traffic_routing_configuration": routing,
                "termination_wait_in_seconds": policy.termination_wait_seconds,
                "maximum_execution_timeout_in_seconds": policy.maximum_execution_timeout_seconds,
            }
        }
    )


@dataclass(frozen=True)
class Timeline:
    """A rollout as a reader sees it: shifts, bakes, the old fleet's grace and the alarms."""

    strategy: str
    steps: tuple[Step, ...]
    termination_wait_seconds: int = 0
    maximum_execution_timeout_seconds: int | None = None
    rollback_alarms: tuple[str, ...] = field(default_factory=tuple)

    @property
    def blue_green(self) -> bool:
        """Whether the deployment brings up a whole second fleet (every strategy but rolling)."""
        return self.strategy != RolloutStrategy.ROLLING.value

    @property
    def bake_seconds(self) -> int:
        """Seconds spent baking across all steps."""
        return sum(step.bake_seconds for step in self.steps)

    @property
    def second_fleet_seconds(self) -> int:
        """Seconds a blue/green deployment runs the new fleet beside the old one: from the
        first shift through every bake to the old fleet's termination. 0 for rolling."""
        if not self.blue_green:
            return 0
        return self.bake_seconds + self.termination_wait_seconds

    def describe_steps(self) -> str:
        """The shifts and bakes alone, e.g. ``10% -> bake 600 s -> 100%``."""
        parts: list[str] = []
        for step in self.steps:
            parts.append(f"{step.weight_percent}%")
            if step.bake_seconds:
                parts.append(f"bake {step.bake_seconds} s")
        return " -> ".join(parts)

    def describe(self, labels: Mapping[str, str] | None = None, *, with_alarms: bool = True) -> str:
        """One line, e.g. ``10% -> bake 600 s -> 100%, keep old fleet 600 s, timeout 7200 s,
        rollback on: latency-p99, errors-5xx``. ``labels`` maps alarm names to short names;
        ``with_alarms=False`` leaves the alarms to the caller (default: named)."""
        text = self.describe_steps()
        extras = []
        if self.termination_wait_seconds:
            extras.append(f"keep old fleet {self.termination_wait_seconds} s")
        if self.maximum_execution_timeout_seconds:
            extras.append(f"timeout {self.maximum_execution_timeout_seconds} s")
        if with_alarms:
            names = [(labels or {}).get(a, a) for a in self.rollback_alarms]
            extras.append(f"rollback on: {', '.join(names)}" if names else "no automatic rollback")
        return ", ".join([text, *extras])


def timeline(policy: RolloutPolicy) -> Timeline:
    """The :class:`Timeline` of ``policy`` straight from the spec: its shifts and bakes, the
    old fleet's grace (blue/green only), the timeout and the rollback alarms' metrics."""
    rolling = policy.strategy is RolloutStrategy.ROLLING
    return Timeline(
        strategy=policy.strategy.value,
        steps=tuple(traffic_steps(policy)),
        termination_wait_seconds=0 if rolling else policy.termination_wait_seconds,
        maximum_execution_timeout_seconds=policy.maximum_execution_timeout_seconds,
        rollback_alarms=tuple(alarm.metric.value for alarm in policy.rollback_alarms),
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def timeline_from_sagemaker(deployment_config: Mapping[str, Any]) -> Timeline:
    """Read a compiled deployment config (camelCase, as the engine receives it) back into a
    :class:`Timeline`. An empty config is SageMaker's default: all at once, no bake."""
    alarms = tuple(
        str(alarm.get("alarmName"))
        for alarm in (deployment_config.get("autoRollbackConfiguration") or {}).get("alarms") or []
    )
    rolling = deployment_config.get("rollingUpdatePolicy")
    if rolling:
        step = int(rolling["maximumBatchSize"]["value"])
        return Timeline(
            strategy=RolloutStrategy.ROLLING.value,
            steps=tuple(_ramp(step, int(rolling["waitIntervalInSeconds"]), bake_after_last=True)),
            maximum_execution_timeout_seconds=_int_or_none(
                rolling.get("maximumExecutionTimeoutInSeconds")
            ),
            rollback_alarms=alarms,
        )
    blue_green = deployment_config.get("blueGreenUpdatePolicy")
    if not blue_green:
        return Timeline(strategy=RolloutStrategy.ALL_AT_ONCE.value, steps=(Step(100, 0),))
    routing = blue_green["trafficRoutingConfiguration"]
    bake = int(routing.get("waitIntervalInSeconds") or 0)
    kind = routing["type"]
    if kind == "CANARY":
        steps = [Step(int(routing["canarySize"]["value"]), bake), Step(100, 0)]
    elif kind == "LINEAR":
        steps = _ramp(int(routing["linearStepSize"]["value"]), bake, bake_after_last=False)
    else:
        steps = [Step(100, bake)]
    strategy = {v: k.value for k, v in _SAGEMAKER_TRAFFIC_TYPES.items()}[kind]
    return Timeline(
        strategy=strategy,
        steps=tuple(steps),
        termination_wait_seconds=int(blue_green.get("terminationWaitInSeconds") or 0),
        maximum_execution_timeout_seconds=_int_or_none(
            blue_green.get("maximumExecutionTimeoutInSeconds")
        ),
        rollback_alarms=alarms,
    )


# ---------------------------------------------------------------------------------------------
# Kubernetes (Argo Rollouts or a plain Deployment)
# ---------------------------------------------------------------------------------------------


def compile_argo_canary_steps(policy: RolloutPolicy) -> list[dict[str, Any]]:
    """Argo Rollouts canary steps: ``setWeight`` per shift, ``pause`` for each bake.

    Defined for every strategy (all-at-once is one step to 100 percent), though
    :func:`compile_kubernetes_strategy` uses a Rollout only for canary and linear.
    """
    steps: list[dict[str, Any]] = []
    for step in traffic_steps(policy):
        steps.append({"setWeight": step.weight_percent})
        if step.bake_seconds:
            steps.append({"pause": {"duration": f"{step.bake_seconds}s"}})
    return steps


def compile_argo_canary(
    policy: RolloutPolicy, analysis_template: str | None = None
) -> dict[str, Any]:
    """The target-neutral core of Argo Rollouts' ``spec.strategy.canary`` block.

    The policy's steps, a surge-only replacement (never fewer ready pods than desired) and,
    when ``analysis_template`` is given, that AnalysisTemplate run in the background from the
    first step: a failed analysis aborts the rollout and shifts traffic back (the counterpart
    of SageMaker's auto-rollback alarms). Services and analysis arguments are the caller's.
    Without a traffic router Argo rejects ``scaleDownDelaySeconds``, so the old ReplicaSet is
    kept by the steps' bakes rather than a termination wait; aborting on a missed progress
    deadline is a Rollout ``spec`` field (:attr:`KubernetesStrategy.progress_deadline_abort`).
    """
    canary: dict[str, Any] = {
        "maxSurge": "25%",
        "maxUnavailable": 0,
        "steps": compile_argo_canary_steps(policy),
    }
    if analysis_template:
        canary["analysis"] = argo_background_analysis(analysis_template)
    return canary


def argo_background_analysis(analysis_template: str) -> dict[str, Any]:
    """``canary.analysis``: ``analysis_template`` runs in the background from the first step."""
    return {"templates": [{"templateName": analysis_template}], "startingStep": 1}


@dataclass(frozen=True)
class CanaryCheck:
    """One rollback alarm of the policy, checked on the canary's pods by the analysis."""

    metric: RollbackMetric
    """What is measured (latency in milliseconds, or an error rate in percent)."""
    threshold: float
    """Upper bound, in the metric's unit (milliseconds, or percent of invocations)."""
    evaluation_periods: int
    """Failed one-minute measurements that fail the analysis."""


@dataclass(frozen=True)
class KubernetesStrategy:
    """How the Kubernetes serving path rolls out, compiled once from the rollout policy and
    given both to the Argo Rollouts installation and to the serving workload.

    ``kind`` is ``Rollout`` (argoproj.io/v1alpha1; ``strategy`` is ``{"canary": {...}}``
    without analysis, see :meth:`canary`) or ``Deployment`` (apps/v1; ``strategy`` is a
    ``RollingUpdate`` strategy). ``progress_deadline_seconds`` bounds the whole rollout, like
    SageMaker's timeout.
    """

    kind: str
    """``Rollout`` or ``Deployment``."""
    strategy: Mapping[str, Any]
    """The workload's strategy block (camelCase, as the cluster receives it)."""
    progress_deadline_seconds: int
    """Seconds the whole rollout may take before it counts as failed."""
    progress_deadline_abort: bool = False
    """Rollout only: abort (and roll back) when the deadline passes. Default false."""
    checks: tuple[CanaryCheck, ...] = ()
    """Rollout only: what the canary analysis measures (the policy's rollback alarms)."""

    @property
    def needs_argo_rollouts(self) -> bool:
        """Whether the workload is an Argo Rollouts ``Rollout`` (the controller must run)."""
        return self.kind == "Rollout"

    def canary(self, analysis_template: str) -> dict[str, Any]:
        """``spec.strategy.canary`` with ``analysis_template`` run in the background."""
        return {**self.strategy["canary"], "analysis": argo_background_analysis(analysis_template)}


def compile_kubernetes_strategy(
    policy: RolloutPolicy, analysis_template: str | None = None
) -> KubernetesStrategy:
    """``Rollout`` with canary steps for canary and linear; ``Deployment`` with a surge-only
    ``RollingUpdate`` (never fewer ready pods than desired) for rolling and all-at-once."""
    deadline = policy.maximum_execution_timeout_seconds
    if policy.strategy in (RolloutStrategy.CANARY, RolloutStrategy.LINEAR):
        return KubernetesStrategy(
            kind="Rollout",
            strategy={"canary": compile_argo_canary(policy, analysis_template)},
            progress_deadline_seconds=deadline,
            progress_deadline_abort=True,
            checks=tuple(
                CanaryCheck(a.metric, a.threshold, a.evaluation_periods)
                for a in policy.rollback_alarms
            ),
        )
    surge = 100 if policy.strategy is RolloutStrategy.ALL_AT_ONCE else rolling_batch_percent(policy)
    return KubernetesStrategy(
        kind="Deployment",
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": f"{surge}%", "maxUnavailable": 0},
        },
        progress_deadline_seconds=deadline,
    )
