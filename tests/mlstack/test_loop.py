"""The loop summary per model, from a plan's resolved config and from edited settings."""

from __future__ import annotations

from mlstack.loop import DRIFT_TRIGGER, MANUAL_TRIGGER, loop_summary
from mlstack.offline.plan import Plan


def test_production_loop_from_the_resolved_config(shipped_plans: dict[str, Plan]) -> None:
    resolved = shipped_plans["production"].settings["models"]["churn-classifier"]
    summary = loop_summary(resolved, "churn-classifier")
    retraining = summary["retraining"]
    assert retraining["pipeline"] == "churn-classifier-retraining"
    assert retraining["triggers"] == [
        "schedule cron(0 3 ? * SUN *) UTC",
        DRIFT_TRIGGER,
        MANUAL_TRIGGER,
    ]
    assert retraining["minIntervalHours"] == 24
    assert (retraining["threshold"], retraining["approvedMetric"]) == (0.85, 0.89)
    assert summary["batch"]["schedule"] == "cron(0 2 * * ? *)"
    assert summary["batch"]["packageVersion"] == 3
    kinds = [m["kind"] for m in summary["monitors"]]
    assert kinds == ["data-drift", "model-quality", "explainability"]
    drift, quality, explain = summary["monitors"]
    # mlstack:monitoring.drift of the single-model stack, in the stack file's order.
    assert drift == {
        "kind": "data-drift",
        "schedule": "hourly",
        "features": ["tenure_months", "monthly_charges"],
        "alarm": "baseline drift > 0.1 on tenure_months, monthly_charges",
    }
    assert quality["alarm"] == "auc < 0.8"
    assert explain["features"] == ["monthly_charges", "tenure_months"]


def test_each_model_of_a_stack_of_models_has_its_own_drift_monitor(platform_plan: Plan) -> None:
    models = platform_plan.settings["models"]
    churn = loop_summary(models["churn"], "churn")
    assert churn["retraining"]["pipeline"] == "churn-retraining"
    assert churn["batch"]["pipeline"] == "churn-batch"
    assert churn["monitors"] == [
        {
            "kind": "data-drift",
            "schedule": "hourly",
            "features": ["tenure_months"],
            "alarm": "baseline drift > 0.1 on tenure_months",
        }
    ]
    ranking = loop_summary(models["ranking"], "ranking")
    assert (ranking["retraining"], ranking["batch"]) == (None, None)
    assert [m["features"] for m in ranking["monitors"]] == [["query_length"]]
    # On the shared fleet the drift schedule is the fleet's, not the model's.
    assert loop_summary(models["sentiment"], "sentiment")["monitors"] == []


def test_a_model_without_the_loop_has_none_of_it(shipped_plans: dict[str, Plan]) -> None:
    summary = loop_summary(shipped_plans["staging"].settings["mlstack:model"], "m")
    assert summary == {"model": "m", "retraining": None, "batch": None, "monitors": []}


def test_schedule_only_retraining_and_error_metric() -> None:
    summary = loop_summary(
        {
            "packageVersion": 1,
            "retraining": {
                "enabled": True,
                "processingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/p:1",
                "trainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1",
                "driftTrigger": False,
            },
            "qualityMonitoring": {
                "enabled": True,
                "problemType": "Regression",
                "metric": "rmse",
                "threshold": 3,
            },
        },
        "m",
    )
    assert summary["retraining"]["triggers"] == ["schedule cron(0 3 ? * SUN *) UTC", MANUAL_TRIGGER]
    assert summary["monitors"][0]["alarm"] == "rmse > 3"
