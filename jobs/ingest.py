"""spark-submit job: ingest an export into the bronze table (PHI zone).

    spark-submit jobs/ingest.py --config conf/cluster.yaml [--input s3a://exports/2024-06-01/]
"""

from __future__ import annotations

import argparse
import sys

from deid.entry import EXIT_FAILED_RUN, prepare, run, zone_args
from deid.pipeline.runner import PipelineRun


def _ingest(args: argparse.Namespace) -> int:
    entry = prepare(args, need_input=True)
    zs = entry.zones  # checked before Spark starts
    summary = PipelineRun(entry.spark, entry.cfg, zs).run(do_ingest=True, do_deidentify=False)
    res = summary.ingest
    if res:
        print(f"run {res.run_id}: {res.n_listed} files, {res.n_ingested} new, "
              f"{res.n_quarantined} quarantined, {res.n_skipped} already known")
    return 0 if summary.ok else EXIT_FAILED_RUN


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    zone_args(p, need_input=True, config_required=True)
    args = p.parse_args(argv)
    return run("ingest", lambda: _ingest(args))


if __name__ == "__main__":
    sys.exit(main())
