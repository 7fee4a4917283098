"""End-to-end: the eval script's synthetic set must reach 100 % PHI recall and >= 90 % retention."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="issue #12 open: default-deny renderings keep 88.1% of this set's clinical "
                   "lines (target 90%); PHI recall stays 100%")
def test_eval_synthetic_targets(tmp_path: Path) -> None:
    from eval_pixels import run_synthetic

    args = argparse.Namespace(dir=tmp_path / "s", n=13, seed=11, jobs=4, reocr=False)
    assert run_synthetic(args) == 0
