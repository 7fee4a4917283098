"""Replay the pixel decisions on DEV sets of the independent generator, fast, to tune the classifier.

    python scripts/replay_pixels.py text DIR... [--model DIR] [--band 0.2,0.8] [--show]
    python scripts/replay_pixels.py ocr DIR... --cache CACHE_DIR [--model DIR] [--band 0.2,0.8] [--show]

``DIR``: folders written by ``make_eval_pixels.py --out DIR --seed S`` (use DEV seeds only: never the
reporting seeds of ``eval_pixels.py independent``), or the shared DICOM data root (``../shared/data/dicom``):
the hand-annotated real files of ``tests/data/pixels`` (as ``eval_pixels.py annotated``).

text: the generator's exact lines through :func:`deid.pixels.classify.decide` with the instance's own
identifiers (no OCR): PHI lines redacted / total, clinical lines kept / total, and the reasons.
ocr: the stage's OCR of every instance, run ONCE and kept in ``CACHE_DIR`` (the boxes' text is the
generator's synthetic text), then every box decided again; a line counts as redacted when the REDACT
boxes (padded as the stage pads) cover >= 90 % of it (PHI) and as kept when they cover < 5 % of it
(clinical), an approximation of ``eval_pixels.py``'s scorer without its re-OCR.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deid.header.identifiers import Identifiers, collect_identifiers  # noqa: E402
from deid.pipeline.hooks import PixelItem  # noqa: E402
from deid.pixels.classify import Action, Decision, Thresholds, decide, load_allowlist  # noqa: E402
from deid.pixels.lexicon import load_lexicon  # noqa: E402
from deid.pixels.ocr import TextBox, TextPart  # noqa: E402
from deid.pixels.phi_model import TokenPhiModel  # noqa: E402
from deid.pixels.redact import DecidedBox, pad_box, redaction_fills  # noqa: E402
from deid.pixels.stage import PixelConfig, PixelStage, _Prepared  # noqa: E402


class Decider:
    def __init__(self, model: Path | None, band: tuple[float, float], scores: Path | None = None,
                 lexicon: Path | None = None, box_check: bool = True) -> None:
        self.box_check = box_check
        self.model = TokenPhiModel(model, threads=1)
        self.allow, self.lex = load_allowlist(), load_lexicon(str(lexicon) if lexicon else None)
        cfg = PixelConfig()
        self.th = Thresholds(min_confidence=cfg.min_ocr_confidence, phi_threshold=cfg.phi_threshold,
                             review_low=band[0], review_high=band[1])
        # model scores of earlier runs with the SAME model (--scores FILE, keyed by the model's version)
        self.scores_path = scores
        saved = json.loads(scores.read_text()) if scores is not None and scores.is_file() else {}
        self.cache: dict[str, float] = saved.get(self.model.version, {})
        self._saved = saved

    def save(self) -> None:
        if self.scores_path is not None:
            self._saved[self.model.version] = self.cache
            self.scores_path.write_text(json.dumps(self._saved))

    def decide(self, items: list[tuple[str, float, Identifiers]],
               boxes: list[tuple[int, int] | None] | None = None) -> list[Decision]:
        wh = boxes if boxes is not None and self.box_check else [None] * len(items)
        first = [decide(t, c, i, self.allow, None, self.th, self.lex, b) for (t, c, i), b in zip(items, wh, strict=True)]
        todo = [k for k, d in enumerate(first) if d.reason == "not_recognised"]
        new = sorted({items[k][0] for k in todo} - self.cache.keys())
        self.cache.update(zip(new, (float(x) for x in self.model.score(new)), strict=True) if new else ())
        for k in todo:
            t, c, i = items[k]
            first[k] = decide(t, c, i, self.allow, self.cache[t], self.th, self.lex, wh[k])
        return first


def sweep(decider: Decider, run: Callable[[], Counter], lows: list[float], highs: list[float]) -> None:
    """PHI and clinical figures of the same lines for a grid of review bands (model scores cached)."""
    base = decider.th
    for low in lows:
        for high in highs:
            if high < max(low, base.phi_threshold):
                continue
            decider.th = replace(base, review_low=low, review_high=high)
            t = run()
            print(f"band {low:.2f},{high:.2f}  phi {t[('phi', 'ok')]}/{t[('phi', 'n')]}  "
                  f"clinical {t[('clinical', 'ok')]}/{t[('clinical', 'n')]}")
    decider.th = base


ANNOTATIONS = Path(__file__).resolve().parents[1] / "tests" / "data" / "pixels"


def _instances(dirs: list[Path]) -> list[tuple[Path, dict, Identifiers]]:
    """Instances of ``make_eval_pixels`` folders, or, for a folder of real files (``--annotated``: the
    shared DICOM data root), the hand-annotated real files of ``tests/data/pixels``."""
    out = []
    for d in dirs:
        for p in sorted(d.glob("eval_*.dcm")):
            truth = json.loads(p.with_suffix(".json").read_text())
            out.append((p, truth, collect_identifiers(pydicom.dcmread(p, stop_before_pixels=True))))
        for ann in sorted(ANNOTATIONS.glob("*.json")) if not any(d.glob("eval_*.dcm")) else ():
            truth = json.loads(ann.read_text())
            p = d / truth["source"]
            if not p.is_file():
                continue
            ds = pydicom.dcmread(p, stop_before_pixels=True)
            nf = int(ds.get("NumberOfFrames", 1) or 1)
            truth = {**truth, "modality": str(ds.get("Modality", "")),
                     "lines": [{"first_frame": 0, "last_frame": nf - 1, **ln} for ln in truth["lines"]]}
            out.append((p, truth, collect_identifiers(ds)))
    return out


def run_text(args: argparse.Namespace, decider: Decider) -> Counter:
    items, lines = [], []
    for _, truth, ident in _instances(args.dirs):
        for ln in truth["lines"]:
            items.append((ln["text"], 1.0, ident))
            lines.append({**ln, "modality": truth["modality"]})
    decisions = decider.decide(items)
    tally: Counter = Counter()
    for ln, d in zip(lines, decisions, strict=True):
        part = "phi" if ln["phi"] else "clinical"
        ok = (d.action is Action.REDACT) == ln["phi"]
        tally[(part, "n")] += 1
        tally[(part, "ok")] += ok
        tally[(part, "by", ln["modality"], "n")] += 1
        tally[(part, "by", ln["modality"], "ok")] += ok
        if not ok:
            tally[(part, "miss", d.reason)] += 1
            if args.show:
                print(f"  {part} {'KEPT' if ln['phi'] else 'REDACTED'} {d.reason} {d.score:.2f} {ln['text']!r}")
    return tally


def dump_found(found: dict[int, list[TextBox]], spans: dict[int, range], rows: int, cols: int) -> dict:
    """The stage's OCR of one instance as JSON: boxes with their column parts (``TextBox.parts``), so
    that a replay decides exactly what the stage decides (:meth:`PixelStage._decide_all`)."""
    return {"found": {str(f): [[b.x, b.y, b.w, b.h, b.text, b.confidence,
                                [[p.x, p.w, p.text, p.confidence] for p in b.parts]] for b in boxes]
                      for f, boxes in found.items()},
            "spans": {str(f): list(s) for f, s in spans.items()}, "rows": rows, "cols": cols}


def load_found(data: dict) -> dict[int, list[TextBox]]:
    """:func:`dump_found`'s boxes back (caches written before ``parts`` was kept read as no parts)."""
    return {int(f): [TextBox(b[0], b[1], b[2], b[3], b[4], float(b[5]),
                             tuple(TextPart(p[0], p[1], p[2], float(p[3])) for p in (b[6] if len(b) > 6 else ())))
                     for b in bs] for f, bs in data["found"].items()}


