"""The header engine vs plain pydicom read+write on the same files, one process, one run (issue #11).

    python benchmarks/bench_engine_gap.py EXPORT_DIR [N] [--chunk 100] [--threads 1] [--per-value]

EXPORT_DIR is e.g. an export of ``scripts/make_export.py``. Prints files/s of: plain pydicom read+write,
the engine with a cold free-text scorer cache, the engine again (warm cache), plain pydicom again (the
machine's drift between passes), each with its share of the first plain pass, and a digest of every
byte the engine wrote (the same digest on two code versions: the same output). The engine's cache of
cleaned text (``HeaderEngine.clean_cache``, where the code has it) starts empty in each pass: a second
pass over the same files gains from the scorer's figures only, as a new export of known texts would.

The engine de-identifies ``--chunk`` files at a time with one :class:`FreeTextBatch` (the pipeline's
per-batch path) when the code has it and ``--per-value`` is not given. ``--threads`` pins torch's
intra-op threads (Spark's Python workers get ``OMP_NUM_THREADS`` = ``spark.task.cpus``, 1 by default).
Runs on code without batching too (``PYTHONPATH`` of another checkout), for side-by-side runs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("export", type=Path)
    ap.add_argument("n", type=int, nargs="?", default=200)
    ap.add_argument("--chunk", type=int, default=100, help="files per free-text batch")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--per-value", action="store_true", help="no batching: one scorer pass per new text")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    os.environ.setdefault("DEID_KEY", "5f" + "0123456789abcdef" * 3 + "a1b2c3d4e5f60718293a4b5c6d7e")
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    import pydicom

    from deid.dicomio import read_dicom, write_dicom
    from deid.header.engine import HeaderEngine, PixelStatus
    from deid.header.profile import load_profile
    from deid.keys import load_keyring

    files = sorted(args.export.rglob("*.dcm"))[: args.n]
    blobs = [f.read_bytes() for f in files]
    engine = HeaderEngine(load_profile("research"), load_keyring())
    seen: dict[str, None] = {}
    _record(engine.scorer(), seen)  # loaded before timing (a worker loads it once)
    batched = hasattr(engine, "free_text_batch") and not args.per_value
    digest = hashlib.sha256()

    def plain() -> None:
        for b in blobs:
            pydicom.dcmread(io.BytesIO(b)).save_as(io.BytesIO())

    def run_engine() -> None:
        if getattr(engine, "kept_memos", None) is not None:  # nor kept-value answers
            engine.kept_memos.clear()
        if getattr(engine, "clean_cache", None) is not None:  # each pass starts without cleaned texts:
            from deid.header.clean import CleanCache  # only the scorer's figures carry over

            engine.clean_cache = CleanCache()
        for start in range(0, len(blobs), args.chunk):
            batch = engine.free_text_batch() if batched else None
            kw = {"batch": batch} if batch is not None else {}
            results = [engine.deidentify(read_dicom(b), **kw) for b in blobs[start:start + args.chunk]]
            if batch is not None:
                engine.finish(batch)
            for r in results:
                if batched:
                    r.check()
                engine.finalize(r.dataset, PixelStatus.UNVERIFIED)
                digest.update(write_dicom(r.dataset))

    print(f"files {len(blobs)}, batched {batched}, chunk {args.chunk}, threads {args.threads or 'default'}")
    base = 0.0
    passes: list[tuple[str, Callable[[], None]]] = [
        ("plain pydicom read+write", plain), ("engine (cold cache)", run_engine),
        ("engine (warm cache)", run_engine), ("plain pydicom read+write (again)", plain)]
    for name, fn in passes:
        t0 = time.perf_counter()
        fn()
        rate = len(blobs) / (time.perf_counter() - t0)
        base = base or rate
        print(f"{name}: {rate:.1f} files/s ({100 * rate / base:.1f}% of the first plain pass)", flush=True)
    print(f"engine output digest (both passes): {digest.hexdigest()[:16]}")
    _scorer_alone(engine.scorer(), seen)


def _record(model: Any, seen: dict[str, None]) -> None:
    """Note every text the scorer is asked about (per value or batched)."""
    for name in ("word_probs", "score_batch"):
        real = getattr(model, name, None)
        if real is not None:
            def noted(texts: list[str], *a: Any, _real: Any = real, **kw: Any) -> Any:
                seen.update(dict.fromkeys(texts))
                return _real(texts, *a, **kw)
            setattr(model, name, noted)


def _scorer_alone(model: Any, seen: dict[str, None]) -> None:
    """The scorer alone on the distinct texts the engine scored: one text per pass vs batched."""
    texts = list(seen)
    if not texts or not hasattr(model, "clear_cache"):
        return
    model.clear_cache()
    t0 = time.perf_counter()
    for t in texts:
        model.word_probs([t])
    single = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    model.score_batch(texts)
    batched = len(texts) / (time.perf_counter() - t0)
    print(f"scorer alone, {len(texts)} distinct texts: one per pass {single:.1f} texts/s, "
          f"batched {batched:.1f} texts/s ({batched / single:.1f}x)")


if __name__ == "__main__":
    main()
