"""Secrets compared without being shown: keyed fingerprints in plans, "[secret] changed" in
diffs, and where secrets are in the human plan. Replays of production's webhook URL being
replaced by another URL or by a secure: value, which once reported "0 to change"."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from typing import Any

import pytest
from rich.console import Console

from mlstack.cli.render_secrets import secret_summary
from mlstack.diff import PlanDiff, diff_plans, render_markdown
from mlstack.offline.harness import PlanConfigError, run_plan
from mlstack.offline.plan import Plan
from mlstack.offline.secrets import FINGERPRINT_KEY_ENV, Fingerprinter, child_environment
from mlstack.operations import Operation
from tests.conftest import edit_stack_file, make_project_copy

SHIPPED_URL = "https://events.pagerduty.com/integration/example/enqueue"
OTHER_URL = "https://hooks.slack.com/services/T000/B000/other-token"
CIPHERTEXT = "v1:AAABAHBhZ2VyLXdlYmhvb2stdG9rZW4tY2lwaGVydGV4dA=="
SUBSCRIPTION = "monitoring-alerts-https-0"


def _webhook(value: Any) -> Any:
    return lambda config: config["mlstack:monitoring"].update(httpsSubscriptions=[value])


def _retention(config: dict[str, Any]) -> None:
    config["mlstack:monitoring"]["logRetentionDays"] = 400  # the URL stays as it is


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Production planned after each edit, each in its own copy of the project."""
    plans: dict[str, Plan] = {}
    roots = []
    for label, edit in (
        ("other url", _webhook(OTHER_URL)),
        ("secure", _webhook({"secure": CIPHERTEXT})),
        ("same url", _retention),
    ):
        root = make_project_copy(tmp_path_factory.mktemp("secrets") / "project")
        roots.append(root)
        edit_stack_file(root, "production", edit)
        plans[label] = run_plan("production", root)
    yield plans
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


def _diff(shipped_plans: dict[str, Plan], head: Plan) -> PlanDiff:
    return diff_plans(shipped_plans["production"].to_json(), head.to_json(), "main", "branch")


def _subscription(diff: PlanDiff) -> Any:
    return next((c for c in diff.changes if c.name == SUBSCRIPTION), None)


def _everything_shown(diff: PlanDiff, *plans: Plan) -> str:
    shown = [render_markdown(diff, "production"), json.dumps(diff.to_json())]
    for plan in plans:
        shown.append(json.dumps(plan.to_json()))
        console = Console(file=io.StringIO(), width=200)
        secret_summary(plan, console)
        shown.append(console.file.getvalue())  # type: ignore[attr-defined]
    return "\n".join(shown)


def test_another_url_shows_as_a_changed_secret(
    shipped_plans: dict[str, Plan], edited: dict[str, Plan]
) -> None:
    diff = _diff(shipped_plans, edited["other url"])
    change = _subscription(diff)
    assert change is not None and change.operation is not Operation.SAME
    assert [i.path for i in change.inputs] == ["endpoint"]
    text = render_markdown(diff, "production")
    assert "`endpoint` (forces replacement): [secret] changed" in text
    assert "0 to update, 0 to replace" not in text
    shown = _everything_shown(diff, shipped_plans["production"], edited["other url"])
    for value in (SHIPPED_URL, OTHER_URL, "other-token", "pagerduty"):
        assert value not in shown


def test_a_secure_value_in_place_of_the_url_shows_as_a_changed_secret(
    shipped_plans: dict[str, Plan], edited: dict[str, Plan]
) -> None:
    diff = _diff(shipped_plans, edited["secure"])
    change = _subscription(diff)
    assert change is not None and change.operation is not Operation.SAME
    text = render_markdown(diff, "production")
    assert "[secret] changed (now a secure: value)" in text
    assert diff.to_json()["resources"]
    shown = _everything_shown(diff, edited["secure"])
    assert CIPHERTEXT not in shown and CIPHERTEXT[3:20] not in shown
    assert SHIPPED_URL not in shown


def test_the_same_url_is_no_change(shipped_plans: dict[str, Plan], edited: dict[str, Plan]) -> None:
    diff = _diff(shipped_plans, edited["same url"])
    assert diff.changes, "the log retention edit changes the log groups"
    assert _subscription(diff) is None
    assert "[secret]" not in render_markdown(diff, "production")


def test_the_fingerprint_is_keyed_not_a_plain_hash(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["production"]
    (endpoint,) = [
        r.inputs["endpoint"]
        for r in plan.of_type("aws:sns/topicSubscription:TopicSubscription")
        if r.inputs["protocol"] == "https"
    ]
    fingerprint = endpoint.removeprefix("[secret:").removesuffix("]")
    assert len(fingerprint) == 16
    for digest in (hashlib.sha256, hashlib.sha1, hashlib.md5):
        assert fingerprint not in digest(SHIPPED_URL.encode()).hexdigest()
    assert plan.settings["mlstack:monitoring"]["httpsSubscriptions"] == [endpoint]


def test_fingerprints_are_per_stack_and_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    production = Fingerprinter.for_stack("mlstack", "production")
    assert production.value(SHIPPED_URL) == Fingerprinter.for_stack("mlstack", "production").value(
        SHIPPED_URL
    )
    assert production.value(SHIPPED_URL) != production.value(OTHER_URL)
    staging = Fingerprinter.for_stack("mlstack", "staging")
    assert staging.value(SHIPPED_URL) != production.value(SHIPPED_URL)
    monkeypatch.setenv(FINGERPRINT_KEY_ENV, "another key of at least thirty-two characters")
    rekeyed = Fingerprinter.for_stack("mlstack", "production")
    assert rekeyed.value(SHIPPED_URL) != production.value(SHIPPED_URL)


def test_without_a_key_a_run_shares_one_with_the_plans_it_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(FINGERPRINT_KEY_ENV)
    child = child_environment(os.environ)
    assert len(child[FINGERPRINT_KEY_ENV]) >= 32
    assert child_environment(os.environ) == child
    here = Fingerprinter.for_stack("mlstack", "production").value(SHIPPED_URL)
    monkeypatch.setenv(FINGERPRINT_KEY_ENV, child[FINGERPRINT_KEY_ENV])
    assert Fingerprinter.for_stack("mlstack", "production").value(SHIPPED_URL) == here


def test_a_short_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FINGERPRINT_KEY_ENV, "hunter2")
    with pytest.raises(PlanConfigError, match=f"{FINGERPRINT_KEY_ENV}: 7 characters"):
        run_plan("staging")


def test_the_human_plan_shows_where_secrets_are(edited: dict[str, Plan]) -> None:
    console = Console(file=io.StringIO(), width=200)
    secret_summary(edited["secure"], console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "config mlstack:monitoring.httpsSubscriptions[0]: secure: value" in text
    assert f"{SUBSCRIPTION} (TopicSubscription) endpoint: secret input" in text


def test_a_base_without_fingerprints_is_not_compared_and_says_so() -> None:
    def doc(endpoint: str) -> dict[str, Any]:
        urn = f"urn:pulumi:p::mlstack::aws:sns/topicSubscription:TopicSubscription::{SUBSCRIPTION}"
        inputs = {"endpoint": endpoint, "protocol": "https"}
        return {"resources": [{"urn": urn, "type": urn.split("::")[2], "name": SUBSCRIPTION,
                               "inputs": inputs}]}  # fmt: skip

    diff = diff_plans(doc("[secret]"), doc("[secret:0123456789abcdef]"), "main", "branch")
    assert diff.changes == () and diff.unchanged == 1
    assert diff.notes == ("main: a plan without secret fingerprints; secrets were not compared",)
