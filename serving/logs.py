"""JSON logs on stdout: one object per line, for CloudWatch Logs and kubectl logs.

Every line has ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``pid`` and ``msg``; fields
passed as ``extra={...}`` are added as they are, and exceptions as ``exc_info`` text.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from typing import Any

import orjson

# Attributes every LogRecord has; anything else came from ``extra=`` and is emitted.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one compact JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key != "color_message":
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: str = "info") -> None:
    """Send the root, ``serving`` and ``uvicorn`` loggers to stdout as JSON at ``level``.

    Idempotent: calling it again replaces the handler rather than adding a second one.
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # uvicorn's access log duplicates ours; keep it quiet unless debugging.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
