"""The pack's entry point boots as the Pulumi CLI starts it: a script that prints its port."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PACK = Path(__file__).resolve().parents[2] / "policy_pack"


def test_pack_entry_point_starts_and_prints_its_port() -> None:
    env = {**os.environ, "PULUMI_STACK": "production"}
    process = subprocess.Popen(
        [sys.executable, str(PACK / "__main__.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=PACK,
    )
    try:
        line = process.stdout.readline().decode().strip() if process.stdout else ""
        assert line.isdigit(), (process.stderr.read().decode() if process.stderr else "")[-2000:]
    finally:
        process.kill()
        process.wait()


def test_pack_project_file_declares_python() -> None:
    text = (PACK / "PulumiPolicy.yaml").read_text()
    assert "name: python" in text
    assert (PACK / "requirements.txt").read_text().count("pulumi-policy") == 1
