"""Pipeline throughput on local Spark: ingest + de-identify, local[1] vs local[2] (scaling), and the
header stage alone vs the Spark job (overhead), side by side in one run.

    python benchmarks/bench_spark.py [--copies 6] [--pixels] [--workdir DIR]

Every copy of a packaged sample gets its own Study/Series/SOP Instance UIDs (so none is a duplicate
instance); each Spark run starts in a fresh process (its own JVM) on its own zones. The pixel stage
is off unless ``--pixels`` is given, so the overhead ratio compares like with like (header work);
the quality gate is off (counts gate only): it is measured by the run report's stage timings.
Writes benchmarks/results/spark.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_export(root: Path, copies: int) -> list[Path]:
    """Readable samples x copies, each copy with new UIDs (distinct instances, distinct sha256)."""
    from deid.dicomio import read_dicom, write_dicom
    from deid.errors import InputError
    from deid.samples import deid_data_files, pydicom_files

    out: list[Path] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, src in enumerate(pydicom_files() + deid_data_files()):
            data = src.read_bytes()
            try:
                ds = read_dicom(data)
                write_dicom(ds)
            except InputError:
                continue
            for c in range(copies):
                ds = read_dicom(data)
                for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
                    if kw in ds:
                        ds[kw].value = f"{ds[kw].value}.{c + 1}"[:64]
                dest = root / f"c{c:02d}" / f"{i:04d}.dcm"
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    dest.write_bytes(write_dicom(ds))
                except InputError:
                    continue
                out.append(dest)
    return out


def header_only(files: list[Path]) -> float:
    """Files/s of the header engine alone, one process, one thread (read, de-identify, write)."""
    from deid.dicomio import read_dicom, write_dicom
    from deid.header.engine import HeaderEngine, PixelStatus
    from deid.header.profile import load_profile
    from deid.keys import load_keyring

    engine = HeaderEngine(load_profile("research"), load_keyring())
    blobs = [p.read_bytes() for p in files]
    t0 = time.perf_counter()
    for data in blobs:
        res = engine.deidentify(read_dicom(data))
        engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
        write_dicom(res.dataset)
    return len(blobs) / (time.perf_counter() - t0)


def single(master: str, export: Path, work: Path, pixels: bool) -> dict[str, float]:
    from deid.config import DeidConfig, PixelConfig, QualityConfig, SparkConfig, ZonesConfig
    from deid.pipeline.runner import PipelineRun
    from deid.spark_session import get_spark

    cfg = DeidConfig(spark=SparkConfig(master=master, shuffle_partitions=4, driver_memory="3g"), pixels=PixelConfig(enabled=pixels),
                     quality=QualityConfig(enabled=False),  # ingest + de-identify only (the gate: report)
                     zones=ZonesConfig(input=str(export), output=str(work / "out"), raw=str(work / "raw"),
                                       crosswalk=str(work / "crosswalk")))
    spark = get_spark(cfg.spark)
    spark.range(1).count()  # JVM warm-up outside the timing
    t0 = time.perf_counter()
    summary = PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True)
    elapsed = time.perf_counter() - t0
    spark.stop()
    d = summary.deid
    n = d.n_inputs if d else 0
    return {"master": master, "seconds": elapsed, "instances": n,
            "deidentified": d.n_deidentified if d else 0, "instances_per_s": n / elapsed}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--copies", type=int, default=6)
    p.add_argument("--workdir")
    p.add_argument("--pixels", action="store_true")
    p.add_argument("--single", help=argparse.SUPPRESS)
    args = p.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="deid-bench-"))
    if args.single:
        print(json.dumps(single(args.single, work / "export", work / args.single.replace("[", "").replace(
            "]", ""), args.pixels)))
        return
    warnings.simplefilter("ignore")
    os.environ.setdefault("DEID_KEY", "5f0123456789abcdef0123456789abcdef0123456789abcdefa1b2c3d4e5f60718")
    files = make_export(work / "export", args.copies)
    base = header_only(files)
    results = []
    for master in ("local[1]", "local[2]"):
        cmd = [sys.executable, __file__, "--single", master, "--workdir", str(work)]
        if args.pixels:
            cmd.append("--pixels")
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"{master} run failed:\n" + "\n".join(res.stderr.splitlines()[-80:]))
        results.append(json.loads(res.stdout.strip().splitlines()[-1]))
    one, two = results
    summary = {"files": len(files), "header_only_files_per_s": base, "runs": results,
               "scaling_local2_vs_local1": two["instances_per_s"] / one["instances_per_s"],
               "overhead_header_vs_spark_local1": base / one["instances_per_s"], "pixels": args.pixels}
    print(f"{len(files)} instances; header engine alone: {base:.1f} files/s (1 core)")
    for r in results:
        print(f"  {r['master']}: {r['instances_per_s']:.1f} instances/s ({r['seconds']:.1f} s, "
              f"{r['deidentified']} de-identified)")
    print(f"scaling local[2]/local[1]: {summary['scaling_local2_vs_local1']:.2f}x; "
          f"overhead header-alone/Spark local[1]: {summary['overhead_header_vs_spark_local1']:.2f}x")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "spark.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
