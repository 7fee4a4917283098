"""Delta tables written by the fallback (Spark Parquet + delta-rs commit) read back everywhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from deid.config import TableBackend
from deid.tables import RUNS, Tables, TableSpec

SPEC = TableSpec("t", pa.schema([("id", pa.string()), ("n", pa.int64()),
                                 ("at", pa.timestamp("us", tz="UTC")), ("blob", pa.binary())]))


def _df(spark, rows):
    return spark.createDataFrame(rows, SPEC.spark_schema())


def test_fallback_append_reads_back_through_deltalake_and_spark(spark, tmp_path: Path) -> None:
    tables = Tables(spark, TableBackend.AUTO)
    assert tables.backend is TableBackend.DELTA_RS  # no Delta jars on this classpath
    loc = str(tmp_path / "t")
    at = dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.timezone.utc)
    rows = [(f"id{i}", i, at, bytes([i]) * 10) for i in range(5)]
    assert tables.append(_df(spark, rows), loc, SPEC, app_id="test", version=1)
    arrow = DeltaTable(loc).to_pyarrow_table().sort_by("id")
    assert arrow.column("id").to_pylist() == [r[0] for r in rows]
    assert arrow.column("at").to_pylist()[0] == at
    assert arrow.schema.field("at").type == pa.timestamp("us", tz="UTC")
    back = tables.read(loc, SPEC).orderBy("id").collect()
    assert [r["n"] for r in back] == list(range(5))
    assert back[0]["at"].timestamp() == at.timestamp()  # Spark gives naive local time
    assert DeltaTable(loc).protocol().min_reader_version == 1


def test_same_transaction_is_not_committed_twice(spark, tmp_path: Path) -> None:
    tables = Tables(spark)
    loc = str(tmp_path / "t")
    rows = [("a", 1, None, None)]
    assert tables.append(_df(spark, rows), loc, SPEC, app_id="run-1", version=0)
    assert not tables.append(_df(spark, rows), loc, SPEC, app_id="run-1", version=0)
    assert tables.append(_df(spark, rows), loc, SPEC, app_id="run-2", version=0)
    assert DeltaTable(loc).to_pyarrow_table().num_rows == 2
    assert DeltaTable(loc).transaction_version("run-1") == 0


def test_missing_table_reads_empty_and_arrow_append(spark, tmp_path: Path) -> None:
    tables = Tables(spark)
    loc = str(tmp_path / "runs")
    assert tables.read(loc, RUNS).count() == 0
    assert tables.read_arrow(loc, RUNS).num_rows == 0
    now = dt.datetime.now(dt.timezone.utc)
    row = {c: [None] for c in RUNS.columns} | {"run_id": ["r1"], "started_at": [now], "n_inputs": [3]}
    assert tables.append_arrow(pa.table(row), loc, RUNS, app_id="runs-r1", version=0)
    assert not tables.append_arrow(pa.table(row), loc, RUNS, app_id="runs-r1", version=0)
    assert tables.read(loc, RUNS).collect()[0]["n_inputs"] == 3


def test_read_any_with_its_spec_reads_the_same_rows_without_a_job(spark, tmp_path: Path) -> None:
    """``read_any(location, spec)``: the table's files read with the spec's schema (no Spark job to infer
    it from their footers, issue #11), the same rows as inferred; None when the table is absent."""
    tables = Tables(spark)
    loc = str(tmp_path / "t")
    assert tables.read_any(loc, SPEC) is None
    at = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert tables.append(_df(spark, [("a", 1, at, b"x"), ("b", 2, None, None)]), loc, SPEC, app_id="t", version=0)
    tracker = spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup("read-any-spec", "read_any")
    try:
        typed = tables.read_any(loc, SPEC)
        jobs = tracker.getJobIdsForGroup("read-any-spec")
    finally:
        spark.sparkContext.setJobGroup("", "")
    inferred = tables.read_any(loc)
    assert typed is not None and inferred is not None and jobs == []
    assert typed.schema == SPEC.spark_schema()
    assert sorted(map(tuple, typed.collect())) == sorted(map(tuple, inferred.select(*SPEC.columns).collect()))


@pytest.mark.parametrize("location", ["s3a://bucket/x", "file:///tmp/x"])
def test_uri_mapping(location: str) -> None:
    from deid import zones

    if location.startswith("s3a"):
        assert zones.deltars_uri(location) == "s3://bucket/x"
        assert zones.spark_uri(location) == "s3a://bucket/x"
    else:
        assert zones.deltars_uri(location) == "/tmp/x"
        assert zones.spark_uri(location) == "file:///tmp/x"


def test_collect_arrow_keeps_exact_types(spark) -> None:
    """The driver-side Arrow read (no DataFrame-to-Arrow call on Spark 3.5): types and instants kept."""
    from deid.tables import collect_arrow

    at = dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.timezone.utc)
    rows = [(f"id{i}", i, at, bytes([i]) * 3) for i in range(4)]
    got = collect_arrow(_df(spark, rows).repartition(3), SPEC.schema).sort_by("id")
    assert got.schema == SPEC.schema
    assert got.column("at").to_pylist() == [at] * 4
    assert got.column("blob").to_pylist() == [r[3] for r in rows]
    empty = collect_arrow(_df(spark, rows).where("n < 0"), SPEC.schema)
    assert empty.num_rows == 0 and empty.schema == SPEC.schema


