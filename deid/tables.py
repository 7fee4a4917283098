"""Delta tables: schemas, reads through the current snapshot, idempotent atomic appends.

This is the only module that knows how Delta is written:

* **Spark Delta** (``io.delta.tables.DeltaTable`` on the JVM classpath, e.g. Databricks, EMR with
  delta-spark): ``format("delta")`` with the ``txnAppId``/``txnVersion`` writer options, which Delta
  itself checks (a repeated ``(app_id, version)`` writes nothing). Every commit also carries a
  ``userMetadata`` tag naming its transaction, so table history tells whether it was committed.
  Public APIs only (``DataFrameWriter`` options, ``DeltaTable.history``, ``mapInArrow``): the same
  code runs on Spark 3.5 with Delta 3.2+ (Databricks 15.4/16.4 LTS, EMR 7) and on Spark 4.x.
* **delta-rs fallback** (no Delta jars, e.g. a laptop or CI): Spark tasks write Parquet files inside
  the table folder and the driver commits them in one Delta transaction with the ``deltalake``
  package. delta-rs does not enforce idempotency, so the application transaction version is checked
  here before committing. The table protocol is delta-rs's default (reader 1 / writer 2), readable by
  Spark's Delta source.

Every append is one commit (atomic) tagged with an application transaction ``(app_id, version)``; the
same ``(app_id, version)`` is never committed twice.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from deid import zones
from deid.config import TableBackend
from deid.errors import TableIOError
from deid.pipeline.hooks import BoxRecord, ReviewRecord, record_fields
from deid.spark_session import empty_frame, pandas_frame

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: pa.Schema

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def spark_schema(self) -> StructType:
        from pyspark.sql.pandas.types import from_arrow_schema

        return from_arrow_schema(self.schema)


BRONZE = TableSpec("bronze", pa.schema([
    ("sha256", pa.string()), ("path", pa.string()), ("size", pa.int64()),
    ("modification_time", TS), ("content", pa.binary()),
    ("sop_class_uid", pa.string()), ("sop_instance_uid", pa.string()), ("study_uid", pa.string()),
    ("series_uid", pa.string()), ("modality", pa.string()), ("transfer_syntax_uid", pa.string()),
    ("has_pixel_data", pa.bool_()), ("run_id", pa.string()), ("ingested_at", TS),
    # set instead of content for inputs over ingest.inline_max_bytes: <raw>/blobs/<sha256>.dcm
    ("blob_path", pa.string()),
]))

QUARANTINE = TableSpec("quarantine", pa.schema([
    ("sha256", pa.string()), ("path", pa.string()), ("size", pa.int64()), ("modification_time", TS),
    ("stage", pa.string()), ("reason", pa.string()), ("message", pa.string()),
    ("profile", pa.string()), ("key_version", pa.string()), ("run_id", pa.string()),
    ("quarantined_at", TS),
]))

CROSSWALK = TableSpec("crosswalk", pa.schema([
    ("kind", pa.string()), ("pseudonym", pa.string()), ("original_hash", pa.string()),
    ("original_enc", pa.binary()), ("key_version", pa.string()), ("run_id", pa.string()),
    ("created_at", TS),
]))

METADATA = TableSpec("metadata", pa.schema([
    ("run_id", pa.string()), ("sop_instance_uid", pa.string()), ("study_uid", pa.string()),
    ("series_uid", pa.string()), ("patient_pseudonym", pa.string()), ("sop_class_uid", pa.string()),
    ("modality", pa.string()), ("body_part", pa.string()), ("study_date", pa.date32()),
    ("manufacturer", pa.string()), ("model", pa.string()), ("rows", pa.int32()), ("columns", pa.int32()),
    ("frames", pa.int32()), ("pixel_spacing", pa.list_(pa.float64())), ("slice_thickness", pa.float64()),
    ("study_description", pa.string()), ("series_description", pa.string()),
    ("burned_in_status", pa.string()), ("redacted_regions", pa.int32()),
    ("patient_identity_removed", pa.bool_()), ("profile", pa.string()), ("key_version", pa.string()),
    ("output_path", pa.string()), ("dicom_json", pa.string()),
    # keyed HMAC of the input's sha256: tells which inputs are done without revealing them
    ("source_digest", pa.string()),
    ("processed_at", TS),
]))

# Burned-in text redactions (de-identified zone): geometry and decisions, never the text.
# One row per box of the pixel stage (de-identified zone): the fields of deid.pipeline.hooks.BoxRecord.
_ARROW_TYPES = {"int": pa.int32(), "float": pa.float64(), "float | None": pa.float64(), "str": pa.string()}


def record_columns(record: type) -> list[tuple[str, pa.DataType]]:
    """The Arrow columns of a record of the pixel contract (its fields, in order)."""
    return [(name, _ARROW_TYPES[kind]) for name, kind in record_fields(record)]


REDACTIONS = TableSpec("redactions", pa.schema(
    [("run_id", pa.string()), ("sop_instance_uid", pa.string())] + record_columns(BoxRecord)))
# Boxes scored inside the review band (PHI zone): redacted anyway, listed for a person to check
# (the fields of deid.pipeline.hooks.ReviewRecord).
REVIEW = TableSpec("review", pa.schema(
    [("run_id", pa.string()), ("sha256", pa.string()), ("sop_instance_uid", pa.string())]
    + record_columns(ReviewRecord)))

RUNS = TableSpec("runs", pa.schema([
    ("run_id", pa.string()), ("stage", pa.string()), ("started_at", TS), ("finished_at", TS),
    ("status", pa.string()), ("n_inputs", pa.int64()), ("n_ingested", pa.int64()),
    ("n_deidentified", pa.int64()), ("n_quarantined", pa.int64()), ("n_skipped", pa.int64()),
    ("config_hash", pa.string()), ("code_version", pa.string()), ("profile", pa.string()),
    ("key_version", pa.string()),
]))


def delta_on_classpath(spark: SparkSession) -> bool:
    """True when Spark's Delta data source can be loaded (always on Databricks, Connect included)."""
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        return True
    try:
        jvm = spark._jvm  # type: ignore[attr-defined]
        if jvm is None:
            return False
        jvm.java.lang.Class.forName("io.delta.tables.DeltaTable")
        return True
    except Exception:  # noqa: BLE001 - py4j raises Py4JJavaError / Py4JError; Connect has no JVM
        return False


