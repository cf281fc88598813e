"""A stack file with several mistakes gets all of them at once, root causes first."""

from __future__ import annotations

from typing import Any

from tests.infra.config_helpers import rejection


def test_three_mistakes_in_three_sections_are_three_problems() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:sagemaker"]["instanceCount"] = "three"
        doc["mlstack:rollout"]["stepPercent"] = 80
        doc["mlstack:network"]["cidr"] = "8.8.0.0/16"

    lines = rejection(edit).splitlines()
    assert len(lines) == 6
    firsts = lines[0::2]
    assert [line.split(": ")[1].split(" = ")[0] for line in firsts] == [
        "mlstack:sagemaker.instanceCount",
        "mlstack:rollout.stepPercent",
        "mlstack:network.cidr",
    ]
    assert all(line.startswith("  ") for line in lines[1::2])


def test_two_rules_of_one_section_are_both_reported() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:rollout"]["bakeSeconds"] = 60
        doc["mlstack:rollout"]["terminationWaitSeconds"] = 0

    message = rejection(edit)
    assert "mlstack:rollout.bakeSeconds = 60" in message
    assert "mlstack:rollout.terminationWaitSeconds = 0" in message


def test_serverless_in_production_reports_the_root_cause_only() -> None:
    message = rejection(lambda doc: doc["mlstack:sagemaker"].update({"mode": "serverless"}))
    assert message.splitlines() == [
        'stacks/Pulumi.production.yaml: mlstack:sagemaker.mode = "serverless"',
        "  production runs provisioned instances",
    ]


def test_serverless_in_staging_still_names_what_it_needs() -> None:
    message = rejection(
        lambda doc: doc["mlstack:sagemaker"].update({"mode": "serverless"}), "staging"
    )
    assert "dataCapture.enabled" in message
    assert "networkIsolation" in message


def test_a_failed_section_does_not_drag_in_rules_about_its_defaults() -> None:
    message = rejection(lambda doc: doc["mlstack:network"].update({"cidr": "10.0.0.0/24"}))
    assert "mlstack:network.cidr" in message
    assert "enable network" not in message
