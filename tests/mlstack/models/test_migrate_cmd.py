"""`mlstack model migrate`: the single-model keys move under mlstack:models with their
comments, and the file still validates (URNs: tests/test_models_migration.py)."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_USAGE

runner = CliRunner()


def test_migrate_moves_the_model_and_keeps_comments(project: Path) -> None:
    path = project / "stacks" / "Pulumi.production.yaml"
    before = yaml.safe_load(path.read_text())["config"]
    result = runner.invoke(app, ["model", "migrate", "production", "--project-dir", str(project)])
    assert result.exit_code == 0, result.output
    text = path.read_text()
    after = yaml.safe_load(text)["config"]
    entry = after["mlstack:models"]["churn-classifier"]
    assert entry["legacyNames"] is True and entry["targets"] == ["sagemaker", "eks"]
    assert entry["packageVersion"] == before["mlstack:model"]["packageVersion"]
    assert entry["rollout"] == before["mlstack:rollout"]
    assert entry["alarms"] == before["mlstack:monitoring"]["alarms"]
    assert entry["kubernetes"]["namespace"] == "churn-classifier"
    assert "minReplicas" not in after["mlstack:kubernetes"]
    for key in ("mlstack:model", "mlstack:sagemaker", "mlstack:rollout", "mlstack:autoscaling"):
        assert key not in after
    lines = text.splitlines()
    comment = next(i for i, line in enumerate(lines) if "# Send a canary slice first" in line)
    described = lines[comment + 1]
    assert described.strip() == "strategy: canary", "the comment moved with its key"
    indent = len(described) - len(described.lstrip())
    assert lines[comment].startswith(" " * indent + "#"), "at its key's indentation"

    again = runner.invoke(app, ["model", "migrate", "production", "--project-dir", str(project)])
    assert again.exit_code == EXIT_USAGE and "already set" in again.stderr
