"""Worker warm-up of the free-text scorer, numpy encoder vs torch/transformers (issue #11).

    python benchmarks/bench_encoder_warmup.py [--rounds 3] [--texts 500]

* **Warm-up**: a fresh Python process (as a new Spark Python worker) imports deid, loads the scorer
  and scores one text; wall seconds (measured by the parent, process start to exit), CPU seconds
  (user + system) and peak RSS of that process. The two paths alternate, ``--rounds`` times each.
* **Throughput**: in one warm process per path, ~``--texts`` synthetic texts (the training
  generator, scripts/freetext_data.py: a speed figure, nothing is tuned on it) scored with an empty
  cache by ``score_batch`` (the engine's batched path) and one text at a time (``word_probs``).

One intra-op thread (``OMP_NUM_THREADS=1``, as under Spark with ``spark.task.cpus`` 1). Prints a
table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WARM = """
import resource, sys, time
t0 = time.process_time()
from deid.header.phi_text import load_scorer
probs = load_scorer().word_probs(["Reviewed with Dr Quentin Albright at Northgate"])[0]
ru = resource.getrusage(resource.RUSAGE_SELF)
print(ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, int("torch" in sys.modules), len(probs))
"""

SPEED = """
import json, sys, time
sys.path.insert(0, {scripts!r})
import freetext_data
from deid.header.phi_text import load_scorer
texts = [s.text for s in freetext_data.make("train", {half}, {half}, seed=4444)]
scorer = load_scorer()
scorer.word_probs(["warm up"])
out = {{"texts": len(texts)}}
for name in ("score_batch", "one_by_one"):
    scorer.clear_cache()
    w, c = time.perf_counter(), time.process_time()
    if name == "score_batch":
        scorer.score_batch(texts)
    else:
        for t in texts:
            scorer.word_probs([t])
    out[name] = {{"wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c}}
print(json.dumps(out))
"""


def _env(backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DEID_ENCODER"}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT), PYTHONHASHSEED="0")
    if backend == "torch":
        env["DEID_ENCODER"] = "torch"
    return env


def warm(backend: str) -> dict[str, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", WARM], env=_env(backend), cwd=ROOT, capture_output=True,
                         text=True, check=True)
    wall = time.perf_counter() - start
    cpu, rss, torch_loaded, _ = out.stdout.split()
    return {"wall_s": wall, "cpu_s": float(cpu), "peak_rss_mb": float(rss), "torch_imported": int(torch_loaded)}


def speed(backend: str, n: int) -> dict[str, object]:
    code = SPEED.format(scripts=str(ROOT / "scripts"), half=max(1, n // 2))
    out = subprocess.run([sys.executable, "-c", code], env=_env(backend), cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--texts", type=int, default=500)
    args = ap.parse_args()
    paths = ("torch", "numpy")
    runs: dict[str, list[dict[str, float]]] = {p: [] for p in paths}
    for _ in range(args.rounds):
        for p in paths:
            runs[p].append(warm(p))
    speeds = {}
    for p in paths:
        speeds[p] = speed(p, args.texts)
    print(f"{'path':6} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12} torch  (median of {args.rounds}, alternating)")
    for p in paths:
        med = {k: statistics.median(r[k] for r in runs[p]) for k in runs[p][0]}
        print(f"{p:6} {med['wall_s']:8.2f} {med['cpu_s']:8.2f} {med['peak_rss_mb']:12.0f} "
              f"{'yes' if med['torch_imported'] else 'no'}")
    for p in paths:
        s = speeds[p]
        print(f"{p:6} {s['texts']} texts: score_batch {s['score_batch']['cpu_s']:.2f} cpu s "  # type: ignore[index]
              f"({s['score_batch']['wall_s']:.2f} wall), one by one {s['one_by_one']['cpu_s']:.2f} cpu s "  # type: ignore[index]
              f"({s['one_by_one']['wall_s']:.2f} wall)")  # type: ignore[index]
    print(json.dumps({"warm": runs, "speed": speeds}))


if __name__ == "__main__":
    main()
