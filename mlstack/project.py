"""Where the project lives: the one project-root lookup of the tooling."""

from __future__ import annotations

from pathlib import Path

PROJECT_FILE = "Pulumi.yaml"
INSTALLED_ROOT = Path(__file__).resolve().parents[1]
"""The checkout this package was installed from."""

PROJECT_ROOT = INSTALLED_ROOT
"""The default project of the CLI and the tests: the installed checkout."""


def tiers_file(project_root: Path) -> Path:
    """The tier declaration of the project at ``project_root`` (which stacks are production)."""
    return project_root / "policy_pack" / "tiers.yaml"
