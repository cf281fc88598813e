"""A throwaway project whose stack ``bench`` serves N generated models (``mlstack:models``),
for the plan and diff benchmarks of many models."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK = "bench"

HEADER = """config:
  aws:region: us-east-1
  mlstack:environment: staging
  mlstack:owner: ml-platform
  mlstack:registry:
    modelPackageGroupName: bench
  mlstack:modelDefaults:
    sagemaker:
      instanceType: ml.m5.large
    rollout:
      strategy: canary
      stepPercent: 10
      bakeSeconds: 300
      rollbackAlarms:
        - metric: latency-p99
          threshold: 500
        - metric: errors-5xx
          threshold: 1
  mlstack:models:
"""


def model_name(index: int) -> str:
    return f"model-{index:03d}"


def stack_text(count: int, bumped: int | None = None) -> str:
    """The stack file of ``count`` models on their own endpoints; ``bumped`` serves the next
    version of that model (a one-model change)."""
    entries = "".join(
        f"    {model_name(i)}:\n      packageGroupName: {model_name(i)}\n"
        f"      packageVersion: {2 if i == bumped else 1}\n"
        for i in range(count)
    )
    return HEADER + entries


def models_project(root: Path, count: int) -> Path:
    """A project at ``root`` sharing this checkout's program, with one stack of ``count``
    models (declared staging in its own tiers file)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "stacks").mkdir(parents=True)
    (root / "policy_pack").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "policy_pack" / "tiers.yaml").write_text(f"stacks:\n  {STACK}: staging\n")
    (root / "infra").symlink_to(ROOT / "infra", target_is_directory=True)
    (root / "stacks" / f"Pulumi.{STACK}.yaml").write_text(stack_text(count))
    return root
