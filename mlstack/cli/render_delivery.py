"""Plan section of the SageMaker path: the alarms.

It reads the plan alone (the compiled Endpoint and MetricAlarm inputs), so it shows what
would be deployed; the rollout timeline is the summary's (:mod:`mlstack.review`).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from mlstack.offline.plan import Plan
from policy_pack.type_tokens import (
    CLOUDWATCH_METRIC_ALARM,
    SAGEMAKER_ENDPOINT,
)


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
    alarms = plan.of_type(CLOUDWATCH_METRIC_ALARM)
    if not alarms:
        return
    rollbacks: dict[str, list[str]] = {}
    for endpoint in plan.of_type(SAGEMAKER_ENDPOINT):
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
