"""``mlstack render-k8s``: write a stack's Kubernetes objects as YAML files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mlstack.cli.errors import EXIT_OK, fail
from mlstack.cli.plan_cmd import ProjectDir, plan_stack
from mlstack.manifests import helm_releases, manifests, write_manifests


def register(app: typer.Typer) -> None:
    @app.command("render-k8s")
    def render_k8s(
        stack: Annotated[str, typer.Argument(help="Stack to render: staging, production.")],
        directory: Annotated[
            Path, typer.Argument(help="Output directory (created; earlier renders replaced).")
        ],
        project_dir: ProjectDir = None,  # type: ignore[assignment],
    ) -> None:
        """Write every Kubernetes object of STACK's offline plan to DIR, one YAML file per
        object (<kind>-<name>.yaml), for review and for scanners such as checkov.

        Helm releases are listed on stderr with their pinned chart; Helm renders them in the
        cluster. Exit codes: 0 written (or nothing to write), 2 bad config or usage.
        """
        plan = plan_stack(stack, project_dir)
        if directory.exists() and not directory.is_dir():
            fail(f"{directory} exists and is not a directory")
        objects = manifests(plan)
        if not objects:
            sys.stderr.write(
                f"stack '{stack}' declares no Kubernetes objects (mlstack:eks is disabled)\n"
            )
            raise typer.Exit(EXIT_OK)
        for path in write_manifests(objects, directory):
            sys.stdout.write(f"{path}\n")
        for release in helm_releases(plan):
            sys.stderr.write(
                f"helm release {release['namespace']}/{release['name']}: chart "
                f"{release['chart']} {release['version']} from {release['repository']}\n"
            )
        raise typer.Exit(EXIT_OK)
