"""De-identify: bronze rows not yet done for this key and profile -> staged run -> release.

"Done" means in the metadata table (matched by the keyed ``source_digest``) or quarantined at this
stage for the same key version and profile. A rerun therefore adds nothing, and inputs a dead run
left unfinished are picked up by the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from deid import zones
from deid.errors import Reason
from deid.header.profile import Profile
from deid.keys import KeyRing
from deid.pipeline.duplicates import MESSAGE as DUPLICATE_MESSAGE
from deid.pipeline.duplicates import flag_duplicates
from deid.pipeline.executor import with_digests
from deid.pipeline.hooks import Gate, HeaderOnly, PixelHook, StagedRun, gate_needle_kinds, prepare_gate
from deid.pipeline.process import OK, QUARANTINED, RESULT, ProcessParams, deidentify_batches
from deid.pipeline.release import Releaser
from deid.pipeline.timing import StageTimes
from deid.spark_session import default_cores, small_plans, sql_conf
from deid.tables import BRONZE, CROSSWALK, METADATA, QUARANTINE, Tables, parquet_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Progress = Callable[[str, int, int], None]
STAGE = "deidentify"


@dataclass(frozen=True)
class DeidentifyResult:
    run_id: str
    n_inputs: int
    n_deidentified: int
    n_quarantined: int
    released: bool
    gate_failures: tuple[str, ...] = ()


def pending_inputs(tables: Tables, zs: zones.Zones, profile: Profile,
                   keyring: KeyRing) -> tuple[DataFrame, DataFrame, int]:
    """Bronze rows not yet in metadata nor quarantined at this stage, for this key and profile:
    ``(pending rows: sha256, content, blob_path; their keys, cached: sha256, run_id, path; how many)``.

    One bronze row per sha256 (the least ``(run_id, path)``) is chosen on the keys alone, so the
    content is never shuffled: the keys are broadcast to the scan of the pending ingest runs.
    The caller unpersists the keys.
    """
    from pyspark.sql import functions as F

    bronze_all = tables.read(zs.bronze, BRONZE)
    keys = (bronze_all.select("sha256", "run_id", "path", "size").groupBy("sha256")
            .agg(F.min(F.struct("run_id", "path", "size")).alias("_k"))
            .select("sha256", "_k.run_id", "_k.path", "_k.size"))
    done = (tables.read(zs.metadata, METADATA)
            .where((F.col("key_version") == keyring.version) & (F.col("profile") == profile.name))
            .select("source_digest"))
    digests = with_digests(keys, keyring).join(done, "source_digest", "left_semi").select("sha256")
    quarantined = (tables.read(zs.quarantine, QUARANTINE)
                   .where((F.col("stage") == STAGE) & (F.col("key_version") == keyring.version)
                          & (F.col("profile") == profile.name))
                   .select("sha256"))
    # only the ingest runs with pending rows are scanned for content (Parquet statistics on run_id
    # skip the files of finished runs); one action (one Spark job without adaptive execution's
    # job per shuffle stage): the runs to scan and the count. The cached keys are planned inside
    # (a cache's plan is fixed when it is asked for: outside, it was 4 jobs more, issue #11)
    with sql_conf(tables.spark, small_plans(tables.spark)):
        todo = keys.join(digests.unionByName(quarantined), "sha256", "left_anti").cache()
        by_run = todo.groupBy("run_id").agg(F.count(F.lit(1)).alias("count"),
                                            F.sum("size").alias("bytes")).collect()
    runs = [r["run_id"] for r in by_run]
    b, k = bronze_all.alias("b"), F.broadcast(todo.select("sha256", "run_id", "path")).alias("k")
    match = ((F.col("b.sha256") == F.col("k.sha256")) & F.col("b.run_id").eqNullSafe(F.col("k.run_id"))
             & F.col("b.path").eqNullSafe(F.col("k.path")))
    scan = b.where(F.col("b.run_id").isin(runs))
    pending = scan.join(k, match, "left_semi").select("sha256", "content", "blob_path")
    n_rows = sum(int(r["count"]) for r in by_run)
    n_bytes = sum(int(r["bytes"] or 0) for r in by_run)
    max_bytes = int(tables.spark.conf.get("spark.sql.files.maxPartitionBytes", None) or 128 * 1024 * 1024)
    cores = default_cores(tables.spark)
    # the scan's own split (by the stored, compressed bytes) is kept where it gives the tasks the rows
    # and cores ask for; otherwise the rows are spread by sha256 (one shuffle of the content, no sort:
    # about n_rows / parts rows per task, parts bounded by the files' bytes too)
    wanted = task_partitions(n_rows, 0, cores, max_bytes)
    if wanted > 1 and wanted > _scan_partitions(scan):
        pending = pending.repartition(task_partitions(n_rows, n_bytes, cores, max_bytes), "sha256")
    return pending, todo, n_rows


def _scan_partitions(scan: DataFrame) -> int:
    """The partitions Spark splits a table scan into (planned, no job); 0 where it cannot say
    (Spark Connect)."""
    try:
        return int(scan.rdd.getNumPartitions())
    except Exception:  # noqa: BLE001 - Spark Connect DataFrames have no RDD
        return 0


ROWS_PER_TASK = 256  # pending rows per de-identify task at most (the Arrow batches inside are smaller)


def task_partitions(n_rows: int, n_bytes: int, cores: int, max_bytes: int,
                    rows_per_task: int = ROWS_PER_TASK) -> int:
    """De-identify tasks for ``n_rows`` pending inputs of ``n_bytes`` (their files' sizes): at most
    ``rows_per_task`` rows and about ``max_bytes`` (``spark.sql.files.maxPartitionBytes``) each, two
    per core where there are several cores (a task that runs long is not the only one left), never
    more than the rows. The scan of bronze is split by bytes only, which left one task with 30 of 31
    small inputs and the second core idle (issue #11)."""
    if n_rows <= 1:
        return 1
    need = max(-(-n_rows // max(1, rows_per_task)), -(-max(0, n_bytes) // max(1, max_bytes)))
    spread = 2 * cores if cores > 1 else 1
    return min(n_rows, max(need, spread))


def stage_run(spark: SparkSession, tables: Tables, zs: zones.Zones, params: ProcessParams,
              pending: DataFrame, n_inputs: int, times: StageTimes | None = None,
              gate: Gate | None = None) -> StagedRun:
    """Run the processor once over ``pending``; its results are written once to staging Parquet, and
    the staged tables (metadata, quarantine, crosswalk) once each, so that the gate, the publication
    and the commits read them instead of computing them again."""
    from pyspark.sql import functions as F

    t = times or StageTimes()
    results_loc = zones.join(params.staging, "results")
    schema = RESULT.spark_schema()
    # without adaptive execution the pending rows' shuffle (when there is one) is a stage of the write's
    # job, not a job of its own; its partitions are given (task_partitions), never coalesced (issue #11)
    with t.stage("de-identify (header+pixels+write)"), sql_conf(spark, small_plans(spark, n_inputs)):
        prepare_gate(gate)
        (pending.mapInPandas(partial(deidentify_batches, params=params), schema)
         .write.mode("overwrite").parquet(zones.spark_uri(results_loc)))
    # a repeated bronze row would repeat its result: one per input (small rows, no content)
    results = spark.read.schema(schema).parquet(zones.spark_read_uri(results_loc))
    res = results.drop("needles").dropDuplicates(["sha256"])
    # the originals' keyed needles for the gate (a repeated row only repeats needles)
    needles = (results.select(F.explode("needles").alias("n")).select("n.needle", "n.kind")
               if params.needle_kinds is not None else None)
    with t.stage("stage tables"), sql_conf(spark, small_plans(spark, n_inputs)):  # one job per write
        metadata, quarantine, crosswalk = _staged_tables(spark, tables, zs, params, res)
    redactions = (metadata.select("run_id", "sop_instance_uid", F.explode("redactions").alias("b"))
                  .select("run_id", "sop_instance_uid", "b.*"))
    review = (metadata.select("run_id", "sha256", "sop_instance_uid", F.explode("review").alias("r"))
              .select("run_id", "sha256", "sop_instance_uid", "r.*"))
    with t.stage("stage counts"):  # the staged files' footers: no Spark job, no rescan
        counts = {"n_deidentified": parquet_rows(_released_folder(params.staging)),
                  "n_quarantined": parquet_rows(zones.join(params.staging, "quarantine"))}
    return StagedRun(params.run_id, params.staging, n_inputs, metadata, quarantine, crosswalk, counts,
                     redactions=redactions, review=review, needles=needles)


_DUPLICATE = "duplicate"  # the flagged results' partition column (folders duplicate=true / duplicate=false)


def _released_folder(staging: str) -> str:
    """The staged results that are no duplicate: the run's metadata rows (before ``processed_at``)."""
    return zones.join(staging, "flagged", f"{_DUPLICATE}=false")


def _materialize(spark: SparkSession, df: DataFrame, location: str) -> DataFrame:
    """Write ``df`` once to staging Parquet and read it back (its plan is not run again)."""
    df.write.mode("overwrite").parquet(zones.spark_uri(location))
    return spark.read.schema(df.schema).parquet(zones.spark_read_uri(location))


def _staged_tables(spark: SparkSession, tables: Tables, zs: zones.Zones, params: ProcessParams,
                   res: DataFrame) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(metadata, quarantine, crosswalk) of the run, each written once to the staging folder."""
    from pyspark.sql import functions as F

    now = F.lit(dt.datetime.now(dt.timezone.utc)).cast("timestamp")  # one instant for the whole run
    staging = params.staging
    # one SOP Instance UID, one output file: different inputs with one UID are all held for review
    # unless exactly one is valid (deid.pipeline.duplicates)
    flagged = flag_duplicates(
        res.where(F.col("outcome") == OK), tables.read(zs.bronze, BRONZE), tables.read(zs.metadata, METADATA),
        tables.read(zs.quarantine, QUARANTINE), key_version=params.keyring.version,
        profile=params.profile.name).withColumnRenamed("_dup", _DUPLICATE)
    # one write, a folder per flag: the metadata rows are counted from their files' footers
    where = zones.join(staging, "flagged")
    zones.remove_tree(where)  # the session overwrites partitions dynamically: no folder of an earlier try stays
    flagged.write.mode("overwrite").partitionBy(_DUPLICATE).parquet(zones.spark_uri(where))
    ok = spark.read.schema(flagged.schema).parquet(zones.spark_read_uri(where))
    metadata = ok.where(~F.col(_DUPLICATE)).drop(_DUPLICATE).withColumn("processed_at", now)
    dups = (ok.where(F.col(_DUPLICATE)).select("sha256")
            .withColumn("reason", F.lit(Reason.DUPLICATE_UID.value))
            .withColumn("message", F.lit(DUPLICATE_MESSAGE)))
    failed = res.where(F.col("outcome") == QUARANTINED).select("sha256", "reason", "message")
    bron = tables.read(zs.bronze, BRONZE).select("sha256", "path", "size", "modification_time")
    quarantine = _materialize(spark, failed.unionByName(dups)
                              .join(bron.dropDuplicates(["sha256"]), "sha256", "left")
                              .withColumn("stage", F.lit(STAGE)).withColumn("profile", F.lit(params.profile.name))
                              .withColumn("key_version", F.lit(params.keyring.version))
                              .withColumn("run_id", F.lit(params.run_id)).withColumn("quarantined_at", now),
                              zones.join(staging, "quarantine"))
    known = tables.read(zs.crosswalk_table, CROSSWALK).select("kind", "pseudonym", "key_version")
    crosswalk = _materialize(spark, metadata.select(F.explode("crosswalk").alias("x")).select("x.*")
                             .dropDuplicates(["kind", "pseudonym", "key_version"])
                             .join(known, ["kind", "pseudonym", "key_version"], "left_anti")
                             .withColumn("run_id", F.lit(params.run_id)).withColumn("created_at", now),
                             zones.join(staging, "crosswalk"))
    return metadata, quarantine, crosswalk


def deidentify(spark: SparkSession, tables: Tables, zs: zones.Zones, profile: Profile, keyring: KeyRing,
               run_id: str, *, pixel_hook: PixelHook | None = None, gate: Gate | None = None,
               fault: str | None = None, progress: Progress | None = None,
               times: StageTimes | None = None) -> DeidentifyResult:
    """De-identify every pending bronze row, stage the run and release it through the gate."""
    t = times or StageTimes()
    with t.stage("pending"):
        pending, todo, n_inputs = pending_inputs(tables, zs, profile, keyring)
    if progress:
        progress(STAGE, 0, n_inputs)
    if n_inputs == 0:
        todo.unpersist()
        return DeidentifyResult(run_id, 0, 0, 0, True)
    staging = zs.staging(run_id)
    params = ProcessParams(run_id=run_id, profile=profile, keyring=keyring, staging=staging,
                           pixel_hook=pixel_hook or HeaderOnly(), fault=fault,
                           needle_kinds=gate_needle_kinds(gate, profile, keyring))
    try:
        staged = stage_run(spark, tables, zs, params, pending, n_inputs, t, gate)
    finally:
        todo.unpersist()
    if progress:
        progress(STAGE, n_inputs, n_inputs)
    result = Releaser(tables, zs, gate=gate, fault=fault, times=t).release(staged)
    if result.released:
        with t.stage("cleanup"):
            zones.remove_tree(staging)
    return DeidentifyResult(run_id, n_inputs, staged.counts["n_deidentified"],
                            staged.counts["n_quarantined"], result.released, result.gate_failures)
