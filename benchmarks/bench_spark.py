"""Where the time of a pipeline run goes: instances/s on local[1] and local[2], per-stage seconds, and a
fitted fixed + per-instance cost, over scale exports of the sizes asked for, side by side in one run.

    python benchmarks/bench_spark.py [--sizes 1000,5000] [--masters local[1],local[2]] [--pixels]
                                     [--no-gate] [--baseline DIR] [--workdir DIR] [--engine-files 1000]

* The export of each size is made by ``scripts/make_export.py`` (seeded; kept in ``--workdir`` and
  reused when it is there already).
* Each run is ``deid run``'s work (ingest, de-identify, quality gate, release, then the run report)
  in a fresh process (its own JVM) on its own zones, under ``flock /tmp/spark.lock`` (one Spark at a
  time on a shared machine); the JVM start is timed apart ("spark start") and left out of the run.
* Per-stage seconds come from the run report's ``timings.json`` (:mod:`deid.pipeline.timing`); the
  Spark event log of each run is enabled (``spark.eventLog.dir`` in the run's PHI zone,
  ``<raw>/reports/spark-events``) and kept under ``--workdir/eventlogs``.
* ``--baseline DIR``: a checkout of other code (e.g. ``git worktree add /tmp/base <rev>``) run side
  by side with this one (``before``/``after``), same exports, interleaved, for before/after ratios.
* The header engine alone (one process, one thread; read, de-identify, write) on the first
  ``--engine-files`` files of the largest export.
* Pixels off by default (headers only); the gate on unless ``--no-gate``. The gate's second OCR of
  the staged frames runs with ``--pixels`` (or ``--gate-ocr``): in a headers-only run every image is
  UNVERIFIED, which the gate refuses anyway, and that OCR would be a per-image cost of seconds.
* Spark jobs per run are counted from the run's event log (``spark_jobs``), with per stage the seconds
  inside jobs and the driver's gaps between them (``spark_job_seconds_by_stage``);
  ``--timeline EVENTLOG`` prints every job of one kept event log (stage, start, duration, gap, tasks).

Writes benchmarks/results/scale.json and scale.md (the "Scale" section of RESULTS.md), and
spark.json (the largest size's runs of this code, read by run_all.py); ``--results DIR`` writes them
elsewhere, so that a scratch run leaves the committed figures alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_KEY = "5f0123456789abcdef0123456789abcdef0123456789abcdefa1b2c3d4e5f60718"


def make_export(root: Path, n: int, seed: int = 11) -> list[Path]:
    """The scale export of ``n`` instances (made once per workdir; see scripts/make_export.py)."""
    manifest = root / "manifest.json"
    made = json.loads(manifest.read_text()) if manifest.is_file() else {}
    if not (made.get("n") == n and made.get("seed", seed) == seed):
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_export.py"), str(n), str(root),
                        "--seed", str(seed)], check=True)
    return sorted(root.rglob("*.dcm"))


def header_only(files: list[Path]) -> float:
    """Files/s of the header engine alone, one process, one thread (read, de-identify, write)."""
    from deid.dicomio import read_dicom, write_dicom
    from deid.errors import InputError
    from deid.header.engine import HeaderEngine, PixelStatus
    from deid.header.profile import load_profile
    from deid.keys import load_keyring

    engine = HeaderEngine(load_profile("research"), load_keyring())
    blobs = [p.read_bytes() for p in files]
    t0 = time.perf_counter()
    for data in blobs:
        try:
            res = engine.deidentify(read_dicom(data))
            engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
            write_dicom(res.dataset)
        except InputError:
            continue
    return len(blobs) / (time.perf_counter() - t0)


def spark_jobs(events: Path) -> int:
    """Spark jobs of the run's application (its uncompressed event log, a file or a rolling folder)."""
    return sum(jobs_by_stage(events).values())


def jobs_by_stage(events: Path) -> dict[str, int]:
    """Spark jobs per pipeline stage (the job description :mod:`deid.pipeline.timing` sets; "-" for jobs
    outside a timed stage, e.g. the run report's, or every job of code that sets none)."""
    files = sorted(p for p in events.rglob("*") if p.is_file() and not p.name.startswith(("appstatus", ".")))
    out: dict[str, int] = {}
    for f in files:
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith('{"Event":"SparkListenerJobStart"'):
                props = json.loads(line).get("Properties") or {}
                stage = str(props.get("spark.job.description") or "-").removeprefix("deid: ")
                out[stage] = out.get(stage, 0) + 1
    return out


