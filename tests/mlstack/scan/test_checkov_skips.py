"""Skipped checkov checks live in one file, each with a reason; stack-scoped skips stay scoped."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlstack.scan.checkov import ScanError, load_skips


def test_every_skip_has_an_id_and_a_reason() -> None:
    skips = load_skips()
    assert skips and all(s.id.startswith("CKV") and len(s.reason) > 40 for s in skips)


def test_staging_only_skip_does_not_apply_to_production() -> None:
    retention = next(s for s in load_skips() if s.id == "CKV_AWS_338")
    assert retention.applies_to("staging") and not retention.applies_to("production")


def test_skip_without_reason_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "skips.yaml"
    path.write_text("skips:\n  - id: CKV_AWS_1\n")
    with pytest.raises(ScanError, match="reason"):
        load_skips(path)
