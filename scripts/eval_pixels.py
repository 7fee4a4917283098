"""Score the pixel stage on synthetic ground truth, and show it on real ultrasounds.

    python scripts/eval_pixels.py synthetic [--dir /tmp/deid_synth] [--n 32] [--seed 7] [--reocr]
    python scripts/eval_pixels.py real [--out /tmp/deid_pixels_real]

synthetic: generates (or reuses) ``make_synthetic`` instances, runs :class:`PixelStage`, writes each
result to bytes and reads it back (the file must open and decode), then scores

- recall: PHI boxes no longer legible in every frame they appear in (>= 98 % of the box filled, or,
  with --reocr, a re-OCR of the redacted box reads nothing);
- retention: clinical boxes left intact (< 5 % of their pixels changed in every frame);

and prints, for every miss, the stage decisions that touched it. Targets: recall 100 %, retention >= 90 %.
real: runs the stage on the deid-data ultrasounds and saves before/after PNGs.

    python scripts/eval_pixels.py independent [--dir /tmp/deid_eval_pixels] [--n 24] [--seed 101] [--names census]
    python scripts/eval_pixels.py annotated [--data ../shared/data/dicom]

independent: the evaluation set of ``make_eval_pixels`` (a generator written apart from the training
one); annotated: real files with hand-annotated boxes (``tests/data/pixels/*.json``). Both print, per
category (grey level, text height, modality, syntax, photometric, font, line kind):

- PHI lines made illegible / total: a PHI line is illegible when its box is >= 90 % filled in every
  frame it is on, or when a re-OCR of the REDACTED frame around the box (every rendering) reads no
  text similar to the line (alnum similarity >= 0.5 or a shared token of >= 4 characters);
- clinical lines kept / total: < 5 % of the box's pixels changed in every frame;
- frames/s of the stage (all frames of the instances / stage time), and the boxes redacted that
  touch no annotated line (fills on anatomy).
"""

from __future__ import annotations

import argparse
import copy
import difflib
import io
import json
import re
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_names import SOURCES as NAME_SOURCES  # noqa: E402

from deid.header.identifiers import collect_identifiers  # noqa: E402
from deid.pipeline.hooks import PixelItem  # noqa: E402
from deid.pixels.frames import decode_frames, render_frame  # noqa: E402
from deid.pixels.redact import fill_value  # noqa: E402
from deid.pixels.stage import PixelConfig, PixelStage  # noqa: E402


def _job(key: str, ds: pydicom.Dataset) -> PixelItem:
    return PixelItem(key, ds, copy.deepcopy(ds), collect_identifiers(ds), str(ds.get("Modality", "")))


def _reread(ds: pydicom.Dataset) -> pydicom.Dataset:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


def _overlaps(rec, tb: dict) -> bool:  # type: ignore[no-untyped-def]
    return not (rec.x + rec.w <= tb["x"] or tb["x"] + tb["w"] <= rec.x or rec.y + rec.h <= tb["y"]
                or tb["y"] + tb["h"] <= rec.y)


