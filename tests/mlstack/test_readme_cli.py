"""What the README promises about the CLI holds: the shape of `plan --all --json`, and
`mlstack scan` naming `make tools` when checkov is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_USAGE
from mlstack.offline.plan import Plan
from mlstack.project import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


def _block_after(marker: str) -> str:
    start = README.index("```", README.index(marker)) + 3
    return README[start : README.index("```", start)]


def test_the_readme_describes_every_key_of_a_plan_document(shipped_plans: dict[str, Plan]) -> None:
    block = _block_after("prints one plan document")
    document = shipped_plans["staging"].to_json()
    for key in document:
        assert f'"{key}"' in block, f"README's plan document lacks {key}"
    for key in document["resources"][0]:
        assert f'"{key}"' in block, f"README's resource record lacks {key}"
    assert "`.venv/bin/mlstack plan --all --json` prints a JSON array" in README


def test_scan_without_checkov_names_make_tools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("mlstack.scan.checkov.TOOLS_CHECKOV", tmp_path / "no-checkov")
    result = runner.invoke(app, ["scan", "production"])
    assert result.exit_code == EXIT_USAGE, result.output
    assert "mlstack scan needs it; run 'make tools'" in result.stderr
    assert "Traceback" not in result.output
    scan_section = README[README.index("## Policy and security scanning") :]
    assert "`mlstack scan` needs checkov" in scan_section
    assert "`make tools`" in scan_section
