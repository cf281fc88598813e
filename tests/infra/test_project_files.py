"""Project files: Pulumi.yaml, requirements for `pulumi install`, comments in stack files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
import yaml

from infra.config import KNOWN_KEYS
from mlstack.project import PROJECT_ROOT
from tests.conftest import SHIPPED_STACKS

PROJECT_CONFIG_TYPES = {"string", "integer", "boolean", "array"}


def pulumi_yaml() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())


def test_pulumi_yaml_declares_the_kit() -> None:
    doc = pulumi_yaml()
    assert doc["name"] == "mlstack"
    assert doc["runtime"]["name"] == "python"
    assert doc["runtime"]["options"]["virtualenv"] == ".venv"
    assert doc["main"] == "infra/"
    assert doc["stackConfigDir"] == "stacks"
    assert doc["description"]
    assert (PROJECT_ROOT / doc["main"] / "__main__.py").is_file()


def test_project_config_block_uses_types_the_cli_accepts() -> None:
    declared = pulumi_yaml()["config"]
    assert declared
    for key, declaration in declared.items():
        assert declaration["type"] in PROJECT_CONFIG_TYPES, key
        assert declaration["description"], key
        assert key.split(":")[-1] in KNOWN_KEYS, f"{key} is not read by infra/config/"


def _requirement_names(lines: list[str]) -> dict[str, str]:
    result = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower().replace("_", "-")
            result[name] = line.replace(" ", "")
    return result


def test_pulumi_install_requirements_match_pyproject() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    expected = _requirement_names(pyproject["project"]["optional-dependencies"]["infra"])
    actual = _requirement_names(
        (PROJECT_ROOT / "infra" / "requirements.txt").read_text().splitlines()
    )
    assert actual == expected


KEY_LINE = re.compile(r"^\s*(- )?[\w:.-]+:( |$)")


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_stack_key_has_a_comment(stack: str) -> None:
    lines = (PROJECT_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text().splitlines()
    uncommented = []
    for number, line in enumerate(lines):
        if not KEY_LINE.match(line) or line.startswith("config:"):
            continue
        previous = next((p for p in reversed(lines[:number]) if p.strip()), "")
        if not previous.strip().startswith("#"):
            uncommented.append(f"line {number + 1}: {line.strip()}")
    assert not uncommented, "keys without a comment above them:\n" + "\n".join(uncommented)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make test" in ci
    assert "make plan" in readme and "make test" in readme


def test_serving_extra_installs_no_pulumi() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"] == []
    serving = _requirement_names(pyproject["project"]["optional-dependencies"]["serving"])
    assert not [name for name in serving if name.startswith(("pulumi", "boto"))]


def test_serving_and_program_do_not_import_each_other() -> None:
    for path in Path(PROJECT_ROOT / "serving").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+(infra|pulumi)", path.read_text(), re.M), path
    for path in Path(PROJECT_ROOT / "infra").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+serving", path.read_text(), re.M), path
