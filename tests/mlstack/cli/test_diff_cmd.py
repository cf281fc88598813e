"""`mlstack diff` on a temporary git repository with two commits."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_USAGE
from mlstack.project import PROJECT_ROOT

runner = CliRunner()
SHIPPED_WEBHOOK = "https://events.pagerduty.com/integration/example/enqueue"
NEW_WEBHOOK = "https://hooks.example.com/services/new-webhook-token"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "mlstack tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "mlstack tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(repo), **GIT_ENV},
    )
    return done.stdout


def bump_model_version(repo: Path, stack: str) -> tuple[int, int]:
    path = repo / "stacks" / f"Pulumi.{stack}.yaml"
    text = path.read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith("packageVersion:"))
    old = int(line.split(":")[1].split("#")[0])
    path.write_text(text.replace(line, line.replace(str(old), str(old + 1)), 1))
    return old, old + 1


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """A git repository of this project; its last commit bumps production's model version."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copy(PROJECT_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(PROJECT_ROOT / "stacks", root / "stacks")
    shutil.copytree(
        PROJECT_ROOT / "infra", root / "infra", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(root, "init", "--quiet")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "base")
    old, new = bump_model_version(root, "production")
    stack_file = root / "stacks" / "Pulumi.production.yaml"
    stack_file.write_text(stack_file.read_text().replace(SHIPPED_WEBHOOK, NEW_WEBHOOK))
    git(root, "commit", "--quiet", "-am", "promote production, page another webhook")
    return root, old, new


@pytest.fixture(scope="module")
def markdown(repo: tuple[Path, int, int]) -> str:
    result = runner.invoke(
        app, ["diff", "production", "--base", "HEAD~1", "--project-dir", str(repo[0])]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_markdown_highlights_the_model_version_change(
    markdown: str, repo: tuple[Path, int, int]
) -> None:
    _, old, new = repo
    row = next(line for line in markdown.splitlines() if "model package version" in line)
    assert f"churn-classifier v{old}" in row
    assert f"**`churn-classifier v{new}`**" in row
    assert markdown.startswith("### mlstack diff: production")


def test_a_replaced_webhook_shows_as_a_changed_secret(markdown: str) -> None:
    line = next(x for x in markdown.splitlines() if x.strip().startswith("- `endpoint`"))
    assert line.endswith(": [secret] changed")
    assert "monitoring-alerts-https-0" in markdown
    for shown in (SHIPPED_WEBHOOK, NEW_WEBHOOK, "pagerduty", "new-webhook-token"):
        assert shown not in markdown


def test_markdown_names_base_and_head(markdown: str) -> None:
    assert "base `HEAD~1 (" in markdown
    assert "head `working tree`" in markdown


def test_json_lists_highlights_and_resource_changes(repo: tuple[Path, int, int]) -> None:
    root, old, new = repo
    result = runner.invoke(
        app, ["diff", "production", "--base", "HEAD~1", "--json", "--project-dir", str(root)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["stack"] == "production"
    changed = {h["label"]: h for h in document["highlights"] if h["changed"]}
    assert changed["model package version"]["base"] == f"churn-classifier v{old}"
    assert changed["model package version"]["head"] == f"churn-classifier v{new}"
    secrets = [i for r in document["resources"] for i in r["inputs"] if i.get("secret")]
    assert [(i["path"], i["change"]) for i in secrets] == [("endpoint", "[secret] changed")]
    assert "new-webhook-token" not in result.stdout and "pagerduty" not in result.stdout
    operations = document["summary"]["operations"]
    assert {"create", "update", "replace", "delete", "same"} <= set(operations)


def test_diff_against_head_itself_is_empty(repo: tuple[Path, int, int]) -> None:
    result = runner.invoke(
        app, ["diff", "production", "--base", "HEAD", "--json", "--project-dir", str(repo[0])]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["resources"] == []
    assert not any(h["changed"] for h in document["highlights"])


def test_diff_leaves_no_worktree_behind(repo: tuple[Path, int, int], markdown: str) -> None:
    assert len(git(repo[0], "worktree", "list").splitlines()) == 1


def test_diff_rejects_an_unknown_ref(repo: tuple[Path, int, int]) -> None:
    result = runner.invoke(
        app, ["diff", "production", "--base", "no-such-ref", "--project-dir", str(repo[0])]
    )
    assert result.exit_code == EXIT_USAGE
    assert "unknown git ref 'no-such-ref'" in result.stderr


def test_diff_rejects_a_project_outside_git(tmp_path: Path) -> None:
    shutil.copy(PROJECT_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(PROJECT_ROOT / "stacks", tmp_path / "stacks")
    (tmp_path / "infra").symlink_to(PROJECT_ROOT / "infra", target_is_directory=True)
    result = runner.invoke(
        app, ["diff", "production", "--base", "HEAD", "--project-dir", str(tmp_path)]
    )
    assert result.exit_code == EXIT_USAGE
    assert "is not inside a git repository" in result.stderr
