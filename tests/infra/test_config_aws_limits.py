"""What AWS or Kubernetes would refuse is refused at config time, with the limit in words."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config.types import ec2_instance_types, sagemaker_endpoint_instance_types
from tests.infra.config_helpers import config_from_doc, rejection, shipped_doc


@pytest.mark.parametrize(
    ("region", "advice"),
    [("us-east-99", "an AWS region that exists"), ("US-EAST-1", "lower case: us-east-1")],
)
def test_rejects_region_that_does_not_exist_or_is_miscased(region: str, advice: str) -> None:
    message = rejection(lambda doc: doc.update({"aws:region": region}))
    assert f'aws:region = "{region}"' in message
    assert advice in message


@pytest.mark.parametrize("instance_type", ["ml.zz9.xlarge", "ml.c5.48xlarge"])
def test_rejects_sagemaker_instance_type_not_offered(instance_type: str) -> None:
    assert instance_type not in sagemaker_endpoint_instance_types()
    message = rejection(lambda doc: doc["mlstack:sagemaker"].update(instanceType=instance_type))
    assert "an instance type SageMaker endpoints offer" in message


def test_rejects_eks_node_type_ec2_does_not_have() -> None:
    assert "m6i.xlarge" in ec2_instance_types()
    message = rejection(
        lambda doc: doc["mlstack:eks"]["nodeGroup"].update(instanceTypes=["m6i.huge"])
    )
    assert "mlstack:eks.nodeGroup.instanceTypes[0]" in message


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"memoryRequest": "2Gi", "memoryLimit": "1Gi"}, "memoryLimit"),
        ({"cpuRequest": "1500m", "cpuLimit": "1"}, "cpuLimit"),
    ],
)
def test_rejects_kubernetes_limit_below_request(fields: dict[str, str], key: str) -> None:
    message = rejection(lambda doc: doc["mlstack:kubernetes"].update(fields))
    assert f"mlstack:kubernetes.{key}" in message
    assert "below its request" in message


def test_accepts_limit_equal_to_request_in_other_units() -> None:
    doc = shipped_doc("production")
    doc["mlstack:kubernetes"].update(cpuRequest="1000m", cpuLimit="1")
    assert config_from_doc("production", doc).kubernetes.cpu_limit == "1"


def test_rejects_more_tags_than_aws_allows_counting_the_kits_own() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:tags"] = {f"tag-{i}": "x" for i in range(48)}

    message = rejection(edit)
    assert "AWS allows 50 tags per resource and the kit adds 3: keep at most 47" in message
    many = rejection(lambda doc: doc.update({"mlstack:tags": {f"t{i}": "x" for i in range(20000)}}))
    assert "20000 tags" in many


def test_rejects_linear_rollout_that_cannot_finish_in_the_timeout() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:rollout"].update(
            strategy="linear", stepPercent=10, bakeSeconds=3600, maximumExecutionTimeoutSeconds=3600
        )

    message = rejection(edit)
    assert "mlstack:rollout.maximumExecutionTimeoutSeconds = 3600" in message
    assert "32400 s" in message


def test_rejects_drift_without_watched_features() -> None:
    message = rejection(lambda doc: doc["mlstack:monitoring"]["drift"].update(watchedFeatures=[]))
    assert "mlstack:monitoring.drift.watchedFeatures = []" in message


def test_rejects_a_sixth_rollback_alarm_one_per_metric() -> None:
    metrics = ["latency-p99", "latency-average", "errors-5xx", "errors-4xx", "model-errors"]
    alarms = [{"metric": m, "threshold": 1} for m in [*metrics, "errors-5xx"]]
    message = rejection(lambda doc: doc["mlstack:rollout"].update(rollbackAlarms=alarms))
    assert "at most 5 entries" in message
