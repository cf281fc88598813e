"""``python -m mlstack.pipelines [--check] [STACK ...]``: write (or compare) the generated
pipeline definitions of every stack, or of the stacks named. ``make pipelines`` runs it."""

from __future__ import annotations

import argparse
import sys

from infra.config.retraining import PIPELINES_DIR
from mlstack.pipelines.definitions import stack_pipelines
from mlstack.project import PROJECT_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlstack.pipelines")
    parser.add_argument("stacks", nargs="*", help="stacks to generate (default: every stack)")
    parser.add_argument("--check", action="store_true", help="fail when a file is stale")
    args = parser.parse_args(argv)
    stacks = args.stacks or sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (PROJECT_ROOT / "stacks").glob("Pulumi.*.yaml")
    )
    stale: list[str] = []
    for stack in stacks:
        for generated in stack_pipelines(PROJECT_ROOT, stack):
            path = PROJECT_ROOT / generated.path
            if args.check:
                if not path.exists() or path.read_text() != generated.text():
                    stale.append(str(generated.path))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(generated.text())
            print(f"wrote {generated.path}")
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
