"""The rule catalogue: enough rules, unique names, checkov mapping documented in docs/policy.md."""

from __future__ import annotations

import re
from pathlib import Path

from mlstack.catalogue import with_rule_table
from policy_pack.rules import RULES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
REQUIRED_CHECKOV = {
    "CKV_AWS_98", "CKV_AWS_370", "CKV_AWS_367", "CKV_AWS_368", "CKV_AWS_369", "CKV_AWS_51",
    "CKV_AWS_163", "CKV_AWS_136", "CKV_AWS_32", "CKV_AWS_37", "CKV_AWS_38", "CKV_AWS_39",
    "CKV_AWS_58", "CKV_AWS_339", "CKV_AWS_26", "CKV_AWS_319", "CKV_AWS_66", "CKV_AWS_158",
    "CKV_AWS_7", "CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12",
    "CKV_K8S_13", "CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_37",
    "CKV_K8S_38", "CKV_K8S_40", "CKV_K8S_43", "CKV_AWS_297",
}  # fmt: skip


def test_pack_has_at_least_thirty_uniquely_named_rules() -> None:
    names = [r.name for r in RULES]
    assert len(names) >= 30
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9-]+", n) for n in names)


def test_required_checkov_checks_are_mapped() -> None:
    mapped = {r.checkov_id for r in RULES if r.checkov_id}
    assert mapped >= REQUIRED_CHECKOV


def test_every_rule_has_a_description_and_a_fix() -> None:
    assert all(r.description and r.fix for r in RULES)


def test_docs_rule_table_is_current() -> None:
    assert with_rule_table(DOCS.read_text()) == DOCS.read_text(), "run make docs"


def test_docs_table_lists_every_rule_with_its_checkov_id() -> None:
    text = DOCS.read_text()
    for rule in RULES:
        row = next((ln for ln in text.splitlines() if ln.startswith(f"| `{rule.name}`")), None)
        assert row is not None, f"docs/policy.md has no row for {rule.name}"
        assert (rule.checkov_id or "none") in row, f"{rule.name}: checkov id missing in docs"


CONFIGURABLE = {
    # rules a stack file can break: their fix names the config key that mends it
    "sagemaker-model-network-isolation", "eks-private-endpoint", "eks-public-endpoint-cidrs",
    "eks-supported-version", "log-group-retention", "k8s-cpu-requests", "k8s-cpu-limits",
    "k8s-memory-requests", "k8s-memory-limits", "k8s-image-digest", "production-data-capture",
    "production-multi-az", "production-image-digest", "production-progressive-rollout",
    "production-min-two-instances", "drift-monitoring-with-capture", "stack-tier-declared",
}  # fmt: skip


def test_fixes_speak_the_kits_terms_not_terraform_attributes() -> None:
    """A fix names what a user can change: a config key, or the component that owns the
    setting; never a Terraform argument such as kms_key_arn."""
    for rule in RULES:
        assert not re.search(r"\b[a-z]+_[a-z0-9]+(_[a-z0-9]+)*\b", rule.fix.replace(
            "policy_pack/tiers.yaml", ""
        )), f"{rule.name}: {rule.fix}"  # fmt: skip
        if rule.name in CONFIGURABLE:
            assert "mlstack:" in rule.fix, f"{rule.name} names no config key: {rule.fix}"
