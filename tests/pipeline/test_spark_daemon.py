"""The pipeline's Python daemon (deid.spark_daemon): opt-in, and its warm-up finds every
module and table it names (a renamed module would silently leave the workers cold); the settings of
the run's small plans (deid.spark_session.small_plans)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deid import spark_daemon
from deid.config import DriverJit, SparkConfig
from deid.spark_session import DAEMON_MODULE, QUICK_JIT, session_conf, small_plans, sql_conf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def test_the_warm_daemon_is_opt_in() -> None:
    assert "spark.python.daemon.module" not in session_conf(SparkConfig())
    conf = session_conf(SparkConfig(conf={"spark.python.daemon.module": DAEMON_MODULE}))
    assert conf["spark.python.daemon.module"] == DAEMON_MODULE == spark_daemon.MODULE


def test_python_workers_are_reused_and_the_daemon_imports_no_encoder_by_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert session_conf(SparkConfig())["spark.python.worker.reuse"] == "true"
    seen: list[bool] = []

    def warm(encoder: bool = False) -> list[str]:
        seen.append(encoder)
        return []

    monkeypatch.setattr(spark_daemon, "warm", warm)
    monkeypatch.setattr("pyspark.daemon.manager", lambda: None)
    monkeypatch.delenv("DEID_DAEMON_ENCODER", raising=False)
    spark_daemon.main()
    monkeypatch.setenv("DEID_DAEMON_ENCODER", "1")
    spark_daemon.main()
    assert seen == [False, True]


def test_a_local_driver_jvm_gets_the_quick_jit_and_the_configured_options_win() -> None:
    assert session_conf(SparkConfig())["spark.driver.extraJavaOptions"] == QUICK_JIT
    assert "spark.driver.extraJavaOptions" not in session_conf(SparkConfig(driver_jit=DriverJit.FULL))
    own = "-XX:TieredStopAtLevel=4 -Dx=y"
    conf = session_conf(SparkConfig(conf={"spark.driver.extraJavaOptions": own}))
    assert conf["spark.driver.extraJavaOptions"] == f"{QUICK_JIT} {own}"  # the JVM takes the last one
    assert session_conf(SparkConfig(driver_jit=DriverJit.FULL, conf={"spark.driver.extraJavaOptions": own})
                        )["spark.driver.extraJavaOptions"] == own


def test_parquet_reads_row_by_row_unless_configured() -> None:
    """Bronze rows carry file content (up to ingest.inline_max_bytes each): the vectorized reader's
    4,096-row batches killed a 1 GB local driver at 1,000 instances; the row reader is the default, and
    applied to an active (cluster) session too, as every spark.sql.* setting."""
    key = "spark.sql.parquet.enableVectorizedReader"
    assert session_conf(SparkConfig())[key] == "false"
    assert session_conf(SparkConfig(parquet_vectorized_reader=True))[key] == "true"
    assert session_conf(SparkConfig(conf={key: "true"}))[key] == "true"  # spark.conf still wins


def test_the_warm_up_imports_every_module_and_builds_the_tables() -> None:
    assert spark_daemon.warm(encoder=False) == []


@pytest.mark.spark
@pytest.mark.parametrize(("n_rows", "cores", "expected"), [
    (None, 1, "4"), (0, 1, "1"), (30, 1, "1"), (20_000, 1, "1"), (20_001, 1, "2"), (10_000_000, 1, "4"),
    # never fewer partitions than cores (the tests' session is local[2]), never more than configured
    (None, None, "4"), (0, None, "2"), (30, None, "2"), (20_001, None, "2"), (40_001, None, "3"),
    (30, 8, "4"), (10_000_000, None, "4")])
def test_small_plans_are_sized_by_the_runs_rows_and_cores_and_settings_come_back(
        spark: SparkSession, n_rows: int | None, cores: int | None, expected: str) -> None:
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "4")
    try:
        settings = small_plans(spark, n_rows, cores)
        assert settings == {"spark.sql.adaptive.enabled": "false", "spark.sql.shuffle.partitions": expected,
                            "spark.sql.autoBroadcastJoinThreshold": "-1"}
        adaptive = spark.conf.get("spark.sql.adaptive.enabled")
        with sql_conf(spark, settings):
            assert spark.conf.get("spark.sql.shuffle.partitions") == expected
            df = spark.range(100)
            assert df.groupBy((df.id % 7).alias("k")).count().count() == 7
        assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
        assert spark.conf.get("spark.sql.adaptive.enabled") == adaptive
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)


@pytest.mark.spark
def test_a_small_plans_join_of_small_frames_is_one_spark_job(spark: SparkSession) -> None:
    """Under small_plans a join Spark would broadcast by itself is a sort-merge join inside the action's
    one job (a broadcast is a job of its own before it, issue #11); an explicit broadcast hint still
    holds; the answers are the same."""
    from pyspark.sql import functions as F

    keys = spark.range(50).selectExpr("id % 10 as k", "id as v")
    small = spark.createDataFrame([(k, f"x{k}") for k in range(0, 10, 3)], "k long, name string")
    tracker = spark.sparkContext.statusTracker()

    def jobs_of(action):  # type: ignore[no-untyped-def]
        spark.sparkContext.setJobGroup("small-plans-join", "join")
        try:
            got = action()
            return got, len(tracker.getJobIdsForGroup("small-plans-join"))
        finally:
            spark.sparkContext.setJobGroup("", "")

    plain = sorted(tuple(r) for r in keys.join(small, "k", "left_semi").collect())
    with sql_conf(spark, small_plans(spark, 50)):
        got, n_jobs = jobs_of(lambda: sorted(tuple(r) for r in keys.join(small, "k", "left_semi").collect()))
        hinted = sorted(tuple(r) for r in keys.join(F.broadcast(small), "k", "left_semi").collect())
    assert got == plain == hinted and len(got) == 20
    assert n_jobs == 1


@pytest.mark.spark
def test_driver_side_frames_run_no_python_task(spark: SparkSession) -> None:
    """An absent table's empty frame, an empty pandas frame and a small one become DataFrames without
    a pickled RDD, whose tasks would start Python workers of a second worker factory (issue #11); the
    schema is the one asked for."""
    import pandas as pd

    from deid.spark_session import empty_frame, pandas_frame
    from deid.tables import QUARANTINE

    def python_rdd(df: object) -> bool:
        return "PythonRDD" in df._jdf.queryExecution().toRdd().toDebugString()  # type: ignore[attr-defined]

    schema = QUARANTINE.spark_schema()
    empty = empty_frame(spark, schema)
    assert empty.schema == schema and empty.count() == 0
    assert empty.rdd.getNumPartitions() == 0  # no task, so no worker
    assert python_rdd(spark.createDataFrame([], schema))  # the path these helpers avoid: the check can fail
    none = pandas_frame(spark, pd.DataFrame({"a": pd.Series([], dtype=object)}), "a string, b long")
    assert none.columns == ["a", "b"] and none.count() == 0 and none.rdd.getNumPartitions() == 0
    one = pandas_frame(spark, pd.DataFrame({"a": ["x"], "b": [1]}), "a string, b long")
    assert not python_rdd(one) and [tuple(r) for r in one.collect()] == [("x", 1)]
