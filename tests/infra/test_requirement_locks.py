"""The hash-locked requirements the workflows install: every requirement pinned inside its
declared range, every pin with hashes (``pip install --require-hashes`` refuses anything else)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mlstack.project import PROJECT_ROOT


def _pins(lock: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes)."""
    pins: dict[str, tuple[str, int]] = {}
    text = lock.read_text()
    for block in re.split(r"\n(?=\S)", text):
        head = block.split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        name, _, version = head.split(";")[0].strip().partition("==")
        pins[canonicalize_name(name)] = (version.strip(), block.count("--hash=sha256:"))
    return pins


def _declared(extras: list[str]) -> list[Requirement]:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    groups = pyproject["project"]["optional-dependencies"]
    return [Requirement(r) for extra in extras for r in groups[extra]]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("infra/requirements.lock", ["infra"]), ("mlstack/requirements.lock", ["infra", "tooling"])],
)
def test_lock_pins_every_requirement_inside_its_range_with_hashes(
    lock: str, extras: list[str]
) -> None:
    pins = _pins(PROJECT_ROOT / lock)
    assert pins and all(count >= 1 for _, count in pins.values()), "every pin has hashes"
    for requirement in _declared(extras):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} lacks {name}: run make lock"
        assert requirement.specifier.contains(pins[name][0]), (
            f"{lock} pins {name}=={pins[name][0]}, outside {requirement.specifier}: run make lock"
        )


def test_the_program_lock_holds_nothing_but_the_programs_needs() -> None:
    pins = _pins(PROJECT_ROOT / "infra" / "requirements.lock")
    for tooling_only in ("boto3", "typer", "rich", "moto", "pytest", "checkov", "pulumi-policy"):
        assert tooling_only not in pins
