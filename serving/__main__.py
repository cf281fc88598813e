"""``python -m serving serve``: the container's entry point.

SageMaker starts inference containers as ``docker run <image> serve``; the image's
ENTRYPOINT is ``python -m serving`` so ``serve`` arrives here. Environment variables
(see :mod:`serving.settings`) are the primary interface; ``--model-dir``, ``--port``,
``--workers`` and ``--host`` override them for local runs. Exit codes: 0 stopped
cleanly, 1 the model could not be loaded, 2 bad usage or settings, 4 workers kept
crashing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from serving.errors import SettingsError
from serving.settings import Settings

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m serving", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="{serve,healthcheck}")
    serve = commands.add_parser("serve", help="run the inference server (what SageMaker calls)")
    serve.add_argument("--model-dir", help="model directory (default $MODEL_DIR or /opt/ml/model)")
    serve.add_argument(
        "--port", type=int, help="TCP port (default $SAGEMAKER_BIND_TO_PORT, $PORT or 8080)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes (default $SAGEMAKER_MODEL_SERVER_WORKERS or the CPU count)",
    )
    serve.add_argument("--host", help="interface to bind (default $SERVING_HOST or 0.0.0.0)")
    health = commands.add_parser("healthcheck", help="exit 0 when /ping on this host answers 200")
    health.add_argument("--port", type=int, help="TCP port (default as for serve)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, read settings once, and run the command; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(
            model_dir=getattr(args, "model_dir", None),
            port=args.port,
            workers=getattr(args, "workers", None),
            host=getattr(args, "host", None),
        )
    except SettingsError as exc:
        sys.stderr.write(f"python -m serving: {exc}\n")
        return EXIT_USAGE
    if args.command == "healthcheck":
        from serving.healthcheck import check

        return 0 if check(settings.port) else 1
    from serving import logs
    from serving.server import serve

    logs.configure(settings.log_level)
    logging.getLogger("serving").debug("settings", extra={"settings": repr(settings)})
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