def run_synthetic(args: argparse.Namespace) -> int:
    from make_synthetic import generate

    d: Path = args.dir
    paths = sorted(d.glob("synth_*.dcm")) if d.is_dir() else []
    if len(paths) < args.n:
        paths = generate(d, args.n, args.seed)
    paths = paths[: args.n]
    stage = PixelStage(PixelConfig())
    totals: Counter[str] = Counter()
    misses: list[str] = []
    decisions: Counter[str] = Counter()
    t0 = time.time()
    for start in range(0, len(paths), args.jobs):
        chunk = paths[start:start + args.jobs]
        jobs = [_job(p.name, pydicom.dcmread(p)) for p in chunk]
        outcomes = stage.process(jobs)
        for p, job, out in zip(chunk, jobs, outcomes, strict=False):
            truth = json.loads(p.with_suffix(".json").read_text())
            if out.error is not None:
                misses.append(f"{p.name}: FAILED {out.error}")
                totals["failed"] += 1
                continue
            for rec in out.boxes:
                decisions[f"{rec.action}:{rec.reason}"] += 1
            before = decode_frames(job.original)
            after_ds = _reread(job.target)
            after = decode_frames(after_ds)
            fill = fill_value(after, after_ds)
            for tb in truth["boxes"]:
                kind = "phi" if tb["phi"] else "clinical"
                totals[kind] += 1
                covered, changed = [], []
                for f in range(tb["first_frame"], tb["last_frame"] + 1):
                    ys, xs = slice(tb["y"], tb["y"] + tb["h"]), slice(tb["x"], tb["x"] + tb["w"])
                    a, b = after.pixels[f][ys, xs], before.pixels[f][ys, xs]
                    eq = (a == fill.reshape((1,) * (a.ndim - 1) + (-1,))[..., : a.shape[-1]]) if a.ndim == 3 \
                        else (a == fill[0])
                    eq = eq.all(axis=-1) if eq.ndim == 3 else eq
                    covered.append(float(eq.mean()))
                    diff = (a != b) if a.shape == b.shape else np.ones_like(eq)
                    diff = diff.any(axis=-1) if diff.ndim == 3 else diff
                    changed.append(float(diff.mean()))
                if kind == "phi":
                    ok = min(covered) >= 0.98
                    if not ok and args.reocr:
                        ok = _illegible(stage, after, after_ds, tb)
                    totals["phi_ok"] += ok
                    if not ok:
                        why = [f"{r.label}/{r.reason}" for r in out.boxes if _overlaps(r, tb)
                               and r.frame <= tb["last_frame"]] or ["not detected"]
                        misses.append(f"{p.name} {truth['syntax']} {truth['photometric']} PHI missed "
                                      f"(covered {min(covered):.2f}) {tb['kind']} {tb['text']!r}: {why}")
                else:
                    ok = max(changed) < 0.05
                    totals["clin_ok"] += ok
                    if not ok:
                        why = [f"{r.label}/{r.reason}" for r in out.boxes if _overlaps(r, tb)]
                        misses.append(f"{p.name} clinical redacted {tb['text']!r}: {why}")
    dt = time.time() - t0
    recall = totals["phi_ok"] / max(1, totals["phi"])
    retention = totals["clin_ok"] / max(1, totals["clinical"])
    print(f"instances {len(paths)}  text boxes {totals['phi'] + totals['clinical']}  "
          f"(PHI {totals['phi']}, clinical {totals['clinical']})  failed {totals['failed']}  {dt:.0f}s")
    print(f"PHI recall     {recall:.4f}  ({totals['phi_ok']}/{totals['phi']})")
    print(f"retention      {retention:.4f}  ({totals['clin_ok']}/{totals['clinical']})")
    print("decisions:", dict(decisions.most_common()))
    for m in misses:
        print("  MISS", m)
    return 0 if recall == 1.0 and retention >= 0.9 and not totals["failed"] else 1


def _illegible(stage: PixelStage, frames, ds, tb: dict) -> bool:  # type: ignore[no-untyped-def]
    img = render_frame(frames, tb["first_frame"], ds)
    y0, x0 = max(0, tb["y"] - 4), max(0, tb["x"] - 4)
    crop = np.ascontiguousarray(img[y0:tb["y"] + tb["h"] + 4, x0:tb["x"] + tb["w"] + 4])
    boxes = stage.engine.read([crop])[0]
    return not any(len(b.text) >= 2 and b.confidence >= 0.5 for b in boxes)


def _real_files() -> list[tuple[str, pydicom.Dataset]]:
    try:
        import deid_data
    except ImportError:
        return []
    root = Path(deid_data.__file__).parent / "data" / "ultrasounds"
    out: list[tuple[str, pydicom.Dataset]] = []
    for p in sorted(root.glob("*.dcm")):
        out.append((p.stem, pydicom.dcmread(p)))
    for z in sorted(root.glob("*.zip")):
        with zipfile.ZipFile(z) as zf:
            for name in zf.namelist():
                if name.lower().endswith(".dcm"):
                    out.append((z.stem, pydicom.dcmread(io.BytesIO(zf.read(name)))))
                    break
    return out