def _events(events: Path) -> Iterator[dict[str, Any]]:
    files = sorted(p for p in events.rglob("*") if p.is_file() and not p.name.startswith(("appstatus", ".")))
    if events.is_file():
        files = [events]
    for f in files:
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith('{"Event":"SparkListener'):
                yield json.loads(line)


def job_timeline(events: Path) -> list[dict[str, Any]]:
    """Every Spark job of the run's event log, in order: its stage (job description), seconds from the
    application's start, duration, the driver's idle gap before it (planning, Python, commits), tasks,
    and the call site. Stage names and call sites only: no data values."""
    jobs: dict[int, dict[str, Any]] = {}
    app_start = None
    for e in _events(events):
        kind = e["Event"]
        if kind == "SparkListenerApplicationStart":
            app_start = e["Timestamp"]
        elif kind == "SparkListenerJobStart":
            props = e.get("Properties") or {}
            infos = e.get("Stage Infos") or []
            jobs[e["Job ID"]] = {"job": e["Job ID"], "start_ms": e["Submission Time"],
                                 "stage": str(props.get("spark.job.description") or "-").removeprefix("deid: "),
                                 "tasks": sum(int(s.get("Number of Tasks", 0)) for s in infos),
                                 "site": str(infos[-1].get("Stage Name", "")) if infos else ""}
        elif kind == "SparkListenerJobEnd" and e["Job ID"] in jobs:
            jobs[e["Job ID"]]["end_ms"] = e["Completion Time"]
    out, prev = [], app_start
    for j in sorted(jobs.values(), key=lambda d: d["start_ms"]):
        end = j.get("end_ms", j["start_ms"])
        out.append({"job": j["job"], "stage": j["stage"], "at_s": (j["start_ms"] - (app_start or j["start_ms"])) / 1000,
                    "seconds": (end - j["start_ms"]) / 1000,
                    "gap_s": max(0.0, (j["start_ms"] - prev) / 1000) if prev is not None else 0.0,
                    "tasks": j["tasks"], "site": j["site"]})
        prev = max(prev or 0, end)
    return out