class Tables:
    """Reads and idempotent appends of the pipeline's Delta tables."""

    def __init__(self, spark: SparkSession, backend: TableBackend = TableBackend.AUTO) -> None:
        self.spark = spark
        if backend is TableBackend.AUTO:
            backend = TableBackend.SPARK_DELTA if delta_on_classpath(spark) else TableBackend.DELTA_RS
        self.backend = backend

    @property
    def uses_spark_delta(self) -> bool:
        return self.backend is TableBackend.SPARK_DELTA

    # ---------------------------------------------------------------- existence and snapshots
    def exists(self, location: str) -> bool:
        if self.uses_spark_delta:
            from delta.tables import DeltaTable as SparkDeltaTable

            return bool(SparkDeltaTable.isDeltaTable(self.spark, zones.spark_uri(location)))
        from deltalake import DeltaTable

        return bool(DeltaTable.is_deltatable(zones.deltars_uri(location)))

    def ensure(self, location: str, spec: TableSpec) -> None:
        """Create the table empty when it does not exist yet."""
        if self.exists(location):
            return
        if self.uses_spark_delta:
            (empty_frame(self.spark, spec.spark_schema()).write.format("delta")
             .mode("ignore").save(zones.spark_uri(location)))
            return
        from deltalake import DeltaTable

        try:
            DeltaTable.create(zones.deltars_uri(location), spec.schema, mode="ignore")
        except Exception as exc:  # noqa: BLE001 - delta-rs raises its own and OS errors
            raise TableIOError(f"cannot create the {spec.name} table ({exc.__class__.__name__})") from None

    def read(self, location: str, spec: TableSpec) -> DataFrame:
        """The table's current snapshot as a Spark DataFrame (empty with the schema when absent)."""
        schema = spec.spark_schema()
        if not self.exists(location):
            return empty_frame(self.spark, schema)
        if self.uses_spark_delta:
            return self.spark.read.format("delta").load(zones.spark_uri(location))
        files = self._snapshot_files(location)
        if not files:
            return empty_frame(self.spark, schema)
        return self.spark.read.schema(schema).parquet(*files)

    def read_any(self, location: str, spec: TableSpec | None = None) -> DataFrame | None:
        """A table whose schema another module owns (e.g. redactions), or of ``spec`` (its files are
        then read with that schema: no Spark job to infer it from their footers, issue #11); None when
        absent or empty."""
        if not self.exists(location):
            return None
        if self.uses_spark_delta:
            return self.spark.read.format("delta").load(zones.spark_uri(location))
        files = self._snapshot_files(location)
        if not files:
            return None
        reader = self.spark.read if spec is None else self.spark.read.schema(spec.spark_schema())
        return reader.parquet(*files)

    def read_arrow(self, location: str, spec: TableSpec, columns: list[str] | None = None) -> pa.Table:
        """A small table (runs, crosswalk export) on the driver as Arrow."""
        if not self.exists(location):
            schema = spec.schema if columns is None else pa.schema([spec.schema.field(c) for c in columns])
            return schema.empty_table()
        if self.uses_spark_delta:
            df = self.spark.read.format("delta").load(zones.spark_uri(location))
            schema = spec.schema if columns is None else pa.schema([spec.schema.field(c) for c in columns])
            return collect_arrow(df.select(*schema.names), schema)
        from deltalake import DeltaTable

        return DeltaTable(zones.deltars_uri(location)).to_pyarrow_table(columns=columns)

    def version(self, location: str) -> int | None:
        if not self.exists(location):
            return None
        if self.uses_spark_delta:
            from delta.tables import DeltaTable as SparkDeltaTable

            hist = SparkDeltaTable.forPath(self.spark, zones.spark_uri(location)).history(1).collect()
            return int(hist[0]["version"]) if hist else None
        from deltalake import DeltaTable

        return int(DeltaTable(zones.deltars_uri(location)).version())

    def _snapshot_files(self, location: str) -> list[str]:
        from deltalake import DeltaTable

        # files(): paths relative to the table as committed (data-<uuid>/part-*.parquet), joined to the
        # location as given; file_uris() percent-encodes the root (a space becomes %20, which Spark
        # then looks for literally). Read paths are escaped: Spark globs them (zones.spark_read_uri).
        adds = DeltaTable(zones.deltars_uri(location)).get_add_actions(flatten=True)
        rels = [str(p) for p in adds.column("path").to_pylist()]
        return [zones.spark_read_uri(_snapshot_file(location, rel)) for rel in rels]

    # ---------------------------------------------------------------- idempotent appends
    def committed(self, location: str, app_id: str, version: int) -> bool:
        """True when ``(app_id, version)`` (or a later version) is already in the table's log."""
        if not self.exists(location):
            return False
        if self.uses_spark_delta:
            got = latest_txn_version(self._history(location), app_id)
            return got is not None and got >= version
        from deltalake import DeltaTable

        got = DeltaTable(zones.deltars_uri(location)).transaction_version(app_id)
        return got is not None and got >= version

    def _history(self, location: str, after: int | None = None) -> DataFrame:
        """The table's commits (``version``, ``userMetadata``), those after version ``after`` only."""
        from delta.tables import DeltaTable as SparkDeltaTable
        from pyspark.sql import functions as F

        hist = SparkDeltaTable.forPath(self.spark, zones.spark_uri(location)).history()
        hist = hist.select("version", "userMetadata")
        return hist if after is None else hist.where(F.col("version") > after)

    def append(self, df: DataFrame, location: str, spec: TableSpec, *, app_id: str, version: int) -> bool:
        """Append ``df`` (columns of ``spec``) in one commit; False when already committed before."""
        df = conform(df, spec)
        if self.committed(location, app_id, version):
            return False
        if self.uses_spark_delta:
            return self._spark_delta_append(df, location, app_id, version)
        folder = zones.join(location, f"data-{uuid.uuid4().hex}")
        try:
            df.write.mode("errorifexists").parquet(zones.spark_uri(folder))
        except Exception as exc:  # noqa: BLE001 - Py4J wraps every JVM failure
            raise TableIOError(f"writing the {spec.name} table's files failed "
                               f"({exc.__class__.__name__})") from exc
        actions = _add_actions(location, folder)
        return self._commit(location, spec, actions, app_id, version)

    def _spark_delta_append(self, df: DataFrame, location: str, app_id: str, version: int) -> bool:
        """One Delta commit tagged ``(app_id, version)``; Delta skips it when that version is recorded.

        Delta's ``txnAppId``/``txnVersion`` check runs inside the commit (concurrent writers of the
        same application conflict), so whether this call wrote is read back from the history: a
        commit after the version seen before the write that carries this transaction's tag.
        """
        before = self.version(location)
        (df.write.format("delta").mode("append").option("txnAppId", app_id)
         .option("txnVersion", str(version)).option("userMetadata", txn_tag(app_id, version))
         .save(zones.spark_uri(location)))
        return latest_txn_version(self._history(location, after=before), app_id) == version

    def append_arrow(self, data: pa.Table, location: str, spec: TableSpec, *, app_id: str,
                     version: int) -> bool:
        """Append a small driver-side Arrow table (runs rows) in one commit."""
        data = data.select(spec.columns).cast(spec.schema)
        if self.committed(location, app_id, version):
            return False
        if self.uses_spark_delta:
            return self.append(pandas_frame(self.spark, data.to_pandas(), spec.spark_schema()),
                               location, spec, app_id=app_id, version=version)
        fs, base = zones.arrow_fs(location)
        rel = f"data-{uuid.uuid4().hex}/part-00000.parquet"
        fs.create_dir(f"{base}/{rel.rsplit('/', 1)[0]}", recursive=True)
        pq.write_table(data, f"{base}/{rel}", filesystem=fs)
        info = fs.get_file_info(f"{base}/{rel}")
        from deltalake.transaction import AddAction

        action = AddAction(path=rel, size=int(info.size or 0), partition_values={},
                           modification_time=_mtime_ms(info), data_change=True,
                           stats=json.dumps({"numRecords": data.num_rows}))
        return self._commit(location, spec, [action], app_id, version)

    def _commit(self, location: str, spec: TableSpec, actions: list, app_id: str, version: int) -> bool:
        from deltalake import DeltaTable, Schema
        from deltalake.transaction import CommitProperties, Transaction, create_table_with_add_actions

        # userMetadata: the same tag Spark Delta commits carry, so either backend's history reads it
        props = CommitProperties(app_transactions=[Transaction(app_id, version)],
                                 custom_metadata={"deid.table": spec.name,
                                                  "userMetadata": txn_tag(app_id, version)})
        uri = zones.deltars_uri(location)
        try:
            if not DeltaTable.is_deltatable(uri):
                create_table_with_add_actions(uri, Schema.from_arrow(spec.schema), actions, mode="append",
                                              commit_properties=props)
                return True
            table = DeltaTable(uri)
            got = table.transaction_version(app_id)
            if got is not None and got >= version:  # committed meanwhile: never twice
                return False
            table.create_write_transaction(actions, "append", spec.schema, commit_properties=props)
            return True
        except Exception as exc:  # noqa: BLE001 - delta-rs raises its own and OS errors
            raise TableIOError(f"committing to the {spec.name} table failed "
                               f"({exc.__class__.__name__})") from None


