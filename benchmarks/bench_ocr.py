"""OCR throughput on CPU: the old single-render stage vs the rendering set, and the multi-frame strategy.

    python benchmarks/bench_ocr.py [--frames 100] [--batch 8] [--deep 4] [--batches 1,8,32]

1. frames/s on the SAME frames (16 frames of a generated 8-bit ultrasound-like cine, plus ``--deep``
   16-bit CT/CR frames of ``make_synthetic``), three paths alternated batch by batch so that the
   shared machine's load drift hits all alike:
   "old stage" is the previous stage's path (the stored-window render, plus the max-value render for
   > 8 bits, each read by ``engine.read``: detection + recognition per render); "rendering set,
   every window" is the set before the noise rule (``renderings(..., noise_rule=False)``: every
   histogram window and the inverted display of a > 8-bit frame); "rendering set" is the current
   default (``deid.pixels.renderings``, merged boxes, tiles, one recognition per line:
   ``engine.read_groups``). The detection memo is emptied before every timed call, so that no path
   reuses another's detections. Each path's ratio to the old stage is printed; the issue's floor is
   0.5x of the old stage;
2. ``--batches``: frames/s of the current default on the 8-bit cine's first 32 frames and on the
   ``--deep`` frames, ``read_groups`` called with groups of 1, 8, 32 frames (alternated, memo emptied);
3. on a generated 100-frame cine, frames OCR'd by the changed-outside-data-regions strategy vs OCR
   of every frame, and PHI recall of both.

``--trees before=PATH,after=PATH`` (e.g. ``before=/tmp/base`` a worktree of main, ``after=.``): the
same frames measured in one run on two source trees side by side: one worker process per tree (its
``deid`` first on ``sys.path``), batch k of every tree run before batch k+1 of any (the old stage
and that tree's default set per batch, memo emptied), so that load drift hits both alike. Printed per
tree and frame set: old stage and default set frames/s, their ratio (the issue's 0.5x floor), and
the default set's ratio between the trees.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from make_synthetic import SPECS, Spec, font_files, make_instance  # noqa: E402

from deid.config.pixels import Render  # noqa: E402
from deid.header.identifiers import collect_identifiers  # noqa: E402
from deid.pipeline.hooks import PixelItem  # noqa: E402
from deid.pixels.frames import Frames, decode_frames, render_frame  # noqa: E402
from deid.pixels.ocr import DetectionMemo, RapidOcrEngine  # noqa: E402
from deid.pixels.renderings import renderings  # noqa: E402
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


def deep_frames(n: int, seed: int) -> list[tuple]:
    """``n`` 16-bit frames (CT/MR/CR specs of make_synthetic)."""
    out: list[tuple] = []
    idx = [i for i, sp in enumerate(SPECS) if sp.bits == 16]
    for k in range(n):
        ds, _truth = make_instance(idx[k % len(idx)], seed + k, [None, *font_files()[:2]])
        ds = pydicom.dcmread(io.BytesIO(_save(ds)))
        out.append((decode_frames(ds), 0, ds))
    return out


def _save(ds: pydicom.Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


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


def _timed_groups(eng: RapidOcrEngine, batch: list[tuple], noise_rule: bool = True) -> float:
    """Seconds of one ``read_groups`` call on the batch's rendering sets, detection memo emptied."""
    eng.memo = DetectionMemo()
    t = time.perf_counter()
    groups = [renderings(fr, i, d, noise_rule=noise_rule) for fr, i, d in batch]
    eng.read_groups(groups)
    return time.perf_counter() - t


def compare_paths(eng: RapidOcrEngine, sets: dict[str, list[tuple]], batch_size: int) -> list[tuple[str, str, str]]:
    """The old stage, the set before the noise rule and the current set, alternated per batch."""
    rows = []
    for name, items in sets.items():
        t_old = t_every = t_now = 0.0
        n_every = n_now = 0
        for s in range(0, len(items), batch_size):  # interleaved per batch: load drift hits all alike
            batch = items[s:s + batch_size]
            t = time.perf_counter()
            for fr, i, d in batch:  # old: stored window (+ max-value render for > 8 bits), read per render
                modes = [Render.VOI] + ([Render.EXTREME] if fr.bits_stored > 8 else [])
                eng.read([render_frame(fr, i, d, m) for m in modes])
            t_old += time.perf_counter() - t
            t_every += _timed_groups(eng, batch, noise_rule=False)
            t_now += _timed_groups(eng, batch)
            n_every += sum(len(renderings(fr, i, d, noise_rule=False)) for fr, i, d in batch)
            n_now += sum(len(renderings(fr, i, d)) for fr, i, d in batch)
        old, every, now = (len(items) / t for t in (t_old, t_every, t_now))
        rows.append((f"{name}: old stage (window render, read)", f"{old:.2f} frames/s", f"{len(items)} frames"))
        rows.append((f"{name}: rendering set, every window (read_groups)", f"{every:.2f} frames/s",
                     f"ratio {every / old:.2f}x, {n_every / len(items):.1f} renderings/frame"))
        rows.append((f"{name}: rendering set (read_groups, default)", f"{now:.2f} frames/s",
                     f"ratio {now / old:.2f}x, {n_now / len(items):.1f} renderings/frame"))
    return rows


