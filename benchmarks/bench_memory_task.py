"""Peak memory of the de-identify task body on one large cine, in-process (no Spark, no JVM).

    python benchmarks/bench_memory_task.py [--mb 200] [--text] [--json-out FILE]

Writes an uncompressed 8-bit cine (``bench_memory.write_cine``, frames alike so that only the first is
OCR'd; ``--text`` burns a line in, which the pixel stage redacts), warms the header engine, OCR and
classifier on a 2 MB cine, then runs the task exactly as a Spark task runs a large input
(``deid.pipeline.process._process_blob``: read from the PHI zone, de-identify, OCR, redact, write the
staged file) and reports the growth of the peak resident set over the warmed process, as a multiple
of the file size. Item 4 of issue #11 asks for <= 2x the file for Python.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_memory import write_cine  # noqa: E402


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux


def run(work: Path, megabytes: int, text: bool) -> dict[str, object]:
    from deid.config.pixels import PixelConfig
    from deid.header.profile import load_profile
    from deid.keys import KeyRing
    from deid.pipeline.process import ProcessParams, _process_blob
    from deid.pixels.stage import PixelStage

    line = "Synthetic Cine  BENCH-0001  01/01/1970" if text else None
    big, small = work / "cine.dcm", work / "warm.dcm"
    write_cine(big, megabytes, moving=False, text=line)
    write_cine(small, 2, moving=False, text=line)
    params = ProcessParams(run_id="bench", profile=load_profile("research"), keyring=KeyRing(os.urandom(32)),
                           staging=str(work / "staging"), pixel_hook=PixelStage(PixelConfig()))
    _process_blob(params, "0" * 64, str(small))
    before = _peak_mb()
    t0 = time.perf_counter()
    out = _process_blob(params, "1" * 64, str(big))
    size = big.stat().st_size
    return {"file_mb": round(size / 1e6, 1), "text": text, "outcome": out[0]["outcome"],
            "redacted_regions": out[0].get("redacted_regions"), "seconds": round(time.perf_counter() - t0, 1),
            "peak_rss_mb_warm": round(before), "peak_rss_mb": round(_peak_mb()),
            "growth_over_file": round((_peak_mb() - before) * 1e6 / size, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--text", action="store_true", help="burn a line in (the redaction path)")
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deid-memtask-") as tmp:
        res = run(Path(tmp), args.mb, args.text)
    text = json.dumps(res, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    return 0 if res["outcome"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
