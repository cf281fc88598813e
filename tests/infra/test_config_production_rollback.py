"""Production's rollback minimums, each with the minimum and why."""

from __future__ import annotations

from typing import Any

from tests.infra.config_helpers import rejection


def test_rejects_short_bake_in_production() -> None:
    message = rejection(lambda doc: doc["mlstack:rollout"].update(bakeSeconds=120))
    assert "mlstack:rollout.bakeSeconds = 120" in message
    assert "at least 300 s" in message


def test_rejects_short_termination_wait_in_production() -> None:
    message = rejection(lambda doc: doc["mlstack:rollout"].update(terminationWaitSeconds=60))
    assert "mlstack:rollout.terminationWaitSeconds = 60" in message
    assert "at least 300 s" in message


def test_rejects_loose_5xx_rollback_threshold_in_production() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:rollout"]["rollbackAlarms"][1]["threshold"] = 10

    message = rejection(edit)
    assert "mlstack:rollout.rollbackAlarms[1].threshold = 10" in message
    assert "5% 5xx errors or less" in message


def test_rejects_latency_rollback_above_three_times_the_operational_alarm() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:rollout"]["rollbackAlarms"][0]["threshold"] = 2000

    message = rejection(edit)
    assert "mlstack:rollout.rollbackAlarms[0].threshold = 2000" in message
    assert "at most 1500 ms" in message


def test_rejects_production_rollout_without_a_latency_alarm() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:rollout"]["rollbackAlarms"] = [{"metric": "errors-5xx", "threshold": 1}]

    assert "at least a latency metric and errors-5xx" in rejection(edit)


def test_staging_may_bake_briefly() -> None:
    from tests.infra.config_helpers import config_from_doc, shipped_doc

    doc = shipped_doc("staging")
    doc["mlstack:rollout"]["bakeSeconds"] = 0
    assert config_from_doc("staging", doc).rollout.bake_seconds == 0
