"""``mlstack:models``, ``mlstack:modelDefaults`` and ``mlstack:fleets``: the merge, the
per-model rules naming the model, and the resolved settings of every model."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config import ConfigError, resolved_document
from infra.config.models import deep_merge
from tests.infra.config_helpers import config_from_doc, rejection, shipped_doc

STACK = "platform"


def platform(edit: Any = None) -> Any:
    doc = copy.deepcopy(shipped_doc(STACK))
    if edit is not None:
        edit(doc)
    return config_from_doc(STACK, doc)


def test_deep_merge_merges_mappings_and_replaces_lists_and_values() -> None:
    defaults = {"rollout": {"strategy": "canary", "rollbackAlarms": [1, 2]}, "targets": ["a"]}
    merged = deep_merge(defaults, {"rollout": {"rollbackAlarms": [3]}, "targets": ["b"]})
    assert merged == {"rollout": {"strategy": "canary", "rollbackAlarms": [3]}, "targets": ["b"]}
    assert defaults["rollout"]["rollbackAlarms"] == [1, 2], "the defaults are not modified"


def test_each_model_takes_the_defaults_it_does_not_override() -> None:
    config = platform()
    churn, ranking = config.models["churn"], config.models["ranking"]
    assert churn.sagemaker.instance_type == "ml.c5.xlarge"
    assert ranking.sagemaker.instance_type == "ml.m5.xlarge"
    assert ranking.sagemaker.instance_count == 2, "modelDefaults"
    assert ranking.sagemaker.variant_name == "AllTraffic", "the kit's default"
    assert churn.rollout.strategy.value == "canary" and churn.rollout.step_percent == 10
    assert config.models["sentiment"].rollout.strategy.value == "rolling"


def test_names_depending_on_the_model_are_resolved() -> None:
    config = platform()
    assert config.models["churn"].sagemaker.endpoint_name == "mlstack-platform-churn"
    assert config.models["ranking"].kubernetes.namespace == "ranking"
    assert config.fleets["small-models"].endpoint_name == "mlstack-platform-small-models"


def test_resolved_document_carries_every_model() -> None:
    document = resolved_document(platform())
    assert set(document["models"]) == {"churn", "ranking", "language-id", "sentiment"}
    assert document["models"]["churn"]["sagemaker"]["instanceType"] == "ml.c5.xlarge"
    assert document["models"]["sentiment"]["fleet"]["name"] == "small-models"
    assert "mlstack:rollout" not in document, "per model in a stack of models"
    assert "minReplicas" not in document["mlstack:kubernetes"]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_a_single_model_stack_resolves_one_model(stack: str) -> None:
    config = config_from_doc(stack, shipped_doc(stack))
    document = resolved_document(config)
    assert list(document["models"]) == ["churn-classifier"]
    model = document["models"]["churn-classifier"]
    assert model["legacyNames"] is True
    assert model["rollout"] == document["mlstack:rollout"]
    assert model["sagemaker"]["endpointName"] == f"mlstack-{stack}"


def test_production_rules_name_the_model() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:models"]["churn"]["sagemaker"]["instanceCount"] = 1
        doc["mlstack:models"]["churn"]["autoscaling"]["minInstances"] = 1
        # Replaces the defaults' stepPercent too (null is "unset").
        doc["mlstack:models"]["ranking"]["rollout"] = {
            "strategy": "all-at-once",
            "stepPercent": None,
        }

    message = rejection(edit, STACK)
    assert "mlstack:models.churn.sagemaker.instanceCount = 1" in message
    assert "mlstack:models.churn.autoscaling.minInstances = 1" in message
    assert 'mlstack:models.ranking.rollout.strategy = "all-at-once"' in message


def test_a_fleet_model_cannot_shift_traffic_or_name_an_unknown_fleet() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:models"]["sentiment"]["rollout"]["strategy"] = "canary"
        doc["mlstack:models"]["sentiment"]["rollout"]["stepPercent"] = 10
        doc["mlstack:models"]["language-id"]["fleet"]["name"] = "nope"

    message = rejection(edit, STACK)
    assert "mlstack:models.sentiment.rollout.strategy = " in message
    assert "use rolling" in message
    assert 'mlstack:models.language-id.fleet.name = "nope"' in message

    assert "small-models" in message


def test_a_fleet_of_one_instance_is_refused_in_production() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:fleets"]["small-models"]["instanceCount"] = 1

    message = rejection(edit, STACK)
    assert "mlstack:fleets.small-models.instanceCount = 1" in message


def test_single_model_keys_are_refused_beside_models() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:rollout"] = {"strategy": "canary", "stepPercent": 10}
        doc["mlstack:kubernetes"]["minReplicas"] = 3
        doc["mlstack:monitoring"]["alarms"] = {}

    message = rejection(edit, STACK)
    assert "mlstack:rollout" in message and "mlstack:modelDefaults" in message
    assert "mlstack:kubernetes.minReplicas" in message
    assert "mlstack:monitoring.alarms" in message


def test_bad_model_names_are_refused() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:models"]["Bad_Name"] = {"packageVersion": 1}

    message = rejection(edit, STACK)
    assert "mlstack:models.Bad_Name" in message and "lower-case" in message


def test_only_one_model_keeps_the_single_model_names() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:models"]["churn"]["legacyNames"] = True
        doc["mlstack:models"]["ranking"]["legacyNames"] = True

    message = rejection(edit, STACK)
    assert "mlstack:models.ranking.legacyNames" in message and "churn" in message


def test_eks_target_needs_the_cluster_and_defaults_need_models() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:modelDefaults"] = {"targets": ["eks"]}

    message = rejection(edit, "staging")
    assert "mlstack:modelDefaults" in message and "needs mlstack:models" in message

    def edit_models(doc: dict[str, Any]) -> None:
        doc["mlstack:eks"]["enabled"] = False
        doc["mlstack:network"]["enabled"] = False

    assert "mlstack:models.ranking.targets" in rejection(edit_models, STACK)


def test_errors_in_defaults_are_reported_once_under_model_defaults() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:modelDefaults"]["sagemaker"]["instanceCont"] = 2

    with pytest.raises(ConfigError) as err:
        platform(edit)
    assert str(err.value).count("instanceCont") == 1
    assert "mlstack:modelDefaults.sagemaker.instanceCont" in str(err.value)


def test_drift_of_a_fleet_model_is_the_fleets() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:models"]["sentiment"]["drift"] = copy.deepcopy(
            doc["mlstack:models"]["churn"]["drift"]
        )

    message = rejection(edit, STACK)
    assert "mlstack:models.sentiment.drift.enabled" in message
    assert "mlstack:fleets.small-models.drift" in message


def test_two_retraining_models_cannot_register_in_one_group() -> None:
    """Candidates of two models in one model package group would interleave their versions:
    the second model to retrain there is told to take a group of its own."""

    def edit(doc: dict[str, Any]) -> None:
        models = doc["mlstack:models"]
        models["ranking"]["retraining"] = copy.deepcopy(models["churn"]["retraining"])
        models["ranking"]["packageGroupName"] = models["churn"]["packageGroupName"]

    message = rejection(edit, STACK)
    assert "mlstack:models.ranking.packageGroupName" in message
    assert "churn registers its retraining candidates there too" in message

    def own_group(doc: dict[str, Any]) -> None:
        edit(doc)
        doc["mlstack:models"]["ranking"]["packageGroupName"] = "ranking"

    assert platform(own_group).models["ranking"].retraining.enabled
