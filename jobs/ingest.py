"""spark-submit job: ingest an export into the bronze table (PHI zone).

    spark-submit jobs/ingest.py --config conf/cluster.yaml [--input s3a://exports/2024-06-01/]
"""

from __future__ import annotations

import argparse
import sys

from deid.config import load_config
from deid.errors import DeidError
from deid.pipeline.runner import PipelineRun
from deid.spark_session import get_spark


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--config", required=True)
    p.add_argument("--input")
    p.add_argument("--raw")
    p.add_argument("--crosswalk")
    p.add_argument("--output")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config).with_overrides(input=args.input, raw=args.raw,
                                                      crosswalk=args.crosswalk, output=args.output)
        summary = PipelineRun(get_spark(cfg.spark), cfg).run(do_ingest=True, do_deidentify=False)
    except DeidError as err:
        print(f"ingest: error [{err.code}]: {err.message}", file=sys.stderr)
        return 2
    res = summary.ingest
    if res:
        print(f"run {res.run_id}")
        print("\n".join(res.summary_lines()))
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