def txn_tag(app_id: str, version: int) -> str:
    """The commit's ``userMetadata``: which application transaction it is (no data values)."""
    return json.dumps({"deidAppId": app_id, "deidTxnVersion": version}, sort_keys=True)


def latest_txn_version(history: DataFrame, app_id: str) -> int | None:
    """The highest transaction version of ``app_id`` tagged in ``history`` (``userMetadata`` column)."""
    from pyspark.sql import functions as F

    meta = F.col("userMetadata")
    row = (history.where(F.get_json_object(meta, "$.deidAppId") == F.lit(app_id))
           .agg(F.max(F.get_json_object(meta, "$.deidTxnVersion").cast("long")).alias("v")).first())
    return None if row is None or row["v"] is None else int(row["v"])


def _to_ipc(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Each Arrow batch as one row of Arrow IPC stream bytes (exact types survive ``collect``)."""
    for batch in batches:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        yield pa.RecordBatch.from_pydict({"ipc": [sink.getvalue().to_pybytes()]},
                                         schema=pa.schema([("ipc", pa.binary())]))


def collect_arrow(df: DataFrame, schema: pa.Schema | None = None) -> pa.Table:
    """A small DataFrame on the driver as an Arrow table of ``schema`` (Spark 3.5 and 4.x); without
    ``schema``, of the executors' Arrow types (an empty result: the columns, typed null).

    Spark 3.5 has no DataFrame-to-Arrow call on the driver and ``toPandas`` turns timestamps into
    naive session-local times; ``mapInArrow`` (Spark 3.3+) ships the executors' Arrow batches as they are.
    """
    rows = df.mapInArrow(_to_ipc, "ipc binary").collect()
    return _arrow_parts([pa.ipc.open_stream(r["ipc"]).read_all() for r in rows], df.columns, schema)


def collect_arrow_many(frames: list[DataFrame]) -> list[pa.Table]:
    """Several small DataFrames on the driver as Arrow tables (as :func:`collect_arrow` without a
    schema), in **one** Spark job: one collect of the union of their Arrow IPC rows, each tagged with
    its frame's index (issue #11: one job, not one per frame)."""
    from functools import reduce

    from pyspark.sql import functions as F

    if not frames:
        return []
    tagged = [df.mapInArrow(_to_ipc, "ipc binary").select(F.lit(i).alias("frame"), "ipc")
              for i, df in enumerate(frames)]
    parts: list[list[pa.Table]] = [[] for _ in frames]
    for r in reduce(lambda a, b: a.unionByName(b), tagged).collect():
        parts[int(r["frame"])].append(pa.ipc.open_stream(r["ipc"]).read_all())
    return [_arrow_parts(p, df.columns, None) for p, df in zip(parts, frames, strict=True)]


def _arrow_parts(parts: list[pa.Table], columns: list[str], schema: pa.Schema | None) -> pa.Table:
    """The non-empty parts as one table of ``schema``; without it, of the executors' types (no rows:
    the columns, typed null)."""
    if schema is None:
        parts = [p for p in parts if p.num_rows]
        return (pa.concat_tables(parts) if parts
                else pa.schema([(c, pa.null()) for c in columns]).empty_table())
    parts = [p.select(schema.names).cast(schema) for p in parts if p.num_rows]
    return pa.concat_tables(parts) if parts else schema.empty_table()


def conform(df: DataFrame, spec: TableSpec) -> DataFrame:
    """Select and cast ``df`` to the spec's columns, in order; a missing column is an error."""
    from pyspark.sql import functions as F

    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise TableIOError(f"{spec.name}: columns missing: {', '.join(missing)}")
    fields = {f.name: f.dataType for f in spec.spark_schema().fields}
    return df.select(*[F.col(c).cast(fields[c]).alias(c) for c in spec.columns])


def _snapshot_file(location: str, rel: str) -> str:
    """A data file of the table: ``rel`` as the log holds it (relative, or absolute when another
    writer wrote one), joined to the table's location."""
    if rel.startswith("s3://") and location.strip().startswith("s3a://"):
        return "s3a://" + rel[len("s3://"):]
    if "://" in rel or rel.startswith("/"):
        return rel
    return zones.join(location, rel)


def _mtime_ms(info: pafs.FileInfo) -> int:
    mtime = info.mtime_ns
    return int(mtime // 1_000_000) if mtime is not None else 0


def parquet_rows(folder: str) -> int:
    """Rows in the Parquet files under ``folder`` (their footers; no Spark job, no data read); 0 when
    the folder does not exist. Hidden and ``_``-prefixed files (``_SUCCESS``) are not data."""
    fs, path = zones.arrow_fs(folder)
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return 0
    n = 0
    for info in fs.get_file_info(pafs.FileSelector(path, recursive=True)):
        if info.type != pafs.FileType.File or not info.base_name.endswith(".parquet"):
            continue
        if info.base_name.startswith((".", "_")):
            continue
        with fs.open_input_file(info.path) as fh:
            n += pq.ParquetFile(fh).metadata.num_rows
    return n


def _add_actions(location: str, folder: str) -> list:
    """Add actions (relative paths, size, record count) for the Parquet files Spark wrote."""
    from deltalake.transaction import AddAction

    fs, base = zones.arrow_fs(location)
    _, folder_path = zones.arrow_fs(folder)
    infos = fs.get_file_info(pafs.FileSelector(folder_path, recursive=True))
    actions = []
    for info in infos:
        if info.type != pafs.FileType.File or not info.base_name.endswith(".parquet"):
            continue
        if info.base_name.startswith((".", "_")):
            continue
        with fs.open_input_file(info.path) as fh:
            n = pq.ParquetFile(fh).metadata.num_rows
        if n == 0:
            continue
        rel = info.path[len(base.rstrip("/")) + 1:]
        actions.append(AddAction(path=rel, size=int(info.size or 0), partition_values={},
                                 modification_time=_mtime_ms(info), data_change=True,
                                 stats=json.dumps({"numRecords": n})))
    return actions
