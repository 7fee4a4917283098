"""Where the pixel stage's time goes on the real corpus, without Spark; before/after side by side.

    python benchmarks/bench_pixels_real.py profile [--files real|DIR ...] [--verify] [--out F.json]
    python benchmarks/bench_pixels_real.py compare --tree before=/tmp/ocr-base --tree after=. \
        [--files real] [--verify] [--out F.json]
    python benchmarks/bench_pixels_real.py equal BEFORE.json AFTER.json

``profile`` runs the pixel stage's per-instance call (:meth:`PixelStage.process` on one
:class:`PixelItem`, as the pipeline's ``process_rows`` does) over every real file the real-corpus test
uses (pydicom's test files, ``deid-data``, ``../shared/data/dicom``; each content once) and, with
``--verify``, the quality gate's second OCR of the redacted output (:func:`deid.quality.verify.check_pixels`'s
frames and renderings). Each step's time is exclusive (a step's children are not counted in it):

decode (pydicom decoders), select (multi-frame comparison), render (renderings + data-region masks),
detect_pre (resize, normalise, post-process), detect_infer (the detector's onnxruntime runs),
merge (joining boxes), recognise (the recogniser's runs), classify (header matching + model),
redact (fill + encode/write), other (the rest: reading the result, bookkeeping).

``compare`` runs two source trees (``PYTHONPATH``) as two long-lived worker processes and sends them
the same files alternately (file 1 to A, then to B, file 2 to A ...), so load drift on a shared
machine hits both alike; it prints per-step seconds and frames/s of both, and the redacted-box
equality (``equal``): per instance and frame, every pixel redacted by A must be redacted by B.
File names never leave this script: instances are keyed by the first 12 hex digits of their SHA-256.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

STEPS = ("decode", "select", "render", "detect_pre", "detect_infer", "merge", "recognise", "classify",
         "redact", "other")


# ---------------------------------------------------------------------------------------- inputs
def real_files() -> list[Path]:
    """The real-corpus test's inputs (tests/quality/test_real_corpus.py ``real_files``), each content once."""
    from deid.samples import reachable_files

    files = reachable_files()
    seen: set[str] = set()
    out: list[Path] = []
    for p in sorted(files):
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            out.append(p)
    return sorted(out, key=lambda p: p.stat().st_size)  # small first: a cut-short run has most instances


def input_files(specs: list[str]) -> list[Path]:
    out: list[Path] = []
    for spec in specs:
        out += real_files() if spec == "real" else sorted(Path(spec).glob("*.dcm"))
    return out


# ---------------------------------------------------------------------------------------- timing
class Clock:
    """Exclusive seconds per step: a wrapped call's time minus the wrapped calls inside it."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self._stack: list[float] = []

    def wrap(self, step: str, fn: Callable[..., Any], count: Callable[..., int] | None = None) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            self._stack.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                inner = self._stack.pop()
                self.seconds[step] += elapsed - inner
                self.counts[step] += count(*args, **kwargs) if count else 1
                if self._stack:
                    self._stack[-1] += elapsed
        return timed

    def reset(self) -> None:
        self.seconds.clear()
        self.counts.clear()


def _batch_len(x: Any) -> int:
    shape = getattr(x, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) == 4 else 1


def instrument(clock: Clock) -> None:
    """Wrap the pixel stage's steps (whatever of them this tree has) with the clock."""
    from deid.pixels import frames, multiframe, ocr, stage

    frames._as_array = clock.wrap("decode", frames._as_array)  # type: ignore[assignment]
    multiframe.changed_pixels = clock.wrap("select", multiframe.changed_pixels)  # type: ignore[assignment]
    for name in ("renderings", "mask_render", "frame_renderings"):
        if hasattr(stage, name):
            setattr(stage, name, clock.wrap("render", getattr(stage, name)))
    from deid.pixels import renderings as rmod

    rmod.renderings = clock.wrap("render", rmod.renderings)  # type: ignore[assignment]  # read_frames (verify)
    for name in ("_detect_tile", "_detect_crops", "_detect_frame"):
        if hasattr(ocr.RapidOcrEngine, name):
            setattr(ocr.RapidOcrEngine, name, clock.wrap("detect_pre", getattr(ocr.RapidOcrEngine, name)))
    ocr.join_line_boxes = clock.wrap("merge", ocr.join_line_boxes)  # type: ignore[assignment]
    stage.PixelStage._decide_all = clock.wrap("classify", stage.PixelStage._decide_all)  # type: ignore[method-assign]
    stage.write_redacted = clock.wrap("redact", stage.write_redacted)  # type: ignore[assignment]


