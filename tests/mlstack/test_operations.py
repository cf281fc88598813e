"""Operations like `pulumi preview --diff`: replacements from the providers' rules, the kit's
resource options, aliases, and cascades through the inputs built from replaced resources."""

from __future__ import annotations

import copy
import json
import shutil
from typing import Any

import pytest

from mlstack.diff import diff_plans, render_markdown
from mlstack.offline.harness import run_plan
from mlstack.offline.plan import Plan
from mlstack.operations import Operation, counts, operations
from tests.conftest import edit_stack_file, make_project_copy

STACK = "urn:pulumi:s::mlstack::"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def resource(type_token: str, name: str, inputs: dict, **options: Any) -> dict[str, Any]:
    return {
        "urn": f"{STACK}{type_token}::{name}",
        "type": type_token,
        "name": name,
        "inputs": inputs,
        "options": options,
    }


def _ops(base: list[dict], head: list[dict]) -> dict[str, Operation]:
    return {c.name: c.operation for c in operations({"resources": base}, {"resources": head})}


def test_a_force_new_input_replaces_and_an_ordinary_one_updates() -> None:
    base = [resource(VPC, "vpc", {"cidrBlock": "10.40.0.0/16", "tags": {"a": "1"}})]
    assert _ops(
        base, [resource(VPC, "vpc", {"cidrBlock": "10.41.0.0/16", "tags": {"a": "1"}})]
    ) == {"vpc": Operation.REPLACE}
    assert _ops(
        base, [resource(VPC, "vpc", {"cidrBlock": "10.40.0.0/16", "tags": {"a": "2"}})]
    ) == {"vpc": Operation.UPDATE}


def test_a_replacement_cascades_through_property_dependencies() -> None:
    vpc_urn = f"{STACK}{VPC}::vpc"
    subnet = {"cidrBlock": "10.40.0.0/20", "vpcId": "vpc-1"}
    deps = {"propertyDependencies": {"vpcId": [vpc_urn]}}
    base = [
        resource(VPC, "vpc", {"cidrBlock": "10.40.0.0/16"}),
        resource(SUBNET, "a", subnet, **deps),
    ]
    head = copy.deepcopy(base)
    head[0]["inputs"]["cidrBlock"] = "10.41.0.0/16"
    changes = {c.name: c for c in operations({"resources": base}, {"resources": head})}
    assert changes["a"].operation is Operation.REPLACE
    assert changes["a"].caused_by == ("vpc",)
    assert [i.path for i in changes["a"].inputs if i.replaces] == ["vpcId"]


def test_kit_options_decide_the_kind_of_replacement() -> None:
    base = [resource(ALARM, "alarm", {"threshold": 1}, replaceOnChanges=["threshold"],
                     deleteBeforeReplace=True)]  # fmt: skip
    head = copy.deepcopy(base)
    head[0]["inputs"]["threshold"] = 2
    (change,) = operations({"resources": base}, {"resources": head})
    assert change.operation is Operation.REPLACE
    assert change.replacement_kind == "delete-before-create"


def test_an_alias_keeps_a_renamed_resource() -> None:
    base = [resource(ALARM, "old", {"threshold": 1})]
    head = [resource(ALARM, "new", {"threshold": 1}, aliases=[f"{STACK}{ALARM}::old"])]
    (change,) = operations({"resources": base}, {"resources": head})
    assert change.operation is Operation.SAME
    assert change.renamed_from == "old"


def test_secret_changes_show_without_their_values() -> None:
    base = [resource("aws:sns/topicSubscription:TopicSubscription", "hook",
                     {"endpoint": "[secret:1111222233334444]", "protocol": "https"})]  # fmt: skip
    head = copy.deepcopy(base)
    head[0]["inputs"]["endpoint"] = "[secret:5555666677778888]"
    diff = diff_plans({"resources": base}, {"resources": head}, "a", "b")
    text = render_markdown(diff, "t")
    assert "[secret] changed" in text
    assert "1111" not in text and "5555" not in text
    assert "1111" not in json.dumps(diff.to_json())


def test_every_planned_type_has_replacement_rules(shipped_plans: dict[str, Plan]) -> None:
    for plan in shipped_plans.values():
        doc = plan.to_json()
        operations(doc, doc)  # raises naming any type the rules file does not cover


@pytest.fixture(scope="module")
def cidr_change(tmp_path_factory: pytest.TempPathFactory, shipped_plans: dict[str, Plan]) -> Any:
    project = make_project_copy(tmp_path_factory.mktemp("cidr") / "project")
    edit_stack_file(
        project, "production", lambda c: c["mlstack:network"].update(cidr="10.41.0.0/16")
    )
    head = run_plan("production", project).to_json()
    yield diff_plans(shipped_plans["production"].to_json(), head, "main", "branch")
    shutil.rmtree(project, ignore_errors=True)


def test_a_vpc_range_change_replaces_the_vpc_its_subnets_and_dependants(cidr_change: Any) -> None:
    by_name = {(c.type, c.name): c for c in cidr_change.changes}
    assert by_name[(VPC, "network-vpc")].operation is Operation.REPLACE
    subnets = [c for (t, _), c in by_name.items() if t == SUBNET]
    assert len(subnets) == 6 and all(c.operation is Operation.REPLACE for c in subnets)
    totals = counts(cidr_change.changes)
    assert totals["replace"] > 20 and totals["create"] == 0 and totals["delete"] == 0
    text = render_markdown(cidr_change, "production")
    assert "to replace" in text and "⚠️" in text
    assert "`cidrBlock` (forces replacement)" in text


@pytest.fixture(scope="module")
def version_bump(tmp_path_factory: pytest.TempPathFactory, shipped_plans: dict[str, Plan]) -> Any:
    project = make_project_copy(tmp_path_factory.mktemp("bump") / "project")
    edit_stack_file(project, "production", lambda c: c["mlstack:model"].update(packageVersion=4))
    head = run_plan("production", project).to_json()
    yield diff_plans(shipped_plans["production"].to_json(), head, "main", "branch")
    shutil.rmtree(project, ignore_errors=True)


def test_a_model_version_bump_replaces_model_and_configuration_and_updates_the_endpoint(
    version_bump: Any,
) -> None:
    by_type = {c.type: c for c in version_bump.changes if not c.name.startswith("churn-")}
    model = by_type["aws:sagemaker/model:Model"]
    assert model.operation is Operation.REPLACE
    # The batch transform serves the same approved version as the endpoint: it moves too.
    (batch,) = [c for c in version_bump.changes if c.name == "churn-classifier-batch-model"]
    assert batch.operation is Operation.REPLACE
    assert [i.path for i in model.inputs if i.replaces] == ["primaryContainer.modelPackageName"]
    config = by_type["aws:sagemaker/endpointConfiguration:EndpointConfiguration"]
    assert config.operation is Operation.REPLACE and config.caused_by == ("sagemaker-model",)
    endpoint = by_type["aws:sagemaker/endpoint:Endpoint"]
    assert endpoint.operation is Operation.UPDATE  # a blue/green deployment, not a new endpoint
    assert endpoint.caused_by == ("sagemaker-config",)
    assert not [c for c in version_bump.changes if c.operation is Operation.DELETE]
    text = render_markdown(version_bump, "production")
    assert "#### Replaced (3)" in text
    assert "`sagemaker-endpoint` (Endpoint), because `sagemaker-config` is replaced" in text