def run_real(args: argparse.Namespace) -> int:
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = PixelStage(PixelConfig())
    for name, ds in _real_files():
        job = _job(name, ds)
        t = time.time()
        (res,) = stage.process([job])
        dt = time.time() - t
        print(f"{name}: {res.status.value} frames={ds.get('NumberOfFrames', 1)} boxes={len(res.boxes)} "
              f"redacted={sum(b.action == 'REDACT' for b in res.boxes)} review={len(res.review)} "
              f"syntax={res.output_syntax} {dt:.1f}s")
        for b in res.boxes:
            print(f"    f{b.frame} ({b.x},{b.y},{b.w},{b.h}) {b.label} {b.action} {b.reason} {b.score}")
        before = decode_frames(ds)
        after_ds = _reread(job.target)
        after = decode_frames(after_ds)
        Image.fromarray(render_frame(before, 0, ds)).save(out_dir / f"{name}_before.png")
        Image.fromarray(render_frame(after, 0, after_ds)).save(out_dir / f"{name}_after.png")
    print(f"PNGs in {out_dir}")
    return 0


# --------------------------------------------------------------------------- independent / annotated
def _alnum_tokens(text: str) -> list[str]:
    return [t for t in (re.sub(r"[^0-9A-Z]", "", w) for w in text.upper().split()) if t]


def similar(read: str, line: str) -> bool:
    """OCR text ``read`` reproduces the line: similarity >= 0.5 or a shared token of >= 4 characters."""
    a, b = "".join(_alnum_tokens(read)), "".join(_alnum_tokens(line))
    if not a or not b:
        return False
    if difflib.SequenceMatcher(None, a, b).ratio() >= 0.5 and len(a) >= min(3, len(b)):
        return True
    long_tokens = [t for t in _alnum_tokens(line) if len(t) >= 4]
    return any(t in a for t in long_tokens)


class Reader:
    """Re-OCR of a region of a frame, every rendering, through the stage's engine."""

    def __init__(self, stage: PixelStage) -> None:
        self.stage = stage

    def read(self, frames, ds, frame: int, box: dict, pad: int = 12) -> list[str]:  # type: ignore[no-untyped-def]
        from deid.pixels.renderings import renderings

        y0, x0 = max(0, box["y"] - pad), max(0, box["x"] - pad)
        y1, x1 = min(frames.rows, box["y"] + box["h"] + pad), min(frames.columns, box["x"] + box["w"] + pad)
        sub = copy.copy(frames)
        sub.pixels = np.ascontiguousarray(frames.pixels[frame:frame + 1, y0:y1, x0:x1])
        imgs = renderings(sub, 0, ds, self.stage._renders())
        eng = self.stage.engine
        if hasattr(eng, "read_groups"):
            found = eng.read_groups([imgs])[0]
        else:
            found = [b for r in eng.read(imgs) for b in r]
        return [b.text for b in found if b.text]


def _box_stats(before, after, fill, line: dict) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    covered, changed = [], []
    for f in range(line["first_frame"], line["last_frame"] + 1):
        ys, xs = slice(line["y"], line["y"] + line["h"]), slice(line["x"], line["x"] + line["w"])
        a, b = after.pixels[f][ys, xs], before.pixels[f][ys, xs]
        if a.ndim == 3:
            eq = (a == fill.reshape(1, 1, -1)[..., : a.shape[-1]]).all(axis=-1)
            diff = (a != b).any(axis=-1) if a.shape == b.shape else np.ones(eq.shape, bool)
        else:
            eq = a == fill[0]
            diff = (a != b) if a.shape == b.shape else np.ones(eq.shape, bool)
        covered.append(float(eq.mean()))
        changed.append(float(diff.mean()))
    return min(covered), max(changed)


def _keep_ocr(stage: PixelStage, target: Path | None) -> None:
    """``--ocr-cache``: the stage's OCR of the next instance is also written as a replay cache
    (``replay_pixels.py ocr --cache``), so replays start from the same OCR as this run."""
    if target is None:
        stage.__dict__.pop("_finish", None)
        return
    from replay_pixels import dump_found

    finish = type(stage)._finish

    def _finish(prep):  # type: ignore[no-untyped-def]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(dump_found(prep.found, prep.spans, prep.frames.rows, prep.frames.columns)))
        return finish(stage, prep)

    stage._finish = _finish  # type: ignore[method-assign]