def instrument_engine(clock: Clock, engine: Any) -> None:
    """The detector's and recogniser's onnxruntime sessions, once the engine exists."""
    o = engine._ocr
    det = o.text_det or o._load_det_model()
    rec = o.text_rec or o._load_rec_model()
    if not getattr(det.session, "_clocked", False):
        session = det.session
        timed = clock.wrap("detect_infer", session, _batch_len)
        det.session = type("TimedSession", (), {"__call__": staticmethod(timed), "_clocked": True,
                                                 "__getattr__": lambda self, n: getattr(session, n)})()
    if not getattr(rec, "_clocked", False):
        o.text_rec = clock.wrap("recognise", rec, lambda inp: len(inp.img))
        o.text_rec._clocked = True  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------- one file
def _redacted(result: Any) -> list[list[int]]:
    from deid.pipeline.hooks import REDACT

    return sorted([b.frame, b.x, b.y, b.w, b.h] for b in result.boxes if b.action == REDACT)


def run_file(path: Path, stage: Any, clock: Clock, verify: bool) -> dict[str, Any]:
    """The stage (and optionally the gate's second OCR) on one file: seconds per step and the result."""
    import pydicom

    from deid.dicomio import read_dicom
    from deid.errors import DeidError
    from deid.header.identifiers import collect_identifiers
    from deid.pipeline.hooks import PixelItem

    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()[:12]
    rec: dict[str, Any] = {"key": key}
    try:
        ds = read_dicom(data)
    except DeidError as err:
        return {**rec, "status": f"unreadable:{err.__class__.__name__}"}
    except Exception as exc:  # noqa: BLE001 - the pipeline quarantines it; nothing to time
        return {**rec, "status": f"unreadable:{exc.__class__.__name__}"}
    rec.update({"modality": str(ds.get("Modality", "")), "syntax": str(getattr(ds, "file_meta", {}).get(
        "TransferSyntaxUID", "")), "rows": int(ds.get("Rows", 0) or 0), "cols": int(ds.get("Columns", 0) or 0),
        "frames": int(ds.get("NumberOfFrames", 1) or 1) if "PixelData" in ds else 0,
        "bits": int(ds.get("BitsStored", 0) or 0), "bytes": len(data)})
    item = PixelItem(key, ds, copy.deepcopy(ds), collect_identifiers(ds), rec["modality"])
    instrument_engine(clock, stage.engine)
    clock.reset()
    t0 = time.perf_counter()
    result = stage.process([item])[0]
    rec["stage_s"] = time.perf_counter() - t0
    rec["steps"] = dict(clock.seconds)
    rec["steps"]["other"] = rec["stage_s"] - sum(clock.seconds.values())
    rec["counts"] = dict(clock.counts)
    rec["status"] = result.status.value
    rec["error"] = result.error.reason.value if result.error is not None else None
    rec["boxes"] = len(result.boxes)
    rec["redacted"] = _redacted(result)
    if result.output_syntax is not None:
        buf = io.BytesIO()
        item.target.save_as(buf, enforce_file_format=True)
        out = pydicom.dcmread(io.BytesIO(buf.getvalue()), force=True)
        rec["pixel_sha"] = hashlib.sha256(out.PixelData).hexdigest()[:16]
    else:
        out = item.target
    if verify and result.status.value != "unverified" and "PixelData" in out:
        rec.update(verify_pixels(out, clock))
    memo = getattr(stage.engine, "memo", None)
    if memo is not None:
        rec["memo_hits"] = memo.hits  # since the worker started (stage and gate)
    return rec


def verify_pixels(ds: Any, clock: Clock) -> dict[str, Any]:
    """The gate's second OCR (deid.quality.verify.check_pixels: up to 8 frames, the stage's renderings)."""
    from deid.pixels.frames import open_frames
    from deid.pixels.ocr import get_engine
    from deid.pixels.renderings import read_frames
    from deid.quality.verify import frame_indices

    clock.reset()
    t0 = time.perf_counter()
    try:
        frames = open_frames(ds)
        idx = list(frame_indices(frames.count, 8))
        found = read_frames(get_engine("rapidocr"), frames, ds, idx)
        lines = sum(len(b) for b in found)
    except Exception as exc:  # noqa: BLE001 - reported as the gate would (a finding), not raised
        return {"verify_s": time.perf_counter() - t0, "verify_error": exc.__class__.__name__}
    total = time.perf_counter() - t0
    steps = dict(clock.seconds)
    steps["other"] = total - sum(clock.seconds.values())
    return {"verify_s": total, "verify_steps": steps, "verify_counts": dict(clock.counts), "verify_lines": lines}


