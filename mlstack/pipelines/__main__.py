"""``python -m mlstack.pipelines [--check] [--project-dir DIR] [STACK ...]``: write (or compare)
the generated pipeline definitions of every model of every stack, or of the stacks named.
``make pipelines`` runs it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.config.errors import ConfigError
from infra.config.retraining import PIPELINES_DIR
from mlstack.offline.stack_files import StackFileError
from mlstack.pipelines.definitions import stack_pipelines
from mlstack.project import PROJECT_ROOT


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
    stacks = args.stacks or sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (root / "stacks").glob("Pulumi.*.yaml")
    )
    stale: list[str] = []
    errors: list[str] = []
    for stack in stacks:
        try:
            pipelines = stack_pipelines(root, stack)
        except (ConfigError, StackFileError) as err:
            errors.append(str(err))
            continue
        for generated in pipelines:
            path = root / generated.path
            if args.check:
                if not path.exists() or path.read_text() != generated.text():
                    stale.append(str(generated.path))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(generated.text())
            print(f"wrote {generated.path}")
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