def test_collect_arrow_many_gives_each_frame_its_own_rows_in_one_job(spark) -> None:
    """Frames of different columns collected together: each gets exactly its rows (none of another's),
    with the types collect_arrow gives; an empty frame gets its columns; one Spark job in all (under
    the run's small-plan settings, as the gate calls it: no adaptive execution's job per shuffle)."""
    from deid.spark_session import small_plans, sql_conf
    from deid.tables import collect_arrow, collect_arrow_many

    at = dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.timezone.utc)
    rows = [(f"id{i}", i, at, bytes([i]) * 3) for i in range(5)]
    a = _df(spark, rows).repartition(3)
    b = spark.createDataFrame([("x", 1.5), ("y", 2.5)], "k string, v double")
    empty = a.where("n < 0").select("id", "n")
    tracker = spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup("collect-many-test", "collect_arrow_many")
    try:
        with sql_conf(spark, small_plans(spark, 5)):
            got = collect_arrow_many([a, b, empty, a.where("n >= 3")])
        jobs = tracker.getJobIdsForGroup("collect-many-test")
    finally:
        spark.sparkContext.setJobGroup("", "")
    assert len(jobs) == 1
    assert got[0].sort_by("id").equals(collect_arrow(a).sort_by("id"))
    assert got[0].schema == collect_arrow(a).schema and got[0].column("at").to_pylist() == [at] * 5
    assert sorted(got[1].column("k").to_pylist()) == ["x", "y"] and got[1].column_names == ["k", "v"]
    assert got[2].num_rows == 0 and got[2].column_names == ["id", "n"]
    assert sorted(got[3].column("n").to_pylist()) == [3, 4]
    assert collect_arrow_many([]) == []


def test_commit_tags_name_the_transaction_in_history(spark, tmp_path: Path) -> None:
    """Every commit's userMetadata names its (app_id, version): what committed() reads on Spark Delta."""
    from deid.tables import latest_txn_version

    tables = Tables(spark, TableBackend.DELTA_RS)
    loc = str(tmp_path / "t")
    for app_id, version in [("run-1", 0), ("run-1", 3), ("run-2", 1)]:
        assert tables.append(_df(spark, [("a", 1, None, None)]), loc, SPEC, app_id=app_id, version=version)
    history = [(int(h["version"]), h.get("userMetadata")) for h in DeltaTable(loc).history()]
    hist_df = spark.createDataFrame(history + [(99, None), (98, "not json")], "version long, userMetadata string")
    assert latest_txn_version(hist_df, "run-1") == 3
    assert latest_txn_version(hist_df, "run-2") == 1
    assert latest_txn_version(hist_df, "run-3") is None
