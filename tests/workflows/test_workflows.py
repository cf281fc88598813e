"""The GitHub workflows: valid against GitHub's schema, clean under zizmor, least privilege,
pinned actions, and the delivery flow the kit promises (preview, offline diff, gated deploy)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlstack.project import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name: str) -> dict[Any, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def on(doc: dict[Any, Any]) -> dict[str, Any]:
    return doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true


def steps(doc: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def test_expected_workflows_exist() -> None:
    assert {p.name for p in FILES} >= {
        "test.yml",
        "preview.yml",
        "offline-diff.yml",
        "offline-diff-comment.yml",
        "deploy.yml",
    }


def test_workflows_match_githubs_schema() -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
        + [str(p) for p in FILES],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing() -> None:
    done = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", "auditor", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings" in done.stdout + done.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_version(path: Path) -> None:
    for line in path.read_text().splitlines():
        if "uses:" not in line:
            continue
        ref = line.split("uses:", 1)[1].split("#")[0].strip()
        if ref.startswith("$/"):
            continue  # this repository's own workflow, at the same commit
        assert PINNED.match(ref), line
        assert re.search(r"# v\d+(\.\d+)*$", line), f"no version comment: {line}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_permissions_start_empty_and_jobs_ask_for_theirs(path: Path) -> None:
    doc = load(path.name)
    assert doc["permissions"] == {}
    for job in doc["jobs"].values():
        assert "write-all" not in str(job["permissions"])
        assert job["permissions"].get("contents", "read") == "read"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_checkouts_do_not_persist_credentials(path: Path) -> None:
    for step in steps(load(path.name)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_preview_runs_for_same_repository_pull_requests_per_stack() -> None:
    doc = load("preview.yml")
    job = doc["jobs"]["preview"]
    assert set(on(doc)) == {"pull_request"}
    assert "head.repo.full_name == github.repository" in job["if"]
    assert job["strategy"]["matrix"]["stack"] == ["staging", "production"]
    assert "matrix.stack" in job["concurrency"]["group"]
    assert job["permissions"]["id-token"] == "write"
    pulumi = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policy_pack"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["edit-pr-comment"] is True
    assert any(
        s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        and "role-to-assume" in s["with"]
        for s in job["steps"]
    )


def test_offline_diff_runs_pull_request_code_without_secrets() -> None:
    doc = load("offline-diff.yml")
    assert set(on(doc)) == {"pull_request"}
    text = (WORKFLOWS / "offline-diff.yml").read_text()
    assert "secrets." not in text
    assert "mlstack diff" in text
    assert doc["jobs"]["diff"]["permissions"] == {"contents": "read"}


def test_offline_diff_comment_runs_no_pull_request_code() -> None:
    doc = load("offline-diff-comment.yml")
    assert on(doc)["workflow_run"]["workflows"] == ["offline-diff"]
    for step in steps(doc):
        assert not step.get("uses", "").startswith("actions/checkout@")
        assert "${{" not in step.get("run", "")


def test_deploy_goes_staging_smoke_then_gated_production() -> None:
    doc = load("deploy.yml")
    assert on(doc)["push"]["branches"] == ["main"]
    staging, production = doc["jobs"]["staging"], doc["jobs"]["production"]
    assert production["needs"] == "staging"
    assert (staging["environment"], production["environment"]) == ("staging", "production")
    for stack, job in (("staging", staging), ("production", production)):
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}
        runs = [s.get("run", "") for s in job["steps"]]
        assert f".venv-smoke/bin/python -m mlstack smoke {stack}" in runs
        up = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
        assert up["with"]["command"] == "up"
        assert up["with"]["stack-name"].endswith(f"/{stack}")


def test_deploy_runs_only_after_the_tests_of_that_commit() -> None:
    doc = load("deploy.yml")
    assert doc["jobs"]["tests"]["uses"] == "$/.github/workflows/test.yml"
    assert doc["jobs"]["staging"]["needs"] == "tests"
    assert "workflow_call" in on(load("test.yml"))


@pytest.mark.parametrize("name", ["deploy.yml", "preview.yml"])
def test_pulumi_runs_from_hash_locked_requirements_with_a_pinned_cli(name: str) -> None:
    doc = load(name)
    text = (WORKFLOWS / name).read_text()
    assert "make install" not in text, "the dev extras never reach a job with cloud credentials"
    installs = [s["run"] for s in steps(doc) if "pip install" in s.get("run", "")]
    assert installs and all("--require-hashes" in run for run in installs)
    pinned = re.search(r"^pulumi==([\d.]+) ", (PROJECT_ROOT / "infra" / "requirements.lock")
                       .read_text(), re.MULTILINE)  # fmt: skip
    assert pinned
    for step in steps(doc):
        if step.get("uses", "").startswith("pulumi/actions@"):
            assert step["with"]["pulumi-version"] == pinned[1], "CLI and SDK releases match"


def test_preview_never_holds_the_deploy_token() -> None:
    text = (WORKFLOWS / "preview.yml").read_text()
    assert "secrets.PULUMI_ACCESS_TOKEN" not in text
    assert "secrets.PULUMI_PREVIEW_TOKEN" in text


def test_fork_diff_comment_says_whose_code_wrote_it() -> None:
    text = (WORKFLOWS / "offline-diff-comment.yml").read_text()
    assert "Produced by this pull request's own code" in text
    assert "no substitute" in text


def test_codeowners_cover_the_gate() -> None:
    owned = {
        line.split()[0]
        for line in (PROJECT_ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert owned >= {"/stacks/", "/policy_pack/", "/policy_pack/tiers.yaml", "/.github/"}
