"""Release: publish a staged run (DICOM files + table rows) only after the quality gate passes.

A run's DICOM files are staged under the PHI zone (``<raw>/_staging/<run_id>/dicom/...``) and its
rows in staged Parquet. Release order (each step idempotent, so a run that dies anywhere is finished
by the next run without duplicates):

1. crosswalk rows are committed (so anything published can be re-identified by authorised users);
2. the gate is asked; when it fails nothing is published and the inputs stay pending;
3. staged DICOM files are moved to ``<output>/dicom/...`` (deterministic paths: a re-run overwrites
   the same files with the same bytes);
4. metadata rows, then quarantine rows, are committed (one Delta transaction each, tagged with the
   run's application transaction id so a retry never commits twice);
5. the staging folder is removed.

The gate is injected: ``Releaser(tables, zones, gate=...)`` (the contract: :mod:`deid.pipeline.hooks`). The quality module (``deid.quality``)
provides the real one; :class:`CountsGate` is the minimal default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

import pandas as pd

from deid import zones
from deid.pipeline import faults
from deid.pipeline.hooks import Gate, StagedRun
from deid.pipeline.timing import StageTimes
from deid.spark_session import small_plans, sql_conf
from deid.tables import CROSSWALK, METADATA, QUARANTINE, REDACTIONS, REVIEW, Tables

log = logging.getLogger(__name__)


class CountsGate:
    """Minimal gate: counts reconcile, no SOP Instance UID twice, every staged row has its file."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, run_id: str, staged: StagedRun) -> bool:
        from pyspark.sql import functions as F

        self.failures = []
        n_md, n_q = staged.counts["n_deidentified"], staged.counts["n_quarantined"]
        if n_md + n_q != staged.n_inputs:
            self.failures.append(f"counts do not reconcile: {n_md} + {n_q} != {staged.n_inputs}")
        spark = staged.metadata.sparkSession
        with sql_conf(spark, small_plans(spark, staged.n_inputs)):  # one job per count (issue #11)
            dups = staged.metadata.groupBy("sop_instance_uid").count().where(F.col("count") > 1).count()
            missing = (staged.metadata.select("staged_name")
                       .mapInPandas(partial(_missing_files, staging=staged.staging), "staged_name string")
                       .count())
        if dups:
            self.failures.append(f"{dups} SOP Instance UIDs appear more than once")
        if missing:
            self.failures.append(f"{missing} staged DICOM files are missing")
        return not self.failures


def _missing_files(batches, staging: str):  # type: ignore[no-untyped-def]
    for batch in batches:
        missing = [n for n in batch["staged_name"] if not zones.is_file(zones.staged_file(staging, n))]
        yield pd.DataFrame({"staged_name": missing}, dtype=object)


def _move_batches(batches, staging: str, output: str):  # type: ignore[no-untyped-def]
    """mapInPandas: move staged files to the output (rename locally, copy+delete on object stores)."""
    for batch in batches:
        moved = [rel for name, rel in zip(batch["staged_name"], batch["output_path"], strict=True)
                 if zones.move(zones.staged_file(staging, name), zones.join(output, rel))]
        yield pd.DataFrame({"output_path": moved}, dtype=object)


@dataclass(frozen=True)
class ReleaseResult:
    released: bool
    n_published: int
    gate_failures: tuple[str, ...] = ()


class Releaser:
    def __init__(self, tables: Tables, zs: zones.Zones, gate: Gate | None = None,
                 fault: str | None = None, times: StageTimes | None = None) -> None:
        self.tables = tables
        self.zones = zs
        self.gate: Gate = gate if gate is not None else CountsGate()
        self.fault = fault
        self.times = times or StageTimes()

    def release(self, staged: StagedRun) -> ReleaseResult:
        app_id = f"deid-release-{staged.run_id}"
        t = self.times
        with t.stage("commit crosswalk+review"):
            self.tables.append(staged.crosswalk, self.zones.crosswalk_table, CROSSWALK, app_id=app_id, version=0)
            zones.secure_local_tree(self.zones.crosswalk)
            if staged.review is not None:  # PHI zone: reviewers see the band even when the gate fails
                self.tables.append(staged.review, self.zones.review, REVIEW, app_id=app_id, version=0)
        with t.stage("gate"):
            passed = self.gate(staged.run_id, staged)
        if not passed:
            failures = tuple(getattr(self.gate, "failures", ()) or ("quality gate failed",))
            log.warning("run %s not released: %s", staged.run_id, "; ".join(failures))
            # the run's quarantined inputs are recorded all the same (PHI zone; nothing is published)
            self.tables.append(staged.quarantine, self.zones.quarantine, QUARANTINE, app_id=app_id, version=0)
            return ReleaseResult(False, 0, failures)
        spark = self.tables.spark
        with t.stage("publish files"), sql_conf(spark, small_plans(spark, staged.n_inputs)):  # one job
            n = (staged.metadata.select("staged_name", "output_path")
                 .mapInPandas(partial(_move_batches, staging=staged.staging, output=self.zones.output),
                              "output_path string").count())
        faults.maybe_fail(self.fault, "publish")
        with t.stage("commit metadata+quarantine"):
            self.tables.append(staged.metadata, self.zones.metadata, METADATA, app_id=app_id, version=0)
            if staged.redactions is not None:
                self.tables.append(staged.redactions, self.zones.redactions, REDACTIONS, app_id=app_id, version=0)
            self.tables.append(staged.quarantine, self.zones.quarantine, QUARANTINE, app_id=app_id, version=0)
        return ReleaseResult(True, n)
