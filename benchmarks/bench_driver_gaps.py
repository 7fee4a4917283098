"""Where the driver waits between Spark jobs: one run of ``bench_spark.single`` under a wall-clock
stack sampler of the driver's main thread (py-spy is not installed; issue #11 fixed cost).

    flock /tmp/spark.lock python benchmarks/bench_driver_gaps.py run MASTER EXPORT WORKDIR OUT.json
    python benchmarks/bench_driver_gaps.py show OUT.json [--depth 2] [--top 45]

``run`` samples the main thread every 5 ms (a thread of its own; the innermost frame and the deid
frames of the stack) and keeps the run's result (stage seconds, event log location). ``show`` splits
the samples of the run into those inside a Spark job (the event log's job start to end) and those in
the gaps between jobs, and sums the gaps by the innermost ``--depth`` deid frames, marked ``py4j``
when the driver waits on the JVM (planning, file listings, commits) and ``py`` for Python's own time.
Sample times are wall-clock: read them beside the load average the result records.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_PY4J = ("socket", "clientserver", "java_gateway")


def _sample(main: int, t0: float, out: list[tuple[float, str, list[str]]], stop: threading.Event) -> None:
    while not stop.is_set():
        frame = sys._current_frames().get(main)
        leaf: str | None = None
        stack: list[str] = []
        while frame is not None:
            name = frame.f_code.co_filename
            if leaf is None:
                leaf = f"{os.path.basename(name)}:{frame.f_code.co_name}"
            if "/deid/" in name or "bench_spark" in name:
                where = name.split("/deid/")[-1] if "/deid/" in name else "bench"
                stack.append(f"{where}:{frame.f_lineno}:{frame.f_code.co_name}")
            frame = frame.f_back
        out.append((time.perf_counter() - t0, leaf or "?", stack[::-1]))
        time.sleep(0.005)


def run(master: str, export: Path, work: Path, out: Path) -> None:
    sys.path.insert(0, str(HERE))
    import bench_spark

    samples: list[tuple[float, str, list[str]]] = []
    stop = threading.Event()
    t0 = time.perf_counter()
    main = threading.main_thread().ident
    assert main is not None
    thread = threading.Thread(target=_sample, args=(main, t0, samples, stop), daemon=True)
    thread.start()
    warnings.simplefilter("ignore")
    os.environ.setdefault("DEID_KEY", bench_spark.DEFAULT_KEY)
    result = bench_spark.single(master, export, work, False, True, False, {})
    stop.set()
    thread.join()
    out.write_text(json.dumps({"result": result, "samples": samples,
                               "t0_epoch": time.time() - (time.perf_counter() - t0)}))
    print(json.dumps({k: result[k] for k in ("seconds", "run_s", "spark_jobs", "load_avg")}))


def _jobs(event_log: str, t0: float) -> list[tuple[float, float]]:
    """(start, end) of every Spark job, seconds after the sampler's start."""
    log = Path(event_log.removeprefix("file://").removeprefix("file:"))
    files = sorted(f for f in log.iterdir() if not f.name.startswith(".")) if log.is_dir() else [log]
    jobs: dict[int, list[float]] = {}
    for f in files:
        for line in filter(None, f.read_text().splitlines()):
            e = json.loads(line)
            if e["Event"] == "SparkListenerJobStart":
                jobs[e["Job ID"]] = [e["Submission Time"] / 1000 - t0, float("inf")]
            elif e["Event"] == "SparkListenerJobEnd":
                jobs[e["Job ID"]][1] = e["Completion Time"] / 1000 - t0
    return sorted((a, b) for a, b in jobs.values())


def show(path: Path, depth: int, top: int) -> None:
    doc: dict[str, Any] = json.loads(path.read_text())
    res, samples = doc["result"], doc["samples"]
    jobs = _jobs(res["event_log"], doc["t0_epoch"])
    # the run: from PipelineRun.run to the report (imports and the JVM start left out)
    inside = [s for s in samples if any(":run" in f and "runner.py" in f or "report/" in f for f in s[2])]
    start, end = (inside[0][0], inside[-1][0]) if inside else (0.0, 0.0)
    gaps: dict[tuple[str, str], float] = collections.defaultdict(float)
    in_jobs: dict[str, float] = collections.defaultdict(float)
    total: dict[str, float] = collections.defaultdict(float)
    for i, (t, leaf, stack) in enumerate(samples):
        if not start <= t <= end:
            continue
        weight = (samples[i + 1][0] - t) if i + 1 < len(samples) else 0.005
        key = " > ".join(stack[-depth:]) if stack else "?"
        if any(a <= t <= b for a, b in jobs):
            in_jobs[key] += weight
            total["in jobs"] += weight
        else:
            kind = "py4j" if any(p in leaf for p in _PY4J) else "py"
            gaps[(key, kind)] += weight
            total[f"gap {kind}"] += weight
    print(f"run window {end - start:.1f} s, {len(jobs)} jobs, load {res.get('load_avg')}: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in total.items()))
    for (key, kind), v in sorted(gaps.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{v:6.2f} {kind:4s} {key}")
    print("--- inside jobs")
    for key, v in sorted(in_jobs.items(), key=lambda kv: -kv[1])[:12]:
        print(f"{v:6.2f} {key}")


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("master")
    r.add_argument("export", type=Path)
    r.add_argument("workdir", type=Path)
    r.add_argument("out", type=Path)
    s = sub.add_parser("show")
    s.add_argument("out", type=Path)
    s.add_argument("--depth", type=int, default=2)
    s.add_argument("--top", type=int, default=45)
    a = p.parse_args()
    if a.cmd == "run":
        a.workdir.mkdir(parents=True, exist_ok=True)
        run(a.master, a.export, a.workdir, a.out)
    else:
        show(a.out, a.depth, a.top)


if __name__ == "__main__":
    main()
