"""The loop's config sections: each rejection names the key and the fix; all problems of a
file are reported at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.config_helpers import config_from_doc, rejection, shipped_doc

M = "mlstack:model"


def _model(doc: dict[str, Any]) -> dict[str, Any]:
    return doc[M]


def test_production_declares_the_whole_loop() -> None:
    model = config_from_doc("production", shipped_doc("production")).model
    assert model.retraining.enabled and model.batch.enabled
    assert model.quality_monitoring.enabled and model.explainability.enabled
    assert model.retraining.hyperparameters["max_depth"] == "6"


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (
            lambda d: _model(d)["retraining"].pop("trainingImage"),
            "mlstack:model.retraining.trainingImage",
            "an ECR image",
        ),
        (
            lambda d: _model(d)["retraining"].update(schedule="rate(1 hour)"),
            "mlstack:model.retraining.schedule",
            "more often than minIntervalHours",
        ),
        (
            lambda d: _model(d)["retraining"].update(schedule="every sunday"),
            "mlstack:model.retraining.schedule",
            "EventBridge Scheduler expression",
        ),
        (
            lambda d: _model(d)["retraining"].update(minIntervalHours=0),
            "mlstack:model.retraining.minIntervalHours",
            "",
        ),
        (
            lambda d: _model(d)["retraining"]["hyperparameters"].update({"bad name": "1"}),
            "mlstack:model.retraining.hyperparameters.bad name",
            "letters, digits",
        ),
        (
            lambda d: d["mlstack:monitoring"]["drift"].update(enabled=False),
            "mlstack:model.retraining.driftTrigger",
            "enable monitoring.drift",
        ),
        (
            lambda d: _model(d)["batch"].update(outputPrefix="batch/churn-classifier/input"),
            "mlstack:model.batch.outputPrefix",
            "another prefix",
        ),
        (
            lambda d: _model(d)["batch"].update(instanceType="ml.nope.large"),
            "mlstack:model.batch.instanceType",
            "batch transform offers",
        ),
        (
            lambda d: _model(d)["qualityMonitoring"].update(problemType="Regression"),
            "mlstack:model.qualityMonitoring.metric",
            "a regression metric",
        ),
        (
            lambda d: d["mlstack:sagemaker"]["dataCapture"].update(enabled=False),
            "mlstack:model.qualityMonitoring.enabled",
            "captured data",
        ),
        (
            lambda d: _model(d)["explainability"].pop("analysisConfigUri"),
            "mlstack:model.explainability.analysisConfigUri",
            "analysis config",
        ),
        (
            lambda d: _model(d)["explainability"]["watchedFeatures"].update(tenure_months=0),
            "mlstack:model.explainability.watchedFeatures.tenure_months",
            "above 0",
        ),
    ],
)
def test_rejections_name_the_key(edit: Any, key: str, words: str) -> None:
    message = rejection(edit)
    assert key in message, message
    assert words in message, message


def test_batch_needs_the_approved_version() -> None:
    message = rejection(lambda d: _model(d).update(packageVersion=None, imageUri=IMAGE))
    assert "mlstack:model.batch.enabled" in message
    assert "set packageVersion" in message


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1.0"


def test_every_problem_at_once() -> None:
    def edit(d: dict[str, Any]) -> None:
        _model(d)["retraining"].pop("processingImage")
        _model(d)["explainability"].pop("analysisConfigUri")

    message = rejection(edit)
    assert "retraining.processingImage" in message
    assert "explainability.analysisConfigUri" in message
