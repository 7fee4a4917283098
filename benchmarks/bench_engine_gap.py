"""The header engine vs plain pydicom read+write on the same files, one process, one run (issue #11).

    python benchmarks/bench_engine_gap.py EXPORT_DIR [N]      # e.g. an export of scripts/make_export.py

Prints files/s of: plain pydicom read+write, the engine with a cold free-text scorer cache, the engine
again (warm cache), plain pydicom again (the machine's drift between passes).
"""

from __future__ import annotations

import io
import sys
import time
import warnings
from pathlib import Path


def main() -> None:
    warnings.simplefilter("ignore")
    import pydicom

    from deid.dicomio import read_dicom, write_dicom
    from deid.header.engine import HeaderEngine, PixelStatus
    from deid.header.profile import load_profile
    from deid.keys import load_keyring

    files = sorted(Path(sys.argv[1]).rglob("*.dcm"))[: int(sys.argv[2]) if len(sys.argv) > 2 else 200]
    blobs = [f.read_bytes() for f in files]

    def plain() -> None:
        for b in blobs:
            pydicom.dcmread(io.BytesIO(b)).save_as(io.BytesIO())

    engine = HeaderEngine(load_profile("research"), load_keyring())

    def run_engine() -> None:
        for b in blobs:
            r = engine.deidentify(read_dicom(b))
            engine.finalize(r.dataset, PixelStatus.UNVERIFIED)
            write_dicom(r.dataset)

    for name, fn in (("plain pydicom read+write", plain), ("engine (cold cache)", run_engine),
                     ("engine (warm cache)", run_engine), ("plain pydicom read+write (again)", plain)):
        t0 = time.perf_counter()
        fn()
        print(f"{name}: {len(blobs) / (time.perf_counter() - t0):.1f} files/s", flush=True)


if __name__ == "__main__":
    main()
