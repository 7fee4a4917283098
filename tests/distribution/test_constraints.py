"""Installing the wheel on a supported runtime upgrades none of the runtime's packages.

For each constraints/<runtime>.txt (the runtime's own versions), pip resolves the built wheel with the
extras that runtime installs, for the runtime's Python version and linux/x86_64, as a dry run
(``pip install --dry-run --report``; metadata only, nothing is installed). Skipped when the package
index cannot be reached.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from distribution_helpers import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

CONSTRAINTS = sorted((ROOT / "constraints").glob("*.txt"))
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"]
NEVER = {"pyspark", "delta-spark"}  # the runtime's own Spark and Delta, never PyPI's over them


def _index_reachable() -> bool:
    res = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                         capture_output=True, text=True)
    host = urlparse(res.stdout.strip() or "https://pypi.org/simple").hostname or "pypi.org"
    try:
        socket.create_connection((host, 443), timeout=5).close()
        return True
    except OSError:
        return False


network = pytest.mark.skipif(not _index_reachable(), reason="package index not reachable (offline)")


def _header(path: Path) -> tuple[str, list[str]]:
    """``# python: 3.12   extras: a,b`` on the file's first line."""
    m = re.match(r"#\s*python:\s*(\d+\.\d+)\s+extras:\s*(\S*)", path.read_text().splitlines()[0])
    assert m, f"{path.name}: first line must be '# python: X.Y   extras: a,b'"
    return m.group(1), [e for e in m.group(2).split(",") if e]


def _pins(path: Path) -> dict[str, Requirement]:
    reqs = [Requirement(line.split("#")[0].strip()) for line in path.read_text().splitlines()
            if line.split("#")[0].strip()]
    return {canonicalize_name(r.name): r for r in reqs}


def _resolve(wheel: Path, python: str, extras: list[str], constraints: Path,
             tmp_path: Path) -> dict[str, str]:
    report = tmp_path / "report.json"
    target = f"{wheel}[{','.join(extras)}]" if extras else str(wheel)
    abi = "cp" + python.replace(".", "")
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
           "--disable-pip-version-check", "--report", str(report), "--only-binary=:all:",
           "--python-version", python, "--implementation", "cp", "--abi", abi, "--abi", "abi3",
           "--abi", "none", *[a for p in PLATFORMS for a in ("--platform", p)],
           "-c", str(constraints), target]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    errors = "\n".join(line for line in res.stderr.splitlines() if not line.startswith("WARNING: Location"))
    assert res.returncode == 0, f"{constraints.name}: pip cannot install without changing the runtime:\n" \
                                f"{errors[-3000:]}"
    data = json.loads(report.read_text())
    return {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"] for i in data["install"]}


@network
@pytest.mark.slow
@pytest.mark.parametrize("constraints", CONSTRAINTS, ids=[p.stem for p in CONSTRAINTS])
def test_wheel_keeps_the_runtime_packages(wheel: Path, constraints: Path, tmp_path: Path) -> None:
    python, extras = _header(constraints)
    pins = _pins(constraints)
    got = _resolve(wheel, python, extras, constraints, tmp_path)
    changed = {n: v for n, v in got.items() if n in pins and not pins[n].specifier.contains(v)}
    assert not changed, f"{constraints.name}: would change runtime packages {changed}"
    assert not NEVER & set(got), f"{constraints.name}: would install {NEVER & set(got)}"
    assert not {"onnxruntime", "onnxruntime-gpu"} <= set(got), "both onnxruntime builds on one node"
    if "gpu" in extras:
        assert "onnxruntime-gpu" in got and "onnxruntime" not in got
    for name in ("numpy", "pandas", "pyarrow"):
        assert name in pins, f"{constraints.name} must pin the runtime's {name}"


@network
@pytest.mark.slow
def test_base_install_pulls_no_torch_or_ocr(wheel: Path, tmp_path: Path) -> None:
    """A CPU job cluster that only ingests (no extras) gets neither torch nor an OCR runtime."""
    constraints = ROOT / "constraints" / "dbr-15.4.txt"
    got = _resolve(wheel, "3.11", [], constraints, tmp_path)
    assert "pydicom" in got and "deltalake" in got
    heavy = {"torch", "transformers", "onnxruntime", "onnxruntime-gpu", "rapidocr", "boto3"} & set(got)
    assert not heavy, heavy


def test_every_constraints_file_is_well_formed() -> None:
    assert {p.stem for p in CONSTRAINTS} >= {"dbr-15.4", "dbr-16.4", "dbr-17.3-gpu-ml", "emr-7"}
    for path in CONSTRAINTS:
        python, extras = _header(path)
        assert python in {"3.10", "3.11", "3.12", "3.13"}
        assert set(extras) <= {"pixels", "gpu", "jpegls", "aws"}, extras
        assert not ({"pixels", "gpu"} <= set(extras)), f"{path.name}: [pixels] and [gpu] together"
        assert _pins(path)
