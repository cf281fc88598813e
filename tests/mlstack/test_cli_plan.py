"""`mlstack plan`: exit codes 0 / 1 / 2, JSON on stdout, short errors on stderr."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlstack.cli import app as app_module
from mlstack.cli.app import app, main
from tests.conftest import edit_stack_file

runner = CliRunner()


def test_plan_json_parses_and_exits_zero() -> None:
    result = runner.invoke(app, ["plan", "staging", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["stack"] == "staging"
    assert any(r["type"] == "aws:kms/key:Key" for r in document["resources"])


def test_plan_all_shows_every_stack() -> None:
    result = runner.invoke(app, ["plan", "--all", "--tree"])
    assert result.exit_code == 0, result.output
    assert "stack production" in result.stdout
    assert "stack staging" in result.stdout
    assert "stack platform" in result.stdout
    assert "registry (Registry)" in result.stdout


def test_plan_all_json_is_a_list_of_plans() -> None:
    result = runner.invoke(app, ["plan", "--all", "--json"])
    assert result.exit_code == 0, result.output
    assert [p["stack"] for p in json.loads(result.stdout)] == ["platform", "production", "staging"]


def test_misspelt_rollout_key_exits_two_naming_it(project_copy: Path) -> None:
    def misspell(config: dict) -> None:
        config["mlstack:rollout"]["bakeSecnds"] = config["mlstack:rollout"].pop("bakeSeconds")

    edit_stack_file(project_copy, "production", misspell)
    result = runner.invoke(app, ["plan", "production", "--project-dir", str(project_copy)])
    assert result.exit_code == 2
    assert "stacks/Pulumi.production.yaml: mlstack:rollout.bakeSecnds: unknown key" in result.stderr
    assert "did you mean 'bakeSeconds'?" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 3


def test_unknown_stack_exits_two() -> None:
    result = runner.invoke(app, ["plan", "qa"])
    assert result.exit_code == 2
    assert "no stack 'qa'" in result.stderr


def test_stack_and_all_together_exit_two() -> None:
    result = runner.invoke(app, ["plan", "staging", "--all"])
    assert result.exit_code == 2


VIOLATING_PROGRAM = """
import pulumi_aws as aws
aws.kms.Key("unrotated", enable_key_rotation=False)
"""


def _violating_project(root: Path, enforcement: str) -> Path:
    (root / "prog").mkdir(parents=True)
    (root / "prog" / "__main__.py").write_text(VIOLATING_PROGRAM)
    (root / "Pulumi.yaml").write_text("name: mlstack\nruntime: python\nmain: prog/\n")
    (root / "Pulumi.dev.yaml").write_text(
        f"config:\n  aws:region: us-east-1\n  mlstack:policy:\n    enforcement: {enforcement}\n"
    )
    (root / "policy_pack").mkdir()
    (root / "policy_pack" / "tiers.yaml").write_text("stacks:\n  dev: staging\n")
    return root


def test_mandatory_violation_exits_one_and_still_prints_json(tmp_path: Path) -> None:
    project = _violating_project(tmp_path, "mandatory")
    result = runner.invoke(app, ["plan", "dev", "--json", "--project-dir", str(project)])
    assert result.exit_code == 1
    (violation,) = json.loads(result.stdout)["policy"]
    assert violation["policy"] == "kms-key-rotation"
    assert violation["level"] == "mandatory"
    assert violation["urn"].endswith("::unrotated")


def test_advisory_violation_exits_zero(tmp_path: Path) -> None:
    project = _violating_project(tmp_path, "advisory")
    result = runner.invoke(app, ["plan", "dev", "--project-dir", str(project)])
    assert result.exit_code == 0
    assert "kms-key-rotation" in result.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "mlstack"
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [str(script), "plan", "production", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    types = {r["type"] for r in json.loads(result.stdout)["resources"]}
    assert {"aws:kms/key:Key", "aws:ecr/repository:Repository"} <= types


def test_a_command_runs_without_the_collector_and_exits_with_the_heap_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, bool] = {}
    monkeypatch.setattr(app_module, "app", lambda: seen.update(collecting=gc.isenabled()))
    was = gc.isenabled()
    gc.enable()
    try:
        main()
        assert seen == {"collecting": False}
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        if was:
            gc.enable()
