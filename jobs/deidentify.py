"""spark-submit job: de-identify what is new in bronze, stage it, release it through the quality gate.

    spark-submit jobs/deidentify.py --config conf/cluster.yaml [--profile research]
"""

from __future__ import annotations

import argparse
import sys

from deid.entry import EXIT_FAILED_RUN, prepare, run, zone_args
from deid.pipeline.runner import PipelineRun


def _deidentify(args: argparse.Namespace) -> int:
    entry = prepare(args)
    keyring, zs = entry.keyring, entry.zones  # fail fast, before Spark work
    summary = PipelineRun(entry.spark, entry.cfg, zs, keyring=keyring).run(
        do_ingest=False, do_deidentify=True)
    res = summary.deid
    if res:
        print(f"run {res.run_id}: {res.n_inputs} inputs, {res.n_deidentified} de-identified, "
              f"{res.n_quarantined} quarantined, released={res.released}")
    for m in summary.messages:
        print(m)
    return 0 if summary.ok else EXIT_FAILED_RUN


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    zone_args(p, config_required=True)
    p.add_argument("--profile")
    args = p.parse_args(argv)
    return run("deidentify", lambda: _deidentify(args))


if __name__ == "__main__":
    sys.exit(main())
