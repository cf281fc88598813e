"""Per model, the retraining loop as plain data for the reviewer summary: the pipelines, what
starts them, the batch schedule and the monitors (data drift, model quality, explainability).
Reads only resolved config; no Pulumi."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from infra.config.model import ModelConfig
from infra.config.models import ModelSettings
from infra.config.monitoring import DriftConfig

DRIFT_TRIGGER = "data-drift alarm OK -> ALARM"
MANUAL_TRIGGER = "mlstack pipeline start"
HOURLY = "hourly"
"""Model Monitor schedules run every hour (the program's monitoring schedules)."""


def _settings(resolved: ModelConfig | Mapping[str, Any]) -> ModelConfig:
    if isinstance(resolved, ModelConfig):
        return resolved
    # Resolved config is JSON-shaped (enums as their values): validate it as JSON. An entry
    # of the resolved ``models`` carries the serving sections too: ModelSettings reads both.
    return ModelSettings.model_validate_json(json.dumps(dict(resolved)))


def loop_summary(
    resolved_model_settings: ModelConfig | Mapping[str, Any], model: str = "model"
) -> dict[str, Any]:
    """The loop of one model: ``{"model", "retraining", "batch", "monitors"}``.

    ``resolved_model_settings`` is the model's resolved settings: its entry in the ``models``
    of a plan's resolved config (every stack's, a single-model stack's too), a
    :class:`ModelSettings`, or ``mlstack:model`` / a :class:`ModelConfig` (which hold no
    ``drift`` section: no data-drift monitor is listed for them); ``model`` the name its loop
    goes by (pipeline names derive from it: :func:`infra.config.models.loop_name`).
    ``retraining`` and ``batch`` are None when off; ``monitors`` lists the enabled monitors:
    data drift (the model's ``drift``, whose alarm starts retraining), model quality,
    explainability.
    """
    settings = _settings(resolved_model_settings)
    retraining: dict[str, Any] | None = None
    if settings.retraining.enabled:
        r = settings.retraining
        triggers = [f"schedule {r.schedule} UTC"]
        if r.drift_trigger:
            triggers.append(DRIFT_TRIGGER)
        triggers.append(MANUAL_TRIGGER)
        retraining = {
            "pipeline": f"{model}-retraining",
            "schedule": r.schedule,
            "scheduleWindowMinutes": r.schedule_window_minutes,
            "triggers": triggers,
            "minIntervalHours": r.min_interval_hours,
            "metric": r.metric,
            "threshold": r.threshold,
            "approvedMetric": r.approved_metric,
            "registersAs": "PendingManualApproval",
        }
    batch: dict[str, Any] | None = None
    if settings.batch.enabled:
        b = settings.batch
        batch = {
            "pipeline": f"{model}-batch",
            "schedule": b.schedule,
            "packageVersion": settings.package_version,
            "input": b.input_prefix,
            "output": b.output_prefix,
            "instances": f"{b.instance_type} x {b.instance_count}",
            "alarm": "batch run failed",
        }
    monitors: list[dict[str, Any]] = []
    drift: DriftConfig | None = getattr(settings, "drift", None)
    if drift is not None and drift.enabled:
        monitors.append(
            {
                "kind": "data-drift",
                "schedule": HOURLY,
                "features": list(drift.watched_features),
                "alarm": f"baseline drift > {drift.drift_threshold:g} on "
                + ", ".join(drift.watched_features),
            }
        )
    quality = settings.quality_monitoring
    if quality.enabled:
        monitors.append(
            {
                "kind": "model-quality",
                "schedule": HOURLY,
                "groundTruth": quality.ground_truth_prefix,
                "alarm": f"{quality.metric} {'>' if quality.lower_is_better else '<'} "
                f"{quality.threshold:g}",
            }
        )
    explain = settings.explainability
    if explain.enabled:
        monitors.append(
            {
                "kind": "explainability",
                "schedule": HOURLY,
                "features": sorted(explain.watched_features),
                "alarm": f"global SHAP moves > {explain.drift_percent:g}% from baseline",
            }
        )
    return {"model": model, "retraining": retraining, "batch": batch, "monitors": monitors}
