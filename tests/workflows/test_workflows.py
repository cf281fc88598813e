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
STACKS = sorted(
    p.name.removeprefix("Pulumi.").removesuffix(".yaml")
    for p in (PROJECT_ROOT / "stacks").glob("Pulumi.*.yaml")
)
"""Every stack file's stack: each workflow that iterates over stacks covers all of them."""


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
        "deploy-stack.yml",
    }


def test_the_shipped_stacks_include_platform() -> None:
    """Guards the coverage tests below against an empty or shrunken stack list."""
    assert {"staging", "production", "platform"} <= set(STACKS)


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
    assert sorted(job["strategy"]["matrix"]["stack"]) == STACKS
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


def test_offline_diff_diffs_every_stack() -> None:
    (run,) = [
        s["run"] for s in steps(load("offline-diff.yml")) if "mlstack diff" in s.get("run", "")
    ]
    loop = re.search(r"for stack in ([\w -]+); do\n(.*?)\n\s*done", run, re.DOTALL)
    assert loop, run
    assert sorted(loop[1].split()) == STACKS
    assert '.venv/bin/mlstack diff "$stack"' in loop[2]


def test_every_stack_file_passes_the_pack_and_checkov_in_ci() -> None:
    """`make check scan` run `mlstack check --all` and `mlstack scan --all`: every stack file,
    platform included, without a list to keep current."""
    job = load("test.yml")["jobs"]["stacks"]
    assert [s["run"] for s in job["steps"] if "run" in s] == ["make check scan"]
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    for target, command in (("check", "mlstack check --all"), ("scan", "mlstack scan --all")):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
        assert recipe and command in recipe[1], target


def test_offline_diff_comment_runs_no_pull_request_code() -> None:
    doc = load("offline-diff-comment.yml")
    assert on(doc)["workflow_run"]["workflows"] == ["offline-diff"]
    for step in steps(doc):
        assert not step.get("uses", "").startswith("actions/checkout@")
        assert "${{" not in step.get("run", "")


def _deploy_callers() -> dict[str, dict[str, Any]]:
    """deploy.yml's jobs that deploy a stack, by stack."""
    jobs = load("deploy.yml")["jobs"]
    return {
        job["with"]["stack"]: job
        for job in jobs.values()
        if job.get("uses") == "$/.github/workflows/deploy-stack.yml"
    }


def _deploy_steps() -> list[dict[str, Any]]:
    return load("deploy-stack.yml")["jobs"]["deploy"]["steps"]


def _index(found: list[dict[str, Any]], predicate: Any) -> list[int]:
    return [i for i, step in enumerate(found) if predicate(step)]


def _uses(action: str) -> Any:
    return lambda step: step.get("uses", "").startswith(f"{action}@")


def test_deploy_goes_staging_then_gated_production_stacks() -> None:
    doc = load("deploy.yml")
    assert on(doc)["push"]["branches"] == ["main"]
    callers = _deploy_callers()
    assert sorted(callers) == STACKS, "every stack is deployed"
    assert callers["staging"]["needs"] == "tests"
    for stack in ("production", "platform"):
        assert callers[stack]["needs"] == "staging"
    for job in callers.values():
        assert job["secrets"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
    called = load("deploy-stack.yml")
    assert set(on(called)) == {"workflow_call"}
    job = called["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.stack }}", "each stack behind its own environment"
    assert job["concurrency"] == {
        "group": "deploy-${{ inputs.stack }}",
        "cancel-in-progress": False,
    }
    up = next(s for s in job["steps"] if _uses("pulumi/actions")(s) and "command" in s["with"])
    assert up["with"]["command"] == "up"
    assert up["with"]["stack-name"] == "${{ vars.PULUMI_ORG }}/${{ inputs.stack }}"
    assert up["with"]["policyPacks"] == "policy_pack"


def test_deploy_smoke_tests_every_model_a_stack_serves_on_sagemaker() -> None:
    from mlstack.pipelines.stacks import stack_config

    (smoke,) = [s["run"] for s in _deploy_steps() if "mlstack smoke" in s.get("run", "")]
    assert '.venv-ops/bin/python -m mlstack smoke "$STACK"\n' in smoke
    assert '.venv-ops/bin/python -m mlstack smoke "$STACK" "$model"' in smoke
    for stack, job in _deploy_callers().items():
        config = stack_config(PROJECT_ROOT, stack)
        listed = job["with"].get("smoke-models", "").split()
        if config.models:
            served = [m.name for m in config.served_models() if m.view.sagemaker.enabled]
            assert sorted(listed) == sorted(served), stack
        else:
            assert listed == [], f"{stack} serves one model: its endpoint output names it"


def test_deploy_uploads_step_scripts_with_the_release_role_before_pulumi_up() -> None:
    found = _deploy_steps()
    credentials = _index(found, _uses("aws-actions/configure-aws-credentials"))
    roles = {i: found[i]["with"]["role-to-assume"] for i in credentials}
    uploads = _index(found, lambda s: "pipeline upload-scripts" in s.get("run", ""))
    (up,) = _index(found, lambda s: _uses("pulumi/actions")(s) and "command" in s.get("with", {}))
    assert len(uploads) == 2
    before, after = uploads
    assert before < up < after
    for upload in uploads:
        assumed = max(i for i in credentials if i < upload)
        assert roles[assumed] == "${{ vars.AWS_RELEASE_ROLE_ARN }}", "uploads hold no deploy role"
        assert found[assumed].get("if") == found[upload]["if"]
        assert found[upload]["run"] == found[before]["run"]
    assert roles[max(i for i in credentials if i < up)] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    # Before pulumi up into the deployed bucket; after it only when there was none.
    assert found[before]["if"] == "steps.deployed.outputs.bucket != ''"
    assert found[before]["env"]["BUCKET"] == "${{ steps.deployed.outputs.bucket }}"
    assert found[after]["if"] == "steps.deployed.outputs.bucket == ''"
    assert found[after]["env"]["BUCKET"] == "${{ steps.up.outputs.artifactsBucket }}"


def test_deploy_runs_only_after_the_tests_of_that_commit() -> None:
    doc = load("deploy.yml")
    assert doc["jobs"]["tests"]["uses"] == "$/.github/workflows/test.yml"
    assert _deploy_callers()["staging"]["needs"] == "tests"
    assert "workflow_call" in on(load("test.yml"))


@pytest.mark.parametrize("name", ["deploy-stack.yml", "preview.yml"])
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
    assert owned >= {"/stacks/", "/policy_pack/", "/policy_pack/tiers.yaml", "/.github/",
                     "/mlstack/pipelines/code/"}  # fmt: skip