def cache_file(cache: Path, path: Path) -> Path:
    return cache / (path.parent.name + "_" + path.stem + ".json")


def _ocr(stage: PixelStage, path: Path, cache: Path) -> dict:
    target = cache_file(cache, path)
    if target.is_file():
        data = json.loads(target.read_text())
        if all(len(b) > 6 for bs in data["found"].values() for b in bs):
            return data  # an older cache (no column parts) is read again
    ds = pydicom.dcmread(path)
    job = PixelItem(path.name, ds, ds, collect_identifiers(ds), str(ds.get("Modality", "")))
    prep, images = stage._prepare(job)
    stage._run_ocr([prep], [(0, f, imgs) for f, imgs in images])
    data = dump_found(prep.found, prep.spans, prep.frames.rows, prep.frames.columns)
    target.write_text(json.dumps(data))
    return data


class CachedScorer:
    """The decider's model with its score cache, in the shape the stage calls (``score(texts)``)."""

    def __init__(self, decider: Decider) -> None:
        self.decider = decider
        self.version = decider.model.version

    def score(self, texts: list[str]) -> list[float]:
        cache = self.decider.cache
        new = sorted(set(texts) - cache.keys())
        cache.update(zip(new, (float(x) for x in self.decider.model.score(new)), strict=True) if new else ())
        return [cache[t] for t in texts]


def stage_decisions(stage: PixelStage, path: Path, ident: Identifiers, data: dict
                    ) -> dict[int, list[tuple[TextBox, Decision]]]:
    """The stage's own decisions (:meth:`PixelStage._decide_all`: column split and tall review
    included) on cached OCR."""
    job = PixelItem(path.name, None, None, ident, "")  # type: ignore[arg-type]
    prep = _Prepared(job, None, {}, load_found(data))  # type: ignore[arg-type]
    return stage._decide_all(prep)


