"""spark-submit job: de-identify what is new in bronze, stage it, release it through the quality gate.

    spark-submit jobs/deidentify.py --config conf/cluster.yaml [--profile research]
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
    p.add_argument("--profile")
    p.add_argument("--raw")
    p.add_argument("--crosswalk")
    p.add_argument("--output")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config).with_overrides(raw=args.raw, crosswalk=args.crosswalk,
                                                      output=args.output)
        if args.profile:
            cfg = cfg.model_copy(update={"profile": args.profile})
        keyring = cfg.load_keyring()  # fail fast, before Spark work
        summary = PipelineRun(get_spark(cfg.spark), cfg, keyring=keyring).run(
            do_ingest=False, do_deidentify=True)
    except DeidError as err:
        print(f"deidentify: error [{err.code}]: {err.message}", file=sys.stderr)
        return 2
    res = summary.deid
    if res:
        print(f"run {res.run_id}: {res.n_inputs} inputs, {res.n_deidentified} de-identified, "
              f"{res.n_quarantined} quarantined, released={res.released}")
    for m in summary.messages:
        print(m)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
