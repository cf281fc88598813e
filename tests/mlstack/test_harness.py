"""The offline plan harness: JSON contract, config encoding, secrets, early imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlstack.offline.harness import PlanConfigError, PlanRuntimeError, run_plan
from mlstack.offline.plan import Plan
from mlstack.offline.secrets import Fingerprinter
from mlstack.offline.stack_files import encode_config, load_project
from mlstack.project import PROJECT_ROOT
from tests.conftest import SHIPPED_STACKS, edit_stack_file

RESOURCE_KEYS = {"urn", "type", "name", "parent", "custom", "provider", "inputs", "options"}
OPTION_KEYS = {
    "aliases",
    "deleteBeforeReplace",
    "replaceOnChanges",
    "dependsOn",
    "propertyDependencies",
    "protect",
}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_plan_matches_json_contract(stack: str, shipped_plans: dict[str, Plan]) -> None:
    document = json.loads(json.dumps(shipped_plans[stack].to_json()))
    assert set(document) == {
        "project",
        "stack",
        "tier",
        "resources",
        "outputs",
        "policy",
        "config",
    }
    assert document["project"] == "mlstack"
    assert document["stack"] == stack
    urns = {r["urn"] for r in document["resources"]}
    for resource in document["resources"]:
        assert set(resource) == RESOURCE_KEYS
        assert set(resource["options"]) == OPTION_KEYS
        assert set(resource["options"]["dependsOn"]) <= urns
        assert resource["urn"].startswith(f"urn:pulumi:{stack}::mlstack::")
        assert resource["urn"].endswith(f"::{resource['name']}")
        assert resource["type"].count(":") == 2
        assert isinstance(resource["custom"], bool)
        assert isinstance(resource["inputs"], dict)
        parent = resource["parent"]
        assert parent is None or parent in urns or parent.endswith(f"::mlstack-{stack}")
    assert isinstance(document["outputs"], dict) and document["outputs"]
    for result in document["policy"]:
        assert set(result) == {"policy", "level", "urn", "message"}
        assert result["level"] in ("mandatory", "advisory")


def test_inputs_are_camel_case_as_the_engine_receives_them(shipped_plans: dict[str, Plan]) -> None:
    (repository,) = shipped_plans["production"].of_type("aws:ecr/repository:Repository")
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert "image_tag_mutability" not in repository.inputs


def test_stack_outputs_are_recorded(shipped_plans: dict[str, Plan]) -> None:
    outputs = shipped_plans["staging"].outputs
    assert outputs["repositoryUrl"].startswith("123456789012.dkr.ecr.us-east-1.amazonaws.com/")
    assert outputs["kmsKeyArn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")


def test_config_is_encoded_as_the_cli_does() -> None:
    project = load_project(PROJECT_ROOT)
    encoded = encode_config(
        project,
        {
            "aws:region": "eu-west-1",
            "environment": "staging",
            "flag": True,
            "count": 3,
            "mlstack:rollout": {"strategy": "canary", "bakeSeconds": 60},
            "items": [1, "a"],
        },
    )
    values = encoded.values
    assert values["aws:region"] == "eu-west-1"
    assert values["mlstack:environment"] == "staging"
    assert values["mlstack:flag"] == "true"
    assert values["mlstack:count"] == "3"
    assert values["mlstack:rollout"] == '{"bakeSeconds":60,"strategy":"canary"}'
    assert values["mlstack:items"] == '[1,"a"]'
    assert encoded.secret_keys == []


def test_plans_are_reproducible() -> None:
    first = run_plan("staging").to_json()
    second = run_plan("staging").to_json()
    assert first == second


def test_secrets_stay_placeholders(project_copy: Path) -> None:
    ciphertext = "v1:Zm9vYmFyLWNpcGhlcnRleHQ="

    def add_secret(config: dict) -> None:
        config["mlstack:monitoring"]["httpsSubscriptions"] = [{"secure": ciphertext}]

    edit_stack_file(project_copy, "staging", add_secret)
    plan = run_plan("staging", project_copy)
    text = json.dumps(plan.to_json())
    assert ciphertext not in text
    assert "mlstack:monitoring" in plan.secret_keys
    endpoints = [
        s.inputs["endpoint"] for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    ]
    fingerprint = Fingerprinter.for_stack("mlstack", "staging").ciphertext(ciphertext)
    assert fingerprint in endpoints


def test_bad_config_is_a_config_error(project_copy: Path) -> None:
    edit_stack_file(project_copy, "staging", lambda c: c.update({"mlstack:sagemakr": {}}))
    with pytest.raises(PlanConfigError, match="mlstack:sagemakr: unknown key"):
        run_plan("staging", project_copy)


def test_unknown_stack_is_a_config_error() -> None:
    with pytest.raises(PlanConfigError, match="no stack 'qa'"):
        run_plan("qa")


def test_invalid_yaml_is_a_config_error(project_copy: Path) -> None:
    (project_copy / "stacks" / "Pulumi.staging.yaml").write_text("config: [unclosed\n")
    with pytest.raises(PlanConfigError, match="not valid YAML"):
        run_plan("staging", project_copy)


def test_program_without_resources_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: empty\nruntime: python\nmain: prog/\n")
    (tmp_path / "prog").mkdir()
    (tmp_path / "prog" / "__main__.py").write_text("import pulumi\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    with pytest.raises(PlanRuntimeError, match="declared no resources"):
        run_plan("dev", tmp_path)


def test_invoke_without_canned_answer_fails_the_plan(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\nmain: prog/\n")
    (tmp_path / "prog").mkdir()
    (tmp_path / "prog" / "__main__.py").write_text(
        "import pulumi_aws as aws\n"
        "aws.kms.Key('k', enable_key_rotation=True)\n"
        "aws.ec2.get_ami_output(most_recent=True, owners=['amazon'])\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    with pytest.raises(
        PlanRuntimeError, match="no canned answer for invoke 'aws:ec2/getAmi:getAmi'"
    ):
        run_plan("dev", tmp_path)


@pytest.mark.timeout(120)
def test_a_program_failing_with_a_pending_deferred_output_fails_the_plan(tmp_path: Path) -> None:
    # A resource waits for a deferred output whose resolver the failure skips: the plan must
    # report the failure, not wait for that output forever.
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\nmain: prog/\n")
    (tmp_path / "prog").mkdir()
    (tmp_path / "prog" / "__main__.py").write_text(
        "import pulumi, pulumi_aws as aws\n"
        "policy, resolve = pulumi.deferred_output()\n"
        "aws.sqs.Queue('q', policy=policy)\n"
        "raise ValueError('failed before resolving the policy')\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    with pytest.raises(ValueError, match="failed before resolving the policy"):
        run_plan("dev", tmp_path)


EARLY_IMPORT = """
import pulumi_aws as aws
aws.kms.Key("declared-at-import", enable_key_rotation=True)
from mlstack.offline.harness import PlanRuntimeError, run_plan
try:
    run_plan("staging")