def score_instance(stage: PixelStage, reader: Reader, name: str, ds: pydicom.Dataset, lines: list[dict],
                   cats: dict, totals: dict, misses: list[str], ocr_cache: Path | None = None) -> float:
    job = _job(name, ds)
    _keep_ocr(stage, ocr_cache)
    t = time.perf_counter()
    (out,) = stage.process([job])
    dt = time.perf_counter() - t
    _keep_ocr(stage, None)
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    for k, v in cats.items():  # frames/s per instance-level category
        speed = totals.setdefault(("speed", k, str(v)), Counter())
        speed["frames"] += n_frames
        speed["ms"] += round(dt * 1000)
    if out.error is not None:
        misses.append(f"{name}: FAILED {out.error}")
        totals.setdefault("failed", Counter())["n"] += 1
        return dt
    before = decode_frames(job.original)
    after_ds = _reread(job.target)
    after = decode_frames(after_ds)
    fill = fill_value(after, after_ds)
    red = [r for r in out.boxes if r.action == "REDACT"]
    stray = [r for r in red if not any(_overlaps(r, ln) for ln in lines)]
    totals.setdefault("stray", Counter())["boxes"] += len(stray)
    for ln in lines:
        covered, changed = _box_stats(before, after, fill, ln)
        keys = {**cats, "grey": ln.get("grey", "real"), "size": _size(ln["h"]), "font": ln.get("font", "real"),
                "kind": ln.get("kind", "real")}
        if ln["phi"]:
            ok = covered >= 0.9
            if not ok:
                texts = reader.read(after, after_ds, ln["first_frame"], ln)
                ok = not any(similar(tx, ln["text"]) for tx in texts)
            part = "phi"
        else:
            ok = changed < 0.05
            part = "clinical"
        for k, v in keys.items():
            totals.setdefault((part, k, str(v)), Counter())["n"] += 1
            totals[(part, k, str(v))]["ok"] += ok
        totals.setdefault(("all", part), Counter())["n"] += 1
        totals[("all", part)]["ok"] += ok
        if not ok:
            why = [f"{r.label}/{r.reason}" for r in out.boxes if _overlaps(r, ln)] or ["not detected"]
            misses.append(f"{name} {part} {'LEGIBLE' if part == 'phi' else 'REDACTED'} "
                          f"[{', '.join(f'{k}={v}' for k, v in keys.items())}] covered={covered:.2f} "
                          f"changed={changed:.2f} {ln['text']!r}: {why}")
    return dt


def _size(h: int) -> str:
    return "06-09px" if h < 10 else "10-15px" if h < 16 else "16-25px" if h < 26 else "26-40px" if h <= 40 else ">40px"


def report(totals: dict, misses: list[str], frames: int, seconds: float, instances: int) -> int:
    phi, clin = totals.get(("all", "phi"), Counter()), totals.get(("all", "clinical"), Counter())
    print(f"instances {instances}  frames {frames}  stage time {seconds:.1f}s  frames/s {frames / max(seconds, 1e-9):.3f}")
    print(f"PHI lines made illegible  {phi['ok']}/{phi['n']}  ({phi['ok'] / max(1, phi['n']):.1%})")
    print(f"clinical lines kept       {clin['ok']}/{clin['n']}  ({clin['ok'] / max(1, clin['n']):.1%})")
    print(f"redacted boxes touching no annotated line: {totals.get('stray', Counter())['boxes']}  "
          f"failed instances: {totals.get('failed', Counter())['n']}")
    cats = sorted({(k[1], k[2]) for k in totals if isinstance(k, tuple) and len(k) == 3})
    print(f"{'category':<12} {'value':<22} {'PHI illegible':>14} {'clinical kept':>14} {'frames/s':>9}")
    for cat, val in cats:
        p, c = totals.get(("phi", cat, val), Counter()), totals.get(("clinical", cat, val), Counter())
        sp = totals.get(("speed", cat, val), Counter())
        ps = f"{p['ok']}/{p['n']}" if p["n"] else "-"
        cs = f"{c['ok']}/{c['n']}" if c["n"] else "-"
        fs = f"{sp['frames'] / max(sp['ms'] / 1000, 1e-9):.3f}" if sp["ms"] else "-"
        print(f"{cat:<12} {val:<22} {ps:>14} {cs:>14} {fs:>9}")
    for m in misses:
        print("  MISS", m)
    ok = phi["ok"] == phi["n"] and clin["ok"] >= 0.9 * clin["n"] and not totals.get("failed")
    return 0 if ok else 1