def batch_sizes(eng: RapidOcrEngine, sets: dict[str, list[tuple]], sizes: list[int]) -> list[tuple[str, str, str]]:
    """frames/s of the default set with ``read_groups`` on groups of each size, alternated per round."""
    rows = []
    for name, items in sets.items():
        spent = dict.fromkeys(sizes, 0.0)
        for start in range(0, len(items), max(sizes)):  # one round: the same frames at every size
            chunk = items[start:start + max(sizes)]
            for size in sizes:
                for s in range(0, len(chunk), size):
                    spent[size] += _timed_groups(eng, chunk[s:s + size])
        rows += [(f"{name}: batch {size} (default set)", f"{len(items) / spent[size]:.2f} frames/s",
                  f"{len(items)} frames") for size in sizes]
    return rows


def strategy(eng: RapidOcrEngine, ds: pydicom.Dataset, frames: Frames, truth: list[dict],
             batch: int) -> list[tuple[str, str, str]]:
    """Frames OCR'd by the changed-frames strategy vs every frame, time and PHI recall of both."""
    class Counting:
        name, version = eng.name, eng.version

        def __init__(self) -> None:
            self.images = 0

        def read(self, imgs):  # type: ignore[no-untyped-def]
            self.images += len(imgs)
            return eng.read(imgs)

        def read_groups(self, groups):  # type: ignore[no-untyped-def]
            self.images += len(groups)  # frames OCR'd (each with its renderings)
            return eng.read_groups(groups)

    res = {}
    for every in (False, True):
        cfg = PixelConfig.model_validate({"ocr_every_frame": every, "classifier": {"enabled": False},
                                         "ocr": {"batch_size": batch}})
        job = PixelItem("cine", ds, copy.deepcopy(ds), collect_identifiers(ds), "US")
        counting = Counting()
        stage = PixelStage(cfg, engine=counting)
        t = time.perf_counter()
        stage.process([job])
        dt = time.perf_counter() - t
        ocrd = counting.images
        res[every] = (ocrd, dt, recall(job, truth))
    (n_sel, t_sel, r_sel), (n_all, t_all, r_all) = res[False], res[True]
    rows = [("strategy: changed frames", f"{n_sel}/{frames.count} OCR'd", f"{t_sel:.1f}s recall {r_sel:.3f}")]
    rows.append(("strategy: every frame", f"{n_all}/{frames.count} OCR'd", f"{t_all:.1f}s recall {r_all:.3f}"))
    rows.append(("frames-OCR'd ratio", f"{n_sel / max(1, n_all):.3f}", f"time ratio {t_sel / max(1e-9, t_all):.3f}"))
    return rows


def frame_sets(frames_n: int, deep: int, seed: int) -> tuple[pydicom.Dataset, list[dict], dict[str, list[tuple]]]:
    random.seed(seed)
    ds, truth = cine(frames_n, seed)
    frames = decode_frames(ds)
    sets = {"8-bit US cine": [(frames, i, ds) for i in range(min(16, frames.count))]}
    if deep:
        sets["16-bit CT/CR"] = deep_frames(deep, seed)
    return ds, truth, sets


def tree_worker(args: argparse.Namespace) -> None:
    """One tree's side of ``--trees``: reads 'SET START' lines, answers the seconds of the old stage
    and of this tree's default set on that batch (one JSON line each)."""
    _ds, _truth, sets = frame_sets(args.frames, args.deep, args.seed)
    eng = RapidOcrEngine(batch_size=args.batch)
    first = next(iter(sets.values()))[0]
    eng.read([render_frame(*first)])  # warm-up
    print("ready", flush=True)
    for line in sys.stdin:
        name, start = line.rsplit(" ", 1)
        batch = sets[name][int(start):int(start) + args.batch]
        t = time.perf_counter()
        for fr, i, d in batch:
            modes = [Render.VOI] + ([Render.EXTREME] if fr.bits_stored > 8 else [])
            eng.read([render_frame(fr, i, d, m) for m in modes])
        t_old = time.perf_counter() - t
        t_now = _timed_groups(eng, batch)
        n = sum(len(renderings(fr, i, d)) for fr, i, d in batch)
        print(json.dumps({"old": t_old, "now": t_now, "renderings": n}), flush=True)