except PlanRuntimeError as err:
    print("detected:", err)
else:
    print("not detected")
"""


def test_resources_declared_before_the_mocks_are_detected() -> None:
    result = subprocess.run(
        [sys.executable, "-c", EARLY_IMPORT],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.startswith("detected: resources were declared before the offline mocks")


def test_secure_values_pass_validation_and_stay_secret(project_copy: Path) -> None:
    ciphertext = "v1:cGFnZXItd2ViaG9vay10b2tlbg=="

    def secure_webhook(config: dict) -> None:
        config["mlstack:monitoring"]["httpsSubscriptions"] = [{"secure": ciphertext}]

    edit_stack_file(project_copy, "production", secure_webhook)
    plan = run_plan("production", project_copy)
    assert ciphertext not in json.dumps(plan.to_json())
    assert "mlstack:monitoring" in plan.secret_keys
    https = [
        s
        for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["protocol"] == "https"
    ]
    assert [s.inputs["endpoint"] for s in https] == [
        Fingerprinter.for_stack("mlstack", "production").ciphertext(ciphertext)
    ]


def test_a_secret_does_not_excuse_a_bad_neighbour(project_copy: Path) -> None:
    def secure_webhook_bad_email(config: dict) -> None:
        config["mlstack:monitoring"]["httpsSubscriptions"] = [{"secure": "v1:abc"}, "http://x"]

    edit_stack_file(project_copy, "production", secure_webhook_bad_email)
    with pytest.raises(PlanConfigError, match=r"httpsSubscriptions\[1\]"):
        run_plan("production", project_copy)


def test_aliases_are_recorded_as_the_urns_the_engine_would_move(tmp_path: Path) -> None:
    """A renamed resource with an alias keeps its old URN in the plan's options."""
    (tmp_path / "prog").mkdir()
    (tmp_path / "prog" / "__main__.py").write_text(
        "import pulumi\n"
        "import pulumi_aws as aws\n"
        "class Box(pulumi.ComponentResource):\n"
        "    def __init__(self, name):\n"
        "        super().__init__('test:index:Box', name)\n"
        "box = Box('box')\n"
        "aws.sns.Topic('new-name', opts=pulumi.ResourceOptions(parent=box,\n"
        "    aliases=[pulumi.Alias(name='old-name'),\n"
        "             pulumi.Alias(name='top', parent=pulumi.ROOT_STACK_RESOURCE)]))\n"
    )
    (tmp_path / "Pulumi.yaml").write_text("name: mlstack\nruntime: python\nmain: prog/\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    plan = run_plan("dev", tmp_path)
    (topic,) = plan.of_type("aws:sns/topic:Topic")
    assert topic.urn == "urn:pulumi:dev::mlstack::test:index:Box$aws:sns/topic:Topic::new-name"
    assert set(topic.options.aliases) == {
        "urn:pulumi:dev::mlstack::test:index:Box$aws:sns/topic:Topic::old-name",
        "urn:pulumi:dev::mlstack::aws:sns/topic:Topic::top",
    }
