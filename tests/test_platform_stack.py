"""The shipped stack of many models (stacks/Pulumi.platform.yaml), planned once: four models
(a dedicated CPU endpoint with a canary, one on SageMaker and EKS, two sharing a fleet as
inference components), the policy pack clean and naming the model of a violation, every
resource type covered by the diff's replacement rules, every per-model resource attributable
to its model, and `render-k8s` writing each model's objects in its own folder."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlstack.attribution import models_by_urn
from mlstack.checks import evaluate
from mlstack.cli.app import app
from mlstack.diff_data import replacement
from mlstack.offline.plan import Plan
from mlstack.project import PROJECT_ROOT

STACK = "platform"
MODELS = {"churn", "ranking", "language-id", "sentiment"}
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
COMPONENT = "aws-native:sagemaker:InferenceComponent"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
SCHEDULE = "aws:scheduler/schedule:Schedule"
PIPELINES = PROJECT_ROOT / "stacks" / "pipelines"


@pytest.fixture(scope="module")
def plan(platform_plan: Plan) -> Plan:
    return platform_plan


def test_four_models_in_their_shapes(plan: Plan) -> None:
    assert set(plan.settings["models"]) == MODELS
    endpoints = {r.inputs["name"]: r for r in plan.of_type(ENDPOINT)}
    assert set(endpoints) == {
        "mlstack-platform-churn",
        "mlstack-platform-ranking",
        "mlstack-platform-small-models",
    }
    churn = endpoints["mlstack-platform-churn"].inputs["deploymentConfig"]
    assert churn["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] == "CANARY"
    components = {r.inputs["inferenceComponentName"]: r for r in plan.of_type(COMPONENT)}
    assert set(components) == {
        "mlstack-platform-small-models-language-id",
        "mlstack-platform-small-models-sentiment",
    }
    for component in components.values():
        assert component.inputs["endpointName"] == "mlstack-platform-small-models"
        deployment = component.inputs["deploymentConfig"]
        assert deployment["rollingUpdatePolicy"]["maximumBatchSize"]["type"] == "CAPACITY_PERCENT"
        assert len(deployment["autoRollbackConfiguration"]["alarms"]) == 2
        assert component.provider and "pulumi:providers:aws-native" in component.provider
    rollouts = [r for r in plan.resources if r.type.endswith(":Rollout")]
    assert [r.inputs["metadata"]["namespace"] for r in rollouts] == ["ranking"]


def test_churn_has_its_own_loop(plan: Plan) -> None:
    """churn retrains (on a schedule and on its own drift alarm) and scores nightly; no other
    model declares a pipeline."""
    by_name = {r.name: r for r in plan.resources}
    pipelines = {r.inputs["pipelineName"]: r for r in plan.of_type(PIPELINE)}
    assert set(pipelines) == {"churn-retraining", "churn-batch"}
    for name, file in (
        ("churn-retraining", "platform-churn"),
        ("churn-batch", "platform-churn-batch"),
    ):
        definition = json.loads(pipelines[name].inputs["pipelineDefinition"])
        committed = json.loads((PIPELINES / f"{file}.json").read_text())
        assert definition["Steps"] == committed["Steps"], name
        assert pipelines[name].inputs["tags"]["mlstack:model"] == "churn"
    schedules = {r.name: r.inputs for r in plan.of_type(SCHEDULE)}
    assert {
        n: (s["scheduleExpression"], s["target"]["arn"].rsplit(":", 1)[1])
        for n, s in schedules.items()
    } == {
        "churn-retraining-schedule": ("cron(0 3 ? * SUN *)", "pipeline/churn-retraining"),
        "churn-batch-schedule": ("cron(0 2 * * ? *)", "pipeline/churn-batch"),
    }
    # Retraining starts when churn's own data-drift alarm goes from OK to ALARM.
    drift = json.loads(by_name["churn-retraining-drift"].inputs["eventPattern"])
    (alarm,) = drift["resources"]
    assert alarm.endswith(":alarm:mlstack-platform-churn-data-drift")
    assert drift["detail"]["state"] == {"value": ["ALARM"]}
    start = by_name["churn-retraining-drift-start"].inputs
    assert start["arn"].endswith(":pipeline/churn-retraining")
    approval = json.loads(by_name["churn-retraining-approval"].inputs["eventPattern"])
    assert approval["detail"]["ModelPackageGroupName"] == ["churn-classifier"]
    owners = models_by_urn(plan.to_json())
    loop = [r for n, r in by_name.items() if n.startswith(("churn-retraining", "churn-batch"))]
    assert {owners[r.urn] for r in loop} == {"churn"}


def test_alarm_names_are_per_model(plan: Plan) -> None:
    names = [r.inputs["name"] for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    for model in ("churn", "ranking", "small-models-language-id", "small-models-sentiment"):
        assert any(n.startswith(f"mlstack-platform-{model}-rollback-") for n in names), model
    assert len(names) == len(set(names))


def test_policy_pack_is_clean(plan: Plan) -> None:
    assert evaluate(plan) == []


def test_a_violation_names_its_model(plan: Plan) -> None:
    document = copy.deepcopy(plan.to_json())
    for resource in document["resources"]:
        if resource["type"] == COMPONENT and "sentiment" in resource["urn"]:
            del resource["inputs"]["deploymentConfig"]["autoRollbackConfiguration"]
    broken = Plan.from_json(document)
    messages = [r.message for r in evaluate(broken)]
    assert any(m.startswith("model 'sentiment': ") and "rollback" in m for m in messages), messages


def test_every_planned_type_has_replacement_rules(plan: Plan) -> None:
    planned = {r.type for r in plan.resources if not r.type.startswith("mlstack:")}
    assert COMPONENT in planned
    assert not planned - replacement.covered_types()


def test_every_per_model_resource_is_attributed(plan: Plan) -> None:
    owners = models_by_urn(plan.to_json())
    by_model: dict[str | None, set[str]] = {}
    for resource in plan.resources:
        by_model.setdefault(owners[resource.urn], set()).add(resource.type)
    assert set(by_model) == MODELS | {None}
    assert ENDPOINT in by_model["churn"] and COMPONENT in by_model["sentiment"]
    assert "kubernetes:argoproj.io/v1alpha1:Rollout" in by_model["ranking"]
    # Platform: registry, network, cluster, topic, dashboard and the shared fleet.
    assert {"aws:kms/key:Key", "aws:eks/cluster:Cluster", "aws:sns/topic:Topic"} <= by_model[None]
    shared = [r for r in plan.of_type(ENDPOINT) if owners[r.urn] is None]
    assert [r.inputs["name"] for r in shared] == ["mlstack-platform-small-models"]


def test_render_k8s_writes_a_folder_per_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render-k8s", STACK, str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "ranking" / "rollout-model-server.yaml").exists()
    assert {p.name for p in (tmp_path / "out").iterdir() if p.is_dir()} == {"ranking"}


def test_the_stack_file_is_commented_documented_and_matches_the_schema() -> None:
    import re

    import jsonschema
    import yaml

    from infra.config.reference import MODELINE, reference_rows, stack_file_schema

    text = (PROJECT_ROOT / "stacks" / f"Pulumi.{STACK}.yaml").read_text()
    assert text.splitlines()[0] == MODELINE
    doc = yaml.safe_load(text)
    jsonschema.validate(doc, stack_file_schema())
    lines = text.splitlines()
    key_line = re.compile(r"^\s*(- )?[\w:.-]+:( |$)")
    uncommented = [
        line
        for number, line in enumerate(lines)
        if key_line.match(line)
        and not line.startswith("config:")
        and not next((p for p in reversed(lines[:number]) if p.strip()), "").strip().startswith("#")
    ]
    assert not uncommented

    rows = list(reference_rows())
    documented = {key for key, *_ in rows}
    maps = {key for key, kind, *_ in rows if kind.startswith("map of")}

    def documented_as(key: str) -> str:
        key = re.sub(r"^mlstack:(models|fleets)\.[a-z0-9-]+", r"mlstack:\1.<name>", key)
        return re.sub(r"^mlstack:modelDefaults", "mlstack:models.<name>", key)

    def keys(prefix: str, value: object) -> set[str]:
        # A documented map (tags, hyperparameters) is one key: its entries are the user's.
        if isinstance(value, dict) and documented_as(prefix) not in maps:
            return {k for name, v in value.items() for k in keys(f"{prefix}.{name}", v)}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return {k for item in value for k in keys(f"{prefix}[]", item)}
        return {documented_as(prefix)}

    used = {leaf for key, value in doc["config"].items() for leaf in keys(key, value)}
    assert {"mlstack:models.<name>.fleet.cpuCores", "mlstack:modelDefaults"} <= documented
    assert used - documented == set()
