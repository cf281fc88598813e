"""The one snapshot mechanism: golden files under tests/snapshots/ that a review sees change.

A test compares a rendered value with its golden file; ``make snapshots`` (which sets
``MLSTACK_UPDATE_SNAPSHOTS=1`` and runs the tests marked ``golden``) rewrites every golden
file after an intended change, and the diff is reviewed like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE_VARIABLE = "MLSTACK_UPDATE_SNAPSHOTS"


def updating() -> bool:
    """Whether this run rewrites golden files instead of comparing with them."""
    return os.environ.get(UPDATE_VARIABLE) == "1"


def as_text(value: Any) -> str:
    """Text as is; anything else as sorted, indented JSON."""
    return value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True) + "\n"


def assert_golden(relative_path: str, value: Any) -> None:
    """``value`` equals the golden file ``tests/snapshots/<relative_path>`` (or rewrites it)."""
    path = SNAPSHOTS / relative_path
    text = as_text(value)
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"missing golden file tests/snapshots/{relative_path}: run make snapshots"
    assert text == path.read_text(), (
        f"tests/snapshots/{relative_path} differs: review the change, then run make snapshots"
    )