def _cache_target(args: argparse.Namespace, path: Path) -> Path | None:
    if args.ocr_cache is None:
        return None
    from replay_pixels import cache_file

    return cache_file(args.ocr_cache, path)


def run_independent(args: argparse.Namespace) -> int:
    from make_eval_pixels import eval_set

    paths = eval_set(args.dir, args.n, args.seed, names=args.names)
    stage = PixelStage(PixelConfig())
    reader = Reader(stage)
    totals: dict = {}
    misses: list[str] = []
    seconds, frames = 0.0, 0
    for p in paths:
        truth = json.loads(p.with_suffix(".json").read_text())
        ds = pydicom.dcmread(p)
        cats = {"modality": truth["modality"], "syntax": truth["syntax"], "photometric": truth["photometric"],
                "bits": truth["bits"]}
        seconds += score_instance(stage, reader, p.name, ds, truth["lines"], cats, totals, misses,
                                  _cache_target(args, p))
        frames += int(truth["frames"])
    return report(totals, misses, frames, seconds, len(paths))


ANNOTATIONS = Path(__file__).resolve().parents[1] / "tests" / "data" / "pixels"


def run_annotated(args: argparse.Namespace) -> int:
    stage = PixelStage(PixelConfig())
    reader = Reader(stage)
    totals: dict = {}
    misses: list[str] = []
    seconds, frames, n = 0.0, 0, 0
    for ann in sorted(ANNOTATIONS.glob("*.json")):
        truth = json.loads(ann.read_text())
        path = args.data / truth["source"]
        if not path.is_file():
            print(f"skip {ann.name}: {truth['source']} is absent")
            continue
        ds = pydicom.dcmread(path)
        nf = int(ds.get("NumberOfFrames", 1) or 1)
        lines = [{"first_frame": 0, "last_frame": nf - 1, **ln} for ln in truth["lines"]]
        cats = {"modality": str(ds.get("Modality", "")), "syntax": truth.get("syntax", ""),
                "photometric": str(ds.get("PhotometricInterpretation", "")), "bits": int(ds.get("BitsStored", 8))}
        seconds += score_instance(stage, reader, ann.stem, ds, lines, cats, totals, misses, _cache_target(args, path))
        frames += nf
        n += 1
    return report(totals, misses, frames, seconds, n)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synthetic")
    s.add_argument("--dir", type=Path, default=Path("/tmp/deid_synth"))
    s.add_argument("--n", type=int, default=32)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--jobs", type=int, default=4)
    s.add_argument("--reocr", action="store_true")
    r = sub.add_parser("real")
    r.add_argument("--out", type=Path, default=Path("/tmp/deid_pixels_real"))
    i = sub.add_parser("independent")
    i.add_argument("--dir", type=Path, default=Path("/tmp/deid_eval_pixels"))
    i.add_argument("--n", type=int, default=24)
    i.add_argument("--seed", type=int, default=101)
    i.add_argument("--names", choices=NAME_SOURCES, default="faker",
                   help="person names: Faker (default) or the evaluation-only census lists (scripts/eval_names.py)")
    a = sub.add_parser("annotated")
    for sp in (i, a):
        sp.add_argument("--ocr-cache", type=Path, default=None,
                        help="also write the stage's OCR per instance for replay_pixels.py ocr --cache")
    a.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dicom")
    args = ap.parse_args()
    runners = {"synthetic": run_synthetic, "real": run_real, "independent": run_independent,
               "annotated": run_annotated}
    return runners[args.cmd](args)


if __name__ == "__main__":
    raise SystemExit(main())