def compare_trees(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """The same batches on each tree's worker, alternated batch by batch (see the module docstring)."""
    trees = dict(kv.split("=", 1) for kv in args.trees.split(","))
    here = Path(__file__).resolve()
    procs = {}
    for tag, root in trees.items():
        env = {**os.environ, "PYTHONPATH": str(Path(root).resolve())}
        cmd = [sys.executable, str(here), "--worker", "--frames", str(args.frames), "--deep", str(args.deep),
               "--seed", str(args.seed), "--batch", str(args.batch)]
        procs[tag] = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                      cwd=str(Path(root).resolve()))
    for p in procs.values():
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    _ds, _truth, sets = frame_sets(args.frames, args.deep, args.seed)
    spent = {(tag, name): {"old": 0.0, "now": 0.0, "renderings": 0} for tag in procs for name in sets}
    for name, items in sets.items():
        for s in range(0, len(items), args.batch):
            order = list(procs) if (s // args.batch) % 2 == 0 else list(reversed(procs))
            for tag in order:
                p = procs[tag]
                assert p.stdin is not None and p.stdout is not None
                p.stdin.write(f"{name} {s}\n")
                p.stdin.flush()
                got = json.loads(p.stdout.readline())
                for k in spent[(tag, name)]:
                    spent[(tag, name)][k] += got[k]
    for p in procs.values():
        assert p.stdin is not None
        p.stdin.close()
        p.wait()
    rows = []
    first = next(iter(procs))
    for name, items in sets.items():
        n = len(items)
        pooled = sum(spent[(tag, name)]["old"] for tag in procs) / len(procs)  # the same code in every tree
        rows.append((f"{name}: old stage (window render, read), all trees", f"{n / pooled:.3f} frames/s",
                     f"{n} frames, {pooled:.1f} s per tree"))
        for tag in procs:
            sp = spent[(tag, name)]
            rows.append((f"{name}: {tag}: old stage (this tree's batches)", f"{n / sp['old']:.3f} frames/s",
                         f"{sp['old']:.1f} s"))
            rows.append((f"{name}: {tag}: rendering set (read_groups, default)", f"{n / sp['now']:.3f} frames/s",
                         f"{sp['now']:.1f} s; {pooled / sp['now']:.2f}x of the old stage (all trees), "
                         f"{sp['old'] / sp['now']:.2f}x (this tree's), {sp['renderings'] / n:.1f} renderings/frame"))
        for tag in list(procs)[1:]:
            rows.append((f"{name}: {tag} / {first} default set",
                         f"{spent[(first, name)]['now'] / spent[(tag, name)]['now']:.3f}x", "frames/s ratio"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--deep", type=int, default=4, help="16-bit frames added to the before/after set")
    ap.add_argument("--batches", default="", help="e.g. 1,8,32: frames/s of the default set per group size")
    ap.add_argument("--no-strategy", action="store_true", help="skip the multi-frame strategy part")
    ap.add_argument("--no-compare", action="store_true", help="skip the old/previous/current comparison")
    ap.add_argument("--trees", default="", help="before=PATH,after=PATH: the default set of two source trees, "
                                                "alternated batch by batch (then nothing else runs)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        tree_worker(args)
        return
    if args.trees:
        rows = compare_trees(args)
        w = max(len(r[0]) for r in rows)
        for r in rows:
            print(f"{r[0].ljust(w)} | {r[1]} | {r[2]}")
        return
    ds, truth, sets = frame_sets(args.frames, args.deep, args.seed)
    frames = decode_frames(ds)
    eng = RapidOcrEngine(batch_size=args.batch)
    eng.read([render_frame(frames, 0, ds)])  # warm-up
    rows = [] if args.no_compare else compare_paths(eng, sets, args.batch)
    if args.batches:
        sizes = [int(b) for b in args.batches.split(",")]
        cine32 = [(frames, i, ds) for i in range(min(32, frames.count))]
        rows += batch_sizes(eng, {"8-bit US cine": cine32, **({"16-bit CT/CR": sets["16-bit CT/CR"]}
                                                               if args.deep else {})}, sizes)
    if not args.no_strategy:
        rows += strategy(eng, ds, frames, truth, args.batch)
    w = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(w)} | value | detail")
    for r in rows:
        print(f"{r[0].ljust(w)} | {r[1]} | {r[2]}")
    print(json.dumps({"phi_boxes": sum(b["phi"] for b in truth), "boxes": len(truth)}))


if __name__ == "__main__":
    main()
