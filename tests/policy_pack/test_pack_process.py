"""The pack's project file: a Python pack with requirements of its own."""

from __future__ import annotations

from pathlib import Path

PACK = Path(__file__).resolve().parents[2] / "policy_pack"


def test_pack_project_file_declares_python() -> None:
    text = (PACK / "PulumiPolicy.yaml").read_text()
    assert "name: python" in text
    assert (PACK / "requirements.txt").read_text().count("pulumi-policy") == 1
