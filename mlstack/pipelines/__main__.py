"""``python -m mlstack.pipelines [--check] [--project-dir DIR] [STACK ...]``: write (or compare)
the generated pipeline definitions of every model of every stack, or of the stacks named, and
remove the definitions no model declares any more (a model renamed, removed or no longer
retraining). ``make pipelines`` runs it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.config.errors import ConfigError
from infra.config.retraining import PIPELINES_DIR
from mlstack.offline.stack_files import StackFileError
from mlstack.pipelines.definitions import stack_pipelines
from mlstack.project import PROJECT_ROOT


def owner(definition: str, stacks: list[str]) -> str | None:
    """The stack a definition file belongs to: files are named ``<stack>-<model>[-batch].json``,
    so the longest stack name the file name starts with (``prod-eu-x.json`` is prod-eu's, not
    prod's); None when no stack file has it."""
    owners = [stack for stack in stacks if definition.startswith(f"{stack}-")]
    return max(owners, key=len, default=None)


def orphans(
    root: Path, generated: set[Path], stacks: list[str], every_stack: list[str], all_run: bool
) -> list[tuple[Path, str]]:
    """Definition files under ``PIPELINES_DIR`` no model of the stacks generated declares, each
    with the reason in words. Files of no stack count only when every stack was generated."""
    found: list[tuple[Path, str]] = []
    for path in sorted((root / PIPELINES_DIR).glob("*.json")):
        relative = path.relative_to(root)
        if relative in generated:
            continue
        stack = owner(path.name, every_stack)
        if stack is None and all_run:
            found.append((relative, "no stack file declares it"))
        elif stack in stacks:
            found.append((relative, f"no model of stack '{stack}' declares it"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlstack.pipelines")
    parser.add_argument("stacks", nargs="*", help="stacks to generate (default: every stack)")
    parser.add_argument("--check", action="store_true", help="fail when a file is stale")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_ROOT,
        help="directory holding Pulumi.yaml (default: this checkout)",
    )
    args = parser.parse_args(argv)
    root: Path = args.project_dir
    every_stack = sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (root / "stacks").glob("Pulumi.*.yaml")
    )
    stacks = args.stacks or every_stack
    stale: list[str] = []
    errors: list[str] = []
    written: set[Path] = set()
    for stack in stacks:
        try:
            pipelines = stack_pipelines(root, stack)
        except (ConfigError, StackFileError) as err:
            errors.append(str(err))
            continue
        for generated in pipelines:
            written.add(generated.path)
            path = root / generated.path
            if args.check:
                if not path.exists() or path.read_text() != generated.text():
                    stale.append(str(generated.path))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(generated.text())
            print(f"wrote {generated.path}")
    if not errors:  # a stack that failed to generate says nothing of which files it still needs
        for relative, reason in orphans(root, written, stacks, every_stack, not args.stacks):
            if args.check:
                stale.append(f"{relative} ({reason})")
                continue
            (root / relative).unlink()
            print(f"removed {relative}: {reason}")
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 2
    if stale:
        print(
            f"stale pipeline definitions in {PIPELINES_DIR}: {', '.join(stale)}; "
            "run: make pipelines",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
