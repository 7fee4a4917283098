"""Run every benchmark, one after the other, and write benchmarks/results/results.json + RESULTS.md.

    python benchmarks/run_all.py [--quick] [--only header,spark,ocr,memory]
                                 [--gpu-ocr-frames-per-s F --gpu-node-vcpus 8]

Each benchmark runs in its own process (its own JVM where it uses Spark):

* header: ``bench_header.py`` (files/s per core vs pydicom/deid and dicognito; results/header.json);
* spark: ``bench_spark.py --pixels`` (the whole pipeline, pixel stage on, local[1] and local[2];
  results/spark.json);
* ocr: ``bench_ocr.py`` (OCR frames/s on CPU, batch 1 vs batch N; multi-frame strategy savings);
* memory: ``bench_memory.py`` (peak RSS of ``deid run`` over a ~500 MB multi-frame cine).

End-to-end throughput: instances/hour of the whole pipeline on this machine (spark, local[2]). A
projection per GPU node needs a GPU OCR figure: pass the frames/s bench_ocr measured on a GPU node
with --gpu-ocr-frames-per-s; without it the projection is reported as not measured.
--quick: small sizes for a smoke check (minutes, not the figures to publish).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BENCHES = ("header", "spark", "ocr", "memory")


def _cmd(name: str, quick: bool) -> list[str]:
    py = [sys.executable]
    if name == "header":
        return [*py, str(HERE / "bench_header.py"), "--min-files", "60" if quick else "300"]
    if name == "spark":
        return [*py, str(HERE / "bench_spark.py"), "--pixels", "--sizes", "60" if quick else "1000"]
    if name == "ocr":
        return [*py, str(HERE / "bench_ocr.py"), "--frames", "12" if quick else "100"]
    return [*py, str(HERE / "bench_memory.py"), *(["--quick"] if quick else ["--mb", "500"]),
            "--json-out", str(RESULTS / "memory.json")]


def parse_ocr(stdout: str) -> dict[str, Any]:
    """bench_ocr.py's table: ``measure | value | detail`` lines."""
    rows: dict[str, Any] = {}
    for line in stdout.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[0] and parts[0] != "measure":
            rows[parts[0]] = {"value": parts[1], "detail": parts[2]}
    out: dict[str, Any] = {"rows": rows}
    fps = {int(m.group(1)): float(rows[k]["value"].split()[0])
           for k in rows if (m := re.match(r"OCR batch (\d+)$", k))}
    if fps:
        out["frames_per_s_by_batch"] = fps
        out["best_frames_per_s"] = max(fps.values())
    after = [float(rows[k]["value"].split()[0]) for k in rows if k.startswith("8-bit US cine: after")]
    if after:  # the current stage (rendering set) on the cine frames
        out["best_frames_per_s"] = after[0]
    return out


def _fresh_json(path: Path, since: float) -> Any:
    if path.is_file() and path.stat().st_mtime >= since:
        return json.loads(path.read_text())
    return None


def run_one(name: str, quick: bool, timeout: int) -> dict[str, Any]:
    started = time.time()
    env = dict(os.environ)
    if not env.get("DEID_KEY"):
        from deid.keys import new_master_key

        env["DEID_KEY"] = new_master_key()
    t0 = time.perf_counter()
    try:
        res = subprocess.run(_cmd(name, quick), capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout} s", "seconds": timeout}
    entry: dict[str, Any] = {"ok": res.returncode == 0, "exit_code": res.returncode,
                             "seconds": round(time.perf_counter() - t0, 1)}
    if res.returncode != 0:
        entry["error"] = (res.stderr.strip().splitlines() or ["(no output)"])[-1][:300]
        return entry
    if name == "ocr":
        entry["data"] = parse_ocr(res.stdout)
    else:
        data = _fresh_json(RESULTS / f"{name}.json", started)
        entry["data"] = data
        if data is None:
            entry.update(ok=False, error=f"results/{name}.json was not written")
    return entry