def make_stage() -> Any:
    """The default stage, its engine and classifier loaded (on a noise image no input holds), so that
    no instance pays for loading models."""
    import numpy as np

    from deid.pixels.ocr import read_groups
    from deid.pixels.stage import PixelConfig, PixelStage

    stage = PixelStage(PixelConfig())
    noise = np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    read_groups(stage.engine, [[noise]])
    if stage.classifier is not None:
        stage.classifier.score(["warm up"])
    return stage


# ---------------------------------------------------------------------------------------- modes
def worker(verify: bool) -> int:
    """One JSON path per stdin line -> one JSON result per stdout line (``compare``'s side)."""
    clock = Clock()
    instrument(clock)
    stage = make_stage()
    real_out = sys.stdout
    sys.stdout = sys.stderr  # anything the libraries print stays off the protocol
    for line in sys.stdin:
        rec = run_file(Path(json.loads(line)), stage, clock, verify)
        real_out.write(json.dumps(rec) + "\n")
        real_out.flush()
    return 0


def profile(args: argparse.Namespace) -> int:
    clock = Clock()
    instrument(clock)
    stage = make_stage()
    recs = [run_file(p, stage, clock, args.verify) for p in input_files(args.files)[: args.limit]]
    doc = {"trees": {"this": recs}}
    if args.out:
        args.out.write_text(json.dumps(doc, indent=1))
    print_summary(doc)
    return 0


def compare(args: argparse.Namespace) -> int:
    trees = dict(t.split("=", 1) for t in args.tree)
    procs: dict[str, subprocess.Popen[str]] = {}
    for name, root in trees.items():
        env = {**os.environ, "PYTHONPATH": str(Path(root).resolve())}
        cmd = [sys.executable, str(Path(__file__).resolve()), "worker"] + (["--verify"] if args.verify else [])
        procs[name] = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                       cwd=str(Path(root).resolve()))
    recs: dict[str, list[dict[str, Any]]] = {n: [] for n in trees}
    files = input_files(args.files)[: args.limit]
    for k, path in enumerate(files):
        order = list(trees) if k % 2 == 0 else list(reversed(trees))  # who goes first alternates too
        for name in order:
            p = procs[name]
            assert p.stdin is not None and p.stdout is not None
            p.stdin.write(json.dumps(str(path)) + "\n")
            p.stdin.flush()
            recs[name].append(json.loads(p.stdout.readline()))
        if args.out:  # after every file: a run cut short still has its figures
            args.out.write_text(json.dumps({"trees": recs}, indent=1))
        if args.progress:
            print(f"{k + 1}/{len(files)}", *(f"{n}={recs[n][-1].get('stage_s', 0):.1f}s" for n in trees),
                  file=sys.stderr, flush=True)
    for p in procs.values():
        assert p.stdin is not None
        p.stdin.close()
        p.wait()
    doc = {"trees": recs}
    if args.out:
        args.out.write_text(json.dumps(doc, indent=1))
    print_summary(doc)
    names = list(trees)
    if len(names) == 2:
        print_equal(recs[names[0]], recs[names[1]])
    return 0


# ---------------------------------------------------------------------------------------- reports
def print_summary(doc: dict[str, Any]) -> None:
    for name, recs in doc["trees"].items():
        timed = [r for r in recs if "stage_s" in r]
        frames = sum(r["frames"] for r in timed)
        total = sum(r["stage_s"] for r in timed)
        steps: Counter[str] = Counter()
        vsteps: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        for r in timed:
            steps.update(r["steps"])
            counts.update(r["counts"])
            vsteps.update(r.get("verify_steps", {}))
        vtotal = sum(r.get("verify_s", 0.0) for r in timed)
        print(f"[{name}] {len(timed)} instances, {frames} frames: stage {total:.1f} s ({frames / max(total, 1e-9):.2f}"
              f" frames/s), gate OCR {vtotal:.1f} s")
        print("   stage: " + ", ".join(f"{s} {steps[s]:.1f}" for s in STEPS if steps[s]))
        if vtotal:
            print("   gate:  " + ", ".join(f"{s} {vsteps[s]:.1f}" for s in STEPS if vsteps[s]))
        print("   calls: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
              + (f", detection memo hits {timed[-1]['memo_hits']}" if timed and "memo_hits" in timed[-1] else ""))
        slow = sorted(timed, key=lambda r: -(r["stage_s"] + r.get("verify_s", 0.0)))[:8]
        for r in slow:
            top = sorted(r["steps"].items(), key=lambda kv: -kv[1])[:3]
            print(f"   {r['key']} {r['modality']:3} {r['rows']}x{r['cols']}x{r['frames']} {r['bits']}b "
                  f"{r['syntax'][-6:]:>6}: stage {r['stage_s']:.1f} s gate {r.get('verify_s', 0.0):.1f} s ("
                  + ", ".join(f"{s} {v:.1f}" for s, v in top) + ")")


