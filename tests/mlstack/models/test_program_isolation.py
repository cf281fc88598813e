"""The Pulumi program never imports the AWS tooling (a plan needs no boto3 or credentials)."""

from __future__ import annotations

import subprocess
import sys

from mlstack.project import PROJECT_ROOT

PROBE = """
import sys
from mlstack.offline.harness import run_plan
run_plan("production")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore")
                or m.startswith("mlstack.models") or m.startswith("sagemaker"))
print(",".join(loaded))
import gc
gc.freeze()  # exit without collecting the plan's heap, as the CLI does
"""


def test_planning_a_stack_loads_no_aws_tooling() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1:] in ([], [""])
