"""Peak memory of the de-identify task body on one large cine, in-process (no Spark, no JVM).

    python benchmarks/bench_memory_task.py [--mb 200] [--text] [--syntax native|jpegls|jpeg] [--json-out FILE]
    python benchmarks/bench_memory_task.py --compare main=/work/main branch=. [--cases native:text ...]

Writes an 8-bit cine (``bench_memory.write_cine``, frames alike so that only the first is OCR'd;
``--text`` burns a line in, which the pixel stage redacts; ``--syntax`` native, JPEG-LS lossless or
JPEG baseline) in a separate process (its own memory never counts), then in a fresh process warms the
header engine, OCR and classifier on a 2 MB cine of the same kind and runs the task exactly as a Spark
task runs a large input (``deid.pipeline.process._process_blob``: read from the PHI zone, de-identify,
OCR, redact, write the staged file). Reports the growth of the peak resident set (VmHWM) over the
warmed process, as a multiple of the file size. Item 4 of issue #11 asks for <= 2x the file.

``--compare NAME=TREE ...`` runs each case once per tree, alternating trees case by case, the task
process importing ``deid`` from that tree (PYTHONPATH) and the same cine files for all trees.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_memory import write_cine  # noqa: E402

LINE = "Synthetic Cine  BENCH-0001  01/01/1970"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux


def make(work: Path, megabytes: int, text: bool, syntax: str) -> tuple[Path, Path]:
    """The cine and its 2 MB warm-up twin (written in this process: call it in a child)."""
    big, small = work / f"cine-{syntax}-{int(text)}.dcm", work / f"warm-{syntax}-{int(text)}.dcm"
    if not big.exists():
        write_cine(big, megabytes, moving=False, text=LINE if text else None, syntax=syntax)
        write_cine(small, 2, moving=False, text=LINE if text else None, syntax=syntax)
    return big, small


def run(work: Path, big: Path, small: Path, text: bool) -> dict[str, object]:
    from deid.config.pixels import PixelConfig
    from deid.header.profile import load_profile
    from deid.keys import KeyRing
    from deid.pipeline.process import ProcessParams, _process_blob
    from deid.pixels.stage import PixelStage

    params = ProcessParams(run_id="bench", profile=load_profile("research"), keyring=KeyRing(os.urandom(32)),
                           staging=str(work / f"staging-{os.getpid()}"), pixel_hook=PixelStage(PixelConfig()))
    _process_blob(params, "0" * 64, str(small))
    before = _peak_mb()
    t0 = time.perf_counter()
    out = _process_blob(params, "1" * 64, str(big))
    size = big.stat().st_size
    staged = next(Path(params.staging).rglob("1" * 64 + ".dcm"), Path("-"))
    out_mb = round(staged.stat().st_size / 1e6, 1) if staged.exists() else None
    shutil.rmtree(params.staging, ignore_errors=True)
    return {"file_mb": round(size / 1e6, 1), "text": text, "outcome": out[0]["outcome"],
            "redacted_regions": out[0].get("redacted_regions"), "seconds": round(time.perf_counter() - t0, 1),
            "output_mb": out_mb,
            "peak_rss_mb_warm": round(before), "peak_rss_mb": round(_peak_mb()),
            "growth_over_file": round((_peak_mb() - before) * 1e6 / size, 2)}


def _child(tree: str, args: list[str]) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve())}
    proc = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False)
    try:
        return dict(json.loads(proc.stdout[proc.stdout.index("{"):]))
    except ValueError:
        return {"error": proc.stderr[-2000:]}


def compare(trees: dict[str, str], cases: list[str], megabytes: int, work: Path) -> list[dict[str, object]]:
    """Each case (``syntax:text|plain``) once per tree, trees alternating, files shared."""
    rows: list[dict[str, object]] = []
    for case in cases:
        syntax, kind = case.split(":")
        flags = ["--mb", str(megabytes), "--syntax", syntax, "--workdir", str(work)] + (
            ["--text"] if kind == "text" else [])
        _child(next(iter(trees.values())), [*flags, "--make-only"])
        for name, tree in trees.items():
            res = _child(tree, flags)
            res.update({"tree": name, "syntax": syntax})
            print(json.dumps(res), flush=True)
            rows.append(res)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--text", action="store_true", help="burn a line in (the redaction path)")
    ap.add_argument("--syntax", choices=["native", "jpegls", "jpeg"], default="native")
    ap.add_argument("--workdir", help="where the cines are kept (default: a temporary folder)")
    ap.add_argument("--make-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--compare", nargs="+", metavar="NAME=TREE")
    ap.add_argument("--cases", nargs="+", default=["native:plain", "native:text", "jpegls:text", "jpeg:text"])
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deid-memtask-") as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.compare:
            trees = dict(t.split("=", 1) for t in args.compare)
            res: object = compare(trees, args.cases, args.mb, work)
        elif args.make_only:
            make(work, args.mb, args.text, args.syntax)
            return 0
        else:
            # the cine is written in a child (its memory is not this process's), unless it exists
            subprocess.run([sys.executable, __file__, "--make-only", "--workdir", str(work), "--mb",
                            str(args.mb), "--syntax", args.syntax] + (["--text"] if args.text else []),
                           check=True)
            big, small = make(work, args.mb, args.text, args.syntax)
            res = run(work, big, small, args.text)
    text = json.dumps(res, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    return 0 if isinstance(res, list) or (isinstance(res, dict) and res["outcome"] == "ok") else 1


if __name__ == "__main__":
    sys.exit(main())
