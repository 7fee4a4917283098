"""Packaging fixtures: the wheel, built once per session in a temporary folder (no download)."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from distribution_helpers import ROOT


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``scripts/build_wheel.sh`` into a temporary folder (hatchling from [dev], no build isolation)."""
    out = tmp_path_factory.mktemp("wheel")
    res = subprocess.run(["bash", str(ROOT / "scripts" / "build_wheel.sh"), str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    wheels = sorted(out.glob("deid_pipeline-*-py3-none-any.whl"))
    assert len(wheels) == 1, res.stdout
    return wheels[0]


@pytest.fixture(scope="session")
def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())