def run_ocr(args: argparse.Namespace, decider: Decider) -> Counter:
    cfg = PixelConfig()
    stage = PixelStage(cfg)
    replay = PixelStage(cfg, classifier=CachedScorer(decider))
    replay._th, replay._lexicon = decider.th, decider.lex
    args.cache.mkdir(parents=True, exist_ok=True)
    tally: Counter = Counter()
    for path, truth, ident in _instances(args.dirs):
        if args.cached_only and not cache_file(args.cache, path).is_file():
            continue
        data = _ocr(stage, path, args.cache)
        replay._th = decider.th  # --sweep changes the band
        decided = stage_decisions(replay, path, ident, data)
        pairs = [(f, [b.x, b.y, b.w, b.h, b.text], d) for f, bd in decided.items() for b, d in bd]
        lines_read = {tuple(b[:4]) for bs in data["found"].values() for b in bs}  # column parts are not
        rows, cols = data["rows"], data["cols"]
        masks: dict[int, np.ndarray] = {}
        for f, bd in decided.items():
            boxes = [DecidedBox((b.x, b.y, b.w, b.h), d.action is Action.REDACT, b.text, d.firm, d.vouched,
                                d.reason == "short_reading") for b, d in bd]
            regions = redaction_fills(boxes, cfg.padding, rows, cols) if args.geometry == "fills" else [
                pad_box(x.box, cfg.padding, rows, cols) for x in boxes if x.redact]
            for x, y, w, h in regions:
                for g in data["spans"][str(f)]:
                    masks.setdefault(g, np.zeros((rows, cols), bool))[y:y + h, x:x + w] = True
        for ln in truth["lines"]:
            m = masks.get(ln["first_frame"])
            cover = 0.0 if m is None else float(m[ln["y"]:ln["y"] + ln["h"], ln["x"]:ln["x"] + ln["w"]].mean())
            part = "phi" if ln["phi"] else "clinical"
            ok = cover >= 0.9 if ln["phi"] else cover < 0.05
            tally[(part, "n")] += 1
            tally[(part, "ok")] += ok
            tally[(part, "by", truth["modality"], "n")] += 1
            tally[(part, "by", truth["modality"], "ok")] += ok
            if not ok:
                touching = [(b, d) for f, b, d in pairs if f == ln["first_frame"] and _touches(b, ln)]
                why = sorted({("column:" if tuple(b[:4]) not in lines_read else "") + d.reason
                              for b, d in touching if (d.action is Action.REDACT) != ln["phi"]})
                if not why and touching:  # every box on the line decided right: a neighbour's fill
                    why = ["geometry"]
                tally[(part, "miss", ",".join(why) or "not_detected")] += 1
                if args.show:
                    reads = [(b[4], d.action.value, d.reason, round(d.score, 2)) for b, d in touching]
                    print(f"  {part} {path.parent.name}/{path.stem} cover={cover:.2f} {ln['text']!r} {reads}")
    return tally


def _touches(b: list, ln: dict) -> bool:  # type: ignore[type-arg]
    return not (b[0] + b[2] <= ln["x"] or ln["x"] + ln["w"] <= b[0] or b[1] + b[3] <= ln["y"]
                or ln["y"] + ln["h"] <= b[1])


def _print(tally: Counter) -> None:
    for part in ("phi", "clinical"):
        n, ok = tally[(part, "n")], tally[(part, "ok")]
        print(f"{part:<9} {ok}/{n} ({ok / max(1, n):.1%})")
        mods = sorted({k[2] for k in tally if k[0] == part and k[1] == "by"})
        print("    by modality: " + "  ".join(f"{m} {tally[(part, 'by', m, 'ok')]}/{tally[(part, 'by', m, 'n')]}"
                                           for m in mods))
        for key, v in sorted(((k, v) for k, v in tally.items() if k[0] == part and k[1] == "miss"),
                             key=lambda kv: -kv[1]):
            print(f"    {key[2]}: {v}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["text", "ocr"])
    ap.add_argument("dirs", type=Path, nargs="+")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/deid_replay_cache"))
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--band", default="0.2,0.8")
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--scores", type=Path, default=None, help="JSON cache of model scores per model version")
    ap.add_argument("--lexicon", type=Path, default=None, help="another clinical lexicon file (before/after)")
    ap.add_argument("--geometry", choices=["fills", "boxes"], default="fills",
                    help="fills: the stage's redaction_fills; boxes: every redacted box padded (before)")
    ap.add_argument("--no-box-check", action="store_true", help="text mode: ignore box geometry in decide (before/after)")
    ap.add_argument("--cached-only", action="store_true", help="ocr: skip instances without a cache file")
    ap.add_argument("--sweep", action="store_true", help="figures for a grid of review bands")
    ap.add_argument("--lows", default="0.2,0.3,0.4,0.5")
    ap.add_argument("--highs", default="0.7,0.8,0.9,0.95")
    args = ap.parse_args()
    low, high = (float(x) for x in args.band.split(","))
    decider = Decider(args.model, (low, high), args.scores, args.lexicon, not args.no_box_check)
    run = run_text if args.mode == "text" else run_ocr
    _print(run(args, decider))
    decider.save()
    if args.sweep:
        args.show = False
        sweep(decider, lambda: run(args, decider), [float(x) for x in args.lows.split(",")],
              [float(x) for x in args.highs.split(",")])


if __name__ == "__main__":
    main()
