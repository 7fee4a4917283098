"""Building (or joining) the Spark session the pipeline runs on.

Under ``spark-submit`` or on Databricks a session already exists and is reused; its master and
memory come from the cluster. Locally (``deid run``) an embedded ``local[N]`` session is started with
the settings of ``conf/local.yaml``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from deid.config import DriverJit, SparkConfig

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

# Opt-in (``spark.conf: {spark.python.daemon.module: deid.spark_daemon}``): Python workers fork from a
# daemon that imported the pipeline's modules once. Not the default: measured on a loaded 2-core machine
# (benchmarks/results/RESULTS.md, sixth session) Spark started more than one daemon per run, each paying
# the whole warm-up, and a 30-instance run was slower with it. The second daemon was the pickled-RDD
# workers' factory (empty_frame below removes those tasks, eleventh session).
DAEMON_MODULE = "deid.spark_daemon"  # deid.spark_daemon.MODULE (named here: that module sits above this one)
_JAVA_OPTIONS = "spark.driver.extraJavaOptions"
# the client compiler only (SparkConfig.driver_jit "quick"); the JVM takes the last of repeated options,
# so a TieredStopAtLevel in spark.conf's own extraJavaOptions (appended after) still wins
QUICK_JIT = "-XX:TieredStopAtLevel=1"


def session_conf(cfg: SparkConfig) -> dict[str, str]:
    """Every Spark setting the pipeline relies on, as strings."""
    conf = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(cfg.arrow_max_records_per_batch),
        "spark.sql.execution.arrow.maxBytesPerBatch": str(cfg.arrow_max_bytes_per_batch),
        "spark.sql.files.maxPartitionBytes": str(cfg.files_max_partition_bytes),
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.parquet.compression.codec": "snappy",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.ui.enabled": "true" if cfg.ui_enabled else "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.files.ignoreMissingFiles": "false",
        "spark.sql.parquet.enableVectorizedReader": "true" if cfg.parquet_vectorized_reader else "false",
        # a Python worker serves task after task (its imports, engines and models stay loaded): Spark's
        # default, stated so that a cluster default cannot turn it off unseen (issue #11)
        "spark.python.worker.reuse": "true",
    }
    if cfg.driver_memory:
        conf["spark.driver.memory"] = cfg.driver_memory
    if cfg.executor_memory:
        conf["spark.executor.memory"] = cfg.executor_memory
    conf.update(cfg.conf)
    if cfg.driver_jit == DriverJit.QUICK:  # read only when this process starts the driver JVM
        conf[_JAVA_OPTIONS] = " ".join(filter(None, (QUICK_JIT, cfg.conf.get(_JAVA_OPTIONS, "").strip())))
    return conf


def get_spark(cfg: SparkConfig | None = None) -> SparkSession:
    """The active session, or a new one built from ``cfg``.

    ``PYSPARK_PYTHON`` is pinned to this interpreter so the Python workers import the same installed
    ``deid`` package as the driver.
    """
    from pyspark.sql import SparkSession

    cfg = cfg or SparkConfig()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None:
        for key, value in session_conf(cfg).items():
            if key.startswith("spark.sql."):
                active.conf.set(key, value)
        return active
    builder = SparkSession.builder.appName(cfg.app_name)
    # under spark-submit (a gateway is already up) the cluster's --master wins
    if cfg.master and "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = builder.master(cfg.master)
    for key, value in session_conf(cfg).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # the export may carry names in file paths: keep them out of Spark's INFO logs
    from deid.sparkerrors import console_log_level

    spark.sparkContext.setLogLevel(console_log_level())  # WARN, or DEID_SPARK_LOG_LEVEL
    return spark


def empty_frame(spark: SparkSession, schema: StructType | str) -> DataFrame:
    """An empty DataFrame of ``schema`` (a struct or a DDL string) that starts no Python worker.

    ``createDataFrame([])`` (and an empty pandas frame, which Arrow does not take) goes through a
    pickled RDD: one task per core, each in a Python worker of a second worker factory (Spark keys its
    factories by the workers' environment, and RDD workers lack the SQL ones' simplified-traceback
    flag), so a run on fresh tables started a second daemon and cold workers beside the ones its
    ``mapInPandas`` stages use (issue #11). An RDD with no partition runs no task. Spark Connect has
    no SparkContext: there the frame is built on the client, without a worker either."""
    try:
        rdd = spark.sparkContext.emptyRDD()
    except Exception:  # noqa: BLE001 - Spark Connect sessions have no SparkContext
        return spark.createDataFrame([], schema)
    return spark.createDataFrame(rdd, schema)


def pandas_frame(spark: SparkSession, data: pd.DataFrame, schema: StructType | str) -> DataFrame:
    """``data`` as a Spark DataFrame through Arrow (no Python worker); an empty ``data`` as
    :func:`empty_frame` (Arrow does not take an empty frame: Spark would fall back to a pickled RDD and
    its own Python workers, issue #11)."""
    if len(data.index) == 0:
        return empty_frame(spark, schema)
    return spark.createDataFrame(data, schema)


ROWS_PER_PARTITION = 20_000  # rows of the run's small tables (keys, results, needles) per shuffle partition


def default_cores(spark: SparkSession) -> int:
    """The task slots Spark counts on (``defaultParallelism``: local[N]'s N, a cluster's executor cores);
    1 where the session has no SparkContext (Spark Connect)."""
    try:
        return max(1, int(spark.sparkContext.defaultParallelism))
    except Exception:  # noqa: BLE001 - Spark Connect sessions have no SparkContext
        return 1


def small_plans(spark: SparkSession, n_rows: int | None = None, cores: int | None = None) -> dict[str, str]:
    """Settings for a run's plans over small rows (keys, staged results, needles; never file content):
    no adaptive execution, which makes every shuffle stage a Spark job of its own (issue #11: the
    pending inputs' plan was 7 jobs), and shuffles sized by the run's ``n_rows`` (as adaptive
    execution would have coalesced them) but never fewer than the cores (``cores``, default
    :func:`default_cores`: on local[2] the gate's and the staged tables' shuffles run two tasks, not
    one), at most the session's ``spark.sql.shuffle.partitions`` (all of them when ``n_rows`` is not
    known). Joins are not broadcast unless a plan asks for it (``F.broadcast``): a broadcast Spark
    plans by itself is a job of its own before the plan's job (the pending inputs' keys: 5 jobs, the
    staged tables' duplicate flags: 4), while the small rows shuffled for a sort-merge join are stages of
    the one job (issue #11)."""
    configured = max(1, int(spark.conf.get("spark.sql.shuffle.partitions") or 1))
    slots = default_cores(spark) if cores is None else max(1, cores)
    parts = configured if n_rows is None else min(configured, max(slots, -(-n_rows // ROWS_PER_PARTITION)))
    return {"spark.sql.adaptive.enabled": "false", "spark.sql.shuffle.partitions": str(parts),
            "spark.sql.autoBroadcastJoinThreshold": "-1"}


@contextlib.contextmanager
def sql_conf(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    """Runtime SQL settings for the actions run inside, restored after (unset when they were unset)."""
    before: dict[str, str | None] = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, old in before.items():
            if old is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old)
