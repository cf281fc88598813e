"""The three products keep apart, checked by reading every import statement:

- the Pulumi program (``infra``) imports neither the tooling nor the policy pack;
- the policy pack imports only itself, the standard library and what its requirements.txt
  names (the Pulumi CLI builds its venv from that file alone);
- the serving image imports none of the kit (no Pulumi, no tooling, no AWS SDK);
- the tooling (``mlstack``) uses the program's config and rollout model, never its components.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from mlstack.project import PROJECT_ROOT

DISTRIBUTION_MODULES = {"pyyaml": "yaml", "pulumi-policy": "pulumi_policy"}
"""Top-level module of a requirement whose import name differs from its distribution name."""


def imports_of(package: str) -> dict[str, set[str]]:
    """The dotted module names each file of ``package`` imports (absolute imports)."""
    found: dict[str, set[str]] = {}
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        if "venv" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
        found[str(path.relative_to(PROJECT_ROOT))] = names
    return found


def offenders(package: str, allowed) -> list[str]:
    return [
        f"{path}: {name}"
        for path, names in imports_of(package).items()
        for name in sorted(names)
        if not allowed(name)
    ]


def _top(name: str) -> str:
    return name.split(".")[0]


def pack_requirements() -> set[str]:
    modules = set()
    for line in (PROJECT_ROOT / "policy_pack" / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            dist = re.split(r"[<>=!~; \[]", line, maxsplit=1)[0].lower()
            modules.add(DISTRIBUTION_MODULES.get(dist, dist.replace("-", "_")))
    return modules


def test_the_program_imports_no_tooling_and_no_pack() -> None:
    assert offenders("infra", lambda n: _top(n) not in {"mlstack", "policy_pack", "serving"}) == []


def test_the_policy_pack_imports_only_itself_and_its_requirements() -> None:
    allowed = {"policy_pack", *pack_requirements(), *sys.stdlib_module_names, "__future__"}
    assert offenders("policy_pack", lambda n: _top(n) in allowed) == []


def test_the_serving_image_imports_none_of_the_kit() -> None:
    forbidden = {"infra", "mlstack", "policy_pack", "boto3", "botocore", "sagemaker"}
    assert (
        offenders("serving", lambda n: _top(n) not in forbidden and not n.startswith("pulumi"))
        == []
    )


def test_the_tooling_uses_the_programs_config_never_its_components() -> None:
    def allowed(name: str) -> bool:
        return _top(name) != "infra" or name.startswith(("infra.config", "infra.rollout"))

    assert offenders("mlstack", allowed) == []


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("infra", "from mlstack.offline import harness\n", "mlstack.offline"),
        ("policy_pack", "import pydantic\n", "pydantic"),
    ],
)
def test_a_forbidden_import_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: str, source: str, expected: str
) -> None:
    (tmp_path / package).mkdir()
    (tmp_path / package / "bad.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "PROJECT_ROOT", tmp_path)
    assert expected in imports_of(package)[f"{package}/bad.py"]