def coverage(a: list[list[int]], b: list[list[int]]) -> tuple[int, int]:
    """(pixels redacted by ``a`` that ``b`` leaves, pixels redacted by ``a``) summed over frames."""
    import numpy as np

    missing = total = 0
    for f in sorted({x[0] for x in a}):
        boxes_a = [x[1:] for x in a if x[0] == f]
        boxes_b = [x[1:] for x in b if x[0] == f]
        cols = max(x + w for x, _, w, _ in boxes_a + boxes_b)
        rows = max(y + h for _, y, _, h in boxes_a + boxes_b)
        ma, mb = np.zeros((rows, cols), bool), np.zeros((rows, cols), bool)
        for m, boxes in ((ma, boxes_a), (mb, boxes_b)):
            for x, y, w, h in boxes:
                m[y:y + h, x:x + w] = True
        total += int(ma.sum())
        missing += int((ma & ~mb).sum())
    return missing, total


def print_equal(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> bool:
    """Every redacted pixel of ``before`` redacted by ``after`` (per instance and frame)."""
    by_key = {r["key"]: r for r in after}
    same = superset = worse = 0
    extra = pixels_differ = 0
    for r in before:
        o = by_key.get(r["key"])
        if o is None or r.get("status") != o.get("status"):
            worse += 1
            print(f"   status differs {r['key']}: {r.get('status')} -> {o and o.get('status')}")
            continue
        a, b = r.get("redacted", []), o.get("redacted", [])
        if r.get("pixel_sha") != o.get("pixel_sha"):
            pixels_differ += 1
        if a == b:
            same += 1
            continue
        missing, total = coverage(a, b)
        if missing:
            worse += 1
            print(f"   LESS redacted {r['key']}: {missing} of {total} px no longer redacted")
        else:
            superset += 1
            extra += coverage(b, a)[0]
    rewritten = sum(1 for r in before if r.get("pixel_sha"))
    print(f"equality: {same} identical, {superset} superset (+{extra} px), {worse} with less redacted or "
          f"another status, of {len(before)}; redacted boxes {sum(len(r.get('redacted', [])) for r in before)}; "
          f"output Pixel Data (SHA-256) differs on {pixels_differ} of {rewritten} rewritten outputs")
    return worse == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    for name in ("profile", "compare"):
        p = sub.add_parser(name)
        p.add_argument("--files", nargs="+", default=["real"], help="'real' or folders of *.dcm")
        p.add_argument("--verify", action="store_true", help="also the gate's second OCR of the output")
        p.add_argument("--limit", type=int, default=None)
        p.add_argument("--out", type=Path, default=None)
        p.add_argument("--progress", action="store_true")
        if name == "compare":
            p.add_argument("--tree", action="append", required=True, help="NAME=source tree root")
    w = sub.add_parser("worker")
    w.add_argument("--verify", action="store_true")
    e = sub.add_parser("equal")
    e.add_argument("before", type=Path, help="a compare output (its two trees) or a profile output")
    e.add_argument("after", type=Path, nargs="?", help="a profile output")
    args = ap.parse_args()
    if args.mode == "worker":
        return worker(args.verify)
    if args.mode == "profile":
        return profile(args)
    if args.mode == "compare":
        return compare(args)
    docs = [json.loads(p.read_text())["trees"] for p in (args.before, args.after) if p is not None]
    runs = [recs for doc in docs for recs in doc.values()]
    n = min(len(runs[0]), len(runs[1]))  # a compare cut short: the files both trees finished
    print_summary({"trees": {f"run{i}": r[:n] for i, r in enumerate(runs[:2])}})
    return 0 if print_equal(runs[0][:n], runs[1][:n]) else 1


if __name__ == "__main__":
    sys.exit(main())
