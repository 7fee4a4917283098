"""OCR throughput on CPU and the multi-frame strategy's savings.

    python benchmarks/bench_ocr.py [--frames 100] [--batch 8]

1. frames/s of the default engine for batch size 1 vs the configured batch (same frames);
2. on a generated 100-frame ultrasound-like cine with per-frame text, frames OCR'd by the
   changed-outside-data-regions strategy vs OCR of every frame, and PHI recall of both.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import random
import sys
import time
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from make_synthetic import SPECS, Spec, font_files, make_instance  # noqa: E402

from deid.header.identifiers import collect_identifiers  # noqa: E402
from deid.pipeline.hooks import PixelItem  # noqa: E402
from deid.pixels.frames import decode_frames, render_frame  # noqa: E402
from deid.pixels.ocr import RapidOcrEngine  # noqa: E402
from deid.pixels.stage import PixelConfig, PixelStage  # noqa: E402


def cine(n: int, seed: int) -> tuple[pydicom.Dataset, list[dict]]:
    """A 360x480 8-bit cine: static banner, moving speckle, PHI and a label appearing mid-loop."""
    SPECS.append(Spec("US", "explicit", "MONOCHROME2", n, 360, 480, 8))
    idx = len(SPECS) - 1
    try:
        ds, truth = make_instance(idx, seed, [None, *font_files()[:2]])
    finally:
        SPECS.pop()
    return ds, [b.__dict__ for b in truth]


def recall(job: PixelItem, truth: list[dict]) -> float:
    buf = io.BytesIO()
    job.target.save_as(buf, enforce_file_format=True)
    after = decode_frames(pydicom.dcmread(io.BytesIO(buf.getvalue())))
    phi = [b for b in truth if b["phi"]]
    ok = 0
    for b in phi:
        ok += all((after.pixels[f][b["y"]:b["y"] + b["h"], b["x"]:b["x"] + b["w"]] == 0).mean() >= 0.98
                  for f in range(b["first_frame"], b["last_frame"] + 1))
    return ok / max(1, len(phi))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    random.seed(args.seed)
    ds, truth = cine(args.frames, args.seed)
    frames = decode_frames(ds)
    images = [render_frame(frames, i, ds) for i in range(min(16, frames.count))]
    rows = []
    for bs in (1, args.batch):
        eng = RapidOcrEngine(batch_size=bs)
        eng.read(images[:1])  # warm-up
        t = time.perf_counter()
        for s in range(0, len(images), bs):
            eng.read(images[s:s + bs])
        dt = time.perf_counter() - t
        rows.append((f"OCR batch {bs}", f"{len(images) / dt:.2f} frames/s", f"{len(images)} frames {dt:.1f}s"))
    class Counting:
        name, version = eng.name, eng.version

        def __init__(self) -> None:
            self.images = 0

        def read(self, imgs):  # type: ignore[no-untyped-def]
            self.images += len(imgs)
            return eng.read(imgs)

    res = {}
    for every in (False, True):
        cfg = PixelConfig.model_validate({"ocr_every_frame": every, "classifier": {"enabled": False},
                                         "ocr": {"batch_size": args.batch}})
        job = PixelItem("cine", ds, copy.deepcopy(ds), collect_identifiers(ds), "US")
        counting = Counting()
        stage = PixelStage(cfg, engine=counting)
        t = time.perf_counter()
        stage.process([job])
        dt = time.perf_counter() - t
        ocrd = counting.images
        res[every] = (ocrd, dt, recall(job, truth))
    (n_sel, t_sel, r_sel), (n_all, t_all, r_all) = res[False], res[True]
    rows.append(("strategy: changed frames", f"{n_sel}/{frames.count} OCR'd", f"{t_sel:.1f}s recall {r_sel:.3f}"))
    rows.append(("strategy: every frame", f"{n_all}/{frames.count} OCR'd", f"{t_all:.1f}s recall {r_all:.3f}"))
    rows.append(("frames-OCR'd ratio", f"{n_sel / max(1, n_all):.3f}", f"time ratio {t_sel / max(1e-9, t_all):.3f}"))
    w = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(w)} | value | detail")
    for r in rows:
        print(f"{r[0].ljust(w)} | {r[1]} | {r[2]}")
    print(json.dumps({"phi_boxes": sum(b["phi"] for b in truth), "boxes": len(truth)}))


if __name__ == "__main__":
    main()
