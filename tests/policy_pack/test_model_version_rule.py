"""`serving-paths-same-model-version`: SageMaker and EKS serve one model version; a stack
whose paths differ fails in production and warns at advisory enforcement."""

from __future__ import annotations

from infra.components.k8s_manifests import MODEL_VERSION_LABEL as PROGRAM_LABEL
from infra.components.k8s_manifests import labels
from mlstack.checks import run_rules
from policy_pack.rules import StackContext, rule_named
from policy_pack.rules.delivery import KIT_WORKLOAD_LABELS, MODEL_VERSION_LABEL
from tests.policy_pack.stack_fixtures import compliant_stack, edit, serve_versions

RULE = "serving-paths-same-model-version"
PRODUCTION = StackContext(stack="production", environment="production")
STAGING = StackContext(stack="staging", environment="staging")


def violations(resources: list, context: StackContext = PRODUCTION) -> list[str]:
    return [v.message for v in rule_named(RULE).check(resources, context)]  # type: ignore[union-attr]


def test_the_pack_reads_the_label_the_program_writes() -> None:
    assert MODEL_VERSION_LABEL == PROGRAM_LABEL
    assert KIT_WORKLOAD_LABELS.items() <= labels("model-server").items()


def test_both_paths_on_one_version_pass() -> None:
    assert violations(serve_versions(compliant_stack(), 5, "5")) == []


def test_paths_on_different_versions_name_both_and_the_fix() -> None:
    (message,) = violations(serve_versions(compliant_stack(), 5, "3"))
    assert "SageMaker serves model version 5 but EKS serves version 3" in message
    assert "mlstack model promote production --version 5" in message


def test_a_workload_recording_no_version_beside_a_package_is_reported() -> None:
    (message,) = violations(serve_versions(compliant_stack(), 5, None))
    assert "records no version" in message
    assert "mlstack:kubernetes.modelVersion" in message


def test_an_image_served_by_sagemaker_has_no_version_to_compare() -> None:
    stack = serve_versions(compliant_stack(), 5, "3")
    image = {"image": "repo/serving@sha256:" + "b" * 64}
    stack = edit("model", lambda inputs: inputs.update(primaryContainer=image))(stack)
    assert violations(stack) == []


def test_the_primary_variant_decides_not_the_shadow() -> None:
    stack = serve_versions(compliant_stack(), 5, "5")
    shadow_arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/6"
    shadow = next(r for r in stack if r.name == "model")
    stack.append(
        type(shadow)(
            urn=shadow.urn + "-shadow",
            type=shadow.type,
            name="model-shadow",
            inputs={"name": "model-shadow-1", "primaryContainer": {"modelPackageName": shadow_arn}},
        )
    )

    def add_shadow(inputs: dict) -> None:
        inputs["productionVariants"][0]["modelName"] = "model-1"
        inputs["shadowProductionVariants"] = [{"modelName": "model-shadow-1"}]

    assert violations(edit("config", add_shadow)(stack)) == []


def test_mismatch_fails_production_and_warns_in_staging() -> None:
    stack = serve_versions(compliant_stack(), 5, "3")
    production = run_rules(stack, PRODUCTION, "mandatory", resource_rules=())
    staging = run_rules(stack, STAGING, "advisory", resource_rules=())
    assert [r.level for r in production if r.policy == RULE] == ["mandatory"]
    assert [r.level for r in staging if r.policy == RULE] == ["advisory"]
