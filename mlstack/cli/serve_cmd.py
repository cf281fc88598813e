"""``mlstack serve``: run the serving image's server locally, exactly as the image runs it.

The command replaces itself with ``python -m serving serve`` (the kit never imports the
serving code), with the SageMaker environment variables the image reads, so signals such as
SIGTERM reach the server directly and it drains as it does in a container.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from mlstack.cli.errors import fail

DEFAULT_MODEL_DIR = Path("/opt/ml/model")
"""Where SageMaker puts the model, when neither --model-dir nor MODEL_DIR says otherwise."""


def serve_command(
    model_dir: Path | None,
    port: int | None,
    workers: int | None,
    host: str | None = None,
    environ: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that ``mlstack serve`` runs.

    The server reads the same variables as ``python -m serving serve`` (``MODEL_DIR``,
    ``SAGEMAKER_BIND_TO_PORT`` / ``PORT``, ``SAGEMAKER_MODEL_SERVER_WORKERS``,
    ``SERVING_HOST``); a flag given on the command line overrides its variable."""
    env = dict(os.environ if environ is None else environ)
    overrides = {
        "MODEL_DIR": model_dir,
        "SAGEMAKER_BIND_TO_PORT": port,
        "SAGEMAKER_MODEL_SERVER_WORKERS": workers,
        "SERVING_HOST": host,
    }
    env.update({name: str(value) for name, value in overrides.items() if value is not None})
    env.setdefault("MODEL_DIR", str(DEFAULT_MODEL_DIR))
    return [sys.executable, "-m", "serving", "serve"], env


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        model_dir: Annotated[
            Path | None,
            typer.Option(
                "--model-dir",
                help="Directory holding model.joblib / model.onnx (default: $MODEL_DIR, "
                "else /opt/ml/model).",
            ),
        ] = None,
        port: Annotated[
            int | None,
            typer.Option(help="Port (default: $SAGEMAKER_BIND_TO_PORT, else $PORT, else 8080)."),
        ] = None,
        host: Annotated[
            str | None,
            typer.Option(help="Interface to bind (default: $SERVING_HOST, else 0.0.0.0)."),
        ] = None,
        workers: Annotated[
            int | None,
            typer.Option(
                help="Worker processes (default: $SAGEMAKER_MODEL_SERVER_WORKERS, else one per "
                "CPU)."
            ),
        ] = None,
    ) -> None:
        """Serve a model directory with the serving image's server (/ping, /invocations).

        Reads the same environment as `python -m serving serve`; flags override it.
        """
        command, env = serve_command(model_dir, port, workers, host)
        if not Path(env["MODEL_DIR"]).is_dir():
            fail(
                f"model directory {env['MODEL_DIR']} does not exist: pass --model-dir or set "
                "MODEL_DIR (train an example with `python -m serving.example DIR`)"
            )
        sys.stdout.flush()
        os.execve(command[0], command, env)
