"""What a new user reads: help without type placeholders or hard-wrapped sentences, a
version, usage errors that name the command and say which argument to drop, and `serve`
honouring the same environment as the image."""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.serve_cmd import serve_command

runner = CliRunner()
MLSTACK = str(Path(sys.executable).parent / "mlstack")
COMMANDS = ["plan", "check", "serve", "diff", "compare", "smoke", "render-k8s", "scan", "model"]


def _help(*args: str) -> str:
    """Help as a 200-column terminal shows it (the console script's own start is
    tests/mlstack/test_cli_plan.py::test_console_script_is_installed)."""
    result = runner.invoke(
        app, [*args, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}, terminal_width=200
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_type_placeholder_for_flags(command: str) -> None:
    assert "<bool>" not in _help(command)


def test_help_paragraphs_rewrap_instead_of_breaking_mid_sentence() -> None:
    text = _help("render-k8s")
    assert any("one YAML file per object" in line for line in text.splitlines()), text


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mlstack {version('mlstack')}"


@pytest.mark.parametrize("command", ["plan", "check", "scan"])
def test_missing_stack_hint_names_the_command(command: str) -> None:
    result = runner.invoke(app, [command])
    assert result.exit_code == 2
    assert f"mlstack {command} production" in result.output


def test_stack_and_all_together_say_which_to_drop() -> None:
    result = runner.invoke(app, ["plan", "--all", "production"])
    assert result.exit_code == 2
    assert "not both" in result.output
    assert "'mlstack plan production' or 'mlstack plan --all'" in result.output


def test_serve_reads_the_images_environment_and_flags_override() -> None:
    environ = {"MODEL_DIR": "/models/a", "SAGEMAKER_BIND_TO_PORT": "9000", "SERVING_HOST": "::1"}
    command, env = serve_command(None, None, None, None, environ)
    assert command[-3:] == ["-m", "serving", "serve"]
    assert (env["MODEL_DIR"], env["SAGEMAKER_BIND_TO_PORT"], env["SERVING_HOST"]) == (
        "/models/a",
        "9000",
        "::1",
    )
    _, env = serve_command(Path("/models/b"), 8081, 3, "127.0.0.1", environ)
    assert env["MODEL_DIR"] == "/models/b"
    assert env["SAGEMAKER_BIND_TO_PORT"] == "8081"
    assert env["SAGEMAKER_MODEL_SERVER_WORKERS"] == "3"
    assert env["SERVING_HOST"] == "127.0.0.1"
    _, env = serve_command(None, None, None, None, {})
    assert env["MODEL_DIR"] == "/opt/ml/model"


def test_serve_names_the_missing_model_dir_from_the_environment(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["serve"], env={"MODEL_DIR": str(missing)})
    assert result.exit_code == 2
    assert str(missing) in result.output and "MODEL_DIR" in result.output
