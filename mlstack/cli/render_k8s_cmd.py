"""``mlstack render-k8s``: write a stack's Kubernetes objects as YAML files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mlstack.cli.errors import EXIT_OK, fail
from mlstack.cli.plan_cmd import ProjectDir, plan_stack


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

        In a stack of many models (mlstack:models), each model's objects go to DIR/<model>/
        and objects of no model stay in DIR.

        Helm releases are listed on stderr with their pinned chart; Helm renders them in the
        cluster. Exit codes: 0 written (or nothing to write), 2 bad config or usage.
        """
        from mlstack.attribution import models_by_urn, tagged_model
        from mlstack.manifests import helm_releases, manifest_of, write_manifests

        plan = plan_stack(stack, project_dir)
        if directory.exists() and not directory.is_dir():
            fail(f"{directory} exists and is not a directory")
        document = plan.to_json()
        per_model = any(tagged_model(r.inputs) for r in plan.resources)
        owners = models_by_urn(document) if per_model else {}
        folders: dict[Path, list[dict]] = {}
        for resource in plan.resources:
            manifest = manifest_of(resource)
            if manifest is not None:
                model = owners.get(resource.urn)
                folders.setdefault(directory / model if model else directory, []).append(manifest)
        if not folders:
            sys.stderr.write(
                f"stack '{stack}' declares no Kubernetes objects (mlstack:eks is disabled)\n"
            )
            raise typer.Exit(EXIT_OK)
        for folder, objects in folders.items():
            for path in write_manifests(objects, folder):
                sys.stdout.write(f"{path}\n")
        for release in helm_releases(plan):
            sys.stderr.write(
                f"helm release {release['namespace']}/{release['name']}: chart "
                f"{release['chart']} {release['version']} from {release['repository']}\n"
            )
        raise typer.Exit(EXIT_OK)
