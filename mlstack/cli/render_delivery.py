"""Plan sections of the SageMaker path: the rollout timeline and the alarms.

Both read the plan alone (the compiled Endpoint inputs and the MetricAlarm inputs), so they
show what would be deployed, not what the config meant.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from infra.rollout import timeline_from_sagemaker
from mlstack.offline.plan import Plan

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
ALARM_TAG = "mlstack:alarm"


def _alarm_labels(plan: Plan) -> dict[str, str]:
    """Alarm name -> its kind (the ``mlstack:alarm`` tag), e.g. ``latency-p99``."""
    labels = {}
    for alarm in plan.of_type(ALARM):
        name = alarm.inputs.get("name")
        if isinstance(name, str):
            labels[name] = (alarm.inputs.get("tags") or {}).get(ALARM_TAG, name)
    return labels


def rollout_timeline(plan: Plan, console: Console) -> None:
    """One line per endpoint: ``10% -> bake 600 s -> 100%, ..., rollback on: latency-p99``."""
    endpoints = plan.of_type(ENDPOINT)
    if not endpoints:
        return
    labels = _alarm_labels(plan)
    console.print("[bold]rollout[/bold]")
    for endpoint in endpoints:
        timeline = timeline_from_sagemaker(endpoint.inputs.get("deploymentConfig") or {})
        name = endpoint.inputs.get("name", endpoint.name)
        console.print(escape(f"  {name} ({timeline.strategy}): {timeline.describe(labels)}"))


def _metric(inputs: dict[str, Any]) -> str:
    queries = inputs.get("metricQueries") or []
    if queries:
        metrics = [q["metric"]["metricName"] for q in queries if q.get("metric")]
        expression = next((q.get("expression") for q in queries if q.get("expression")), "")
        return f"{expression} [{', '.join(metrics)}]"
    stat = inputs.get("extendedStatistic") or inputs.get("statistic") or ""
    return f"{inputs.get('metricName')} {stat}".strip()


def _short(arn: Any) -> str:
    return str(arn).rsplit(":", 1)[-1]


def alarm_table(plan: Plan, console: Console) -> None:
    """Every alarm on one line: what it watches and its threshold (in the config's units), the
    window, missing-data handling, whom it notifies and which endpoint it rolls back."""
    alarms = plan.of_type(ALARM)
    if not alarms:
        return
    rollbacks: dict[str, list[str]] = {}
    for endpoint in plan.of_type(ENDPOINT):
        config = endpoint.inputs.get("deploymentConfig") or {}
        for entry in (config.get("autoRollbackConfiguration") or {}).get("alarms") or []:
            rollbacks.setdefault(entry.get("alarmName"), []).append(
                str(endpoint.inputs.get("name", endpoint.name))
            )
    console.print(f"[bold]alarms[/bold] ({len(alarms)})")
    for alarm in sorted(alarms, key=lambda a: str(a.inputs.get("name"))):
        inputs = alarm.inputs
        name = str(inputs.get("name"))
        period = inputs.get("period") or next(
            (q["metric"]["period"] for q in inputs.get("metricQueries") or [] if q.get("metric")),
            "?",
        )
        datapoints = inputs.get("datapointsToAlarm") or inputs.get("evaluationPeriods")
        window = f"{_int(datapoints)} of {_int(inputs.get('evaluationPeriods'))} x {_int(period)} s"
        actions = sorted({_short(a) for a in inputs.get("alarmActions") or []})
        effects = [f"notify {', '.join(actions)}" if actions else "[red]notifies nobody[/red]"]
        if name in rollbacks:
            effects.append(f"roll back {', '.join(rollbacks[name])}")
        description = escape(str(inputs.get("alarmDescription", _metric(inputs))))
        detail = escape(
            f"{_metric(inputs)}, {window}, missing data {inputs.get('treatMissingData')}"
        )
        console.print(
            f"  {escape(name)}: {description} [dim]({detail})[/dim] -> {'; '.join(effects)}"
        )


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value
