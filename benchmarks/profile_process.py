"""cProfile of the executor's per-input work (``deid.pipeline.process.process_rows``), no Spark.

    python benchmarks/profile_process.py EXPORT_DIR [N]
"""

from __future__ import annotations

import cProfile
import hashlib
import pstats
import sys
import tempfile
import time
import warnings
from pathlib import Path


def main() -> None:
    warnings.simplefilter("ignore")
    from deid.header.profile import load_profile
    from deid.keys import load_keyring
    from deid.pipeline.process import ProcessParams, process_rows

    files = sorted(Path(sys.argv[1]).rglob("*.dcm"))[: int(sys.argv[2]) if len(sys.argv) > 2 else 300]
    rows = [(hashlib.sha256(b).hexdigest(), b) for b in (f.read_bytes() for f in files)]
    params = ProcessParams(run_id="r", profile=load_profile("research"), keyring=load_keyring(),
                           staging=tempfile.mkdtemp())
    process_rows(params, rows[:5])  # model loads outside the timing
    t0 = time.perf_counter()
    prof = cProfile.Profile()
    prof.enable()
    out = process_rows(params, rows)
    prof.disable()
    print(f"{len(rows) / (time.perf_counter() - t0):.2f} files/s, {sum(o.get('outcome') == 'ok' for o in out)} ok")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
