"""Run lock, key version of an output, closed PHI zones, staging of dead runs (no Spark)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deid.errors import DeidError, KeyVersionError, RunLockedError
from deid.pipeline.runlock import LOCK_NAME, RunGuard, RunLock, check_key_version, clean_dead_staging
from deid.zones import Zones

_HOLDER = """
import sys, time
from deid.pipeline.runlock import RunLock
RunLock(sys.argv[1], "output", "holder-run").acquire()
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process holding the output's lock (a concurrent run)."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield proc
    proc.kill()
    proc.wait()


def test_second_run_is_refused_then_takes_over_a_dead_lock(tmp_path: Path,
                                                           holder: subprocess.Popen[str]) -> None:
    out = str(tmp_path / "out")
    with pytest.raises(RunLockedError, match="holder-run") as err:
        RunLock(out, "output", "second").acquire()
    assert str(tmp_path) not in str(err.value) and isinstance(err.value, DeidError)
    holder.kill()  # kill -9: the lock file stays, its owner is gone
    holder.wait()
    lock = RunLock(out, "output", "third")
    lock.acquire()
    assert json.loads((tmp_path / "out" / LOCK_NAME).read_text())["run_id"] == "third"
    lock.release()
    assert not (tmp_path / "out" / LOCK_NAME).exists()


def test_expired_lock_of_another_host_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    now = time.time()
    info = {"run_id": "old", "pid": 1, "host": "elsewhere", "started_at": now - 7200,
            "expires_at": now - 60, "token": "t"}
    (out / LOCK_NAME).write_text(json.dumps(info))
    lock = RunLock(str(out), "output", "new")
    lock.acquire()
    lock.release()
    info["expires_at"] = now + 600  # live on another host: refused
    (out / LOCK_NAME).write_text(json.dumps(info))
    with pytest.raises(RunLockedError):
        RunLock(str(out), "output", "new2").acquire()


def test_other_key_is_refused_with_rotation_hint(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    os.makedirs(out)
    check_key_version(out, "aaaa", "run-1")
    check_key_version(out, "aaaa", "run-2")
    with pytest.raises(KeyVersionError, match="Rotating the key"):
        check_key_version(out, "bbbb", "run-3")


def test_guard_closes_phi_zone_and_cleans_dead_staging(tmp_path: Path) -> None:
    zs = Zones(raw=str(tmp_path / "raw"), crosswalk=str(tmp_path / "xw"), output=str(tmp_path / "out"))
    dead = tmp_path / "raw" / "_staging" / "dead-run" / "ingest"
    dead.mkdir(parents=True)
    (dead / "part-0.parquet").write_bytes(b"x")
    os.chmod(tmp_path / "raw", 0o755)
    with RunGuard(zs, "live-run", key_version="k1") as guard:
        assert guard.n_staging_removed == 1
        assert stat.S_IMODE(os.stat(tmp_path / "raw").st_mode) == 0o700
        table = tmp_path / "raw" / "tables" / "bronze"
        table.mkdir(parents=True)
        (table / "part.parquet").write_bytes(b"y")
        os.chmod(table / "part.parquet", 0o644)
        with pytest.raises(RunLockedError):
            RunGuard(zs, "other", key_version="k1").__enter__()
    assert not dead.exists()
    assert stat.S_IMODE(os.stat(table).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(table / "part.parquet").st_mode) == 0o600
    assert not (tmp_path / "out" / LOCK_NAME).exists() and not (tmp_path / "raw" / LOCK_NAME).exists()
    with pytest.raises(KeyVersionError):
        RunGuard(zs, "rekeyed", key_version="k2").__enter__()
    assert not (tmp_path / "out" / LOCK_NAME).exists()  # a refused run leaves no lock behind


def test_clean_dead_staging_keeps_the_live_run(tmp_path: Path) -> None:
    for name in ("a", "b", "live"):
        (tmp_path / "_staging" / name).mkdir(parents=True)
    assert clean_dead_staging(str(tmp_path), "live") == 2
    assert [p.name for p in (tmp_path / "_staging").iterdir()] == ["live"]
