"""Same key -> byte-identical output in separate processes; different key -> different pseudonyms."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from pydicom.data import get_testdata_file

SCRIPT = """
import sys
from pathlib import Path
from deid.dicomio import read_dicom, write_dicom
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import load_profile
from deid.keys import load_keyring
engine = HeaderEngine(load_profile("research"), load_keyring())
out = Path(sys.argv[1])
for i, src in enumerate(sys.argv[2:]):
    res = engine.deidentify(read_dicom(Path(src).read_bytes()))
    engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
    (out / f"{i}.dcm").write_bytes(write_dicom(res.dataset))
"""

FILES = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm")]


def _run(tmp: Path, key: str) -> list[bytes]:
    tmp.mkdir()
    env = {**os.environ, "DEID_KEY": key, "PYTHONHASHSEED": "random"}
    subprocess.run([sys.executable, "-c", SCRIPT, str(tmp), *map(str, FILES)], check=True, env=env)
    return [(tmp / f"{i}.dcm").read_bytes() for i in range(len(FILES))]


def test_same_key_same_bytes_across_processes(tmp_path: Path) -> None:
    key = hashlib.sha256(b"determinism").hexdigest()
    a = _run(tmp_path / "a", key)
    b = _run(tmp_path / "b", key)
    assert a == b
    c = _run(tmp_path / "c", hashlib.sha256(b"another key").hexdigest())
    for x, y in zip(a, c, strict=True):
        assert x != y
