"""The ``mlstack`` command. Each subcommand lives in its own module and registers here."""

from __future__ import annotations

import typer

from infra.cli import plan_cmd

app = typer.Typer(
    name="mlstack",
    help="Plan, check and operate the mlstack stacks (offline plan needs no cloud credentials).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """mlstack: ship machine-learning models to AWS with Pulumi."""


plan_cmd.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
