"""Where the project lives: the one project-root lookup of the tooling."""

from __future__ import annotations

from pathlib import Path

PROJECT_FILE = "Pulumi.yaml"
INSTALLED_ROOT = Path(__file__).resolve().parents[1]
"""The checkout this package was installed from."""

PROJECT_ROOT = INSTALLED_ROOT
"""The project the tests use: the installed checkout."""


def find_project(start: Path) -> Path | None:
    """The nearest directory from ``start`` upward holding ``Pulumi.yaml``, as ``pulumi`` and
    ``git`` find theirs; None when there is none."""
    for directory in (start, *start.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    return None


def choose_project(given: Path | None, cwd: Path | None = None) -> tuple[Path, str | None]:
    """The project a command works on, and a note to print when it is not the obvious one.

    ``--project-dir`` wins; else the project found from the current directory upward; else
    the checkout this command was installed from."""
    if given is not None:
        return given, None
    here = (cwd or Path.cwd()).resolve()
    found = find_project(here)
    if found is None:
        return INSTALLED_ROOT, (
            f"no {PROJECT_FILE} in {here} or above: using the installed checkout {INSTALLED_ROOT}"
        )
    if found.resolve() != INSTALLED_ROOT:
        return found, f"project: {found} (found from the current directory)"
    return found, None


def tiers_file(project_root: Path) -> Path:
    """The tier declaration of the project at ``project_root`` (which stacks are production)."""
    return project_root / "policy_pack" / "tiers.yaml"