def timeline_by_stage(timeline: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per stage: jobs, seconds inside jobs, and the driver's gaps between them."""
    out: dict[str, dict[str, float]] = {}
    for j in timeline:
        d = out.setdefault(j["stage"], {"jobs": 0, "job_s": 0.0, "gap_s": 0.0})
        d["jobs"] += 1
        d["job_s"] += j["seconds"]
        d["gap_s"] += j["gap_s"]
    return out


def print_timeline(events: Path) -> None:
    """``--timeline EVENTLOG``: the job list and the per-stage sums of one run's event log."""
    tl = job_timeline(events)
    for j in tl:
        print(f"{j['job']:4d} +{j['at_s']:7.1f}s gap {j['gap_s']:5.1f} job {j['seconds']:6.2f}s "
              f"tasks {j['tasks']:3d}  {j['stage'][:34]:34s} {j['site'][:60]}")
    print(f"{'stage':36s} {'jobs':>5s} {'in jobs s':>10s} {'gaps s':>8s}")
    for stage, d in timeline_by_stage(tl).items():
        print(f"{stage[:36]:36s} {int(d['jobs']):5d} {d['job_s']:10.1f} {d['gap_s']:8.1f}")


_WORKER_MODULES = (b"pyspark.daemon", b"pyspark.worker", b"deid.spark_daemon")


def tree_cpu(root: int | None = None) -> tuple[float, int, dict[str, float]]:
    """(CPU seconds, user + system, of a process and every live descendant, with the reaped children
    they waited for; how many of them are Python workers; the seconds by kind: ``driver`` (Python),
    ``jvm``, ``workers`` (the Python daemon and workers)). On a shared machine CPU seconds are the
    figure load does not inflate. Linux ``/proc`` only; (0.0, 0, {}) elsewhere."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    todo, seen, workers = [root or os.getpid()], set(), 0
    kinds: dict[str, float] = {}
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        worker = any(a in _WORKER_MODULES for a in cmd.split(b"\0"))  # python -m <module>; forks inherit it
        kind = "workers" if worker else "jvm" if b"java" in cmd.split(b"\0")[0] else "driver"
        ticks = sum(int(x) for x in stat[stat.rfind(")") + 2:].split()[11:15])  # utime stime cutime cstime
        kinds[kind] = kinds.get(kind, 0.0) + ticks / tick
        workers += worker
        for task in tasks:
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return sum(kinds.values()), workers, kinds


def jvm_threads(root: int | None = None) -> dict[str, float]:
    """CPU seconds of the JVM's threads (children of this process) by thread name with digits dropped
    (JIT compilers, GC, task threads, ...): where the JVM's own CPU goes. Linux only."""
    import re

    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out: dict[str, float] = {}
    for task in Path(f"/proc/{root or os.getpid()}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"java" not in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0]:
                continue
            for t in Path(f"/proc/{child}/task").iterdir():
                try:
                    stat = (t / "stat").read_text()
                except OSError:
                    continue
                name = re.sub(r"[0-9#-]+", "", stat[stat.index("(") + 1:stat.rfind(")")]).strip()
                ticks = sum(int(x) for x in stat[stat.rfind(")") + 2:].split()[11:13])
                out[name] = out.get(name, 0.0) + ticks / tick
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def cpu_stage_times() -> Any:
    """A :class:`deid.pipeline.timing.StageTimes` that also keeps each stage's CPU seconds of the whole
    process tree (``cpu``) and the most Python worker processes seen at a stage's end (``workers``)."""
    from contextlib import contextmanager

    from deid.pipeline.timing import StageTimes

    class CpuStageTimes(StageTimes):
        cpu: dict[str, float]
        cpu_by_kind: dict[str, dict[str, float]]
        workers: int

        @contextmanager
        def stage(self, name: str) -> Iterator[None]:
            c0, _, k0 = tree_cpu()
            try:
                with super().stage(name):
                    yield
            finally:
                c1, w, k1 = tree_cpu()
                self.cpu[name] = self.cpu.get(name, 0.0) + c1 - c0
                by = self.cpu_by_kind.setdefault(name, {})
                for kind in k1:
                    by[kind] = by.get(kind, 0.0) + k1[kind] - k0.get(kind, 0.0)
                self.workers = max(self.workers, w)

    t = CpuStageTimes()
    t.cpu, t.cpu_by_kind, t.workers = {}, {}, 0
    return t


def single(master: str, export: Path, work: Path, pixels: bool, gate: bool, gate_ocr: bool,
           extra_conf: dict[str, str] | None = None) -> dict[str, Any]:
    """One run of the pipeline (this process's ``deid``), timed; the run report's stage timings.

    ``gate_ocr``: the gate's second OCR of the staged frames (quality.verification.ocr). A headers-only
    run leaves every image UNVERIFIED, which the gate refuses anyway; its OCR check there is a
    per-image cost (seconds per frame on CPU), measured apart from the pipeline's own."""
    from deid.config import (
        DeidConfig,
        OcrCheckConfig,
        PixelConfig,
        QualityConfig,
        SparkConfig,
        VerificationConfig,
        ZonesConfig,
    )
    from deid.pipeline.runner import PipelineRun
    from deid.report import build_report
    from deid.spark_session import get_spark

    raw = work / "raw"
    events = raw / "reports" / "spark-events"
    events.mkdir(parents=True, exist_ok=True)
    conf = {"spark.eventLog.enabled": "true", "spark.eventLog.dir": events.as_uri(),
            "spark.eventLog.compress": "false", **(extra_conf or {})}
    quality = QualityConfig(enabled=gate, verification=VerificationConfig(ocr=OcrCheckConfig(enabled=gate_ocr)))
    cfg = DeidConfig(spark=SparkConfig(master=master, driver_memory="2g", conf=conf),
                     pixels=PixelConfig(enabled=pixels), quality=quality,
                     zones=ZonesConfig(input=str(export), output=str(work / "out"), raw=str(raw),
                                       crosswalk=str(work / "crosswalk")))
    load_before = os.getloadavg()[0]
    cpu0 = tree_cpu()[0]
    t0 = time.perf_counter()
    spark = get_spark(cfg.spark)
    spark.range(1).count()  # JVM start, outside the run's timing
    started = time.perf_counter() - t0
    cpu1 = tree_cpu()[0]
    t0 = time.perf_counter()
    times = cpu_stage_times()
    run = PipelineRun(spark, cfg, times=times)
    summary = run.run(do_ingest=True, do_deidentify=True)
    ran = time.perf_counter() - t0
    cpu2 = tree_cpu()[0]
    t0 = time.perf_counter()
    assert run.zones is not None
    build_report(run.tables, run.zones, run.run_id, keyring=run.keyring)
    reported = time.perf_counter() - t0
    cpu3 = tree_cpu()[0]
    times.cpu["report"] = cpu3 - cpu2
    timings = json.loads((work / "out" / "reports" / run.run_id / "timings.json").read_text())
    threads = jvm_threads()
    spark.stop()
    by_stage = jobs_by_stage(events)
    # the tasks of the de-identify stage's longest job (the processor's; the other reads the pending keys)
    tasks = max(((j["seconds"], j["tasks"]) for j in job_timeline(events) if j["stage"].startswith("de-identify")),
                default=(0.0, 0))[1]
    jobs = sum(by_stage.values())
    ing, d = summary.ingest, summary.deid
    seconds = ran + reported
    return {"master": master, "status": summary.status, "spark_start_s": started, "run_s": ran,
            "report_s": reported, "seconds": seconds, "instances": ing.n_listed if ing else 0,
            "ingested": ing.n_ingested if ing else 0, "quarantined_at_ingest": ing.n_quarantined if ing else 0,
            "deidentified": d.n_deidentified if d else 0, "quarantined": d.n_quarantined if d else 0,
            "instances_per_s": (ing.n_listed if ing else 0) / seconds,
            "stages": {**timings["stages"], "report": reported}, "event_log": timings["spark_event_log"],
            "spark_jobs": jobs, "spark_jobs_by_stage": by_stage,
            "spark_job_seconds_by_stage": timeline_by_stage(job_timeline(events)), "gate_ocr": gate_ocr, "load_avg": [load_before, os.getloadavg()[0]],
            "cpu_s": {"before spark": cpu0, "spark start": cpu1 - cpu0, "run+report": cpu3 - cpu1},
            "deidentify_tasks": tasks, "stage_cpu_s": times.cpu, "stage_cpu_by_kind": times.cpu_by_kind, "python_workers": times.workers,
            "jvm_threads_cpu_s": {k: round(v, 2) for k, v in threads.items() if v >= 0.05}}


def run_one(code: Path, master: str, export: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """A single run in a fresh process with ``code`` first on PYTHONPATH, holding the Spark lock."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lock = [] if args.lock_held else ["flock", "/tmp/spark.lock"]  # --lock-held: the caller holds it
    cmd = [*lock, sys.executable, str(Path(__file__).resolve()), "--single", master,
           "--export", str(export), "--workdir", str(work)]
    cmd += ["--pixels"] if args.pixels else []
    cmd += ["--no-gate"] if args.no_gate else []
    cmd += ["--gate-ocr"] if gate_ocr(args) else []
    cmd += [f"--conf={c}" for c in args.conf or []]
    env = {**os.environ, "PYTHONPATH": str(code), "DEID_KEY": os.environ.get("DEID_KEY", DEFAULT_KEY)}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=code)
    if res.returncode != 0:
        sys.exit(f"{master} run failed:\n" + "\n".join(res.stderr.splitlines()[-60:]))
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    log = out.get("event_log")
    if log:  # keep the event log; the zones (GBs at scale) go
        keep = work.parent / "eventlogs"
        keep.mkdir(exist_ok=True)
        for f in (work / "raw" / "reports" / "spark-events").iterdir():  # Spark 4 logs are folders
            (shutil.copytree if f.is_dir() else shutil.copy)(f, keep / f"{work.name}-{f.name}")
        out["event_log_kept"] = str(keep / f"{work.name}-{Path(log).name}")
    shutil.rmtree(work, ignore_errors=True)
    return out


def gate_ocr(args: argparse.Namespace) -> bool:
    """The gate's OCR check: on with the pixel stage (or ``--gate-ocr``), off for headers-only runs."""
    return bool(args.pixels or args.gate_ocr)


def fit(points: list[tuple[int, float]]) -> dict[str, float] | None:
    """Least-squares ``seconds = fixed + per_instance * n`` over two or more sizes."""
    if len({n for n, _ in points}) < 2:
        return None
    k = len(points)
    mx = sum(n for n, _ in points) / k
    my = sum(s for _, s in points) / k
    slope = sum((n - mx) * (s - my) for n, s in points) / sum((n - mx) ** 2 for n, _ in points)
    fixed = my - slope * mx
    return {"fixed_s": fixed, "per_instance_ms": slope * 1000,
            "asymptotic_instances_per_s": (1 / slope) if slope > 0 else float("inf")}


def markdown(doc: dict[str, Any]) -> str:
    runs = doc["runs"]
    lines = ["## Scale", "", f"`{doc['command']}` - {doc['when']}; machine: {doc['machine']}. "
             "Figures from one run of the benchmark; the machine was shared (other helpers' OCR and Spark "
             "jobs), so absolute values are noisy: read the ratios between columns of this one run.", "",
             f"Header engine alone (1 core, first {doc['engine_files']} files): "
             f"{doc['engine_files_per_s']:.1f} files/s.", "",
             f"Data: `scripts/make_export.py N --seed {doc.get('seed', 11)}` (synthetic, made not stored).", "",
             "| code | master | instances | de-identified | quarantined | spark start s | run s | instances/s "
             "| vs engine | CPU s spark start | CPU s run | JIT CPU s | Spark jobs | de-identify tasks "
             "| load 1-min (start/end) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        cpu = r.get("cpu_s") or {}
        jit = (r.get("jvm_threads_cpu_s") or {}).get("C CompilerThre")
        lines.append(f"| {r['code']} | {r['master']} | {r['instances']} | {r['deidentified']} | "
                     f"{r['quarantined_at_ingest'] + r['quarantined']} | {r.get('spark_start_s', 0):.1f} | "
                     f"{r['seconds']:.1f} | "
                     f"{r['instances_per_s']:.2f} | {r['instances_per_s'] / doc['engine_files_per_s']:.0%} | "
                     f"{cpu.get('spark start', 0):.1f} | {cpu.get('run+report', 0):.1f} | "
                     + (f"{jit:.1f}" if jit is not None else "?") + f" | {r.get('spark_jobs', '?')} | "
                     f"{r.get('deidentify_tasks', '?')} | "
                     + ("/".join(f"{x:.1f}" for x in r["load_avg"]) if "load_avg" in r else "?") + " |")
    lines += ["", "Ratios (same run): " + "; ".join(f"{k}: {v:.2f}x" for k, v in doc["ratios"].items()), ""]
    stages: list[str] = []
    for r in runs:
        stages += [s for s in r["stages"] if s not in stages]
    head = [f"{r['code']} {r['master']} n={r['instances']}" for r in runs]
    lines += ["Seconds per stage:", "", "| stage | " + " | ".join(head) + " |",
              "| --- |" + " --- |" * len(runs)]
    for s in stages:
        lines.append(f"| {s} | " + " | ".join(f"{r['stages'].get(s, 0):.1f}" for r in runs) + " |")
    if all("stage_cpu_s" in r for r in runs):
        lines += ["", "CPU seconds per stage (driver + JVM + Python workers; the figure load does not inflate):", "",
                  "| stage | " + " | ".join(head) + " |", "| --- |" + " --- |" * len(runs)]
        for s in stages:
            lines.append(f"| {s} | " + " | ".join(f"{r['stage_cpu_s'].get(s, 0):.1f}" for r in runs) + " |")
    if doc["fits"]:
        lines += ["", "Fitted cost (seconds = fixed + per-instance x n, least squares over the sizes):", "",
                  "| code | master (CPU: CPU seconds) | fixed s | per instance ms | asymptotic instances/s |", "| --- | --- | --- | --- | --- |"]
        for key, f in doc["fits"].items():
            code, master = key.split(" ", 1)
            lines.append(f"| {code} | {master} | {f['fixed_s']:.1f} | {f['per_instance_ms']:.1f} | "
                         f"{f['asymptotic_instances_per_s']:.1f} |")
    return "\n".join(lines) + "\n"


def ratios(runs: list[dict[str, Any]], engine: float) -> dict[str, float]:
    by = {(r["code"], r["master"], r["instances"]): r for r in runs}
    out: dict[str, float] = {}
    for (code, master, n), r in by.items():
        if master == "local[2]" and (code, "local[1]", n) in by:
            out[f"{code} n={n} local[2]/local[1]"] = r["instances_per_s"] / by[(code, "local[1]", n)]["instances_per_s"]
        if code == "after" and ("before", master, n) in by:
            out[f"n={n} {master} after/before"] = r["instances_per_s"] / by[("before", master, n)]["instances_per_s"]
        if master == "local[1]":
            out[f"{code} n={n} local[1] / engine alone"] = r["instances_per_s"] / engine
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1000")
    p.add_argument("--masters", default="local[1],local[2]")
    p.add_argument("--workdir")
    p.add_argument("--pixels", action="store_true")
    p.add_argument("--no-gate", action="store_true")
    p.add_argument("--gate-ocr", action="store_true",
                   help="the gate's OCR check in a headers-only run too (off: see single())")
    p.add_argument("--baseline", type=Path, help="a checkout of the code to compare with (before)")
    p.add_argument("--engine-files", type=int, default=1000)
    p.add_argument("--seed", type=int, default=11, help="the exports' seed (scripts/make_export.py --seed)")
    p.add_argument("--lock-held", action="store_true", help="the caller holds /tmp/spark.lock for the whole run")
    p.add_argument("--timeline", type=Path, help="print the Spark jobs of one run's event log and stop")
    p.add_argument("--results", type=Path, default=HERE / "results",
                   help="folder for scale.json, scale.md and spark.json (default: the committed "
                        "benchmarks/results; give a scratch folder for runs that are not the reported ones)")
    p.add_argument("--conf", action="append", metavar="KEY=VALUE",
                   help="a Spark setting for every run (both codes), e.g. spark.driver.extraJavaOptions=...")
    p.add_argument("--single", help=argparse.SUPPRESS)
    p.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.timeline:
        print_timeline(args.timeline)
        return
    work = Path(args.workdir or tempfile.mkdtemp(prefix="deid-scale-"))
    if args.single:
        warnings.simplefilter("ignore")
        conf = dict(c.split("=", 1) for c in args.conf or [])
        print(json.dumps(single(args.single, args.export, work, args.pixels, not args.no_gate, gate_ocr(args), conf)))
        return
    warnings.simplefilter("ignore")
    os.environ.setdefault("DEID_KEY", DEFAULT_KEY)
    sizes = [int(s) for s in args.sizes.split(",")]
    masters = args.masters.split(",")
    exports = {n: (work / f"export-{n}", make_export(work / f"export-{n}", n, args.seed)) for n in sizes}
    engine_files = exports[max(sizes)][1][:args.engine_files]
    engine = header_only(engine_files)
    codes = ([("before", args.baseline.resolve())] if args.baseline else []) + [("after" if args.baseline
                                                                                  else "this", ROOT)]
    runs: list[dict[str, Any]] = []
    for n in sizes:
        for master in masters:
            for label, code in codes:
                r = run_one(code, master, exports[n][0], work / f"{label}-{master[6:-1]}-{n}", args)
                r["code"] = label
                print(f"{label} {master} n={n}: {r['instances_per_s']:.2f} instances/s ({r['seconds']:.1f} s)",
                      flush=True)
                runs.append(r)
                write_results(args, sizes, codes, masters, runs, engine, len(engine_files), len(exports[max(sizes)][1]))
    print((args.results / "scale.md").read_text())


def write_results(args: argparse.Namespace, sizes: list[int], codes: list[tuple[str, Path]], masters: list[str],
                  runs: list[dict[str, Any]], engine: float, n_engine: int, n_files: int) -> None:
    """scale.json, scale.md and spark.json from the runs so far (written after every run)."""
    fits = {}
    for label, _ in codes:
        for master in masters:
            f = fit([(r["instances"], r["seconds"]) for r in runs if r["code"] == label and r["master"] == master])
            if f:
                fits[f"{label} {master}"] = f
            f = fit([(r["instances"], r["cpu_s"]["run+report"]) for r in runs
                     if r["code"] == label and r["master"] == master and "cpu_s" in r])
            if f:
                fits[f"{label} {master} CPU"] = f
    doc = {"command": "python benchmarks/bench_spark.py " + " ".join(sys.argv[1:]),
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{os.cpu_count()} cores (shared), load avg at end {os.getloadavg()[0]:.1f}",
           "engine_files": n_engine, "engine_files_per_s": engine, "sizes": sizes, "seed": args.seed,
           "pixels": args.pixels, "gate": not args.no_gate, "runs": runs, "fits": fits,
           "ratios": ratios(runs, engine)}
    out = args.results
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(doc, indent=2))
    (out / "scale.md").write_text(markdown(doc))
    largest = max(r["instances"] for r in runs)
    mine = [r for r in runs if r["code"] != "before" and r["instances"] == largest]
    (out / "spark.json").write_text(json.dumps({"files": n_files, "header_only_files_per_s": engine, "runs": mine,
                                                "pixels": args.pixels}, indent=2))


if __name__ == "__main__":
    main()
