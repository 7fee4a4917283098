"""Where the header engine's CPU time goes, per phase, beside plain pydicom read+write (issue #11).

    python benchmarks/bench_engine_phases.py SET [--profile research] [--repeat 3] [--no-gc]

SET is ``real`` or an export folder, as for ``bench_engine_cpu.py`` (the same files). One process, one
code version (whatever ``deid`` is on PYTHONPATH). Each pass runs the engine as the pipeline does
(``read_dicom``, ``deidentify`` with one free-text batch per 100 files, ``finish``, ``finalize``,
``write_dicom``), the scorer's figures warm and the cleaned-text cache emptied (the "warm" pass of
``bench_engine_cpu.py``), and times in CPU seconds (``time.process_time``) the pipeline steps and the
engine's own steps inside ``deidentify`` (identifier collection, copy, walk and, inside the walk,
free-text cleaning, Code Meaning, form checks and identifier checks of kept values; private
attributes, file meta). The best pass of ``--repeat`` counts; plain pydicom ``dcmread`` and
``save_as`` are timed apart on the same files. ``--no-gc`` turns Python's automatic garbage
collection off for the whole run (how much of the time collections take). Wrapping the steps costs a
little time of its own: compare figures of this script with each other, and speed between code
versions with ``bench_engine_cpu.py compare``.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any


def _wrap(owner: Any, name: str, label: str, spent: dict[str, float]) -> None:
    real = getattr(owner, name)

    def timed(*a: Any, **kw: Any) -> Any:
        t0 = time.process_time()
        try:
            return real(*a, **kw)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - t0

    setattr(owner, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("set")
    ap.add_argument("--profile", default="research")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-gc", action="store_true", help="automatic garbage collection off for the run")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    os.environ.setdefault("DEID_KEY", "5f" + "0123456789abcdef" * 3 + "a1b2c3d4e5f60718293a4b5c6d7e")
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_engine_cpu
    import pydicom

    from deid.dicomio import read_dicom, write_dicom
    from deid.header import deny, engine, kept
    from deid.header.clean import CleanCache
    from deid.header.engine import HeaderEngine, PixelStatus
    from deid.header.profile import load_profile
    from deid.keys import load_keyring

    blobs = bench_engine_cpu._files(args.set)
    eng = HeaderEngine(load_profile(args.profile), load_keyring())
    eng.scorer()
    spent: dict[str, float] = {}
    for owner, name, label in (
            (engine, "collect_identifiers", "deid: collect identifiers"), (engine, "_clone", "deid: copy"),
            (HeaderEngine, "_walk", "deid: walk (all)"), (HeaderEngine, "_clean_text", "deid: walk: free-text clean"),
            (HeaderEngine, "_code_meaning", "deid: walk: Code Meaning"),
            (engine._Instance, "holds_identifier", "deid: walk: identifier check of kept values"),
            (deny, "standard_value_fits", "deid: walk: form check of kept values"),
            (HeaderEngine, "_private", "deid: private attributes"), (deny, "clean_file_meta", "deid: file meta"),
            (kept, "patient_ids", "deid: patient IDs")):
        _wrap(owner, name, label, spent)

    step = bench_engine_cpu.cpu_step(spent)

    def run() -> None:
        eng.kept_memos.clear()
        eng.clean_cache = CleanCache()
        for start in range(0, len(blobs), 100):
            batch = eng.free_text_batch()
            results = [step("deid", eng.deidentify, step("read", read_dicom, b), batch=batch)
                       for b in blobs[start:start + 100]]
            step("finish", eng.finish, batch)
            for r in results:
                r.check()
                step("finalize", eng.finalize, r.dataset, PixelStatus.UNVERIFIED)
                step("write", write_dicom, r.dataset)

    def plain() -> tuple[float, float]:
        read = write = 0.0
        for b in blobs:
            t0 = time.process_time()
            ds = pydicom.dcmread(io.BytesIO(b))
            t1 = time.process_time()
            ds.save_as(io.BytesIO())
            read, write = read + t1 - t0, write + time.process_time() - t1
        return read, write

    if args.no_gc:
        gc.disable()
    run()  # the scorer's figures for these texts
    best: tuple[float, dict[str, float]] | None = None
    for _ in range(args.repeat):
        spent.clear()
        run()
        total = sum(spent[k] for k in ("read", "deid", "finish", "finalize", "write"))
        if best is None or total < best[0]:
            best = (total, dict(spent))
    assert best is not None
    p_read, p_write = min((plain() for _ in range(args.repeat)), key=sum)
    n = len(blobs)
    print(f"{n} files, gc {'off' if args.no_gc else 'on'}: plain pydicom read {p_read:.3f} s + write "
          f"{p_write:.3f} s = {p_read + p_write:.3f} s ({n / (p_read + p_write):.0f} files/CPU-s); engine "
          f"{best[0]:.3f} s ({n / best[0]:.0f} files/CPU-s, {100 * (p_read + p_write) / best[0]:.0f}% of plain)")
    for label, value in sorted(best[1].items(), key=lambda kv: -kv[1]):
        print(f"  {label:45s} {value:7.3f} s {1000 * value / n:6.2f} ms/file")


if __name__ == "__main__":
    main()
