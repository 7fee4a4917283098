"""Helpers of the distribution tests (wheel, bundle, EMR files), imported by module name.
"""

from __future__ import annotations

import email
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_module(relpath: str, name: str) -> ModuleType:
    """Import a script that is not part of the package (deploy/, scripts/, benchmarks/)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / relpath)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def job_flags(script: str) -> set[str]:
    """The --options a job entry point accepts, read from its --help (no Spark is started)."""
    res = subprocess.run([sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    return {w.strip(",[]") for w in res.stdout.split() if w.startswith(("--", "[--"))} - {"--help"}


def wheel_requires(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist lines (extras as markers)."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        msg = email.message_from_bytes(zf.read(meta))
    return msg.get_all("Requires-Dist") or []
