"""The loaded model is frozen out of garbage collection, so full collections do not walk
it; glibc's allocator is tuned where it exists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.serving.helpers import REPO

# Runs in a fresh interpreter: gc.freeze() is process-wide and must not touch pytest's.
PROBE = """
import gc, json, sys
from pathlib import Path
from serving.memory import freeze_heap
from serving.models import resolve

model = resolve(Path(sys.argv[1]))
model.load()
gc.collect()  # garbage of the imports (pandas, when installed, leaves cycles), not the model
trees = model.estimator.estimators_
model_ids = {id(tree) for tree in trees} | {id(model.estimator), id(trees)}

def tracked_model_objects():
    return len(model_ids & {id(obj) for obj in gc.get_objects()})

before = tracked_model_objects()
tracked_before = len(gc.get_objects())
frozen = freeze_heap()
after = tracked_model_objects()
tracked_after = len(gc.get_objects())
print(json.dumps({"trees": len(trees), "before": before, "after": after, "frozen": frozen,
                  "tracked_before": tracked_before, "tracked_after": tracked_after}))
"""


def test_the_collector_no_longer_traverses_the_frozen_model(example_model_dir: Path) -> None:
    output = subprocess.run(
        [sys.executable, "-c", PROBE, str(example_model_dir)],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    probe = json.loads(output.strip().splitlines()[-1])
    assert probe["trees"] == 100
    assert probe["before"] == 102  # every tree, the list and the forest are collected ...
    assert probe["after"] == 0  # ... until frozen: then no generation holds any of them
    assert probe["frozen"] >= probe["tracked_before"] - 100
    assert probe["tracked_after"] < probe["tracked_before"] // 10
