"""Throughput of the local pipeline: ingest + de-identify N copies of the packaged sample files.

    DEID_KEY=$(deid keygen) python benchmarks/bench_spark.py --copies 5 [--workdir /tmp/deid-bench]

Prints files/s per stage. Each copy gets distinct bytes (a private tag is appended to the preamble
area) so deduplication by sha256 does not skip it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from deid.config import DeidConfig, SparkConfig, ZonesConfig
from deid.pipeline.runner import PipelineRun
from deid.samples import copy_samples
from deid.spark_session import get_spark


def make_export(root: Path, copies: int) -> int:
    base = root / "base"
    n = copy_samples(base)
    for c in range(copies):
        for src in base.rglob("*.dcm"):
            data = bytearray(src.read_bytes())
            if len(data) > 132 and data[128:132] == b"DICM":
                data[0:8] = c.to_bytes(8, "little")  # preamble bytes: same dataset, new sha256
            dest = root / "export" / f"c{c:03d}" / src.relative_to(base)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(bytes(data))
    shutil.rmtree(base)
    return n * copies


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--copies", type=int, default=3)
    p.add_argument("--workdir")
    p.add_argument("--master", default="local[2]")
    args = p.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="deid-bench-"))
    n = make_export(work, args.copies)
    cfg = DeidConfig(spark=SparkConfig(master=args.master),
                     zones=ZonesConfig(input=str(work / "export"), output=str(work / "out"),
                                       raw=str(work / "phi-raw"), crosswalk=str(work / "crosswalk")))
    spark = get_spark(cfg.spark)
    t0 = time.perf_counter()
    run = PipelineRun(spark, cfg)
    run.run(do_ingest=True, do_deidentify=False)
    t1 = time.perf_counter()
    summary = PipelineRun(spark, cfg).run(do_ingest=False, do_deidentify=True)
    t2 = time.perf_counter()
    d = summary.deid
    print(f"files: {n}; ingest {t1 - t0:.1f}s ({n / (t1 - t0):.1f}/s); de-identify {t2 - t1:.1f}s "
          f"({(d.n_inputs if d else 0) / (t2 - t1):.1f}/s); deidentified={d.n_deidentified if d else 0} "
          f"quarantined={d.n_quarantined if d else 0}")
    spark.stop()


if __name__ == "__main__":
    main()
