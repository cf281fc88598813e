"""Lookups over a plan's SageMaker and monitoring resources, shared by the delivery tests."""

from __future__ import annotations

from typing import Any

from mlstack.offline.plan import Plan, PlannedResource

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"


def only(plan: Plan, type_token: str) -> PlannedResource:
    """The single resource of ``type_token``; fails when there are none or several."""
    found = plan.of_type(type_token)
    assert len(found) == 1, f"{plan.stack}: {len(found)} x {type_token}"
    return found[0]


def deployment_config(plan: Plan) -> dict[str, Any]:
    return only(plan, ENDPOINT).inputs["deploymentConfig"]


def alarms_by_name(plan: Plan) -> dict[str, dict[str, Any]]:
    return {a.inputs["name"]: a.inputs for a in plan.of_type(ALARM)}


def rollback_alarm_names(plan: Plan) -> list[str]:
    config = deployment_config(plan)
    return [a["alarmName"] for a in config["autoRollbackConfiguration"]["alarms"]]


def metric_dimensions(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The dimensions of every metric an alarm reads (plain or metric math)."""
    if alarm.get("metricQueries"):
        return [q["metric"]["dimensions"] for q in alarm["metricQueries"] if q.get("metric")]
    return [alarm["dimensions"]]