def end_to_end(results: dict[str, Any], gpu_fps: float | None, node_vcpus: int) -> dict[str, Any]:
    """Instances/hour on this machine and, with a measured GPU OCR figure, projected per GPU node."""
    spark = (results.get("spark") or {}).get("data") or {}
    runs = {r["master"]: r for r in spark.get("runs", [])}
    local2 = runs.get("local[2]")
    out: dict[str, Any] = {"this_machine_cores": os.cpu_count(), "gpu_ocr_measured": gpu_fps is not None}
    if not local2:
        out["note"] = "no end-to-end figure: the spark benchmark did not run"
        return out
    per_h = local2["instances_per_s"] * 3600
    out.update(instances_per_hour_this_machine=round(per_h), pixels=spark.get("pixels"),
               instances=local2["instances"])
    cpu_fps = ((results.get("ocr") or {}).get("data") or {}).get("best_frames_per_s")
    if gpu_fps is None or not cpu_fps:
        out["instances_per_hour_per_gpu_node"] = None
        out["note"] = ("no GPU OCR figure was measured in this run: no per-GPU-node projection "
                       "(run bench_ocr.py on a GPU node, then --gpu-ocr-frames-per-s)")
        return out
    # Model: every part of the pipeline scales with the node's cores except OCR, which scales with the
    # GPU/CPU OCR speed ratio; throughput follows the smaller of the two factors (a rough bound).
    cores = max(1, os.cpu_count() or 1)
    factor = min(node_vcpus / cores, gpu_fps / cpu_fps)
    out["instances_per_hour_per_gpu_node"] = round(per_h * factor)
    out["note"] = (f"projection = this machine's rate x min({node_vcpus}/{cores} cores, GPU/CPU OCR "
                   f"{gpu_fps:.1f}/{cpu_fps:.1f} frames/s) = x{factor:.2f}; a rough bound, not a measurement")
    return out


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "not measured"
    if isinstance(v, float):
        return f"{v:,.1f}{unit}"
    return f"{v:,}{unit}" if isinstance(v, int) else f"{v}{unit}"


def markdown(doc: dict[str, Any]) -> str:
    r = doc["benchmarks"]
    lines = [f"# Benchmark results ({'quick smoke run' if doc['quick'] else 'full run'})", "",
             f"Machine: {doc['machine']['cores']} cores, {doc['machine']['platform']}, "
             f"Python {doc['machine']['python']}; run {doc['finished_at']}.", "",
             "| benchmark | measure | value |", "| --- | --- | --- |"]
    for name in BENCHES:
        e = r.get(name)
        if e is None:
            continue
        if not e.get("ok"):
            lines.append(f"| {name} | failed | {e.get('error', '')} |")
            continue
        d = e["data"]
        if name == "header":
            for t in d:
                lines.append(f"| header | {t['tool']} files/s (1 core) | {_fmt(t['files_per_s'])} |")
        elif name == "spark":
            for run in d.get("runs", []):
                lines.append(f"| pipeline (pixels {'on' if d.get('pixels') else 'off'}) | {run['master']} "
                             f"instances/s | {_fmt(run['instances_per_s'])} |")
            lines.append(f"| pipeline | header engine alone files/s | {_fmt(d.get('header_only_files_per_s'))} |")
        elif name == "ocr":
            for k, v in d["rows"].items():
                lines.append(f"| ocr | {k} | {v['value']} ({v['detail']}) |")
        elif name == "memory":
            lines.append(f"| memory | peak RSS, {d['file_mb']} MB {d['modality']} cine "
                         f"({d['frames']} frames, pixels {'on' if d['pixels'] else 'off'}) "
                         f"| {_fmt(d['peak_rss_mb'], ' MB')} ({d['peak_over_file_size']}x file) |")
    e2e = doc["end_to_end"]
    lines.append(f"| end to end | instances/hour, this machine | {_fmt(e2e.get('instances_per_hour_this_machine'))} |")
    lines.append(f"| end to end | instances/hour per GPU node | {_fmt(e2e.get('instances_per_hour_per_gpu_node'))} |")
    if e2e.get("note"):
        lines += ["", f"Note: {e2e['note']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=",".join(BENCHES))
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per benchmark")
    ap.add_argument("--gpu-ocr-frames-per-s", type=float)
    ap.add_argument("--gpu-node-vcpus", type=int, default=8, help="e.g. g5.2xlarge: 8")
    args = ap.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    RESULTS.mkdir(exist_ok=True)
    results: dict[str, Any] = {}
    for name in chosen:
        print(f"[run_all] {name} ...", flush=True)
        results[name] = run_one(name, args.quick, args.timeout)
        print(f"[run_all] {name}: {'ok' if results[name]['ok'] else 'FAILED'} "
              f"({results[name].get('seconds')} s)", flush=True)
    doc = {"quick": args.quick, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                       "python": platform.python_version()},
           "benchmarks": results,
           "end_to_end": end_to_end(results, args.gpu_ocr_frames_per_s, args.gpu_node_vcpus)}
    (RESULTS / "results.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = markdown(doc)
    (RESULTS / "RESULTS.md").write_text(md)
    print(md)
    return 0 if all(e["ok"] for e in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
